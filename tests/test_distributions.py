import numpy as np
import pytest
from scipy import stats

from lvmlib import distributions as D


def test_log_normal_matches_scipy():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(D.log_normal(x, 0.5, 1.7), stats.norm(0.5, 1.7).logpdf(x), rtol=1e-12)


def test_log_mvn_matches_scipy():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    cov = A @ A.T + 0.5 * np.eye(3)
    mu, x = rng.standard_normal(3), rng.standard_normal((5, 3))
    expected = stats.multivariate_normal(mu, cov).logpdf(x)
    np.testing.assert_allclose(D.log_mvn(x, mu, D.cholesky(cov)), expected, rtol=1e-10)


def test_log_bernoulli_matches_scipy_and_is_stable_at_extreme_logits():
    x = np.array([[1.0, 0.0, 1.0]])
    logits = np.array([[0.3, -1.2, 2.0]])
    expected = stats.bernoulli(1 / (1 + np.exp(-logits))).logpmf(x).sum()
    np.testing.assert_allclose(D.log_bernoulli(x, logits), expected, rtol=1e-12)
    extreme = D.log_bernoulli(np.array([1.0, 0.0]), np.array([-100.0, 100.0]))
    np.testing.assert_allclose(extreme, -200.0, rtol=1e-12)


def test_kl_normal_direction_and_value():
    # KL(q || p) for q = N(1, 0.5^2), p = N(0, 1): 0.5 * (0.25 + 1 - 1 - log 0.25)
    expected = 0.5 * (0.25 + 1.0 - 1.0 - np.log(0.25))
    np.testing.assert_allclose(D.kl_normal(1.0, 0.5, 0.0, 1.0), expected, rtol=1e-12)
    assert D.kl_normal(1.0, 0.5, 0.0, 1.0) != pytest.approx(D.kl_normal(0.0, 1.0, 1.0, 0.5))


def test_kl_normal_matches_quadrature():
    z = np.linspace(-15, 15, 30001)
    log_q, log_p = D.log_normal(z, 0.3, 0.7), D.log_normal(z, -1.0, 2.0)
    numeric = np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    np.testing.assert_allclose(D.kl_normal(0.3, 0.7, -1.0, 2.0), numeric, rtol=1e-8)


def test_entropy_normal_matches_scipy():
    np.testing.assert_allclose(D.entropy_normal(2.5), stats.norm(0, 2.5).entropy(), rtol=1e-12)


def test_kl_discrete_handles_zeros_and_is_nonnegative():
    log_p = np.log(np.array([0.2, 0.3, 0.5]))
    assert D.kl_discrete(np.array([0.0, 0.5, 0.5]), log_p) > 0
    assert abs(D.kl_discrete(np.array([0.2, 0.3, 0.5]), log_p)) < 1e-15


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: D.log_normal(0.0, 0.0, -1.0), "sigma must be > 0"),
        (lambda: D.log_normal(0.0, 0.0, np.nan), "sigma contains NaN"),
        (lambda: D.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])), "not positive definite"),
        (lambda: D.cholesky(np.ones((2, 3))), "must be square"),
        (lambda: D.log_bernoulli(np.array([2.0]), np.array([0.0])), r"x must lie in \[0, 1\]"),
        (lambda: D.kl_discrete(np.array([0.5, 0.6]), np.zeros(2)), "q must sum to 1"),
        (lambda: D.log_normal(np.nan, 0.0, 1.0), "x contains NaN"),
        (lambda: D.log_bernoulli(np.array([np.nan]), np.array([0.0])), "x contains NaN"),
        (lambda: D.kl_normal(np.nan, 1.0, 0.0, 1.0), "mu_q contains NaN"),
        (lambda: D.log_mvn(np.zeros((2, 3)), np.zeros(2), np.eye(2)), "disagree"),
        (lambda: D.log_mvn(np.full((1, 2), np.nan), np.zeros(2), np.eye(2)), "x contains NaN"),
    ],
)
def test_bad_inputs_raise_with_the_parameter_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
