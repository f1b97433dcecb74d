"""Chapter 01 exercises: marginalizing z, learning when z is observed, and the capstone (ancestral sampling and
the exact posterior of the three-cluster model).

The capstone's sampling step is checked statistically. Every test below has a known null distribution for a
correct sampler (chi-square: exact for the whitened moments of x given z; for the frequencies of z, Pearson's
asymptotic one, accurate at N_CHECK = 20 000 draws), each at level
ALPHA = 3e-5, and there are 13 of them per model: by the union bound a correct sampler fails with probability
below 13 * 3e-5 = 3.9e-4 per model, so below 7.8e-4 < 1e-3 for the step, which checks two models
(tests/test_exercises_ch01.py measures it over 500 seeds).
"""

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from lvmlib.examples import DiscreteMixture, three_cluster_mixture
from lvmlib.exercises import Capstone, Case, Exercise, Mistake, NotAttempted, TimedOut, time_limit

MIXTURE = three_cluster_mixture()
SKEWED = DiscreteMixture([0.6, 0.3, 0.1], MIXTURE.means, MIXTURE.covs, labels=MIXTURE.labels)
FAR = np.array([[30.0, -30.0]])  # far from every cluster: every p(x, z) underflows to 0.0 in float64
ALPHA = 3e-5        # level of each statistical test of the sampling step
N_CHECK = 20_000    # samples drawn from the learner's sampler per model
CHECK_SEED = 101    # the check's generator: np.random.default_rng(CHECK_SEED)
SAMPLE_TIMEOUT = 30.0  # seconds for the three calls of the learner's sampler per model

_X_CASES = [
    Case((np.array([[0.0, 0.0]]),), "x = (0, 0), between clusters A and C"),
    Case((np.array([[-2.0, 0.1], [2.0, 0.4], [0.0, 2.5], [30.0, -30.0]]),),
         "x = four points, the last (30, -30) far from every cluster, where exp(log p(x, z)) underflows to 0"),
]


# ---- exercise 1: log p(x) -------------------------------------------------------------------------------------
def _log_p_x(x):
    return MIXTURE.log_p_x(x)


ex1 = Exercise(
    "Exercise 1 (log p(x) by marginalizing z)",
    _log_p_x,
    hints=[
        "p(x) is a sum over the three values of z of the joint p(x, z). Which function adds numbers that are "
        "stored as logs, without leaving log space?",
        "log p(x) = log sum_k exp(log p(x, z=k)) = logsumexp over the latent axis of the table "
        "mixture.log_p_xz(x), which has shape (n_data, 3): one row per data point, one column per z.",
        "return logsumexp(mixture.log_p_xz(x), axis=1)",
    ],
    solution="""
    def log_p_x(x):
        return logsumexp(mixture.log_p_xz(x), axis=1)""",
    explanation="""
    Marginalize: p(x) = sum_z p(x, z). In logs, log p(x) = log sum_z exp(log p(x, z)). Computed literally, exp of
    log p(x, z) ~ -1100 (at x = (30, -30)) is 0.0 and the log is -inf. logsumexp first subtracts the largest term
    m: log sum_z exp(l_z) = m + log sum_z exp(l_z - m), where every exponent is <= 0 and one of them is 0.""",
    cases=_X_CASES,
    mistakes=[
        Mistake("averaged over z", lambda x: logsumexp(MIXTURE.log_p_xz(x), axis=1) - np.log(3),
                "you averaged p(x, z) over the three values of z (your result is log 3 too low): p(x) is the sum "
                "of p(x, z), and the prior p(z) inside p(x, z) already weights the clusters."),
        Mistake("likelihood instead of joint", lambda x: logsumexp(MIXTURE.log_p_x_given_z(x), axis=1),
                "you summed p(x | z) instead of p(x, z) = p(z) p(x | z): the prior weights are missing."),
        Mistake("wrong axis", lambda x: logsumexp(MIXTURE.log_p_xz(x), axis=0),
                "you summed over the data points (axis 0) instead of over z (axis 1, the columns)."),
        Mistake("exponentiated first", lambda x: _naive_log_sum(MIXTURE.log_p_xz(x)),
                "you exponentiated log p(x, z) and then summed: at the far point every term underflows to 0.0 "
                "and log(0) = -inf. Stay in log space (logsumexp)."),
    ],
)


def _naive_log_sum(log_terms):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.exp(log_terms).sum(axis=1))


