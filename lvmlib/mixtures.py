"""Gaussian mixtures in log space and the EM algorithm that fits them.

The model: z ~ Categorical(weights), x | z = k ~ N(means[k], covs[k]). Every density goes through Cholesky
factors (the same numbers as :func:`lvmlib.distributions.log_mvn`, see :func:`_log_gaussian`) and every sum over
z through logsumexp.

Shapes (D is the data dimension, chapter 00's notation): ``X`` is (n, D); ``weights`` (K,); ``means`` (K, D);
``covs`` and ``chols`` (K, D, D) for every covariance type ("full"; "diag" with zero off-diagonal entries; "tied",
one matrix repeated K times; "spherical", s_k^2 I); responsibilities
``resp`` and tables over z are (n, K); per-point quantities are (n,). Log-likelihoods and ELBOs returned as a
float are means per data point (nats), not totals.

EM bookkeeping in :func:`fit_em`: ``params_history[t]`` holds the parameters after t iterations (t = 0 is the
initialization) and ``log_lik_history[t]`` their log-likelihood, so both have ``n_iter + 1`` entries.
``half_steps`` has ``2 * n_iter`` entries ``(label, log_lik, elbo)``: after the E-step of iteration t the
parameters are still theta_{t-1} and q = p(z | x; theta_{t-1}), so elbo == log_lik; after the M-step the
parameters are theta_t while q is unchanged, so elbo <= log_lik.

Monotonicity: with the exact M-step (``reg_covar = 0``, no prior) the log-likelihood never decreases. ``reg_covar``
> 0 is a heuristic that keeps covariances away from singular; it changes the M-step, and the log-likelihood can
then go down slightly. The principled version is MAP-EM (``prior=MixturePrior(...)``: a Dirichlet prior on the
weights, inverse-Wishart priors on the covariances): its M-step maximizes the ELBO plus log p(theta) / n exactly,
so the penalized objective ``objective_history`` never decreases.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, multigammaln

from lvmlib import _checks
from lvmlib.distributions import LOG_2PI, cholesky
from lvmlib.examples import DiscreteMixture

__all__ = [
    "ConvergenceWarning", "EMResult", "check_params", "log_joint", "log_likelihood", "e_step", "m_step",
    "elbo", "fit_em", "kmeans_plusplus", "kmeans", "init_from_kmeans_plusplus", "sample", "n_parameters", "bic",
    "MixturePrior", "log_prior", "smallest_eigenvalues",
]

COVARIANCE_TYPES = ("full", "diag", "tied", "spherical")


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the log-likelihood changed by less than ``tol``."""


# ---------------------------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------------------------
def _as_data(X, n_components=None):
    X = _checks.as_float_array(X, "X", ndim=2)
    if n_components is not None and X.shape[0] < n_components:
        raise ValueError(f"X has {X.shape[0]} points but n_components = {n_components}; "
                         "use n_components <= n_samples (or more data).")
    return X


def check_params(weights, means, covs=None, d=None):
    """Validate mixture parameters; return them as float arrays (weights (K,), means (K, d), covs (K, d, d))."""
    weights = _checks.probabilities(_checks.as_float_array(weights, "weights", ndim=1), "weights")
    means = _checks.as_float_array(means, "means", ndim=2)
    K = weights.shape[0]
    if means.shape[0] != K:
        raise ValueError(f"means must have shape (K, d) with K = {K} (the length of weights), got {means.shape}.")
    if d is not None and means.shape[1] != d:
        raise ValueError(f"means must have shape ({K}, {d}) to match X's {d} columns, got {means.shape}.")
    if covs is not None:
        covs = _checks.as_float_array(covs, "covs", ndim=3)
        if covs.shape != (K, means.shape[1], means.shape[1]):
            raise ValueError(f"covs must have shape {(K, means.shape[1], means.shape[1])} to match weights and "
                             f"means, got {covs.shape}.")
    return weights, means, covs


def _check_covariance_type(covariance_type):
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}.")


