"""The machinery behind every exercise check: run the student's code, compare with nnlib's
reference, and turn the first problem found into feedback in three tiers.

- Tier 1, the line the check prints: what is wrong and why, in words or maths, never code.
- Tier 2, a hint: the concept to look at. Tier 3, the fix: the code. Both wait until asked: one
  click under the line in Jupyter, ``result.hint`` and ``result.fix`` in plain Python.

A check is mostly data: a table of ``Mistake`` rows, each a known wrong answer with its three
tiers; ``expect_array`` and ``expect_scalar`` find the first row the student's output matches.
"""

import functools
import html
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

# a word beside each symbol: the line still reads right where no emoji font is installed
PASS, FAIL, TODO = "✅ PASS", "❌ FAIL", "⏳ TODO"

# every result a check returns is also handed to these callables (the tests use one)
result_hooks = []

# In a grading run (nbgrader's autograde, which deducts points only for a test cell that raises),
# a check that is not ✅ raises CheckFailed after printing its line.
GRADING_ENV = "NNLIB_GRADING"


class CheckFailed(AssertionError):
    """Raised by a check that did not pass, in a grading run only. Jupyter shows the hint in
    place of a traceback (the line itself is already printed above it); the fix stays hidden."""

    def __init__(self, message, hint=""):
        super().__init__(message)
        self.hint = hint

    def _render_traceback_(self):
        return [f"Hint: {self.hint}"] if self.hint else []


class Mistake(NamedTuple):
    """One known wrong answer. ``wrong`` is the value that mistake produces (None: a nan or inf
    where the right answer is finite); ``says`` is the tier-1 sentence, ``hint`` tier 2 (words),
    ``fix`` tier 3 (code)."""
    wrong: Any
    says: str
    hint: str = ""
    fix: str = ""


class Problem(Exception):
    """Raised inside a check: ``says`` what is wrong (tier 1), with an optional hint and fix."""

    def __init__(self, says, hint="", fix=""):
        super().__init__(says)
        self.says, self.hint, self.fix = says, hint, fix

    @classmethod
    def of(cls, mistake):
        return cls(mistake.says, mistake.hint, mistake.fix)


class CheckResult:
    """What a check found.

    ``ok`` (bool), ``status`` ("pass", "fail", "todo" or "error": the student's code raised),
    ``exercise`` (the check's name), ``message`` (the one line it printed), and, after a failure,
    ``hint`` and ``fix``. The result itself displays nothing in a notebook.
    """

    def __init__(self, exercise, status, message, hint="", fix=""):
        self.exercise, self.status, self.message = exercise, status, message
        self.hint, self.fix = hint, fix

    @property
    def ok(self):
        return self.status == "pass"

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"CheckResult(exercise={self.exercise!r}, status={self.status!r}, " \
               f"message={self.message!r})"

    def _ipython_display_(self):
        pass

    def details_html(self):
        """The hint and the fix as two folded HTML sections (nothing for a pass)."""
        parts = []
        for title, text, tag in [("Hint", self.hint, "p"), ("Show the fix", self.fix, "pre")]:
            if text:
                parts.append(f"<details><summary>{title}</summary><{tag}>{html.escape(text)}"
                             f"</{tag}></details>")
        return "".join(parts)


