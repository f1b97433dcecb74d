"""The evidence lower bound (ELBO): exact, by Monte Carlo, its two forms, the gap KL(q || p(z|x)), and L_k.

For any distribution q(z) over the latent variable,

    log p(x) = ELBO(q) + KL(q || p(z|x)),
    ELBO(q)  = E_q[log p(x, z)] + H(q)                 (joint + entropy form)
             = E_q[log p(x | z)] - KL(q || p(z))       (reconstruction - prior-KL form).

Exact computations (no sampling error):

- discrete z (``DiscreteMixture``): q is a table of probabilities and expectations are sums over z;
- a Gaussian q(z) = N(mu, sigma^2) for a model with one latent dimension (``NonlinearModel1D``): expectations by
  Gauss-Hermite quadrature, E_q[f(z)] = sum_i w_i f(mu + sigma * eps_i). The nodes eps_i play the role of the
  reparameterized noise; the rule is exact when log p(x, z) is a polynomial of degree < 2 * n_nodes in z, which
  is the case for ``NonlinearModel1D`` (degree 4) and ``LinearGaussian``;
- ``LinearGaussian`` with a diagonal Gaussian q in any dimension: closed forms.

Shapes: x is (n_data, d_x) (a 1-D array when d_x = 1); the Gaussian parameters mu, sigma are (..., n_data, d_z)
with any leading axes (e.g. a grid of q's); results are (..., n_data). Discrete q tables are (..., n_data, K).
Everything is in nats, per data point.
"""

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from lvmlib import _checks
from lvmlib.distributions import entropy_normal, kl_discrete, kl_normal, log_normal, log_normal_diag
from lvmlib.examples import DiscreteMixture, LinearGaussian
from lvmlib.logspace import log_mean_exp, logsumexp

__all__ = [
    "ELBOTerms",
    "elbo_terms_discrete",
    "elbo_discrete",
    "kl_posterior_discrete",
    "elbo_monte_carlo_discrete",
    "elbo_terms_gaussian",
    "elbo_gaussian",
    "kl_posterior_gaussian",
    "log_evidence_1d",
    "elbo_monte_carlo",
    "iwae_bound",
    "elbo_map",
    "GaussianFit",
    "fit_gaussian_q",
    "fit_gaussian_q_batch",
    "fit_gaussian_forward_kl",
    "kl_forward_gaussian",
    "em_bound_slice",
]

N_NODES = 64  # Gauss-Hermite nodes: exact for polynomial log p(x, z) of degree < 128


@dataclass
class ELBOTerms:
    """The pieces of the ELBO for one q, each of shape (..., n_data), in nats per data point.

    expected_log_p_xz : E_q[log p(x, z)].
    entropy : H(q) = -E_q[log q(z)].
    expected_log_p_x_given_z : E_q[log p(x | z)] (the "reconstruction" term).
    kl_prior : KL(q || p(z)).
    """

    expected_log_p_xz: np.ndarray
    entropy: np.ndarray
    expected_log_p_x_given_z: np.ndarray
    kl_prior: np.ndarray

    @property
    def elbo(self):
        """E_q[log p(x, z)] + H(q)."""
        return self.expected_log_p_xz + self.entropy

    @property
    def elbo_prior_form(self):
        """E_q[log p(x | z)] - KL(q || p(z)); equal to :attr:`elbo` up to rounding."""
        return self.expected_log_p_x_given_z - self.kl_prior


# ---------------------------------------------------------------------------------------------------------------
# discrete z: sums over the K latent values
# ---------------------------------------------------------------------------------------------------------------
def _check_discrete(model, q):
    if not isinstance(model, DiscreteMixture):
        raise ValueError(f"model must be a DiscreteMixture for a table q, got {type(model).__name__}.")
    q = _checks.probabilities(q, "q")
    if q.ndim == 0 or q.shape[-1] != model.n_components:
        raise ValueError(f"q must have {model.n_components} probabilities on its last axis (one per value of z), "
                         f"got shape {q.shape}.")
    return q