# ---------------------------------------------------------------------------------------------------------------
# a conjugate prior for MAP-EM
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MixturePrior:
    """p(theta) = Dirichlet(weights; alpha, ..., alpha) prod_k InvWishart(covs_k; nu, psi), flat on the means.

    alpha >= 1 (alpha = 1: flat on the weights); nu > D - 1 degrees of freedom; psi (D, D) positive definite
    scale. With N_k = 0 a component's MAP covariance is psi / (nu + D + 1), never singular.
    """

    alpha: float
    nu: float
    psi: np.ndarray

    @classmethod
    def default(cls, X, n_components, alpha=1.0):
        """Fraley and Raftery's (2007) choice: nu = D + 2, psi = cov(X) / K^(2/D)."""
        X = _as_data(X)
        n_components = _checks.positive_int(n_components, "n_components")
        D = X.shape[1]
        psi = np.atleast_2d(np.cov(X.T)) / n_components ** (2.0 / D)
        return cls(alpha, D + 2.0, psi)


def _check_prior(prior, D, reg_covar, covariance_type):
    if prior is None:
        return
    if not isinstance(prior, MixturePrior):
        raise TypeError(f"prior must be None or a MixturePrior, got {type(prior).__name__}; "
                        "e.g. MixturePrior.default(X, K).")
    if covariance_type != "full":
        raise ValueError(f"prior works with covariance_type='full' only, got {covariance_type!r}.")
    if reg_covar != 0:
        raise ValueError(f"with a prior, reg_covar must be 0 (the prior is the regularizer), got {reg_covar}.")
    if not prior.alpha >= 1:
        raise ValueError(f"prior.alpha must be >= 1 (1 = flat on the weights), got {prior.alpha}.")
    if not prior.nu > D - 1:
        raise ValueError(f"prior.nu must be > D - 1 = {D - 1}, got {prior.nu}.")
    psi = np.asarray(prior.psi, dtype=float)
    if psi.shape != (D, D) or not np.all(np.linalg.eigvalsh((psi + psi.T) / 2) > 0):
        raise ValueError(f"prior.psi must be a positive definite ({D}, {D}) matrix, got shape {psi.shape}.")


def log_prior(prior, weights, covs):
    """log p(theta) of :class:`MixturePrior` (normalized densities; the flat prior on the means contributes 0)."""
    weights = _checks.probabilities(_checks.as_float_array(weights, "weights", ndim=1), "weights")
    covs = _checks.as_float_array(covs, "covs", ndim=3)
    K, D, _ = covs.shape
    if weights.shape != (K,) or covs.shape != (K, D, D):
        raise ValueError(f"weights (K,) and covs (K, D, D) must agree, got {weights.shape} and {covs.shape}.")
    _check_prior(prior, D, 0.0, "full")
    alpha, nu, psi = prior.alpha, prior.nu, np.asarray(prior.psi, dtype=float)
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    log_dirichlet = gammaln(K * alpha) - K * gammaln(alpha) + np.sum(np.where(alpha == 1, 0.0, (alpha - 1) * log_w))
    chols = cholesky(covs, "covs")
    log_det = 2 * np.log(np.diagonal(chols, axis1=1, axis2=2)).sum(axis=1)          # (K,)
    trace = np.trace(np.linalg.solve(covs, np.broadcast_to(psi, covs.shape)), axis1=1, axis2=2)  # tr(Sigma^-1 psi)
    log_norm = (0.5 * nu * np.linalg.slogdet(psi)[1] - 0.5 * nu * D * np.log(2.0) - multigammaln(0.5 * nu, D))
    log_iw = log_norm - 0.5 * (nu + D + 1) * log_det - 0.5 * trace
    return float(log_dirichlet + log_iw.sum())


def smallest_eigenvalues(covs):
    """Smallest eigenvalue of each covariance, shape (K,): how close each component is to collapsing."""
    covs = _checks.as_float_array(covs, "covs", ndim=3)
    return np.linalg.eigvalsh(covs)[:, 0]


