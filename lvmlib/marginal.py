"""The marginal likelihood p(x) = sum_z p(x, z) (or the integral over z) computed exactly, and what that costs.

Chapter 03 measures three exact routes and shows where each one stops:

- enumeration of discrete z: :func:`time_enumeration` times ``BinaryLatentModel.log_p_x`` for growing d,
  :func:`fit_growth` fits log2(seconds) = a + b d and :class:`GrowthFit` extrapolates it (e.g. to d = 30);
- grid quadrature of continuous z: :func:`grid_1d`, :func:`log_p_x_grid_1d` and :func:`log_p_x_grid`
  (a tensor-product trapezoid rule with m points per axis, m^d_z points in all), which refuse grids below
  2 points or above ``max_points`` before allocating anything;
- the posterior and the gradient identity grad_theta log p(x) = E_{p(z|x)}[grad_theta log p(x, z)]:
  :func:`log_posterior_enumeration`, :func:`grad_log_p_x_W` and :func:`finite_difference_grad`.

The chapter's explorer (a 1-D grid quadrature of log p(x), with its 2-D cost) lives in
:mod:`lvmlib.widgets.grid_explorer`; the Laplace approximation and adaptive Gauss-Hermite quadrature, which
approximate log p(x) from the posterior's mode and curvature, live in :mod:`lvmlib.laplace`.

Shapes: ``x`` is (n_data, d_x); grids over z are (m,) per axis; log-densities come back as (n_data,).
"""

import time
from dataclasses import dataclass

import numpy as np

from lvmlib import _checks
from lvmlib.examples import BinaryLatentModel
from lvmlib.logspace import log_trapezoid, logsumexp, normalize_log

SECONDS_PER_YEAR = 365.25 * 24 * 3600
MAX_ENUMERATION_D = 24  # 2^24 ~ 1.7e7 configurations: the largest table this module builds in one go
MAX_TABLE_ENTRIES = 2**29  # floats in one posterior-by-enumeration intermediate (4.3 GB; d = 24 with a few points)
MAX_GRID_POINTS = 2_000_000  # grid points x data points allowed in one quadrature call (~16 MB per float array)


# ---------------------------------------------------------------------------------------------------------------
# enumeration: timing and the growth curve
# ---------------------------------------------------------------------------------------------------------------
def time_enumeration(ds, d_x, rng, n_data=1, repeats=1, repeat_below=np.inf, progress=True):
    """Wall time of the exact ``BinaryLatentModel.log_p_x`` (a sum of 2^d terms) for each d in ``ds``.

    For each d a random model ``BinaryLatentModel.random(d, d_x, rng)`` and ``n_data`` samples from it are drawn;
    the best of ``repeats`` timings is kept. Only a d whose first timing is below ``repeat_below`` seconds is timed
    again: short timings are the ones a busy machine distorts most, and repeating them is cheap. The first model
    is evaluated once untimed, so one-time start-up costs (thread pools, caches) do not inflate the smallest d.

    Returns
    -------
    seconds : array of shape (len(ds),), seconds for one call on ``n_data`` points.
    log_p_x : list of arrays of shape (n_data,), the values computed (so the work cannot be skipped).
    """
    rng = _checks.generator(rng)
    ds = [_checks.positive_int(d, "ds entries") for d in ds]
    if not ds:
        raise ValueError("ds is empty; pass the latent sizes to time, e.g. ds = range(4, 21).")
    if max(ds) > BinaryLatentModel.max_d:
        raise ValueError(f"ds goes up to d = {max(ds)}, but enumeration is limited to d <= "
                         f"{BinaryLatentModel.max_d}; extrapolate with fit_growth instead.")
    repeats = _checks.positive_int(repeats, "repeats", maximum=1000)
    n_data = _checks.positive_int(n_data, "n_data", maximum=100_000)
    d_x = _checks.positive_int(d_x, "d_x")
    seconds, values = [], []
    iterator = ds
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(ds, desc="enumerating 2^d terms")
    for d in iterator:
        model = BinaryLatentModel.random(d, d_x, rng)
        _, x = model.sample(n_data, rng)
        if not seconds:
            model.log_p_x(x)  # warm-up, untimed
        best = np.inf
        for i in range(repeats):
            if i > 0 and best >= repeat_below:
                break
            start = time.perf_counter()
            value = model.log_p_x(x)
            best = min(best, time.perf_counter() - start)
        seconds.append(best)
        values.append(value)
    return np.array(seconds), values


@dataclass
class GrowthFit:
    """log2(seconds) = intercept + slope * d: time doubles every 1 / slope extra latent variables."""

    intercept: float
    slope: float

    def seconds(self, d):
        """Predicted seconds at d (scalar or array)."""
        return 2.0 ** (self.intercept + self.slope * np.asarray(d, dtype=float))

    @property
    def factor_per_d(self):
        """Multiplicative growth of the time per extra binary latent variable (2 for a pure 2^d cost)."""
        return 2.0**self.slope