def _expect_table(q, table):
    """sum_z q(z) table(z) with 0 * (-inf) = 0 (a value q never visits does not count)."""
    return np.where(q > 0, q * np.where(q > 0, table, 0.0), 0.0).sum(axis=-1)


def elbo_terms_discrete(model, x, q):
    """The ELBO's terms for a DiscreteMixture and a table q(z).

    x : (n_data, d_x). q : probabilities of shape (..., n_data, K) or (K,), rows summing to one (zeros allowed).
    Returns :class:`ELBOTerms` with arrays of shape (..., n_data).
    """
    q = _check_discrete(model, q)
    log_p_x_given_z = model.log_p_x_given_z(x)  # (n_data, K)
    log_p_z = model.log_p_z()
    q = np.broadcast_to(q, np.broadcast_shapes(q.shape, log_p_x_given_z.shape))  # (..., n_data, K)
    with np.errstate(divide="ignore"):
        log_q = np.log(q)
    return ELBOTerms(
        expected_log_p_xz=_expect_table(q, log_p_x_given_z + log_p_z),
        entropy=-_expect_table(q, log_q),
        expected_log_p_x_given_z=_expect_table(q, log_p_x_given_z),
        kl_prior=kl_discrete(q, log_p_z),
    )


def elbo_discrete(model, x, q):
    """Exact ELBO(q) = sum_z q(z) [log p(x, z) - log q(z)] for a DiscreteMixture; shape (..., n_data)."""
    return elbo_terms_discrete(model, x, q).elbo


def kl_posterior_discrete(model, x, q):
    """Exact KL(q || p(z|x)) = sum_z q(z) [log q(z) - log p(z|x)]; shape (..., n_data).

    The posterior is normalized here, by enumeration (log p(z|x) = log p(x, z) - logsumexp_z log p(x, z)), not
    through ``model.log_p_x`` or ``model.log_posterior``: so ELBO + KL = log p(x) compares two independently
    computed numbers and fails if either is wrong.
    """
    q = _check_discrete(model, q)
    log_p_xz = model.log_p_xz(x)  # (n_data, K)
    return kl_discrete(q, log_p_xz - logsumexp(log_p_xz, axis=-1)[..., None])


def elbo_monte_carlo_discrete(model, x, q, n_samples, rng):
    """Monte Carlo ELBO with z_s ~ q: mean_s [log p(x, z_s) - log q(z_s)].

    q : (n_data, K) or (K,). Returns (estimate, std_error), each of shape (n_data,); std_error is the sample
    standard deviation over sqrt(n_samples), NaN for n_samples = 1 (one sample has no spread).
    """
    q = _check_discrete(model, q)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    rng = _checks.generator(rng)
    log_p_xz = model.log_p_xz(x)
    q = np.broadcast_to(q, log_p_xz.shape)
    cum = np.cumsum(q, axis=-1)
    u = rng.random((n_samples, q.shape[0], 1))
    z = np.minimum((u > cum).sum(axis=-1), q.shape[-1] - 1)  # (n_samples, n_data) inverse-CDF draws
    rows = np.arange(q.shape[0])
    with np.errstate(divide="ignore"):
        log_w = log_p_xz[rows, z] - np.log(q[rows, z])
    return _mean_and_se(log_w)


def _mean_and_se(values):
    n = values.shape[0]
    se = values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(values.shape[1:], np.nan)
    return values.mean(axis=0), se


# ---------------------------------------------------------------------------------------------------------------
# Gaussian q(z) = N(mu, diag(sigma^2)) for continuous models
# ---------------------------------------------------------------------------------------------------------------
def _prepare_gaussian(model, x, mu, sigma):
    x = _checks.model(model, needs=("d_z", "_as_x", "log_p_xz"))._as_x(x)
    mu = _checks.as_float_array(mu, "mu")
    sigma = _checks.positive(sigma, "sigma")
    shape = _checks.broadcast_shapes({"mu": mu.shape, "sigma": sigma.shape,
                                      "(n_data, d_z) of x": (x.shape[0], model.d_z)})
    _check_q_shape(shape, x.shape[0], model.d_z, mu, sigma)
    return x, np.broadcast_to(mu, shape), np.broadcast_to(sigma, shape)