# ---- exercise 2: maximum likelihood for the weights when z is observed -----------------------------------------
def _weights_mle(z):
    return np.bincount(z, minlength=3) / len(z)


ex2 = Exercise(
    "Exercise 2 (maximum likelihood when z is observed)",
    _weights_mle,
    hints=[
        "With z observed, the log-likelihood of the weights is (1/n) sum_i log pi_{z_i} = sum_k (n_k / n) log pi_k, "
        "with n_k the number of points labelled k. Which pi (summing to one) maximizes it?",
        "A Lagrange multiplier for sum_k pi_k = 1 gives n_k / pi_k = n for every k: pi_k = n_k / n, the label "
        "frequencies. Remember that a label may not occur at all (n_k = 0), and the answer still has 3 entries.",
        "return np.bincount(z, minlength=3) / len(z)",
    ],
    solution="""
    def weights_mle(z):
        return np.bincount(z, minlength=3) / len(z)""",
    explanation="""
    Maximize sum_k n_k log pi_k subject to sum_k pi_k = 1. Setting the derivative of
    sum_k n_k log pi_k - lambda (sum_k pi_k - 1) to zero gives n_k / pi_k = lambda; summing pi_k = n_k / lambda
    over k gives lambda = n. So pi_k = n_k / n: the fraction of the data with label k.""",
    cases=[Case((np.array([0, 1, 1, 2, 2, 2]),), "z = [0, 1, 1, 2, 2, 2]"),
           Case((np.array([2, 2, 0]),), "z = [2, 2, 0], label 1 never occurs"),
           Case((np.array([0, 1, 1]),), "z = [0, 1, 1], the last label (2) never occurs")],
    mistakes=[
        Mistake("counts not normalized", lambda z: np.bincount(z, minlength=3).astype(float),
                "you returned the counts n_k: the weights must sum to one (divide by n, the number of data points)."),
        Mistake("uniform", lambda z: np.full(3, 1 / 3),
                "you returned equal weights: the maximum-likelihood weights follow the data's label frequencies."),
        Mistake("missing labels dropped", lambda z: np.bincount(z) / len(z),
                "a label that never occurs was dropped: the answer needs one weight per label (3 of them), "
                "with 0 for a label that never occurs (np.bincount(..., minlength=3))."),
    ],
)


