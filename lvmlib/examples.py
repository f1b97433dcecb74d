"""The course's running examples: small latent variable models with an exact log p(x).

Every estimator in the course (enumeration, grids, Monte Carlo, importance sampling, ELBO, IWAE) is checked
against the same truths defined here.

Shapes (one axis order everywhere):

- discrete model: ``x`` is (n_data, d_x); tables over z are (n_data, K).
- continuous models: ``x`` is (n_data, d_x) (a 1-D array is accepted when d_x = 1), ``z`` is
  (..., n_data, d_z) with any leading sample axes, and log-densities come back as (..., n_data).
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from lvmlib import _checks
from lvmlib.distributions import cholesky, log_mvn, log_normal_diag
from lvmlib.logspace import log_trapezoid, logsumexp, normalize_log

__all__ = [
    "DiscreteMixture",
    "three_cluster_mixture",
    "ContinuousLVM",
    "NonlinearModel1D",
    "LinearGaussian",
    "SigmoidDLVM",
    "BinaryLatentModel",
]


# ---------------------------------------------------------------------------------------------------------------
# (a) discrete z: a Gaussian mixture, exact by enumeration
# ---------------------------------------------------------------------------------------------------------------
class DiscreteMixture:
    """z ~ Categorical(weights), x | z = k ~ N(means[k], covs[k]).

    Parameters
    ----------
    weights : array (K,), non-negative, summing to one.
    means : array (K, d).
    covs : array (K, d, d), symmetric positive definite.
    labels : names of the K latent values (default "0", "1", ...).
    """

    def __init__(self, weights, means, covs, labels=None):
        self.weights = _checks.probabilities(weights, "weights")
        self.means = _checks.as_float_array(means, "means", ndim=2)
        self.covs = _checks.as_float_array(covs, "covs", ndim=3)
        K, d = self.means.shape
        if self.weights.shape != (K,) or self.covs.shape != (K, d, d):
            raise ValueError(
                f"weights, means and covs disagree: weights {self.weights.shape}, means {self.means.shape}, "
                f"covs {self.covs.shape}; expected (K,), (K, d), (K, d, d)."
            )
        self.chols = np.stack([cholesky(c, f"covs[{k}]") for k, c in enumerate(self.covs)])
        self.labels = tuple(labels) if labels is not None else tuple(str(k) for k in range(K))
        if len(self.labels) != K:
            raise ValueError(f"labels must name all {K} components, got {len(self.labels)}.")

    @property
    def n_components(self):
        return self.means.shape[0]

    @property
    def dim(self):
        return self.means.shape[1]

    def _as_x(self, x):
        x = _checks.as_float_array(x, "x")
        x = x.reshape(1, -1) if x.ndim == 1 else x
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n_data, {self.dim}), got {x.shape}.")
        return x

    def log_p_z(self):
        """log p(z = k), shape (K,)."""
        with np.errstate(divide="ignore"):
            return np.log(self.weights)

    def log_p_x_given_z(self, x):
        """log p(x | z = k) for every data point and component, shape (n_data, K)."""
        x = self._as_x(x)
        return np.stack([log_mvn(x, m, L) for m, L in zip(self.means, self.chols, strict=True)], axis=1)

    def log_p_xz(self, x):
        """log p(x, z = k) = log p(z = k) + log p(x | z = k), shape (n_data, K)."""
        return self.log_p_x_given_z(x) + self.log_p_z()

    def log_p_x(self, x):
        """Exact log p(x) = logsumexp_k log p(x, z = k), shape (n_data,)."""
        return logsumexp(self.log_p_xz(x), axis=1)

    def log_posterior(self, x):
        """log p(z = k | x), shape (n_data, K); each row's exp sums to one."""
        return normalize_log(self.log_p_xz(x), axis=1)

    def posterior(self, x):
        """p(z = k | x) (the responsibilities), shape (n_data, K)."""
        return np.exp(self.log_posterior(x))

    def sample(self, n, rng):
        """Ancestral sampling: z ~ p(z), then x ~ p(x | z). Returns z (n,) ints and x (n, d)."""
        n = _checks.positive_int(n, "n")
        rng = _checks.generator(rng)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        eps = rng.standard_normal((n, self.dim))
        x = self.means[z] + np.einsum("nij,nj->ni", self.chols[z], eps)
        return z, x


