"""Tests for lvmlib.ppca against scipy's Gaussian density and numpy's covariance."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from lvmlib import data, ppca


@pytest.fixture(scope="module")
def x():
    images, _ = data.load_digits(binarized=False)
    return images.reshape(len(images), -1) / 16


def _scipy_mean_log_lik(x, model):
    return multivariate_normal(model.b, model.marginal_cov(), allow_singular=False).logpdf(x).mean()


def test_eigenvalues_are_those_of_the_biased_sample_covariance(x):
    lam, U = ppca.covariance_eigen(x)
    reference = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False, bias=True)))[::-1]
    assert np.allclose(lam, np.clip(reference, 0, None), atol=1e-12)
    assert np.all(np.diff(lam) <= 1e-15) and np.allclose(U.T @ U, np.eye(64), atol=1e-10)


@pytest.mark.parametrize("d_z", [1, 2, 8, 30])
def test_closed_form_log_likelihood_matches_scipy_for_the_mle(x, d_z):
    lam, _ = ppca.covariance_eigen(x)
    model = ppca.fit(x, d_z)
    closed_form = ppca.log_likelihood_from_eigenvalues(lam, d_z)
    assert np.isclose(closed_form, _scipy_mean_log_lik(x, model), atol=1e-8)
    assert np.isclose(closed_form, model.log_p_x(x).mean(), atol=1e-8)  # lvmlib's LinearGaussian agrees
    assert np.isclose(model.sigma_x**2, lam[d_z:].mean())


def test_the_mle_beats_perturbed_parameters(x):
    model = ppca.fit(x, 4)
    best = _scipy_mean_log_lik(x, model)
    rng = np.random.default_rng(0)
    for _ in range(5):
        W = model.W + 0.02 * rng.normal(size=model.W.shape)
        other = type(model)(W, model.b, model.sigma_x * np.exp(0.05 * rng.normal()))
        assert _scipy_mean_log_lik(x, other) < best


def test_fixed_variance_collapses_directions_below_it(x):
    lam, _ = ppca.covariance_eigen(x)
    sigma2 = 0.3
    model = ppca.fit(x, 8, sigma2=sigma2)
    n_active = ppca.n_active_directions(lam, 8, sigma2)
    assert n_active == np.sum(lam[:8] > sigma2) == 4
    column_norms = (model.W**2).sum(0)
    assert np.allclose(column_norms[n_active:], 0) and np.allclose(column_norms[:n_active], lam[:4] - sigma2)
    closed_form = ppca.log_likelihood_from_eigenvalues(lam, 8, sigma2)
    assert np.isclose(closed_form, _scipy_mean_log_lik(x, model), atol=1e-8)
    assert closed_form < ppca.log_likelihood_from_eigenvalues(lam, 8)  # fixing sigma^2 too large costs likelihood


def test_bad_inputs_raise(x):
    lam, _ = ppca.covariance_eigen(x)
    with pytest.raises(ValueError, match="d_z must be smaller than the data dimension D = 64"):
        ppca.log_likelihood_from_eigenvalues(lam, 64)
    with pytest.raises(ValueError, match="sigma2 must be > 0"):
        ppca.fit(x, 2, sigma2=0.0)
    with pytest.raises(ValueError, match="x needs at least 2 rows"):
        ppca.covariance_eigen(x[:1])
    with pytest.raises(ValueError, match="the maximum-likelihood sigma2 is 0"):
        ppca.log_likelihood_from_eigenvalues(np.array([2.0, 1.0, 0.0]), 2)


def test_rotated_solution_keeps_the_likelihood_but_not_a_diagonal_posterior(x):
    lam, _ = ppca.covariance_eigen(x)
    R = ppca.random_rotation(8, np.random.default_rng(0))
    assert np.allclose(R @ R.T, np.eye(8), atol=1e-12)
    plain, rotated = ppca.fit(x, 8), ppca.fit(x, 8, rotation=R)
    exact = ppca.log_likelihood_from_eigenvalues(lam, 8)
    assert np.isclose(_scipy_mean_log_lik(x, rotated), exact, atol=1e-8)  # W W^T does not see R
    assert ppca.diagonal_q_gap(plain.W, plain.sigma_x**2) < 1e-12
    assert ppca.diagonal_q_gap(rotated.W, rotated.sigma_x**2) > 0.1
    with pytest.raises(ValueError, match="rotation must be an orthogonal"):
        ppca.fit(x, 8, rotation=2 * np.eye(8))


def test_diagonal_q_gap_is_the_kl_from_the_best_diagonal_q_to_the_exact_posterior():
    rng = np.random.default_rng(1)
    W, sigma2 = rng.normal(size=(5, 3)), 0.4
    M = W.T @ W + sigma2 * np.eye(3)
    post_cov = sigma2 * np.linalg.inv(M)
    # the best diagonal q under KL(q || p): precisions = the diagonal of the posterior precision M / sigma2
    q_cov = np.diag(sigma2 / np.diag(M))
    kl = 0.5 * (np.trace(np.linalg.solve(post_cov, q_cov)) - 3 + np.log(np.linalg.det(post_cov) / np.linalg.det(q_cov)))
    assert np.isclose(ppca.diagonal_q_gap(W, sigma2), kl, rtol=1e-10)
    # and no other diagonal q does better: perturbing the variances raises the KL
    for scale in (0.9, 1.1):
        q2 = q_cov * scale
        kl2 = 0.5 * (np.trace(np.linalg.solve(post_cov, q2)) - 3 + np.log(np.linalg.det(post_cov) / np.linalg.det(q2)))
        assert kl2 > kl


def test_kl_per_direction_is_half_the_log_eigenvalue_ratio_and_zero_when_collapsed(x):
    lam, _ = ppca.covariance_eigen(x)
    kl = ppca.kl_per_direction(lam, 8, 0.3)
    assert np.allclose(kl[:4], 0.5 * np.log(lam[:4] / 0.3)) and np.all(kl[4:] == 0)
    assert (kl > 0).sum() == ppca.n_active_directions(lam, 8, 0.3)
