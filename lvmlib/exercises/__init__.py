"""Self-checking exercises and capstones: ``check()``, ``hint()`` and ``solution()`` for each one.

A chapter's exercises live in ``lvmlib.exercises.chNN`` as :class:`Exercise` objects whose reference answers
are computed with lvmlib, out of the learner's notebook. In the notebook a learner writes::

    def my_answer(x):
        ...              # untouched: check() says "not attempted" and the notebook runs on

    ex.check(my_answer)  # prints a verdict and returns True / False / None (not attempted)
    ex.hint()            # the next hint: a nudge, then the formula, then code; ex.hint(all=True) shows them all

``check`` never raises for the learner's mistakes: it reports them, so running the whole notebook always works.
When an answer is wrong it says which case failed and, where it can tell, what kind of mistake it is (a flipped
sign, a constant or a factor off, logs for probabilities, a missing normalization, an underflow, a mistake the
exercise names), without printing the answer. Every call gets its own deep copy of the case's inputs, torch
tensors are accepted, and each call is time-bounded.

A :class:`Capstone` strings several exercises into the chapter's method (an E-step, an M-step, the loop), each
step checked on its own, so a learner stuck on step 3 still has steps 1 and 2 confirmed.

Graded use (``tools/grading/build.py``): :func:`student_chapter` turns a chapter module into a
:class:`StudentChapter` whose exercises keep ``check()`` and ``hint()`` but hold no reference, no solution and no
hidden case (the public cases' expected outputs and the named mistakes' outputs are precomputed);
:func:`grade` is what the autograder calls, with hidden cases, inside :func:`grading`, where an answer that calls
an exercise's ``reference`` scores nothing.
"""

import contextlib
import copy
import importlib
import inspect
import pickle
import signal
import textwrap
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


class NotAttempted(Exception):
    """Raised (by the framework or by a custom checker) when an answer is still the untouched stub."""


class TimedOut(Exception):
    """Raised inside a learner's call that ran past the exercise's time limit."""


class ReferenceUsed(BaseException):
    """Raised when a learner's answer calls an exercise's reference while it is graded (see :func:`grading`).

    A BaseException, so that a learner's ``except Exception`` does not swallow it; it is recorded anyway.
    """


class _GradingState(threading.local):
    grading = False       # inside grading(): references are sealed during learner calls
    sealed = False        # a learner's call is running
    reference_used = False


_STATE = _GradingState()


@contextlib.contextmanager
def grading():
    """Grading mode for the block: an answer that calls any exercise's ``reference`` fails (and is recorded)."""
    previous = _STATE.grading
    _STATE.grading, _STATE.reference_used = True, False
    try:
        yield _STATE
    finally:
        _STATE.grading = previous


@contextlib.contextmanager
def _learner_call():
    """Seal the references while a learner's code runs, in grading mode only."""
    previous = _STATE.sealed
    _STATE.sealed = _STATE.grading
    try:
        yield
    finally:
        _STATE.sealed = previous


class _Guarded:
    """An exercise's reference as the public sees it: callable as usual, except inside a graded learner call."""

    __slots__ = ("_function",)

    def __init__(self, function):
        self._function = function

    def __call__(self, *args, **kwargs):
        if _STATE.sealed:
            _STATE.reference_used = True
            raise ReferenceUsed("the answer calls the exercise's reference solution")
        return self._function(*args, **kwargs)

    def __repr__(self):
        return f"<reference {getattr(self._function, '__qualname__', self._function)!r}>"


@dataclass(frozen=True)
class Case:
    """One test input: ``args`` is the tuple of arguments, ``label`` says briefly what the case is for."""

    args: tuple
    label: str = ""

    def __iter__(self):  # unpacks like the plain tuple of arguments it replaces
        return iter(self.args)


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``wrong(*args)`` computes it, ``message`` says what to look at (never the answer)."""

    name: str
    wrong: Callable
    message: str


def _untouched(value):
    return value is None or value is Ellipsis


# ---- turning answers into numbers -------------------------------------------------------------------------------
def _numeric(value):
    """numpy view of a learner's value: torch tensors detached, sequences of tensors converted element-wise."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)) and any(hasattr(v, "detach") for v in value):
        return [_numeric(v) for v in value]
    return value