def _gauss_hermite(n_nodes):
    """Nodes eps_i and weights w_i (summing to one) with sum_i w_i f(eps_i) ~ E[f(eps)], eps ~ N(0, 1)."""
    return _gauss_hermite_cached(_checks.positive_int(n_nodes, "n_nodes"))


@lru_cache(maxsize=8)
def _gauss_hermite_cached(n_nodes):
    eps, w = hermegauss(n_nodes)
    eps.flags.writeable = False
    w = w / w.sum()
    w.flags.writeable = False
    return eps, w


def _expect_1d(fn, mu, sigma, n_nodes):
    """E_q[fn(z)] for q = N(mu, sigma^2), d_z = 1, by Gauss-Hermite; fn maps (n_nodes, ..., n_data, 1) to
    (n_nodes, ..., n_data)."""
    eps, w = _gauss_hermite(n_nodes)
    z = mu + sigma * eps.reshape((-1,) + (1,) * mu.ndim)
    return np.tensordot(w, fn(z), axes=1)


def _require_exact(model):
    _checks.model(model, needs=("d_z", "_as_x", "log_p_xz"))
    if not isinstance(model, LinearGaussian) and model.d_z != 1:
        raise ValueError(f"the exact ELBO of a Gaussian q needs d_z = 1 (quadrature) or a LinearGaussian model "
                         f"(closed form), got d_z = {model.d_z}; use elbo_monte_carlo instead.")


def _linear_gaussian_terms(model, x, mu, sigma):
    """Closed forms for LinearGaussian: E_q ||x - W z - b||^2 = ||x - W mu - b||^2 + sum_ij W_ij^2 sigma_j^2."""
    resid = x - mu @ model.W.T - model.b  # (..., n_data, d_x)
    sq = (resid**2).sum(-1) + (sigma**2) @ (model.W**2).sum(0)
    expected_log_p_x_given_z = -0.5 * model.d_x * np.log(2 * np.pi * model.sigma_x**2) - 0.5 * sq / model.sigma_x**2
    expected_log_p_z = (-0.5 * np.log(2 * np.pi) - 0.5 * (mu**2 + sigma**2)).sum(-1)
    return expected_log_p_x_given_z + expected_log_p_z, expected_log_p_x_given_z


def elbo_terms_gaussian(model, x, mu, sigma, n_nodes=N_NODES):
    """The ELBO's terms for a continuous model (prior N(0, I)) and q(z) = N(mu, diag(sigma^2)), exactly.

    model : a ContinuousLVM with d_z = 1 (Gauss-Hermite quadrature) or a LinearGaussian (closed form).
    x : (n_data, d_x). mu, sigma : broadcastable to (..., n_data, d_z), sigma > 0.
    Returns :class:`ELBOTerms` of shape (..., n_data).
    """
    _require_exact(model)
    x, mu, sigma = _prepare_gaussian(model, x, mu, sigma)
    if isinstance(model, LinearGaussian):
        e_joint, e_recon = _linear_gaussian_terms(model, x, mu, sigma)
    else:
        e_joint = _expect_1d(lambda z: model.log_p_xz(x, z), mu, sigma, n_nodes)
        e_recon = _expect_1d(lambda z: model.log_p_x_given_z(x, z), mu, sigma, n_nodes)
    return ELBOTerms(
        expected_log_p_xz=e_joint,
        entropy=entropy_normal(sigma).sum(-1),
        expected_log_p_x_given_z=e_recon,
        kl_prior=kl_normal(mu, sigma, 0.0, 1.0).sum(-1),
    )


def elbo_gaussian(model, x, mu, sigma, n_nodes=N_NODES):
    """Exact ELBO of q = N(mu, diag(sigma^2)): E_q[log p(x, z)] + H(q), shape (..., n_data)."""
    return elbo_terms_gaussian(model, x, mu, sigma, n_nodes).elbo