# ---------------------------------------------------------------------------------------------------------------
# the model in log space
# ---------------------------------------------------------------------------------------------------------------
def log_joint(X, weights, means, chols):
    """log p(x_i, z = k) = log weights[k] + log N(x_i; means[k], chols[k] chols[k]^T), shape (n, K)."""
    X = _as_data(X)
    weights, means, _ = check_params(weights, means, d=X.shape[1])
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    chols = _checks.chol(chols, "chols")  # lower-triangular, positive diagonal: a covariance here is caught
    K, d = means.shape
    if chols.shape != (K, d, d):
        raise ValueError(f"chols must have shape {(K, d, d)} (one Cholesky factor per component, e.g. "
                         f"cholesky(covs)), got {chols.shape}.")
    out = np.empty((X.shape[0], K), order="F")  # column-major: reductions over k stay fast
    for k in range(K):
        out[:, k] = _log_gaussian(X, means[k], chols[k]) + log_w[k]
    return out


def _log_gaussian(X, mu, chol):
    """log N(x_i; mu, L L^T) for every row of X, shape (n,); the same numbers as ``log_mvn(X, mu, chol)``.

    Applies the inverse of the d x d factor L to all points with one matrix product (as scikit-learn does with
    its "precision Cholesky"), instead of ``log_mvn``'s triangular solve against an (d, n) right-hand side:
    scipy's threaded triangular solve can cost milliseconds per call when the CPU is shared, and EM calls it
    K times per iteration. Tests check the two agree.
    """
    y = (X - mu) @ np.linalg.inv(chol).T               # (n, d): rows are L^{-1}(x_i - mu)
    log_det = 2.0 * np.log(np.diag(chol)).sum()
    return -0.5 * (X.shape[1] * LOG_2PI + log_det + (y * y) @ np.ones(X.shape[1]))


def _logsumexp_rows(a):
    """logsumexp over the last axis of an (n, K) table, shape (n,).

    Same result as ``logsumexp(a, axis=1)`` (max-shifted, rows of -inf give -inf); written out because scipy's
    general version costs several times more on the tall, narrow tables of EM.
    """
    a_max = a.max(axis=1)
    shift = np.where(np.isfinite(a_max), a_max, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - shift[:, None]) @ np.ones(a.shape[1])) + shift


def log_likelihood(X, weights, means, covs):
    """Mean log p(x) per data point: (1/n) sum_i logsumexp_k log p(x_i, z = k). Returns a float (nats)."""
    chols = cholesky(covs, "covs")
    return float(_logsumexp_rows(log_joint(X, weights, means, chols)).mean())


def e_step(X, weights, means, chols):
    """E-step: log responsibilities log p(z = k | x_i) (n, K) and log p(x_i) (n,)."""
    log_pxz = log_joint(X, weights, means, chols)
    log_p_x = _logsumexp_rows(log_pxz)
    return log_pxz - log_p_x[:, None], log_p_x


def m_step(X, resp, reg_covar=1e-6, covariance_type="full", prior=None):
    """M-step: the weights, means and covariances that maximize the ELBO for fixed responsibilities.

    N_k = sum_i r_ik, weights = N_k / n, means_k = sum_i r_ik x_i / N_k,
    S_k = sum_i r_ik (x_i - means_k)(x_i - means_k)^T, covs_k = S_k / N_k + reg_covar I ("full"; "diag" keeps
    the diagonal; "tied" uses sum_k S_k / n for every k; "spherical" uses trace(S_k) / (D N_k) times I).
    N_k gets 10 machine epsilons so an empty component does not divide by zero.

    This is the exact maximizer only with ``reg_covar = 0``; then EM's log-likelihood never decreases.
    ``reg_covar > 0`` is a heuristic (the log-likelihood can then go down slightly). With a ``prior``
    (:class:`MixturePrior`, "full" only, ``reg_covar = 0``) it is the exact MAP M-step:
    weights = (N_k + alpha - 1) / (n + K (alpha - 1)), covs_k = (S_k + psi) / (N_k + nu + D + 1).

    X : (n, D); resp : (n, K), rows summing to one. Returns weights (K,), means (K, D), covs (K, D, D).
    """
    X = _as_data(X)
    resp = _checks.probabilities(_checks.as_float_array(resp, "resp", ndim=2), "resp", axis=1)
    if resp.shape[0] != X.shape[0]:
        raise ValueError(f"resp must have one row per data point: shape ({X.shape[0]}, K), got {resp.shape}.")
    reg_covar = _check_reg_covar(reg_covar)
    _check_covariance_type(covariance_type)
    _check_prior(prior, X.shape[1], reg_covar, covariance_type)
    return _m_step(X, resp, reg_covar, covariance_type, prior)