def _as_real_array(value, what):
    """(array, None) or (None, message) for a value that is not a real number or array of real numbers."""
    value = _numeric(value)
    try:
        arr = np.asarray(value)
    except Exception:  # ragged sequences and the like
        return None, f"{what} is not a number or an array of numbers: {value!r:.80}"
    if np.iscomplexobj(arr):
        return None, (f"{what} has complex values (e.g. {arr.flat[0]!r}); the answer is real. A complex number "
                      "appears when you take the log or square root of a negative number: check the signs.")
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        return None, f"{what} is not a number or an array of numbers: {value!r:.80}"
    return arr.astype(float), None


# ---- generic diagnoses ------------------------------------------------------------------------------------------
def _close(a, b, rtol, atol):
    with np.errstate(all="ignore"):
        return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=rtol, atol=atol)


def _sizes(args):
    """Integers a missing 1/k or log k could come from: the case's integer arguments and array lengths."""
    sizes = set()
    for a in args:
        a = _numeric(a)
        if isinstance(a, (int, np.integer)) and not isinstance(a, bool) and 1 < a < 10**9:
            sizes.add(int(a))
        shape = getattr(a, "shape", None)
        if shape:
            sizes.update(int(s) for s in shape if s > 1)
    return sorted(sizes)


def _diagnose(got, expected, rtol, atol, args):
    """A sentence naming the kind of mistake that turns ``expected`` into ``got``, or ''."""
    finite = np.isfinite(expected)
    with np.errstate(all="ignore"):
        if np.any(finite & ~np.isfinite(got)):
            bad = got[finite & ~np.isfinite(got)].flat[0]
            return (f"your result has {bad} where the right answer is finite: something under- or overflowed "
                    "(exp of a large number, log of 0, 0/0). Stay in log space (logsumexp, log-mean-exp, "
                    "np.logaddexp) instead of exponentiating first.")
        if np.any((got == 0) & (expected != 0) & (np.abs(expected) < 1e-200)):
            return ("your result is exactly 0 where the right answer is tiny but not 0: it underflowed. "
                    "Work in log space and exponentiate only at the end, if at all.")
        if not np.all(finite):
            return ""
        scale = max(float(np.max(np.abs(expected))), 1e-12)
        if np.any(np.abs(expected) > atol) and _close(-got, expected, rtol, atol):
            return "your result has the right size but the wrong sign: look for a flipped sign."
        if _close(np.exp(got), expected, rtol, atol):
            return "you returned log-values where plain values (e.g. probabilities) are expected: exponentiate."
        if np.all(got > 0) and _close(np.log(got), expected, rtol, atol):
            return "you returned plain values (e.g. probabilities) where log-values are expected: take the log."
        if got.ndim >= 1 and expected.ndim >= 1 and got.shape[-1] > 1:
            if np.allclose(expected.sum(axis=-1), 1.0) and np.all(got >= 0) and np.all(got.sum(axis=-1) > 0):
                if _close(got / got.sum(axis=-1, keepdims=True), expected, rtol, atol):
                    return "your values are not normalized: each row should sum to one over the last axis."
            lse_expected = np.log(np.sum(np.exp(expected), axis=-1))
            if np.allclose(lse_expected, 0.0, atol=1e-6):
                top = got.max(axis=-1, keepdims=True)
                normalized = got - (top + np.log(np.sum(np.exp(got - top), axis=-1, keepdims=True)))
                if _close(normalized, expected, rtol, atol):
                    return ("your log-values are not normalized: subtract their logsumexp over the last axis "
                            "so that the probabilities sum to one.")
        diff = got - expected
        tol = atol + rtol * scale
        constant = got.size >= 1 and np.ptp(diff) <= 10 * tol and abs(diff.flat[0]) > tol
        nonzero = np.abs(expected) > atol
        ratio = got[nonzero] / expected[nonzero] if np.any(nonzero) else np.array([1.0])
        r = float(np.median(ratio))
        factor = (np.any(nonzero) and np.all(np.abs(got[~nonzero]) <= atol) and np.ptp(ratio) <= 10 * rtol + 1e-9
                  and abs(r - 1) > rtol and r != 0)
        c = float(np.mean(diff))
        for k in _sizes(args):
            if constant and abs(abs(c) - np.log(k)) < 1e-6 * max(1.0, np.log(k)):
                return (f"every value is off by the same constant, {c:+.4f} = {'+' if c > 0 else '-'}log {k}: "
                        f"a missing or extra 1/{k} inside a log?")
            if factor and (abs(r - k) < 1e-6 * k or abs(r - 1 / k) < 1e-6 / k):
                kind = f"{k}" if abs(r - k) < 1e-6 * k else f"1/{k}"
                return f"every value is off by the same factor, {kind}: a sum where a mean belongs, or the reverse?"
        if constant:
            return (f"every value is off by the same constant ({c:+.4g}): a missing or extra additive term "
                    "(a log-normalizer, a log prior, a log k)?")
        if factor:
            return f"every value is off by the same factor ({r:.4g}): a missing or extra scale factor?"
    return ""