def three_cluster_mixture():
    """The lectures' three-component example: z in {A, B, C} with equal weights, x in R^2."""
    means = np.array([[-2.0, 0.0], [2.0, 0.5], [0.0, 2.5]])
    covs = np.array(
        [
            [[0.6, 0.2], [0.2, 0.4]],
            [[0.5, -0.2], [-0.2, 0.6]],
            [[0.3, 0.0], [0.0, 0.8]],
        ]
    )
    return DiscreteMixture(np.full(3, 1 / 3), means, covs, labels=("A", "B", "C"))


# ---------------------------------------------------------------------------------------------------------------
# continuous z: shared logic
# ---------------------------------------------------------------------------------------------------------------
class ContinuousLVM:
    """Base for models with z ~ N(0, I_{d_z}) and a Gaussian p(x | z). Subclasses define the decoder."""

    d_z: int
    d_x: int

    def _as_x(self, x):
        x = _checks.as_float_array(x, "x")
        if x.ndim == 1 and self.d_x == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.d_x:
            raise ValueError(f"x must have shape (n_data, {self.d_x}), got {x.shape}.")
        return x

    def _as_z(self, z):
        z = _checks.as_float_array(z, "z")
        if z.ndim < 1 or z.shape[-1] != self.d_z:
            raise ValueError(f"z must have shape (..., n_data, {self.d_z}) (last axis d_z), got {z.shape}.")
        return z

    def log_p_z(self, z):
        """log N(z; 0, I), shape (...) for z of shape (..., d_z)."""
        z = self._as_z(z)
        return log_normal_diag(z, 0.0, 1.0)

    def log_p_x_given_z(self, x, z):
        """log p(x | z) for x (n_data, d_x) and z (..., n_data, d_z); returns (..., n_data)."""
        x, z = self._as_x(x), self._as_z(z)
        with np.errstate(over="ignore", invalid="ignore"):
            mu, sigma = self.decode(z)
        if not np.all(np.isfinite(mu)):
            raise ValueError(f"z holds values too large for this model (|z| up to {np.abs(z).max():.3g}): the mean "
                             "of p(x|z) overflows; keep z, and the q or grid it comes from, within a sane range.")
        return log_normal_diag(x, mu, sigma)

    def log_p_xz(self, x, z):
        """log p(x, z) = log p(z) + log p(x | z); returns (..., n_data)."""
        return self.log_p_z(z) + self.log_p_x_given_z(x, z)

    def log_posterior(self, x, z):
        """log p(z | x) = log p(x, z) - log p(x); returns (..., n_data)."""
        return self.log_p_xz(x, z) - self.log_p_x(x)

    def sample(self, n, rng):
        """Ancestral sampling. Returns z of shape (n, d_z) and x of shape (n, d_x)."""
        n = _checks.positive_int(n, "n")
        rng = _checks.generator(rng)
        z = rng.standard_normal((n, self.d_z))
        mu, sigma = self.decode(z)
        x = mu + sigma * rng.standard_normal((n, self.d_x))
        return z, x