def _m_step(X, resp, reg_covar, covariance_type, prior=None):
    nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
    means = (resp.T @ X) / nk[:, None]
    n, D = X.shape
    K = len(nk)
    scatter = np.empty((K, D, D))  # S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T
    for k in range(K):
        diff = X - means[k]
        scatter[k] = (resp[:, k, None] * diff).T @ diff
    if prior is not None:  # MAP M-step (full covariances): the prior adds pseudo-counts
        alpha, nu, psi = prior.alpha, prior.nu, prior.psi
        weights = (nk + alpha - 1) / (n + K * (alpha - 1))
        return weights, means, (scatter + psi) / (nk + nu + D + 1)[:, None, None]
    if covariance_type == "tied":
        covs = np.repeat((scatter.sum(axis=0) / n)[None], K, axis=0)
    else:
        covs = scatter / nk[:, None, None]
        if covariance_type == "diag":
            covs *= np.eye(D)
        elif covariance_type == "spherical":
            covs = np.trace(covs, axis1=1, axis2=2)[:, None, None] / D * np.eye(D)
    covs += reg_covar * np.eye(D)
    return nk / nk.sum(), means, covs


def _elbo_terms(resp, log_resp, log_pxz):
    """Mean over i of sum_k r_ik (log p(x_i, z=k) - log r_ik), with 0 log 0 = 0."""
    terms = resp * (log_pxz - log_resp)
    if not np.all(np.isfinite(terms)):
        terms = np.where(resp > 0, terms, 0.0)
    return float(terms.sum(axis=1).mean())


def elbo(X, resp, weights, means, covs):
    """ELBO per data point: mean_i [ E_q[log p(x_i, z)] + H(q_i) ] with q(z_i = k) = resp[i, k].

    Equals the mean log-likelihood exactly when resp is the posterior p(z | x) under these parameters, and is
    below it otherwise (the gap is the mean KL(q || p(z | x))). Returns a float (nats per data point).
    """
    X = _as_data(X)
    resp = _checks.probabilities(_checks.as_float_array(resp, "resp", ndim=2), "resp", axis=1)
    log_pxz = log_joint(X, weights, means, cholesky(covs, "covs"))
    if resp.shape != log_pxz.shape:
        raise ValueError(f"resp must have shape {log_pxz.shape} (n, K), got {resp.shape}.")
    with np.errstate(divide="ignore"):
        log_resp = np.log(resp)
    with np.errstate(invalid="ignore"):
        return _elbo_terms(resp, log_resp, log_pxz)


# ---------------------------------------------------------------------------------------------------------------
# initialization: k-means++ and k-means
# ---------------------------------------------------------------------------------------------------------------
def _sq_dist(X, centers):
    """Squared Euclidean distances, shape (n, K)."""
    return ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)


def kmeans_plusplus(X, n_components, rng):
    """k-means++ seeding: the first centre uniformly, each next one with probability proportional to the
    squared distance to the nearest centre so far. Returns centres (K, d), all of them data points."""
    n_components = _checks.positive_int(n_components, "n_components")
    X = _as_data(X, n_components)
    rng = _checks.generator(rng)
    centers = [X[rng.integers(X.shape[0])]]
    for _ in range(1, n_components):
        d2 = _sq_dist(X, np.array(centers)).min(axis=1)
        if d2.sum() <= 0:
            raise ValueError(f"X has fewer than n_components = {n_components} distinct points; use fewer components.")
        centers.append(X[rng.choice(X.shape[0], p=d2 / d2.sum())])
    return np.array(centers)


