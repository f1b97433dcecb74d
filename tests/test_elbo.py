"""Tests for lvmlib.elbo against independent references: scipy quadrature, closed-form Gaussian KLs, enumeration.

The identities checked: log p(x) = ELBO + KL(q || p(z|x)), ELBO <= log p(x), KL >= 0, and the two forms of the ELBO
agree, for random models, observations and q's. Statistical tests are seeded; each states its tolerance.
"""

import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from lvmlib import elbo as E
from lvmlib.examples import DiscreteMixture, LinearGaussian, NonlinearModel1D, three_cluster_mixture


def random_mixture(rng, K=4, d=2):
    A = rng.standard_normal((K, d, d))
    covs = A @ np.swapaxes(A, 1, 2) + 0.3 * np.eye(d)
    return DiscreteMixture(rng.dirichlet(np.ones(K)), 2 * rng.standard_normal((K, d)), covs)


# ---------------------------------------------------------------------------------------------------------------
# discrete z
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(20))
def test_discrete_identity_random_models(seed):
    rng = np.random.default_rng(seed)
    model = random_mixture(rng)
    x = 3 * rng.standard_normal((5, 2))
    q = rng.dirichlet(0.5 * np.ones(4), size=5)
    q[0] = [0.0, 1.0, 0.0, 0.0]  # a degenerate q: 0 log 0 = 0
    terms = E.elbo_terms_discrete(model, x, q)
    kl = E.kl_posterior_discrete(model, x, q)
    log_px = model.log_p_x(x)
    np.testing.assert_allclose(terms.elbo + kl, log_px, atol=1e-8, rtol=0)
    np.testing.assert_allclose(terms.elbo_prior_form, terms.elbo, atol=1e-8, rtol=0)
    assert np.all(kl >= -1e-12) and np.all(terms.elbo <= log_px + 1e-12)
    # independent reference: the ELBO written out as a loop over z
    joint = model.log_p_xz(x)
    ref = [sum(qk * (lk - np.log(qk)) for qk, lk in zip(qi, li, strict=True) if qk > 0)
           for qi, li in zip(q, joint, strict=True)]
    np.testing.assert_allclose(terms.elbo, ref, atol=1e-10)


def test_discrete_gap_closes_at_posterior():
    model, x = three_cluster_mixture(), np.array([[0.0, 1.0], [2.0, 0.5]])
    q = model.posterior(x)
    np.testing.assert_allclose(E.elbo_discrete(model, x, q), model.log_p_x(x), atol=1e-10)
    np.testing.assert_allclose(E.kl_posterior_discrete(model, x, q), 0.0, atol=1e-10)


def test_discrete_broadcasts_over_a_grid_of_q():
    model, x = three_cluster_mixture(), np.array([[0.0, 1.0]])
    qs = np.random.default_rng(0).dirichlet(np.ones(3), size=(7, 1))  # (7, n_data=1, K)
    assert E.elbo_discrete(model, x, qs).shape == (7, 1)


def test_discrete_monte_carlo_is_unbiased():
    # 20 000 samples: the estimate lies within 4 standard errors of the exact ELBO (fails ~6e-5 of seeds)
    model, x, q = three_cluster_mixture(), np.array([[0.0, 1.0]]), np.array([0.5, 0.2, 0.3])
    est, se = E.elbo_monte_carlo_discrete(model, x, q, 20_000, np.random.default_rng(1))
    assert abs(est[0] - E.elbo_discrete(model, x, q)[0]) < 4 * se[0]


def test_discrete_errors():
    model, x = three_cluster_mixture(), np.array([[0.0, 1.0]])
    with pytest.raises(ValueError, match="q must have 3 probabilities"):
        E.elbo_discrete(model, x, [0.5, 0.5])
    with pytest.raises(ValueError, match="q must sum to 1"):
        E.elbo_discrete(model, x, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="model must be a DiscreteMixture"):
        E.elbo_discrete(NonlinearModel1D(), x, [1.0])
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        E.elbo_monte_carlo_discrete(model, x, [0.2, 0.3, 0.5], 10, 0)


