"""The exercise framework itself: verdicts and diagnoses, never raising for a learner's mistake."""

import importlib
import pkgutil
import time

import numpy as np
import pytest
from scipy.special import logsumexp

import lvmlib.exercises as package
from lvmlib.exercises import Capstone, Case, Exercise, Mistake, NotAttempted, TryThis, compare

square = Exercise("square", lambda a: a**2, hints=["multiply", "a times a"],
                  cases=[(np.arange(3.0),), Case((np.array(-2.0),), "a negative scalar")])
constant = Exercise("constant", lambda: 3.14159, hints=["pi to 5 digits", "3.14159"], rtol=0, atol=1e-4)


def _log_softmax(a):
    return a - logsumexp(a, axis=-1, keepdims=True)


log_softmax = Exercise(
    "log-softmax", _log_softmax, hints=["subtract", "the logsumexp"],
    cases=[Case((np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]]),), "small numbers"),
           Case((np.array([[-1000.0, -1001.0, -1003.0]]),), "very negative scores")],
    mistakes=[Mistake("softmax", lambda a: np.exp(_log_softmax(a)), "MISTAKE-SOFTMAX")],
)
softmax = Exercise("softmax", lambda a: np.exp(_log_softmax(a)), hints=["a", "b"],
                   cases=[(np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]]),)])
log_mean_exp = Exercise("log-mean-exp", lambda a: logsumexp(a, axis=-1) - np.log(a.shape[-1]), hints=["a", "b"],
                        cases=[(np.array([[0.5, 1.0, -2.0, 3.0]]),)])


def run(exercise, answer, capsys):
    verdict = exercise.check(answer)
    return verdict, capsys.readouterr().out


def test_right_wrong_and_untouched_answers(capsys):
    assert run(square, lambda a: a * a, capsys)[0] is True
    verdict, out = run(square, lambda a: a * a + np.array([0.0, 0.5, 0.0])[: a.size].reshape(a.shape), capsys)
    assert verdict is False and "case 1 of 2" in out and "largest difference is at index (1,)" in out

    def stub(a):
        ...

    assert run(square, stub, capsys) == (None, run(square, ..., capsys)[1])
    assert "not attempted" in run(square, stub, capsys)[1]


def test_value_exercises_use_the_tolerance():
    assert constant.check(np.pi) is True
    assert constant.check(3.14) is False


def test_learner_errors_are_reported_not_raised(capsys):
    verdict, out = run(square, lambda a: a.nonexistent, capsys)
    assert verdict is False and "raised AttributeError" in out
    verdict, out = run(square, lambda a: np.zeros(5), capsys)
    assert verdict is False and "shape" in out
    assert square.check("a string") is False


def test_not_implemented_counts_as_not_attempted():
    def stub(a):
        raise NotImplementedError

    assert square.check(stub) is None


@pytest.mark.parametrize("answer, words", [
    (lambda a: -_log_softmax(a), "wrong sign"),
    (lambda a: _log_softmax(a) + 0.3, "log-values are not normalized"),
    (lambda a: a - np.log(np.sum(np.exp(a), axis=-1, keepdims=True)), "under- or overflowed"),
    (lambda a: a, "not normalized"),
    (lambda a: 2 * _log_softmax(a), "same factor, 2"),
    (lambda a: np.exp(_log_softmax(a)), "MISTAKE-SOFTMAX"),  # the exercise's own named mistake comes first
])
def test_each_generic_diagnosis_names_its_mistake(answer, words, capsys):
    verdict, out = run(log_softmax, answer, capsys)
    assert verdict is False and words in out, out


def test_a_constant_offset_is_named(capsys):
    assert "same constant (+0.3)" in run(square, lambda a: a * a + 0.3, capsys)[1]


def test_logs_for_probabilities_and_the_reverse(capsys):
    assert "log-values where plain values" in run(softmax, lambda a: _log_softmax(a), capsys)[1]
    assert "plain values (e.g. probabilities) where log-values" in run(
        log_softmax.__class__("ls", _log_softmax, hints=["a", "b"], cases=[(np.array([[1.0, 2.0]]),)]),
        lambda a: np.exp(_log_softmax(a)), capsys)[1]
    assert "not normalized: each row" in run(softmax, lambda a: np.exp(a), capsys)[1]


def test_off_by_log_k_and_by_k_name_the_k(capsys):
    out = run(log_mean_exp, lambda a: logsumexp(a, axis=-1), capsys)[1]
    assert "log 4" in out and "1/4" in out
    out = run(Exercise("mean", lambda a: a.mean(axis=-1), hints=["a", "b"], cases=[(np.ones((2, 5)) * 3,)]),
              lambda a: a.sum(axis=-1), capsys)[1]
    assert "factor, 5" in out


