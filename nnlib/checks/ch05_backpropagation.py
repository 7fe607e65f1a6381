"""Checks for chapter 05 (backpropagation): dense_backward, relu_backward, softmax_backward and
softmax_cross_entropy_backward. Each compares with nnlib's reference on several inputs, names the
typical mistakes (a gradient that is a constant multiple of the right one gets its factor named),
and finally gradient-checks the student's gradients in float64.
"""

import numpy as np

from ..activations import softmax
from ..data import one_hot
from ..gradcheck import numerical_gradient, rel_error
from ..losses import SoftmaxCrossEntropy
from ._core import Mistake, Problem, call, check, expect_array, rng_for_checks

GRADCHECK_TOL = 1e-6   # a correct float64 gradient is ~1e-9 from central differences (eps=1e-5)

DENSE_FIX = ("def dense_backward(dout, x, weights):\n    dweights = x.T @ dout\n"
             "    dbiases = dout.sum(axis=0)\n    dx = dout @ weights.T\n"
             "    return dx, dweights, dbiases")
RELU_FIX = "def relu_backward(dout, x):\n    return dout * (x > 0)"
SOFTMAX_FIX = ("def softmax_backward(dout, p):\n"
               "    return p * (dout - (dout * p).sum(axis=1, keepdims=True))")
FUSED_FIX = ("def softmax_cross_entropy_backward(logits, y_true):\n    n = len(logits)\n"
             "    grad = softmax(logits)\n    grad[np.arange(n), y_true] -= 1\n    return grad / n")

DENSE_HINT = ("A gradient has the shape of what it is the gradient of. The weights and biases "
              "are shared by every example of the batch, so their gradients add up over it; "
              "each example has its own x, so its own dx.")
RELU_HINT = ("ReLU's slope is 1 where its input x was positive and 0 elsewhere (also at exactly "
             "0, by our choice); the chain rule multiplies the incoming gradient by that slope.")
SOFTMAX_HINT = ("dz_j = Σ_i δ_i ∂p_i/∂z_j with ∂p_i/∂z_j = p_i (1[i = j] − p_j): split off the "
                "i = j term; what is left contains a sum over i that is the same for every j "
                "of the row.")
FUSED_HINT = ("Cross-entropy's gradient δ is −1/(N p) at the true class of each row and 0 "
              "elsewhere; put it through softmax backward and the 1/p cancels.")
SHAPES = ("Write the shape beside each array, (N, n_in), (n_in, n_out), (N, n_out): a matrix "
          "product needs the inner dimensions to meet, and the result has the outer ones.")


# --- a gradient that is c times the right one -----------------------------------------------------
def _constant_factor(out, expected):
    """The number c with out == c * expected everywhere, or None when there is no such c."""
    out, expected = np.asarray(out), np.asarray(expected, dtype=float)
    if out.dtype.kind not in "biuf" or out.shape != expected.shape:
        return None
    out = out.astype(float)
    if not np.all(np.isfinite(out)):
        return None
    size = np.sum(expected * expected)
    if size == 0:
        return None
    c = float(np.sum(out * expected) / size)
    if np.allclose(out, c * expected, rtol=1e-5, atol=1e-6 * max(1.0, abs(c))):
        return c
    return None


def _times(c):
    """A factor inside a sentence: 2 -> "2×", 0.5 -> "1/2 of", 0.35 -> "0.35×", -3 -> "−3×"."""
    if abs(c) < 1 and np.isclose(1 / c, round(1 / c), rtol=1e-4):
        return f"{'−' if c < 0 else ''}1/{abs(round(1 / c))} of"
    return f"{c:.3g}×".replace("-", "−")