# ---------------------------------------------------------------------------------------------------------------
# Gaussian q, 1-D nonlinear model: against scipy.integrate.quad
# ---------------------------------------------------------------------------------------------------------------
def quad_elbo_and_kl(model, x, mu, sigma):
    """ELBO and KL(q || p(z|x)) by adaptive quadrature, independently of lvmlib.elbo."""
    q = stats.norm(mu, sigma)
    log_joint = lambda z: float(model.log_p_xz(np.array([[x]]), np.array([[[z]]]))[0, 0])
    log_px = float(model.log_p_x(np.array([[x]]))[0])
    lo, hi = mu - 12 * sigma, mu + 12 * sigma
    pts = sorted({lo, hi, *np.clip([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], lo, hi)})
    elbo = integrate.quad(lambda z: q.pdf(z) * (log_joint(z) - q.logpdf(z)), lo, hi, points=pts[1:-1],
                          epsabs=1e-13, epsrel=1e-13, limit=400)[0]
    kl = integrate.quad(lambda z: q.pdf(z) * (q.logpdf(z) - log_joint(z) + log_px), lo, hi, points=pts[1:-1],
                        epsabs=1e-13, epsrel=1e-13, limit=400)[0]
    return elbo, kl, log_px


@pytest.mark.parametrize("seed", range(8))
def test_nonlinear_identity_against_quad(seed):
    rng = np.random.default_rng(100 + seed)
    model = NonlinearModel1D(b=rng.uniform(-0.5, 0.5), sigma_x=rng.uniform(0.3, 1.0))
    x, mu, sigma = rng.uniform(-1, 4), rng.uniform(-2, 2), np.exp(rng.uniform(-2, 0.5))
    terms = E.elbo_terms_gaussian(model, [[x]], [[mu]], [[sigma]])
    kl = E.kl_posterior_gaussian(model, [[x]], [[mu]], [[sigma]])
    ref_elbo, ref_kl, log_px = quad_elbo_and_kl(model, x, mu, sigma)
    np.testing.assert_allclose(terms.elbo, ref_elbo, atol=1e-8, rtol=1e-10)
    np.testing.assert_allclose(kl, ref_kl, atol=1e-8, rtol=1e-10)
    np.testing.assert_allclose(terms.elbo + kl, log_px, atol=1e-8, rtol=0)
    np.testing.assert_allclose(terms.elbo_prior_form, terms.elbo, atol=1e-8, rtol=0)
    assert kl[0] >= 0 and terms.elbo[0] <= log_px


