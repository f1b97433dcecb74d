"""Chapter 01 exercises: an independent right answer, a wrong one and the untouched stub for each."""

import numpy as np
from scipy import stats

from lvmlib.exercises import ch01


def _log_p_x_scipy(x):
    m = ch01.MIXTURE
    comps = [np.log(w) + stats.multivariate_normal(mu, c).logpdf(x)
             for w, mu, c in zip(m.weights, m.means, m.covs, strict=True)]
    return np.logaddexp.reduce(np.atleast_2d(np.stack(comps, axis=-1)), axis=1)


def _stub(*args):
    ...


def test_ex1_log_p_x():
    assert ch01.ex1.check(_log_p_x_scipy) is True
    naive = lambda x: np.log(np.exp(ch01.MIXTURE.log_p_xz(x)).mean(axis=1))  # averages instead of summing
    assert ch01.ex1.check(naive) is False
    exp_then_sum = lambda x: np.log(np.exp(ch01.MIXTURE.log_p_xz(x)).sum(axis=1))  # underflows at (30, -30)
    with np.errstate(divide="ignore"):
        assert ch01.ex1.check(exp_then_sum) is False
    assert ch01.ex1.check(_stub) is None


def test_ex2_posterior():
    right = lambda x: np.exp(ch01.MIXTURE.log_p_xz(x) - _log_p_x_scipy(x)[:, None])
    assert ch01.ex2.check(right) is True
    assert ch01.ex2.check(lambda x: np.exp(ch01.MIXTURE.log_p_x_given_z(x))) is False  # likelihood, not posterior
    p_xz = lambda x: np.exp(ch01.MIXTURE.log_p_xz(x))
    with np.errstate(invalid="ignore"):
        assert ch01.ex2.check(lambda x: p_xz(x) / p_xz(x).sum(axis=1, keepdims=True)) is False  # 0/0 far away
    assert ch01.ex2.check(_stub) is None


def test_ex3_weights_mle():
    assert ch01.ex3.check(lambda z: np.array([np.mean(z == k) for k in range(3)])) is True
    assert ch01.ex3.check(lambda z: np.full(3, 1 / 3)) is False
    assert ch01.ex3.check(lambda z: np.bincount(z) / len(z)) is False  # forgets labels that never occur
    assert ch01.ex3.check(_stub) is None


def test_printed_solutions_run_with_the_notebooks_names_and_pass(capsys):
    # a learner pastes a printed solution into the notebook, where np, logsumexp and mixture exist
    import textwrap

    from scipy.special import logsumexp

    for ex, name in ((ch01.ex1, "log_p_x"), (ch01.ex2, "posterior"), (ch01.ex3, "weights_mle")):
        namespace = {"np": np, "logsumexp": logsumexp, "mixture": ch01.MIXTURE}
        exec(textwrap.dedent(ex._solution), namespace)
        assert ex.check(namespace[name]) is True
