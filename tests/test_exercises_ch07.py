"""Chapter 07 exercises: independently written right answers pass, each listed mistake fails with its own
diagnosis, untouched stubs are 'not attempted', and the capstone scores each step on its own."""

import numpy as np
import pytest
from scipy.stats import norm

from lvmlib.exercises import ch07


# ---- an independent right solution (numpy and scipy only) --------------------------------------------------
def free_bits_rate(kl_units, lam):
    per_unit = np.sum(kl_units, axis=0) / kl_units.shape[0]
    return float(sum(max(lam, v) for v in per_unit))


def planar_layer(z, u, w, b):
    return z + np.outer(np.tanh(z @ w + b), u)


def planar_log_det(z, u, w, b):
    slope = 1.0 / np.cosh(z @ w + b) ** 2  # tanh' = sech^2
    return np.log(np.abs(1.0 + np.dot(u, w) * slope))


def flow_log_q(eps, mu, log_sigma, layers):
    z = mu + np.exp(log_sigma) * eps
    log_q = norm.logpdf(eps).sum(axis=1) - np.sum(log_sigma)
    for u, w, b in layers:
        log_q = log_q - planar_log_det(z, u, w, b)
        z = planar_layer(z, u, w, b)
    return log_q


def flow_elbo(eps, mu, log_sigma, layers, log_joint):
    z = mu + np.exp(log_sigma) * eps
    for u, w, b in layers:
        z = planar_layer(z, u, w, b)
    return float(np.mean(log_joint(z) - flow_log_q(eps, mu, log_sigma, layers)))


RIGHT = {"planar_layer": planar_layer, "planar_log_det": planar_log_det, "flow_log_q": flow_log_q,
         "flow_elbo": flow_elbo}


def _stub(*args):
    ...


def test_ex1_right_stub_and_hints(capsys):
    assert ch07.ex1.check(free_bits_rate) is True
    assert ch07.ex1.check(_stub) is None
    assert len(ch07.ex1.hints) >= 2
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", [ch07.ex1, *ch07.capstone.steps.values()], ids=lambda e: e.title)
def test_every_listed_mistake_fails_with_its_own_diagnosis(exercise, capsys):
    assert exercise.mistakes, "each exercise lists the usual mistakes"
    for mistake in exercise.mistakes:
        assert exercise.check(mistake.wrong) is False, mistake.name
        out = capsys.readouterr().out
        assert mistake.message[:60] in out.replace("\n", " "), (mistake.name, out)


def test_capstone_right_solution_passes_every_step(capsys):
    result = ch07.capstone.check(**RIGHT)
    assert all(v is True for v in result.values()), result
    assert "4 of 4 steps correct" in capsys.readouterr().out


def test_capstone_stubs_are_not_attempted():
    result = ch07.capstone.check(**{name: _stub for name in RIGHT})
    assert all(v is None for v in result.values())


@pytest.mark.parametrize("broken", list(RIGHT))
def test_a_bug_in_one_step_fails_that_step_only(broken):
    def buggy_layer(z, u, w, b):  # u added with the wrong sign
        return z - np.outer(np.tanh(z @ w + b), u)

    def buggy_log_det(z, u, w, b):  # |.| of the determinant, no log
        return np.abs(1.0 + np.dot(u, w) / np.cosh(z @ w + b) ** 2)

    def buggy_log_q(eps, mu, log_sigma, layers):  # forgot the base scale's log-determinant
        return flow_log_q(eps, mu, log_sigma, layers) + np.sum(log_sigma)

    def buggy_elbo(eps, mu, log_sigma, layers, log_joint):  # the IWAE-style log of the mean weight, not the ELBO
        z = mu + np.exp(log_sigma) * eps
        for u, w, b in layers:
            z = planar_layer(z, u, w, b)
        log_w = log_joint(z) - flow_log_q(eps, mu, log_sigma, layers)
        return float(np.log(np.mean(np.exp(log_w))))

    bugs = {"planar_layer": buggy_layer, "planar_log_det": buggy_log_det, "flow_log_q": buggy_log_q,
            "flow_elbo": buggy_elbo}
    result = ch07.capstone.check(**{**RIGHT, broken: bugs[broken]})
    assert result[broken] is False
    assert all(v is True for name, v in result.items() if name != broken)


def test_printed_solutions_run_and_pass(capsys):
    """A learner pastes each printed solution into the notebook (np defined, earlier steps done): it passes."""
    namespace = {"np": np, "__builtins__": __builtins__}
    for exercise in [ch07.ex1, *ch07.capstone.steps.values()]:
        exercise.solution()
        code = capsys.readouterr().out.rsplit("\n\n", 1)[1]
        before = set(namespace)
        exec(code, namespace)
        (name,) = set(namespace) - before
        assert exercise.check(namespace[name]) is True, exercise.title


def test_usual_mistakes_covered_by_the_generic_diagnoses(capsys):
    """A flipped log-det sign and a summed (not averaged) ELBO are named by the built-in diagnoses; leaving out
    the |.| is right here, because u . w > -1 keeps 1 + (u . w) tanh' positive (the exercise says so)."""
    def flipped(z, u, w, b):
        return -planar_log_det(z, u, w, b)

    assert ch07.capstone.planar_log_det.check(flipped) is False
    assert "wrong sign" in capsys.readouterr().out

    def summed(eps, mu, log_sigma, layers, log_joint):
        return flow_elbo(eps, mu, log_sigma, layers, log_joint) * len(eps)

    assert ch07.capstone.flow_elbo.check(summed) is False
    assert "a sum where a mean belongs" in capsys.readouterr().out

    def without_abs(z, u, w, b):
        return np.log(1.0 + np.dot(u, w) / np.cosh(z @ w + b) ** 2)

    assert ch07.capstone.planar_log_det.check(without_abs) is True