def kmeans(X, n_components, rng, max_iter=100, centers=None):
    """Lloyd's k-means from k-means++ seeds (or from ``centers`` (K, D)): hard assignments to the nearest centre.

    Returns (centers (K, D), labels (n,), n_iter). Stops when the assignments no longer change.
    """
    max_iter = _checks.positive_int(max_iter, "max_iter")
    if centers is None:
        centers = kmeans_plusplus(X, n_components, rng)
    else:
        centers = _checks.as_float_array(centers, "centers", ndim=2).copy()
        if centers.shape != (n_components, np.shape(X)[1]):
            raise ValueError(f"centers must have shape ({n_components}, D) to match n_components and X's columns, "
                             f"got {centers.shape}.")
    X = np.asarray(X, dtype=float)
    labels = _sq_dist(X, centers).argmin(axis=1)
    for it in range(1, max_iter + 1):
        counts = np.bincount(labels, minlength=n_components)
        sums = np.stack([np.bincount(labels, weights=X[:, j], minlength=n_components) for j in range(X.shape[1])], 1)
        centers = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centers)
        new_labels = _sq_dist(X, centers).argmin(axis=1)
        if np.array_equal(new_labels, labels):
            return centers, labels, it
        labels = new_labels
    return centers, labels, max_iter


def init_from_kmeans_plusplus(X, n_components, rng, reg_covar=1e-6, covariance_type="full"):
    """Initial parameters: k-means++ centres, each point assigned to its nearest centre, then one M-step.

    Returns a dict with weights (K,), means (K, d), covs (K, d, d).
    """
    _check_covariance_type(covariance_type)
    reg_covar = _check_reg_covar(reg_covar)
    centers = kmeans_plusplus(X, n_components, rng)
    X = np.asarray(X, dtype=float)
    resp = np.eye(n_components)[_sq_dist(X, centers).argmin(axis=1)]
    weights, means, covs = _m_step(X, resp, reg_covar, covariance_type)
    return {"weights": weights, "means": means, "covs": covs}