def _in_kernel():
    """True inside a Jupyter kernel, where rich output (the folded hint and fix) can be shown."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _grading():
    return os.environ.get(GRADING_ENV) == "1"


def _show(result):
    print(result.message)
    if result.ok or not (result.hint or result.fix) or not _in_kernel() or _grading():
        return
    from IPython.display import display
    display({"text/html": result.details_html(),
             "text/plain": "Stuck? The result of this check has .hint and .fix."}, raw=True)


_CHECKS_DIR = Path(__file__).resolve().parent
_NNLIB_DIR = _CHECKS_DIR.parent
_PYTHON_DIRS = tuple(str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix,
                                                        sys.exec_prefix})


def is_student_file(path):
    """True for code that is neither nnlib nor an installed package: a notebook cell, or a test's
    deliberately wrong version."""
    if path.startswith("<frozen"):
        return False
    resolved = str(Path(path).resolve()) if not path.startswith("<") else path
    return not (resolved.startswith(str(_NNLIB_DIR)) or resolved.startswith(_PYTHON_DIRS))


def _raised_in_student_code(err, body):
    """True when the traceback passes through student code (not the check's own body)."""
    return any(frame.f_code is not body.__code__ and is_student_file(frame.f_code.co_filename)
               for frame, _ in traceback.walk_tb(err.__traceback__))


def _first_line(err):
    text = str(err)
    return text.splitlines()[0] if text else ""


def check(name, hint="", fix=""):
    """Decorate ``body(student, *args)``, which raises Problem on the first mistake it finds and
    returns an optional note on success. The wrapper prints one line and returns a CheckResult.

    ``hint`` and ``fix`` are the exercise's own tier 2 and 3, used when a Problem brings none.
    """
    def decorate(body):
        @functools.wraps(body)
        def wrapper(student, *args, **kwargs):
            try:
                note = body(student, *args, **kwargs)
                result = CheckResult(name, "pass",
                                     f"{PASS} {name}: correct{' — ' + note if note else ''}")
            except NotImplementedError:
                result = CheckResult(name, "todo", f"{TODO} {name} is not implemented yet: write "
                                     "your code in place of the placeholder, run that cell, "
                                     "then this one")
            except Problem as problem:
                result = CheckResult(name, "fail", f"{FAIL} {name}: {problem.says}",
                                     problem.hint or hint, problem.fix or fix)
            except Exception as err:   # noqa: BLE001 - any exception becomes one line of feedback
                if _raised_in_student_code(err, body):
                    result = CheckResult(
                        name, "error", f"{FAIL} {name}: your code raised "
                        f"{type(err).__name__}: {_first_line(err)}",
                        hint or "Read the error's last line and the line of your code it points "
                                "at: run your function by itself on a small input to see it.",
                        fix)
                else:
                    result = CheckResult(
                        name, "fail", f"{FAIL} {name}: this check could not use what your code "
                        f"returned ({type(err).__name__} inside the check: {_first_line(err)}); "
                        "look at the type and shape of what you return",
                        hint or "Compare the type and shape of your return value with what the "
                                "exercise asks for.", fix)
            for hook in result_hooks:
                hook(result)
            _show(result)
            if not result.ok and _grading():
                raise CheckFailed(result.message, result.hint)
            return result
        wrapper.exercise = name
        return wrapper
    return decorate


IN_PLACE = Mistake(
    None, "it changed its input array in place, so the caller's data is no longer what it was",
    "Compute a new array from the input instead of writing into the one you were given.",
    "x = x - m        # a new array\n# not: x -= m    # overwrites the caller's array")


def call(fn, *args):
    """Call the student's function on copies of ``args`` and fail if it changed them in place."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    out = fn(*copies)
    for original, copy in zip(args, copies):
        if isinstance(original, np.ndarray) and not np.array_equal(original, copy, equal_nan=True):
            raise Problem.of(IN_PLACE)
    return out


def _as_mistake(entry):
    if not isinstance(entry, Mistake):
        raise TypeError(f"a mistakes table holds Mistake rows, got {type(entry).__name__}")
    return entry


def _matches(out, wrong, rtol, atol):
    return wrong is not None and np.shape(wrong) == out.shape and np.allclose(
        out, wrong, rtol=rtol, atol=atol, equal_nan=True)


def _no_return(what):
    return Problem(f"{what} is None: the function ends without returning its result",
                   "A function that only computes a value gives None to its caller.",
                   "return result   # as the function's last line")


def expect_array(out, expected, what, mistakes=(), rtol=1e-5, atol=1e-6):
    """Fail unless ``out`` matches ``expected``. ``mistakes`` is a table of Mistake rows: when
    ``out`` matches a row's wrong value, that row's three tiers are the feedback, so a typical
    mistake gets named instead of a bare "wrong numbers".
    """
    mistakes = [_as_mistake(m) for m in mistakes]
    if out is None:
        raise _no_return(what)
    out = np.asarray(out)
    expected = np.asarray(expected)
    if out.dtype == object:
        raise Problem(f"{what} is not an array of numbers (it holds Python objects)",
                      "Return one NumPy array of numbers, not a list of arrays or tuples.")
    if out.shape != expected.shape:
        for m in mistakes:
            if _matches(out, m.wrong, rtol, atol):
                raise Problem.of(m)
        raise Problem(f"{what} has shape {out.shape}, expected {expected.shape}",
                      "Write the shape of every array in a comment beside each line, and "
                      "follow them to the shape the exercise asks for.")
    if not np.all(np.isfinite(out)) and np.all(np.isfinite(expected)):
        for m in mistakes:
            if m.wrong is None:
                raise Problem.of(m)
        raise Problem(f"{what} contains nan or inf where the right answer is finite",
                      "Look for an exp, a log or a division that overflows or divides by zero.")
    if np.allclose(out, expected, rtol=rtol, atol=atol):
        return out
    for m in mistakes:
        if _matches(out, m.wrong, rtol, atol):
            raise Problem.of(m)
    worst = np.unravel_index(np.argmax(np.abs(out - expected)), out.shape)
    # no hint of its own: the exercise's hint (from @check) says more than a generic one
    raise Problem(f"{what} is wrong: at index {tuple(int(i) for i in worst)} you have "
                  f"{out[worst]:.6g}, expected {expected[worst]:.6g}")


def expect_scalar(out, expected, what, mistakes=(), rtol=1e-5, atol=1e-7):
    """Like expect_array for one number; accepts a float or a 0-d/size-1 array."""
    mistakes = [_as_mistake(m) for m in mistakes]
    if out is None:
        raise _no_return(what)
    if np.ndim(out) != 0 and np.size(out) != 1:
        raise Problem(f"{what} should be a single number, got an array of shape {np.shape(out)}",
                      "Reduce the array to one number: an average or a total over all entries.")
    value = float(np.asarray(out).reshape(()))
    if np.isclose(value, expected, rtol=rtol, atol=atol):
        return value
    for m in mistakes:
        if m.wrong is None and not np.isfinite(value):
            raise Problem.of(m)
        if m.wrong is not None and np.isclose(value, m.wrong, rtol=rtol, atol=atol):
            raise Problem.of(m)
    raise Problem(f"{what} is {value:.6g}, expected {expected:.6g}")


def rng_for_checks(seed=0):
    """The checks' own generator: the same inputs every run, so a message is reproducible."""
    return np.random.default_rng(seed)
