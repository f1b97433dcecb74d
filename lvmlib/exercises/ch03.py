"""Chapter 03 exercises: log p(x) on a grid, the gradient identity, and the capstone: marginalize hidden pixels.

The capstone's steps take the mixture's parameters as arguments (``log_pi`` of shape (K,), ``mu`` of shape (K, D)),
one binary image ``x`` of shape (D,) and a boolean mask ``observed`` of shape (D,). Their references are brute
force over every completion of the hidden pixels where that is feasible (at most ``BRUTE_FORCE_MAX`` hidden
pixels) and lvmlib's :class:`~lvmlib.bernoulli_mixture.BernoulliMixture` beyond.
"""

import numpy as np
from scipy.special import logsumexp

from lvmlib.bernoulli_mixture import BernoulliMixture, log_p_completions
from lvmlib.examples import BinaryLatentModel, LinearGaussian
from lvmlib.exercises import Capstone, Case, Exercise, Mistake
from lvmlib.logspace import log_trapezoid
from lvmlib.marginal import grad_log_p_x_W

# The exercises' models are fixed (written out, not drawn) so a learner's numbers never depend on a seed.
BINARY_MODEL = BinaryLatentModel(
    W=[[1.2, -0.7, 0.4, 2.0], [0.3, 1.5, -1.1, 0.6]], b=[0.2, -0.4], prior_p=[0.3, 0.6, 0.5, 0.2], sigma_x=0.9
)
LINEAR_MODEL = LinearGaussian()  # z ~ N(0, 1), x | z ~ N(1.5 z, 0.8^2): log p(x) = log N(x; 0, 1.5^2 + 0.8^2)
Z_GRID = np.linspace(-8.0, 8.0, 201)
BRUTE_FORCE_MAX = 12  # hidden pixels up to which the capstone's references enumerate every completion


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: log p(x) on a grid, in log space
# ---------------------------------------------------------------------------------------------------------------
def _log_f(x, z_grid):
    return LINEAR_MODEL.log_p_xz(x, z_grid[:, None, None]).T  # (n_data, m)


def _log_p_x_grid(x, z_grid):
    return log_trapezoid(_log_f(x, z_grid), z_grid)


def _grid_naive(x, z_grid):  # exp, then np.trapezoid, then log: right until p(x, z) underflows
    with np.errstate(divide="ignore", under="ignore"):
        return np.log(np.trapezoid(np.exp(_log_f(x, z_grid)), z_grid, axis=-1))


def _grid_no_half_weights(x, z_grid):  # every point weighted by dz, the end points too
    return logsumexp(_log_f(x, z_grid), axis=-1) + np.log(z_grid[1] - z_grid[0])


def _grid_no_spacing(x, z_grid):  # the trapezoid's sum without the spacing dz
    f = _log_f(x, z_grid)
    return logsumexp(np.logaddexp(f[:, :-1], f[:, 1:]) - np.log(2.0), axis=-1)


