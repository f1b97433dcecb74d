"""lvmlib.laplace against independent references: closed forms, scipy quad, numpy's Gauss-Hermite nodes."""

import numpy as np
import pytest
from numpy.polynomial.hermite import hermgauss
from scipy import integrate, stats

from lvmlib import laplace as LP
from lvmlib.examples import LinearGaussian, NonlinearModel1D


def _quad_log_p_x(x, b=0.3, sigma_x=0.5):
    """log p(x) of the nonlinear model by scipy quad, written with scipy densities (independent of lvmlib)."""
    f = lambda z: stats.norm.pdf(z) * stats.norm.pdf(x, z**2 + b * z, sigma_x)  # noqa: E731
    return np.log(integrate.quad(f, -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0])


def test_laplace_is_exact_for_a_gaussian_posterior():
    model = LinearGaussian(W=[[1.2, 0.4], [-0.5, 1.0], [0.3, 0.9]], b=[0.0, 0.5, -0.5], sigma_x=0.7)
    x = np.array([1.0, -0.5, 0.8])
    res = LP.laplace(LP.log_joint_fn(model, x), np.zeros(2))
    cov_x = model.W @ model.W.T + 0.49 * np.eye(3)
    assert res.log_p_x == pytest.approx(stats.multivariate_normal(model.b, cov_x).logpdf(x), abs=1e-7)
    # posterior N(S W^T (x - b) / sigma^2, S) with S = (I + W^T W / sigma^2)^{-1}
    S = np.linalg.inv(np.eye(2) + model.W.T @ model.W / 0.49)
    np.testing.assert_allclose(res.cov, S, atol=1e-6)
    np.testing.assert_allclose(res.mode, S @ model.W.T @ (x - model.b) / 0.49, atol=1e-6)


def test_laplace_on_the_nonlinear_model_against_quad():
    model = NonlinearModel1D()
    # unimodal x = -0.5: the Laplace error is a few tenths of a nat at most; at x = 2 one mode is missed
    res = LP.laplace(LP.log_joint_fn(model, [-0.5]), 0.0)
    assert abs(res.log_p_x - _quad_log_p_x(-0.5)) < 0.2
    res2 = LP.laplace(LP.log_joint_fn(model, [2.0]), 1.0)
    assert res2.log_p_x < _quad_log_p_x(2.0) - 0.3
    # the mode is where the derivative of log p(x, z) = -z^2/2 - (x - z^2 - b z)^2 / (2 s^2) vanishes
    z = res2.mode[0]
    assert -z + (2.0 - z**2 - 0.3 * z) * (2 * z + 0.3) / 0.25 == pytest.approx(0.0, abs=1e-5)


def test_hessian_of_a_quadratic():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    log_f = lambda z: -0.5 * np.einsum("ni,ij,nj->n", z, A, z)  # noqa: E731
    np.testing.assert_allclose(LP.hessian(log_f, [0.3, -0.2]), -A, atol=1e-6)


def test_gauss_hermite_nodes_match_numpy():
    # with log_f = log of exp(-z^2) z^4 the n-point rule (mu = 0, s = 1/sqrt 2) is exact for n >= 3
    log_f = lambda z: -z[:, 0] ** 2 + 4 * np.log(np.abs(z[:, 0]) + 1e-300)  # noqa: E731
    t, w = hermgauss(3)
    ref = np.log(np.sum(w * t**4))
    assert LP.gauss_hermite_log_p_x(log_f, 0.0, 1 / np.sqrt(2), 3) == pytest.approx(ref, abs=1e-12)
    assert ref == pytest.approx(np.log(3 * np.sqrt(np.pi) / 4), abs=1e-12)


def test_gauss_hermite_converges_to_quad_and_n1_is_laplace():
    model = NonlinearModel1D()
    log_f = LP.log_joint_fn(model, [-0.5])
    res = LP.laplace(log_f, 0.0)
    mu, s = res.mode[0], res.scale[0]
    assert LP.gauss_hermite_log_p_x(log_f, mu, s, 1) == pytest.approx(res.log_p_x, abs=1e-7)
    assert LP.gauss_hermite_log_p_x(log_f, mu, s, 80) == pytest.approx(_quad_log_p_x(-0.5), abs=1e-9)
    # a Gaussian posterior, centred at its mean with its sd: the bracket is constant, exact with any n
    lin = LinearGaussian()  # posterior variance 1 / (1 + 1.5^2 / 0.8^2), mean var * 1.5 x / 0.8^2
    var = 1 / (1 + 1.5**2 / 0.64)
    lf = LP.log_joint_fn(lin, [0.7])
    ref = stats.norm.logpdf(0.7, 0, np.sqrt(1.5**2 + 0.64))
    for n in (1, 2, 5):
        assert LP.gauss_hermite_log_p_x(lf, var * 1.5 * 0.7 / 0.64, np.sqrt(var), n) == pytest.approx(ref, abs=1e-12)
    assert abs(LP.gauss_hermite_log_p_x(lf, 0.2, 0.9, 4) - ref) > 1e-3  # off-centre it is not


def test_nodes_needed():
    assert LP.nodes_needed({1: 1.0, 2: 1e-7, 3: 1e-3, 4: 1e-8}, 1e-6) == 4  # the lucky n = 2 does not count
    assert LP.nodes_needed({1: 1.0}, 1e-6) is None


def test_bad_input_is_rejected_by_name():
    lin = LinearGaussian()
    log_f = LP.log_joint_fn(lin, [0.7])
    with pytest.raises(ValueError, match="s must be > 0"):
        LP.gauss_hermite_log_p_x(log_f, 0.0, -1.0, 5)
    with pytest.raises(ValueError, match="n must be >= 1"):
        LP.gauss_hermite_log_p_x(log_f, 0.0, 1.0, 0)
    with pytest.raises(ValueError, match="MAX_NODES"):
        LP.gauss_hermite_log_p_x(log_f, 0.0, 1.0, 10_000)
    with pytest.raises(ValueError, match="x must be one data point"):
        LP.log_joint_fn(lin, [0.7, 0.2])
    with pytest.raises(ValueError, match="z0 contains NaN"):
        LP.laplace(log_f, np.nan)
    with pytest.raises(ValueError, match="not finite at z0"):
        LP.laplace(lambda z: np.full(len(z), -np.inf), 0.0)
    with pytest.raises(ValueError, match="not positive definite"):  # a saddle: the "mode" search stays at 0
        LP.laplace(lambda z: z[:, 0] ** 2 - z[:, 1] ** 2, np.zeros(2))
    with pytest.raises(ValueError, match="mu must be a single number"):
        LP.gauss_hermite_log_p_x(log_f, [0.0, 1.0], 1.0, 5)
    with pytest.raises(TypeError, match="^s must be a number"):
        LP.gauss_hermite_log_p_x(log_f, 0.0, None, 5)
    with pytest.raises(ValueError, match="tol must be > 0"):
        LP.nodes_needed({1: 0.1}, 0)
