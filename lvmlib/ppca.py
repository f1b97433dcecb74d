"""Probabilistic PCA (Tipping & Bishop 1999): maximum likelihood from the eigenvalues of the data covariance.

Model: z ~ N(0, I_{d_z}), x | z ~ N(W z + b, sigma^2 I_D). The maximum-likelihood solution is

    b = mean of x,  W = U (Lambda - sigma^2 I)_+^{1/2} R,  sigma^2 = mean of the D - d_z smallest eigenvalues,

with (lambda_i, u_i) the eigenpairs of the sample covariance S (divided by n): U (D, d_z) holds the d_z leading
eigenvectors as columns, Lambda = diag(lambda_1, ..., lambda_{d_z}), (a)_+ = max(a, 0) elementwise, and R is any
d_z x d_z rotation (R R^T = I): the likelihood cannot tell the rotations apart. With sigma^2 fixed instead, the
same W is optimal, and every direction whose eigenvalue falls below sigma^2 gets a zero column (it collapses).

Only R = I makes the exact posterior's covariance sigma^2 (W^T W + sigma^2 I)^{-1} diagonal, so a diagonal-Gaussian
q (the linear VAE's) is exact only there: its best ELBO falls short of log p(x) by :func:`diagonal_q_gap` for
every x, and maximizing the ELBO picks R = I.
The average log-likelihood then has a closed form in the eigenvalues alone (:func:`log_likelihood_from_eigenvalues`).
"""

import numpy as np

from lvmlib import _checks
from lvmlib.distributions import LOG_2PI
from lvmlib.examples import LinearGaussian


def covariance_eigen(x):
    """Eigenvalues (descending, (D,)) and eigenvectors (columns, (D, D)) of the sample covariance of x (n, D)."""
    x = _checks.as_float_array(x, "x", ndim=2)
    if x.shape[0] < 2:
        raise ValueError(f"x needs at least 2 rows to estimate a covariance, got {x.shape[0]}.")
    centred = x - x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / x.shape[0])
    return np.clip(eigenvalues[::-1], 0.0, None), eigenvectors[:, ::-1]


def _check_d_z(d_z, D):
    d_z = _checks.positive_int(d_z, "d_z")
    if d_z >= D:
        raise ValueError(f"d_z must be smaller than the data dimension D = {D}, got {d_z}.")
    return d_z


def mle_sigma2(eigenvalues, d_z):
    """The maximum-likelihood noise variance: the mean of the D - d_z smallest eigenvalues."""
    eigenvalues = _check_eigenvalues(eigenvalues)
    d_z = _check_d_z(d_z, eigenvalues.size)
    return float(eigenvalues[d_z:].mean())


def log_likelihood_from_eigenvalues(eigenvalues, d_z, sigma2=None):
    """Average log p(x) per data point of the pPCA maximum-likelihood fit, in closed form (nats).

    Parameters
    ----------
    eigenvalues : (D,) eigenvalues of the sample covariance (divided by n).
    d_z : latent dimension, 1 <= d_z < D.
    sigma2 : fixed noise variance > 0, or None for its maximum-likelihood value.

    The model covariance C = W W^T + sigma^2 I has eigenvalues max(lambda_i, sigma^2) for the d_z leading
    directions and sigma^2 for the rest, so -(1/2)[D log 2 pi + log|C| + tr(C^{-1} S)] needs only the lambda_i.
    """
    lam = _check_eigenvalues(eigenvalues)
    d_z = _check_d_z(d_z, lam.size)
    sigma2 = mle_sigma2(lam, d_z) if sigma2 is None else _check_sigma2(sigma2)
    if sigma2 <= 0:
        raise ValueError("the maximum-likelihood sigma2 is 0 (the data lie in a d_z-dimensional subspace); "
                         "pass a positive sigma2 or a larger d_z.")
    c = np.concatenate([np.maximum(lam[:d_z], sigma2), np.full(lam.size - d_z, sigma2)])
    return float(-0.5 * (lam.size * LOG_2PI + np.log(c).sum() + (lam / c).sum()))