def _factor_problem(c, what, n, batch, fix):
    """The Problem for a gradient that is c times the right one everywhere (c != 1). ``batch`` is
    the pair of rows (for c == N, for c == 1/N) whose words say why the batch size does or does
    not belong in this gradient; ``fix`` is the exercise's code."""
    if abs(c) < 1e-12:
        return Problem(f"{what} is zero everywhere, but the right gradient is not: nothing of "
                       "dout reaches it (a mask that is always 0, or an array of zeros returned "
                       "as it was made)",
                       "Follow dout through your code line by line: where is it multiplied by "
                       "something that is 0, or dropped?", fix)
    if np.isclose(c, -1, rtol=1e-4):
        return Problem(f"{what} is −1× the right value everywhere: the right size, the wrong "
                       "sign, so a step against it would climb the loss",
                       "Look for a subtraction written the other way round, or a stray minus.",
                       fix)
    for factor, row in [(n, batch[0]), (1 / n, batch[1])]:
        if n > 1 and np.isclose(c, factor, rtol=1e-4):
            size = "N times too large" if factor > 1 else "1/N of the right value"
            return Problem(f"{what} is {size} everywhere (N = {n}, the batch size): {row.says}",
                           row.hint, fix)
    if n > 1 and (np.isclose(c, -n, rtol=1e-4) or np.isclose(c, -1 / n, rtol=1e-4)):
        return Problem(f"{what} is {_times(c)} the right value everywhere (N = {n}, the batch "
                       "size): a flipped sign and a factor N",
                       "Two slips at once: a subtraction the other way round, and a division "
                       "by (or product with) the batch size.", fix)
    return Problem(f"{what} is {_times(c)} the right value everywhere: the shape and the pattern "
                   "are right, only the scale is off, so a stray constant factor crept in",
                   "Compare every factor in your code with the chain rule: which one has no "
                   "counterpart in the derivation?", fix)


def _expect_gradient(out, expected, what, n, batch, fix, mistakes=()):
    """expect_array, but a gradient that is a constant multiple of the right one gets the factor
    named instead of one wrong element. The named mistakes are tried first."""
    try:
        return expect_array(out, expected, what, mistakes=mistakes)
    except Problem as problem:
        if not problem.says.startswith(f"{what} is wrong: at index"):
            raise
        c = _constant_factor(out, expected)
        if c is None:
            raise
        raise _factor_problem(c, what, n, batch, fix) from None


# the words for a factor N or 1/N (``wrong`` is unused: _constant_factor finds the factor)
DENSE_N = (
    Mistake(None, "the incoming dout already carries the 1/N of the mean loss, so a layer's "
            "backward never multiplies by the batch size",
            "The loss is the MEAN over the batch: its 1/N is already inside dout. Does this "
            "layer need another factor N?"),
    Mistake(None, "the incoming dout already carries the 1/N of the mean loss, so a layer's "
            "backward never divides by the batch size again",
            "The loss is the MEAN over the batch: its 1/N is already inside dout. Shared "
            "parameters add up the gradients of all examples."),
)
ROWWISE_N = (
    Mistake(None, "this backward works example by example, so the batch size never enters it",
            "Each row of dout is one example's gradient and stays in its own row; nothing is "
            "summed or averaged over the batch."),
    Mistake(None, "this backward works example by example, so the batch size never enters it",
            "Each row of dout is one example's gradient and stays in its own row; nothing is "
            "summed or averaged over the batch."),
)
CROSS_ENTROPY_N = (
    Mistake(None, "the 1/N is missing; the loss is a MEAN over the batch",
            "L = −(1/N) Σ_n log p_n,y_n: where does the 1/N go in its derivative?"),
    Mistake(None, "you divided by N twice; the loss is a mean over the batch, so its gradient "
            "carries exactly one factor 1/N",
            "L = −(1/N) Σ_n log p_n,y_n: one 1/N in the loss, one in its derivative."),
)


def _gradcheck(analytic, f, x, what, fix=""):
    """Fail unless ``analytic`` matches the central-difference gradient of f() with respect to x
    (``fix``: the exercise's fix, when it is not the check's default)."""
    err = rel_error(analytic, numerical_gradient(f, x))
    if not err < GRADCHECK_TOL:
        raise Problem(f"{what} disagrees with the numerical gradient (relative error {err:.1e}, "
                      f"expected < {GRADCHECK_TOL:.0e})",
                      "The numerical gradient nudges each entry by a tiny ε and measures how the "
                      "loss moves; your formula predicts a different slope for some entries.", fix)