# ---------------------------------------------------------------------------------------------------------------
# (b) 1-D nonlinear model, exact by quadrature; bimodal posterior for x above the parabola's bottom
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class NonlinearModel1D(ContinuousLVM):
    """z ~ N(0, 1), x | z ~ N(z^2 + b z, sigma_x^2).

    Two values of z explain the same x (the two roots of z^2 + b z = x), so for x well above the parabola's
    minimum the posterior has two modes; the prior makes the one nearer zero heavier. For x below the minimum
    it has one mode. log p(x) is computed by the trapezoid rule on ``grid`` (exact to ~1e-12 on the defaults)
    whenever the posterior of every x lies well inside it and is resolved by its spacing. For other x (e.g. x = 130,
    whose modes sit near z = +-11.4) the grid follows x: it is widened to cover the modes and refined to a quarter
    of their width (:meth:`quadrature_grid`), and a call needing more than ``max_grid_points`` points is refused.

    b : |b| <= 100. sigma_x : in [1e-3, 1e3]. grid : increasing 1-D array (the base grid).
    """

    b: float = 0.3
    sigma_x: float = 0.5
    grid: np.ndarray = field(default_factory=lambda: np.linspace(-10.0, 10.0, 4001))
    d_z: int = 1
    d_x: int = 1
    max_grid_points = 400_001

    def __post_init__(self):
        # bounded so that the modes' positions and widths (and so the quadrature) stay representable
        self.b = _checks.in_range(self.b, "b", -100.0, 100.0)
        self.sigma_x = _checks.in_range(self.sigma_x, "sigma_x", 1e-3, 1e3)
        self.grid = _checks.as_float_array(self.grid, "grid", ndim=1)
        if self.grid.size < 2 or np.any(np.diff(self.grid) <= 0):
            raise ValueError("grid must be a strictly increasing 1-D array of at least 2 points.")

    def decode(self, z):
        """Mean and standard deviation of p(x | z): (z^2 + b z, sigma_x), each shaped like z (float)."""
        z = np.asarray(z, dtype=float)  # an integer z would otherwise give an integer (zero) sigma
        return z**2 + self.b * z, np.full(z.shape, self.sigma_x)

    def quadrature_grid(self, x):
        """The grid log p(x) is integrated on: ``grid`` itself when it covers and resolves the posterior of every x.

        Otherwise a uniform grid covering ``grid`` and, for each x, 8 local standard deviations (plus 0.5) on
        either side of each posterior mode (the real roots of z^2 + b z = x whose prior weight is within 50 nats of
        the best root, or the parabola's vertex when there is none), with a spacing of at most a quarter of the
        narrowest mode's width. Raises ValueError naming x when that needs more than ``max_grid_points`` points.
        """
        x = self._as_x(x)[:, 0]
        if x.size == 0:
            return self.grid
        b, s2 = self.b, self.sigma_x**2
        disc = b**2 + 4 * x
        root = np.sqrt(np.clip(disc, 0, None))
        centres = np.stack([(-b - root) / 2, (-b + root) / 2])  # (2, n_data); both at the vertex when disc <= 0
        prior = 0.5 * centres**2
        keep = prior <= prior.min(axis=0) + 50.0
        curvature = ((2 * centres + b) ** 2 + 2 * (centres**2 + b * centres - x)) / s2 + 1.0
        sd = 1.0 / np.sqrt(np.clip(curvature, 1.0, None))  # Laplace width of each mode, at most the prior's
        lo = min(self.grid[0], float(np.min(np.where(keep, centres - 8 * sd - 0.5, np.inf))))
        hi = max(self.grid[-1], float(np.max(np.where(keep, centres + 8 * sd + 0.5, -np.inf))))
        step = min(float(np.diff(self.grid).max()), float(np.min(np.where(keep, sd, np.inf))) / 4)
        if lo >= self.grid[0] and hi <= self.grid[-1] and step >= np.diff(self.grid).max():
            return self.grid
        m = int(np.ceil((hi - lo) / step)) + 1
        if m > self.max_grid_points:
            raise ValueError(f"x up to {x.max():.4g} (with b = {self.b:g}, sigma_x = {self.sigma_x:g}) needs a "
                             f"quadrature grid of {m:.3g} points on [{lo:.4g}, {hi:.4g}], more than max_grid_points "
                             f"= {self.max_grid_points}; pass x nearer the parabola (or fewer, less spread x).")
        return np.linspace(lo, hi, m)

    def log_p_xz_on_grid(self, x, grid=None):
        """log p(x, z) for every data point and grid value of z, shape (n_data, m)."""
        grid = self.grid if grid is None else _checks.as_float_array(grid, "grid", ndim=1)
        z = np.broadcast_to(grid[:, None, None], (grid.size, self._as_x(x).shape[0], 1))
        return self.log_p_xz(x, z).T

    def log_p_x(self, x):
        """log p(x) = log of the integral of p(x, z) over z, by the log-trapezoid rule; shape (n_data,).

        Integrated on :meth:`quadrature_grid` (the base ``grid`` unless x's posterior lies outside it or is
        narrower than its spacing); the integrand is checked to vanish at both ends and to be resolved.
        """
        grid = self.quadrature_grid(x)
        log_f = self.log_p_xz_on_grid(x, grid)  # (n_data, m)
        peak = log_f.max(axis=1, keepdims=True)
        ends_small = np.all(log_f[:, [0, -1]] < peak - 30)
        steps = np.abs(np.diff(log_f, axis=1))
        mass = np.maximum(log_f[:, 1:], log_f[:, :-1]) > peak - 25
        if not ends_small or np.any(np.where(mass, steps, 0.0) > 3.0):
            raise ValueError(f"the quadrature grid does not cover or resolve p(z | x) for some x (b = {self.b:g}, "
                             f"sigma_x = {self.sigma_x:g}); pass a wider or finer grid.")
        return log_trapezoid(log_f, grid)

    def posterior_on_grid(self, x, grid=None):
        """Posterior density p(z | x) on a grid: returns (grid (m,), density (n_data, m))."""
        grid = self.grid if grid is None else _checks.as_float_array(grid, "grid", ndim=1)
        log_joint = self.log_p_xz_on_grid(x, grid)
        return grid, np.exp(log_joint - self.log_p_x(x)[:, None])