# ---- capstone step 1: ancestral sampling ------------------------------------------------------------------------
def _sampling_problems(z, x, model, alpha=ALPHA):
    """Messages for every statistical test that (z, x) fails as a sample of ``model`` (empty list: all pass).

    Tests (each exact for a correct sampler, at level ``alpha``): a chi-square test of the frequencies of z against
    the weights; for each component k, with e = L_k^{-1} (x - mu_k) over the points with z = k (L_k L_k^T = Sigma_k),
    n_k |mean(e)|^2 ~ chi2(2), and sum(e_1^2), sum(e_2^2), sum(((e_1 + e_2) / sqrt 2)^2) ~ chi2(n_k), two-sided.
    """
    K = model.n_components
    n = len(z)
    counts = np.bincount(z, minlength=K)
    problems = []
    p_freq = stats.chisquare(counts, n * model.weights).pvalue
    if p_freq < alpha:
        uniform_p = stats.chisquare(counts, np.full(K, n / K)).pvalue
        if uniform_p >= alpha and not np.allclose(model.weights, 1 / K):
            problems.append(f"the frequencies of z are {np.round(counts / n, 3)}, close to uniform, but the weights "
                            f"pi are {np.round(model.weights, 3)}: draw z from pi (rng.choice(K, size=n, p=weights)), "
                            "not uniformly.")
        else:
            problems.append(f"the frequencies of z are {np.round(counts / n, 3)} but the weights pi are "
                            f"{np.round(model.weights, 3)} (chi-square p-value {p_freq:.1e}).")
    for k in range(K):
        xs = x[z == k]
        n_k = len(xs)
        if n_k < 2:
            continue
        e = np.linalg.solve(model.chols[k], (xs - model.means[k]).T).T  # whitened: N(0, I) if x | z=k is right
        p_mean = stats.chi2.sf(n_k * np.sum(e.mean(axis=0) ** 2), 2)
        if p_mean < alpha:
            problems.append(f"the points with z = {k} have mean {np.round(xs.mean(axis=0), 3)}, but mu_{k} = "
                            f"{np.round(model.means[k], 3)}: x given z = {k} must be centred at means[{k}] "
                            "(index the means with each point's own z).")
            break  # one component's diagnosis is enough
        sums = [np.sum(e[:, 0] ** 2), np.sum(e[:, 1] ** 2), np.sum((e[:, 0] + e[:, 1]) ** 2 / 2)]
        p_var = [2 * min(stats.chi2.sf(s, n_k), stats.chi2.cdf(s, n_k)) for s in sums]
        if min(p_var) < alpha:
            cov = np.cov(xs.T)
            variances = np.diag(model.covs[k])
            if np.allclose(cov, model.covs[k] @ model.covs[k].T, rtol=0.1, atol=0.02):
                problems.append(f"the points with z = {k} have covariance close to Sigma_{k} Sigma_{k}^T, not "
                                f"Sigma_{k}: you multiplied the noise by the covariance itself. Use a matrix L with "
                                "L L^T = Sigma (np.linalg.cholesky(Sigma)), or rng.multivariate_normal.")
            elif np.allclose(cov, np.diag(variances**2), rtol=0.1, atol=0.02):
                problems.append(f"the points with z = {k} have variances {np.round(np.diag(cov), 3).tolist()}, "
                                f"close to the squares of Sigma_{k}'s diagonal {np.round(variances, 3).tolist()}: "
                                "you used the variances as standard deviations (a standard deviation is the square "
                                "root of a variance), and the correlation is missing too.")
            elif np.allclose(cov, np.diag(variances), rtol=0.1, atol=0.02):
                problems.append(f"the points with z = {k} have the right variances but no correlation "
                                f"(covariance {np.round(cov, 3).tolist()}, Sigma_{k} = "
                                f"{np.round(model.covs[k], 3).tolist()}): the coordinates of x were drawn "
                                "independently. Use a matrix L with L L^T = Sigma (np.linalg.cholesky), or "
                                "rng.multivariate_normal.")
            elif np.allclose(cov, model.chols[k].T @ model.chols[k], rtol=0.1, atol=0.02):
                problems.append(f"the points with z = {k} have covariance close to L^T L, not L L^T = Sigma_{k}: "
                                "you multiplied the noise by the transposed Cholesky factor (L eps, with L = "
                                "np.linalg.cholesky(Sigma) lower triangular, has covariance L L^T).")
            else:
                problems.append(f"the points with z = {k} have covariance {np.round(cov, 3).tolist()}, but "
                                f"Sigma_{k} = {np.round(model.covs[k], 3).tolist()}.")
            break
    return problems


def _call(answer, *args):
    got = answer(*args)
    if got is None or got is Ellipsis:
        raise NotAttempted
    return got


def _check_sample(answer, models=(SKEWED, MIXTURE), n=N_CHECK, seed=CHECK_SEED):
    """The sampling step's checker: shapes, reproducibility through the rng, then the statistical tests."""
    if not callable(answer):
        return False, f"expected a function sample_mixture(weights, means, covs, n, rng), got {type(answer).__name__}."
    for model in models:
        name = f"weights {np.round(model.weights, 3).tolist()}"
        args = (model.weights.copy(), model.means.copy(), model.covs.copy())
        try:
            with time_limit(SAMPLE_TIMEOUT):
                got = _call(answer, *args, n, np.random.default_rng(seed))
                again = _call(answer, *[a.copy() for a in args], n, np.random.default_rng(seed))
                other = _call(answer, *[a.copy() for a in args], n, np.random.default_rng(seed + 1))
        except NotAttempted:
            raise
        except TimedOut:
            return False, (f"with {name}, three calls with n = {n} took more than {SAMPLE_TIMEOUT:g} s: draw all n "
                           "samples at once (rng.choice(K, size=n, p=weights), rng.standard_normal((n, D))) instead "
                           "of one per loop step.")
        except Exception as exc:
            return False, f"with {name}, your function raised {type(exc).__name__}: {exc}"
        if not (isinstance(got, tuple) and len(got) == 2):
            return False, "return a pair (z, x): z of shape (n,) with integer labels, x of shape (n, 2)."
        z, x = (np.asarray(v) for v in got)
        if z.shape != (n,) or x.shape != (n, 2):
            return False, f"with n = {n}, z has shape {z.shape} and x {x.shape}; expected ({n},) and ({n}, 2)."
        if z.dtype.kind not in "iu" or z.min() < 0 or z.max() >= model.n_components:
            return False, "z must hold integer labels 0, 1, 2 (one per sample), e.g. from rng.choice."
        if not np.all(np.isfinite(x)):
            return False, "x has non-finite values."
        if not (np.array_equal(np.asarray(again[0]), z) and np.array_equal(np.asarray(again[1]), x)):
            return False, ("two calls with generators made from the same seed gave different samples: draw every "
                           "random number from the rng argument (rng.choice, rng.standard_normal), never from "
                           "np.random.* or another generator.")
        if np.array_equal(np.asarray(other[1]), x):
            return False, ("generators with different seeds gave the same samples: use the rng argument (no fixed seed "
                           "and no np.random.seed inside the function).")
        problems = _sampling_problems(z, x, model)
        if problems:
            return False, f"with {name} and n = {n}: " + " ".join(problems)
    return True, ""


