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
from ._core import Problem, call, check, expect_array, rng_for_checks

GRADCHECK_TOL = 1e-6   # a correct float64 gradient is ~1e-9 from central differences (eps=1e-5)


def _constant_factor(out, expected):
    """The number c with out == c * expected everywhere, or None when there is no such c."""
    out, expected = np.asarray(out, dtype=float), np.asarray(expected, dtype=float)
    if out.shape != expected.shape or not np.all(np.isfinite(out)):
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


def _factor_problem(c, what, n, batch_hints):
    """The sentence for a gradient that is c times the right one everywhere (c != 1);
    ``batch_hints`` is (what to say when c == N, what to say when c == 1/N)."""
    if abs(c) < 1e-12:
        return (f"{what} is zero everywhere, but the right gradient is not: did you return "
                "np.zeros_like(...) or multiply by a mask that is always 0?")
    if np.isclose(c, -1, rtol=1e-4):
        return (f"{what} is −1× the right value everywhere: the right size, the wrong sign. "
                "Look for a flipped subtraction or a stray minus")
    if n > 1 and np.isclose(c, n, rtol=1e-4):
        return (f"{what} is N times too large everywhere (N = {n}, the batch size): "
                f"{batch_hints[0]}")
    if n > 1 and np.isclose(c, 1 / n, rtol=1e-4):
        return (f"{what} is 1/N of the right value everywhere (N = {n}, the batch size): "
                f"{batch_hints[1]}")
    if n > 1 and (np.isclose(c, -n, rtol=1e-4) or np.isclose(c, -1 / n, rtol=1e-4)):
        return (f"{what} is {_times(c)} the right value everywhere (N = {n}, the batch size): "
                "a flipped sign and a factor N")
    return (f"{what} is {_times(c)} the right value everywhere: a stray factor? (The shape and "
            "the pattern are right; only the scale is off.)")


def _expect_gradient(out, expected, what, n, batch_hints, mistakes=()):
    """expect_array, but a gradient that is a constant multiple of the right one gets the factor
    named instead of one wrong element. The named mistakes are tried first."""
    try:
        return expect_array(out, expected, what, mistakes=mistakes)
    except Problem as problem:
        if not str(problem).startswith(f"{what} is wrong: at index"):
            raise
        c = _constant_factor(out, expected)
        if c is None:
            raise
        raise Problem(_factor_problem(c, what, n, batch_hints)) from None


_DENSE_N = ("the incoming dout already carries the 1/N of the mean loss, so a layer's backward "
            "neither multiplies nor divides by the batch size")
DENSE_N = (f"did you multiply by N? {_DENSE_N[0].upper()}{_DENSE_N[1:]}",
           f"did you divide by N? {_DENSE_N[0].upper()}{_DENSE_N[1:]}")
_ROWWISE_N = "This backward works example by example: the batch size never enters it"
ROWWISE_N = (f"did you multiply by N? {_ROWWISE_N}", f"did you divide by N? {_ROWWISE_N}")
CROSS_ENTROPY_N = ("did you forget to divide by N? The loss is a MEAN over the batch",
                   "did you divide by N twice? The loss is a mean over the batch, so the "
                   "gradient carries exactly one factor 1/N")


def _gradcheck(analytic, f, x, what):
    """Fail unless ``analytic`` matches the central-difference gradient of f() with respect to x."""
    err = rel_error(analytic, numerical_gradient(f, x))
    if not err < GRADCHECK_TOL:
        raise Problem(f"{what} disagrees with the numerical gradient (relative error {err:.1e}, "
                      f"expected < {GRADCHECK_TOL:.0e})")


