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
SK_PRECISIONS = {"full": np.linalg.inv, "diag": lambda c: 1 / np.diagonal(c, axis1=1, axis2=2),
                 "tied": lambda c: np.linalg.inv(c[0]), "spherical": lambda c: 1 / c[:, 0, 0]}
SK_COVS = {"full": lambda c: c, "diag": lambda c: np.stack([np.diag(v) for v in c]),
           "tied": lambda c: np.repeat(c[None], 3, 0)[:1], "spherical": lambda c: c[:, None, None] * np.eye(2)}


def sklearn_fit(X, init, covariance_type, reg_covar=0.0):
    gm = GaussianMixture(len(init["weights"]), covariance_type=covariance_type, reg_covar=reg_covar, tol=1e-13,
                         max_iter=5000, weights_init=init["weights"], means_init=init["means"],
                         precisions_init=SK_PRECISIONS[covariance_type](init["covs"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklearnConvergenceWarning)
        return gm.fit(X)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied", "spherical"])
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
    sk_covs = SK_COVS[covariance_type](gm.covariances_)
    if covariance_type == "tied":
        assert np.allclose(ours.covs, ours.covs[0], atol=0)  # one matrix, repeated K times
        sk_covs = np.repeat(gm.covariances_[None], K, axis=0)
    for ours_p, theirs in ((ours.weights, gm.weights_), (ours.means, gm.means_), (ours.covs, sk_covs)):
        assert np.allclose(ours_p, theirs, atol=1e-5, rtol=0)
    assert np.isclose(mx.bic(X, ours.weights, ours.means, ours.covs, covariance_type), gm.bic(X), rtol=1e-8)
    assert mx.n_parameters(K, X.shape[1], covariance_type) == gm._n_parameters()


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
    init = {"weights": weights, "means": means, "covs": covs}
    if seed == 2:  # this start collapses a 1-D component onto one point: fit_em says so instead of climbing the spike
        with pytest.raises(ValueError, match="component 2 collapsed.*reg_covar"):
            mx.fit_em(X, K, init=init, max_iter=5000, tol=1e-9, covariance_type=covariance_type, reg_covar=0.0)
        return
    result = mx.fit_em(X, K, init=init, max_iter=5000, tol=1e-9, covariance_type=covariance_type,
                       reg_covar=0.0)  # the exact M-step
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
    with pytest.raises(ValueError, match=r"component 2 collapsed after the M-step of iteration \d+.*reg_covar > 0"):
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
        mx.fit_em(abc_data, 3, rng=rng, covariance_type="banana")
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


# ---- reg_covar is a heuristic; MAP-EM is the principled version ---------------------------------------------
def collapsing_start(X):
    """The chapter's start: a third component on the single point X[0] (with reg_covar = 0 it collapses)."""
    return {"weights": np.array([0.5, 0.4, 0.1]),
            "means": np.stack([X[X[:, 0] < 0].mean(0), X[X[:, 0] > 0].mean(0), X[0]]),
            "covs": np.stack([0.1 * np.eye(2), 0.1 * np.eye(2), 1e-3 * np.eye(2)])}


def test_reg_covar_can_lower_the_log_likelihood(faithful):
    fit = mx.fit_em(faithful, 3, init=collapsing_start(faithful), reg_covar=1e-3, max_iter=300)
    assert fit.converged
    assert np.diff(fit.log_lik_history).min() == pytest.approx(-5.44e-5, rel=0.01)  # the chapter's number


def test_log_prior_matches_scipy(faithful):
    from scipy.stats import dirichlet, invwishart

    rng = np.random.default_rng(3)
    prior = mx.MixturePrior(2.5, 4.0, np.array([[0.5, 0.1], [0.1, 0.3]]))
    weights, _, covs = random_params(rng, 3, 2)
    expected = dirichlet(np.full(3, 2.5)).logpdf(weights) + sum(invwishart(4.0, prior.psi).logpdf(c) for c in covs)
    assert mx.log_prior(prior, weights, covs) == pytest.approx(expected, abs=1e-10)
    flat = mx.MixturePrior(1.0, 4.0, prior.psi)  # alpha = 1: the Dirichlet is the constant log Gamma(K) = log 2
    assert mx.log_prior(flat, weights, covs) == pytest.approx(
        np.log(2.0) + sum(invwishart(4.0, prior.psi).logpdf(c) for c in covs), abs=1e-10)
    default = mx.MixturePrior.default(faithful, 3)
    assert default.nu == 4.0 and np.allclose(default.psi, np.cov(faithful.T) / 3.0)  # Fraley and Raftery


def test_map_m_step_maximizes_the_penalized_elbo(abc_data):
    rng = np.random.default_rng(4)
    n = len(abc_data)
    prior = mx.MixturePrior(3.0, 5.0, 0.4 * np.eye(2))
    resp = rng.dirichlet(np.ones(3), size=n)
    best = mx.m_step(abc_data, resp, reg_covar=0.0, prior=prior)

    def objective(params):
        return mx.elbo(abc_data, resp, *params) + mx.log_prior(prior, params[0], params[2]) / n

    top = objective(best)
    for _ in range(30):  # random nearby parameters never do better
        w = best[0] * np.exp(0.1 * rng.standard_normal(3))
        A = np.eye(2) + 0.05 * rng.standard_normal((3, 2, 2))
        other = (w / w.sum(), best[1] + 0.05 * rng.standard_normal((3, 2)), A @ best[2] @ np.swapaxes(A, 1, 2))
        assert objective(other) < top
    Nk = resp.sum(0)  # the closed form, written out independently
    assert np.allclose(best[0], (Nk + 2.0) / (n + 3 * 2.0))
    diff = abc_data[:, None, :] - best[1][None]
    scatter = np.einsum("nk,nki,nkj->kij", resp, diff, diff)
    assert np.allclose(best[2], (scatter + 0.4 * np.eye(2)) / (Nk + 5.0 + 3)[:, None, None])


def test_map_em_never_lowers_its_objective_and_does_not_collapse(faithful):
    prior = mx.MixturePrior.default(faithful, 3, alpha=2.0)
    fit = mx.fit_em(faithful, 3, init=collapsing_start(faithful), prior=prior, tol=1e-10, max_iter=2000)
    assert fit.converged and np.all(np.diff(fit.objective_history) >= -1e-12)
    expected = [ll + mx.log_prior(prior, w, c) / len(faithful)
                for ll, (w, _, c) in zip(fit.log_lik_history, fit.params_history, strict=True)]
    assert np.allclose(fit.objective_history, expected, atol=1e-12)
    floor = np.linalg.eigvalsh(prior.psi).min() / (len(faithful) + prior.nu + 3)
    assert mx.smallest_eigenvalues(fit.covs).min() >= floor
    with pytest.raises(ValueError, match="collapsed.*reg_covar"):  # the same start without a prior
        mx.fit_em(faithful, 3, init=collapsing_start(faithful), reg_covar=0.0, max_iter=300)
    # from k-means++ seeds too (the MAP M-step also sets up the start)
    seeded = mx.fit_em(faithful, 3, rng=np.random.default_rng(0), prior=prior, tol=1e-8, max_iter=2000)
    assert np.all(np.diff(seeded.objective_history) >= -1e-12)


def test_objective_history_is_the_log_likelihood_without_a_prior(abc_data):
    fit = mx.fit_em(abc_data, 3, rng=np.random.default_rng(2), reg_covar=0.0, tol=1e-8)
    assert fit.objective_history == fit.log_lik_history


def test_smallest_eigenvalues_and_kmeans_from_given_centers(abc_data):
    covs = np.array([[[2.0, 0.0], [0.0, 0.5]], [[1.0, 0.9], [0.9, 1.0]]])
    assert np.allclose(mx.smallest_eigenvalues(covs), [0.5, 0.1])
    seeds = mx.kmeans_plusplus(abc_data, 3, np.random.default_rng(5))
    via_seeds = mx.kmeans(abc_data, 3, np.random.default_rng(5))
    given = mx.kmeans(abc_data, 3, None, centers=seeds)
    assert np.allclose(via_seeds[0], given[0]) and np.array_equal(via_seeds[1], given[1])


def test_new_bad_inputs_name_the_parameter_and_the_fix(abc_data, faithful):
    prior = mx.MixturePrior.default(faithful, 3)
    with pytest.raises(TypeError, match="prior must be None or a MixturePrior"):
        mx.fit_em(faithful, 3, rng=np.random.default_rng(0), prior={"alpha": 2})
    with pytest.raises(ValueError, match="with a prior, reg_covar must be 0"):
        mx.fit_em(faithful, 3, rng=np.random.default_rng(0), prior=prior, reg_covar=1e-3)
    with pytest.raises(ValueError, match="prior works with covariance_type='full' only"):
        mx.fit_em(faithful, 3, rng=np.random.default_rng(0), prior=prior, covariance_type="diag")
    with pytest.raises(ValueError, match="prior.alpha must be >= 1"):
        mx.m_step(faithful, np.full((len(faithful), 3), 1 / 3), 0.0, prior=mx.MixturePrior(0.5, 4.0, prior.psi))
    with pytest.raises(ValueError, match=r"prior.nu must be > D - 1 = 1"):
        mx.log_prior(mx.MixturePrior(1.0, 0.5, prior.psi), np.ones(1), np.eye(2)[None])
    with pytest.raises(ValueError, match=r"prior.psi must be a positive definite \(2, 2\) matrix"):
        mx.log_prior(mx.MixturePrior(1.0, 4.0, -np.eye(2)), np.ones(1), np.eye(2)[None])
    with pytest.raises(ValueError, match=r"centers must have shape \(3, D\)"):
        mx.kmeans(abc_data, 3, None, centers=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="covs must have 3 dimension"):
        mx.smallest_eigenvalues(np.eye(2))
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        mx.n_parameters(0, 2)


def test_parameter_counts_by_hand():
    # K = 3, D = 2: 2 weights + 6 means + covariances 9 (full) / 6 (diag) / 3 (tied) / 3 (spherical)
    assert [mx.n_parameters(3, 2, ct) for ct in ("full", "diag", "tied", "spherical")] == [17, 14, 11, 11]


# ---- planted errors: the chapter's key checks fail when the computation is wrong --------------------------------
def _m_step_without_centring(X, resp):
    w, m, _ = mx.m_step(X, resp, reg_covar=0.0)
    nk = resp.sum(0)
    return w, m, np.einsum("nk,ni,nj->kij", resp, X, X) / nk[:, None, None]  # forgot to subtract the mean


def _em_trace(X, init, m_step, n_iter=30):
    """log-likelihood after each iteration of EM with a given M-step (the notebook's monotonicity check)."""
    w, m, c = init["weights"], init["means"], init["covs"]
    trace = [mx.log_likelihood(X, w, m, c)]
    for _ in range(n_iter):
        resp = np.exp(mx.e_step(X, w, m, cholesky(c))[0])
        w, m, c = m_step(X, resp)
        trace.append(mx.log_likelihood(X, w, m, c))
    return np.array(trace)


def test_planted_errors_fail_the_monotonicity_check(faithful):
    init = mx.init_from_kmeans_plusplus(faithful, 2, np.random.default_rng(1), reg_covar=0.0)
    right = _em_trace(faithful, init, lambda X, r: mx.m_step(X, r, reg_covar=0.0))
    assert np.all(np.diff(right) >= -1e-12)
    wrong = _em_trace(faithful, init, _m_step_without_centring)
    assert not np.all(np.diff(wrong) >= -1e-12)  # the check "ℓ never decreases" catches an uncentred covariance
    heuristic = collapsing_start(faithful)
    reg = mx.fit_em(faithful, 3, init=heuristic, reg_covar=1e-3, max_iter=300)
    assert not np.all(np.diff(reg.log_lik_history) >= -1e-12)  # and reg_covar's M-step, which is not exact


def test_planted_errors_fail_the_minorizer_check(abc_data):
    model = three_cluster_mixture()
    means = model.means + [[1.5, -1.0], [0, 0], [0, 0]]
    q = np.exp(mx.e_step(abc_data, model.weights, means, cholesky(model.covs))[0])
    m_A = mx.m_step(abc_data, q, reg_covar=0.0)[1][0]
    a = np.arange(-30, 91) / 40
    line = [np.vstack([means[0] + t * (m_A - means[0]), means[1:]]) for t in a]
    ell = np.array([mx.log_likelihood(abc_data, model.weights, mu, model.covs) for mu in line])
    bound = np.array([mx.elbo(abc_data, q, model.weights, mu, model.covs) for mu in line])
    assert np.all(bound <= ell + 1e-12) and abs(bound[30] - ell[30]) < 1e-12 and bound.argmax() == 70
    assert not abs(bound[30] - (ell[30] - 0.01)) < 1e-12                 # a wrong log p(x) breaks "touching"
    no_entropy = bound - np.mean(-np.sum(np.where(q > 0, q * np.log(q), 0), axis=1))
    assert not abs(no_entropy[30] - ell[30]) < 1e-12                     # so does an ELBO without H(q)
    wrong_q = np.roll(q, 1, axis=1)                                      # q of the wrong components
    bound_w = np.array([mx.elbo(abc_data, wrong_q, model.weights, mu, model.covs) for mu in line])
    assert not (abs(bound_w[30] - ell[30]) < 1e-12 and bound_w.argmax() == 70)


def test_planted_error_an_m_step_that_ignores_the_prior_fails_the_map_check(faithful):
    prior = mx.MixturePrior.default(faithful, 3, alpha=2.0)
    start = collapsing_start(faithful)
    for reg_covar in (1e-3,):  # the heuristic M-step: not the maximizer of ℓ + log p(θ)/n
        fit = mx.fit_em(faithful, 3, init=start, reg_covar=reg_covar, max_iter=300)
        objective = [ll + mx.log_prior(prior, w, c) / len(faithful)
                     for ll, (w, _, c) in zip(fit.log_lik_history, fit.params_history, strict=True)]
        assert np.diff(objective).min() < -1e-6


def test_restarts_find_more_than_one_optimum_with_the_stated_failure_rate(faithful):
    # the chapter asserts that 25 k-means++ starts (K = 3, reg_covar = 1e-3) end at >= 2 distinct optima. It fails
    # only if all 25 land on one optimum; the most common takes a fraction p of starts, so P(fail) ~ p^25.
    # Measured with 400 starts (seed 12345): p = 0.695, p^25 = 1.1e-4. Here 100 starts keep the test quick.
    rng = np.random.default_rng(7)
    finals = np.round([mx.fit_em(faithful, 3, rng=rng, tol=1e-8, max_iter=2000, reg_covar=1e-3).log_lik
                       for _ in range(100)], 3)
    p = np.unique(finals, return_counts=True)[1].max() / len(finals)
    upper = p + 2 * np.sqrt(p * (1 - p) / len(finals))
    assert upper ** 25 < 3e-3 and p ** 25 < 1e-3
