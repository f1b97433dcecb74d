"""Monte Carlo estimates of the marginal likelihood p(x): naive uniform sampling, prior sampling, importance sampling.

Every estimator here is importance sampling with some proposal q(z): draw z^(1..k) ~ q, form the log-weights

    log w_j = log p(x, z_j) - log q(z_j),

and estimate p(x) by the mean of the weights, an unbiased estimate. In log space that is

    log p_hat_k(x) = log( (1/k) sum_j w_j ) = log_mean_exp(log w),

which is *not* unbiased for log p(x): by Jensen, E[log p_hat_k(x)] <= log p(x), with equality only in the limit
k -> infinity (or for q = p(z|x), where every weight equals p(x)).

- naive uniform sampling over a finite Z: q(z) = 1/|Z|, so log w = log |Z| + log p(x, z);
- prior sampling: q(z) = p(z), so log w = log p(x | z);
- Gaussian importance sampling: q(z) = N(mu_q, diag(sigma_q^2)), per data point.

Shapes (one axis order everywhere): x is (n_data, d_x); samples z are (n_repeats, k, n_data, d_z) or
(k, n_data, d_z) when ``n_repeats`` is None; log-weights are (n_repeats, k, n_data) or (k, n_data). The k samples
of one estimate always sit on axis -2 of the log-weights. Everything is computed in log space (logsumexp), so
log-weights of -1e4 give finite answers.
"""

import numpy as np

from lvmlib import _checks
from lvmlib.distributions import log_normal_diag
from lvmlib.examples import BinaryLatentModel, ContinuousLVM, DiscreteMixture
from lvmlib.logspace import log_mean_exp, logsumexp

__all__ = [
    "log_importance_weights",
    "log_p_x_hat",
    "effective_sample_size",
    "log_weights_uniform",
    "log_weights_prior",
    "log_weights_gaussian",
]


# ---------------------------------------------------------------------------------------------------------------
# from log-weights to estimates
# ---------------------------------------------------------------------------------------------------------------
def _as_log_w(log_w):
    log_w = _checks.as_numeric(log_w, "log_w").astype(float)
    if log_w.ndim < 2:
        raise ValueError(f"log_w must have shape (..., k, n_data) (the k samples on axis -2), got shape {log_w.shape}; "
                         "use log_w[:, None] for a single data point.")
    if np.any(np.isnan(log_w)) or np.any(log_w == np.inf):
        raise ValueError("log_w contains NaN or +inf; check log p(x, z) and log q(z) where the samples were drawn.")
    return log_w


def log_importance_weights(log_p_xz, log_q_z):
    """log w = log p(x, z) - log q(z) for samples z ~ q.

    log_p_xz, log_q_z : arrays of the same shape, e.g. (k, n_data). Returns that shape.
    """
    log_p_xz = _checks.as_float_array(log_p_xz, "log_p_xz", allow_neg_inf=True)
    log_q_z = _checks.as_float_array(log_q_z, "log_q_z")
    if log_p_xz.shape != log_q_z.shape:
        raise ValueError(f"log_p_xz and log_q_z must have the same shape (one entry per sample and data point), "
                         f"got {log_p_xz.shape} and {log_q_z.shape}.")
    return log_p_xz - log_q_z


def log_p_x_hat(log_w):
    """The importance sampling estimate of log p(x) from k samples: log( (1/k) sum_j exp(log_w_j) ).

    log_w : array (..., k, n_data). Returns (..., n_data). Biased low for log p(x); its exp is unbiased for p(x).
    """
    return log_mean_exp(_as_log_w(log_w), axis=-2)


def effective_sample_size(log_w):
    """Kish's effective sample size (sum_j w_j)^2 / sum_j w_j^2, between 1 and k (0 if every weight is 0).

    log_w : array (..., k, n_data). Returns (..., n_data). Equals k when all weights are equal and falls to 1 when
    one weight dominates.
    """
    log_w = _as_log_w(log_w)
    log_sum = logsumexp(log_w, axis=-2)
    log_sum_sq = logsumexp(2.0 * log_w, axis=-2)
    with np.errstate(invalid="ignore"):
        ess = np.exp(2.0 * log_sum - log_sum_sq)
    return np.where(np.isneginf(log_sum), 0.0, ess)


# ---------------------------------------------------------------------------------------------------------------
# log-weights of the three proposals
# ---------------------------------------------------------------------------------------------------------------
def _sample_shape(k, n_repeats):
    k = _checks.positive_int(k, "k")
    return (k,) if n_repeats is None else (_checks.positive_int(n_repeats, "n_repeats"), k)


