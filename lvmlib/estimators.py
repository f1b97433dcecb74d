"""Monte Carlo estimates of the marginal likelihood p(x): naive uniform sampling, prior sampling, importance sampling.

Every estimator here is importance sampling with some proposal q(z): draw z^(1..k) ~ q, form the log-weights

    log w_j = log p(x, z_j) - log q(z_j),

and estimate p(x) by the mean of the weights, an unbiased estimate. In log space that is

    log p_hat_k(x) = log( (1/k) sum_j w_j ) = log_mean_exp(log w),

which is *not* unbiased for log p(x): by Jensen, E[log p_hat_k(x)] <= log p(x), with equality only in the limit
k -> infinity (or for q = p(z|x), where every weight equals p(x)).

- naive uniform sampling over a finite Z: q(z) = 1/|Z|, so log w = log |Z| + log p(x, z);
- prior sampling: q(z) = p(z), so log w = log p(x | z);
- Gaussian importance sampling: q(z) = N(mu_q, diag(sigma_q^2)), per data point;
- a mixture of Gaussians as the proposal (e.g. a "defensive" mixture of a narrow q with the prior).

Beyond p(x): :func:`self_normalized_expectation` estimates posterior expectations E_p(z|x)[f(z)] from unnormalized
weights; :func:`relative_standard_error` gives the CLT standard error of p_hat_k(x) relative to itself (for a
confidence interval); :func:`log1p_chi2_gaussian` is log(1 + chi^2(p || q)) in closed form for two diagonal Gaussians,
the quantity that sets the variance of p_hat_k(x) (and that multiplies over independent dimensions).

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
    "log_weights_mixture",
    "self_normalized_expectation",
    "relative_standard_error",
    "log1p_chi2_gaussian",
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


def self_normalized_expectation(log_w, f, return_se=False):
    """Self-normalized importance sampling: sum_j w_j f(z_j) / sum_j w_j, an estimate of E_p(z|x)[f(z)].

    Needs the weights only up to a constant (p(x) cancels), so log_w may be log p(x, z) - log q(z) or anything that
    differs from it by a constant per data point. Consistent as k grows, but biased for finite k (the bias is O(1/k)).

    log_w : array (..., k, n_data). f : array (..., k, n_data) or (..., k, n_data, m), f(z_j) for each sample.
    Returns (..., n_data) or (..., n_data, m); with ``return_se=True`` also its delta-method standard error
    sqrt(sum_j w~_j^2 (f_j - estimate)^2) (w~ the normalized weights), of the same shape.
    """
    log_w = _as_log_w(log_w)
    f = _checks.as_float_array(f, "f")
    if f.shape[: log_w.ndim] != log_w.shape or f.ndim > log_w.ndim + 1:
        raise ValueError(f"f must have shape {log_w.shape} (one value per sample and data point) or {log_w.shape} + "
                         f"(m,) for a vector f, got {f.shape}.")
    if np.any(np.all(np.isneginf(log_w), axis=-2)):
        raise ValueError("every weight of some data point is 0 (log_w = -inf): the normalized weights are undefined.")
    w = np.exp(log_w - log_w.max(axis=-2, keepdims=True))
    w = w / w.sum(axis=-2, keepdims=True)  # (..., k, n_data), summing to one over the k samples
    if f.ndim == log_w.ndim + 1:
        w = w[..., None]
    estimate = np.sum(w * f, axis=-f.ndim + log_w.ndim - 2)
    if not return_se:
        return estimate
    centred = f - np.expand_dims(estimate, axis=log_w.ndim - 2)
    return estimate, np.sqrt(np.sum(w**2 * centred**2, axis=log_w.ndim - 2))


def relative_standard_error(log_w):
    """The CLT standard error of p_hat_k(x), relative to p_hat_k(x): sd(w) / (mean(w) sqrt(k)), sd with ddof = 1.

    A 95% confidence interval for p(x) is p_hat_k(x) (1 +- 1.96 * this). It is itself estimated from the weights,
    so it is only trustworthy when chi^2 < inf (finite variance); then the interval's coverage tends to 95% as k grows.

    log_w : array (..., k, n_data) with k >= 2. Returns (..., n_data).
    """
    log_w = _as_log_w(log_w)
    k = log_w.shape[-2]
    if k < 2:
        raise ValueError(f"log_w must hold k >= 2 samples on axis -2 to estimate a standard error, got k = {k}.")
    w = np.exp(log_w - log_w.max(axis=-2, keepdims=True))
    w = w / w.mean(axis=-2, keepdims=True)  # weights relative to their mean, so the ratio sd / mean is sd(w)
    return np.sqrt(np.sum((w - 1.0) ** 2, axis=-2) / (k - 1) / k)


def log1p_chi2_gaussian(mu_p, sigma_p, mu_q, sigma_q):
    """log(1 + chi^2(p || q)) for p = N(mu_p, diag(sigma_p^2)) and q = N(mu_q, diag(sigma_q^2)), in closed form.

    With u = (z - mu_p) / sigma_p, q has shift delta = (mu_q - mu_p) / sigma_p and scale tau = sigma_q / sigma_p in each
    dimension, and 1 + chi^2 = prod_i tau_i^2 / sqrt(2 tau_i^2 - 1) * exp(delta_i^2 / (2 tau_i^2 - 1)): finite only when
    every tau_i^2 > 1/2, +inf otherwise. Independent dimensions multiply, so the log adds.

    All arguments broadcast to (..., d); sigmas > 0. Returns (...) (the sum over the last axis).
    """
    mu_p, mu_q = _checks.as_float_array(mu_p, "mu_p"), _checks.as_float_array(mu_q, "mu_q")
    sigma_p, sigma_q = _checks.positive(sigma_p, "sigma_p"), _checks.positive(sigma_q, "sigma_q")
    try:
        mu_p, sigma_p, mu_q, sigma_q = np.broadcast_arrays(mu_p, sigma_p, mu_q, sigma_q)
    except ValueError:
        raise ValueError(f"mu_p, sigma_p, mu_q and sigma_q must broadcast to one shape (..., d), got {mu_p.shape}, "
                         f"{sigma_p.shape}, {mu_q.shape} and {sigma_q.shape}.") from None
    if mu_p.ndim == 0:
        mu_p, sigma_p, mu_q, sigma_q = (a[None] for a in (mu_p, sigma_p, mu_q, sigma_q))
    tau2 = (sigma_q / sigma_p) ** 2
    delta2 = ((mu_q - mu_p) / sigma_p) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        per_dim = np.where(tau2 > 0.5, np.log(tau2) - 0.5 * np.log(2 * tau2 - 1) + delta2 / (2 * tau2 - 1), np.inf)
    return per_dim.sum(axis=-1)


# ---------------------------------------------------------------------------------------------------------------
# log-weights of the proposals
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


def log_weights_mixture(model, x, means, sigmas, weights, k, rng, n_repeats=None, return_z=False):
    """Importance sampling with a mixture of Gaussians as the proposal, q(z) = sum_c pi_c N(z; mean_c, diag(sigma_c^2)).

    A "defensive" proposal mixes a narrow q with a wide one (e.g. the prior): the wide component keeps the weights
    p(x, z) / q(z) <= p(x, z) / (pi_wide q_wide(z)) bounded where the narrow one never samples.

    Parameters
    ----------
    model : a ContinuousLVM.
    x : array (n_data, d_x).
    means, sigmas : arrays (C, d_z) (the same proposal for every data point) or (C, n_data, d_z); sigmas > 0.
    weights : array (C,), the mixture weights pi_c, summing to one.
    k, rng, n_repeats, return_z : as in :func:`log_weights_gaussian`.

    Returns
    -------
    log_w = log p(x, z) - log q(z), array (k, n_data) or (n_repeats, k, n_data) [, z (..., k, n_data, d_z)].
    """
    shape, rng = _sample_shape(k, n_repeats), _checks.generator(rng)
    if not isinstance(model, ContinuousLVM):
        raise ValueError(f"model must be a ContinuousLVM for a Gaussian-mixture proposal, got {type(model).__name__}.")
    x = _as_x(model, x)
    n, d_z = x.shape[0], model.d_z
    weights = _checks.probabilities(weights, "weights")
    if weights.ndim != 1:
        raise ValueError(f"weights must be a vector (C,) of mixture weights, got shape {weights.shape}.")
    n_comp = weights.shape[0]
    means = _checks.as_float_array(means, "means")
    sigmas = _checks.positive(sigmas, "sigmas")
    for value, name in ((means, "means"), (sigmas, "sigmas")):
        if value.ndim == 2:
            value = value[:, None, :]
        if value.shape[0] != n_comp or value.ndim != 3 or value.shape[1] not in (1, n) or value.shape[2] != d_z:
            raise ValueError(f"{name} must have shape (C, d_z) = ({n_comp}, {d_z}) or (C, n_data, d_z), one row per "
                             f"mixture component, got {np.shape(value)}.")
    means = np.broadcast_to(means.reshape(n_comp, -1, d_z), (n_comp, n, d_z))
    sigmas = np.broadcast_to(sigmas.reshape(n_comp, -1, d_z), (n_comp, n, d_z))
    comp = rng.choice(n_comp, size=(*shape, n), p=weights)  # which component each sample comes from
    eps = rng.standard_normal((*shape, n, d_z))
    data_idx = np.arange(n)
    z = means[comp, data_idx] + sigmas[comp, data_idx] * eps  # (..., k, n_data, d_z)
    log_q_c = log_normal_diag(z[..., None, :, :], means, sigmas) + np.log(weights)[:, None]  # (..., k, C, n_data)
    log_w = log_importance_weights(model.log_p_xz(x, z), logsumexp(log_q_c, axis=-2))
    return (log_w, z) if return_z else log_w
