"""The chapter 05 checks pass nnlib's gradients and name each typical backpropagation mistake."""

import numpy as np
import pytest
from checkhelpers import assert_named

from nnlib import SoftmaxCrossEntropy
from nnlib.activations import softmax
from nnlib.checks.ch05_backpropagation import (
    DENSE_FIX, DENSE_HINT, FUSED_FIX, RELU_FIX, SOFTMAX_FIX, check_dense_backward, check_relu_backward,
    check_softmax_backward, check_softmax_cross_entropy_backward,
)


def one_hot(y, c):
    return np.eye(c)[y]


# A gradient that is a constant multiple of the right one: the ❌ line names the factor. Each entry
# is (factor as a function of the batch size N, words the message must contain).
FACTORS = [
    (lambda n: 2.0, "is 2× the right value everywhere"),
    (lambda n: 0.5, "is 1/2 of the right value everywhere"),
    (lambda n: -1.0, "−1× the right value everywhere"),
    (lambda n: float(n), "N times too large"),
    (lambda n: 1.0 / n, "1/N of the right value"),
]
FACTOR_IDS = ["times-2", "times-0.5", "times-minus-1", "times-N", "times-1/N"]


def not_implemented(*args):
    raise NotImplementedError()


# --- dense_backward -------------------------------------------------------------------------------
def dense_backward(dout, x, weights):
    return dout @ weights.T, x.T @ dout, dout.sum(axis=0)


def test_dense_backward_reference_passes():
    result = check_dense_backward(dense_backward)
    assert result.ok, result.message
    assert result.message.startswith("✅")


def test_dense_backward_not_implemented_is_pending():
    result = check_dense_backward(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (lambda d, x, w: (d @ w.T, x.T @ d, d), "one row per example"),
    (lambda d, x, w: (d @ w.T, x.T @ d, d.sum(axis=1)), "one number per example"),
    (lambda d, x, w: (d @ w.T, x.T @ d, d.sum(axis=0, keepdims=True)), "has shape (1, 3)"),
    (lambda d, x, w: (d @ w.T, x.T @ d, np.sum(d)), "dbiases is one number"),
    (lambda d, x, w: (d @ w.T, x.T @ d, d.mean(axis=0)), "MEAN of dout"),
    (lambda d, x, w: (d @ w.T, d.T @ x, d.sum(axis=0)), "dweights is the transpose"),
    (lambda d, x, w: (d @ w.T, x.T @ d / len(x), d.sum(axis=0)), "divided by the batch size"),
    (lambda d, x, w: (d @ w, x.T @ d, d.sum(axis=0)), "missing the transpose"),
    (lambda d, x, w: (d @ w.T / len(x), x.T @ d, d.sum(axis=0)), "each example has its own dx"),
    (lambda d, x, w: (x, x.T @ d, d.sum(axis=0)), "dx is the input x itself"),
    (lambda d, x, w: (x.T @ d, d @ w.T, d.sum(axis=0)), "wrong order"),
    (lambda d, x, w: (d @ w.T, d.sum(axis=0), x.T @ d), "dx, dbiases, dweights"),
    (lambda d, x, w: (d @ w.T, x.T @ d), "returned 2 values"),
    (lambda d, x, w: d @ w.T, "returned a single ndarray"),
], ids=["dbiases-not-summed", "dbiases-wrong-axis", "dbiases-keepdims", "dbiases-total",
        "dbiases-mean", "dweights-transposed", "dweights-mean", "dx-no-transpose", "dx-mean",
        "dx-is-x", "wrong-order", "dweights-dbiases-swapped", "two-outputs", "one-output"])
def test_dense_backward_names_the_mistake(wrong, words):
    result = check_dense_backward(wrong)
    assert_named(result, words)
    assert result.hint and result.fix