# ---------------------------------------------------------------------------------------------------------------
# (c) linear-Gaussian model (probabilistic PCA), closed forms
# ---------------------------------------------------------------------------------------------------------------
class LinearGaussian(ContinuousLVM):
    """z ~ N(0, I_{d_z}), x | z ~ N(W z + b, sigma_x^2 I_{d_x}) (probabilistic PCA).

    Parameters
    ----------
    W : array (d_x, d_z).
    b : array (d_x,).
    sigma_x : observation noise standard deviation, > 0.

    Closed forms: p(x) = N(b, W W^T + sigma_x^2 I); p(z | x) = N(M^{-1} W^T (x - b), sigma_x^2 M^{-1}) with
    M = W^T W + sigma_x^2 I.
    """

    def __init__(self, W=((1.5,),), b=(0.0,), sigma_x=0.8):
        self.W = _checks.as_float_array(W, "W", ndim=2)
        self.d_x, self.d_z = self.W.shape
        self.b = _checks.as_float_array(b, "b", ndim=1)
        if self.b.shape != (self.d_x,):
            raise ValueError(f"b must have shape ({self.d_x},) to match W {self.W.shape}, got {self.b.shape}.")
        self.sigma_x = float(_checks.positive(_checks.finite_scalar(sigma_x, "sigma_x"), "sigma_x"))

    def decode(self, z):
        """Mean W z + b (shape (..., d_x)) and standard deviation sigma_x (broadcastable)."""
        return z @ self.W.T + self.b, np.full(self.d_x, self.sigma_x)

    def marginal_cov(self):
        """Covariance of p(x): W W^T + sigma_x^2 I, shape (d_x, d_x)."""
        return self.W @ self.W.T + self.sigma_x**2 * np.eye(self.d_x)

    def log_p_x(self, x):
        """Exact log p(x) = log N(x; b, W W^T + sigma_x^2 I), shape (n_data,)."""
        return log_mvn(self._as_x(x), self.b, cholesky(self.marginal_cov()))

    def posterior(self, x):
        """Exact posterior p(z | x): mean (n_data, d_z) and covariance (d_z, d_z) (the same for every x)."""
        x = self._as_x(x)
        M = self.W.T @ self.W + self.sigma_x**2 * np.eye(self.d_z)
        L = cholesky(M, "W^T W + sigma_x^2 I")
        mean = np.linalg.solve(M, self.W.T @ (x - self.b).T).T
        cov = self.sigma_x**2 * np.linalg.solve(L.T, np.linalg.solve(L, np.eye(self.d_z)))
        return mean, cov


