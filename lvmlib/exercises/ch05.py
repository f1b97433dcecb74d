"""Chapter 05 exercises: the ELBO of a Gaussian q by Monte Carlo, KL between Gaussians, and the E-step as ELBO
maximization."""

import numpy as np

from lvmlib.distributions import kl_normal
from lvmlib.examples import NonlinearModel1D, three_cluster_mixture
from lvmlib.exercises import Exercise
from lvmlib.logspace import normalize_log

MODEL = NonlinearModel1D()  # z ~ N(0, 1), x | z ~ N(z^2 + 0.3 z, 0.5^2), as in the notebook
MIXTURE = three_cluster_mixture()

# Fixed noise (written by a seeded generator here, not in the learner's notebook) so answers are deterministic.
_EPS = np.random.default_rng(2015).standard_normal(500)


def _elbo_mc(x, mu, sigma, eps):
    z = mu + sigma * eps  # reparameterized samples from q = N(mu, sigma^2)
    log_p_xz = MODEL.log_p_xz(np.array([[x]]), z[:, None, None])[:, 0]
    log_q = -0.5 * np.log(2 * np.pi * sigma**2) - 0.5 * eps**2
    return float(np.mean(log_p_xz - log_q))


def _kl(mu_q, sigma_q, mu_p, sigma_p):
    return kl_normal(mu_q, sigma_q, mu_p, sigma_p)


def _best_q(log_p_xz):
    return np.exp(normalize_log(log_p_xz))


ex1 = Exercise(
    "Exercise 1 (the ELBO of a Gaussian q by Monte Carlo)",
    _elbo_mc,
    hint="""
    Reparameterize: z = mu + sigma * eps. Then log w = log p(x, z) - log q(z) with
    model.log_p_xz(np.array([[x]]), z[:, None, None]) of shape (S, 1) and
    log q(z) = -0.5 log(2 pi sigma^2) - 0.5 eps^2 (because (z - mu) / sigma = eps). Average log w: no logsumexp
    here, the ELBO is a plain mean of logs.""",
    solution="""
    def elbo_by_monte_carlo(x, mu, sigma, eps):
        z = mu + sigma * eps                                         # (S,) samples from q
        log_p_xz = model.log_p_xz(np.array([[x]]), z[:, None, None])[:, 0]
        log_q = -0.5 * np.log(2 * np.pi * sigma**2) - 0.5 * eps**2
        return np.mean(log_p_xz - log_q)""",
    cases=[(2.0, 1.0, 0.5, _EPS), (2.0, -1.2, 0.3, _EPS[:50]), (-0.5, 0.0, 1.0, _EPS), (3.0, 2.0, 2.0, _EPS[:7])],
)

ex2 = Exercise(
    "Exercise 2 (KL between two Gaussians)",
    _kl,
    hint="""
    KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2. Check: it is 0 when
    the two are equal, and it is not symmetric in its arguments.""",
    solution="""
    def kl_gaussians(mu_q, sigma_q, mu_p, sigma_p):
        return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - 0.5""",
    cases=[(0.0, 1.0, 0.0, 1.0), (1.0, 0.5, 0.0, 1.0), (0.0, 1.0, 1.0, 0.5), (-2.0, 3.0, 1.5, 0.2)],
)

ex3 = Exercise(
    "Exercise 3 (the E-step maximizes the ELBO over q)",
    _best_q,
    hint="""
    The ELBO is sum_k q_k (log p(x, z=k) - log q_k); with a Lagrange multiplier for sum_k q_k = 1 its maximum is
    q_k proportional to p(x, z=k), i.e. the posterior. Normalize in log space: subtract logsumexp(log_p_xz)
    (from lvmlib.logspace import logsumexp) before exponentiating, or the last case (log p(x, z) near -1000)
    gives 0 / 0.""",
    solution="""
    from lvmlib.logspace import logsumexp

    def best_q(log_p_xz):
        return np.exp(log_p_xz - logsumexp(log_p_xz))""",
    cases=[(MIXTURE.log_p_xz(np.array([[0.0, 1.0]]))[0],), (MIXTURE.log_p_xz(np.array([[1.5, 0.0]]))[0],),
           (np.array([-1000.0, -1001.0, -1003.0]),)],
)