ex1 = Exercise(
    "Exercise 1 (log p(x) by the trapezoid rule, in log space)",
    _log_p_x_grid,
    hints=[
        "Evaluate log p(x, z_i) at every grid point, then combine the trapezoid's terms without leaving log space: "
        "p(x, z_i) itself underflows to 0 when x is far out in the tail.",
        "The trapezoid rule is sum_i (z_{i+1} - z_i) (f_i + f_{i+1}) / 2. In log space each term is "
        "logaddexp(log f_i, log f_{i+1}) + log((z_{i+1} - z_i) / 2), and the sum is a logsumexp over i.",
        "log_f = linear.log_p_xz(x, z_grid[:, None, None]).T has shape (n_data, m); then "
        "log_trapezoid(log_f, z_grid), or the logaddexp/logsumexp of hint 2 written out.",
    ],
    solution="""
    def log_p_x_by_grid(x, z_grid):
        log_f = linear.log_p_xz(x, z_grid[:, None, None]).T   # (n_data, m): log p(x, z_i)
        return log_trapezoid(log_f, z_grid)                   # log of sum_i dz_i (f_i + f_{i+1}) / 2""",
    explanation="""
    p(x) = integral of p(x, z) dz ~= sum_i (z_{i+1} - z_i) (f_i + f_{i+1}) / 2 with f_i = p(x, z_i): each interval
    contributes a trapezoid, so the inner points carry weight dz and the two end points dz / 2. Far in the tail
    every f_i is below 1e-308 and rounds to 0, so the sum is formed from log f_i with logaddexp and logsumexp,
    which subtract the largest term before exponentiating.""",
    cases=[
        Case((np.array([[-3.0], [0.0], [1.7], [4.0]]), Z_GRID), "x from -3 to 4 on a fine grid over [-8, 8]"),
        Case((np.array([[0.25]]), np.linspace(-9.0, 7.0, 301)), "x = 0.25, 301 points on [-9, 7]"),
        Case((np.array([[0.5], [2.0]]), np.linspace(-1.0, 2.0, 7)),
             "a coarse 7-point grid on [-1, 2], where p(x, z) is not 0 at the ends"),
        Case((np.array([[60.0], [-45.0]]), Z_GRID),
             "x = 60 and -45, far in the tail: every p(x, z_i) is below 1e-300 and underflows in plain arithmetic"),
    ],
    mistakes=[
        Mistake("exp then trapezoid then log", _grid_naive,
                "p(x, z_i) underflowed to 0 at every grid point, so the log of the sum is -inf: you exponentiated "
                "before summing. Keep the sum in log space (logaddexp / logsumexp)."),
        Mistake("no half weights at the ends", _grid_no_half_weights,
                "every grid point got the same weight dz: the trapezoid rule gives the two end points half weight."),
        Mistake("spacing missing", _grid_no_spacing,
                "the spacing dz is missing: each trapezoid's area is its width times the mean of its two heights."),
    ],
)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: the gradient identity
# ---------------------------------------------------------------------------------------------------------------
_BINARY_CASES = [
    Case((np.array([[0.5, 0.5]]),), "one point, x = (0.5, 0.5)"),
    Case((np.array([[1.4, -0.2], [-2.0, 1.0], [3.0, 2.5]]),), "three points"),
    Case((np.array([[40.0, -40.0]]),), "x = (40, -40), far from every W z + b: every p(x, z) underflows to 0"),
]


def _grad_W(x):
    return grad_log_p_x_W(BINARY_MODEL, x)


def _grad_with(weights_fn):
    """The gradient formula sum_n sum_z weights(x_n, z) (x_n - W z - b) z^T / sigma^2 with other weights."""
    def grad(x):
        z = BINARY_MODEL.configurations()
        log_joint = BINARY_MODEL.log_p_xz(x, z[:, None, :])  # (2^d, n_data)
        weights = weights_fn(log_joint, z)
        residual = x[None, :, :] - (z @ BINARY_MODEL.W.T + BINARY_MODEL.b)[:, None, :]
        return np.einsum("kn,knd,ke->de", weights, residual, z) / BINARY_MODEL.sigma_x**2

    return grad


_grad_joint = _grad_with(lambda log_joint, z: np.exp(log_joint))  # p(x, z), not p(z | x)
_grad_prior = _grad_with(lambda log_joint, z: np.exp(BINARY_MODEL.log_p_z(z))[:, None] * np.ones(log_joint.shape))
_grad_wrong_axis = _grad_with(lambda log_joint, z: np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True)))