# ---------------------------------------------------------------------------------------------------------------
# the lecture's small deep latent variable model: a mixture of infinitely many Gaussians
# ---------------------------------------------------------------------------------------------------------------
class SigmoidDLVM(ContinuousLVM):
    """z ~ N(0, 1), x | z ~ N(mu(z), Sigma(z)) with x in R^2 and

    mu(z) = sigmoid(A z + c),  Sigma(z) = var_scale * diag(exp(log_var_range * sigmoid(B z + d))).

    With ``var_scale = log_var_range = 1`` this is exactly the lecture's model; its variances then lie in (1, e)
    while the means stay inside the unit square, so a smaller ``var_scale`` makes the shape of p(x) visible, and a
    larger ``log_var_range`` lets B and d change a standard deviation by more than the factor sqrt(e).

    Parameters
    ----------
    A, B, c, d : arrays of shape (2,) (one latent dimension, two observed dimensions).
    var_scale : positive factor on the variances.
    log_var_range : finite number >= 0, the span of the log-variances (1: the lecture's model).
    """

    d_z = 1
    d_x = 2
    grid = np.linspace(-7.0, 7.0, 701)

    def __init__(self, A, B, c, d, var_scale=1.0, log_var_range=1.0):
        self.A, self.B, self.c, self.d = (
            _checks.as_float_array(v, name, ndim=1) for v, name in ((A, "A"), (B, "B"), (c, "c"), (d, "d"))
        )
        for v, name in ((self.A, "A"), (self.B, "B"), (self.c, "c"), (self.d, "d")):
            if v.shape != (2,):
                raise ValueError(f"{name} must have shape (2,), got {v.shape}.")
        self.var_scale = float(_checks.positive(_checks.finite_scalar(var_scale, "var_scale"), "var_scale"))
        self.log_var_range = float(_checks.finite_scalar(log_var_range, "log_var_range"))
        if self.log_var_range < 0:
            raise ValueError(f"log_var_range must be a finite number >= 0, got {log_var_range}.")

    def decode(self, z):
        """Mean and standard deviation of p(x | z), each of shape (..., 2), for z of shape (..., 1)."""
        mu = expit(z * self.A + self.c)
        sigma = np.sqrt(self.var_scale * np.exp(self.log_var_range * expit(z * self.B + self.d)))
        return mu, sigma

    def sd_bounds(self):
        """(smallest, largest) standard deviation any setting of B and d can give (approached as sigmoid -> 0, 1)."""
        return np.sqrt(self.var_scale), np.sqrt(self.var_scale * np.exp(self.log_var_range))

    def log_p_x(self, x):
        """log p(x) by the trapezoid rule over z on ``grid``; shape (n_data,)."""
        x = self._as_x(x)
        z = self.grid[:, None, None]  # (m, 1, 1) broadcasts against (n_data, 2)
        log_joint = self.log_p_z(z) + log_normal_diag(x, *self.decode(z))  # (m, n_data)
        return log_trapezoid(log_joint.T, self.grid)