# --- Dense ---------------------------------------------------------------------------------------
@check("dense_backward")
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
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            got = (f"{len(out)} values" if isinstance(out, (tuple, list))
                   else f"a single {type(out).__name__}")
            raise Problem(f"return three arrays, in this order: dx, dweights, dbiases (got {got})")
        dx, dw, db = out
        if np.shape(dx) == w.shape and np.shape(dw) == x.shape and w.shape != x.shape:
            raise Problem("return the gradients in the order (dx, dweights, dbiases); "
                          "you returned dweights first")
        _expect_gradient(dw, x.T @ dout, f"dweights {where}", n, DENSE_N, mistakes=[
            (dout.T @ x, "dweights is transposed: it must have the shape of weights "
                         "(n_in, n_out), so dweights = x.T @ dout, not dout.T @ x"),
        ] + ([
            (x.T @ dout / n, f"dweights is 1/N of the right value (N = {n}): it was divided by "
                             "the batch size (a mean), but the weights are shared by every "
                             "example, so their gradients ADD UP: x.T @ dout"),
        ] if n > 1 else []))
        _expect_gradient(db, dout.sum(axis=0), f"dbiases {where}", n, DENSE_N, mistakes=[
            (dout, f"dbiases has shape {dout.shape} (one row per example): sum dout over the "
                   "batch, dbiases = dout.sum(axis=0), shape (n_out,)"),
            (dout.sum(axis=1), "dbiases was summed over axis=1 (the outputs); sum over the batch "
                               "instead: dout.sum(axis=0)"),
            (dout.sum(axis=0, keepdims=True), "dbiases has shape (1, n_out): drop keepdims, the "
                                              "biases have shape (n_out,)"),
            (np.sum(dout), "dbiases is one number: sum over the batch only, dout.sum(axis=0), "
                           "one value per output"),
        ] + ([
            (dout.mean(axis=0), f"dbiases is 1/N of the right value (N = {n}): it is the MEAN "
                                "of dout over the batch, but every example adds its own "
                                "gradient to the shared biases, so use dout.sum(axis=0)"),
        ] if n > 1 else []))
        _expect_gradient(dx, dout @ w.T, f"dx {where}", n, DENSE_N, mistakes=[
            (x, "dx is the input x itself: dx = dout @ weights.T"),
        ] + ([
            (dout @ w, "dx = dout @ weights is missing the transpose: dx = dout @ weights.T, "
                       "(N, n_out) @ (n_out, n_in) -> (N, n_in)"),
        ] if n_in == n_out else []) + ([
            (dout @ w.T / n, f"dx is 1/N of the right value (N = {n}): it was divided by the "
                             "batch size, but each example has its own dx, dx = dout @ weights.T"),
        ] if n > 1 else []))

    # gradient check in float64: L = Σ (x W + b) ⊙ r, so dL/d(output) = r
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    r = rng.standard_normal((4, 2))
    dx, dw, db = call(dense_backward, r, x, w)

    def loss():
        return np.sum((x @ w + b) * r)

    _gradcheck(dw, loss, w, "dweights")
    _gradcheck(db, loss, b, "dbiases")
    _gradcheck(dx, loss, x, "dx")
    return "dx, dweights and dbiases match nnlib and the numerical gradients"


# --- ReLU ----------------------------------------------------------------------------------------
@check("relu_backward")
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
        _expect_gradient(out, ds * (xs > 0), what, len(xs), ROWWISE_N, mistakes=[
            (ds * (xs >= 0), "at x == 0 your gradient is dout; ReLU's slope there is taken to be "
                             "0 (as in nnlib and PyTorch): use the mask x > 0, not x >= 0"),
            (ds, "dx equals dout everywhere: you passed dout through unchanged (or your mask is "
                 "always true); zero it wherever x <= 0: dout * (x > 0)"),
            (ds * (ds > 0), "you masked with the sign of dout (e.g. np.maximum(dout, 0)); the "
                            "mask comes from the INPUT: dout * (x > 0)"),
            ((xs > 0).astype(float), "you returned the mask (x > 0) itself; multiply it by the "
                                     "incoming gradient: dout * (x > 0)"),
            (ds * (xs < 0), "the mask is inverted: keep dout where x > 0 and zero it elsewhere"),
            (ds * np.maximum(xs, 0), "you multiplied dout by relu(x); ReLU's slope is 1 where "
                                     "x > 0, so multiply by the mask: dout * (x > 0)"),
        ])

    # gradient check in float64 away from the kink at 0
    z = rng.standard_normal((4, 3))
    z = np.where(np.abs(z) < 0.1, 0.5, z)
    r = rng.standard_normal((4, 3))
    analytic = call(relu_backward, r, z)
    _gradcheck(analytic, lambda: np.sum(np.maximum(z, 0) * r), z, "relu_backward")
    return "passes dout where x > 0, zeros it elsewhere (including x == 0)"


# --- Softmax -------------------------------------------------------------------------------------
def reference_softmax_backward(dout, p):
    return p * (dout - (dout * p).sum(axis=1, keepdims=True))


