"""Log-densities, entropies and KL divergences used throughout the course (numpy, log space).

Argument order follows the formula: ``kl_normal(mu_q, sigma_q, mu_p, sigma_p)`` is KL(q || p).
"""

import numpy as np
from scipy.linalg import solve_triangular

from lvmlib import _checks

LOG_2PI = np.log(2 * np.pi)


def log_normal(x, mu, sigma):
    """Elementwise log N(x; mu, sigma^2).

    Parameters
    ----------
    x, mu, sigma : arrays broadcastable to a common shape; sigma > 0.

    Returns
    -------
    array of the broadcast shape.
    """
    x, mu = _checks.as_float_array(x, "x"), _checks.as_float_array(mu, "mu")
    sigma = _checks.positive(sigma, "sigma")
    _checks.broadcast_shapes({"x": x.shape, "mu": mu.shape, "sigma": sigma.shape})
    return -0.5 * LOG_2PI - np.log(sigma) - 0.5 * ((x - mu) / sigma) ** 2


def log_normal_diag(x, mu, sigma):
    """log N(x; mu, diag(sigma^2)) summed over the last axis (the dimensions of x).

    x, mu, sigma : arrays broadcastable to (..., d). Returns shape (...).
    """
    return log_normal(x, mu, sigma).sum(axis=-1)


def cholesky(cov, name="cov"):
    """Lower Cholesky factor of ``cov`` (shape (..., d, d)), with a clear error when it is not positive definite."""
    cov = _checks.as_float_array(cov, name)
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"{name} must be square (shape (..., d, d)), got shape {cov.shape}.")
    if not np.allclose(cov, np.swapaxes(cov, -1, -2)):
        if np.all(np.triu(cov, k=1) == 0):  # lower-triangular: a factor where the covariance belongs
            raise ValueError(f"{name} must be a symmetric covariance, but it is lower-triangular: was a Cholesky "
                             "factor L passed? Pass the covariance L @ L.T.")
        raise ValueError(f"{name} must be symmetric; use (cov + cov.T) / 2.")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        msg = f"{name} is not positive definite; add a small multiple of the identity (reg_covar)."
        raise ValueError(msg) from None


def log_mvn(x, mu, chol):
    """log N(x; mu, L L^T) through the Cholesky factor L (never an inverse or a determinant).

    Parameters
    ----------
    x : array of shape (n, d).
    mu : array of shape (d,).
    chol : lower-triangular array of shape (d, d) with a positive diagonal, e.g. from :func:`cholesky` (the factor
        L of the covariance L L^T, not the covariance itself).

    Returns
    -------
    array of shape (n,).
    """
    x = np.atleast_2d(_checks.as_float_array(x, "x"))
    mu = _checks.as_float_array(mu, "mu", ndim=1)
    d = x.shape[-1]
    if mu.shape != (d,) or np.shape(chol) != (d, d):
        raise ValueError(f"x (n, d), mu (d,) and chol (d, d) disagree: got x {x.shape}, mu {mu.shape}, "
                         f"chol {np.shape(chol)}.")
    chol = _checks.chol(chol, "chol", d)
    diff = x - mu
    y = solve_triangular(chol, diff.T, lower=True)  # (d, n): L^{-1}(x - mu)
    log_det = 2.0 * np.log(np.diag(chol)).sum()
    return -0.5 * (d * LOG_2PI + log_det + (y**2).sum(axis=0))


def log_bernoulli(x, logits):
    """log p(x | logits) for independent Bernoulli pixels, summed over the last axis.

    Uses log p = x * l - softplus(l), stable for logits of any size.

    x : array (..., d) with entries in [0, 1]; logits : array broadcastable to x. Returns shape (...).
    """
    x = _checks.as_float_array(x, "x")
    if np.any((x < 0) | (x > 1)):
        raise ValueError("x must lie in [0, 1] for a Bernoulli model; binarize or rescale the data.")
    logits = _checks.as_float_array(logits, "logits")
    _checks.broadcast_shapes({"x": x.shape, "logits": logits.shape})
    return (x * logits - np.logaddexp(0.0, logits)).sum(axis=-1)


def entropy_normal(sigma):
    """Differential entropy of N(mu, sigma^2) in nats: 0.5 * log(2 pi e sigma^2). Elementwise."""
    sigma = _checks.positive(sigma, "sigma")
    return 0.5 * (LOG_2PI + 1.0) + np.log(sigma)


def kl_normal(mu_q, sigma_q, mu_p, sigma_p):
    """KL( N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2) ) in nats, elementwise (sum yourself for diagonal Gaussians)."""
    mu_q, mu_p = _checks.as_float_array(mu_q, "mu_q"), _checks.as_float_array(mu_p, "mu_p")
    sigma_q = _checks.positive(sigma_q, "sigma_q")
    sigma_p = _checks.positive(sigma_p, "sigma_p")
    _checks.broadcast_shapes({"mu_q": mu_q.shape, "sigma_q": sigma_q.shape, "mu_p": mu_p.shape,
                              "sigma_p": sigma_p.shape})
    log_ratio = 2.0 * (np.log(sigma_q) - np.log(sigma_p))  # log space: (1 / 1e300)^2 underflows, its log does not
    with np.errstate(over="ignore"):  # an overflow here means the true KL exceeds the float range
        return 0.5 * (np.exp(log_ratio) + ((mu_q - mu_p) / sigma_p) ** 2 - 1.0 - log_ratio)


def kl_discrete(q, log_p):
    """KL(q || p) = sum_k q_k (log q_k - log p_k) for discrete distributions over the last axis.

    q : probabilities, shape (..., K), rows summing to one (zeros allowed: 0 log 0 = 0).
    log_p : log-probabilities, shape broadcastable to q.
    """
    q = _checks.probabilities(q, "q")
    log_p = _checks.as_float_array(log_p, "log_p", allow_neg_inf=True)
    if np.any(log_p > 1e-9):
        raise ValueError(f"log_p must be <= 0 (log-probabilities), got maximum {log_p.max():.4g}; normalize it with "
                         "logspace.normalize_log.")
    _checks.broadcast_shapes({"q": q.shape, "log_p": log_p.shape})
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * (np.log(q) - log_p), 0.0)
    return terms.sum(axis=-1)