def _where_they_differ(got, expected):
    with np.errstate(all="ignore"):
        err = np.abs(got - expected)
    err = np.where(np.isnan(err), np.inf, err)
    if got.ndim == 0:
        return f"got {got.item():.6g}, expected {expected.item():.6g}"
    i = np.unravel_index(int(np.argmax(err)), err.shape)
    index = tuple(int(j) for j in i)
    return f"the largest difference is at index {index}: got {got[i]:.6g}, expected {expected[i]:.6g}"


def compare(got, expected, rtol=1e-6, atol=1e-8, what="your result", args=()):
    """``(ok, message)`` comparing a learner's value with the right one, with a diagnosis when they differ.

    Tuples of outputs are compared element by element. Custom checkers may call this to get the same messages.
    """
    if isinstance(expected, tuple):
        got = _numeric(got)
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return False, f"{what} should be a tuple of {len(expected)} values, got {type(got).__name__}."
        for j, (g, e) in enumerate(zip(got, expected, strict=True), start=1):
            ok, message = compare(g, e, rtol, atol, f"output {j} of {what}", args)
            if not ok:
                return ok, message
        return True, ""
    got_arr, problem = _as_real_array(got, what)
    if problem:
        return False, problem
    expected_arr = np.asarray(_numeric(expected), dtype=float)
    if got_arr.shape != expected_arr.shape:
        return False, f"{what} has shape {got_arr.shape}, expected shape {expected_arr.shape}."
    with np.errstate(all="ignore"):
        same = np.allclose(got_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=True)
    if same:
        return True, ""
    diagnosis = _diagnose(got_arr, expected_arr, rtol, atol, args)
    where = _where_they_differ(got_arr, expected_arr)
    return False, f"{what} differs from the right answer ({where})." + (f" Diagnosis: {diagnosis}" if diagnosis else "")


# ---- running learner code safely --------------------------------------------------------------------------------
@contextlib.contextmanager
def time_limit(seconds):
    """Raise :class:`TimedOut` in the block after ``seconds`` (SIGALRM; a no-op where signals are unavailable)."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _changed_in_place(before, after):
    """Indices (1-based) of array arguments whose contents the learner's call changed."""
    changed = []
    for j, (b, a) in enumerate(zip(before, after, strict=True), start=1):
        b, a = _numeric(b), _numeric(a)
        if isinstance(b, np.ndarray) and isinstance(a, np.ndarray) and b.shape == a.shape:
            if not np.array_equal(a, b, equal_nan=True):
                changed.append(j)
    return changed


def _describe_args(args):
    parts = []
    for a in args:
        a = _numeric(a)
        if isinstance(a, np.ndarray):
            parts.append(f"array {a.shape}" if a.size > 4 else np.array2string(a, precision=3, separator=", "))
        elif isinstance(a, (int, float, np.number)):
            parts.append(f"{a:.4g}")
        else:
            parts.append(type(a).__name__)
    return ", ".join(parts)