@check("softmax_backward")
def check_softmax_backward(softmax_backward):
    rng = rng_for_checks()
    # square (4 × 4) first, so a forgotten keepdims gives wrong numbers rather than an error
    cases = [(rng.standard_normal((4, 4)) * 2, "softmax_backward(dout, p) with 4 rows, 4 classes"),
             (rng.standard_normal((6, 3)), "softmax_backward with 6 rows, 3 classes"),
             (rng.standard_normal((1, 5)), "softmax_backward on a batch of one"),
             (rng.standard_normal((3, 4)) * 1e4, "softmax_backward where p comes from logits "
                                                 "of size 1e4")]
    for z, what in cases:
        p = softmax(z)
        dout = rng.standard_normal(z.shape)
        s = (dout * p).sum(axis=1, keepdims=True)
        out = call(softmax_backward, dout, p)
        mistakes = [
            (dout * p * (1 - p), "you used only the diagonal of the Jacobian, p(1 − p): every "
                                 "logit changes every probability, so dz = p * (dout − "
                                 "(dout * p).sum(axis=1, keepdims=True))"),
            (p * (dout - (dout * p).sum(axis=0, keepdims=True)),
             "the sum runs over axis=0 (the batch); it must run over the classes of each row: "
             "(dout * p).sum(axis=1, keepdims=True)"),
            (p * (dout - dout.sum(axis=1, keepdims=True)),
             "you subtracted Σ dout; subtract the p-weighted sum Σ dout ⊙ p: "
             "p * (dout − (dout * p).sum(axis=1, keepdims=True))"),
            (-p * (dout - s), "the sign is flipped: dz = p * (dout − Σ dout ⊙ p)"),
            (dout - s, "you forgot the factor p in front: dz = p * (dout − Σ dout ⊙ p)"),
            (p * dout, "p * dout is only half of it: subtract p times the p-weighted sum, "
                       "dz = p * (dout − (dout * p).sum(axis=1, keepdims=True))"),
        ]
        if z.shape[0] == z.shape[1]:
            mistakes.append((p * (dout - (dout * p).sum(axis=1)),
                             "(dout * p).sum(axis=1) needs keepdims=True: without it the row "
                             "sums broadcast along the wrong axis"))
        _expect_gradient(out, p * (dout - s), what, len(z), ROWWISE_N, mistakes=mistakes)

    # gradient check in float64: L = Σ softmax(z) ⊙ r
    z = rng.standard_normal((3, 4))
    r = rng.standard_normal((3, 4))
    analytic = call(softmax_backward, r, softmax(z))
    _gradcheck(analytic, lambda: np.sum(softmax(z) * r), z, "softmax_backward")
    return "the vectorised Jacobian-vector product p ⊙ (dout − Σ dout ⊙ p) is right"


# --- Softmax + cross-entropy -----------------------------------------------------------------------
@check("softmax_cross_entropy_backward")
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
        _expect_gradient(out, (p - t) / n, what, n, CROSS_ENTROPY_N, mistakes=[
            (None, "you got nan or inf for large logits: compute softmax stably (subtract each "
                   "row's max before exp), e.g. with nnlib's softmax"),
            ((t - p) / n, "the sign is flipped: dz = (softmax(z) − one_hot) / N"),
            (p / n, "the one-hot labels were not subtracted: dz = (softmax(z) − one_hot) / N"),
            ((z - t) / n, "you subtracted the one-hot from the logits; use the probabilities: "
                          "(softmax(z) − one_hot) / N"),
            ((p - t) / (n * c), "you divided by N·C (a mean over every entry); divide by the "
                                "batch size N only"),
            ((p - t).mean(axis=0), "you averaged over the batch: the gradient has one row per "
                                   "example, shape (N, C); divide by N instead"),
            (-t / (n * np.clip(p, 1e-7, 1 - 1e-7)),
             "that is dL/dp, the gradient with respect to the probabilities; the fused gradient "
             "with respect to the logits is (softmax(z) − one_hot) / N"),
        ] + ([
            (p - t, f"the result is N times too large (N = {n}): the 1/N is missing. The loss "
                    "is a MEAN over the batch, so dz = (softmax(z) − one_hot) / N"),
        ] if n > 1 else []))

    # gradient check in float64 against the loss itself
    z = rng.standard_normal((4, 5))
    y = rng.integers(0, 5, 4)
    analytic = call(softmax_cross_entropy_backward, z, y)
    _gradcheck(analytic, lambda: SoftmaxCrossEntropy().forward(z, y), z,
               "softmax_cross_entropy_backward")
    return "(softmax − one_hot) / N, stable for huge logits"
