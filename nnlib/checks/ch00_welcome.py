"""Checks for chapter 00 (welcome): the warm-up exercise ``mean_square``."""

import numpy as np

from ._core import Problem, call, check, expect_array, rng_for_checks


def reference_mean_square(x):
    """Mean of the squared entries of each row: (N, D) -> (N,)."""
    x = np.asarray(x, dtype=np.float64)
    return (x ** 2).mean(axis=1)


def _mistakes(x):
    squares = x.astype(np.float64) ** 2
    return [
        (squares.sum(axis=1),
         "you summed the squares; the mean divides by the number of entries in a row: "
         "use .mean(axis=1) (or divide the sum by x.shape[1])"),
        (squares.mean(axis=0),
         "you averaged over axis=0, down the columns; each ROW is one example, so average "
         "along the row: .mean(axis=1)"),
        (squares.mean(axis=1, keepdims=True),
         "the result has shape (N, 1); return one number per row, shape (N,): drop keepdims=True"),
        (x.mean(axis=1) ** 2,
         "you squared the mean; square each entry first, then take the mean: "
         "(x ** 2).mean(axis=1)"),
        (np.sqrt(squares.mean(axis=1)),
         "you took the square root (that is the root mean square); return the mean square itself"),
        (x.mean(axis=1),
         "you forgot to square the entries: (x ** 2).mean(axis=1)"),
        (np.abs(x).mean(axis=1),
         "you averaged the absolute values; square the entries instead: (x ** 2).mean(axis=1)"),
        (np.full(len(x), squares.mean()),
         "every row got the mean over the whole array; average each row on its own: "
         ".mean(axis=1)"),
    ]


@check("mean_square")
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
            raise Problem("it returned None: did you forget `return`?")
        if np.ndim(out) == 0 and len(x) > 1:
            if np.isclose(float(out), reference_mean_square(x).mean()):
                raise Problem("you returned one number for the whole array; return one number "
                              "per row: .mean(axis=1)")
            raise Problem(f"for {what} you returned a single number; expected one per row, "
                          f"shape ({len(x)},)")
        expect_array(out, reference_mean_square(x), f"mean_square of {what}",
                     mistakes=_mistakes(x))
    return "one mean square per row"
