"""Chapter 03 exercises: log p(x) by enumeration, log p(x) on a grid, and the gradient identity."""

import numpy as np

from lvmlib.examples import BinaryLatentModel, LinearGaussian
from lvmlib.exercises import Exercise
from lvmlib.logspace import log_trapezoid
from lvmlib.marginal import grad_log_p_x_W

# The exercises' models are fixed (written out, not drawn) so a learner's numbers never depend on a seed.
BINARY_MODEL = BinaryLatentModel(
    W=[[1.2, -0.7, 0.4, 2.0], [0.3, 1.5, -1.1, 0.6]], b=[0.2, -0.4], prior_p=[0.3, 0.6, 0.5, 0.2], sigma_x=0.9
)
LINEAR_MODEL = LinearGaussian()  # z ~ N(0, 1), x | z ~ N(1.5 z, 0.8^2): log p(x) = log N(x; 0, 1.5^2 + 0.8^2)
Z_GRID = np.linspace(-8.0, 8.0, 201)

_BINARY_CASES = [
    (np.array([[0.5, 0.5]]),),
    (np.array([[1.4, -0.2], [-2.0, 1.0], [3.0, 2.5]]),),
    (np.array([[40.0, -40.0]]),),  # far from every W z + b: exp(log p(x, z)) underflows to 0
]


def _log_p_x_enumeration(x):
    return BINARY_MODEL.log_p_x(x)


def _log_p_x_grid(x, z_grid):
    # the trapezoid rule itself: on the fine grids it equals the closed form to ~1e-15, on the coarse one it does not
    return log_trapezoid(LINEAR_MODEL.log_p_xz(x, z_grid[:, None, None]).T, z_grid)


def _grad_W(x):
    return grad_log_p_x_W(BINARY_MODEL, x)


ex1 = Exercise(
    "Exercise 1 (log p(x) by enumerating all 2^d values of z)",
    _log_p_x_enumeration,
    hint="""
    binary.configurations() gives every z in {0,1}^4 as rows of a (16, 4) array. binary.log_p_xz(x, z[:, None, :])
    gives the table log p(x, z) of shape (16, n_data). Sum over the 16 configurations in log space:
    logsumexp(..., axis=0). Exponentiating first fails for x = (40, -40), where every p(x, z) underflows to 0.""",
    solution="""
    def log_p_x_by_enumeration(x):
        z = binary.configurations()                      # (2^d, d)
        return logsumexp(binary.log_p_xz(x, z[:, None, :]), axis=0)""",
    cases=_BINARY_CASES,
)

ex2 = Exercise(
    "Exercise 2 (log p(x) by the trapezoid rule on a grid)",
    _log_p_x_grid,
    hint="""
    For each grid value z_i evaluate log p(x, z_i) = log N(z_i; 0, 1) + log N(x; 1.5 z_i, 0.8^2): with z of shape
    (m, 1, 1), linear.log_p_xz(x, z) has shape (m, n_data). The trapezoid rule sums the areas
    (z_{i+1} - z_i) (f_i + f_{i+1}) / 2; in log space, log_trapezoid(log_f, z_grid) does it with log_f of shape
    (n_data, m). Forgetting the spacing dz shifts every answer by log(dz).""",
    solution="""
    def log_p_x_by_grid(x, z_grid):
        log_f = linear.log_p_xz(x, z_grid[:, None, None])   # (m, n_data)
        return log_trapezoid(log_f.T, z_grid)""",
    cases=[
        (np.array([[-3.0], [0.0], [1.7], [4.0]]), Z_GRID),
        (np.array([[0.25]]), np.linspace(-9.0, 7.0, 301)),
        (np.array([[0.5], [2.0]]), np.linspace(-1.0, 2.0, 7)),  # coarse, and p(x, z) is not 0 at the ends
    ],
)

ex3 = Exercise(
    "Exercise 3 (the gradient identity for W)",
    _grad_W,
    hint="""
    grad_W log p(x, z) = (x - W z - b) z^T / sigma_x^2, and grad_W log p(x) is its average under p(z|x). Enumerate:
    z = binary.configurations() (16, 4); the posterior table is post = exp(log p(x, z) - log p(x)), shape (16, n_data).
    Then sum over data points and configurations of post * outer(x_n - W z - b, z), divided by sigma_x^2.
    np.einsum("kn,knd,ke->de", post, residual, z) does the double sum.""",
    solution="""
    def grad_W(x):
        z = binary.configurations()                                  # (K, d), K = 2^d
        log_joint = binary.log_p_xz(x, z[:, None, :])                # (K, n_data)
        post = np.exp(log_joint - logsumexp(log_joint, axis=0))     # p(z | x_n), columns sum to 1
        residual = x[None, :, :] - (z @ binary.W.T + binary.b)[:, None, :]   # (K, n_data, d_x)
        return np.einsum("kn,knd,ke->de", post, residual, z) / binary.sigma_x**2""",
    cases=_BINARY_CASES[:2],
    rtol=1e-6,
    atol=1e-6,
)