class Exercise:
    """One exercise with a reference answer computed by lvmlib.

    Parameters
    ----------
    title : short name shown in messages.
    reference : callable giving the right answer. With ``cases`` it is called as ``reference(*case.args)`` and
        the learner's answer must be a function with the same arguments; without cases (and without ``checker``)
        it is called with no argument and the learner's answer is a value.
    hints : two or three texts, from a nudge to the formula to code; :meth:`hint` shows the next one.
        (``hint=`` with one text is accepted too.)
    solution : code text (or a callable whose source is shown) for :meth:`solution`.
    explanation : the derivation in a few lines, shown with the solution.
    cases : list of :class:`Case` (or plain argument tuples) to run a learner's function on; each call gets a
        deep copy, so a function that works in place can neither fool the check nor be marked wrong for it.
    mistakes : list of :class:`Mistake`: known wrong answers recognised by name.
    rtol, atol : tolerances of ``numpy.allclose``.
    timeout : seconds allowed for each call of the learner's function (``None``: no limit).
    checker : optional custom check, ``checker(answer) -> (ok, message)``; it may raise :class:`NotAttempted`.
    """

    _LAST_HINT_NOTE = "(That was the last hint; .solution() shows a worked solution.)"

    def __init__(self, title, reference=None, hints=(), solution=None, cases=None, rtol=1e-6, atol=1e-8, *,
                 hint=None, explanation="", mistakes=(), timeout=10.0, checker=None):
        if reference is None and checker is None:
            raise ValueError("Exercise needs a reference or a checker")
        self.title = title
        self.reference = reference
        self._hints = [hint] if isinstance(hints, str) else list(hints)
        if hint is not None:
            self._hints.insert(0, hint)
        self._solution = solution
        self.explanation = explanation
        self.cases = None if cases is None else [c if isinstance(c, Case) else Case(tuple(c)) for c in cases]
        self.mistakes = list(mistakes)
        self.rtol, self.atol = rtol, atol
        self.timeout = timeout
        self.checker = checker
        self._next_hint = 0

    @property
    def reference(self):
        """The reference answer function (None for a checker-only exercise); sealed while a graded answer runs."""
        return None if self._reference is None else _Guarded(self._reference)

    @reference.setter
    def reference(self, function):
        self._reference = function._function if isinstance(function, _Guarded) else function

    def _expected(self, j, case):
        """The right answer on case ``j`` (0-based); a student version returns it precomputed."""
        return self._reference(*copy.deepcopy(case.args)) if case is not None else self._reference()

    def _wrong(self, mistake, j, case):
        return mistake.wrong(*copy.deepcopy(case.args))

    # ---- the three learner-facing calls -------------------------------------------------------------------------
    def check(self, answer):
        """Compare ``answer`` with the reference; print a verdict; return True, False or None (not attempted)."""
        ok, message = self.verdict(answer)
        if ok is None:
            print(f"{self.title}: not attempted yet. Replace the `...` with your answer and run the cell again "
                  "(.hint() gives a hint).")
        else:
            print(f"{self.title}: {'correct!' if ok else 'not yet. ' + message}")
        return ok

    def hint(self, all=False):
        """Print the next hint (``all=True``: every hint)."""
        if not self._hints:
            print(f"{self.title} has no hints.")
            return
        if all:
            for j, text in enumerate(self._hints, start=1):
                print(f"Hint {j} of {len(self._hints)} for {self.title}: {textwrap.dedent(text).strip()}")
            self._next_hint = len(self._hints)
            return
        j = min(self._next_hint, len(self._hints) - 1)
        print(f"Hint {j + 1} of {len(self._hints)} for {self.title}: {textwrap.dedent(self._hints[j]).strip()}")
        if j == len(self._hints) - 1:
            print(self._LAST_HINT_NOTE)
        self._next_hint = j + 1

    @property
    def hints(self):
        """The hints, in the order :meth:`hint` shows them."""
        return list(self._hints)

    def solution(self):
        """Print the derivation and a worked solution."""
        source = self._solution or self._reference
        text = source if isinstance(source, str) else inspect.getsource(source)
        out = f"A solution for {self.title}:\n"
        if self.explanation:
            out += f"\n{textwrap.dedent(self.explanation).strip()}\n"
        print(out + f"\n{textwrap.dedent(text).strip()}")

    # ---- checking ---------------------------------------------------------------------------------------------
    def verdict(self, answer):
        """``(True | False | None, message)`` without printing; never raises for the learner's mistakes."""
        if _untouched(answer):
            return None, ""
        try:
            if self.checker is not None:
                with time_limit(self.timeout), _learner_call():
                    ok, message = self.checker(answer)
                return bool(ok), message
            if self.cases is None:
                return self._match(answer, self._expected(0, None), (), "your value")
            if not callable(answer):
                return False, f"expected a function, got {type(answer).__name__}."
            for j, case in enumerate(self.cases, start=1):
                ok, message = self._run_case(answer, case, j)
                if not ok:
                    return ok, message
            return True, ""
        except NotAttempted:
            return None, ""
        except TimedOut:
            return False, (f"your code ran for more than {self.timeout:g} s and was stopped: look for a loop that "
                           "never ends (a while loop whose condition never changes?).")
        except Exception as exc:  # report, never raise: the notebook must run end to end
            return False, f"your code raised {type(exc).__name__}: {exc}"

    def _run_case(self, answer, case, j):
        name = f"case {j} of {len(self.cases)}"
        name += f" ({case.label})" if case.label else f" (arguments: {_describe_args(case.args)})"
        given = copy.deepcopy(case.args)
        pristine = copy.deepcopy(case.args)
        try:
            with time_limit(self.timeout), _learner_call():
                got = answer(*given)
        except NotImplementedError:
            raise NotAttempted from None
        except TimedOut:
            return False, (f"on {name} your function ran for more than {self.timeout:g} s and was stopped: look for "
                           "a loop that never ends.")
        except NotAttempted:
            raise
        except Exception as exc:
            return False, f"on {name} your function raised {type(exc).__name__}: {exc}"
        if _untouched(got):
            raise NotAttempted
        expected = self._expected(j - 1, case)
        ok, message = self._match(got, expected, case.args, "your function's result")
        if ok:
            return True, ""
        for mistake in self.mistakes:
            try:
                wrong = self._wrong(mistake, j - 1, case)
            except Exception:
                continue
            if self._match(got, wrong, case.args, "")[0]:
                return False, f"on {name}: {mistake.message}"
        changed = _changed_in_place(pristine, given)
        note = ""
        if changed:
            note = (f" Note: your function changed its argument(s) {changed} in place; the check gives every call "
                    "its own copy, but code that calls yours may not expect it.")
        return False, f"on {name}, {message}{note}"

    def _match(self, got, expected, args, what):
        return compare(got, expected, self.rtol, self.atol, what or "value", args)