ex2 = Exercise(
    "Exercise 2 (the gradient identity for W)",
    _grad_W,
    hints=[
        "The gradient of log p(x) is an average of the easy gradients grad_W log p(x, z) under the posterior "
        "p(z | x). With d_z = 4 the posterior is a table over 16 configurations.",
        "grad_W log p(x, z) = (x - W z - b) z^T / sigma_x^2. Weight it by p(z | x_n) = exp(log p(x_n, z) - "
        "log p(x_n)), with log p(x_n) the logsumexp over z, and sum over z and over data points.",
        "z = binary.configurations(); log_joint = binary.log_p_xz(x, z[:, None, :]) (16, n_data); post = "
        "np.exp(log_joint - logsumexp(log_joint, axis=0)); residual = x[None] - (z @ W.T + b)[:, None]; "
        "np.einsum('kn,knd,ke->de', post, residual, z) / sigma_x**2.",
    ],
    solution="""
    def grad_W(x):
        z = binary.configurations()                                  # (K, d), K = 2^d
        log_joint = binary.log_p_xz(x, z[:, None, :])                # (K, n_data)
        post = np.exp(log_joint - logsumexp(log_joint, axis=0))     # p(z | x_n), columns sum to 1
        residual = x[None, :, :] - (z @ binary.W.T + binary.b)[:, None, :]   # (K, n_data, d_x)
        return np.einsum("kn,knd,ke->de", post, residual, z) / binary.sigma_x**2""",
    explanation="""
    grad log p(x) = grad p(x) / p(x) = sum_z [p(x, z) / p(x)] grad log p(x, z) = E_{p(z|x)}[grad log p(x, z)].
    For log p(x, z) = log p(z) + log N(x; W z + b, sigma_x^2 I) only the Gaussian depends on W, and its gradient
    is (x - W z - b) z^T / sigma_x^2. The posterior weights are normalized in log space, so x = (40, -40), where
    every p(x, z) underflows, still works.""",
    cases=_BINARY_CASES,
    mistakes=[
        Mistake("joint instead of posterior", _grad_joint,
                "you weighted by p(x, z), not by p(z | x) = p(x, z) / p(x): the weights must be normalized over z "
                "(divide by their sum, or subtract the logsumexp in log space)."),
        Mistake("prior instead of posterior", _grad_prior,
                "you averaged under the prior p(z); the identity averages under the posterior p(z | x), which "
                "depends on x through p(x, z)."),
        Mistake("normalized over the data points", _grad_wrong_axis,
                "your weights sum to one over the data points for each z; the posterior p(z | x_n) sums to one over "
                "the configurations z, separately for each data point x_n (normalize along the axis of z)."),
    ],
    rtol=1e-6,
    atol=1e-6,
)


# ---------------------------------------------------------------------------------------------------------------
# Capstone: marginalize the hidden pixels of a Bernoulli mixture, then fill them in
# ---------------------------------------------------------------------------------------------------------------
def _model(log_pi, mu):
    return BernoulliMixture(np.exp(np.asarray(log_pi, dtype=float)), mu)


def _n_hidden(observed):
    return int((~np.asarray(observed, dtype=bool)).sum())


def _ref_log_p_obs_given_k(x, observed, mu):
    """log p(x_obs | k), shape (K,): brute force (logsumexp over every completion) or lvmlib."""
    mu = np.asarray(mu, dtype=float)
    if _n_hidden(observed) <= BRUTE_FORCE_MAX:
        return np.array([logsumexp(log_p_completions(BernoulliMixture([1.0], mu[k:k + 1]), x, observed)[1])
                         for k in range(mu.shape[0])])
    return BernoulliMixture(np.full(mu.shape[0], 1.0 / mu.shape[0]), mu).log_p_x_given_k(x, observed)[0]


def _ref_log_p_obs(x, observed, log_pi, mu):
    """log p(x_obs), a float: brute force (logsumexp over every completion) or lvmlib."""
    model = _model(log_pi, mu)
    if _n_hidden(observed) <= BRUTE_FORCE_MAX:
        return float(logsumexp(log_p_completions(model, x, observed)[1]))
    return float(model.log_p_x(x, observed)[0])


def _ref_posterior(x, observed, log_pi, mu):
    """p(k | x_obs), shape (K,): brute force (sum of p(k, completion) over completions, normalized) or lvmlib."""
    model = _model(log_pi, mu)
    if _n_hidden(observed) <= BRUTE_FORCE_MAX:
        images, _ = log_p_completions(model, x, observed)
        log_pk_full = model.log_p_xk(images)  # (n_completions, K): log p(k, full image)
        return np.exp(logsumexp(log_pk_full, axis=0) - logsumexp(log_pk_full))
    return np.exp(model.log_posterior(x, observed)[0])