def kl_posterior_gaussian(model, x, mu, sigma, n_nodes=N_NODES):
    """Exact KL(q || p(z|x)) for q = N(mu, diag(sigma^2)), computed from the posterior itself; (..., n_data).

    LinearGaussian: the closed-form KL between Gaussians (posterior covariance through its Cholesky factor).
    d_z = 1: E_q[log q(z) - log p(z|x)] by Gauss-Hermite, with log p(z|x) = log p(x, z) - log Z(x) and the
    normalizer Z(x) = integral of p(x, z) dz computed here by :func:`log_evidence_1d`, independently of
    ``model.log_p_x``: ELBO + KL = log p(x) then checks the model's log p(x), the entropy and the expectations
    against each other instead of holding by construction.
    """
    _require_exact(model)
    x, mu, sigma = _prepare_gaussian(model, x, mu, sigma)
    if isinstance(model, LinearGaussian):
        mean, cov = model.posterior(x)  # (n_data, d_z), (d_z, d_z)
        chol = np.linalg.cholesky(cov)
        inv_cov = np.linalg.solve(chol.T, np.linalg.solve(chol, np.eye(model.d_z)))
        diff = mean - mu
        maha = np.einsum("...i,ij,...j->...", diff, inv_cov, diff)
        trace = (sigma**2 * np.diag(inv_cov)).sum(-1)
        log_det_ratio = 2 * np.log(np.diag(chol)).sum() - 2 * np.log(sigma).sum(-1)
        return 0.5 * (trace + maha - model.d_z + log_det_ratio)
    log_z = log_evidence_1d(model, x)
    return _expect_1d(lambda z: log_normal_diag(z, mu, sigma) - (model.log_p_xz(x, z) - log_z), mu, sigma,
                      n_nodes)


Z_SCAN = 40.0  # log_evidence_1d scans z in [-Z_SCAN, Z_SCAN]: the N(0, 1) prior is below e^-800 outside it
SCAN_DEPTH = 60.0  # ... and integrates where log p(x, z) is within SCAN_DEPTH nats of its maximum


def log_evidence_1d(model, x, n_scan=4001, n_fine=4001):
    """log p(x) = log of the integral of p(x, z) over z, for a model with d_z = 1, without ``model.log_p_x``.

    A coarse grid of n_scan points over [-Z_SCAN, Z_SCAN] finds, for each data point, the interval where
    log p(x, z) is within SCAN_DEPTH nats of its maximum; the log-trapezoid rule on n_fine points spanning that
    interval (one grid per data point, so it follows the posterior wherever x puts it) gives the integral.
    x : (n_data, d_x). Returns (n_data,).
    """
    x = model._as_x(x)
    if model.d_z != 1:
        raise ValueError(f"log_evidence_1d integrates over one latent dimension, got d_z = {model.d_z}.")
    scan = np.linspace(-Z_SCAN, Z_SCAN, n_scan)
    log_joint = model.log_p_xz(x, scan[:, None, None])  # (n_scan, n_data)
    inside = log_joint > log_joint.max(axis=0) - SCAN_DEPTH
    step = scan[1] - scan[0]
    lo = np.array([scan[m].min() for m in inside.T]) - step  # (n_data,)
    hi = np.array([scan[m].max() for m in inside.T]) + step
    t = np.linspace(0.0, 1.0, n_fine)[:, None]
    z = lo + (hi - lo) * t  # (n_fine, n_data): one grid per data point
    log_f = model.log_p_xz(x, z[..., None])  # (n_fine, n_data)
    log_weights = np.log(np.r_[0.5, np.ones(n_fine - 2), 0.5])[:, None] + np.log((hi - lo) / (n_fine - 1))
    return logsumexp(log_f + log_weights, axis=0)


def _reparameterized_log_w(model, x, mu, sigma, eps):
    """z = mu + sigma * eps and log w = log p(x, z) - log q(z), shape eps.shape[:-1]."""
    z = mu + sigma * eps
    return model.log_p_xz(x, z) - log_normal_diag(z, mu, sigma)


