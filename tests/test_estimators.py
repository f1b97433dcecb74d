"""Tests of lvmlib.estimators against exact log p(x) (enumeration, quadrature, closed form).

Statistical tests are seeded, so they are deterministic; for a fresh seed each unbiasedness check (mean within 4
standard errors) fails with probability about 6e-5 under the normal approximation, and the sign/ordering checks of
the bias hold with margins of many standard errors.
"""

import numpy as np
import pytest

from lvmlib.distributions import kl_normal
from lvmlib.estimators import (
    effective_sample_size,
    log1p_chi2_gaussian,
    log_importance_weights,
    log_p_x_hat,
    log_weights_gaussian,
    log_weights_mixture,
    log_weights_prior,
    log_weights_uniform,
    relative_standard_error,
    self_normalized_expectation,
)
from lvmlib.examples import BinaryLatentModel, LinearGaussian, NonlinearModel1D, three_cluster_mixture

X_NL = np.array([[2.0], [-0.5]])


def _assert_unbiased(log_w, log_px):
    """exp(log p_hat) averaged over repeats lands within 4 standard errors of p(x), per data point."""
    ratio = np.exp(log_p_x_hat(log_w) - log_px)  # (n_repeats, n_data): p_hat / p(x), expectation 1
    se = ratio.std(axis=0, ddof=1) / np.sqrt(ratio.shape[0])
    assert np.all(np.abs(ratio.mean(axis=0) - 1.0) < 4 * se + 1e-12), (ratio.mean(axis=0), se)


def test_uniform_sampling_is_unbiased_on_binary_model():
    model = BinaryLatentModel.random(10, 8, np.random.default_rng(0), sigma_x=1.0)
    _, x = model.sample(3, np.random.default_rng(1))
    log_w = log_weights_uniform(model, x, 50, np.random.default_rng(2), n_repeats=4000)
    assert log_w.shape == (4000, 50, 3)
    _assert_unbiased(log_w, model.log_p_x(x))


def test_uniform_sampling_on_discrete_mixture_matches_enumeration():
    model = three_cluster_mixture()
    x = np.array([[0.0, 0.0], [2.0, 1.0]])
    log_w = log_weights_uniform(model, x, 20, np.random.default_rng(3), n_repeats=3000)
    _assert_unbiased(log_w, model.log_p_x(x))
    # each log-weight is log K + one of the K values of log p(x, z) of its data point
    table = np.log(3) + model.log_p_xz(x)  # (n_data, K)
    assert np.all(np.isclose(log_w[..., None], table).any(axis=-1))


def test_prior_sampling_is_unbiased():
    model = NonlinearModel1D()
    log_w = log_weights_prior(model, X_NL, 20, np.random.default_rng(4), n_repeats=4000)
    _assert_unbiased(log_w, model.log_p_x(X_NL))
    binary = BinaryLatentModel.random(8, 5, np.random.default_rng(5))
    _, xb = binary.sample(2, np.random.default_rng(6))
    _assert_unbiased(log_weights_prior(binary, xb, 20, np.random.default_rng(7), n_repeats=4000), binary.log_p_x(xb))


def test_gaussian_importance_sampling_is_unbiased():
    model = NonlinearModel1D()
    mu_q = np.array([[0.0], [0.0]])
    sigma_q = np.array([[1.5], [0.8]])
    log_w, z = log_weights_gaussian(model, X_NL, mu_q, sigma_q, 10, np.random.default_rng(8), n_repeats=4000,
                                    return_z=True)
    assert log_w.shape == (4000, 10, 2) and z.shape == (4000, 10, 2, 1)
    _assert_unbiased(log_w, model.log_p_x(X_NL))


