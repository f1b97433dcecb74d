"""The exercise framework itself: verdicts, never raising for a learner's mistake."""

import numpy as np

from lvmlib.exercises import Exercise

square = Exercise("square", lambda a: a**2, hint="multiply a by itself", cases=[(np.arange(3.0),), (np.array(-2.0),)])
constant = Exercise("constant", lambda: 3.14159, hint="pi to 5 digits", rtol=0, atol=1e-4)


def test_right_wrong_and_untouched_answers(capsys):
    assert square.check(lambda a: a * a) is True
    assert square.check(lambda a: 2 * a) is False
    assert "differs from the reference" in capsys.readouterr().out

    def stub(a):
        ...

    assert square.check(stub) is None
    assert "not attempted" in capsys.readouterr().out
    assert square.check(...) is None


def test_value_exercises_use_the_tolerance():
    assert constant.check(np.pi) is True
    assert constant.check(3.14) is False


def test_learner_errors_are_reported_not_raised(capsys):
    assert square.check(lambda a: a.nonexistent) is False
    assert "raised AttributeError" in capsys.readouterr().out
    assert square.check(lambda a: np.zeros(5)) is False
    assert "shape" in capsys.readouterr().out
    assert square.check("a string") is False


def test_not_implemented_counts_as_not_attempted():
    def stub(a):
        raise NotImplementedError

    assert square.check(stub) is None


def test_hint_and_solution_print(capsys):
    square.hint()
    square.solution()
    out = capsys.readouterr().out
    assert "multiply a by itself" in out and "lambda a: a**2" in out


def test_every_chapter_exercise_reports_an_untouched_stub_as_not_attempted(capsys):
    import importlib
    import pkgutil

    import lvmlib.exercises as package

    def stub(*args):
        ...

    found = 0
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"lvmlib.exercises.{info.name}")
        for exercise in (v for v in vars(module).values() if isinstance(v, Exercise)):
            found += 1
            assert exercise.check(stub if exercise.cases is not None else ...) is None, exercise.title
            capsys.readouterr()
            exercise.hint()
            exercise.solution()
            out = capsys.readouterr().out
            assert f"Hint for {exercise.title}" in out and f"A solution for {exercise.title}" in out
            assert "Traceback" not in out
    assert found >= 3
