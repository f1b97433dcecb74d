"""Input validation shared by the library: each check raises an error naming the parameter and the fix.

Wrong kinds of value (a string, None, a complex number, an arbitrary object) raise :class:`InputTypeError`, a
TypeError that is also a ValueError (as numpy's ``AxisError`` is both a ValueError and an IndexError), so callers
may catch either. Wrong values of the right kind (NaN, a negative scale, a count out of range, shapes that
disagree) raise ValueError. Every message starts with the parameter's name.
"""

import numbers
import operator

import numpy as np

MAX_COUNT = 10**7  # the default upper bound on counts (sample sizes, iterations): larger ones are refused at once


class InputTypeError(TypeError, ValueError):
    """A parameter of the wrong kind (text, None, complex, an object): both a TypeError and a ValueError."""


def _describe(value):
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def as_numeric(value, name):
    """``np.asarray(value)`` for numbers, sequences and arrays (torch tensors are detached), else InputTypeError."""
    if value is None or isinstance(value, (str, bytes)):
        raise InputTypeError(f"{name} must be a number or an array of numbers, got {_describe(value)}.")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor (torch itself is never imported here)
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists, objects numpy cannot read
        raise InputTypeError(f"{name} must be a number or a rectangular array of numbers, got {_describe(value)} "
                             f"({exc}).") from None
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise InputTypeError(f"{name} must contain only numbers, got {_describe(value)}.") from None
    if arr.dtype.kind == "c":
        raise InputTypeError(f"{name} must be real, got complex values; pass np.real({name}) if the imaginary part "
                             "is meant to be dropped.")
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(f"{name} must contain numbers, got dtype {arr.dtype} ({_describe(value)}).")
    return arr


def as_float_array(value, name, ndim=None, allow_neg_inf=False):
    """Return ``value`` as a float array, rejecting non-numbers, NaN/inf and (optionally) a wrong number of dims.

    ``allow_neg_inf=True`` lets -inf through (a log-probability of an impossible value); NaN and +inf never pass.
    """
    arr = as_numeric(value, name).astype(float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}; reshape it first.")
    bad = np.isnan(arr) | (arr == np.inf) if allow_neg_inf else ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first.")
    return arr


def finite_scalar(value, name):
    """Return ``value`` as a finite Python float (a 0-d array or a size-1 array also passes)."""
    arr = as_float_array(value, name)
    if arr.size != 1:
        raise ValueError(f"{name} must be a single number, got shape {arr.shape}.")
    return float(arr.reshape(()))


def positive(value, name):
    """Return ``value`` as a float array after checking every entry is finite and > 0."""
    arr = as_float_array(value, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got minimum {arr.min():.4g}; pass a positive value.")
    return arr


def in_range(value, name, lo, hi):
    """Return the finite number ``value`` after checking lo <= value <= hi (nothing is clamped silently)."""
    number = finite_scalar(value, name)
    if not lo <= number <= hi:
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got {number:g}; pick a value inside that range.")
    return number


def tolerance(value, name, allow_zero=True):
    """A convergence tolerance: a finite number >= 0 (or > 0 with ``allow_zero=False``)."""
    number = finite_scalar(value, name)
    if number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound} (e.g. 1e-6), got {number:g}.")
    return number


def probabilities(value, name, axis=-1, atol=1e-6):
    """Return ``value`` as a probability vector (or rows of them) summing to one along ``axis``."""
    arr = as_float_array(value, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a probability vector (or rows of them), got the single number {arr}.")
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries; probabilities must be >= 0.")
    sums = arr.sum(axis=axis)
    if not np.allclose(sums, 1.0, atol=atol):
        raise ValueError(f"{name} must sum to 1 along axis {axis}, got sums {np.round(sums, 6)}; normalize it first.")
    return arr


def positive_int(value, name, minimum=1, maximum=MAX_COUNT):
    """Return ``value`` as a Python int after checking it is a whole number with minimum <= value <= maximum.

    Whole floats (``1e4``) pass; NaN, inf, 2.5, booleans, text and None do not. The upper bound keeps a count such
    as 1e300 from starting a computation that would never end.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(f"{name} must be a whole number, got {_describe(value)}.")
    try:
        number = operator.index(value)
    except TypeError:  # a float: whole and finite?
        if not np.isfinite(value) or int(value) != value:
            raise ValueError(f"{name} must be a whole number, got {value!r}.") from None
        number = int(value)
    if number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}.")
    if maximum is not None and number > maximum:
        shown = f"{number:.3g}" if number.bit_length() < 1000 else f"an integer of {len(str(number))} digits"
        raise ValueError(f"{name} must be <= {maximum:.3g}, got {shown}: a larger count would take too long "
                         "or run out of memory.")
    return number


def choice(value, name, options):
    """Return ``value`` after checking it is one of ``options`` (strings compared exactly)."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}.")
    return value


def broadcast_shapes(name_to_shape):
    """Common broadcast shape of ``{label: shape}``; a ValueError listing every labelled shape when they disagree."""
    try:
        return np.broadcast_shapes(*name_to_shape.values())
    except ValueError:
        listed = ", ".join(f"{label} {tuple(shape)}" for label, shape in name_to_shape.items())
        raise ValueError(f"shapes disagree: {listed}; they must broadcast to one shape (see the docstring).") from None


def chol(value, name, d=None):
    """A lower Cholesky factor: a finite square (..., d, d) array, zero above the diagonal, diagonal > 0.

    A covariance passed by mistake is caught when it has off-diagonal entries (they sit above the diagonal too)
    or a non-positive diagonal; a diagonal covariance cannot be told from a factor, so docstrings say which one
    a function takes.
    """
    arr = as_float_array(value, name)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2] or (d is not None and arr.shape[-1] != d):
        want = f"({d}, {d})" if d is not None else "(..., d, d)"
        raise ValueError(f"{name} must be square with shape {want}, got {arr.shape}.")
    upper = np.triu(arr, k=1)
    if np.any(upper != 0):
        raise ValueError(f"{name} must be lower-triangular (a Cholesky factor L with cov = L L^T) but has non-zero "
                         "entries above the diagonal: was a covariance passed? Use distributions.cholesky(cov).")
    diag = np.diagonal(arr, axis1=-2, axis2=-1)
    if np.any(diag <= 0):
        raise ValueError(f"{name} must have a positive diagonal (a Cholesky factor), got minimum {diag.min():.4g}; "
                         "use distributions.cholesky(cov).")
    return arr


def model(value, name="model", needs=("d_z", "log_p_xz")):
    """Require an object with the attributes ``needs`` (a latent variable model of lvmlib.examples, or your own)."""
    missing = [attr for attr in needs if not hasattr(value, attr)]
    if missing:
        raise InputTypeError(f"{name} must be a latent variable model with {', '.join(needs)} (e.g. "
                             f"lvmlib.examples.NonlinearModel1D()), got {_describe(value)}.")
    return value


def seed(value, name="seed"):
    """A seed for ``np.random.default_rng``: a whole number in [0, 2^63), or a Generator (returned as is)."""
    if isinstance(value, np.random.Generator):
        return value
    return positive_int(value, name, minimum=0, maximum=2**63 - 1)


def generator(rng, name="rng"):
    """Require an explicit ``numpy.random.Generator`` (the library never draws from global state)."""
    if not isinstance(rng, np.random.Generator):
        raise InputTypeError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); got {type(rng).__name__}."
        )
    return rng