# --- Dense ----------------------------------------------------------------------------------------
def _dense_mistakes(dout, x, w, n):
    """The rows for each of dense_backward's three gradients: (dweights, dbiases, dx)."""
    dweights = [
        Mistake(dout.T @ x, "dweights is the transpose of the right gradient: its entry (i, k) "
                "must belong to the weight from input i to output k",
                "A gradient has the shape of the weights, (n_in, n_out). " + SHAPES,
                "dweights = x.T @ dout   # (n_in, N) @ (N, n_out) -> (n_in, n_out)"),
    ]
    dbiases = [
        Mistake(dout, f"dbiases has shape {dout.shape}, one row per example: the biases have "
                "one entry per output, and every example adds its share to them",
                "The same biases serve every example: collapse the batch axis, keep the outputs.",
                "dbiases = dout.sum(axis=0)   # shape (n_out,)"),
        Mistake(dout.sum(axis=1), "dbiases holds one number per example (you added up the "
                "outputs of each example); each bias belongs to one output and collects the "
                "gradients of all examples", "Which axis of dout counts the examples?",
                "dbiases = dout.sum(axis=0)   # over the batch: shape (n_out,)"),
        Mistake(dout.sum(axis=0, keepdims=True), f"dbiases has shape (1, {dout.shape[1]}): "
                "the right numbers, but the biases are one-dimensional, with one entry per "
                "output", "A sum that keeps the summed axis leaves it there with length 1.",
                "dbiases = dout.sum(axis=0)   # shape (n_out,)"),
        Mistake(np.sum(dout), "dbiases is one number, the total of all of dout: each bias gets "
                "only the gradient of its own output, added up over the batch",
                "One bias per output, so one gradient per output.",
                "dbiases = dout.sum(axis=0)   # one value per output"),
    ]
    dx = [
        Mistake(x, "dx is the input x itself, which does not depend on dout at all: the "
                "gradient that reaches x comes from dout, through the weights",
                "∂y_nk/∂x_ni = W_ik: x reaches the output through the weights.",
                "dx = dout @ weights.T"),
    ]
    if w.shape[0] == w.shape[1]:
        dx.append(Mistake(dout @ w, "dx is missing the transpose of the weights: input i is "
                          "paired with the weights of output i instead of its own weights (the "
                          "shapes only fit because this layer is square)", SHAPES,
                          "dx = dout @ weights.T   # (N, n_out) @ (n_out, n_in) -> (N, n_in)"))
    if n > 1:
        dweights.append(Mistake(x.T @ dout / n, f"dweights is 1/N of the right value (N = {n}): "
                                "it was divided by the batch size (a mean), but the weights are "
                                "shared by every example, so their gradients add up",
                                DENSE_N[1].hint, "dweights = x.T @ dout   # no division by N"))
        dbiases.append(Mistake(dout.mean(axis=0), f"dbiases is 1/N of the right value (N = {n}): "
                               "it is the MEAN of dout over the batch, but every example adds "
                               "its own gradient to the shared biases", DENSE_N[1].hint,
                               "dbiases = dout.sum(axis=0)   # a sum, not a mean"))
        dx.append(Mistake(dout @ w.T / n, f"dx is 1/N of the right value (N = {n}): it was "
                          "divided by the batch size, but each example has its own dx and "
                          "nothing is shared", DENSE_N[1].hint,
                          "dx = dout @ weights.T   # no division by N"))
    return dweights, dbiases, dx


