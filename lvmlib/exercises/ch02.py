"""Chapter 02 exercises: the E-step in log space, the M-step for the means, and the ELBO of a mixture.

Each learner function receives plain arrays (shapes as in :mod:`lvmlib.mixtures`): X (n, d), weights (K,),
means (K, d), covs (K, d, d), resp (n, K).
"""

import numpy as np

from lvmlib import mixtures
from lvmlib.distributions import cholesky
from lvmlib.examples import three_cluster_mixture
from lvmlib.exercises import Exercise

_ABC = three_cluster_mixture()
_X = np.array([[-2.0, 0.1], [2.0, 0.4], [0.0, 2.5], [0.1, 1.2], [40.0, -30.0]])  # the last one is far from all
_X3 = np.array([[0.0, 0.0], [1.0, 2.0], [-1.5, 0.5], [3.0, -1.0]])
_UNEVEN = (np.array([0.7, 0.2, 0.1]), _ABC.means + 0.5, _ABC.covs * 1.5)
_RESP = np.array([[0.8, 0.1, 0.1], [0.2, 0.5, 0.3], [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]])


def _log_resp(X, weights, means, covs):
    return mixtures.e_step(X, weights, means, cholesky(covs))[0]


def _means(X, resp):
    return mixtures.m_step(X, resp, reg_covar=0.0)[1]


def _elbo(X, resp, weights, means, covs):
    return mixtures.elbo(X, resp, weights, means, covs)


ex1 = Exercise(
    "Exercise 1 (the E-step in log space)",
    _log_resp,
    hint="""
    Build the table log p(x_i, z=k) = log pi_k + log N(x_i; mu_k, Sigma_k) of shape (n, K), e.g. with
    scipy.stats.multivariate_normal(mu_k, Sigma_k).logpdf(X) for each k. Subtract its logsumexp over k
    (keepdims=True, or [:, None]). Exponentiating first and dividing fails for the point (40, -30): every p(x, z=k)
    underflows to 0 and 0/0 is NaN.""",
    solution="""
    def log_responsibilities(X, weights, means, covs):
        log_joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                              for w, m, c in zip(weights, means, covs)], axis=1)
        return log_joint - logsumexp(log_joint, axis=1, keepdims=True)""",
    cases=[(_X, _ABC.weights, _ABC.means, _ABC.covs), (_X, *_UNEVEN)],
    atol=1e-8,
)

ex2 = Exercise(
    "Exercise 2 (the M-step for the means)",
    _means,
    hint="""
    Each mean is a weighted average of all points, with point i weighted by r_ik: mu_k = sum_i r_ik x_i / N_k,
    N_k = sum_i r_ik. In matrix form: resp.T @ X divided row by row by resp.sum(axis=0)[:, None].""",
    solution="""
    def m_step_means(X, resp):
        return resp.T @ X / resp.sum(axis=0)[:, None]""",
    cases=[(_X3, _RESP[:4]), (_X3, np.eye(3)[[0, 1, 2, 2]]), (_X, _RESP)],
)

ex3 = Exercise(
    "Exercise 3 (the ELBO of a mixture, per data point)",
    _elbo,
    hint="""
    ELBO = mean over i of sum_k r_ik (log p(x_i, z=k) - log r_ik). Build the (n, K) table log p(x_i, z=k) as in
    exercise 1. Where r_ik = 0 the term is 0 (0 log 0 = 0): use np.where(resp > 0, ..., 0.0) or
    scipy.special.xlogy(resp, resp) for the entropy part.""",
    solution="""
    from scipy.special import xlogy  # xlogy(r, r) = r log r, and 0 where r = 0

    def elbo_per_point(X, resp, weights, means, covs):
        log_joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                              for w, m, c in zip(weights, means, covs)], axis=1)
        expected_log_joint = np.sum(resp * log_joint, axis=1)
        entropy = -np.sum(xlogy(resp, resp), axis=1)
        return np.mean(expected_log_joint + entropy)""",
    cases=[(_X[:4], _RESP[:4], _ABC.weights, _ABC.means, _ABC.covs), (_X, _RESP, *_UNEVEN)],
)