class Capstone:
    """The chapter's method, built by the learner in steps, each an :class:`Exercise` checked on its own.

    ``steps`` is a list of ``(name, exercise)`` pairs; each step is also an attribute (``cap.e_step.check(f)``).
    :meth:`check` takes the answers by step name and prints a scorecard.
    """

    def __init__(self, title, steps, intro=""):
        self.title = title
        self.intro = intro
        self.steps = dict(steps)
        for name, exercise in self.steps.items():
            if hasattr(type(self), name) or name in ("title", "intro", "steps"):
                raise ValueError(f"step name {name!r} clashes with a Capstone attribute; choose another name")
            setattr(self, name, exercise)

    def check(self, **answers):
        """Check every step given by name (``cap.check(e_step=f, m_step=g)``); return ``{name: verdict}``."""
        unknown = sorted(set(answers) - set(self.steps))
        if unknown:
            print(f"{self.title}: no step called {', '.join(unknown)}; the steps are {', '.join(self.steps)}.")
        verdicts = {}
        for name, exercise in self.steps.items():
            verdicts[name] = exercise.check(answers.get(name, ...))
        done = sum(v is True for v in verdicts.values())
        marks = {True: "correct", False: "not yet", None: "not attempted"}
        print(f"{self.title}: {done} of {len(self.steps)} steps correct ("
              + ", ".join(f"{name}: {marks[v]}" for name, v in verdicts.items()) + ").")
        return verdicts

    def describe(self):
        """Print what the capstone builds and its steps in order."""
        print(f"{self.title}\n{textwrap.dedent(self.intro).strip()}" if self.intro else self.title)
        for j, (name, exercise) in enumerate(self.steps.items(), start=1):
            print(f"  step {j}, {name}: {exercise.title}")


