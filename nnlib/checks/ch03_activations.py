"""Checks for chapter 03, activations: the ReLU layer and the softmax function."""

import numpy as np

from ..activations import softmax as reference_softmax
from ._core import Mistake, Problem, call, check, expect_array, rng_for_checks

RELU_FIX = "class ReLU:\n    def forward(self, x):\n        return np.maximum(x, 0)"
ELEMENTWISE = "ReLU looks at each entry on its own: the output has the shape of the input."


def _relu_mistakes(x):
    """The wrong outputs a ReLU forward typically gives for x, each with its three tiers."""
    return [
        Mistake(np.max(x, axis=0), "you returned the largest entry of each column; ReLU works "
                "entry by entry", ELEMENTWISE, "return np.maximum(x, 0)   # not np.max(x, 0)"),
        Mistake(np.max(x, axis=1), "you returned the largest entry of each row; ReLU works "
                "entry by entry", ELEMENTWISE, "return np.maximum(x, 0)   # not np.max(x, axis=1)"),
        Mistake(np.abs(x), "negative inputs came out positive (that is |x|); ReLU sets them to 0",
                "What should max(0, x) be for x = −2?", "return np.maximum(x, 0)"),
        Mistake(np.where(x > 0, x, 0.01 * x), "negative inputs came out as 0.01·x: that is a "
                "leaky ReLU; plain ReLU sets them to 0", "Negative inputs give exactly 0.",
                "return np.maximum(x, 0)"),
        Mistake(x > 0, "forward returned True/False (the mask of positive entries) instead of "
                "the values", "The mask says WHERE x is positive; the output is x there, 0 "
                "elsewhere.", "return np.maximum(x, 0)   # or x * (x > 0)"),
        Mistake(np.minimum(x, 0), "you kept the negative part, min(0, x); ReLU keeps the "
                "POSITIVE part", "ReLU(x) = max(0, x).", "return np.maximum(x, 0)"),
        Mistake(np.clip(x, 0, 1), "outputs above 1 were cut to 1: ReLU has no upper limit",
                "ReLU(5) = 5.", "return np.maximum(x, 0)   # no upper bound"),
        Mistake(x, "forward returned x unchanged: negative entries must become 0",
                "ReLU(x) = max(0, x).", "return np.maximum(x, 0)"),
    ]


@check("ReLU", hint="ReLU(x) = max(0, x), entry by entry, for a whole batch at once.",
       fix=RELU_FIX)
def check_relu(ReLU):
    rng = rng_for_checks()
    layer = ReLU()
    if not hasattr(layer, "forward"):
        raise Problem("your ReLU class has no forward method, so a network cannot call it",
                      "Methods are defined inside the class, indented under it.", RELU_FIX)
    zeros = np.zeros((2, 3))
    cases = [rng.standard_normal((5, 4)) * 3, rng.standard_normal((1, 6)), zeros,
             -np.abs(rng.standard_normal((3, 3))) - 0.1]
    for x in cases:
        try:
            out = call(layer.forward, x)
        except ValueError as err:
            if "truth value" in str(err):
                raise Problem("Python's built-in max (or an if on x) works on ONE number, not on "
                              "a whole array", "NumPy has an element-wise maximum of two arrays.",
                              "return np.maximum(x, 0)") from None
            raise
        expect_array(out, np.maximum(x, 0), f"ReLU().forward(x) for x of shape {x.shape}",
                     mistakes=_relu_mistakes(x))
    return "max(0, x) element-wise, input left untouched"


SOFTMAX_FIX = ("def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
               "    return e / e.sum(axis=1, keepdims=True)")
ROWS = ("Each row of z is one example; each example's probabilities must sum to 1, so every "
        "max and sum runs along a row and keeps a column of results.")
KEEPDIMS = ("A row sum of an (N, C) array has shape (N,); NumPy lines it up with the LAST axis, "
            "the classes, unless it keeps the shape (N, 1).")