def test_dense_backward_feedback_waits_in_tiers():
    result = check_dense_backward(lambda d, x, w: (d @ w.T, x.T @ d, d.mean(axis=0)))
    assert "adds its own gradient" in result.message
    assert "MEAN over the batch" in result.hint
    assert "dout.sum(axis=0)" in result.fix and "dout.sum" not in result.message
    generic = check_dense_backward(lambda d, x, w: (d @ w.T, x.T @ d + 1.0, d.sum(axis=0)))
    assert_named(generic, "at index")
    assert generic.hint == DENSE_HINT      # the exercise's own hint
    assert generic.fix == DENSE_FIX


@pytest.mark.parametrize("which", [0, 1, 2], ids=["dx", "dweights", "dbiases"])
@pytest.mark.parametrize("factor, words", FACTORS, ids=FACTOR_IDS)
def test_dense_backward_names_a_constant_factor(which, factor, words):
    def scaled(dout, x, weights):
        grads = list(dense_backward(dout, x, weights))
        grads[which] = grads[which] * factor(len(x))
        return tuple(grads)

    result = check_dense_backward(scaled)
    assert_named(result, words)
    assert result.message.split(": ", 1)[1].startswith(["dx", "dweights", "dbiases"][which])


def test_dense_backward_names_a_factor_of_3_point_7_and_zero_gradients():
    odd = check_dense_backward(lambda d, x, w: (d @ w.T, 3.7 * (x.T @ d), d.sum(axis=0)))
    assert_named(odd, "dweights (batch of 5, Dense(3 → 3)) is 3.7× the right value everywhere")
    assert "chain rule" in odd.hint and odd.fix == DENSE_FIX
    zero = check_dense_backward(lambda d, x, w: (0 * x, x.T @ d, d.sum(axis=0)))
    assert_named(zero, "dx (batch of 5, Dense(3 → 3)) is zero everywhere")
    assert "Follow dout" in zero.hint and zero.fix == DENSE_FIX


def test_dense_backward_factor_n_says_why_the_batch_size_does_not_belong():
    result = check_dense_backward(lambda d, x, w: (d @ w.T * len(x), x.T @ d, d.sum(axis=0)))
    assert_named(result, "never multiplies by the batch size")
    assert "already inside dout" in result.hint and result.fix == DENSE_FIX


def test_dense_backward_odd_return_values_are_named_not_crashed():
    assert_named(check_dense_backward(lambda d, x, w: None), "your function returned None")
    result = check_dense_backward(lambda d, x, w: (None, x.T @ d, d.sum(axis=0)))
    assert_named(result, "dx (batch of 5, Dense(3 → 3)) is None")
    result = check_dense_backward(lambda d, x, w: (d @ w.T, "dweights", d.sum(axis=0)))
    assert result.status == "fail" and "inside the check" not in result.message


def test_dense_backward_in_place_change_of_dout_is_caught():
    def mutating(dout, x, weights):
        dx, dweights, dbiases = dense_backward(dout, x, weights)
        dout -= dout.mean(axis=0)   # "centres" the incoming gradient in place
        return dx, dweights, dbiases

    result = check_dense_backward(mutating)
    assert not result.ok and "in place" in result.message


# --- relu_backward --------------------------------------------------------------------------------
def relu_backward(dout, x):
    return dout * (x > 0)


def test_relu_backward_reference_passes():
    result = check_relu_backward(relu_backward)
    assert result.ok, result.message


def test_relu_backward_nnlib_layer_passes():
    from nnlib import ReLU

    def via_layer(dout, x):
        layer = ReLU()
        layer.forward(x)
        return layer.backward(dout)

    assert check_relu_backward(via_layer).ok


def test_relu_backward_not_implemented_is_pending():
    result = check_relu_backward(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (lambda d, x: d * (x >= 0), "at x == 0 your gradient is dout"),
    (lambda d, x: d.copy(), "passed through unchanged"),
    (lambda d, x: d * (np.maximum(x, 0) >= 0), "passed through unchanged"),
    (lambda d, x: np.maximum(d, 0), "sign of dout"),
    (lambda d, x: (x > 0).astype(float), "returned the mask"),
    (lambda d, x: d * np.maximum(x, 0), "relu(x)"),
    (lambda d, x: d * (x < 0), "inverted"),
], ids=["mask-at-zero", "pass-through", "output-mask-always-true", "dout-sign", "mask-only",
        "times-relu", "inverted-mask"])
