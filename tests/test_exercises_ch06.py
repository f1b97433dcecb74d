"""Chapter 06 exercises: a right answer (written independently), a wrong one, and the untouched stub."""

import numpy as np
import pytest
from scipy.special import expit, xlogy

from lvmlib.exercises import ch06


def right_reparameterize(mu, log_var, eps):
    return mu + np.sqrt(np.exp(log_var)) * eps


def right_kl(mu, log_var):
    var = np.exp(log_var)
    return np.sum(-0.5 * log_var + (var + mu**2) / 2 - 0.5, axis=-1)


def right_log_bernoulli(x, logits):
    # log sigmoid(l) = -log(1 + e^-l), computed without overflow through logaddexp
    return np.sum(x * -np.logaddexp(0, -logits) + (1 - x) * -np.logaddexp(0, logits), axis=-1)


def naive_log_bernoulli(x, logits):  # underflows to log(0) = -inf at logits of +-100
    p = expit(logits)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(xlogy(x, p) + xlogy(1 - x, 1 - p), axis=-1)


def stub(*args):
    # your code here: replace ... with your answer
    ...


CASES = [
    (ch06.ex1, right_reparameterize, lambda mu, log_var, eps: mu + np.exp(log_var) * eps),
    (ch06.ex2, right_kl, lambda mu, log_var: 0.5 * (np.exp(log_var) + mu**2 - 1 - log_var)),  # not summed
    (ch06.ex3, right_log_bernoulli, naive_log_bernoulli),
]


@pytest.mark.parametrize("exercise, right, wrong", CASES)
def test_right_wrong_and_untouched(exercise, right, wrong, capsys):
    assert exercise.check(right) is True
    assert exercise.check(wrong) is False
    assert exercise.check(stub) is None
    assert "not attempted" in capsys.readouterr().out


def test_the_solutions_shown_are_right():
    for exercise, name in ((ch06.ex1, "reparameterize"), (ch06.ex2, "kl_to_prior"), (ch06.ex3, "log_p_x_given_logits")):
        namespace = {"np": np}
        exec(exercise._solution, namespace)
        assert exercise.check(namespace[name]) is True
