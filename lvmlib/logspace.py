"""Log-space arithmetic. Probabilities are never added directly: they are combined with logsumexp."""

import numpy as np
from scipy.special import logsumexp

__all__ = ["logsumexp", "log_mean_exp", "log_trapezoid", "normalize_log"]


def log_mean_exp(log_w, axis=0):
    """log( mean(exp(log_w)) ) along ``axis``, computed stably.

    Parameters
    ----------
    log_w : array of shape (..., n, ...), with the averaged axis of length n >= 1.
    axis : the axis to average over.

    Returns
    -------
    array with ``axis`` removed.
    """
    log_w = np.asarray(log_w, dtype=float)
    if log_w.ndim == 0 or log_w.shape[axis] == 0:
        raise ValueError(f"log_w must have at least one entry along axis {axis}, got shape {log_w.shape}.")
    if np.any(np.isnan(log_w)):
        raise ValueError("log_w contains NaN; check how the log-weights were computed.")
    return logsumexp(log_w, axis=axis) - np.log(log_w.shape[axis])


def log_trapezoid(log_f, z):
    """log of the trapezoid rule for the integral of exp(log_f) over the 1-D grid ``z``.

    Parameters
    ----------
    log_f : array of shape (..., m): log-integrand at the grid points (last axis).
    z : array of shape (m,), increasing grid, m >= 2.

    Returns
    -------
    array of shape (...): log of sum_i (z[i+1] - z[i]) * (f[i] + f[i+1]) / 2.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"z must be a 1-D grid with at least 2 points, got shape {z.shape}.")
    dz = np.diff(z)
    if np.any(dz <= 0):
        raise ValueError("z must be strictly increasing; sort the grid first.")
    log_f = np.asarray(log_f, dtype=float)
    if log_f.shape[-1:] != z.shape:
        raise ValueError(f"log_f must have the grid along its last axis: got log_f {log_f.shape} for z {z.shape}.")
    pair = np.logaddexp(log_f[..., :-1], log_f[..., 1:]) + np.log(dz / 2)
    return logsumexp(pair, axis=-1)


def normalize_log(log_p, axis=-1):
    """Subtract logsumexp along ``axis`` so that exp(result) sums to one there (e.g. a posterior)."""
    log_p = np.asarray(log_p, dtype=float)
    total = logsumexp(log_p, axis=axis, keepdims=True)
    if not np.all(np.isfinite(total)):
        raise ValueError("log_p cannot be normalized: along some slice every entry is -inf (or one is NaN/+inf).")
    return log_p - total