def _ref_fill_in(x, observed, log_pi, mu):
    """p(x_j = 1 | x_obs) at hidden pixels, x_j at observed ones, shape (D,): brute force or lvmlib."""
    model = _model(log_pi, mu)
    observed = np.asarray(observed, dtype=bool)
    if _n_hidden(observed) <= BRUTE_FORCE_MAX:
        images, log_p = log_p_completions(model, x, observed)
        return np.exp(log_p - logsumexp(log_p)) @ images  # E[x_j | x_obs] over every completion
    return model.pixel_probs(x, observed)[0]


# ---- wrong answers the capstone recognises --------------------------------------------------------------------
def _bern_log(x, mu):
    return x * np.log(mu) + (1 - x) * np.log1p(-mu)  # (K, D)


def _w_all_pixels_k(x, observed, mu):  # hidden pixels included
    return _bern_log(np.asarray(x, float), np.asarray(mu, float)).sum(axis=1)


def _w_hidden_only_k(x, observed, mu):  # the mask read the wrong way round
    return (_bern_log(np.asarray(x, float), np.asarray(mu, float)) * ~np.asarray(observed, bool)).sum(axis=1)


def _w_sum_probs_k(x, observed, mu):  # probabilities added over pixels, then logged
    p = np.exp(_bern_log(np.asarray(x, float), np.asarray(mu, float)))
    return np.log(np.sum(p * np.asarray(observed), axis=1))


def _w_product_k(x, observed, mu):  # product of probabilities, then log: underflows
    p = np.exp(_bern_log(np.asarray(x, float), np.asarray(mu, float)))
    with np.errstate(divide="ignore", under="ignore"):
        return np.log(np.prod(np.where(observed, p, 1.0), axis=1))


def _w_no_log_pi(x, observed, log_pi, mu):
    return float(logsumexp(_ref_log_p_obs_given_k(x, observed, mu)))


def _w_all_pixels(x, observed, log_pi, mu):
    return float(logsumexp(np.asarray(log_pi) + _w_all_pixels_k(x, observed, mu)))


def _w_naive_sum(x, observed, log_pi, mu):  # log(sum(exp(...))): underflows when every term is tiny
    with np.errstate(divide="ignore", under="ignore"):
        return float(np.log(np.sum(np.exp(np.asarray(log_pi) + _ref_log_p_obs_given_k(x, observed, mu)))))


def _w_unnormalized(x, observed, log_pi, mu):
    return np.exp(np.asarray(log_pi) + _ref_log_p_obs_given_k(x, observed, mu))


def _w_post_all_pixels(x, observed, log_pi, mu):
    a = np.asarray(log_pi) + _w_all_pixels_k(x, observed, mu)
    return np.exp(a - logsumexp(a))


def _w_post_no_log_pi(x, observed, log_pi, mu):
    a = _ref_log_p_obs_given_k(x, observed, mu)
    return np.exp(a - logsumexp(a))


def _w_fill_prior(x, observed, log_pi, mu):
    return np.where(observed, x, np.exp(log_pi) @ np.asarray(mu))


def _w_fill_unnormalized(x, observed, log_pi, mu):  # weights pi_k p(x_obs | k), never divided by p(x_obs)
    return np.where(observed, x, _w_unnormalized(x, observed, log_pi, mu) @ np.asarray(mu))


def _w_fill_rounded(x, observed, log_pi, mu):  # a 0/1 guess instead of the probability
    return np.where(observed, x, np.round(_ref_posterior(x, observed, log_pi, mu) @ np.asarray(mu)))


def _w_fill_hard(x, observed, log_pi, mu):
    k = int(np.argmax(_ref_posterior(x, observed, log_pi, mu)))
    return np.where(observed, x, np.asarray(mu)[k])


