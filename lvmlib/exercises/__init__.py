"""Self-checking exercises: ``check()``, ``hint()`` and ``solution()`` for each one.

A chapter's exercises live in ``lvmlib.exercises.chNN`` as :class:`Exercise` objects whose reference answers
(the solutions) are computed with lvmlib, out of the learner's notebook. In the notebook a learner writes::

    def my_answer(x):
        ...              # untouched: check() says "not attempted" and the notebook runs on

    ex.check(my_answer)  # prints a verdict and returns True / False / None (not attempted)

``check`` never raises for the learner's mistakes: it reports them, so running the whole notebook always works.
"""

import inspect
import textwrap

import numpy as np


class NotAttempted(Exception):
    """Raised internally when an answer is still the untouched stub."""


def _untouched(value):
    return value is None or value is Ellipsis


def _describe(value):
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item()!r}"
    with np.printoptions(precision=4, threshold=6, edgeitems=2):
        return f"array of shape {arr.shape}: {arr}"


class Exercise:
    """One exercise with a reference answer computed by lvmlib.

    Parameters
    ----------
    title : short name shown in messages.
    reference : callable giving the right answer. With ``cases`` it is called as ``reference(*case)`` and the
        learner's answer must be a function with the same arguments; without, it is called with no argument and
        the learner's answer is a value.
    hint : text shown by :meth:`hint`.
    solution : the reference solution's source is shown by :meth:`solution` (or pass a text explicitly).
    cases : list of argument tuples to test a learner's function on.
    rtol, atol : tolerances of ``numpy.allclose``.
    """

    def __init__(self, title, reference, hint, solution=None, cases=None, rtol=1e-6, atol=1e-8):
        self.title = title
        self.reference = reference
        self._hint = hint
        self._solution = solution
        self.cases = cases
        self.rtol, self.atol = rtol, atol

    # ---- the three learner-facing calls -------------------------------------------------------------------
    def check(self, answer):
        """Compare ``answer`` with the reference; print a verdict; return True, False or None (not attempted)."""
        try:
            ok, message = self._compare(answer)
        except NotAttempted:
            print(f"{self.title}: not attempted yet. Replace the `...` with your answer and run the cell again "
                  "(call .hint() for a hint).")
            return None
        print(f"{self.title}: {'correct!' if ok else 'not yet. ' + message}")
        return ok

    def hint(self):
        """Print the hint."""
        print(f"Hint for {self.title}: {textwrap.dedent(self._hint).strip()}")

    def solution(self):
        """Print a worked solution."""
        source = self._solution or self.reference
        text = source if isinstance(source, str) else inspect.getsource(source)
        print(f"A solution for {self.title}:\n\n{textwrap.dedent(text).strip()}")

    # ---- comparison ---------------------------------------------------------------------------------------
    def _compare(self, answer):
        if _untouched(answer):
            raise NotAttempted
        if self.cases is None:
            return self._match(answer, self.reference(), "your value")
        if not callable(answer):
            return False, f"expected a function, got {type(answer).__name__}."
        for case in self.cases:
            try:
                got = answer(*case)
            except NotImplementedError:
                raise NotAttempted from None
            except Exception as exc:  # report, never raise: the notebook must run end to end
                return False, f"your function raised {type(exc).__name__}: {exc}"
            if _untouched(got):
                raise NotAttempted
            ok, message = self._match(got, self.reference(*case), "your function's result")
            if not ok:
                return False, message
        return True, ""

    def _match(self, got, expected, what):
        try:
            got_arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return False, f"{what} is not a number or an array of numbers: {got!r}"
        expected_arr = np.asarray(expected, dtype=float)
        if got_arr.shape != expected_arr.shape:
            return False, f"{what} has shape {got_arr.shape}, expected shape {expected_arr.shape}."
        if not np.allclose(got_arr, expected_arr, rtol=self.rtol, atol=self.atol):
            got_text, expected_text = _describe(got_arr), _describe(expected_arr)
            return False, f"{what} differs from the reference: got {got_text}, expected {expected_text}."
        return True, ""