def elbo_monte_carlo(model, x, mu, sigma, n_samples, rng, form="joint", return_z=False):
    """Monte Carlo ELBO with reparameterized samples z_s = mu + sigma * eps_s, eps_s ~ N(0, I).

    form : "joint" averages log p(x, z_s) - log q(z_s); "prior" averages log p(x | z_s) and subtracts the exact
        KL(q || p(z)) (less variance: only the reconstruction term is sampled).
    mu, sigma : broadcastable to (..., n_data, d_z). Returns (estimate, std_error), each (..., n_data), unbiased
    for the exact ELBO; std_error is NaN when n_samples = 1 (one sample has no spread). With ``return_z=True``
    also the samples z, shape (n_samples, ..., n_data, d_z).
    """
    if form not in ("joint", "prior"):
        raise ValueError(f"form must be 'joint' or 'prior', got {form!r}.")
    n_samples = _checks.positive_int(n_samples, "n_samples")
    rng = _checks.generator(rng)
    x, mu, sigma = _prepare_gaussian(model, x, mu, sigma)
    eps = rng.standard_normal((n_samples, *mu.shape))
    if form == "joint":
        values = _reparameterized_log_w(model, x, mu, sigma, eps)
    else:
        values = model.log_p_x_given_z(x, mu + sigma * eps) - kl_normal(mu, sigma, 0.0, 1.0).sum(-1)
    return (*_mean_and_se(values), mu + sigma * eps) if return_z else _mean_and_se(values)


def iwae_bound(model, x, mu, sigma, k, rng, n_repeats=200):
    """Estimate the importance-weighted bound L_k = E[log (1/k) sum_j w_j], w_j = p(x, z^(j)) / q(z^(j)) with
    z^(1..k) ~ q iid (Burda, Grosse and Salakhutdinov, ICLR 2016).

    L_1 is the ELBO; L_k <= L_{k+1} <= log p(x) for every q, and L_k -> log p(x) as k grows when q covers the
    posterior (bounded weights suffice). These hold for the expectations L_k; single estimates are noisy and need
    not be ordered. Each of ``n_repeats`` independent
    sets of k samples gives one log-mean-exp; their mean estimates L_k without bias.
    Returns (estimate, std_error), each (..., n_data).
    """
    k = _checks.positive_int(k, "k")
    n_repeats = _checks.positive_int(n_repeats, "n_repeats", minimum=2)
    rng = _checks.generator(rng)
    x, mu, sigma = _prepare_gaussian(model, x, mu, sigma)
    eps = rng.standard_normal((n_repeats, k, *mu.shape))
    log_w = _reparameterized_log_w(model, x, mu, sigma, eps)  # (n_repeats, k, ..., n_data)
    return _mean_and_se(log_mean_exp(log_w, axis=1))


def elbo_map(model, x, mu_values, log_sigma_values, n_nodes=32):
    """Exact ELBO over a grid of 1-D Gaussian q's, for contour maps.

    x : a single data point, shape (1, d_x) (or (1,) when d_x = 1). mu_values (a,), log_sigma_values (b,).
    Returns an array of shape (b, a): rows follow log sigma, columns follow mu.
    """
    x = _checks.model(model, needs=("d_z", "_as_x", "log_p_xz"))._as_x(x)
    if x.shape[0] != 1:
        raise ValueError(f"x must be one data point (shape (1, d_x)) for an ELBO map, got {x.shape}; map one "
                         f"point at a time.")
    mu_values = _checks.as_float_array(mu_values, "mu_values", ndim=1)
    log_sigma_values = _checks.as_float_array(log_sigma_values, "log_sigma_values", ndim=1)
    mu = np.broadcast_to(mu_values[None, :, None, None], (log_sigma_values.size, mu_values.size, 1, 1))
    sigma = np.broadcast_to(np.exp(log_sigma_values)[:, None, None, None], mu.shape)
    return elbo_gaussian(model, x, mu, sigma, n_nodes)[..., 0]


# ---------------------------------------------------------------------------------------------------------------
# fitting q: gradient ascent on the ELBO (KL(q || p), mode seeking) and moment matching (KL(p || q), mass covering)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class GaussianFit:
    """Result of :func:`fit_gaussian_q`.

    mu, log_sigma, elbo : the final q and its exact ELBO (nats).
    history : array (n_iter + 1, 3), columns mu, log sigma, ELBO, starting with the initial q.
    converged : whether the gradient norm fell below tol within max_iter.
    """

    mu: float
    log_sigma: float
    elbo: float
    history: np.ndarray
    converged: bool

    @property
    def n_iter(self):
        return self.history.shape[0] - 1