def _w_fill_everywhere(x, observed, log_pi, mu):
    return _ref_posterior(x, observed, log_pi, mu) @ np.asarray(mu)


# ---- the capstone's cases: fixed models, drawn once from a fixed seed (no dependence on the learner's rng) ------
def _capstone_cases():
    rng = np.random.default_rng(20260303)
    # (a) 4 x 4 images, K = 3, 10 hidden pixels: brute force over 1024 completions is the reference
    mu_a = rng.uniform(0.05, 0.95, (3, 16))
    log_pi_a = np.log([0.5, 0.3, 0.2])
    x_a = (rng.random(16) < 0.5).astype(float)
    obs_a = np.ones(16, dtype=bool)
    obs_a[rng.choice(16, 10, replace=False)] = False
    # (b) a confident model: mu = 1e-6 on every pixel of 8 x 8 images, 60 pixels seen and all of them on, so each
    # p(x_obs | k) is about 1e-360: a product of probabilities underflows to 0. 4 hidden: brute force, 16 completions
    mu_b = np.full((2, 64), 1e-6)
    mu_b[1, :6] = 3e-6  # component 1 is a little likelier on six pixels
    mu_b[:, 60:] = [[0.9, 0.2, 0.7, 0.4], [0.1, 0.6, 0.3, 0.8]]  # the hidden corner
    log_pi_b = np.log([0.7, 0.3])
    x_b = np.ones(64)
    x_b[60:] = [1.0, 0.0, 0.0, 1.0]
    obs_b = np.arange(64) < 60
    # (c) 8 x 8 images, K = 4, the whole upper half hidden (32 pixels): lvmlib is the reference
    mu_c = rng.uniform(0.02, 0.98, (4, 64))
    log_pi_c = np.log([0.4, 0.3, 0.2, 0.1])
    x_c = (rng.random(64) < 0.4).astype(float)
    obs_c = np.repeat(np.arange(8) >= 4, 8)
    return [
        ((x_a, obs_a, log_pi_a, mu_a), "4x4 images, K = 3, 10 hidden pixels; checked by brute force over 1024 "
                                       "completions"),
        ((x_b, obs_b, log_pi_b, mu_b), "a confident model and 60 seen pixels: each p(x_obs | k) is ~1e-360, so a "
                                       "product of probabilities underflows; brute force over 16 completions"),
        ((x_c, obs_c, log_pi_c, mu_c), "8x8 images, K = 4, the upper half (32 pixels) hidden; checked against "
                                       "lvmlib"),
    ]


_CASES = _capstone_cases()
_CASES_K = [Case((x, obs, mu), label) for (x, obs, _, mu), label in _CASES]
_CASES_FULL = [Case(args, label) for args, label in _CASES]

_UNDERFLOW = ("your result is -inf (or nan) where the right answer is finite: a product of many probabilities "
              "underflowed to 0 before the log. Add log-probabilities instead of multiplying probabilities, and "
              "combine the components with logsumexp.")

