"""Chapter 03 exercises: an independent right answer passes, a wrong one fails, the stub is 'not attempted'."""

import itertools
import textwrap

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from lvmlib.exercises import ch03

B = ch03.BINARY_MODEL


def _log_joint_scipy(x_n, z):
    """log p(x, z) of the binary model written with scipy densities, one data point and one configuration."""
    z = np.asarray(z, dtype=float)
    log_prior = np.sum(np.where(z == 1, np.log(B.prior_p), np.log1p(-B.prior_p)))
    return log_prior + stats.multivariate_normal(B.W @ z + B.b, B.sigma_x**2 * np.eye(B.d_x)).logpdf(x_n)


# ---- exercise 1 ----------------------------------------------------------------------------------------------------
def right_ex1(x):
    configs = list(itertools.product([0, 1], repeat=B.d))
    return np.array([logsumexp([_log_joint_scipy(x_n, z) for z in configs]) for x_n in x])


def wrong_ex1(x):  # sums probabilities: underflows to log 0 far from the data
    configs = list(itertools.product([0, 1], repeat=B.d))
    with np.errstate(divide="ignore"):
        return np.array([np.log(sum(np.exp(_log_joint_scipy(x_n, z)) for z in configs)) for x_n in x])


def test_ex1(capsys):
    assert ch03.ex1.check(right_ex1) is True
    assert ch03.ex1.check(wrong_ex1) is False
    assert ch03.ex1.check(lambda x: ...) is None
    assert "not attempted" in capsys.readouterr().out


# ---- exercise 2 ----------------------------------------------------------------------------------------------------
def _log_f_scipy(x, z_grid):
    """log p(x, z) = log N(z; 0, 1) + log N(x; 1.5 z, 0.8^2) with scipy, shape (m, n_data)."""
    return stats.norm.logpdf(z_grid)[:, None] + stats.norm.logpdf(x[:, 0][None, :], 1.5 * z_grid[:, None], 0.8)


def right_ex2(x, z_grid):
    """numpy's trapezoid rule on scipy densities (the cases' integrands do not underflow)."""
    return np.log(np.trapezoid(np.exp(_log_f_scipy(x, z_grid)), z_grid, axis=0))


def wrong_ex2(x, z_grid):  # forgets the grid spacing dz
    return logsumexp(_log_f_scipy(x, z_grid), axis=0)


def rectangle_ex2(x, z_grid):  # every point weighted dz, ends included: right only where p(x, z) vanishes at the ends
    return logsumexp(_log_f_scipy(x, z_grid), axis=0) + np.log(z_grid[1] - z_grid[0])


def test_ex2_fine_grids_reach_the_exact_integral():
    """On the fine grids the reference equals scipy.integrate.quad of p(x, z), the exact log p(x), to 1e-8."""
    for x, z_grid in ch03.ex2.cases[:2]:
        for x_n, got in zip(x[:, 0], ch03.ex2.reference(x, z_grid), strict=True):
            f = lambda z, x_n=x_n: stats.norm.pdf(z) * stats.norm.pdf(x_n, 1.5 * z, 0.8)
            value, _ = integrate.quad(f, -12, 12, epsabs=1e-14, epsrel=1e-12, limit=200)
            assert got == pytest.approx(np.log(value), abs=1e-8)


def test_ex2(capsys):
    assert ch03.ex2.check(right_ex2) is True
    assert ch03.ex2.check(wrong_ex2) is False
    assert ch03.ex2.check(rectangle_ex2) is False
    assert ch03.ex2.check(lambda x, z_grid: None) is None
    assert "not attempted" in capsys.readouterr().out


# ---- exercise 3 ----------------------------------------------------------------------------------------------------
def right_ex3(x):
    """Central finite differences of sum_n log p(x_n), with log p(x) from right_ex1's scipy enumeration."""
    from lvmlib.examples import BinaryLatentModel

    grad = np.zeros_like(B.W)
    eps = 1e-5
    for i, j in itertools.product(*map(range, B.W.shape)):
        step = np.zeros_like(B.W)
        step[i, j] = eps
        plus = BinaryLatentModel(B.W + step, B.b, B.prior_p, B.sigma_x).log_p_x(x).sum()
        minus = BinaryLatentModel(B.W - step, B.b, B.prior_p, B.sigma_x).log_p_x(x).sum()
        grad[i, j] = (plus - minus) / (2 * eps)
    return grad


def wrong_ex3(x):  # uses the prior p(z) instead of the posterior p(z|x)
    z = B.configurations()
    prior = np.exp(B.log_p_z(z))
    residual = x[None, :, :] - (z @ B.W.T + B.b)[:, None, :]
    return np.einsum("k,knd,ke->de", prior, residual, z) / B.sigma_x**2


def test_ex3(capsys):
    assert ch03.ex3.check(right_ex3) is True
    assert ch03.ex3.check(wrong_ex3) is False
    assert ch03.ex3.check(lambda x: ...) is None
    assert "not attempted" in capsys.readouterr().out


def test_printed_solutions_run():
    """The solutions shown to learners are code; run them with the notebook's names."""
    from lvmlib.logspace import log_trapezoid

    names = {"np": np, "logsumexp": logsumexp, "log_trapezoid": log_trapezoid, "binary": B,
             "linear": ch03.LINEAR_MODEL}
    for ex, fname in ((ch03.ex1, "log_p_x_by_enumeration"), (ch03.ex2, "log_p_x_by_grid"), (ch03.ex3, "grad_W")):
        exec(textwrap.dedent(ex._solution), names)  # our own solution text
        assert ex.check(names[fname]) is True