def _as_x(model, x):
    """x as a float array (n_data, d_x), checked against the model's data width (a public attribute of each model).

    A 1-D x is one data point for a DiscreteMixture (as the mixture itself reads it) and n_data points when d_x = 1
    for the other models."""
    x = _checks.as_float_array(x, "x")
    d_x = model.dim if isinstance(model, DiscreteMixture) else model.d_x
    if x.ndim == 1 and isinstance(model, DiscreteMixture):
        x = x[None, :]
    elif x.ndim == 1 and d_x == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != d_x:
        raise ValueError(f"x must have shape (n_data, {d_x}) for this {type(model).__name__}, got {x.shape}; "
                         "pass one row per data point.")
    return x


def log_weights_uniform(model, x, k, rng, n_repeats=None):
    """Naive Monte Carlo: z uniform over the finite latent space Z, log w = log |Z| + log p(x, z).

    Parameters
    ----------
    model : BinaryLatentModel (|Z| = 2^d) or DiscreteMixture (|Z| = K).
    x : array (n_data, d_x).
    k : number of samples per estimate, >= 1.
    rng : numpy.random.Generator.
    n_repeats : None, or the number of independent estimates to draw at once.

    Returns
    -------
    log_w : array (k, n_data), or (n_repeats, k, n_data).
    """
    if not isinstance(model, (BinaryLatentModel, DiscreteMixture)):
        raise ValueError(f"model must have a finite latent space (BinaryLatentModel or DiscreteMixture) for uniform "
                         f"sampling, got {type(model).__name__}; use log_weights_prior or log_weights_gaussian.")
    shape, rng = _sample_shape(k, n_repeats), _checks.generator(rng)
    x = _as_x(model, x)
    n = x.shape[0]
    if isinstance(model, BinaryLatentModel):
        z = (rng.random((*shape, n, model.d)) < 0.5).astype(float)
        return model.d * np.log(2.0) + model.log_p_xz(x, z)
    idx = rng.integers(model.n_components, size=(*shape, n))
    log_p_xz = np.take_along_axis(model.log_p_xz(x).T, idx.reshape(-1, n), axis=0).reshape(idx.shape)
    return np.log(model.n_components) + log_p_xz


def log_weights_prior(model, x, k, rng, n_repeats=None, return_z=False):
    """Prior sampling: z ~ p(z), log w = log p(x | z) (the prior cancels in p(x, z) / p(z)).

    model : ContinuousLVM (z ~ N(0, I)) or BinaryLatentModel (independent Bernoulli bits).
    Other parameters as in :func:`log_weights_uniform`. Returns log_w (..., k, n_data), and z (..., k, n_data, d_z)
    with ``return_z=True``.
    """
    if not isinstance(model, (BinaryLatentModel, ContinuousLVM)):
        raise ValueError(f"model must be a ContinuousLVM or a BinaryLatentModel for prior sampling, got "
                         f"{type(model).__name__}.")
    shape, rng = _sample_shape(k, n_repeats), _checks.generator(rng)
    x = _as_x(model, x)
    n = x.shape[0]
    if isinstance(model, BinaryLatentModel):
        z = (rng.random((*shape, n, model.d)) < model.prior_p).astype(float)
    else:
        z = rng.standard_normal((*shape, n, model.d_z))
    log_w = model.log_p_x_given_z(x, z)
    return (log_w, z) if return_z else log_w


def log_weights_gaussian(model, x, mu_q, sigma_q, k, rng, n_repeats=None, return_z=False):
    """Importance sampling with a Gaussian proposal q(z) = N(mu_q, diag(sigma_q^2)), one per data point.

    Parameters
    ----------
    model : a ContinuousLVM (NonlinearModel1D, LinearGaussian, SigmoidDLVM).
    x : array (n_data, d_x).
    mu_q : array broadcastable to (n_data, d_z): the proposal's mean for each data point.
    sigma_q : array broadcastable to (n_data, d_z), > 0: the proposal's standard deviations.
    k, rng, n_repeats : as in :func:`log_weights_uniform`.
    return_z : also return the samples z of shape (..., k, n_data, d_z).

    Returns
    -------
    log_w = log p(x, z) - log q(z), array (k, n_data) or (n_repeats, k, n_data) [, z].
    """
    shape, rng = _sample_shape(k, n_repeats), _checks.generator(rng)
    if not isinstance(model, ContinuousLVM):
        raise ValueError(f"model must be a ContinuousLVM for a Gaussian proposal, got {type(model).__name__}.")
    x = _as_x(model, x)
    target = (x.shape[0], model.d_z)
    mu_q = _checks.as_float_array(mu_q, "mu_q")
    sigma_q = _checks.positive(sigma_q, "sigma_q")
    for value, name in ((mu_q, "mu_q"), (sigma_q, "sigma_q")):
        try:
            np.broadcast_to(value, target)
        except ValueError:
            raise ValueError(f"{name} must broadcast to (n_data, d_z) = {target}, got shape {value.shape}.") from None
    z = mu_q + sigma_q * rng.standard_normal((*shape, *target))
    log_w = log_importance_weights(model.log_p_xz(x, z), log_normal_diag(z, mu_q, sigma_q))
    return (log_w, z) if return_z else log_w
