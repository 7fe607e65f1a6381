"""Checks for chapter 03, activations: the ReLU layer and the softmax function."""

import numpy as np

from ..activations import softmax as reference_softmax
from ._core import Problem, call, check, expect_array, rng_for_checks


@check("ReLU")
def check_relu(ReLU):
    rng = rng_for_checks()
    layer = ReLU()
    if not hasattr(layer, "forward"):
        raise Problem("ReLU has no method `forward`: define `def forward(self, x):` in the class")
    zeros = np.zeros((2, 3))
    cases = [rng.standard_normal((5, 4)) * 3, rng.standard_normal((1, 6)), zeros,
             -np.abs(rng.standard_normal((3, 3))) - 0.1]
    for x in cases:
        try:
            out = call(layer.forward, x)
        except ValueError as err:
            if "truth value" in str(err):
                raise Problem("Python's max(0, x) (or `if x > 0`) works on ONE number; for a whole "
                              "array use np.maximum(x, 0), element by element") from None
            raise
        expect_array(out, np.maximum(x, 0), f"ReLU().forward(x) for x {x.shape}", mistakes=[
            (np.max(x, axis=0), "np.max(x, 0) is the largest entry of each COLUMN; ReLU is "
                                "element-wise: np.maximum(x, 0)"),
            (np.max(x, axis=1), "np.max(x, axis=1) is the largest entry of each ROW; ReLU is "
                                "element-wise: np.maximum(x, 0)"),
            (np.abs(x), "negative inputs came out positive (that is abs(x)); ReLU sets them to 0: "
                        "np.maximum(x, 0)"),
            (np.where(x > 0, x, 0.01 * x), "negative inputs came out as 0.01·x: that is a leaky "
                                           "ReLU; plain ReLU sets them to 0"),
            (x > 0, "forward returned True/False (the mask x > 0); return the values "
                    "np.maximum(x, 0)"),
            (np.minimum(x, 0), "that is min(x, 0): ReLU keeps the POSITIVE part, np.maximum(x, 0)"),
            (np.clip(x, 0, 1), "outputs above 1 were cut to 1: ReLU has no upper limit, "
                               "np.maximum(x, 0)"),
            (x, "forward returned x unchanged: negative entries must become 0"),
        ])
    return "max(0, x) element-wise, input left untouched"


def _softmax_mistakes(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    whole = np.exp(z - z.max())
    mistakes = [
        (reference_softmax(z.T).T, "you normalised over axis=0 (columns); each ROW must sum to 1: "
                                   "use axis=1, keepdims=True"),
        (e / e.sum(axis=0, keepdims=True), "you summed over axis=0 (columns); each ROW must sum "
                                           "to 1: use e.sum(axis=1, keepdims=True)"),
        (whole / whole.sum(), "you normalised over the whole array, so the entire batch sums to 1; "
                              "each ROW must: use .sum(axis=1, keepdims=True)"),
        (e, "the rows do not sum to 1: divide exp(...) by its row sums, "
            "e / e.sum(axis=1, keepdims=True)"),
        (np.exp(z), "you returned exp(z) without normalising: divide by each row's sum"),
    ]
    if z.shape[0] == 1:
        mistakes.append((reference_softmax(z)[0], "for a batch of one, shape (1, C), you returned "
                                                  "shape (C,): keep the batch axis, the output "
                                                  "has the same shape as z"))
    if z.shape[0] == z.shape[1]:
        mistakes += [
            (e / e.sum(axis=1), "the row sums were divided without keepdims: e.sum(axis=1) has "
                                "shape (N,) and broadcasts along the wrong axis; use "
                                "e.sum(axis=1, keepdims=True)"),
            (np.exp(z - z.max(axis=1)) / np.exp(z - z.max(axis=1)).sum(axis=1, keepdims=True),
             "the row max was subtracted without keepdims: z.max(axis=1) has shape (N,) and "
             "broadcasts along the wrong axis; use z.max(axis=1, keepdims=True)"),
        ]
    return mistakes


@check("softmax")
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
                raise Problem(f"raised ValueError ({err}) for z of shape {z.shape}: a row max or "
                              "row sum lost its axis; use keepdims=True, as in "
                              "e.sum(axis=1, keepdims=True)") from None
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
                      "the max of the WHOLE array; subtract each row's own max, "
                      "z - z.max(axis=1, keepdims=True)")
    expect_array(out, reference_softmax(huge), "softmax of logits like ±1e4", mistakes=[
        (None, "softmax of logits like ±1e4 gives nan or inf: exp overflows (np.exp(1000) is "
               "inf); subtract each row's max before exp, z - z.max(axis=1, keepdims=True)"),
    ])
    return "rows sum to 1, stable for huge logits"