class TryThis:
    """Answers to an explorer's "Try this" prompts, revealed one at a time.

    ``answers`` maps a key ("1", "2", ...) to a text, or to a function returning the text, so that the numbers in
    the answer are computed by the same code as the explorer.
    """

    def __init__(self, answers: dict[Any, Any]):
        self.answers = {str(k): v for k, v in answers.items()}

    def reveal(self, key):
        """Print the answer to prompt ``key``."""
        key = str(key)
        if key not in self.answers:
            print(f"No prompt {key!r}; the prompts are {', '.join(self.answers)}.")
            return
        value = self.answers[key]
        text = value() if callable(value) else value
        print(f"Try this {key}: {textwrap.dedent(text).strip()}")


# ---- graded use: student versions and the autograder's entry point -------------------------------------------
class _CheckerRef:
    """A custom checker named by its place (module, exercise path), resolved when first used."""

    def __init__(self, module, path):
        self.module, self.path = module, path

    def __call__(self, answer):
        exercise = _resolve(importlib.import_module(self.module), self.path)
        return exercise.checker(answer)


class _Recorded:
    """A mistake's outputs on the public cases, precomputed (``None`` where the wrong function raised)."""

    def __init__(self, outputs):
        self.outputs = outputs


def _absent(*args):
    raise AttributeError("a graded assignment has no reference answer")


class StudentExercise(Exercise):
    """An exercise as a graded assignment ships it: ``check()`` and ``hint()``, the public cases only.

    The expected outputs of the public cases and the named mistakes' outputs on them are stored, not computed:
    there is no reference function, no solution and no hidden case in it. An exercise with a custom checker keeps
    that checker (its cases live in the checker; the autograder runs the same checker).
    """

    _LAST_HINT_NOTE = "(That was the last hint; this graded version has no worked solution.)"

    def __init__(self, exercise, module, path):
        super().__init__(exercise.title, _absent, hints=exercise.hints, cases=exercise.cases, rtol=exercise.rtol,
                         atol=exercise.atol, mistakes=(), timeout=exercise.timeout,
                         checker=_CheckerRef(module, path) if exercise.checker is not None else None)
        self._reference = None
        self.checker_module, self.path = module, path
        self._expected_outputs = []
        if exercise.checker is None:
            cases = exercise.cases if exercise.cases is not None else [None]
            self._expected_outputs = [exercise._expected(j, c) for j, c in enumerate(cases)]
            for mistake in exercise.mistakes:
                outputs = []
                for j, case in enumerate(cases):
                    try:
                        outputs.append(exercise._wrong(mistake, j, case) if case is not None else None)
                    except Exception:
                        outputs.append(None)
                self.mistakes.append(Mistake(mistake.name, _Recorded(outputs), mistake.message))

    @property
    def reference(self):
        raise AttributeError("a graded assignment has no reference answer: use check() and hint()")

    @reference.setter
    def reference(self, function):
        self._reference = None

    def _expected(self, j, case):
        return copy.deepcopy(self._expected_outputs[j])

    def _wrong(self, mistake, j, case):
        value = mistake.wrong.outputs[j]
        if value is None:
            raise ValueError("no recorded output")
        return copy.deepcopy(value)

    def __getstate__(self):
        state = self.__dict__.copy()
        try:
            pickle.dumps(state["cases"])
        except Exception:  # inputs that hold local functions: taken from the chapter module when loaded
            state["cases"] = ("from module", self.checker_module, self.path)
        return state

    def __setstate__(self, state):
        cases = state["cases"]
        if isinstance(cases, tuple) and cases[:1] == ("from module",):
            state["cases"] = _resolve(importlib.import_module(cases[1]), cases[2]).cases
        self.__dict__.update(state)

    def solution(self):
        print(f"{self.title}: this is the graded version of the exercise, without solutions; "
              ".hint() gives the hints.")