def _softmax_mistakes(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    whole = np.exp(z - z.max())
    mistakes = [
        Mistake(reference_softmax(z.T).T, "your COLUMNS sum to 1 (you normalised over the "
                "batch); each ROW, one example, must", ROWS, SOFTMAX_FIX),
        Mistake(e / e.sum(axis=0, keepdims=True), "you divided by the column sums, so each "
                "column sums to 1; each ROW, one example, must", ROWS, SOFTMAX_FIX),
        Mistake(whole / whole.sum(), "the whole batch sums to 1 (you normalised over the entire "
                "array); each ROW must", ROWS, SOFTMAX_FIX),
        Mistake(e, "the rows do not sum to 1: the exponentials were never normalised",
                "Probabilities: divide each row's exponentials by that row's total.", SOFTMAX_FIX),
        Mistake(np.exp(z), "you returned exp(z): the rows do not sum to 1",
                "Probabilities: divide each row's exponentials by that row's total.", SOFTMAX_FIX),
    ]
    if z.shape[0] == 1:
        mistakes.append(Mistake(reference_softmax(z)[0], "for a batch of one, shape (1, C), you "
                                "returned shape (C,): the batch axis was lost",
                                "The output has the same shape as z, whatever the batch size.",
                                SOFTMAX_FIX))
    if z.shape[0] == z.shape[1]:
        mistakes += [
            Mistake(e / e.sum(axis=1), "the row sums lost their axis, so each one divided a "
                    "column instead of its own row", KEEPDIMS, SOFTMAX_FIX),
            Mistake(np.exp(z - z.max(axis=1)) / np.exp(z - z.max(axis=1)).sum(axis=1,
                                                                              keepdims=True),
                    "the row max was subtracted along the wrong axis: the row maxima lost "
                    "their axis and were lined up with the columns", KEEPDIMS, SOFTMAX_FIX),
        ]
    return mistakes


@check("softmax", hint="softmax(z)ᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z), row by row.",
       fix=SOFTMAX_FIX)
def check_softmax(softmax):
    rng = rng_for_checks()
    # a square batch first: there, a missing keepdims still runs and gives namable wrong numbers
    cases = [("softmax(z)", rng.standard_normal((4, 4)) * 2),
             ("softmax(z)", rng.standard_normal((6, 3)) * 2),
             ("softmax of a batch of one", rng.standard_normal((1, 5))),
             ("softmax of all-zero logits", np.zeros((3, 4)))]
    for what, z in cases:
        try:
            out = call(softmax, z)
        except ValueError as err:
            if "broadcast" in str(err):
                raise Problem(f"a row max or row sum lost its axis, so it could not be lined up "
                              f"with z of shape {z.shape} (ValueError: {err})", KEEPDIMS,
                              SOFTMAX_FIX) from None
            raise
        expect_array(out, reference_softmax(z), what, mistakes=_softmax_mistakes(z))

    # rows on very different scales: one far below the batch's largest logit, one all huge
    huge = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4 + 1, -1e4 + 2, -1e4],
                     [1e4, 1e4, 1e4, 1e4], [3.0, 1.0, 0.2, -1.0]])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        out = call(softmax, huge)
        global_max = np.exp(huge - huge.max())
        global_max = global_max / global_max.sum(axis=1, keepdims=True)
    if out is not None and np.shape(out) == huge.shape and not np.all(np.isfinite(out)) and \
            np.allclose(out, global_max, equal_nan=True):
        raise Problem("a row far below the batch's largest logit comes out nan: you subtracted "
                      "the max of the WHOLE batch, so that row's exponentials all underflow to 0",
                      "Subtracting a constant from one row leaves its softmax unchanged; which "
                      "constant keeps THAT row's exponentials in range?", SOFTMAX_FIX)
    expect_array(out, reference_softmax(huge), "softmax of logits like ±1e4", mistakes=[
        Mistake(None, "softmax of logits like ±1e4 gives nan or inf: exp overflows above about "
                "709 in float64, and inf / inf is nan",
                "softmax(z) = softmax(z − c) for any constant c in a row: choose c so the "
                "largest exponent is 0.", SOFTMAX_FIX),
    ])
    return "rows sum to 1, stable for huge logits"