def test_relu_backward_names_the_mistake(wrong, words):
    result = check_relu_backward(wrong)
    assert_named(result, words)
    assert result.hint and "return dout * (x > 0)" in result.fix


@pytest.mark.parametrize("factor, words", FACTORS, ids=FACTOR_IDS)
def test_relu_backward_names_a_constant_factor(factor, words):
    assert_named(check_relu_backward(lambda d, x: relu_backward(d, x) * factor(len(x))), words)


def test_relu_backward_zeroing_dout_in_place_is_caught():
    def mutating(dout, x):
        dout[x <= 0] = 0
        return dout

    result = check_relu_backward(mutating)
    assert not result.ok and "in place" in result.message


# --- softmax_backward -----------------------------------------------------------------------------
def softmax_backward(dout, p):
    return p * (dout - (dout * p).sum(axis=1, keepdims=True))


def softmax_backward_jacobian_loop(dout, p):
    out = np.empty_like(dout)
    for i, (row, d) in enumerate(zip(p, dout)):
        jacobian = np.diagflat(row) - np.outer(row, row)
        out[i] = jacobian @ d
    return out


@pytest.mark.parametrize("right", [softmax_backward, softmax_backward_jacobian_loop],
                         ids=["vectorised", "jacobian-loop"])
def test_softmax_backward_reference_passes(right):
    result = check_softmax_backward(right)
    assert result.ok, result.message


def test_softmax_backward_not_implemented_is_pending():
    result = check_softmax_backward(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (lambda d, p: d * p * (1 - p), "only the diagonal"),
    (lambda d, p: p * (d - (d * p).sum(axis=0, keepdims=True)), "runs over the batch"),
    (lambda d, p: p * (d - (d * p).sum(axis=1)), "lost their axis"),
    (lambda d, p: p * (d - d.sum(axis=1, keepdims=True)), "plain row sum of dout"),
    (lambda d, p: p * (d - p.sum(axis=1, keepdims=True)), "row sum of p, which is 1"),
    (lambda d, p: -p * (d - (d * p).sum(axis=1, keepdims=True)), "sign is flipped"),
    (lambda d, p: d - (d * p).sum(axis=1, keepdims=True), "factor p"),
    (lambda d, p: p * d, "only half"),
], ids=["diagonal-only", "sum-over-batch", "no-keepdims", "plain-sum", "sum-of-p", "sign",
        "no-factor-p", "elementwise"])
def test_softmax_backward_names_the_mistake(wrong, words):
    result = check_softmax_backward(wrong)
    assert_named(result, words)
    assert result.hint and result.fix == SOFTMAX_FIX


def test_softmax_backward_subtracting_the_sum_of_p_is_named_with_its_tiers():
    result = check_softmax_backward(lambda d, p: p * (d - p.sum(axis=1, keepdims=True)))
    assert_named(result, "you subtracted the row sum of p, which is 1 for every row")
    assert "Σ_i δ_i p_i" in result.hint
    assert "(dout * p).sum(axis=1, keepdims=True)" in result.fix


@pytest.mark.parametrize("factor, words", FACTORS, ids=FACTOR_IDS)
def test_softmax_backward_names_a_constant_factor(factor, words):
    wrong = lambda d, p: softmax_backward(d, p) * factor(len(p))  # noqa: E731
    if factor(2) == -1:     # a flipped sign has its own, more specific message
        words = "sign is flipped"
    assert_named(check_softmax_backward(wrong), words)


# --- softmax_cross_entropy_backward ---------------------------------------------------------------
def softmax_cross_entropy_backward(logits, y_true):
    return SoftmaxCrossEntropy().backward(logits, y_true)


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def subtract_from_columns(logits, y_true):
    grad = softmax(logits)
    grad[:, y_true] -= 1          # whole columns, not one entry per row
    return grad / len(logits)


