"""Each chapter 04 exercise accepts an independently written right answer, rejects a wrong one, and reports the
untouched stub as not attempted."""

import numpy as np
import pytest

from lvmlib.distributions import kl_normal
from lvmlib.exercises import ch04
from lvmlib.logspace import logsumexp


def ess_right(log_w):
    m = log_w.max(axis=0)
    w = np.exp(log_w - m)  # scaling all weights by one constant leaves the ESS unchanged
    return w.sum(axis=0) ** 2 / (w**2).sum(axis=0)


def log_p_x_hat_right(log_w):
    m = log_w.max(axis=0)
    return m + np.log(np.mean(np.exp(log_w - m), axis=0))


def bias_k1_right(mu_q, sigma_q):
    # posterior of z ~ N(0,1), x|z ~ N(w z, s^2) by completing the square: precision 1 + w^2/s^2
    w, s, x = 1.5, 0.8, 1.2
    var_p = 1.0 / (1.0 + w**2 / s**2)
    mean_p = var_p * w * x / s**2
    kl = np.log(np.sqrt(var_p) / sigma_q) + (sigma_q**2 + (mu_q - mean_p) ** 2) / (2 * var_p) - 0.5
    return -kl


def stub(*args):
    # your code here: replace ... with your answer
    ...


CASES = [
    (ch04.ex1, log_p_x_hat_right, lambda log_w: np.log(np.mean(np.exp(log_w), axis=0))),  # underflows at -1e4
    (ch04.ex2, ess_right, lambda log_w: np.exp(log_w).sum(axis=0) ** 2 / np.exp(2 * log_w).sum(axis=0)),
    (ch04.ex3, bias_k1_right, lambda mu_q, sigma_q: -bias_k1_right(mu_q, sigma_q)),  # sign flipped: KL, not bias
]


@pytest.mark.parametrize("exercise, right, wrong", CASES)
def test_exercise(exercise, right, wrong, capsys):
    assert exercise.check(right) is True
    with np.errstate(all="ignore"):
        assert exercise.check(wrong) is False
    assert exercise.check(stub) is None
    assert "not attempted" in capsys.readouterr().out
    exercise.hint()
    exercise.solution()


def test_printed_solutions_run_and_pass(capsys):
    # a learner pastes a printed solution into the notebook, whose namespace has these names: it must pass as printed
    for ex, name in ((ch04.ex1, "log_p_x_hat_from_log_w"), (ch04.ex2, "ess_from_log_w"), (ch04.ex3, "bias_k1")):
        ex.solution()
        code = capsys.readouterr().out.split("\n\n", 1)[1]
        namespace = {"np": np, "logsumexp": logsumexp, "kl_normal": kl_normal, "linear": ch04.LINEAR_GAUSSIAN,
                     "x_lin": ch04.X_LINEAR}
        exec(code, namespace)
        assert ex.check(namespace[name]) is True
