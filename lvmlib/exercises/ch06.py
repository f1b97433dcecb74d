"""Chapter 06 exercises: the three numerical pieces of a VAE's loss, in numpy.

- ``ex1``: a reparameterized sample z = mu + sigma * eps with sigma = exp(log_var / 2);
- ``ex2``: the closed-form KL( N(mu, diag exp(log_var)) || N(0, I) ), summed over the latent dimensions;
- ``ex3``: the Bernoulli log-likelihood log p(x|z) from logits, stable for logits of +-100.

Each reference is computed with :mod:`lvmlib.distributions` (numpy), not with the chapter's torch code.
"""

import numpy as np

from lvmlib.distributions import kl_normal, log_bernoulli
from lvmlib.exercises import Exercise


def _reparameterize(mu, log_var, eps):
    return mu + np.exp(0.5 * log_var) * eps


def _kl_to_standard_normal(mu, log_var):
    return kl_normal(mu, np.exp(0.5 * log_var), 0.0, 1.0).sum(axis=-1)


def _log_bernoulli_from_logits(x, logits):
    return log_bernoulli(x, logits)


_rng = np.random.default_rng(606)  # fixed test cases, drawn once at import (no effect on any other generator)
_MU, _LOG_VAR, _EPS = _rng.normal(size=(3, 5, 3))
_X = (_rng.random((4, 6)) < 0.5).astype(float)
_LOGITS = np.array([[-100.0, 100.0, 0.0, 3.0, -2.5, 40.0]]) * np.ones((4, 1)) + _rng.normal(size=(4, 6))

ex1 = Exercise(
    "Exercise 1 (reparameterized sample)",
    _reparameterize,
    hint="sigma is exp(log_var / 2); z = mu + sigma * eps, elementwise. No randomness: eps is given.",
    solution="def reparameterize(mu, log_var, eps):\n    return mu + np.exp(0.5 * log_var) * eps",
    cases=[(_MU, _LOG_VAR, _EPS), (np.zeros(2), np.zeros(2), np.ones(2))],
)

ex2 = Exercise(
    "Exercise 2 (Gaussian KL to the prior)",
    _kl_to_standard_normal,
    hint="Per latent dimension: 0.5 * (sigma^2 + mu^2 - 1 - log sigma^2) with sigma^2 = exp(log_var); "
         "then sum over the last axis.",
    solution="def kl_to_prior(mu, log_var):\n"
             "    return 0.5 * (np.exp(log_var) + mu**2 - 1.0 - log_var).sum(axis=-1)",
    cases=[(_MU, _LOG_VAR), (np.zeros((1, 4)), np.zeros((1, 4)))],
)

ex3 = Exercise(
    "Exercise 3 (Bernoulli log-likelihood from logits)",
    _log_bernoulli_from_logits,
    hint="log sigmoid(l) = l - softplus(l) and log(1 - sigmoid(l)) = -softplus(l), so the sum is "
         "sum_j x_j l_j - softplus(l_j); write softplus(l) = np.logaddexp(0, l) so that l = +-100 stays finite.",
    solution="def log_p_x_given_logits(x, logits):\n"
             "    return (x * logits - np.logaddexp(0.0, logits)).sum(axis=-1)",
    cases=[(_X, _LOGITS), (np.array([[1.0, 0.0]]), np.array([[-100.0, 100.0]]))],
    rtol=1e-8,
)