def test_softmax_cross_entropy_backward_reference_passes():
    result = check_softmax_cross_entropy_backward(softmax_cross_entropy_backward)
    assert result.ok, result.message


def test_softmax_cross_entropy_backward_not_implemented_is_pending():
    result = check_softmax_cross_entropy_backward(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (lambda z, y: softmax(z) - one_hot(y, z.shape[1]), "1/N is missing"),
    (lambda z, y: (one_hot(y, z.shape[1]) - softmax(z)) / len(z), "sign is flipped"),
    (lambda z, y: softmax(z) / len(z), "not subtracted"),
    (lambda z, y: (z - one_hot(y, z.shape[1])) / len(z), "from the logits"),
    (lambda z, y: (softmax(z) - one_hot(y, z.shape[1])) / z.size, "N·C"),
    (lambda z, y: (naive_softmax(z) - one_hot(y, z.shape[1])) / len(z), "exp overflows"),
    (lambda z, y: (softmax(z) - one_hot(y, z.shape[1])).mean(axis=0), "averaged over the batch"),
    (lambda z, y: -one_hot(y, z.shape[1]) / (len(z) * np.clip(softmax(z), 1e-7, 1 - 1e-7)),
     "that is dL/dp"),
    (subtract_from_columns, "subtracted 1 from whole columns"),
], ids=["missing-1/N", "sign", "no-one-hot", "logits-not-probabilities", "divided-by-N*C",
        "unstable-softmax", "mean-over-batch", "gradient-wrt-p", "whole-columns"])
def test_softmax_cross_entropy_backward_names_the_mistake(wrong, words):
    with np.errstate(over="ignore", invalid="ignore"):
        result = check_softmax_cross_entropy_backward(wrong)
    assert_named(result, words)
    assert result.hint and result.fix == FUSED_FIX


def test_fused_gradient_subtracting_from_whole_columns_is_named_with_its_tiers():
    result = check_softmax_cross_entropy_backward(subtract_from_columns)
    assert_named(result, "every example lost 1 at each class that is the label of ANY example")
    assert "row index and a column index" in result.hint
    assert "grad[np.arange(n), y_true] -= 1" in result.fix


@pytest.mark.parametrize("factor, words", [
    (lambda n: 2.0, "is 2× the right value everywhere"),
    (lambda n: 0.5, "is 1/2 of the right value everywhere"),
    (lambda n: -1.0, "sign is flipped"),
    (lambda n: float(n), "N times too large (N = 5): the 1/N is missing"),
    (lambda n: 1.0 / n, "you divided by N twice"),
], ids=FACTOR_IDS)
def test_softmax_cross_entropy_backward_names_a_constant_factor(factor, words):
    def scaled(logits, y_true):
        return softmax_cross_entropy_backward(logits, y_true) * factor(len(logits))

    assert_named(check_softmax_cross_entropy_backward(scaled), words)


def test_softmax_cross_entropy_backward_shifting_logits_in_place_is_caught():
    def mutating(logits, y_true):
        logits -= logits.max(axis=1, keepdims=True)
        return softmax_cross_entropy_backward(logits, y_true)

    result = check_softmax_cross_entropy_backward(mutating)
    assert not result.ok and "in place" in result.message


# --- the fixes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fix, name, check", [
    (DENSE_FIX, "dense_backward", check_dense_backward),
    (RELU_FIX, "relu_backward", check_relu_backward),
    (SOFTMAX_FIX, "softmax_backward", check_softmax_backward),
    (FUSED_FIX, "softmax_cross_entropy_backward", check_softmax_cross_entropy_backward),
], ids=["dense", "relu", "softmax", "fused"])
def test_each_exercises_fix_is_code_that_passes_its_check(fix, name, check):
    namespace = {"np": np, "softmax": softmax}
    exec(fix, namespace)
    assert check(namespace[name]).ok