step_log_p_obs_given_k = Exercise(
    "Capstone step 1 (log p(x_obs | k) for every component)",
    _ref_log_p_obs_given_k,
    hints=[
        "Given k the pixels are independent, and summing a hidden pixel over its two values gives 1: only the "
        "observed pixels remain in p(x_obs | k).",
        "log p(x_obs | k) = sum over observed j of [x_j log mu_kj + (1 - x_j) log(1 - mu_kj)].",
        "log_b = x * np.log(mu) + (1 - x) * np.log1p(-mu)   # (K, D); then (log_b * observed).sum(axis=1), or "
        "log_b[:, observed].sum(axis=1).",
    ],
    solution="""
    def log_p_obs_given_k(x, observed, mu):
        log_b = x * np.log(mu) + (1 - x) * np.log1p(-mu)     # (K, D): log Bernoulli(x_j; mu_kj)
        return log_b[:, observed].sum(axis=1)                # (K,): only the observed pixels""",
    explanation="""
    p(x_obs | k) = sum over x_mis of prod_j p(x_j | k) = prod_{j observed} p(x_j | k) * prod_{j hidden}
    [p(x_j = 0 | k) + p(x_j = 1 | k)] = prod_{j observed} p(x_j | k): every hidden pixel's factor sums to one.
    The log turns the product over pixels into a sum, which cannot underflow.""",
    cases=_CASES_K,
    mistakes=[
        Mistake("hidden pixels included", _w_all_pixels_k,
                "you summed over every pixel, hidden ones included: their values are unknown, and summing them out "
                "removes their factors. Use only the observed pixels."),
        Mistake("probabilities summed over pixels", _w_sum_probs_k,
                "you added the pixels' probabilities. Independent pixels multiply, so their log-probabilities add: "
                "sum x_j log mu_kj + (1 - x_j) log(1 - mu_kj) over the observed pixels."),
        Mistake("product of probabilities underflows", _w_product_k, _UNDERFLOW),
        Mistake("mask reversed", _w_hidden_only_k,
                "you summed over the hidden pixels only: `observed` is True where a pixel is seen, and only those "
                "pixels enter p(x_obs | k)."),
    ],
    rtol=1e-9,
    atol=1e-8,
)

step_log_p_obs = Exercise(
    "Capstone step 2 (log p(x_obs), every hidden pixel summed out)",
    _ref_log_p_obs,
    hints=[
        "p(x_obs) = sum_k p(k) p(x_obs | k): K terms, whatever the number of hidden pixels. Stay in log space.",
        "log p(x_obs) = logsumexp_k [log pi_k + log p(x_obs | k)].",
        "float(logsumexp(log_pi + log_p_obs_given_k(x, observed, mu)))",
    ],
    solution="""
    def log_p_obs(x, observed, log_pi, mu):
        return float(logsumexp(log_pi + log_p_obs_given_k(x, observed, mu)))""",
    explanation="""
    p(x_obs) = sum over x_mis of sum_k pi_k p(x_obs, x_mis | k) = sum_k pi_k p(x_obs | k): the sum over 2^n
    completions is swapped with the sum over k, and step 1 did the inner one. The check enumerates every
    completion where that is feasible and must agree with your K-term sum.""",
    cases=_CASES_FULL,
    mistakes=[
        Mistake("log pi_k forgotten", _w_no_log_pi,
                "the mixture weights are missing: each component's term is log pi_k + log p(x_obs | k)."),
        Mistake("hidden pixels included", _w_all_pixels,
                "you used every pixel, hidden ones included: you computed log p(x) of one particular completion, "
                "not of what was observed."),
        Mistake("exp then sum then log", _w_naive_sum, _UNDERFLOW),
    ],
    rtol=1e-9,
    atol=1e-8,
)

step_posterior = Exercise(
    "Capstone step 3 (p(k | x_obs), the responsibilities)",
    _ref_posterior,
    hints=[
        "Bayes' rule over the K components, with the observed pixels as the data.",
        "p(k | x_obs) = pi_k p(x_obs | k) / p(x_obs): in log space, log pi_k + log p(x_obs | k) - log p(x_obs).",
        "a = log_pi + log_p_obs_given_k(x, observed, mu); return np.exp(a - logsumexp(a))",
    ],
    solution="""
    def posterior_k(x, observed, log_pi, mu):
        a = log_pi + log_p_obs_given_k(x, observed, mu)      # (K,): log p(k, x_obs)
        return np.exp(a - logsumexp(a))                      # normalized: sums to one""",
    explanation="""
    p(k | x_obs) = p(k, x_obs) / p(x_obs) = pi_k p(x_obs | k) / sum_k' pi_k' p(x_obs | k'). Subtracting the
    logsumexp before exponentiating normalizes without underflow, even when every p(k, x_obs) is ~1e-360.""",
    cases=_CASES_FULL,
    mistakes=[
        Mistake("not normalized", _w_unnormalized,
                "your responsibilities are pi_k p(x_obs | k), not normalized: divide by their sum p(x_obs) (in "
                "log space, subtract the logsumexp) so that they sum to one."),
        Mistake("hidden pixels included", _w_post_all_pixels,
                "you conditioned on every pixel, hidden ones included: only the observed pixels are evidence."),
        Mistake("log pi_k forgotten", _w_post_no_log_pi,
                "the prior weights pi_k are missing from Bayes' rule: p(k | x_obs) is proportional to "
                "pi_k p(x_obs | k)."),
    ],
    rtol=1e-7,
    atol=1e-9,
)