SAMPLE_SOLUTION = """
def sample_mixture(weights, means, covs, n, rng):
    z = rng.choice(len(weights), size=n, p=weights)          # z ~ Cat(pi): one label per sample
    chols = np.linalg.cholesky(covs)                          # (K, D, D), L_k L_k^T = Sigma_k
    eps = rng.standard_normal((n, means.shape[1]))            # (n, D) ~ N(0, I)
    x = means[z] + np.einsum("nij,nj->ni", chols[z], eps)     # x | z ~ N(mu_z, Sigma_z)
    return z, x"""

step_sample = Exercise(
    "Capstone step 1 (ancestral sampling)",
    checker=_check_sample,
    hints=[
        "Follow the arrow z -> x: first a label for every sample from the weights pi, then each x from the "
        "Gaussian of its own label. Draw every random number from rng.",
        "z = rng.choice(K, size=n, p=weights). For x: if eps ~ N(0, I) and L L^T = Sigma (Cholesky), then "
        "mu + L eps ~ N(mu, Sigma). With arrays: means[z] has shape (n, D) and cholesky(covs)[z] shape (n, D, D).",
        "chols = np.linalg.cholesky(covs); eps = rng.standard_normal((n, D)); "
        "x = means[z] + np.einsum('nij,nj->ni', chols[z], eps)",
    ],
    solution=SAMPLE_SOLUTION,
    explanation="""
    Ancestral sampling draws from the joint p(x, z) = p(z) p(x | z) in the order of the arrows: z ~ Cat(pi), then
    x ~ N(mu_z, Sigma_z). A Gaussian with covariance Sigma is an affine map of a standard one: with L L^T = Sigma,
    Cov(L eps) = L I L^T = Sigma. Keeping x with its z gives a sample of the joint; dropping z, of p(x).""",
    timeout=60.0,
)


# ---- capstone step 2: the exact posterior in log space ---------------------------------------------------------
def _log_posterior(x, weights, means, covs):
    return DiscreteMixture(weights, means, covs).log_posterior(x)


def _log_posterior_brute_force(x, weights, means, covs):
    """Bayes' rule term by term with scipy's densities (no log space): valid only where no term underflows."""
    joint = np.stack([w * stats.multivariate_normal(m, c).pdf(x)
                      for w, m, c in zip(weights, means, covs, strict=True)], axis=-1).reshape(len(x), -1)
    return np.log(joint / joint.sum(axis=1, keepdims=True))


def _log_joint(x, weights, means, covs):
    return DiscreteMixture(weights, means, covs).log_p_xz(x)


_NEAR = np.array([[0.0, 0.0], [-2.0, 0.1], [2.0, 0.4], [0.0, 2.5], [1.0, 1.5]])
_FAR = np.array([[30.0, -30.0], [-25.0, 40.0], [0.0, 1.2]])
_POST_ARGS = [(SKEWED.weights, MIXTURE.means, MIXTURE.covs), (MIXTURE.weights, MIXTURE.means, MIXTURE.covs)]

