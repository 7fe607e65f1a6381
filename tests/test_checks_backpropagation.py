"""The chapter 05 checks pass nnlib's gradients and name each typical backpropagation mistake."""

import numpy as np
import pytest
from checkhelpers import assert_named

from nnlib import SoftmaxCrossEntropy
from nnlib.activations import softmax
from nnlib.checks.ch05_backpropagation import (
    check_dense_backward, check_relu_backward, check_softmax_backward,
    check_softmax_cross_entropy_backward,
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


# --- dense_backward ---------------------------------------------------------------------------------
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
    (lambda d, x, w: (d @ w.T, x.T @ d, d), "sum dout over the batch"),
    (lambda d, x, w: (d @ w.T, x.T @ d, d.sum(axis=1)), "axis=1"),
    (lambda d, x, w: (d @ w.T, x.T @ d, d.mean(axis=0)), "MEAN of dout"),
    (lambda d, x, w: (d @ w.T, d.T @ x, d.sum(axis=0)), "dweights is transposed"),
    (lambda d, x, w: (d @ w.T, x.T @ d / len(x), d.sum(axis=0)), "divided by the batch size"),
    (lambda d, x, w: (d @ w, x.T @ d, d.sum(axis=0)), "missing the transpose"),
    (lambda d, x, w: (x.T @ d, d @ w.T, d.sum(axis=0)), "order"),
    (lambda d, x, w: (d @ w.T, x.T @ d), "three arrays"),
], ids=["dbiases-not-summed", "dbiases-wrong-axis", "dbiases-mean", "dweights-transposed",
        "dweights-mean", "dx-no-transpose", "wrong-order", "two-outputs"])
def test_dense_backward_names_the_mistake(wrong, words):
    result = check_dense_backward(wrong)
    assert not result.ok and result.message.startswith("❌")
    assert words in result.message, result.message


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
    assert_named(check_dense_backward(lambda d, x, w: (d @ w.T, 3.7 * (x.T @ d), d.sum(axis=0))),
                 "dweights (batch of 5, Dense(3 → 3)) is 3.7× the right value everywhere")
    assert_named(check_dense_backward(lambda d, x, w: (0 * x, x.T @ d, d.sum(axis=0))),
                 "dx (batch of 5, Dense(3 → 3)) is zero everywhere")


def test_dense_backward_in_place_change_of_dout_is_caught():
    def mutating(dout, x, weights):
        dx, dweights, dbiases = dense_backward(dout, x, weights)
        dout -= dout.mean(axis=0)   # "centres" the incoming gradient in place
        return dx, dweights, dbiases

    result = check_dense_backward(mutating)
    assert not result.ok and "in place" in result.message


# --- relu_backward ----------------------------------------------------------------------------------
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
    (lambda d, x: d * (x >= 0), "x >= 0"),
    (lambda d, x: d.copy(), "passed dout through unchanged"),
    (lambda d, x: d * (np.maximum(x, 0) >= 0), "passed dout through unchanged"),
    (lambda d, x: np.maximum(d, 0), "sign of dout"),
    (lambda d, x: (x > 0).astype(float), "returned the mask"),
    (lambda d, x: d * np.maximum(x, 0), "relu(x)"),
    (lambda d, x: d * (x < 0), "inverted"),
], ids=["mask-at-zero", "pass-through", "output-mask-always-true", "dout-sign", "mask-only",
        "times-relu", "inverted-mask"])
def test_relu_backward_names_the_mistake(wrong, words):
    result = check_relu_backward(wrong)
    assert not result.ok and result.message.startswith("❌")
    assert words in result.message, result.message


@pytest.mark.parametrize("factor, words", FACTORS, ids=FACTOR_IDS)
def test_relu_backward_names_a_constant_factor(factor, words):
    assert_named(check_relu_backward(lambda d, x: relu_backward(d, x) * factor(len(x))), words)


def test_relu_backward_zeroing_dout_in_place_is_caught():
    def mutating(dout, x):
        dout[x <= 0] = 0
        return dout

    result = check_relu_backward(mutating)
    assert not result.ok and "in place" in result.message


# --- softmax_backward -------------------------------------------------------------------------------
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
    (lambda d, p: p * (d - (d * p).sum(axis=0, keepdims=True)), "axis=0"),
    (lambda d, p: p * (d - (d * p).sum(axis=1)), "keepdims"),
    (lambda d, p: p * (d - d.sum(axis=1, keepdims=True)), "p-weighted sum"),
    (lambda d, p: -p * (d - (d * p).sum(axis=1, keepdims=True)), "sign is flipped"),
    (lambda d, p: d - (d * p).sum(axis=1, keepdims=True), "factor p"),
    (lambda d, p: p * d, "only half"),
], ids=["diagonal-only", "sum-over-batch", "no-keepdims", "plain-sum", "sign", "no-factor-p",
        "elementwise"])
def test_softmax_backward_names_the_mistake(wrong, words):
    result = check_softmax_backward(wrong)
    assert not result.ok and result.message.startswith("❌")
    assert words in result.message, result.message


@pytest.mark.parametrize("factor, words", FACTORS, ids=FACTOR_IDS)
def test_softmax_backward_names_a_constant_factor(factor, words):
    wrong = lambda d, p: softmax_backward(d, p) * factor(len(p))  # noqa: E731
    if factor(2) == -1:     # a flipped sign has its own, more specific message
        words = "sign is flipped"
    assert_named(check_softmax_backward(wrong), words)


# --- softmax_cross_entropy_backward -----------------------------------------------------------------
def softmax_cross_entropy_backward(logits, y_true):
    return SoftmaxCrossEntropy().backward(logits, y_true)


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


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
    (lambda z, y: (naive_softmax(z) - one_hot(y, z.shape[1])) / len(z), "max before exp"),
    (lambda z, y: (softmax(z) - one_hot(y, z.shape[1])).mean(axis=0), "averaged over the batch"),
], ids=["missing-1/N", "sign", "no-one-hot", "logits-not-probabilities", "divided-by-N*C",
        "unstable-softmax", "mean-over-batch"])
def test_softmax_cross_entropy_backward_names_the_mistake(wrong, words):
    with np.errstate(over="ignore", invalid="ignore"):
        result = check_softmax_cross_entropy_backward(wrong)
    assert not result.ok and result.message.startswith("❌")
    assert words in result.message, result.message


@pytest.mark.parametrize("factor, words", [
    (lambda n: 2.0, "is 2× the right value everywhere"),
    (lambda n: 0.5, "is 1/2 of the right value everywhere"),
    (lambda n: -1.0, "sign is flipped"),
    (lambda n: float(n), "N times too large (N = 5): the 1/N is missing"),
    (lambda n: 1.0 / n, "did you divide by N twice?"),
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