# ---------------------------------------------------------------------------------------------------------------
# d binary latent variables: exact by enumerating all 2^d configurations
# ---------------------------------------------------------------------------------------------------------------
class BinaryLatentModel:
    """z in {0, 1}^d with independent p(z_j = 1) = prior_p[j]; x | z ~ N(W z + b, sigma_x^2 I_{d_x}).

    The exact log p(x) sums all 2^d terms log p(x, z) with logsumexp, in chunks so memory stays bounded.

    Parameters
    ----------
    W : array (d_x, d). b : array (d_x,). prior_p : array (d,) with entries in (0, 1). sigma_x > 0.
    """

    max_d = 30

    def __init__(self, W, b, prior_p, sigma_x=1.0):
        self.W = _checks.as_float_array(W, "W", ndim=2)
        self.d_x, self.d = self.W.shape
        self.b = _checks.as_float_array(b, "b", ndim=1)
        self.prior_p = _checks.as_float_array(prior_p, "prior_p", ndim=1)
        if self.b.shape != (self.d_x,) or self.prior_p.shape != (self.d,):
            raise ValueError(f"b must have shape ({self.d_x},) and prior_p ({self.d},); "
                             f"got {self.b.shape} and {self.prior_p.shape}.")
        if np.any((self.prior_p <= 0) | (self.prior_p >= 1)):
            raise ValueError("prior_p must lie strictly between 0 and 1.")
        self.sigma_x = float(_checks.positive(sigma_x, "sigma_x"))

    @classmethod
    def random(cls, d, d_x, rng, sigma_x=1.0):
        """A model with W ~ N(0, 1), b = 0 and prior_p ~ Uniform(0.2, 0.8), drawn from ``rng``."""
        rng = _checks.generator(rng)
        d = _checks.positive_int(d, "d", maximum=10_000)
        d_x = _checks.positive_int(d_x, "d_x", maximum=10_000)
        return cls(rng.standard_normal((d_x, d)), np.zeros(d_x), rng.uniform(0.2, 0.8, d), sigma_x)

    def configurations(self, start=0, stop=None):
        """Binary configurations number start..stop-1 of all 2^d, as an array of shape (stop - start, d)."""
        start = _checks.positive_int(start, "start", minimum=0, maximum=2**self.d)
        stop = 2**self.d if stop is None else _checks.positive_int(stop, "stop", minimum=start, maximum=2**self.d)
        codes = np.arange(start, stop, dtype=np.int64)
        return ((codes[:, None] >> np.arange(self.d)) & 1).astype(float)

    def log_p_z(self, z):
        """log p(z) = sum_j z_j log p_j + (1 - z_j) log(1 - p_j) for z of shape (..., d); returns (...)."""
        return z @ np.log(self.prior_p) + (1 - z) @ np.log1p(-self.prior_p)

    def _as_x(self, x):
        x = _checks.as_float_array(x, "x", ndim=2)
        if x.shape[1] != self.d_x:
            raise ValueError(f"x must have shape (n_data, {self.d_x}) to match W {self.W.shape}, got {x.shape}.")
        return x

    def log_p_x_given_z(self, x, z):
        """log N(x; W z + b, sigma_x^2 I) for x (n_data, d_x) and z (..., n_data or 1, d); returns (..., n_data)."""
        return log_normal_diag(self._as_x(x), z @ self.W.T + self.b, self.sigma_x)

    def log_p_xz(self, x, z):
        """log p(x, z) = log p(z) + log p(x | z); returns (..., n_data)."""
        return self.log_p_z(z) + self.log_p_x_given_z(x, z)

    def log_p_x(self, x, chunk=2**14):
        """Exact log p(x) by enumerating all 2^d values of z, shape (n_data,)."""
        if self.d > self.max_d:
            raise ValueError(f"d = {self.d} means 2^{self.d} terms; enumeration is limited to d <= {self.max_d}.")
        x = self._as_x(x)
        chunk = _checks.positive_int(chunk, "chunk", maximum=2**24)
        parts = []
        for start in range(0, 2**self.d, chunk):
            z = self.configurations(start, min(start + chunk, 2**self.d))[:, None, :]  # (c, 1, d)
            parts.append(logsumexp(self.log_p_xz(x, z), axis=0))
        return logsumexp(np.stack(parts), axis=0)

    def sample(self, n, rng):
        """Ancestral sampling: z (n, d) of 0/1 floats and x (n, d_x)."""
        n = _checks.positive_int(n, "n")
        rng = _checks.generator(rng)
        z = (rng.random((n, self.d)) < self.prior_p).astype(float)
        x = z @ self.W.T + self.b + self.sigma_x * rng.standard_normal((n, self.d_x))
        return z, x