def test_complex_answers_are_refused_even_when_close(capsys):
    verdict, out = run(square, lambda a: a * a + 1e-3j, capsys)
    assert verdict is False and "complex" in out


def test_every_call_gets_its_own_copy(capsys):
    def in_place_wrong(a):
        a *= 0  # zeroes the input, and then squares it: with a shared input the reference would agree
        return a**2

    def in_place_right(a):
        a **= 2
        return a

    verdict, out = run(square, in_place_wrong, capsys)
    assert verdict is False and "changed its argument(s) [1] in place" in out
    assert run(square, in_place_right, capsys)[0] is True
    assert np.array_equal(square.cases[0].args[0], np.arange(3.0))  # the case itself is untouched


def test_torch_tensors_are_accepted_even_with_grad(capsys):
    torch = pytest.importorskip("torch")
    assert run(square, lambda a: torch.tensor(a, requires_grad=True) ** 2, capsys)[0] is True
    assert run(square, lambda a: torch.tensor(a, requires_grad=True) ** 3, capsys)[0] is False


def test_an_endless_loop_is_stopped_and_reported(capsys):
    slow = Exercise("slow", lambda a: a, hints=["a", "b"], cases=[(1.0,)], timeout=0.5)

    def forever(a):
        while True:
            a = a + 1

    start = time.perf_counter()
    verdict, out = run(slow, forever, capsys)
    assert verdict is False and "more than 0.5 s" in out and time.perf_counter() - start < 5


def test_tuples_of_outputs_are_compared_one_by_one(capsys):
    pair = Exercise("pair", lambda a: (a.sum(), a * 2), hints=["a", "b"], cases=[(np.arange(3.0),)])
    assert run(pair, lambda a: (a.sum(), 2 * a), capsys)[0] is True
    verdict, out = run(pair, lambda a: (a.sum(), -2 * a), capsys)
    assert verdict is False and "output 2" in out and "wrong sign" in out
    assert "tuple of 2" in run(pair, lambda a: a.sum(), capsys)[1]


def test_hints_come_one_at_a_time_then_all(capsys):
    ex = Exercise("h", lambda: 1.0, hints=["first", "second", "third"])
    ex.hint()
    ex.hint()
    out = capsys.readouterr().out
    assert "Hint 1 of 3" in out and "first" in out and "Hint 2 of 3" in out and "third" not in out
    ex.hint()
    assert "last hint" in capsys.readouterr().out
    ex.hint(all=True)
    out = capsys.readouterr().out
    assert all(w in out for w in ("first", "second", "third"))


def test_solution_shows_the_explanation_and_the_code(capsys):
    Exercise("s", lambda: 1.0, hints=["a", "b"], solution="x = 1", explanation="because one").solution()
    out = capsys.readouterr().out
    assert "because one" in out and "x = 1" in out


def test_custom_checker_and_capstone_scorecard(capsys):
    def needs_two(answer):
        if answer(2) is None:
            raise NotAttempted
        return compare(answer(2), 4.0, what="f(2)")

    step2 = Exercise("step 2", checker=needs_two, hints=["a", "b"])
    cap = Capstone("cap", [("first", square), ("second", step2)], intro="build it")
    verdicts = cap.check(first=lambda a: a * a, second=lambda a: a + 1)
    out = capsys.readouterr().out
    assert verdicts == {"first": True, "second": False}
    assert "1 of 2 steps correct" in out and "f(2) differs" in out
    assert cap.check(first=lambda a: a * a)["second"] is None
    cap.check(third=1)
    assert "no step called third" in capsys.readouterr().out
    with pytest.raises(ValueError, match="clashes"):
        Capstone("bad", [("check", square)])


def test_try_this_reveals_computed_answers(capsys):
    t = TryThis({1: lambda: f"the answer is {2 + 2}", "2": "plain"})
    t.reveal(1)
    t.reveal("3")
    out = capsys.readouterr().out
    assert "the answer is 4" in out and "No prompt '3'" in out


def _chapter_exercises():
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"lvmlib.exercises.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Exercise):
                yield value
            elif isinstance(value, Capstone):
                yield from value.steps.values()


def test_every_chapter_exercise_reports_an_untouched_stub_as_not_attempted(capsys):
    def stub(*args):
        ...

    found = 0
    for exercise in _chapter_exercises():
        found += 1
        value_exercise = exercise.cases is None and exercise.checker is None
        assert exercise.check(... if value_exercise else stub) is None, exercise.title
        capsys.readouterr()
        exercise.hint(all=True)
        exercise.solution()
        out = capsys.readouterr().out
        assert f"for {exercise.title}" in out and f"A solution for {exercise.title}" in out
        assert "Traceback" not in out
    assert found >= 3
