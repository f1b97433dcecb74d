"""Input validation shared by the library: each check raises ValueError naming the parameter and the fix."""

import numpy as np


def as_float_array(value, name, ndim=None):
    """Return ``value`` as a float array, rejecting NaN/inf and (optionally) a wrong number of dimensions."""
    arr = np.asarray(value, dtype=float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}; reshape it first.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first.")
    return arr


def positive(value, name):
    """Return ``value`` as a float array after checking every entry is finite and > 0."""
    arr = as_float_array(value, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got minimum {arr.min():.4g}; pass a positive value.")
    return arr


def probabilities(value, name, axis=-1, atol=1e-6):
    """Return ``value`` as a probability vector (or rows of them) summing to one along ``axis``."""
    arr = as_float_array(value, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries; probabilities must be >= 0.")
    sums = arr.sum(axis=axis)
    if not np.allclose(sums, 1.0, atol=atol):
        raise ValueError(f"{name} must sum to 1 along axis {axis}, got sums {np.round(sums, 6)}; normalize it first.")
    return arr


def positive_int(value, name, minimum=1):
    """Return ``value`` as an int after checking it is a whole number >= ``minimum``."""
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def generator(rng, name="rng"):
    """Require an explicit ``numpy.random.Generator`` (the library never draws from global state)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); got {type(rng).__name__}."
        )
    return rng