_post_vs_lvmlib = Exercise(
    "Capstone step 2 (the posterior, against lvmlib)",
    _log_posterior,
    cases=[Case((_NEAR, *_POST_ARGS[0]), "five points near the clusters, weights (0.6, 0.3, 0.1)"),
           Case((_FAR, *_POST_ARGS[0]), "(30, -30) and (-25, 40), far from every cluster, where every p(x, z) "
                                        "underflows to 0.0, and (0, 1.2); weights (0.6, 0.3, 0.1)"),
           Case((_NEAR, *_POST_ARGS[1]), "five points near the clusters, the chapter's equal weights")],
    mistakes=[
        Mistake("forgot normalization", _log_joint,
                "you returned log p(x, z): subtract log p(x) = logsumexp of log p(x, z) over z, so that each row's "
                "probabilities sum to one."),
        Mistake("probabilities instead of logs", lambda *a: np.exp(_log_posterior(*a)),
                "you returned probabilities p(z | x); the step asks for log p(z | x) (do not exponentiate)."),
        Mistake("wrong axis", lambda *a: _log_joint(*a) - logsumexp(_log_joint(*a), axis=0, keepdims=True),
                "you normalized over the data points (axis 0): normalize each row over z (axis 1)."),
        Mistake("forgot the prior", lambda x, w, m, c: _log_posterior(x, np.full(len(w), 1 / len(w)), m, c),
                "your posterior ignores the weights pi: log p(x, z=k) = log pi_k + log N(x; mu_k, Sigma_k)."),
        Mistake("exponentiated first", lambda *a: _naive_log_normalize(_log_joint(*a)),
                "you exponentiated before normalizing: far from the clusters every p(x, z) underflows to 0.0 and "
                "0/0 = nan. Subtract logsumexp in log space instead."),
    ],
    rtol=1e-6, atol=1e-8,
)

_post_vs_brute_force = Exercise(
    "Capstone step 2 (the posterior, against brute-force Bayes)",
    _log_posterior_brute_force,
    cases=[Case((_NEAR, *_POST_ARGS[0]), "five points near the clusters, weights (0.6, 0.3, 0.1)"),
           Case((_NEAR, *_POST_ARGS[1]), "five points near the clusters, the chapter's equal weights")],
    rtol=1e-6, atol=1e-8,
)


def _naive_log_normalize(log_joint):
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.exp(log_joint)
        return np.log(p / p.sum(axis=1, keepdims=True))


def _check_log_posterior(answer):
    """Against lvmlib on every case (incl. far points), then against Bayes' rule computed term by term."""
    for exercise in (_post_vs_lvmlib, _post_vs_brute_force):
        ok, message = exercise.verdict(answer)
        if ok is None:
            raise NotAttempted
        if not ok:
            return False, message
    return True, ""


step_log_posterior = Exercise(
    "Capstone step 2 (the exact posterior log p(z|x))",
    checker=_check_log_posterior,
    hints=[
        "Bayes' rule: p(z | x) = p(x, z) / p(x). In logs that is a difference. Which two tables do you need, and "
        "which one is a sum over z?",
        "log p(x, z=k) = log pi_k + log N(x; mu_k, Sigma_k) (scipy.stats.multivariate_normal(mu_k, Sigma_k).logpdf), "
        "a table of shape (n, K); log p(x) = logsumexp of it over axis 1; log p(z | x) = table - log p(x)[:, None].",
        "log_joint = np.stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(x) for w, m, c in "
        "zip(weights, means, covs)], axis=1); return log_joint - logsumexp(log_joint, axis=1, keepdims=True)",
    ],
    solution="""
def log_posterior(x, weights, means, covs):
    log_joint = np.stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(x)
                          for w, m, c in zip(weights, means, covs)], axis=1)     # (n, K): log p(x, z=k)
    return log_joint - logsumexp(log_joint, axis=1, keepdims=True)            # minus log p(x)""",
    explanation="""
    p(z=k | x) = pi_k N(x; mu_k, Sigma_k) / sum_j pi_j N(x; mu_j, Sigma_j). Taking logs, log p(z=k | x) =
    log p(x, z=k) - logsumexp_j log p(x, z=j). Nothing is exponentiated, so at (30, -30), where every
    p(x, z) is below the smallest float, the log-posterior is still exact: the differences between the log p(x, z)
    survive even when the numbers themselves do not.""",
)

capstone = Capstone(
    "Capstone: sample the three-cluster model and infer the hidden cause",
    [("sample", step_sample), ("log_posterior", step_log_posterior)],
    intro="""
    You write the two computations of this chapter for a mixture with weights pi, means mu_k and covariances
    Sigma_k: ancestral sampling (z ~ Cat(pi), x | z ~ N(mu_z, Sigma_z), from an explicit np.random.Generator),
    and the exact posterior log p(z | x) in log space. Step 1 is checked by the frequencies of z and the moments of
    x given z (a correct sampler fails with probability < 7.8e-4), step 2 against lvmlib (also far from the clusters)
    and against Bayes' rule computed term by term. At the end you see your samples coloured by your posterior.""",
)
