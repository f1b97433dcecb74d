"""Log-space arithmetic. Probabilities are never added directly: they are combined with logsumexp."""

import numpy as np
from scipy.special import logsumexp

from lvmlib import _checks

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
    log_w = _checks.as_float_array(log_w, "log_w", allow_neg_inf=True)
    axis = _axis(axis, log_w, "log_w")
    if log_w.shape[axis] == 0:
        raise ValueError(f"log_w must have at least one entry along axis {axis}, got shape {log_w.shape}.")
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
    z = _checks.as_float_array(z, "z")
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"z must be a 1-D grid with at least 2 points, got shape {z.shape}.")
    dz = np.diff(z)
    if np.any(dz <= 0):
        raise ValueError("z must be strictly increasing; sort the grid first.")
    log_f = _checks.as_float_array(log_f, "log_f", allow_neg_inf=True)
    if log_f.shape[-1:] != z.shape:
        raise ValueError(f"log_f must have the grid along its last axis: got log_f {log_f.shape} for z {z.shape}.")
    pair = np.logaddexp(log_f[..., :-1], log_f[..., 1:]) + np.log(dz / 2)
    return logsumexp(pair, axis=-1)


def normalize_log(log_p, axis=-1):
    """Subtract logsumexp along ``axis`` so that exp(result) sums to one there (e.g. a posterior)."""
    log_p = _checks.as_float_array(log_p, "log_p", allow_neg_inf=True)
    axis = _axis(axis, log_p, "log_p")
    total = logsumexp(log_p, axis=axis, keepdims=True)
    if not np.all(np.isfinite(total)):
        raise ValueError("log_p cannot be normalized: along some slice every entry is -inf (or one is NaN/+inf).")
    return log_p - total


def _axis(axis, arr, name):
    """A valid axis of ``arr`` (negative values count from the end), or a ValueError naming ``axis``."""
    axis = _checks.positive_int(axis, "axis", minimum=-max(arr.ndim, 1), maximum=max(arr.ndim - 1, 0))
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension to reduce over axis {axis}, got a scalar.")
    return axis % arr.ndim
