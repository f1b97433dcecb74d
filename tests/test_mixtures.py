"""Tests for lvmlib.mixtures against scipy densities, closed forms and scikit-learn's GaussianMixture."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.mixture import GaussianMixture

from lvmlib import mixtures as mx
from lvmlib.data import load_faithful
from lvmlib.distributions import cholesky, kl_discrete
from lvmlib.examples import three_cluster_mixture


@pytest.fixture(scope="module")
def abc_data():
    return three_cluster_mixture().sample(400, np.random.default_rng(1))[1]


@pytest.fixture(scope="module")
def faithful():
    X = load_faithful()
    return (X - X.mean(0)) / X.std(0)


def random_params(rng, K, d):
    A = rng.standard_normal((K, d, d))
    covs = A @ np.swapaxes(A, 1, 2) + 0.3 * np.eye(d)
    return rng.dirichlet(np.ones(K)), rng.standard_normal((K, d)), covs


# ---- the model in log space ------------------------------------------------------------------------------------
def test_log_joint_matches_scipy_and_the_running_example(abc_data):
    model = three_cluster_mixture()
    got = mx.log_joint(abc_data, model.weights, model.means, cholesky(model.covs))
    expected = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(abc_data)
                         for w, m, c in zip(model.weights, model.means, model.covs, strict=True)], axis=1)
    assert got.shape == (400, 3)
    assert np.allclose(got, expected, atol=1e-10)
    assert np.allclose(got, model.log_p_xz(abc_data), atol=1e-10)


def test_log_likelihood_and_e_step_match_enumeration(abc_data):
    model = three_cluster_mixture()
    assert np.isclose(mx.log_likelihood(abc_data, model.weights, model.means, model.covs),
                      model.log_p_x(abc_data).mean(), atol=1e-12)
    log_resp, log_p_x = mx.e_step(abc_data, model.weights, model.means, cholesky(model.covs))
    assert np.allclose(np.exp(log_resp).sum(1), 1.0, atol=1e-12)
    assert np.allclose(np.exp(log_resp), model.posterior(abc_data), atol=1e-12)
    assert np.allclose(log_p_x, model.log_p_x(abc_data), atol=1e-12)


def test_logsumexp_rows_matches_scipy_including_minus_inf():
    a = np.random.default_rng(2).normal(0, 300, (50, 4))
    a[3, 1] = -np.inf
    a[7, :] = -np.inf
    assert np.allclose(mx._logsumexp_rows(np.asfortranarray(a)), logsumexp(a, axis=1), atol=1e-12)


def test_zero_weight_component_gives_minus_inf_not_nan(abc_data):
    model = three_cluster_mixture()
    weights = np.array([0.5, 0.5, 0.0])
    log_resp, log_p_x = mx.e_step(abc_data, weights, model.means, cholesky(model.covs))
    assert np.all(np.isfinite(log_p_x)) and np.all(log_resp[:, 2] == -np.inf)
    resp = np.exp(log_resp)
    assert np.isclose(mx.elbo(abc_data, resp, weights, model.means, model.covs), log_p_x.mean(), atol=1e-10)


# ---- M-step and ELBO -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_m_step_is_weighted_moments(abc_data, covariance_type):
    resp = np.random.default_rng(3).dirichlet(np.ones(3), size=len(abc_data))
    weights, means, covs = mx.m_step(abc_data, resp, reg_covar=0.0, covariance_type=covariance_type)
    assert np.allclose(weights, resp.mean(0))
    for k in range(3):
        assert np.allclose(means[k], np.average(abc_data, axis=0, weights=resp[:, k]))
        expected = np.cov(abc_data.T, aweights=resp[:, k], bias=True)
        if covariance_type == "diag":
            expected = np.diag(np.diag(expected))
        assert np.allclose(covs[k], expected, atol=1e-10)


def test_m_step_maximizes_the_elbo_for_fixed_q(abc_data):
    rng = np.random.default_rng(4)
    resp = rng.dirichlet(np.ones(3), size=len(abc_data))
    best = mx.elbo(abc_data, resp, *mx.m_step(abc_data, resp, reg_covar=0.0))
    for _ in range(20):  # random perturbations of the M-step's answer never do better
        weights, means, covs = mx.m_step(abc_data, resp, reg_covar=0.0)
        means = means + 0.05 * rng.standard_normal(means.shape)
        covs = covs * rng.uniform(0.9, 1.1)
        assert mx.elbo(abc_data, resp, weights, means, covs) < best


def test_elbo_gap_is_the_mean_kl_to_the_posterior(abc_data):
    model = three_cluster_mixture()
    q = np.random.default_rng(5).dirichlet(np.ones(3), size=len(abc_data))
    log_lik = model.log_p_x(abc_data).mean()
    value = mx.elbo(abc_data, q, model.weights, model.means, model.covs)
    assert np.isclose(log_lik - value, kl_discrete(q, model.log_posterior(abc_data)).mean(), atol=1e-10)
    exact = mx.elbo(abc_data, model.posterior(abc_data), model.weights, model.means, model.covs)
    assert np.isclose(exact, log_lik, atol=1e-10)


def test_elbo_treats_zero_log_zero_as_zero(abc_data):
    model = three_cluster_mixture()
    hard = np.eye(3)[model.posterior(abc_data).argmax(1)]
    expected = np.mean(np.sum(hard * model.log_p_xz(abc_data), axis=1))  # entropy of a one-hot q is 0
    assert np.isclose(mx.elbo(abc_data, hard, model.weights, model.means, model.covs), expected)


# ---- EM against scikit-learn -----------------------------------------------------------------------------------
def sklearn_fit(X, init, covariance_type):
    covs = init["covs"] if covariance_type == "full" else np.diagonal(init["covs"], axis1=1, axis2=2)
    gm = GaussianMixture(len(init["weights"]), covariance_type=covariance_type, reg_covar=0.0, tol=1e-13,
                         max_iter=5000, weights_init=init["weights"], means_init=init["means"],
                         precisions_init=np.linalg.inv(covs) if covariance_type == "full" else 1 / covs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklearnConvergenceWarning)
        return gm.fit(X)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("dataset", ["abc_data", "faithful"])
def test_em_matches_sklearn_from_the_same_init(dataset, covariance_type, request):
    X = request.getfixturevalue(dataset)
    K = 3 if dataset == "abc_data" else 2
    init = mx.init_from_kmeans_plusplus(X, K, np.random.default_rng(6), reg_covar=0.0,
                                        covariance_type=covariance_type)
    ours = mx.fit_em(X, K, init=init, reg_covar=0.0, tol=1e-13, max_iter=5000, covariance_type=covariance_type)
    gm = sklearn_fit(X, init, covariance_type)
    assert ours.converged
    assert abs(ours.log_lik - gm.score(X)) < 1e-6  # per data point
    sk_covs = gm.covariances_ if covariance_type == "full" else np.stack([np.diag(c) for c in gm.covariances_])
    for ours_p, theirs in ((ours.weights, gm.weights_), (ours.means, gm.means_), (ours.covs, sk_covs)):
        assert np.allclose(ours_p, theirs, atol=1e-5, rtol=0)


def test_bic_matches_sklearn(faithful):
    gm = GaussianMixture(2, random_state=0).fit(faithful)
    ours = mx.bic(faithful, gm.weights_, gm.means_, gm.covariances_)
    assert np.isclose(ours, gm.bic(faithful), rtol=1e-10)
    assert mx.n_parameters(2, 2) == gm._n_parameters()


# ---- properties of EM ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_em_never_lowers_the_log_likelihood_and_e_steps_close_the_gap(seed):
    rng = np.random.default_rng(seed)
    K, d, n = rng.integers(1, 5), rng.integers(1, 4), rng.integers(30, 200)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.normal(0, 2, d) * (rng.random((n, 1)) < 0.5)
    weights, means, covs = random_params(rng, K, d)
    covariance_type = ("full", "diag")[seed % 2]
    if covariance_type == "diag":
        covs = covs * np.eye(d)
    result = mx.fit_em(X, K, init={"weights": weights, "means": means, "covs": covs}, max_iter=5000,
                       tol=1e-9, covariance_type=covariance_type)
    assert np.all(np.diff(result.log_lik_history) >= -1e-12)  # rounding only
    assert len(result.half_steps) == 2 * result.n_iter == 2 * (len(result.params_history) - 1)
    for label, log_lik, value in result.half_steps[0::2]:
        assert label == "E" and abs(log_lik - value) < 1e-10
    for (_, _, elbo_e), (label, log_lik, elbo_m) in zip(result.half_steps[0::2], result.half_steps[1::2],
                                                         strict=True):
        assert label == "M" and elbo_m <= log_lik + 1e-12 and elbo_m >= elbo_e - 1e-12
    lls = [h[1] for h in result.half_steps]
    assert np.allclose(lls[1::2], result.log_lik_history[1:]) and np.allclose(lls[0::2], result.log_lik_history[:-1])
    last = result.params_history[-1]
    assert np.isclose(mx.log_likelihood(X, *last), result.log_lik, atol=1e-12)


def test_half_step_elbo_matches_the_public_elbo(abc_data):
    with pytest.warns(mx.ConvergenceWarning):
        result = mx.fit_em(abc_data, 3, rng=np.random.default_rng(7), max_iter=5, tol=0.0)
    for t in range(1, result.n_iter + 1):
        previous = result.params_history[t - 1]
        resp = np.exp(mx.e_step(abc_data, previous[0], previous[1], cholesky(previous[2]))[0])
        assert np.isclose(mx.elbo(abc_data, resp, *result.params_history[t]), result.half_steps[2 * t - 1][2])


def test_warns_when_it_stops_unconverged(abc_data):
    with pytest.warns(mx.ConvergenceWarning, match="did not converge in max_iter = 2"):
        result = mx.fit_em(abc_data, 3, rng=np.random.default_rng(8), max_iter=2, tol=1e-12)
    assert not result.converged and result.n_iter == 2


def test_kmeans_plusplus_init_is_reproducible_and_uses_data_points(abc_data):
    a = mx.kmeans_plusplus(abc_data, 3, np.random.default_rng(9))
    b = mx.kmeans_plusplus(abc_data, 3, np.random.default_rng(9))
    assert np.array_equal(a, b)
    assert all(np.any(np.all(abc_data == c, axis=1)) for c in a)


def test_kmeans_reaches_a_fixed_point(abc_data):
    centers, labels, _ = mx.kmeans(abc_data, 3, np.random.default_rng(10))
    assert np.array_equal(labels, ((abc_data[:, None] - centers) ** 2).sum(-1).argmin(1))
    for k in range(3):
        assert np.allclose(centers[k], abc_data[labels == k].mean(0))


def test_sample_frequencies_follow_the_weights():
    weights = np.array([0.2, 0.5, 0.3])
    model = three_cluster_mixture()
    z, x = mx.sample(20000, weights, model.means, model.covs, np.random.default_rng(11))
    # binomial standard error <= 0.0036; 5 standard errors: fails with probability < 1e-6 per component
    assert np.allclose(np.bincount(z) / 20000, weights, atol=0.018)
    assert x.shape == (20000, 2)


def test_reg_covar_prevents_a_collapse(faithful):
    # a third component starts on one data point with a tiny covariance; without reg_covar it shrinks further
    means = np.stack([faithful[faithful[:, 0] < 0].mean(0), faithful[faithful[:, 0] > 0].mean(0), faithful[0]])
    init = {"weights": np.array([0.5, 0.4, 0.1]), "means": means,
            "covs": np.stack([0.1 * np.eye(2), 0.1 * np.eye(2), 1e-3 * np.eye(2)])}
    with pytest.raises(ValueError, match="not positive definite.*reg_covar"):
        mx.fit_em(faithful, 3, init=init, reg_covar=0.0, max_iter=300)
    result = mx.fit_em(faithful, 3, init=init, reg_covar=1e-3, max_iter=300)
    assert result.converged and np.all(np.linalg.eigvalsh(result.covs) >= 1e-3 - 1e-12)


# ---- bad input -------------------------------------------------------------------------------------------------
def test_bad_inputs_name_the_parameter_and_the_fix(abc_data):
    model = three_cluster_mixture()
    rng = np.random.default_rng(12)
    with pytest.raises(ValueError, match="n_components = 5; use n_components <= n_samples"):
        mx.fit_em(abc_data[:4], 5, rng=rng)
    bad = abc_data.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinite"):
        mx.fit_em(bad, 3, rng=rng)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="X contains NaN or infinite"):
        mx.e_step(bad, model.weights, model.means, model.chols)
    with pytest.raises(ValueError, match="X must have 2 dimension"):
        mx.fit_em(abc_data[:, 0], 3, rng=rng)
    with pytest.raises(ValueError, match=r"means must have shape \(3, 2\) to match X"):
        mx.log_joint(abc_data, model.weights, np.zeros((3, 3)), model.chols)
    with pytest.raises(ValueError, match="chols must have shape"):
        mx.log_joint(abc_data, model.weights, model.means, model.chols[:2])
    with pytest.raises(ValueError, match="weights must sum to 1.*normalize"):
        mx.log_likelihood(abc_data, [0.5, 0.5, 0.5], model.means, model.covs)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        mx.fit_em(abc_data, 3, init={"weights": [0.2, 0.2, 0.2], "means": model.means, "covs": model.covs})
    with pytest.raises(ValueError, match="rng is required"):
        mx.fit_em(abc_data, 3)
    with pytest.raises(ValueError, match="init has 3 components but n_components = 2"):
        mx.fit_em(abc_data, 2, init={"weights": model.weights, "means": model.means, "covs": model.covs})
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        mx.fit_em(abc_data, 3, rng=rng, covariance_type="spherical")
    with pytest.raises(ValueError, match="resp must sum to 1"):
        mx.m_step(abc_data, np.full((len(abc_data), 3), 0.5))
    with pytest.raises(ValueError, match="resp must have one row per data point"):
        mx.m_step(abc_data, np.full((10, 3), 1 / 3))
    with pytest.raises(ValueError, match="reg_covar must be >= 0"):
        mx.m_step(abc_data, np.full((len(abc_data), 3), 1 / 3), reg_covar=-1.0)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        mx.fit_em(abc_data, 3, rng=rng, tol=-1.0)
    with pytest.raises(ValueError, match="reg_covar must be >= 0"):
        mx.fit_em(abc_data, 3, rng=rng, reg_covar=np.nan)
    with pytest.raises(ValueError, match="means must have 2 dimension"):
        mx.bic(abc_data, model.weights, model.means[:, 0], model.covs)
    with pytest.raises(ValueError, match="fewer than n_components = 3 distinct points"):
        mx.kmeans_plusplus(np.ones((10, 2)), 3, rng)


def test_log_gaussian_matches_log_mvn_even_when_ill_conditioned():
    from lvmlib.distributions import log_mvn
    rng = np.random.default_rng(13)
    X = rng.standard_normal((300, 3)) * [1.0, 1e-3, 10.0]
    for cov in (np.diag([1.0, 1e-6, 100.0]), np.cov(X.T) + 1e-6 * np.eye(3)):
        L = cholesky(cov)
        assert np.allclose(mx._log_gaussian(X, X.mean(0), L), log_mvn(X, X.mean(0), L), rtol=1e-10, atol=1e-8)