def test_posterior_proposal_has_zero_variance():
    # orthogonal columns of W make the posterior covariance diagonal, so a diagonal Gaussian q can equal it
    model = LinearGaussian(W=[[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], b=[0.1, 0.0, -0.2], sigma_x=0.7)
    _, x = model.sample(4, np.random.default_rng(9))
    mean, cov = model.posterior(x)
    assert np.allclose(cov, np.diag(np.diag(cov)))
    log_w = log_weights_gaussian(model, x, mean, np.sqrt(np.diag(cov)), 7, np.random.default_rng(10))
    assert np.allclose(log_w, model.log_p_x(x), atol=1e-10)
    assert np.allclose(effective_sample_size(log_w), 7.0)


def test_log_estimate_is_biased_low_and_bias_shrinks_with_k():
    model = NonlinearModel1D()
    x = np.array([[2.0]])
    log_px = model.log_p_x(x)[0]
    biases, ses = [], []
    for k in (1, 10, 100):
        est = log_p_x_hat(log_weights_gaussian(model, x, 0.0, 1.0, k, np.random.default_rng(k), n_repeats=3000))
        biases.append(est.mean() - log_px)
        ses.append(est.std() / np.sqrt(est.size))
    biases, ses = np.array(biases), np.array(ses)
    assert np.all(biases + 4 * ses < 0), biases
    assert biases[0] + 4 * ses[0] < biases[1] - 4 * ses[1] and biases[1] + 4 * ses[1] < biases[2] - 4 * ses[2]


def test_k1_mean_log_weight_is_log_px_minus_kl_on_linear_gaussian():
    model = LinearGaussian()
    x = np.array([[1.2]])
    mean, cov = model.posterior(x)
    mu_q, sigma_q = 0.0, 1.0
    log_w = log_weights_gaussian(model, x, mu_q, sigma_q, 200_000, np.random.default_rng(11))
    expected = model.log_p_x(x)[0] - kl_normal(mu_q, sigma_q, mean[0, 0], np.sqrt(cov[0, 0]))
    se = log_w.std() / np.sqrt(log_w.size)
    assert abs(log_w.mean() - expected) < 4 * se


def test_log_p_x_hat_and_ess_by_hand():
    log_w = np.log(np.array([[1.0, 2.0], [3.0, 2.0]]))
    assert np.allclose(log_p_x_hat(log_w), np.log([2.0, 2.0]))
    assert np.allclose(effective_sample_size(log_w), [16.0 / 10.0, 2.0])
    # repeats on a leading axis
    stacked = np.stack([log_w, log_w + 1.0])
    assert np.allclose(log_p_x_hat(stacked), np.log([[2.0, 2.0], [2 * np.e, 2 * np.e]]))


def test_tiny_weights_stay_finite():
    log_w = np.array([[-1e4, -2e4], [-1e4 - 1.0, -2e4], [-1e4 + 2.0, -2e4]])
    est = log_p_x_hat(log_w)
    assert np.all(np.isfinite(est))
    assert np.allclose(est, log_p_x_hat(log_w + 1e4) - 1e4)
    assert np.allclose(effective_sample_size(log_w)[1], 3.0)
    assert np.all(np.isfinite(effective_sample_size(log_w)))
    # a proposal far from the posterior: log-weights in the thousands below zero, answers still finite
    model = NonlinearModel1D()
    lw = log_weights_gaussian(model, [[2.0]], 30.0, 0.1, 50, np.random.default_rng(12))
    assert lw.max() < -1e4
    assert np.isfinite(log_p_x_hat(lw)).all() and np.isfinite(effective_sample_size(lw)).all()


def test_all_zero_weights_give_zero_ess():
    log_w = np.full((4, 1), -np.inf)
    assert effective_sample_size(log_w)[0] == 0.0
    assert log_p_x_hat(log_w)[0] == -np.inf


@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k must"):
        log_weights_prior(NonlinearModel1D(), X_NL, k, np.random.default_rng(0))


@pytest.mark.parametrize("sigma_q", [0.0, -1.0, [[1.0], [0.0]]])
def test_bad_scale(sigma_q):
    with pytest.raises(ValueError, match="sigma_q must be > 0"):
        log_weights_gaussian(NonlinearModel1D(), X_NL, 0.0, sigma_q, 5, np.random.default_rng(0))


def test_mismatched_shapes():
    with pytest.raises(ValueError, match="mu_q must broadcast"):
        log_weights_gaussian(NonlinearModel1D(), X_NL, np.zeros(3), 1.0, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="sigma_q must broadcast"):
        log_weights_gaussian(NonlinearModel1D(), X_NL, 0.0, np.ones((3, 1)), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="log_p_xz and log_q_z must have the same shape"):
        log_importance_weights(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="x must have shape"):
        log_weights_uniform(BinaryLatentModel.random(4, 3, np.random.default_rng(0)), np.zeros((2, 5)), 5,
                            np.random.default_rng(0))
    with pytest.raises(ValueError, match="log_w must have shape"):
        log_p_x_hat(np.zeros(5))


def test_bad_inputs_named():
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        log_weights_prior(NonlinearModel1D(), X_NL, 5, 0)
    with pytest.raises(ValueError, match="finite latent space"):
        log_weights_uniform(NonlinearModel1D(), X_NL, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="log_w contains NaN"):
        effective_sample_size(np.array([[np.nan], [0.0]]))


def test_x_is_checked_against_each_models_width():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"x must have shape \(n_data, 1\) for this NonlinearModel1D"):
        log_weights_gaussian(NonlinearModel1D(), np.zeros((2, 2)), 0.0, 1.0, 5, rng)
    with pytest.raises(ValueError, match=r"x must have shape \(n_data, 2\) for this DiscreteMixture"):
        log_weights_uniform(three_cluster_mixture(), np.zeros((4, 3)), 5, rng)
    with pytest.raises(ValueError, match="x contains NaN"):
        log_weights_prior(NonlinearModel1D(), np.array([[np.nan]]), 5, rng)
    # a 1-D x: n_data points of a 1-D model, but one data point of the mixture (as the mixture itself reads it)
    assert log_weights_prior(NonlinearModel1D(), np.array([2.0, -0.5]), 5, rng).shape == (5, 2)
    assert log_weights_uniform(three_cluster_mixture(), np.array([0.0, 1.0]), 5, rng).shape == (5, 1)


