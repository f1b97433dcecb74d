"""The running examples' exact log p(x) against independent references (scipy densities and quadrature)."""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats

from lvmlib import examples as E


# ---- (a) discrete mixture ------------------------------------------------------------------------------------
def test_mixture_log_p_x_matches_scipy_sum_of_densities():
    mix = E.three_cluster_mixture()
    x = np.array([[0.0, 0.0], [-2.0, 0.1], [1.0, 3.0]])
    params = zip(mix.weights, mix.means, mix.covs, strict=True)
    dens = sum(w * stats.multivariate_normal(m, c).pdf(x) for w, m, c in params)
    np.testing.assert_allclose(mix.log_p_x(x), np.log(dens), rtol=1e-12)


def test_mixture_posterior_is_bayes_rule_and_sums_to_one():
    mix = E.three_cluster_mixture()
    x = np.array([[0.5, 1.0], [3.0, -1.0]])
    post = mix.posterior(x)
    np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.log(post), mix.log_p_xz(x) - mix.log_p_x(x)[:, None], rtol=1e-12, atol=1e-15)


def test_mixture_samples_have_the_component_frequencies():
    # 30,000 draws: each frequency within 4 binomial standard errors of 1/3 (failure rate ~ 2e-4 per component).
    z, x = E.three_cluster_mixture().sample(30_000, np.random.default_rng(0))
    se = np.sqrt(1 / 3 * 2 / 3 / z.size)
    assert np.all(np.abs(np.bincount(z) / z.size - 1 / 3) < 4 * se)
    assert x.shape == (30_000, 2)


def test_mixture_samples_have_each_components_mean_and_covariance():
    # ~10,000 draws per component: means within 4 standard errors; covariances within 0.05 (their standard
    # errors are below 0.01, so a transposed or wrong Cholesky factor, off by >= 0.1, fails).
    mix = E.three_cluster_mixture()
    z, x = mix.sample(30_000, np.random.default_rng(5))
    for k in range(3):
        xk = x[z == k]
        se = np.sqrt(np.diag(mix.covs[k]) / len(xk))
        assert np.all(np.abs(xk.mean(axis=0) - mix.means[k]) < 4 * se)
        np.testing.assert_allclose(np.cov(xk.T), mix.covs[k], atol=0.05)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": [0.5, 0.6]}, "weights must sum to 1"),
        ({"means": np.zeros((3, 2))}, "weights, means and covs disagree"),
        ({"covs": np.array([[[1.0, 2.0], [2.0, 1.0]]] * 2)}, "not positive definite"),
    ],
)
def test_mixture_rejects_bad_parameters(kwargs, message):
    params = {"weights": [0.5, 0.5], "means": np.zeros((2, 2)), "covs": np.stack([np.eye(2)] * 2)} | kwargs
    with pytest.raises(ValueError, match=message):
        E.DiscreteMixture(**params)


def test_mixture_rejects_wrong_data_dimension():
    with pytest.raises(ValueError, match=r"x must have shape \(n_data, 2\)"):
        E.three_cluster_mixture().log_p_x(np.zeros((4, 3)))


# ---- (b) nonlinear 1-D model -----------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [-0.5, 0.0, 2.0, 6.0])
def test_nonlinear_log_p_x_matches_adaptive_quadrature(x):
    m = E.NonlinearModel1D()
    f = lambda z: np.exp(m.log_p_xz(np.array([x]), np.array([[z]]))[0])
    roots = np.roots([1.0, m.b, -x]).real
    value, _ = integrate.quad(f, -12, 12, points=sorted(roots), epsabs=0, epsrel=1e-13, limit=400)
    np.testing.assert_allclose(m.log_p_x(np.array([x])), np.log(value), atol=1e-10)