def _one_point(model, x):
    x = _checks.model(model, needs=("d_z", "_as_x", "log_p_xz"))._as_x(x)
    if x.shape[0] != 1 or model.d_z != 1:
        raise ValueError(f"fitting q needs one data point (x of shape (1, d_x)) and d_z = 1, got x {x.shape} and "
                         f"d_z = {model.d_z}.")
    return x


def _elbo_and_grad(model, x, phi, n_nodes, h=1e-5):
    """ELBO and its gradient in phi = (mu, log sigma) through the reparameterization z = mu + sigma * eps at the
    quadrature nodes: dELBO/dmu = E[f'(z)], dELBO/dlog sigma = E[f'(z) sigma eps] + 1, with f = log p(x, z).
    The models expose no derivative, so f'(z) is a central finite difference with step h (error of order h^2)."""
    mu, log_sigma = phi
    sigma = np.exp(log_sigma)
    eps, w = _gauss_hermite(n_nodes)
    z = (mu + sigma * eps)[:, None, None]
    f = model.log_p_xz(x, z)[:, 0]
    df = (model.log_p_xz(x, z + h)[:, 0] - model.log_p_xz(x, z - h)[:, 0]) / (2 * h)
    elbo = w @ f + entropy_normal(sigma)
    return float(elbo), np.array([w @ df, w @ (df * sigma * eps) + 1.0])


def fit_gaussian_q(model, x, mu0=0.0, log_sigma0=0.0, *, step_size=0.1, max_iter=1000, tol=1e-6,
                   n_nodes=N_NODES):
    """Maximize the exact ELBO over q = N(mu, sigma^2) by gradient ascent on (mu, log sigma).

    Each step goes along the gradient (computed at the quadrature nodes, with finite-difference derivatives of
    log p(x, z)), with a backtracking line search (the step halves until the ELBO rises, and
    grows by half after a success) and moves of at most 1 per coordinate, so the ELBO never decreases.
    Equivalent to minimizing KL(q || p(z|x)) over Gaussians: from a start near one mode of a bimodal posterior it
    settles on that mode. Plain gradient ascent is slow in the narrow valleys of a sharply peaked posterior (a
    hundred or more steps); it is kept because its path is what the explorer animates.

    model : a ContinuousLVM with d_z = 1 (e.g. NonlinearModel1D, LinearGaussian). x : one data point (1, d_x).
    max_iter, tol : stop when the gradient norm is below tol, or warn after max_iter steps.
    Returns :class:`GaussianFit`.
    """
    x = _one_point(model, x)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    step = float(_checks.positive(_checks.finite_scalar(step_size, "step_size"), "step_size"))
    tol = float(_checks.positive(_checks.finite_scalar(tol, "tol"), "tol"))
    phi = np.array([float(_checks.as_float_array(mu0, "mu0", ndim=0)),
                    float(_checks.as_float_array(log_sigma0, "log_sigma0", ndim=0))])
    _checks.in_range(phi[1], "log_sigma0", -20.0, 20.0)  # exp(800) = inf would surface as "z contains NaN"
    _checks.in_range(phi[0], "mu0", -1e10, 1e10)  # farther out, log p(x, z) overflows
    elbo, grad = _elbo_and_grad(model, x, phi, n_nodes)
    history = [(*phi, elbo)]
    converged = False
    for _ in range(max_iter):
        if np.linalg.norm(grad) < tol:
            converged = True
            break
        for _halving in range(60):
            move = step * grad
            move *= min(1.0, 1.0 / np.abs(move).max())
            candidate = phi + move
            new_elbo, new_grad = _elbo_and_grad(model, x, candidate, n_nodes)
            if new_elbo >= elbo + 1e-4 * (move @ grad):
                break
            step /= 2
        else:  # no step raises the ELBO: we sit at a maximum up to rounding
            converged = True
            break
        phi, elbo, grad, step = candidate, new_elbo, new_grad, step * 1.5
        history.append((*phi, elbo))
    else:
        converged = np.linalg.norm(grad) < tol
    if not converged:
        warnings.warn(f"fit_gaussian_q stopped after max_iter={max_iter} steps with gradient norm "
                      f"{np.linalg.norm(grad):.2e} > tol={tol:g}; raise max_iter.", RuntimeWarning, stacklevel=2)
    return GaussianFit(mu=phi[0], log_sigma=phi[1], elbo=elbo, history=np.array(history), converged=converged)