def _dense_returned(out, shapes):
    """The three gradients, or a Problem when the student returned something else."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        got = (f"{len(out)} values" if isinstance(out, (tuple, list)) else
               "None" if out is None else f"a single {type(out).__name__}")
        raise Problem(f"your function returned {got}; the exercise asks for three arrays, the "
                      "gradients dx, dweights and dbiases",
                      "A Python function gives back several values as one tuple.",
                      "return dx, dweights, dbiases")
    got = [np.shape(g) if isinstance(g, (np.ndarray, list, tuple, float, int)) else None
           for g in out]
    names = ["dx", "dweights", "dbiases"]
    if len(set(shapes)) == 3 and sorted(map(str, got)) == sorted(map(str, shapes)) and \
            got != shapes:
        order = ", ".join(names[shapes.index(s)] for s in got)
        raise Problem(f"the three gradients came back in the wrong order: by their shapes you "
                      f"returned {order}; the exercise asks for dx, dweights, dbiases",
                      "The order is part of the contract: the caller unpacks the three values "
                      "by position.", "return dx, dweights, dbiases")
    return out


@check("dense_backward", hint=DENSE_HINT, fix=DENSE_FIX)
def check_dense_backward(dense_backward):
    rng = rng_for_checks()
    # a square layer first: there a missing transpose gives wrong numbers instead of a shape
    # error, so the mistake can be named; then a non-square layer and a batch of one
    for n, n_in, n_out in [(5, 3, 3), (6, 4, 3), (1, 4, 2)]:
        x = rng.standard_normal((n, n_in))
        w = rng.standard_normal((n_in, n_out))
        dout = rng.standard_normal((n, n_out))
        where = f"(batch of {n}, Dense({n_in} → {n_out}))"
        out = call(dense_backward, dout, x, w)
        dx, dw, db = _dense_returned(out, [x.shape, w.shape, (n_out,)])
        dw_rows, db_rows, dx_rows = _dense_mistakes(dout, x, w, n)
        _expect_gradient(dw, x.T @ dout, f"dweights {where}", n, DENSE_N, DENSE_FIX, dw_rows)
        _expect_gradient(db, dout.sum(axis=0), f"dbiases {where}", n, DENSE_N, DENSE_FIX,
                         db_rows)
        _expect_gradient(dx, dout @ w.T, f"dx {where}", n, DENSE_N, DENSE_FIX, dx_rows)

    # gradient check in float64: L = Σ (x W + b) ⊙ r, so dL/d(output) = r
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    r = rng.standard_normal((4, 2))
    dx, dw, db = _dense_returned(call(dense_backward, r, x, w), [x.shape, w.shape, b.shape])

    def loss():
        return np.sum((x @ w + b) * r)

    _gradcheck(dw, loss, w, "dweights")
    _gradcheck(db, loss, b, "dbiases")
    _gradcheck(dx, loss, x, "dx")
    return "dx, dweights and dbiases match nnlib and the numerical gradients"


# --- ReLU -----------------------------------------------------------------------------------------
def _relu_mistakes(dout, x):
    return [
        Mistake(dout * (x >= 0), "at x == 0 your gradient is dout, but ReLU's slope there is "
                "taken to be 0 (as in nnlib and PyTorch)",
                "The kink at 0 has no derivative, so we choose one: which comparison lets "
                "exactly 0 through, and which does not?", "return dout * (x > 0)   # not >="),
        Mistake(dout, "dx equals dout everywhere: the gradient passed through unchanged, also "
                "where ReLU was off (x ≤ 0) and its slope is 0",
                "Where x ≤ 0, ReLU's output does not move when x moves.", RELU_FIX),
        Mistake(dout * (dout > 0), "you masked with the sign of dout: whether the gradient may "
                "pass was decided in the forward pass, by the sign of the input x",
                "ReLU's slope depends on the input it saw, not on the gradient coming back.",
                RELU_FIX),
        Mistake((x > 0).astype(float), "you returned the mask itself (1 where x > 0, 0 "
                "elsewhere): that is ReLU's slope, which still has to multiply the incoming "
                "gradient", "Chain rule: gradient from above × local slope.", RELU_FIX),
        Mistake(dout * (x < 0), "the mask is inverted: your gradient passes where x < 0 and is "
                "zero where x > 0", "ReLU is the identity for positive x: slope 1 there.",
                RELU_FIX),
        Mistake(dout * np.maximum(x, 0), "you multiplied dout by relu(x), the layer's output; "
                "ReLU's slope is 1 where x > 0, whatever the size of x",
                "The derivative of max(0, x) is a slope, 1 or 0, not a value of ReLU.",
                RELU_FIX),
    ]


@check("relu_backward", hint=RELU_HINT, fix=RELU_FIX)
def check_relu_backward(relu_backward):
    rng = rng_for_checks()
    x = rng.standard_normal((6, 5))
    x[0, :2] = 0.0
    x[3, 4] = 0.0
    x[5, 0] = -0.0
    dout = rng.standard_normal((6, 5))
    for xs, ds, what in [(x, dout, "relu_backward(dout, x)"),
                         (x[:1], dout[:1], "relu_backward on a batch of one"),
                         (x * 1e4, dout, "relu_backward for x of size 1e4")]:
        out = call(relu_backward, ds, xs)
        _expect_gradient(out, ds * (xs > 0), what, len(xs), ROWWISE_N, RELU_FIX,
                         _relu_mistakes(ds, xs))

    # gradient check in float64 away from the kink at 0
    z = rng.standard_normal((4, 3))
    z = np.where(np.abs(z) < 0.1, 0.5, z)
    r = rng.standard_normal((4, 3))
    analytic = call(relu_backward, r, z)
    _gradcheck(analytic, lambda: np.sum(np.maximum(z, 0) * r), z, "relu_backward")
    return "passes dout where x > 0, zeros it elsewhere (including x == 0)"


# --- Softmax --------------------------------------------------------------------------------------
def reference_softmax_backward(dout, p):
    return p * (dout - (dout * p).sum(axis=1, keepdims=True))


ROW_SUM = ("The sum Σ_i δ_i p_i is one number per example: it runs along a row and must stay a "
           "column of shape (N, 1) to line up with every class of its row.")


def _softmax_mistakes(dout, p):
    s = (dout * p).sum(axis=1, keepdims=True)
    mistakes = [
        Mistake(dout * p * (1 - p), "you used only the diagonal of the Jacobian, p(1 − p): "
                "every logit changes every probability of its row, so each dz also collects the "
                "off-diagonal terms −p_i p_j", SOFTMAX_HINT, SOFTMAX_FIX),
        Mistake(p * (dout - (dout * p).sum(axis=0, keepdims=True)), "the weighted sum runs over "
                "the batch, down each column; it belongs to one example, so it runs over the "
                "classes of each row", ROW_SUM, SOFTMAX_FIX),
        Mistake(p * (dout - dout.sum(axis=1, keepdims=True)), "you subtracted the plain row sum "
                "of dout; the Jacobian's terms −p_i p_j weight each δ_i by its probability p_i, "
                "and your sum does not", SOFTMAX_HINT, SOFTMAX_FIX),
        Mistake(p * (dout - p.sum(axis=1, keepdims=True)), "you subtracted the row sum of p, "
                "which is 1 for every row: dout no longer enters that term at all, but in the "
                "chain rule each δ_i of the row is weighted by its probability p_i",
                "Which two arrays meet inside the sum Σ_i δ_i p_i?", SOFTMAX_FIX),
        Mistake(-p * (dout - s), "the sign is flipped: every entry is the negative of the right "
                "gradient", "Check the order of the two terms of p_i (1[i = j] − p_j).",
                SOFTMAX_FIX),
        Mistake(dout - s, "the factor p in front is missing: every entry of the Jacobian "
                "∂p_i/∂z_j carries the factor p_i", SOFTMAX_HINT, SOFTMAX_FIX),
        Mistake(p * dout, "p ⊙ dout is only half of it: the part that couples the classes of a "
                "row, through their shared denominator, is missing", SOFTMAX_HINT, SOFTMAX_FIX),
    ]
    if p.shape[0] == p.shape[1]:
        mistakes.append(Mistake(p * (dout - (dout * p).sum(axis=1)), "the row sums lost their "
                                "axis, so each one was lined up with a column (a class) instead "
                                "of its own row (an example)", ROW_SUM, SOFTMAX_FIX))
    return mistakes


@check("softmax_backward", hint=SOFTMAX_HINT, fix=SOFTMAX_FIX)
def check_softmax_backward(softmax_backward):
    rng = rng_for_checks()
    # square (4 × 4) first, so a row sum that lost its axis gives wrong numbers, not an error
    cases = [(rng.standard_normal((4, 4)) * 2, "softmax_backward(dout, p) with 4 rows, 4 classes"),
             (rng.standard_normal((6, 3)), "softmax_backward with 6 rows, 3 classes"),
             (rng.standard_normal((1, 5)), "softmax_backward on a batch of one"),
             (rng.standard_normal((3, 4)) * 1e4, "softmax_backward where p comes from logits "
                                                 "of size 1e4")]
    for z, what in cases:
        p = softmax(z)
        dout = rng.standard_normal(z.shape)
        out = call(softmax_backward, dout, p)
        _expect_gradient(out, reference_softmax_backward(dout, p), what, len(z), ROWWISE_N,
                         SOFTMAX_FIX, _softmax_mistakes(dout, p))

    # gradient check in float64: L = Σ softmax(z) ⊙ r
    z = rng.standard_normal((3, 4))
    r = rng.standard_normal((3, 4))
    analytic = call(softmax_backward, r, softmax(z))
    _gradcheck(analytic, lambda: np.sum(softmax(z) * r), z, "softmax_backward")
    return "the vectorised Jacobian-vector product p ⊙ (dout − Σ dout ⊙ p) is right"


# --- Softmax + cross-entropy ----------------------------------------------------------------------
def _fused_mistakes(z, y, p, t):
    n, c = z.shape
    columns = p.copy()
    columns[:, y] -= 1
    mistakes = [
        Mistake(None, "the gradient is nan or inf for large logits: exp overflows above about "
                "709 in float64, and inf / inf is nan",
                "softmax(z) = softmax(z − c) for any constant c in a row; the exercise text "
                "names a softmax that is stable.", FUSED_FIX),
        Mistake((t - p) / n, "the sign is flipped: yours is one-hot minus softmax, so a step "
                "against it would raise the loss",
                "What the network predicted minus what it should have predicted.", FUSED_FIX),
        Mistake(p / n, "the one-hot labels were not subtracted: your gradient is positive "
                "everywhere, so every logit would be pushed down, the true class's too",
                "The true class of each row gets −1 from cross-entropy's derivative.",
                FUSED_FIX),
        Mistake((z - t) / n, "you subtracted the one-hot from the logits; the gradient compares "
                "the predicted probabilities with the labels",
                "The logits are scores, not probabilities: softmax turns them into p.",
                FUSED_FIX),
        Mistake((p - t) / (n * c), "you divided by N·C, a mean over every entry; the loss is a "
                "mean over the N examples only", CROSS_ENTROPY_N[0].hint, FUSED_FIX),
        Mistake((p - t).mean(axis=0), "you averaged over the batch: your result has one row, "
                "but the gradient has one row per example, shape (N, C), like the logits",
                "Each example's logits get their own gradient; the 1/N scales every row.",
                FUSED_FIX),
        Mistake(-t / (n * np.clip(p, 1e-7, 1 - 1e-7)), "that is dL/dp, the gradient with "
                "respect to the probabilities; the exercise asks for the gradient with respect "
                "to the logits, which also goes back through softmax", FUSED_HINT, FUSED_FIX),
        Mistake(columns / n, "you subtracted 1 from whole columns: every example lost 1 at "
                "each class that is the label of ANY example in the batch, but the one-hot has "
                "a single 1 per row, at that row's own label",
                "Indexing with one array of labels picks whole columns; one entry per row "
                "needs a row index and a column index, paired up.", FUSED_FIX),
    ]
    if n > 1:
        mistakes.append(Mistake(p - t, f"the result is N times too large (N = {n}): the 1/N is "
                                "missing; the loss is a MEAN over the batch",
                                CROSS_ENTROPY_N[0].hint, FUSED_FIX))
    return mistakes


@check("softmax_cross_entropy_backward", hint=FUSED_HINT, fix=FUSED_FIX)
def check_softmax_cross_entropy_backward(softmax_cross_entropy_backward):
    rng = rng_for_checks()
    cases = [((5, 4), 1.0, "softmax_cross_entropy_backward(logits, y_true)"),
             ((1, 10), 1.0, "softmax_cross_entropy_backward on a batch of one"),
             ((6, 3), 1e4, "softmax_cross_entropy_backward for logits of size 1e4")]
    for shape, scale, what in cases:
        n, c = shape
        z = rng.standard_normal(shape) * scale
        y = rng.integers(0, c, n)
        p, t = softmax(z), one_hot(y, c, dtype=np.float64)
        out = call(softmax_cross_entropy_backward, z, y)
        _expect_gradient(out, (p - t) / n, what, n, CROSS_ENTROPY_N, FUSED_FIX,
                         _fused_mistakes(z, y, p, t))

    # gradient check in float64 against the loss itself
    z = rng.standard_normal((4, 5))
    y = rng.integers(0, 5, 4)
    analytic = call(softmax_cross_entropy_backward, z, y)
    _gradcheck(analytic, lambda: SoftmaxCrossEntropy().forward(z, y), z,
               "softmax_cross_entropy_backward")
    return "(softmax − one_hot) / N, stable for huge logits"
