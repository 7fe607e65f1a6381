"""The machinery behind every exercise check: run the student's code, compare with nnlib's
reference, and turn the first problem found into one line a student can act on.
"""

import functools

import numpy as np

# a word beside each symbol: the line still reads right where no emoji font is installed
PASS, FAIL, TODO = "✅ PASS", "❌ FAIL", "⏳ TODO"


class CheckResult:
    """What a check found: ``ok`` (bool) and the one-line ``message`` it printed.

    The line is printed when the check runs; the result itself displays nothing in a notebook.
    """

    def __init__(self, ok, message):
        self.ok, self.message = ok, message

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"CheckResult(ok={self.ok}, message={self.message!r})"

    def _ipython_display_(self):
        pass


class Problem(Exception):
    """Raised inside a check with the sentence that explains what is wrong."""


def check(name):
    """Decorate ``body(student, *args)``, which raises Problem on the first mistake it finds and
    returns an optional note on success. The wrapper prints one line and returns a CheckResult.
    """
    def decorate(body):
        @functools.wraps(body)
        def wrapper(student, *args, **kwargs):
            try:
                note = body(student, *args, **kwargs)
                result = CheckResult(True, f"{PASS} {name}: correct{' — ' + note if note else ''}")
            except NotImplementedError:
                result = CheckResult(False, f"{TODO} {name} is not implemented yet: replace "
                                            "`raise NotImplementedError()` with your code, "
                                            "run that cell, then this one")
            except Problem as problem:
                result = CheckResult(False, f"{FAIL} {name}: {problem}")
            except Exception as err:
                first = str(err).splitlines()[0] if str(err) else ""
                result = CheckResult(False, f"{FAIL} {name} raised {type(err).__name__}: {first}")
            print(result.message)
            return result
        return wrapper
    return decorate


def call(fn, *args):
    """Call the student's function on copies of ``args`` and fail if it changed them in place."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    out = fn(*copies)
    for original, copy in zip(args, copies):
        if isinstance(original, np.ndarray) and not np.array_equal(original, copy, equal_nan=True):
            raise Problem("it changed its input array in place; compute a new array instead "
                          "(e.g. `x - m`, not `x -= m`)")
    return out


def expect_array(out, expected, what, mistakes=(), rtol=1e-5, atol=1e-6):
    """Fail unless ``out`` matches ``expected``. ``mistakes`` is a list of
    (wrong_value_or_None, explanation): when ``out`` matches a wrong value, that explanation is
    the message, so a typical mistake gets named instead of a bare "wrong numbers".
    """
    if out is None:
        raise Problem(f"{what} is None: did you forget `return`?")
    out = np.asarray(out)
    expected = np.asarray(expected)
    if out.shape != expected.shape:
        for wrong, why in mistakes:
            if wrong is not None and np.shape(wrong) == out.shape and np.allclose(
                    out, wrong, rtol=rtol, atol=atol, equal_nan=True):
                raise Problem(why)
        raise Problem(f"{what} has shape {out.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(out)) and np.all(np.isfinite(expected)):
        for wrong, why in mistakes:
            if wrong is None:
                raise Problem(why)
        raise Problem(f"{what} contains nan or inf where the right answer is finite")
    if np.allclose(out, expected, rtol=rtol, atol=atol):
        return out
    for wrong, why in mistakes:
        if wrong is not None and np.shape(wrong) == out.shape and np.allclose(
                out, wrong, rtol=rtol, atol=atol):
            raise Problem(why)
    worst = np.unravel_index(np.argmax(np.abs(out - expected)), out.shape)
    raise Problem(f"{what} is wrong: at index {tuple(int(i) for i in worst)} you have "
                  f"{out[worst]:.6g}, expected {expected[worst]:.6g}")


def expect_scalar(out, expected, what, mistakes=(), rtol=1e-5, atol=1e-7):
    """Like expect_array for one number; accepts a float or a 0-d/size-1 array."""
    if out is None:
        raise Problem(f"{what} is None: did you forget `return`?")
    if np.ndim(out) != 0 and np.size(out) != 1:
        raise Problem(f"{what} should be a single number, got an array of shape {np.shape(out)}: "
                      "did you forget to take the mean?")
    value = float(np.asarray(out).reshape(()))
    if np.isclose(value, expected, rtol=rtol, atol=atol):
        return value
    for wrong, why in mistakes:
        if wrong is None and not np.isfinite(value):
            raise Problem(why)
        if wrong is not None and np.isclose(value, wrong, rtol=rtol, atol=atol):
            raise Problem(why)
    raise Problem(f"{what} is {value:.6g}, expected {expected:.6g}")


def rng_for_checks(seed=0):
    """The checks' own generator: the same inputs every run, so a message is reproducible."""
    return np.random.default_rng(seed)