def fit_growth(ds, seconds, min_seconds=1e-3):
    """Least-squares fit of log2(seconds) = a + b d on the timings above ``min_seconds``.

    Small d are dominated by fixed overheads (Python calls), so they are left out of the fit.

    Parameters
    ----------
    ds : array (n,) of d values. seconds : array (n,) of positive timings.
    min_seconds : timings below this are ignored; at least two must remain.
    """
    ds = _checks.as_float_array(ds, "ds", ndim=1)
    seconds = _checks.positive(seconds, "seconds")
    if seconds.shape != ds.shape:
        raise ValueError(f"ds and seconds must have the same shape, got {ds.shape} and {seconds.shape}.")
    keep = seconds >= min_seconds
    if keep.sum() < 2:
        raise ValueError(f"only {keep.sum()} timing(s) are >= min_seconds = {min_seconds}; "
                         "time larger d or lower min_seconds.")
    slope, intercept = np.polyfit(ds[keep], np.log2(seconds[keep]), 1)
    return GrowthFit(float(intercept), float(slope))


def seconds_to_years(seconds):
    """Convert seconds to years of 365.25 days."""
    return _checks.as_float_array(seconds, "seconds") / SECONDS_PER_YEAR


def enumeration_size(d, n_data=1):
    """Number of log p(x, z) terms of an exact sum over z in {0,1}^d for ``n_data`` points (a Python int).

    d : 1 <= d <= 100_000 (2^d then has ~30,000 digits). n_data : 1 <= n_data <= 1e7.
    """
    d = _checks.positive_int(d, "d", maximum=100_000)
    return (2**d) * _checks.positive_int(n_data, "n_data")


# ---------------------------------------------------------------------------------------------------------------
# the posterior and the gradient identity (binary latents, by enumeration)
# ---------------------------------------------------------------------------------------------------------------
def _check_enumerable(model, n_data):
    """Refuse a posterior table of 2^d x n_data entries that would not fit in memory, before building it."""
    if not isinstance(model, BinaryLatentModel):
        raise _checks.InputTypeError(f"model must be a BinaryLatentModel, got {type(model).__name__}.")
    if model.d > MAX_ENUMERATION_D:
        raise ValueError(f"model.d = {model.d} means a table of 2^{model.d} = {2**model.d:.3e} configurations; "
                         f"this module enumerates up to d = {MAX_ENUMERATION_D}. Use a smaller model.")
    entries = 2**model.d * max(model.d, n_data * model.d_x)  # z (2^d, d) and the residuals (2^d, n_data, d_x)
    if entries > MAX_TABLE_ENTRIES:
        raise ValueError(f"{n_data} data point(s) x 2^{model.d} configurations need {entries:.3e} floats, more than "
                         f"MAX_TABLE_ENTRIES = {MAX_TABLE_ENTRIES:.3e}; pass fewer data points at a time.")


def log_posterior_enumeration(model, x):
    """Exact log p(z | x) = log p(x, z) - log p(x) of a ``BinaryLatentModel`` over all 2^d configurations.

    Returns
    -------
    z : array (2^d, d), the configurations (row k is the binary code of k).
    log_post : array (n_data, 2^d); each row's exp sums to one.
    """
    x = _checks.as_float_array(x, "x", ndim=2)
    _check_enumerable(model, x.shape[0])
    z = model.configurations()
    return z, normalize_log(model.log_p_xz(x, z[:, None, :]).T, axis=1)


def grad_log_p_x_W(model, x):
    """grad_W sum_n log p(x_n) of a ``BinaryLatentModel`` by the identity E_{p(z|x)}[grad_W log p(x, z)].

    With log p(x, z) = log p(z) + log N(x; W z + b, sigma_x^2 I), grad_W log p(x, z) = (x - W z - b) z^T / sigma_x^2,
    so the gradient is sum_n sum_z p(z | x_n) (x_n - W z - b) z^T / sigma_x^2. Returns shape (d_x, d).
    """
    z, log_post = log_posterior_enumeration(model, x)
    post = np.exp(log_post)  # (n_data, 2^d)
    x = np.asarray(x, dtype=float)
    e_z = post @ z  # (n_data, d): E[z]
    e_zz = np.einsum("nk,ki,kj->ij", post, z, z)  # sum_n E[z z^T]
    return ((x - model.b).T @ e_z - model.W @ e_zz) / model.sigma_x**2


