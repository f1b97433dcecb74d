"""A mixture of Bernoullis for binary images, where unobserved pixels marginalize out analytically.

Model: k ~ Categorical(weights), x_j | k ~ Bernoulli(probs[k, j]) independently for the D pixels j. Given k the
pixels are independent, so summing p(x_obs, x_mis | k) over every completion x_mis gives p(x_obs | k): the
missing pixels' factors each sum to one. Hence

    log p(x_obs) = logsumexp_k [ log weights[k] + sum_{j observed} log Bernoulli(x_j; probs[k, j]) ],

K terms instead of 2^(number of missing pixels). :func:`log_p_completions` does the brute-force sum for
checking, and refuses more than ``MAX_MISSING`` missing pixels before allocating anything.

Shapes: ``x`` is (n_data, D) with entries in {0, 1} (values at unobserved pixels are ignored);
``observed`` is a boolean mask of shape (D,) or (n_data, D), True where a pixel is seen.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from lvmlib import _checks
from lvmlib.logspace import logsumexp, normalize_log

MAX_MISSING = 16  # 2^16 = 65,536 completions x D pixels (33 MB for 8x8 images): the largest table built here


class BernoulliMixture:
    """k ~ Categorical(weights), x_j | k ~ Bernoulli(probs[k, j]).

    Parameters
    ----------
    weights : array (K,), non-negative, summing to one.
    probs : array (K, D), entries strictly inside (0, 1) (fit with smoothing to keep them there).
    """

    def __init__(self, weights, probs):
        self.weights = _checks.probabilities(weights, "weights")
        self.probs = _checks.as_float_array(probs, "probs", ndim=2)
        if self.probs.shape[0] != self.weights.shape[0]:
            raise ValueError(f"probs must have one row per component: weights {self.weights.shape}, "
                             f"probs {self.probs.shape}.")
        if np.any((self.probs <= 0) | (self.probs >= 1)):
            raise ValueError("probs must lie strictly between 0 and 1; fit with alpha > 0 to smooth them.")

    @property
    def n_components(self):
        return self.probs.shape[0]

    @property
    def n_pixels(self):
        return self.probs.shape[1]

    def _as_x(self, x):
        x = _checks.as_float_array(x, "x")
        x = x.reshape(1, -1) if x.ndim == 1 else x
        if x.ndim != 2 or x.shape[1] != self.n_pixels:
            raise ValueError(f"x must have shape (n_data, {self.n_pixels}), got {x.shape}; flatten the images.")
        if np.any((x != 0) & (x != 1)):
            raise ValueError("x must be binary (0.0 or 1.0); binarize the images first.")
        return x

    def _as_mask(self, observed, n_data):
        if observed is None:
            return np.ones((n_data, self.n_pixels), dtype=bool)
        mask = np.asarray(observed)
        if mask.dtype != bool:
            raise ValueError(f"observed must be a boolean mask (True = observed), got dtype {mask.dtype}.")
        try:
            return np.broadcast_to(mask, (n_data, self.n_pixels))
        except ValueError:
            raise ValueError(f"observed must have shape ({self.n_pixels},) or (n_data, {self.n_pixels}), "
                             f"got {mask.shape}.") from None

    def log_p_x_given_k(self, x, observed=None):
        """log p(x_obs | k) = sum over observed pixels of log Bernoulli(x_j; probs[k, j]); shape (n_data, K)."""
        x = self._as_x(x)
        mask = self._as_mask(observed, x.shape[0]).astype(float)
        log_on_off = np.concatenate([np.log(self.probs), np.log1p(-self.probs)], axis=1)  # (K, 2D)
        # einsum, not @: these products are small, and on a busy shared CPU a threaded BLAS call costs ~10x more
        return np.einsum("nd,kd->nk", np.concatenate([x * mask, (1 - x) * mask], axis=1), log_on_off)

    def log_p_xk(self, x, observed=None):
        """log p(x_obs, k) = log weights[k] + log p(x_obs | k); shape (n_data, K)."""
        with np.errstate(divide="ignore"):
            return self.log_p_x_given_k(x, observed) + np.log(self.weights)

    def log_p_x(self, x, observed=None):
        """log p(x_obs) with every unobserved pixel summed out analytically; shape (n_data,). Nats per image."""
        return logsumexp(self.log_p_xk(x, observed), axis=1)

    def log_posterior(self, x, observed=None):
        """log p(k | x_obs), shape (n_data, K) (the responsibilities, in log space)."""
        return normalize_log(self.log_p_xk(x, observed), axis=1)

    def pixel_probs(self, x, observed=None):
        """p(x_j = 1 | x_obs) for every pixel, shape (n_data, D).

        sum_k p(k | x_obs) probs[k, j] at unobserved pixels; the observed value itself (0 or 1) at observed ones.
        """
        x = self._as_x(x)
        mask = self._as_mask(observed, x.shape[0])
        return np.where(mask, x, np.exp(self.log_posterior(x, mask)) @ self.probs)

    def sample(self, n, rng):
        """Ancestral sampling: k (n,) ints and x (n, D) binary floats."""
        n = _checks.positive_int(n, "n")
        rng = _checks.generator(rng)
        k = rng.choice(self.n_components, size=n, p=self.weights)
        return k, (rng.random((n, self.n_pixels)) < self.probs[k]).astype(float)

    def most_likely_completions(self, x, observed, top=3):
        """Candidate completions of one image, ranked by their exact probability p(x_mis | x_obs).

        The exact mode over all 2^n_missing completions is itself a hard search, because the components do not
        agree; the candidates here are each component's own mode (probs[k] > 0.5 on the missing pixels), which
        are then scored exactly under the whole mixture. The best candidate is often the best completion, but the
        2nd and 3rd candidates are NOT the 2nd and 3rd best completions: completions that mix the components'
        modes usually rank far above them. :func:`top_completions` ranks all completions by brute force.

        Parameters
        ----------
        x : array (D,), one binary image (missing entries ignored). observed : boolean mask (D,).

        Returns
        -------
        images : array (n_candidates, D) of full images (observed pixels copied from x), best first, at most
            ``top`` distinct ones.
        log_p : array (n_candidates,), log p(x_mis | x_obs) of each, in nats.
        """
        x = self._as_x(x)
        if x.shape[0] != 1:
            raise ValueError(f"x must be a single image of shape ({self.n_pixels},), got {x.shape}.")
        top = _checks.positive_int(top, "top")
        mask = self._as_mask(observed, 1)[0]
        candidates = np.where(mask, x[0], (self.probs > 0.5).astype(float))  # (K, D)
        candidates = np.unique(candidates, axis=0)
        log_p = self.log_p_x(candidates) - self.log_p_x(x, mask)[0]
        order = np.argsort(-log_p)[:top]
        return candidates[order], log_p[order]


def log_p_completions(model, x, observed):
    """Brute force: log p(x_obs, x_mis) for every one of the 2^n_missing completions of one image.

    The check ``logsumexp(log_p) == model.log_p_x(x, observed)`` is the analytic marginalization.

    Parameters
    ----------
    model : :class:`BernoulliMixture`. x : array (D,) binary. observed : boolean mask (D,).

    Returns
    -------
    images : array (2^n_missing, D), every completion as a full image.
    log_p : array (2^n_missing,), log p(full image) in nats.
    """
    if not isinstance(model, BernoulliMixture):
        raise _checks.InputTypeError(f"model must be a BernoulliMixture, got {type(model).__name__}.")
    mask = np.asarray(observed)
    if mask.dtype != bool or mask.shape != (model.n_pixels,):
        raise ValueError(f"observed must be a boolean mask of shape ({model.n_pixels},), got {mask.dtype} "
                         f"{mask.shape}.")
    n_missing = int((~mask).sum())
    if n_missing > MAX_MISSING:
        raise ValueError(f"{n_missing} missing pixels means 2^{n_missing} = {2**n_missing:.3e} completions; "
                         f"brute force is limited to {MAX_MISSING} missing pixels. Observe more pixels.")
    x = model._as_x(x)
    if x.shape[0] != 1:
        raise ValueError(f"x must be a single image of shape ({model.n_pixels},), got {x.shape}; pass one row.")
    x = x[0]
    codes = np.arange(2**n_missing, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(n_missing)) & 1).astype(float)  # (2^n_missing, n_missing)
    images = np.broadcast_to(x, (codes.size, x.size)).copy()
    images[:, ~mask] = bits
    return images, model.log_p_x(images)


def top_completions(model, x, observed, top=5):
    """The ``top`` most probable completions of one image by brute force, and p(x_mis | x_obs) for each.

    Ranks all 2^n_missing completions (at most ``MAX_MISSING`` missing pixels) by
    log p(x_mis | x_obs) = log p(x_obs, x_mis) - log p(x_obs), with log p(x_obs) the logsumexp over all of them.

    Returns
    -------
    images : array (top, D), best first. log_p : array (top,), log p(x_mis | x_obs) in nats.
    """
    top = _checks.positive_int(top, "top")
    images, log_p = log_p_completions(model, x, observed)
    order = np.argsort(-log_p, kind="stable")[:top]
    return images[order], log_p[order] - logsumexp(log_p)


@dataclass
class EMResult:
    """A fitted mixture with the history of its objective (mean log p(x) + log prior / n per image, nats)."""

    model: BernoulliMixture
    history: list = field(default_factory=list)
    converged: bool = False
    n_iter: int = 0


def fit_bernoulli_mixture(x, n_components, rng, alpha=1.0, max_iter=200, tol=1e-6, n_init=1):
    """Fit a mixture of Bernoullis by EM in log space, with Beta(1 + alpha, 1 + alpha) smoothing of the pixels.

    E step: log responsibilities log p(k | x_n) by normalize_log. M step: weights = N_k / n and
    probs = (sum_n r_nk x_n + alpha) / (N_k + 2 alpha), the MAP update, which keeps probs inside (0, 1).
    EM never lowers the MAP objective, recorded per image in ``history``; it stops when that gains less than
    ``tol`` and warns if ``max_iter`` comes first. EM finds a local optimum (a component that starts on an odd
    image can end with weight ~0), so ``n_init`` runs from different starts and keeps the best final objective.

    Parameters
    ----------
    x : array (n_data, D), binary. n_components : K >= 1, at most n_data.
    rng : numpy Generator (picks the K data points each run's components start from, one run after the other).
    alpha : pseudo-count >= 0 (0 is plain maximum likelihood, which can put probs at 0 or 1).
    n_init : number of EM runs, 1 <= n_init <= 1000. tol : finite, >= 0.

    Returns
    -------
    :class:`EMResult` of the best run.
    """
    rng = _checks.generator(rng)
    x = _checks.as_float_array(x, "x", ndim=2)
    if np.any((x != 0) & (x != 1)):
        raise ValueError("x must be binary (0.0 or 1.0); binarize the images first.")
    n = x.shape[0]
    K = _checks.positive_int(n_components, "n_components")
    if K > n:
        raise ValueError(f"Expected n_data >= n_components but got n_data = {n}, n_components = {K}.")
    alpha = _checks.finite_scalar(alpha, "alpha")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}.")
    max_iter = _checks.positive_int(max_iter, "max_iter")
    tol, n_init = _checks.tolerance(tol, "tol"), _checks.positive_int(n_init, "n_init", maximum=1000)
    runs = [_em_run(x, K, rng, alpha, max_iter, tol) for _ in range(n_init)]
    return max(runs, key=lambda run: run.history[-1])


def _em_run(x, K, rng, alpha, max_iter, tol):
    """One EM run from K random data points (validated inputs); returns an :class:`EMResult`."""
    n = x.shape[0]
    tiny = 10 * np.finfo(float).eps
    # start from K distinct data points, softened to 0.25 / 0.75, so no two components start alike
    model = BernoulliMixture(np.full(K, 1.0 / K), 0.25 + 0.5 * x[rng.choice(n, size=K, replace=False)])
    result = EMResult(model=model)
    log_joint = model.log_p_xk(x)  # (n, K): log p(x_n, k), shared by the objective and the next E step
    for it in range(1, max_iter + 1):
        resp = np.exp(normalize_log(log_joint, axis=1))  # E step: (n, K) responsibilities
        nk = resp.sum(axis=0) + tiny
        probs = np.clip((np.einsum("nk,nd->kd", resp, x) + alpha) / (nk[:, None] + 2 * alpha), tiny, 1 - tiny)
        model = BernoulliMixture(nk / nk.sum(), probs)  # M step
        log_joint = model.log_p_xk(x)
        log_prior = alpha * (np.log(probs) + np.log1p(-probs)).sum()
        result.history.append(float((logsumexp(log_joint, axis=1).sum() + log_prior) / n))
        result.model, result.n_iter = model, it
        if it > 1 and result.history[-1] - result.history[-2] < tol:
            result.converged = True
            break
    if not result.converged:
        warnings.warn(f"EM stopped after max_iter = {max_iter} iterations without converging (tol = {tol}); "
                      "raise max_iter.", stacklevel=3)
    return result