class StudentChapter:
    """A chapter's exercises for a graded assignment (load with :func:`load_student`).

    Its exercises and capstones are :class:`StudentExercise` objects; any other public name (a model, a constant,
    a plotting helper the notebook uses) is looked up in the chapter's module; private names (``_...``, where the
    reference functions live) are refused.
    """

    def __init__(self, module, exercises):
        self._module = module
        self.__dict__.update(exercises)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"{name!r} is not part of the graded assignment")
        value = getattr(importlib.import_module(self.__dict__["_module"]), name)
        if isinstance(value, (Exercise, Capstone)):  # an exercise not in the assignment: not its open version
            raise AttributeError(f"{name!r} is not part of the graded assignment")
        return value


def _resolve(module, path):
    obj = module
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _chapter_items(module):
    """Public exercises and capstones of a module, a capstone's steps not repeated under their own names."""
    items = [(n, v) for n, v in list(vars(module).items())
             if not n.startswith("_") and isinstance(v, (Exercise, Capstone))]
    steps = {id(ex) for _, v in items if isinstance(v, Capstone) for ex in v.steps.values()}
    return [(n, v) for n, v in items if id(v) not in steps]


def exercise_paths(module):
    """``{path: exercise}`` for every exercise of a chapter module, capstone steps as ``capstone.step``."""
    paths = {}
    for name, value in _chapter_items(module):
        if isinstance(value, Exercise):
            paths[name] = value
        else:
            paths.update({f"{name}.{step}": ex for step, ex in value.steps.items()})
    return paths


def student_chapter(module):
    """The :class:`StudentChapter` of a chapter module (e.g. ``lvmlib.exercises.ch01``)."""
    exercises = {}
    for name, value in _chapter_items(module):
        if isinstance(value, Exercise):
            exercises[name] = StudentExercise(value, module.__name__, name)
        else:
            steps = [(step, StudentExercise(ex, module.__name__, f"{name}.{step}")) for step, ex in value.steps.items()]
            exercises[name] = Capstone(value.title, steps, intro=value.intro)
    for name, value in list(vars(module).items()):  # a step also bound to its own name: the same student object
        if not name.startswith("_") and isinstance(value, Exercise) and name not in exercises:
            for cap_name, cap in _chapter_items(module):
                if isinstance(cap, Capstone):
                    for step, ex in cap.steps.items():
                        if ex is value:
                            exercises[name] = exercises[cap_name].steps[step]
    return StudentChapter(module.__name__, exercises)


def save_student(chapter, path):
    """Write a :class:`StudentChapter` to ``path`` (a pickle shipped next to the student notebook)."""
    with open(path, "wb") as f:
        pickle.dump(chapter, f)


def load_student(path):
    """The :class:`StudentChapter` stored at ``path`` by the grading build (the course's own file)."""
    with open(path, "rb") as f:
        chapter = pickle.load(f)
    if not isinstance(chapter, StudentChapter):
        raise TypeError(f"{path} does not hold a chapter's student exercises")
    return chapter


def grade(module, path, answer, hidden_cases=()):
    """``(ok, message)`` for the autograder: public and hidden cases (or the custom checker), in grading mode.

    ``module`` is the chapter module's name, ``path`` the exercise's path in it (``"ex1"``, ``"capstone.fit"``),
    ``hidden_cases`` a list of extra :class:`Case` objects. An untouched answer, a wrong one and one that calls an
    exercise's ``reference`` all score nothing (False).
    """
    exercise = _resolve(importlib.import_module(module), path)
    graded = copy.copy(exercise)
    if exercise.cases is not None:
        graded.cases = list(exercise.cases) + [c if isinstance(c, Case) else Case(tuple(c)) for c in hidden_cases]
    if isinstance(answer, _Guarded):
        return False, "the answer is the course's reference solution, not your own code."
    with grading() as state:
        try:
            ok, message = graded.verdict(answer)
        except ReferenceUsed:
            ok, message = False, ""
        if state.reference_used:
            return False, "the answer calls the course's reference solution instead of computing the result."
    if ok is None:
        return False, "not attempted."
    return bool(ok), message