def _elbo_and_grad_batch(model, x, mu, log_sigma, n_nodes, h=1e-5):
    """:func:`_elbo_and_grad` for every data point at once: mu, log_sigma (n_data,) -> ELBO and the two partial
    derivatives, each (n_data,)."""
    sigma = np.exp(log_sigma)
    eps, w = _gauss_hermite(n_nodes)
    z = (mu + sigma * eps[:, None])[..., None]  # (n_nodes, n_data, 1)
    f = model.log_p_xz(x, z)
    df = (model.log_p_xz(x, z + h) - model.log_p_xz(x, z - h)) / (2 * h)
    elbo = w @ f + entropy_normal(sigma)
    return elbo, w @ df, w @ (df * sigma * eps[:, None]) + 1.0


def fit_gaussian_q_batch(model, x, mu0=0.0, log_sigma0=0.0, *, n_steps=300, learning_rate=0.05,
                         n_nodes=N_NODES):
    """One Gaussian q per data point, all fitted at once: Adam on each point's exact ELBO over (mu, log sigma).

    The gradients are those of :func:`fit_gaussian_q` (reparameterization at the quadrature nodes), evaluated for
    every data point in one vectorized call per step; the steps are Adam's (Kingma and Ba, 2015) with a fixed
    learning rate and a fixed number of steps, as a training loop would run them.
    model : a ContinuousLVM with d_z = 1. x : (n_data, d_x). mu0, log_sigma0 : scalars or (n_data,).
    Returns (mu, log_sigma, elbo_history): (n_data,), (n_data,) and (n_steps + 1, n_data), the last row the
    final ELBOs.
    """
    x = model._as_x(x)
    if model.d_z != 1:
        raise ValueError(f"fit_gaussian_q_batch fits a 1-D q per data point, got d_z = {model.d_z}.")
    n_steps = _checks.positive_int(n_steps, "n_steps")
    lr = float(_checks.positive(learning_rate, "learning_rate"))
    n = x.shape[0]
    phi = np.stack([np.broadcast_to(np.asarray(mu0, dtype=float), (n,)),
                    np.broadcast_to(np.asarray(log_sigma0, dtype=float), (n,))]).copy()  # (2, n_data)
    m, v = np.zeros_like(phi), np.zeros_like(phi)
    beta1, beta2, tiny = 0.9, 0.999, 1e-8
    history = []
    for t in range(1, n_steps + 2):
        elbo, g_mu, g_ls = _elbo_and_grad_batch(model, x, phi[0], phi[1], n_nodes)
        history.append(elbo)
        if t == n_steps + 1:
            break
        grad = np.stack([g_mu, g_ls])
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        phi += lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + tiny)  # ascent: + the step
    return phi[0], phi[1], np.array(history)


def fit_gaussian_forward_kl(model, x):
    """The Gaussian q minimizing KL(p(z|x) || q): it matches the posterior's mean and variance (mass covering).

    model : LinearGaussian (closed-form posterior; any d_z, the diagonal of the covariance is used) or a model with
    ``posterior_on_grid`` (e.g. NonlinearModel1D), whose moments are integrated by the trapezoid rule.
    x : one data point. Returns (mu, sigma), arrays of shape (d_z,).
    """
    x = _checks.model(model, needs=("d_z", "_as_x", "log_p_xz"))._as_x(x)
    if x.shape[0] != 1:
        raise ValueError(f"x must be one data point (shape (1, d_x)), got {x.shape}.")
    if isinstance(model, LinearGaussian):
        mean, cov = model.posterior(x)
        return mean[0], np.sqrt(np.diag(cov))
    if not hasattr(model, "posterior_on_grid"):
        raise ValueError(f"model must be a LinearGaussian or have posterior_on_grid, got {type(model).__name__}.")
    grid, density = model.posterior_on_grid(x)
    mean = np.trapezoid(grid * density[0], grid)
    var = np.trapezoid((grid - mean) ** 2 * density[0], grid)
    return np.array([mean]), np.array([np.sqrt(var)])