def test_gaussian_broadcasts_over_leading_axes():
    model = NonlinearModel1D()
    mu = np.linspace(-2, 2, 6)[:, None, None]
    got = E.elbo_gaussian(model, [[2.0]], mu, 0.5)
    assert got.shape == (6, 1)
    for i in range(6):
        np.testing.assert_allclose(got[i], E.elbo_gaussian(model, [[2.0]], mu[i], 0.5), atol=1e-12)
    grid = E.elbo_map(model, [[2.0]], np.array([-1.0, 0.5]), np.array([-1.0, 0.0, 0.3]))
    np.testing.assert_allclose(grid[2, 1], E.elbo_gaussian(model, [[2.0]], [[0.5]], [[np.exp(0.3)]])[0], atol=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# Gaussian q, linear-Gaussian model: closed forms
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_linear_gaussian_identity(seed):
    rng = np.random.default_rng(200 + seed)
    model = LinearGaussian(rng.standard_normal((3, 2)), rng.standard_normal(3), rng.uniform(0.3, 1.5))
    x = rng.standard_normal((4, 3))
    mu, sigma = rng.standard_normal((4, 2)), np.exp(rng.uniform(-1.5, 0.5, (4, 2)))
    terms = E.elbo_terms_gaussian(model, x, mu, sigma)
    kl = E.kl_posterior_gaussian(model, x, mu, sigma)
    np.testing.assert_allclose(terms.elbo + kl, model.log_p_x(x), atol=1e-8, rtol=0)
    np.testing.assert_allclose(terms.elbo_prior_form, terms.elbo, atol=1e-8, rtol=0)
    assert np.all(kl >= 0)


def test_linear_gaussian_closed_form_matches_quadrature_in_1d():
    model = LinearGaussian()
    ref_elbo, _, _ = quad_elbo_and_kl(model, 1.3, -0.4, 0.7)
    np.testing.assert_allclose(E.elbo_gaussian(model, [[1.3]], [[-0.4]], [[0.7]]), ref_elbo, atol=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Monte Carlo ELBO and the IWAE bound
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["joint", "prior"])
def test_monte_carlo_elbo_is_unbiased(form):
    # 100 seeds x 2000 samples: the mean of the estimates lies within 4 standard errors of the exact ELBO (a
    # z-score test; fails with probability ~6e-5), and the reported std_error matches the spread over seeds (20%).
    model, x, mu, sigma = NonlinearModel1D(), [[2.0]], [[0.5]], [[0.8]]
    exact = E.elbo_gaussian(model, x, mu, sigma)[0]
    runs = [E.elbo_monte_carlo(model, x, mu, sigma, 2000, np.random.default_rng(s), form=form) for s in range(100)]
    estimates = np.array([r[0][0] for r in runs])
    assert abs(estimates.mean() - exact) < 4 * estimates.std(ddof=1) / 10
    assert abs(np.mean([r[1][0] for r in runs]) / estimates.std(ddof=1) - 1) < 0.2


def test_joint_form_has_zero_variance_at_the_posterior():
    # q = p(z|x): every log w = log p(x, z) - log q(z) equals log p(x), so the estimate is exact
    model, x = LinearGaussian(), np.array([[1.0]])
    mean, cov = model.posterior(x)
    est, se = E.elbo_monte_carlo(model, x, mean, np.sqrt(cov[0]), 50, np.random.default_rng(0))
    np.testing.assert_allclose(est, model.log_p_x(x), atol=1e-12)
    assert se[0] < 1e-12


def test_iwae_rises_with_k_and_converges_to_log_px():
    # L_1 is the ELBO; L_k rises with k (each step by more than 3 combined standard errors of noise would be a
    # failure), and L_4096 is within 0.01 nats of log p(x). Seeded; tolerance ~6 standard errors at k = 4096.
    model, x, mu, sigma = NonlinearModel1D(), [[2.0]], [[0.0]], [[1.5]]
    log_px = model.log_p_x(x)[0]
    ks = [1, 4, 16, 64, 256, 1024, 4096]
    results = [E.iwae_bound(model, x, mu, sigma, k, np.random.default_rng(k), n_repeats=100) for k in ks]
    L = np.array([r[0][0] for r in results])
    se = np.array([r[1][0] for r in results])
    elbo = E.elbo_gaussian(model, x, mu, sigma)[0]
    assert abs(L[0] - elbo) < 4 * se[0]
    assert np.all(np.diff(L) > -3 * np.hypot(se[1:], se[:-1]))
    assert np.all(L < log_px + 3 * se) and abs(L[-1] - log_px) < 0.01


def test_monte_carlo_errors():
    model = NonlinearModel1D()
    with pytest.raises(ValueError, match="form must be 'joint' or 'prior'"):
        E.elbo_monte_carlo(model, [[1.0]], [[0.0]], [[1.0]], 10, np.random.default_rng(0), form="other")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        E.elbo_gaussian(model, [[1.0]], [[0.0]], [[0.0]])
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        E.elbo_monte_carlo(model, [[1.0]], [[0.0]], [[1.0]], 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="k must be >= 1"):
        E.iwae_bound(model, [[1.0]], [[0.0]], [[1.0]], 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mu contains NaN"):
        E.elbo_gaussian(model, [[1.0]], [[np.nan]], [[1.0]])


# ---------------------------------------------------------------------------------------------------------------
# fitting q
# ---------------------------------------------------------------------------------------------------------------
def test_fit_reaches_the_linear_gaussian_posterior():
    model, x = LinearGaussian(), np.array([[1.3]])
    fit = E.fit_gaussian_q(model, x, mu0=-2.0, log_sigma0=1.0)
    mean, cov = model.posterior(x)
    assert fit.converged
    assert model.log_p_x(x)[0] - fit.elbo < 1e-6
    np.testing.assert_allclose([fit.mu, np.exp(2 * fit.log_sigma)], [mean[0, 0], cov[0, 0]], atol=1e-5)
    assert np.all(np.diff(fit.history[:, 2]) >= 0)  # the line search never lowers the ELBO


def test_fit_is_mode_seeking_on_the_bimodal_posterior():
    model, x = NonlinearModel1D(), np.array([[2.0]])
    right = E.fit_gaussian_q(model, x, mu0=1.0, log_sigma0=0.0)
    left = E.fit_gaussian_q(model, x, mu0=-1.0, log_sigma0=0.0)
    assert right.mu > 0.8 and left.mu < -0.8  # each start settles on its own mode
    assert right.elbo > left.elbo  # the mode nearer z = 0 carries more prior mass
    assert model.log_p_x(x)[0] - right.elbo > 0.3  # a Gaussian cannot close the gap on two modes
    mu_f, sigma_f = E.fit_gaussian_forward_kl(model, x)
    assert sigma_f[0] > 3 * np.exp(right.log_sigma)  # mass covering: wide enough for both modes
    assert E.kl_forward_gaussian(model, x, mu_f[0], sigma_f[0]) < E.kl_forward_gaussian(
        model, x, right.mu, np.exp(right.log_sigma))


def test_forward_kl_fit_matches_posterior_moments():
    model, x = NonlinearModel1D(), np.array([[2.0]])
    log_px = model.log_p_x(x)[0]
    post = lambda z: np.exp(model.log_p_xz(x, np.array([[[z]]]))[0, 0] - log_px)
    m1 = integrate.quad(lambda z: z * post(z), -8, 8, points=[-1.5, 1.2], limit=200)[0]
    m2 = integrate.quad(lambda z: z**2 * post(z), -8, 8, points=[-1.5, 1.2], limit=200)[0]
    mu_f, sigma_f = E.fit_gaussian_forward_kl(model, x)
    np.testing.assert_allclose([mu_f[0], sigma_f[0] ** 2], [m1, m2 - m1**2], atol=1e-8)
    lg = LinearGaussian()
    mean, cov = lg.posterior([[0.7]])
    np.testing.assert_allclose(np.concatenate(E.fit_gaussian_forward_kl(lg, [[0.7]])), [mean[0, 0], np.sqrt(cov[0, 0])])


def test_fit_warns_and_validates():
    model = NonlinearModel1D()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = E.fit_gaussian_q(model, [[2.0]], 1.0, 0.0, max_iter=2)
    assert not fit.converged and any("raise max_iter" in str(w.message) for w in caught)
    assert fit.n_iter == 2
    with pytest.raises(ValueError, match="one data point"):
        E.fit_gaussian_q(model, [[2.0], [1.0]])
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        E.fit_gaussian_q(model, [[2.0]], max_iter=0)
    with pytest.raises(ValueError, match="mu0 contains NaN"):  # the start is named, not the derived z
        E.fit_gaussian_q(model, [[2.0]], mu0=np.nan)
    with pytest.raises(ValueError, match="log_sigma0 contains NaN"):
        E.fit_gaussian_q(model, [[2.0]], log_sigma0=np.inf)
    with pytest.raises(ValueError, match="d_z = 1"):
        E.elbo_gaussian(NonlinearModel1D(d_z=2), [[1.0]], [[0.0, 0.0]], 1.0)  # no quadrature in 2-D
    with pytest.raises(ValueError, match="x must be one data point"):  # used to map the first point silently
        E.elbo_map(model, [[2.0], [1.0]], np.array([0.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="x must be one data point"):
        E.kl_forward_gaussian(model, [[2.0], [1.0]], 0.0, 1.0)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        E.kl_forward_gaussian(model, [[2.0]], 0.0, 0.0)


# ---------------------------------------------------------------------------------------------------------------
# the KL's posterior is normalized independently of model.log_p_x, so ELBO + KL = log p(x) can fail
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [-0.8, 0.4, 2.0, 4.0, 30.0])
def test_log_evidence_1d_against_scipy_quad(x):
    model = NonlinearModel1D()
    joint = lambda z: np.exp(float(model.log_p_xz(np.array([[x]]), np.array([[[z]]]))[0, 0]))
    peaks = [r.real for r in np.roots([1.0, model.b, -x]) if abs(r.imag) < 1e-12]
    ref = integrate.quad(joint, -15, 15, points=sorted(peaks) or None, epsabs=0, epsrel=1e-12, limit=500)[0]
    np.testing.assert_allclose(E.log_evidence_1d(model, [[x]]), np.log(ref), atol=1e-9)


def test_kl_does_not_use_the_models_log_p_x(monkeypatch):
    # plant an error in log p(x) (5 nats too high): the KL must not move, so the identity check fails
    model, x = NonlinearModel1D(), np.array([[2.0]])
    mixture, x_d, q = three_cluster_mixture(), np.array([[-0.5, 1.0]]), np.array([0.6, 0.2, 0.2])
    kl_before = E.kl_posterior_gaussian(model, x, [[1.0]], [[0.5]])
    kl_d_before = E.kl_posterior_discrete(mixture, x_d, q)
    monkeypatch.setattr(NonlinearModel1D, "log_p_x", lambda self, x: 5.0 + np.zeros(len(x)))
    monkeypatch.setattr(DiscreteMixture, "log_p_x", lambda self, x: 5.0 + np.zeros(len(x)))
    monkeypatch.setattr(DiscreteMixture, "log_posterior", lambda self, x: np.zeros((len(x), 3)) - 5.0)
    np.testing.assert_array_equal(E.kl_posterior_gaussian(model, x, [[1.0]], [[0.5]]), kl_before)
    np.testing.assert_array_equal(E.kl_posterior_discrete(mixture, x_d, q), kl_d_before)


def test_batched_fit_matches_the_per_point_fit():
    model = NonlinearModel1D()
    x = np.array([[-0.5], [0.7], [2.0], [3.5]])
    mu, log_sigma, history = E.fit_gaussian_q_batch(model, x, 0.5, 0.0, n_steps=400)
    assert history.shape == (401, 4) and mu.shape == log_sigma.shape == (4,)
    for i in range(4):
        fit = E.fit_gaussian_q(model, x[i : i + 1], 0.5, 0.0)
        assert abs(history[-1, i] - fit.elbo) < 1e-3, (i, history[-1, i], fit.elbo)
    with pytest.raises(ValueError, match="n_steps must be"):
        E.fit_gaussian_q_batch(model, x, n_steps=0)


def test_em_bound_slice_is_a_minorizer_maximized_by_the_m_step():
    from scipy.stats import multivariate_normal

    from lvmlib import mixtures

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(-2, 1, (40, 2)), rng.normal(2, 0.5, (60, 2))])
    theta_old = (np.array([0.3, 0.7]), np.array([[-1.0, 0.0], [1.0, 1.0]]), np.array([np.eye(2), 2 * np.eye(2)]))
    # E-step written out with scipy, independently of lvmlib
    dens = np.column_stack([w * multivariate_normal(m, c).pdf(X) for w, m, c in zip(*theta_old, strict=True)])
    resp = dens / dens.sum(axis=1, keepdims=True)
    theta_new = mixtures.m_step(X, resp, reg_covar=0.0)
    ts = np.linspace(-0.5, 1.5, 41)
    log_lik, bound = E.em_bound_slice(X, resp, theta_old, theta_new, ts)
    assert np.all(bound <= log_lik + 1e-12)
    np.testing.assert_allclose(log_lik[10], np.mean(np.log(dens.sum(axis=1))), atol=1e-12)  # t = 0: theta_old
    np.testing.assert_allclose(bound[10], log_lik[10], atol=1e-10)  # the bound touches at theta_old
    assert int(np.argmax(bound)) == 30  # t = 1: the exact M-step maximizes the bound
    dens_new = np.column_stack([w * multivariate_normal(m, c).pdf(X) for w, m, c in zip(*theta_new, strict=True)])
    np.testing.assert_allclose(log_lik[30], np.mean(np.log(dens_new.sum(axis=1))), atol=1e-10)
