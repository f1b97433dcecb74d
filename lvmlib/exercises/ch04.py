"""Exercises of chapter 04 (Monte Carlo and importance sampling); reference answers computed with lvmlib.

- ex1: the importance sampling estimate of log p(x) from log-weights, with logsumexp (log-weights of -1e4 included);
- ex2: the effective sample size from log-weights;
- ex3: the exact bias of the k = 1 estimate for a Gaussian q on the linear-Gaussian model (it is -KL(q || p(z|x))).
"""

import numpy as np

from lvmlib.distributions import kl_normal
from lvmlib.estimators import effective_sample_size, log_p_x_hat
from lvmlib.examples import LinearGaussian
from lvmlib.exercises import Exercise

# the cases the learner's functions are tested on: log-weights of shape (k, n_data)
_LOG_W_CASES = [
    (np.array([[-1.0], [-2.0], [-3.0]]),),
    (np.random.default_rng(4).normal(-3.0, 2.0, size=(50, 4)),),
    (np.array([[-1e4, -2e4], [-1e4 - 1.0, -2e4 + 3.0], [-1e4 + 2.0, -2e4]]),),  # np.exp underflows to 0 here
    (np.array([[0.5, 0.0, -7.0]]),),  # k = 1
]

LINEAR_GAUSSIAN = LinearGaussian()  # z ~ N(0, 1), x | z ~ N(1.5 z, 0.8^2)
X_LINEAR = np.array([[1.2]])


def _ref_log_p_x_hat(log_w):
    return log_p_x_hat(log_w)


def _ref_ess(log_w):
    return effective_sample_size(log_w)


def _ref_bias_k1(mu_q, sigma_q):
    mean, cov = LINEAR_GAUSSIAN.posterior(X_LINEAR)
    return float(-kl_normal(mu_q, sigma_q, mean[0, 0], np.sqrt(cov[0, 0])))


ex1 = Exercise(
    "Exercise 1 (log p̂_k(x) with logsumexp)",
    _ref_log_p_x_hat,
    hint="""log( (1/k) sum_j exp(log_w_j) ) = logsumexp(log_w, axis=0) - log(k). Never exponentiate first: with
    log-weights of -1e4, np.exp gives exactly 0 and the log gives -inf.""",
    solution="""
    def log_p_x_hat_from_log_w(log_w):
        k = log_w.shape[0]
        return logsumexp(log_w, axis=0) - np.log(k)
    """,
    cases=_LOG_W_CASES,
)

ex2 = Exercise(
    "Exercise 2 (effective sample size)",
    _ref_ess,
    hint="""ESS = (sum_j w_j)^2 / sum_j w_j^2. In log space: exp(2 * logsumexp(log_w, axis=0) - logsumexp(2 * log_w,
    axis=0)). The ratio does not change if every weight is multiplied by the same constant.""",
    solution="""
    def ess_from_log_w(log_w):
        return np.exp(2 * logsumexp(log_w, axis=0) - logsumexp(2 * log_w, axis=0))
    """,
    cases=_LOG_W_CASES,
)

ex3 = Exercise(
    "Exercise 3 (the bias at k = 1 in closed form)",
    _ref_bias_k1,
    hint="""With k = 1, E_q[log w] = E_q[log p(x, z) - log q(z)] = log p(x) - KL(q || p(z|x)), so the bias is
    -KL(q || p(z|x)). linear.posterior(x_lin) gives the posterior's mean (n_data, d_z) and covariance (d_z, d_z);
    kl_normal(mu_q, sigma_q, mu_p, sigma_p) is KL(q || p) between 1-D Gaussians (standard deviations, not
    variances).""",
    solution="""
    def bias_k1(mu_q, sigma_q):
        mean, cov = linear.posterior(x_lin)
        return -kl_normal(mu_q, sigma_q, mean[0, 0], np.sqrt(cov[0, 0]))
    """,
    cases=[(0.0, 1.0), (0.5, 0.3), (-1.0, 2.0), (0.8, 0.55)],
)
