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