def finite_difference_grad(f, theta, eps=1e-5):
    """Central finite differences of a scalar function ``f`` at the array ``theta`` (any shape, same shape out).

    Each entry costs two calls of f: (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps), error O(eps^2).
    """
    if not callable(f):
        raise _checks.InputTypeError(f"f must be a function of theta returning a number, got {type(f).__name__}.")
    theta = _checks.as_float_array(theta, "theta")
    eps = float(_checks.positive(eps, "eps"))
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


# ---------------------------------------------------------------------------------------------------------------
# grids over continuous z
# ---------------------------------------------------------------------------------------------------------------
def _check_grid(m, d_z, n_data, max_points):
    """Validate a tensor grid of m^d_z points before anything is allocated; return the number of points."""
    try:
        whole = not isinstance(m, bool) and int(m) == m
    except (TypeError, ValueError, OverflowError):  # NaN, inf, None, text
        whole = False
    if not whole or m < 2:
        raise ValueError(f"m (grid points per axis) must be a whole number >= 2 for the trapezoid rule, got {m!r}.")
    n_points = int(m) ** int(d_z)  # a Python int: never overflows
    if n_points * n_data > max_points:
        raise ValueError(
            f"a grid of m^d_z = {int(m)}^{d_z} = {n_points:.3e} points for {n_data} data point(s) exceeds "
            f"max_points = {max_points:.3e} (about {8 * n_points * n_data * max(d_z, 1) / 1e9:.3g} GB per array); "
            "use fewer points per axis, fewer data points, or raise max_points if you have the memory."
        )
    return n_points


def grid_1d(lo, hi, m):
    """m equally spaced points on [lo, hi], shape (m,); m must be >= 2 and lo < hi."""
    _check_grid(m, 1, 1, np.inf)
    m = _checks.positive_int(m, "m", minimum=2)  # at most 1e7 points
    lo, hi = _checks.finite_scalar(lo, "lo"), _checks.finite_scalar(hi, "hi")
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo = {lo}, hi = {hi}.")
    return np.linspace(lo, hi, int(m))


def log_p_x_grid_1d(model, x, lo, hi, m, max_points=MAX_GRID_POINTS):
    """log p(x) by the log-trapezoid rule on m points of [lo, hi] for a model with d_z = 1.

    ``model`` needs ``d_z`` and ``log_p_xz(x, z)`` with z of shape (..., n_data, 1). Returns shape (n_data,).
    """
    if int(model.d_z) != 1:
        raise ValueError(f"log_p_x_grid_1d needs a model with d_z = 1, got d_z = {model.d_z}; use log_p_x_grid.")
    return log_p_x_grid(model, x, lo, hi, m, max_points=max_points)


def log_p_x_grid(model, x, lo, hi, m, max_points=MAX_GRID_POINTS):
    """log p(x) by the tensor-product trapezoid rule: m points per axis on [lo, hi]^d_z, m^d_z points in all.

    The weight of a grid point is the product of the 1-D trapezoid weights of its coordinates, so
    log p(x) ~= logsumexp_g (log p(x, z_g) + log w_g). The size is checked before any allocation: m >= 2 and
    m^d_z * n_data <= ``max_points``.

    Parameters
    ----------
    model : object with ``d_z`` and ``log_p_xz(x, z)`` for z of shape (..., n_data, d_z).
    x : array (n_data, d_x) (1-D accepted when d_x = 1).
    lo, hi : grid limits on every axis. m : points per axis.

    Returns
    -------
    array of shape (n_data,).
    """
    x = _checks.as_float_array(x, "x")
    n_data = x.shape[0] if x.ndim >= 1 else 1
    d_z = int(_checks.model(model).d_z)
    _check_grid(m, d_z, n_data, max_points)
    z1 = grid_1d(lo, hi, m)
    if d_z == 1:
        z = np.broadcast_to(z1[:, None, None], (z1.size, n_data, 1))
        return log_trapezoid(model.log_p_xz(x, z).T, z1)
    log_w1 = np.log(np.full(z1.size, z1[1] - z1[0]))
    log_w1[[0, -1]] -= np.log(2.0)  # trapezoid end-point weights
    axes = np.meshgrid(*([z1] * d_z), indexing="ij")
    z = np.stack([a.ravel() for a in axes], axis=-1)  # (m^d_z, d_z)
    log_w = sum(np.meshgrid(*([log_w1] * d_z), indexing="ij")).ravel()  # (m^d_z,)
    log_joint = model.log_p_xz(x, np.broadcast_to(z[:, None, :], (z.shape[0], n_data, d_z)))
    return logsumexp(log_joint + log_w[:, None], axis=0)


def grid_points_needed(m, d_z):
    """Number of grid points m^d_z (a Python int, exact for any size). 2 <= m <= 1e7, 1 <= d_z <= 10_000."""
    m = _checks.positive_int(m, "m", minimum=2)
    return m ** _checks.positive_int(d_z, "d_z", maximum=10_000)