# ---------------------------------------------------------------------------------------------------------------
# EM
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class EMResult:
    """What :func:`fit_em` returns (see the module docstring for how the histories line up)."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    n_iter: int
    converged: bool
    log_lik_history: list = field(default_factory=list)
    half_steps: list = field(default_factory=list)
    params_history: list = field(default_factory=list)
    objective_history: list = field(default_factory=list)  # log_lik + log p(theta) / n with a prior, else log_lik

    @property
    def log_lik(self):
        """Mean log-likelihood per data point of the final parameters."""
        return self.log_lik_history[-1]


def _init_params(X, n_components, rng, init, reg_covar, covariance_type, prior=None):
    if init is None:
        if rng is None:
            raise ValueError("rng is required when init is None (k-means++ seeding): pass np.random.default_rng(0).")
        if prior is None:
            init = init_from_kmeans_plusplus(X, n_components, rng, reg_covar, covariance_type)
        else:  # the hard assignments' MAP M-step: a one-point cluster still gets a proper covariance
            centers = kmeans_plusplus(X, n_components, rng)
            resp = np.eye(n_components)[_sq_dist(X, centers).argmin(axis=1)]
            init = dict(zip(("weights", "means", "covs"), _m_step(X, resp, 0.0, "full", prior), strict=True))
    if not isinstance(init, dict) or not {"weights", "means", "covs"} <= set(init):
        raise ValueError("init must be None or a dict with keys 'weights', 'means' and 'covs'.")
    weights, means, covs = check_params(init["weights"], init["means"], init["covs"], d=X.shape[1])
    if weights.shape[0] != n_components:
        raise ValueError(f"init has {weights.shape[0]} components but n_components = {n_components}; make them agree.")
    return weights, means, covs


def fit_em(X, n_components, *, rng=None, init=None, max_iter=100, tol=1e-6, reg_covar=None,
           covariance_type="full", prior=None):
    """Fit a Gaussian mixture by EM, maximizing the mean log-likelihood per data point (or, with a ``prior``,
    the mean log-likelihood plus log p(theta) / n: MAP-EM).

    The log-likelihood never decreases from one iteration to the next when the M-step is exact:
    ``reg_covar = 0`` and no prior. ``reg_covar > 0`` is a heuristic that keeps covariances from collapsing; it
    perturbs the M-step, and the log-likelihood can then go down slightly. With a ``prior`` the MAP M-step is
    exact and ``objective_history`` (log-likelihood + log p(theta) / n) never decreases.

    Parameters
    ----------
    X : array (n, d), finite.
    n_components : K, at most n.
    rng : numpy Generator for k-means++ seeding (required when ``init`` is None).
    init : None, or a dict with initial "weights" (K,), "means" (K, d), "covs" (K, d, d).
    max_iter : maximum number of EM iterations (one E-step plus one M-step each).
    tol : stop when the mean log-likelihood (with a prior: the penalized objective) changes by less than ``tol``
        in one iteration.
    reg_covar : added to the diagonal of every covariance after each M-step (a heuristic that keeps a component
        from collapsing onto a point); default 1e-6, or 0 with a prior.
    covariance_type : "full", "diag", "tied" or "spherical".
    prior : None, or a :class:`MixturePrior` for MAP-EM (full covariances, reg_covar = 0).

    Returns
    -------
    EMResult. Warns with :class:`ConvergenceWarning` when it stops at ``max_iter`` without converging; raises
    ValueError when a component collapses (a covariance eigenvalue below 1e-10 times the data's smallest
    variance, or a covariance that is no longer positive definite): pass ``reg_covar > 0`` or a prior.

    Each iteration evaluates log p(x, z) once: the same table gives the log-likelihood of the new parameters,
    the ELBO after the M-step (old q, new parameters) and the next E-step.
    """
    X = _as_data(X)
    n_components = _checks.positive_int(n_components, "n_components")
    _as_data(X, n_components)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    if not _checks.finite_scalar(tol, "tol") >= 0:
        raise ValueError(f"tol must be >= 0 (a change in mean log-likelihood, e.g. 1e-6), got {tol}.")
    if reg_covar is None:
        reg_covar = 0.0 if prior is not None else 1e-6
    reg_covar = _check_reg_covar(reg_covar)
    _check_covariance_type(covariance_type)
    _check_prior(prior, X.shape[1], reg_covar, covariance_type)
    weights, means, covs = _init_params(X, n_components, rng, init, reg_covar, covariance_type, prior)
    n = X.shape[0]
    penalty = (lambda w, c: log_prior(prior, w, c) / n) if prior is not None else (lambda w, c: 0.0)

    X = np.asfortranarray(X)  # columns contiguous: the M-step's sums over points run faster
    thinnest = float(X.var(axis=0).min())  # the data's smallest variance along an axis
    log_pxz = log_joint(X, weights, means, cholesky(covs, "init covs"))
    log_p_x = _logsumexp_rows(log_pxz)
    log_lik = float(log_p_x.mean())
    result = EMResult(weights, means, covs, 0, False, [log_lik], [], [(weights, means, covs)],
                      [log_lik + penalty(weights, covs)])
    for it in range(1, max_iter + 1):
        log_resp = log_pxz - log_p_x[:, None]  # E-step: q(z_i) = p(z_i | x_i; theta_{t-1})
        resp = np.exp(log_resp)
        with np.errstate(invalid="ignore"):
            result.half_steps.append(("E", log_lik, _elbo_terms(resp, log_resp, log_pxz)))
        weights, means, covs = _m_step(X, resp, reg_covar, covariance_type, prior)  # M-step: theta_t
        chols = cholesky(covs, f"covs after the M-step of iteration {it}")
        _check_not_collapsed(covs, resp, thinnest, it)
        log_pxz = log_joint(X, weights, means, chols)
        log_p_x = _logsumexp_rows(log_pxz)
        new_log_lik = float(log_p_x.mean())
        with np.errstate(invalid="ignore"):
            result.half_steps.append(("M", new_log_lik, _elbo_terms(resp, log_resp, log_pxz)))
        result.log_lik_history.append(new_log_lik)
        result.params_history.append((weights, means, covs))
        result.objective_history.append(new_log_lik + penalty(weights, covs))
        result.n_iter = it
        change = result.objective_history[-1] - result.objective_history[-2]
        log_lik = new_log_lik
        if abs(change) < tol:
            result.converged = True
            break
    result.weights, result.means, result.covs = weights, means, covs
    if not result.converged:
        warnings.warn(f"EM did not converge in max_iter = {max_iter} iterations (last change "
                      f"{change:.3g} > tol = {tol}); raise max_iter or tol.", ConvergenceWarning,
                      stacklevel=2)
    return result


COLLAPSE_RATIO = 1e-10  # a covariance direction this much thinner than the data's thinnest axis has collapsed


def _check_not_collapsed(covs, resp, thinnest, it):
    """Raise when a component has collapsed onto a few points (a spike of the likelihood, see the chapter).

    Floating point may still factor such a covariance (eigenvalue 1e-32 and log-likelihood climbing without
    bound), or may not (a "not positive definite" error); either way EM is no longer fitting the data.
    """
    smallest = np.linalg.eigvalsh(covs)[:, 0]
    k = int(smallest.argmin())
    if smallest[k] < COLLAPSE_RATIO * thinnest:
        raise ValueError(
            f"component {k} collapsed after the M-step of iteration {it}: its covariance has an eigenvalue "
            f"{smallest[k]:.1e} (the data's smallest variance is {thinnest:.3g}), on N_k = {resp[:, k].sum():.1f} "
            "points, so EM is climbing an infinite spike of the likelihood. Pass reg_covar > 0 (e.g. 1e-3 on "
            "standardized data) or prior=MixturePrior.default(X, K), or start elsewhere.")


# ---------------------------------------------------------------------------------------------------------------
# sampling and model choice
# ---------------------------------------------------------------------------------------------------------------
def sample(n, weights, means, covs, rng):
    """Ancestral sampling z ~ Categorical(weights), x ~ N(means[z], covs[z]). Returns z (n,) and x (n, d)."""
    return DiscreteMixture(weights, means, covs).sample(n, rng)


def n_parameters(n_components, d, covariance_type="full"):
    """Free parameters: K - 1 weights, K D means, and covariance entries: K D (D + 1) / 2 (full), K D (diag),
    D (D + 1) / 2 (tied: one shared matrix) or K (spherical). ``d`` is the data dimension D."""
    _check_covariance_type(covariance_type)
    K, D = _checks.positive_int(n_components, "n_components"), _checks.positive_int(d, "d")
    cov_params = {"full": K * D * (D + 1) // 2, "diag": K * D, "tied": D * (D + 1) // 2, "spherical": K}
    return K - 1 + K * D + cov_params[covariance_type]


def bic(X, weights, means, covs, covariance_type="full"):
    """Bayesian information criterion, -2 sum_i log p(x_i) + n_params log n (a total; lower is better)."""
    X = _as_data(X)
    weights, means, covs = check_params(weights, means, covs, d=X.shape[1])
    K, d = means.shape
    total_log_lik = X.shape[0] * log_likelihood(X, weights, means, covs)
    return -2 * total_log_lik + n_parameters(K, d, covariance_type) * np.log(X.shape[0])


def _check_reg_covar(reg_covar):
    """reg_covar as a finite float >= 0 (NaN and inf would poison every covariance)."""
    try:
        value = _checks.finite_scalar(reg_covar, "reg_covar")
    except _checks.InputTypeError:
        raise
    except ValueError:
        value = np.nan
    if not value >= 0:
        raise ValueError(f"reg_covar must be >= 0 and finite (e.g. 1e-6), got {reg_covar!r}.")
    return value