def fit(x, d_z, sigma2=None, rotation=None):
    """Maximum-likelihood pPCA as a :class:`lvmlib.examples.LinearGaussian` (sigma2 learned, or fixed if given).

    rotation : optional (d_z, d_z) orthogonal R (see :func:`random_rotation`); default I. Returns the model with
    ``W = U (Lambda - sigma^2 I)_+^{1/2} R``: orthogonal columns, zero where the eigenvalue is below sigma^2, for R = I.
    """
    x = _checks.as_float_array(x, "x", ndim=2)
    lam, U = covariance_eigen(x)
    d_z = _check_d_z(d_z, lam.size)
    sigma2 = mle_sigma2(lam, d_z) if sigma2 is None else _check_sigma2(sigma2)
    W = U[:, :d_z] * np.sqrt(np.maximum(lam[:d_z] - sigma2, 0.0))
    if rotation is not None:
        R = _checks.as_float_array(rotation, "rotation", ndim=2)
        if R.shape != (d_z, d_z) or not np.allclose(R @ R.T, np.eye(d_z), atol=1e-8):
            raise ValueError(f"rotation must be an orthogonal ({d_z}, {d_z}) matrix (R R^T = I), got shape {R.shape}; "
                             "make one with ppca.random_rotation(d_z, rng).")
        W = W @ R
    return LinearGaussian(W, x.mean(axis=0), np.sqrt(sigma2))


def random_rotation(d_z, rng):
    """A uniformly random orthogonal (d_z, d_z) matrix (QR of a Gaussian matrix, signs fixed), from numpy ``rng``."""
    rng = _checks.generator(rng)
    d_z = _checks.positive_int(d_z, "d_z")
    Q, R = np.linalg.qr(rng.standard_normal((d_z, d_z)))
    return Q * np.sign(np.diag(R))


def diagonal_q_gap(W, sigma2):
    """log p(x) minus the best ELBO over diagonal-Gaussian q(z), for the linear-Gaussian model (W, sigma2): nats.

    The exact posterior is N(m(x), sigma^2 M^{-1}) with M = W^T W + sigma^2 I (d_z, d_z). The diagonal q closest
    in KL(q || p(z|x)) keeps the mean m(x) and takes the variances sigma^2 / M_jj, so the gap
    KL(q || p(z|x)) = (1/2) (sum_j log M_jj - log det M) is the same for every x: 0 when M is diagonal (R = I),
    positive otherwise (Hadamard's inequality).
    """
    W = _checks.as_float_array(W, "W", ndim=2)
    sigma2 = _check_sigma2(sigma2)
    M = W.T @ W + sigma2 * np.eye(W.shape[1])
    return float(0.5 * (np.log(np.diag(M)).sum() - np.linalg.slogdet(M)[1]))


def kl_per_direction(eigenvalues, d_z, sigma2):
    """KL(q(z_j|x) || N(0, 1)) of each of the d_z latent units at the pPCA optimum with sigma^2 fixed: (d_z,) nats.

    At R = I the posterior of unit j has variance sigma^2 / max(lambda_j, sigma^2) and a mean of variance
    1 - sigma^2 / max(lambda_j, sigma^2) over the data, so its average KL is (1/2) log(lambda_j / sigma^2)_+:
    zero exactly for the collapsed directions (lambda_j <= sigma^2).
    """
    lam = np.sort(_checks.as_float_array(eigenvalues, "eigenvalues", ndim=1))[::-1]
    d_z = _check_d_z(d_z, lam.size)
    sigma2 = _check_sigma2(sigma2)
    return 0.5 * np.log(np.maximum(lam[:d_z] / sigma2, 1.0))


def n_active_directions(eigenvalues, d_z, sigma2):
    """How many of the d_z leading directions survive a fixed sigma^2: the count of lambda_i > sigma^2."""
    lam = _check_eigenvalues(eigenvalues)
    sigma2 = _check_sigma2(sigma2)
    return int(np.sum(lam[:_check_d_z(d_z, lam.size)] > sigma2))


def _check_eigenvalues(eigenvalues):
    """Eigenvalues of a covariance, sorted descending: finite, 1-D, and >= 0 up to rounding (tiny negatives -> 0)."""
    lam = np.sort(_checks.as_float_array(eigenvalues, "eigenvalues", ndim=1))[::-1]
    if lam.size < 2:
        raise ValueError(f"eigenvalues must hold D >= 2 values (one per data dimension), got {lam.size}.")
    if lam.size and lam[-1] < -1e-10 * max(lam[0], 1.0):
        raise ValueError(f"eigenvalues must be >= 0 (they are variances of a covariance matrix), got minimum "
                         f"{lam[-1]:.4g}; pass the eigenvalues of a sample covariance (e.g. from covariance_eigen).")
    return np.clip(lam, 0.0, None)


def _check_sigma2(sigma2):
    """A fixed noise variance: a single finite number > 0."""
    return float(_checks.positive(_checks.finite_scalar(sigma2, "sigma2"), "sigma2"))