def test_nonlinear_posterior_is_bimodal_at_2_and_unimodal_at_minus_half():
    z, dens = E.NonlinearModel1D().posterior_on_grid(np.array([2.0, -0.5]))
    np.testing.assert_allclose(np.trapezoid(dens, z, axis=1), 1.0, atol=1e-10)
    n_modes = [np.sum((d[1:-1] > d[:-2]) & (d[1:-1] > d[2:])) for d in dens]
    assert n_modes == [2, 1]


def test_nonlinear_samples_match_the_moments_of_p_x():
    # x = z^2 + b z + noise: E[x] = 1, Var[x] = 2 + b^2 + sigma_x^2. 200,000 draws; 4 standard errors
    # (failure rate below 1e-4 for the mean).
    m = E.NonlinearModel1D()
    _, x = m.sample(200_000, np.random.default_rng(1))
    var = 2 + m.b**2 + m.sigma_x**2
    assert abs(x.mean() - 1.0) < 4 * np.sqrt(var / x.size)
    assert abs(x.var() - var) < 0.05 * var


# ---- (c) linear-Gaussian model -------------------------------------------------------------------------------
def test_linear_gaussian_log_p_x_matches_scipy_in_two_dimensions():
    W = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, 0.1]])
    m = E.LinearGaussian(W, [0.1, -0.2, 0.3], 0.6)
    x = np.random.default_rng(2).standard_normal((4, 3))
    expected = stats.multivariate_normal(m.b, W @ W.T + 0.36 * np.eye(3)).logpdf(x)
    np.testing.assert_allclose(m.log_p_x(x), expected, rtol=1e-12)


def test_linear_gaussian_posterior_is_the_normalized_joint():
    W = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, 0.1]])
    m = E.LinearGaussian(W, [0.1, -0.2, 0.3], 0.6)
    x = np.array([[0.5, -1.0, 2.0]])
    mean, cov = m.posterior(x)
    z = np.random.default_rng(3).standard_normal((5, 1, 2))
    expected = stats.multivariate_normal(mean[0], cov).logpdf(z[:, 0, :])
    np.testing.assert_allclose(m.log_posterior(x, z)[:, 0], expected, rtol=1e-10)


def test_linear_gaussian_default_is_one_dimensional_and_accepts_flat_x():
    m = E.LinearGaussian()
    assert (m.d_x, m.d_z) == (1, 1)
    np.testing.assert_allclose(m.log_p_x(np.array([1.0, 2.0])), stats.norm(0, np.sqrt(1.5**2 + 0.64)).logpdf([1, 2]))


def test_linear_gaussian_rejects_negative_noise_and_bad_z():
    with pytest.raises(ValueError, match="sigma_x must be > 0"):
        E.LinearGaussian(sigma_x=-1.0)
    with pytest.raises(ValueError, match="z must have shape"):
        E.LinearGaussian().log_p_xz(np.array([1.0]), np.zeros((3, 2)))


# ---- the lecture's DLVM --------------------------------------------------------------------------------------
def test_sigmoid_dlvm_log_p_x_matches_adaptive_quadrature():
    m = E.SigmoidDLVM(A=[3.0, -2.0], B=[1.0, 0.5], c=[0.0, 0.2], d=[-1.0, 0.0], var_scale=0.02)
    x = np.array([[0.4, 0.6]])
    f = lambda z: np.exp(m.log_p_xz(x, np.array([[z]]))[0])
    value, _ = integrate.quad(f, -10, 10, epsabs=0, epsrel=1e-12, limit=400)
    np.testing.assert_allclose(m.log_p_x(x), np.log(value), atol=1e-9)


def test_sigmoid_dlvm_samples_follow_the_decoder():
    # x - mu(z) divided by sigma(z) must be standard normal: mean within 4 standard errors, variance within 5%.
    m = E.SigmoidDLVM(A=[3.0, -2.0], B=[1.0, 0.5], c=[0.0, 0.2], d=[-1.0, 0.0], var_scale=0.02)
    z, x = m.sample(50_000, np.random.default_rng(6))
    mu, sigma = m.decode(z)
    eps = (x - mu) / sigma
    assert np.all(np.abs(eps.mean(axis=0)) < 4 / np.sqrt(len(eps)))
    np.testing.assert_allclose(eps.var(axis=0), 1.0, atol=0.05)
    assert abs(z.mean()) < 4 / np.sqrt(len(z))