def kl_forward_gaussian(model, x, mu, sigma):
    """KL(p(z|x) || q) for q = N(mu, sigma^2) and a model with ``posterior_on_grid`` (trapezoid rule); a float."""
    x = _checks.model(model, needs=("d_z", "_as_x", "log_p_xz"))._as_x(x)
    if x.shape[0] != 1:
        raise ValueError(f"x must be one data point (shape (1, d_x)), got {x.shape}.")
    sigma = _checks.positive(sigma, "sigma")
    grid, density = model.posterior_on_grid(x)
    log_post = model.log_p_xz_on_grid(x)[0] - model.log_p_x(x)[0]
    integrand = np.where(density[0] > 0, density[0] * (log_post - log_normal(grid, mu, sigma)), 0.0)
    return float(np.trapezoid(integrand, grid))


def _check_q_shape(shape, n_data, d_z, mu, sigma):
    """mu and sigma must broadcast to (..., n_data, d_z) with sigma <= 1e10 (wider q's overflow log p(x, z))."""
    if len(shape) < 2 or shape[-2:] != (n_data, d_z):
        raise ValueError(f"mu and sigma must broadcast to (..., n_data, d_z) = (..., {n_data}, {d_z}), got mu "
                         f"{mu.shape} and sigma {sigma.shape}.")
    if np.any(np.abs(mu) > 1e10):
        worst = mu.flat[np.argmax(np.abs(mu))]
        raise ValueError(f"mu must lie in [-1e10, 1e10] (farther out log p(x, z) overflows), got {worst:.3g}.")
    if np.any(sigma > 1e10):
        raise ValueError(f"sigma must be <= 1e10 (a wider q overflows log p(x, z)), got {sigma.max():.3g}.")


# ---------------------------------------------------------------------------------------------------------------
# EM as minorize-maximize: the bound as a function of theta
# ---------------------------------------------------------------------------------------------------------------
def em_bound_slice(X, resp, theta_old, theta_new, ts):
    """log p(X; theta(t)) and the bound ELBO(q, theta(t)) along a path from theta_old (t = 0) to theta_new (t = 1).

    q is fixed at ``resp`` (the E-step's responsibilities at theta_old), so the bound touches the log-likelihood
    at t = 0; when theta_new is the exact M-step for ``resp``, the bound's maximum along the path is at t = 1.
    The path interpolates the means linearly, the log-weights (then renormalized) and the covariances' Cholesky
    factors, so every theta(t) is a valid mixture, also for t outside [0, 1].
    X : (n, D). resp : (n, K). theta_old, theta_new : (weights (K,), means (K, D), covs (K, D, D)). ts : (m,).
    Returns (log_lik, bound), each (m,), in nats per data point.
    """
    from lvmlib import mixtures

    (w0, m0, c0), (w1, m1, c1) = theta_old, theta_new
    l0, l1 = np.linalg.cholesky(c0), np.linalg.cholesky(c1)
    log_lik, bound = [], []
    for t in _checks.as_float_array(ts, "ts", ndim=1):
        log_w = (1 - t) * np.log(w0) + t * np.log(w1)
        theta = (np.exp(log_w - logsumexp(log_w)), m0 + t * (m1 - m0), None)
        chol = l0 + t * (l1 - l0)
        theta = (theta[0], theta[1], chol @ np.swapaxes(chol, -1, -2))
        log_lik.append(mixtures.log_likelihood(X, *theta))
        bound.append(mixtures.elbo(X, resp, *theta))
    return np.array(log_lik), np.array(bound)