step_fill_in = Exercise(
    "Capstone step 4 (fill in the hidden pixels: p(x_j = 1 | x_obs))",
    _ref_fill_in,
    hints=[
        "A hidden pixel is on with a probability that averages the components' mu_kj, weighted by how well each "
        "component explains what was seen.",
        "p(x_j = 1 | x_obs) = sum_k p(k | x_obs) mu_kj for a hidden j; an observed pixel keeps its value x_j.",
        "np.where(observed, x, posterior_k(x, observed, log_pi, mu) @ mu)",
    ],
    solution="""
    def fill_in(x, observed, log_pi, mu):
        return np.where(observed, x, posterior_k(x, observed, log_pi, mu) @ mu)   # (D,)""",
    explanation="""
    p(x_j = 1 | x_obs) = sum_k p(k | x_obs) p(x_j = 1 | k, x_obs) = sum_k p(k | x_obs) mu_kj, because given k
    pixel j is independent of the observed ones. The brute-force check computes the same number as the share of
    probability held by the completions with x_j = 1.""",
    cases=_CASES_FULL,
    mistakes=[
        Mistake("prior instead of posterior", _w_fill_prior,
                "you weighted the components by pi_k, the prior: weight them by p(k | x_obs), which uses what was "
                "seen."),
        Mistake("one component only", _w_fill_hard,
                "you used only the most probable component: every component contributes, weighted by "
                "p(k | x_obs)."),
        Mistake("responsibilities not normalized", _w_fill_unnormalized,
                "your weights pi_k p(x_obs | k) do not sum to one over k, so the filled-in values are far too small: "
                "divide by p(x_obs), i.e. use the normalized p(k | x_obs) of step 3."),
        Mistake("rounded to 0 or 1", _w_fill_rounded,
                "you rounded the hidden pixels to 0 or 1: the step asks for the probability p(x_j = 1 | x_obs), a "
                "number between 0 and 1."),
        Mistake("observed pixels overwritten", _w_fill_everywhere,
                "the observed pixels should keep their observed values (0 or 1); fill in only the hidden ones."),
    ],
    rtol=1e-7,
    atol=1e-9,
)

capstone = Capstone(
    "Capstone: fill in a digit's hidden half with a mixture of Bernoullis",
    [("log_p_obs_given_k", step_log_p_obs_given_k), ("log_p_obs", step_log_p_obs), ("posterior_k", step_posterior),
     ("fill_in", step_fill_in)],
    intro="""
    Hide the upper half of a digit. You write the four functions that marginalize the 32 hidden pixels exactly
    (K terms instead of 2^32), the posterior over components, and the probability of each hidden pixel. Each step
    is checked against brute force over every completion (where that is feasible) and against lvmlib; at the end
    you see your filled-in digit next to lvmlib's.""",
)


def compare_fill_in(fill_in, model, x, observed):
    """The learner's fill-in of one image next to lvmlib's: (yours (D,), lvmlib's (D,)), or None if untouched.

    model : a fitted :class:`BernoulliMixture`. x : (D,) binary image. observed : boolean mask (D,).
    """
    args = (np.array(x, dtype=float), np.array(observed, dtype=bool), np.log(model.weights), model.probs.copy())
    try:
        yours = fill_in(*args)
    except NotImplementedError:
        return None
    if yours is None or yours is Ellipsis:
        return None
    return np.asarray(yours, dtype=float), model.pixel_probs(args[0], args[1])[0]
