"""Chapter 01 exercises: marginalizing, Bayes' rule for the latent, and learning when z is observed."""

import numpy as np

from lvmlib.examples import three_cluster_mixture
from lvmlib.exercises import Exercise

MIXTURE = three_cluster_mixture()
_X_CASES = [
    (np.array([[0.0, 0.0]]),),
    (np.array([[-2.0, 0.1], [2.0, 0.4], [0.0, 2.5], [30.0, -30.0]]),),
]


def _log_p_x(x):
    return MIXTURE.log_p_x(x)


def _posterior(x):
    return MIXTURE.posterior(x)


def _weights_mle(z):
    return np.bincount(z, minlength=3) / len(z)


ex1 = Exercise(
    "Exercise 1 (log p(x) by marginalizing z)",
    _log_p_x,
    hint="""
    mixture.log_p_xz(x) gives the table log p(x, z=k) of shape (n_data, 3). p(x) sums p(x, z=k) over k; in log
    space that sum is scipy.special.logsumexp(..., axis=1). Do not exponentiate and add: far from every cluster
    the probabilities underflow to 0.0 (at the point (30, -30), log p(x, z) is about -1100 and exp gives 0.0).""",
    solution="""
    def log_p_x(x):
        return logsumexp(mixture.log_p_xz(x), axis=1)""",
    cases=_X_CASES,
)

ex2 = Exercise(
    "Exercise 2 (the posterior p(z|x) by Bayes' rule)",
    _posterior,
    hint="""
    p(z=k|x) = p(x, z=k) / p(x). Subtract log p(x) (shape (n_data,), so add an axis with [:, None]) from the table
    log p(x, z=k), then exponentiate. Each row of the result sums to one, even for the far point (30, -30),
    where exponentiating first would give 0/0.""",
    solution="""
    def posterior(x):
        log_joint = mixture.log_p_xz(x)
        return np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None])""",
    cases=_X_CASES,
)

ex3 = Exercise(
    "Exercise 3 (maximum likelihood when z is observed)",
    _weights_mle,
    hint="""
    With z observed, the average log-likelihood splits into a term for p(z) and one for p(x|z). Maximize
    (1/n) sum_i log pi_{z_i} = sum_k (n_k / n) log pi_k subject to sum_k pi_k = 1 (a Lagrange multiplier does it):
    which fraction of the data should pi_k be? Remember that a label may not occur at all.""",
    solution="""
    def weights_mle(z):
        return np.bincount(z, minlength=3) / len(z)""",
    cases=[(np.array([0, 1, 1, 2, 2, 2]),), (np.array([2, 2, 0]),), (np.array([0, 1, 1]),)],
)
