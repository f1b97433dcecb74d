"""The Laplace approximation and adaptive Gauss-Hermite quadrature: log p(x) from the posterior's mode and curvature.

Laplace: expand f(z) = log p(x, z) to second order at its maximum z*, where the gradient vanishes,

    f(z) ~= f(z*) - 1/2 (z - z*)^T A (z - z*),   A = -Hessian of f at z*  (positive definite at a strict maximum),

and integrate the Gaussian exactly:

    log p(x) ~= f(z*) + d_z / 2 log(2 pi) - 1/2 log det A.

It is exact when p(z | x) is Gaussian (the linear-Gaussian model) and fails when the posterior has other modes or
skewed tails. The Gaussian N(z*, A^{-1}) is the first "q" of the course.

Adaptive Gauss-Hermite (d_z = 1): substitute z = mu + sqrt(2) s t into the integral, so that

    p(x) = sqrt(2) s * integral of exp(-t^2) [exp(t^2) p(x, mu + sqrt(2) s t)] dt
         ~= sqrt(2) s * sum_i w_i exp(t_i^2) p(x, mu + sqrt(2) s t_i),

with the n Gauss-Hermite nodes t_i and weights w_i. Centred at the mode with the Laplace scale, the bracket is
nearly constant for a near-Gaussian posterior, and a handful of nodes suffice. With n = 1 it is Laplace itself.

A log-joint is a callable ``log_f(z)`` taking z of shape (n, d_z) and returning shape (n,);
:func:`log_joint_fn` builds one from a course model and a single data point.
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import logsumexp, roots_hermite

from lvmlib import _checks

MAX_NODES = 500  # Gauss-Hermite nodes; beyond a few hundred the weights underflow and nothing is gained


def log_joint_fn(model, x):
    """``log_f(z) = model.log_p_xz(x, z)`` for ONE data point x, as a function of z (n, d_z) -> (n,).

    model : a course model with ``d_z``, ``d_x`` and ``log_p_xz(x, z)`` (z of shape (..., n_data, d_z)).
    x : array of shape (d_x,) or (1, d_x).
    """
    x = _checks.as_float_array(x, "x").reshape(-1)
    if x.size != int(model.d_x):
        raise ValueError(f"x must be one data point with d_x = {model.d_x} entries, got {x.size}; pass x[i].")
    x = x[None, :]

    def log_f(z):
        z = np.asarray(z, dtype=float).reshape(-1, int(model.d_z))
        return model.log_p_xz(x, z[:, None, :])[:, 0]

    return log_f


def _as_z(z0, name="z0"):
    z0 = _checks.as_float_array(z0, name)
    if z0.ndim > 1:
        raise ValueError(f"{name} must be a point of shape (d_z,) or a scalar, got shape {z0.shape}.")
    return z0.reshape(-1)


def _scalar_log_f(log_f, d_z):
    def value(z):
        out = np.asarray(log_f(np.reshape(z, (1, d_z))), dtype=float).reshape(-1)
        if out.size != 1:
            raise ValueError(f"log_f must map z of shape (n, d_z) to shape (n,); for n = 1 it returned {out.size} "
                             "values.")
        return float(out[0])

    return value


def find_mode(log_f, z0, gtol=1e-9, max_iter=500):
    """The local maximum of ``log_f`` reached from ``z0`` by BFGS; shape (d_z,).

    Which mode is found depends on ``z0``: a multimodal posterior has several, and Laplace sees one.
    Raises ValueError if the optimizer fails or log_f is not finite at z0.
    """
    z0 = _as_z(z0)
    f = _scalar_log_f(log_f, z0.size)
    if not np.isfinite(f(z0)):
        raise ValueError(f"log_f(z0) = {f(z0)} is not finite at z0 = {z0}; start where p(x, z) > 0.")
    max_iter = _checks.positive_int(max_iter, "max_iter")
    res = optimize.minimize(lambda z: -f(z), z0, method="BFGS", options={"gtol": gtol, "maxiter": max_iter})
    if not np.all(np.isfinite(res.x)):
        raise ValueError(f"the mode search from z0 = {z0} diverged ({res.message}); log_f may have no maximum.")
    return res.x


def hessian(log_f, z, eps=1e-4):
    """Hessian of ``log_f`` at the point z (d_z,) by central finite differences; shape (d_z, d_z), error O(eps^2)."""
    z = _as_z(z, "z")
    eps = float(_checks.positive(eps, "eps"))
    f = _scalar_log_f(log_f, z.size)
    d = z.size
    H = np.empty((d, d))
    E = np.eye(d) * eps
    f0 = f(z)
    for i in range(d):
        H[i, i] = (f(z + E[i]) - 2 * f0 + f(z - E[i])) / eps**2
        for j in range(i):
            H[i, j] = H[j, i] = (f(z + E[i] + E[j]) - f(z + E[i] - E[j]) - f(z - E[i] + E[j])
                                 + f(z - E[i] - E[j])) / (4 * eps**2)
    return H


@dataclass
class LaplaceResult:
    """The Gaussian N(mode, cov) fitted at a mode of p(x, z), and its estimate of log p(x) (nats)."""

    mode: np.ndarray  # (d_z,)
    precision: np.ndarray  # (d_z, d_z): A = -Hessian of log p(x, z) at the mode
    cov: np.ndarray  # (d_z, d_z): A^{-1}
    log_joint_at_mode: float  # log p(x, z*)
    log_p_x: float  # log p(x, z*) + d_z/2 log 2 pi - 1/2 log det A

    @property
    def scale(self):
        """Standard deviations sqrt(diag(cov)), shape (d_z,); for d_z = 1 the Laplace width of the posterior."""
        return np.sqrt(np.diag(self.cov))


def laplace(log_f, z0, eps=1e-4):
    """The Laplace approximation of log of the integral of exp(log_f(z)) dz, from the mode reached from ``z0``.

    Parameters
    ----------
    log_f : callable, z of shape (n, d_z) -> (n,), e.g. :func:`log_joint_fn(model, x)`.
    z0 : starting point (d_z,) (a scalar for d_z = 1) of the mode search.
    eps : finite-difference step of the Hessian.

    Returns
    -------
    :class:`LaplaceResult`. Raises ValueError if the curvature at the point found is not that of a maximum.
    """
    mode = find_mode(log_f, z0)
    A = -hessian(log_f, mode, eps=eps)
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        raise ValueError(f"-Hessian at z = {mode} is not positive definite (eigenvalues {np.linalg.eigvalsh(A)}); "
                         "the point is not a strict maximum, so no Gaussian fits there.") from None
    log_det_A = 2.0 * np.log(np.diag(L)).sum()
    f_mode = float(np.asarray(log_f(mode[None, :])).reshape(-1)[0])
    d_z = mode.size
    cov = np.linalg.solve(L.T, np.linalg.solve(L, np.eye(d_z)))  # A^{-1} through the Cholesky factor
    return LaplaceResult(mode, A, cov, f_mode, f_mode + 0.5 * d_z * np.log(2 * np.pi) - 0.5 * log_det_A)


def gauss_hermite_log_p_x(log_f, mu, s, n):
    """Adaptive Gauss-Hermite estimate of log of the integral of exp(log_f(z)) dz for d_z = 1.

    Nodes z_i = mu + sqrt(2) s t_i, with (t_i, w_i) the n-point Gauss-Hermite rule (exact for polynomials of
    degree < 2n times exp(-t^2)). Computed in log space:
    logsumexp_i [log w_i + t_i^2 + log_f(z_i)] + log(sqrt(2) s).

    Parameters
    ----------
    log_f : callable, z of shape (n, 1) -> (n,). mu : centre (the mode). s : scale > 0 (the Laplace sd).
    n : number of nodes, 1 <= n <= ``MAX_NODES``.

    Returns
    -------
    float, the estimate in nats.
    """
    mu = _checks.finite_scalar(mu, "mu")
    s = _checks.finite_scalar(_checks.positive(s, "s"), "s")
    n = _checks.positive_int(n, "n")
    if n > MAX_NODES:
        raise ValueError(f"n = {n} nodes is more than MAX_NODES = {MAX_NODES}; the weights underflow beyond it.")
    t, w = roots_hermite(n)
    z = mu + np.sqrt(2.0) * s * t
    log_vals = np.asarray(log_f(z[:, None]), dtype=float).reshape(-1)
    if log_vals.shape != (n,):
        raise ValueError(f"log_f must map z of shape (n, 1) to shape (n,), got {log_vals.shape} for n = {n}.")
    return float(logsumexp(np.log(w) + t**2 + log_vals) + np.log(np.sqrt(2.0) * s))


def nodes_needed(errors_by_n, tol):
    """The smallest n whose |error| is below ``tol`` and stays below it for every larger n tried, or None.

    errors_by_n : dict {n: |error|}. "Stays below" guards against a lucky crossing of zero at one n.
    """
    tol = _checks.finite_scalar(_checks.positive(tol, "tol"), "tol")
    ns = sorted(errors_by_n)
    for i, n in enumerate(ns):
        if all(errors_by_n[m] < tol for m in ns[i:]):
            return n
    return None
