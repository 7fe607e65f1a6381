"""Checks for chapter 00 (welcome): the warm-up exercise ``mean_square``."""

import numpy as np

from ._core import Mistake, Problem, call, check, expect_array, rng_for_checks

MEAN_SQUARE_FIX = ('def mean_square(x):\n    """Mean of the squared entries of each row: '
                   '(N, D) -> (N,)."""\n    return (np.asarray(x) ** 2).mean(axis=1)')
ONE_PER_ROW = ("A batch has one example per row; a reduction over the axis that runs along a row "
               "leaves one number per example.")


def reference_mean_square(x):
    """Mean of the squared entries of each row: (N, D) -> (N,)."""
    x = np.asarray(x, dtype=np.float64)
    return (x ** 2).mean(axis=1)


def _mistakes(x):
    squares = x.astype(np.float64) ** 2
    return [
        Mistake(squares.sum(axis=1), "you summed the squares; a mean also divides by the number "
                "of entries in a row", "A mean is a sum divided by how many numbers were added.",
                "return (np.asarray(x) ** 2).mean(axis=1)   # a mean, not a sum"),
        Mistake(squares.mean(axis=0), "you averaged down the columns, one number per feature; "
                "each ROW is one example, so each row needs its own mean", ONE_PER_ROW,
                "return (np.asarray(x) ** 2).mean(axis=1)   # axis 1 runs along a row"),
        Mistake(squares.mean(axis=1, keepdims=True), "the result has shape (N, 1), a column; "
                "the exercise asks for one number per row in shape (N,)",
                "A reduction can keep the reduced axis with length 1; here it should disappear.",
                "return (np.asarray(x) ** 2).mean(axis=1)   # without keepdims"),
        Mistake(x.mean(axis=1) ** 2, "you squared the mean; the exercise asks for the mean of "
                "the squares, and the two differ", "For the row (1, −1) the mean is 0, so its "
                "square is 0; the mean of the squares is 1. Which comes first?",
                "return (np.asarray(x) ** 2).mean(axis=1)   # square first, then average"),
        Mistake(np.sqrt(squares.mean(axis=1)), "you took the square root (that is the root mean "
                "square); the mean square itself is asked for",
                "ms(x) has no square root in it.", "return (np.asarray(x) ** 2).mean(axis=1)"),
        Mistake(x.mean(axis=1), "you forgot to square the entries: this is the plain mean of each "
                "row", "A negative entry adds as much as a positive one to the mean square.",
                "return (np.asarray(x) ** 2).mean(axis=1)"),
        Mistake(np.abs(x).mean(axis=1), "you averaged the absolute values; the mean square "
                "averages the squares", "For the row (1, 3) the mean of the absolute values is "
                "2; the mean square is 5.", "return (np.asarray(x) ** 2).mean(axis=1)"),
        Mistake(np.full(len(x), squares.mean()), "every row got the mean over the whole array; "
                "each row needs its own mean", ONE_PER_ROW,
                "return (np.asarray(x) ** 2).mean(axis=1)   # one mean per row"),
    ]


@check("mean_square", hint="ms(x)ᵢ = (1/D) Σⱼ xᵢⱼ²: square every entry, then average along "
       "each row, so that every example gets one number.", fix=MEAN_SQUARE_FIX)
def check_mean_square(mean_square):
    """Check ``mean_square(x)``: (N, D) -> (N,), the mean of each row's squared entries."""
    rng = rng_for_checks()
    cases = [
        ("a batch of shape (5, 3)", rng.standard_normal((5, 3))),
        ("a square batch (4, 4)", rng.standard_normal((4, 4)) * 3),
        ("a batch of one, shape (1, 6)", rng.standard_normal((1, 6))),
        ("an integer batch", rng.integers(-5, 6, size=(3, 7))),
    ]
    for what, x in cases:
        out = call(mean_square, x)
        if out is None:
            raise Problem("it returned None: the function computes its result but ends without "
                          "returning it", "A Python function without a return statement gives "
                          "None to its caller, however much it computed.",
                          "return (np.asarray(x) ** 2).mean(axis=1)   # return, not only compute")
        if np.ndim(out) == 0 and len(x) > 1:
            if np.isclose(float(out), reference_mean_square(x).mean()):
                raise Problem("you returned one number for the whole array; each row, one "
                              "example, needs its own number", ONE_PER_ROW,
                              "return (np.asarray(x) ** 2).mean(axis=1)   # one mean per row")
            raise Problem(f"for {what} you returned a single number; expected one per row, "
                          f"shape ({len(x)},)", ONE_PER_ROW)
        expect_array(out, reference_mean_square(x), f"mean_square of {what}",
                     mistakes=_mistakes(x))
    return "one mean square per row"