def test_prior_sampling_refuses_a_model_without_a_samplable_prior():
    with pytest.raises(ValueError, match="ContinuousLVM or a BinaryLatentModel for prior sampling"):
        log_weights_prior(three_cluster_mixture(), np.zeros((1, 2)), 5, np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------------------------
# self-normalized IS, the CLT standard error, the closed-form chi^2, the mixture proposal
# ---------------------------------------------------------------------------------------------------------------
def test_self_normalized_expectation_by_hand_and_shift_invariant():
    log_w = np.log(np.array([[1.0, 2.0], [3.0, 2.0]]))  # (k = 2, n_data = 2)
    f = np.array([[10.0, -1.0], [20.0, 5.0]])
    expected = np.array([(1 * 10 + 3 * 20) / 4, (2 * -1 + 2 * 5) / 4])
    assert np.allclose(self_normalized_expectation(log_w, f), expected)
    assert np.allclose(self_normalized_expectation(log_w - 1e4, f), expected)  # p(x) (any constant) cancels
    f_vec = np.stack([f, 2 * f], axis=-1)  # (k, n_data, m = 2)
    assert np.allclose(self_normalized_expectation(log_w, f_vec), np.stack([expected, 2 * expected], -1))


def test_self_normalized_posterior_mean_on_linear_gaussian():
    # E[z | x] in closed form; SNIS from a wide Gaussian q, 200 000 samples: within 5 of its own sds (~1e-6 failure)
    model, x = LinearGaussian(), np.array([[1.2]])
    mean, cov = model.posterior(x)
    log_w, z = log_weights_gaussian(model, x, 0.0, 1.0, 200_000, np.random.default_rng(0), return_z=True)
    est = self_normalized_expectation(log_w, z[..., 0])[0]
    w = np.exp(log_w[:, 0] - log_w.max())
    w /= w.sum()
    sd = np.sqrt(np.sum(w**2 * (z[:, 0, 0] - est) ** 2))  # delta-method sd of the ratio estimate
    assert abs(est - mean[0, 0]) < 5 * sd and sd < 0.01


def test_relative_standard_error_by_hand():
    w = np.array([1.0, 2.0, 3.0, 6.0])
    expected = w.std(ddof=1) / (w.mean() * np.sqrt(w.size))
    assert np.isclose(relative_standard_error(np.log(w)[:, None])[0], expected)
    assert np.isclose(relative_standard_error(np.log(w)[:, None] - 800.0)[0], expected)  # tiny weights: no underflow
    with pytest.raises(ValueError, match="k >= 2"):
        relative_standard_error(np.zeros((1, 3)))


def test_log1p_chi2_gaussian_against_quadrature():
    from scipy import integrate, stats

    for mu_p, s_p, mu_q, s_q in ((0.3, 1.2, -0.1, 1.5), (0.0, 1.0, 0.5, 0.8), (2.0, 0.5, 2.0, 0.4)):
        def integrand(z, mu_p=mu_p, s_p=s_p, mu_q=mu_q, s_q=s_q):
            return np.exp(2 * stats.norm.logpdf(z, mu_p, s_p) - stats.norm.logpdf(z, mu_q, s_q))

        exact = integrate.quad(integrand, mu_p - 20 * s_p, mu_p + 20 * s_p, limit=200)[0]
        assert np.isclose(log1p_chi2_gaussian(mu_p, s_p, mu_q, s_q), np.log(exact), rtol=1e-7)
    # q narrower than p / sqrt(2): infinite; independent dimensions add in log space
    assert log1p_chi2_gaussian(0.0, 1.0, 0.0, 0.7) == np.inf
    one = log1p_chi2_gaussian(0.0, 1.0, 0.2, 1.2)
    assert np.isclose(log1p_chi2_gaussian(np.zeros(50), 1.0, 0.2, 1.2), 50 * one)
    with pytest.raises(ValueError, match="sigma_q must be > 0"):
        log1p_chi2_gaussian(0.0, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="must broadcast"):
        log1p_chi2_gaussian(np.zeros(2), 1.0, np.zeros(3), 1.0)


def test_log1p_chi2_gaussian_matches_sampled_second_moment():
    # E_q[w^2] / p(x)^2 estimated by sampling on the linear-Gaussian model (d = 1), against the closed form
    model, x = LinearGaussian(), np.array([[1.2]])
    mean, cov = model.posterior(x)
    log_w = log_weights_gaussian(model, x, mean + 0.2, 0.6, 400_000, np.random.default_rng(3))[:, 0]
    sampled = np.log(np.mean(np.exp(2 * (log_w - model.log_p_x(x)[0]))))
    closed = log1p_chi2_gaussian(mean[0, 0], np.sqrt(cov[0, 0]), mean[0, 0] + 0.2, 0.6)
    assert abs(sampled - closed) < 0.02


def test_mixture_proposal_is_unbiased_and_its_density_matches_scipy():
    from scipy import stats

    model, x = NonlinearModel1D(), np.array([[2.0], [-0.5]])
    means, sigmas, weights = [[1.25], [0.0]], [[0.37], [1.0]], [0.3, 0.7]
    log_w, z = log_weights_mixture(model, x, means, sigmas, weights, 40, np.random.default_rng(5), n_repeats=3000,
                                   return_z=True)
    assert log_w.shape == (3000, 40, 2) and z.shape == (3000, 40, 2, 1)
    _assert_unbiased(log_w, model.log_p_x(x))
    q = 0.3 * stats.norm.pdf(z[..., 0], 1.25, 0.37) + 0.7 * stats.norm.pdf(z[..., 0], 0.0, 1.0)
    assert np.allclose(log_w, model.log_p_xz(x, z) - np.log(q))


def test_mixture_proposal_bad_inputs_named():
    model, x, rng = NonlinearModel1D(), np.array([[2.0]]), np.random.default_rng(0)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        log_weights_mixture(model, x, [[0.0], [1.0]], [[1.0], [1.0]], [0.5, 0.6], 5, rng)
    with pytest.raises(ValueError, match="means must have shape"):
        log_weights_mixture(model, x, [[0.0], [1.0], [2.0]], [[1.0], [1.0]], [0.5, 0.5], 5, rng)
    with pytest.raises(ValueError, match="sigmas must be > 0"):
        log_weights_mixture(model, x, [[0.0], [1.0]], [[1.0], [0.0]], [0.5, 0.5], 5, rng)
    with pytest.raises(ValueError, match="ContinuousLVM"):
        log_weights_mixture(three_cluster_mixture(), x, [[0.0]], [[1.0]], [1.0], 5, rng)
    with pytest.raises(ValueError, match="f must have shape"):
        self_normalized_expectation(np.zeros((3, 2)), np.zeros((3, 3)))


def test_self_normalized_standard_error_by_hand():
    log_w = np.log(np.array([[1.0, 2.0], [3.0, 2.0]]))
    f = np.array([[10.0, -1.0], [20.0, 5.0]])
    est, se = self_normalized_expectation(log_w, f, return_se=True)
    w = np.array([[0.25, 0.5], [0.75, 0.5]])  # normalized weights
    assert np.allclose(se, np.sqrt(np.sum(w**2 * (f - est) ** 2, axis=0)))
    est_v, se_v = self_normalized_expectation(log_w, np.stack([f, 3 * f], -1), return_se=True)
    assert np.allclose(se_v, np.stack([se, 3 * se], -1)) and np.allclose(est_v, np.stack([est, 3 * est], -1))