def test_sigmoid_dlvm_with_unit_scale_is_the_lecture_model():
    m = E.SigmoidDLVM(A=[1.0, 1.0], B=[0.0, 0.0], c=[0.0, 0.0], d=[0.0, 0.0])
    mu, sigma = m.decode(np.array([[0.0]]))
    np.testing.assert_allclose(mu, 0.5)
    np.testing.assert_allclose(sigma**2, np.exp(0.5))  # exp(sigmoid(0))


# ---- d binary latent variables -------------------------------------------------------------------------------
def test_binary_model_enumeration_matches_a_plain_loop():
    m = E.BinaryLatentModel.random(4, 2, np.random.default_rng(4))
    x = np.array([[0.3, -0.4]])
    total = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=4):
        z = np.array(bits)
        prior = np.prod(np.where(z == 1, m.prior_p, 1 - m.prior_p))
        total += prior * stats.multivariate_normal(m.W @ z + m.b, m.sigma_x**2 * np.eye(2)).pdf(x[0])
    np.testing.assert_allclose(m.log_p_x(x), np.log(total), rtol=1e-12)


def test_binary_model_refuses_too_many_latents():
    m = E.BinaryLatentModel.random(31, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="enumeration is limited"):
        m.log_p_x(np.zeros((1, 1)))


def test_binary_model_rejects_x_of_the_wrong_width():
    m = E.BinaryLatentModel.random(3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"x must have shape \(n_data, 2\)"):
        m.log_p_x(np.zeros((4, 3)))


def test_sigmoid_dlvm_log_var_range_stretches_the_log_variance():
    """decode's sd is sqrt(v exp(R sigm(Bz + d))), written out here with scipy's expit; R = 1 is the default."""
    from scipy.special import expit

    args = dict(A=[4.0, -2.5], B=[2.0, -2.0], c=[0.0, 0.5], d=[-1.0, 0.0])
    z = np.linspace(-4, 4, 9)[:, None]
    default = E.SigmoidDLVM(**args, var_scale=0.01)
    unit = E.SigmoidDLVM(**args, var_scale=0.01, log_var_range=1.0)
    for a, b in zip(default.decode(z), unit.decode(z), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(default.decode(z)[1], np.sqrt(0.01 * np.exp(expit(z * [2.0, -2.0] + [-1.0, 0.0]))),
                               rtol=1e-14)
    stretched = E.SigmoidDLVM(**args, var_scale=0.0025, log_var_range=3.0)
    np.testing.assert_allclose(stretched.decode(z)[1],
                               np.sqrt(0.0025 * np.exp(3.0 * expit(z * [2.0, -2.0] + [-1.0, 0.0]))), rtol=1e-14)
    np.testing.assert_allclose(stretched.sd_bounds(), (0.05, 0.05 * np.exp(1.5)), rtol=1e-14)
    # log p(x) still integrates the same decoder: against adaptive quadrature in z
    x = np.array([0.3, 0.6])
    mu = lambda t: expit(t * np.array([4.0, -2.5]) + [0.0, 0.5])
    sd = lambda t: np.sqrt(0.0025 * np.exp(3.0 * expit(t * np.array([2.0, -2.0]) + [-1.0, 0.0])))
    ref = integrate.quad(lambda t: stats.norm.pdf(t) * np.prod(stats.norm.pdf(x, mu(t), sd(t))), -8, 8,
                         epsabs=0, epsrel=1e-11, limit=200)[0]
    assert stretched.log_p_x(x[None])[0] == pytest.approx(np.log(ref), abs=1e-8)
    for bad in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="log_var_range"):
            E.SigmoidDLVM(**args, log_var_range=bad)
