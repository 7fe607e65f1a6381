"""The chapter 14 checks pass correct convolutions and poolings (the exercises' fixes, loop
versions, nnlib's layers) and name each typical mistake, each made here on purpose."""

import numpy as np
import pytest
from checkhelpers import assert_named, assert_passes, not_yet
from numpy.lib.stride_tricks import sliding_window_view

from nnlib import Conv2D, MaxPool2D
from nnlib.checks.ch14_convolution import (
    BACKWARD_FIX, CORRELATE_FIX, FORWARD_FIX, IM2COL_FIX, POOL_BACKWARD_FIX, POOL_FIX,
    check_conv2d_backward, check_conv2d_forward, check_correlate2d, check_im2col,
    check_maxpool_backward, check_maxpool_forward,
)

FIXES = [("correlate2d", CORRELATE_FIX, check_correlate2d), ("im2col", IM2COL_FIX, check_im2col),
         ("conv2d_forward", FORWARD_FIX, check_conv2d_forward),
         ("conv2d_backward", BACKWARD_FIX, check_conv2d_backward),
         ("maxpool_forward", POOL_FIX, check_maxpool_forward),
         ("maxpool_backward", POOL_BACKWARD_FIX, check_maxpool_backward)]


def _solved():
    """Every exercise as its fix defines it, in one namespace (conv2d_forward calls im2col there,
    maxpool_backward calls maxpool_forward)."""
    namespace = {"np": np, "sliding_window_view": sliding_window_view}
    for _, fix, _ in FIXES:
        exec(fix, namespace)
    return namespace


SOLVED = _solved()
correlate2d, im2col = SOLVED["correlate2d"], SOLVED["im2col"]
conv2d_forward, conv2d_backward = SOLVED["conv2d_forward"], SOLVED["conv2d_backward"]
maxpool_forward, maxpool_backward = SOLVED["maxpool_forward"], SOLVED["maxpool_backward"]


def crashing(*args):
    return [][0]    # an IndexError in the student's own code


def as_named(result, words):
    assert_named(result, words)
    assert result.hint and result.fix


# --- every check: the fix passes, unsolved is todo, a crash is the student's ----------------------
@pytest.mark.parametrize("name, fix, check", FIXES, ids=[f[0] for f in FIXES])
def test_each_exercises_fix_is_code_that_passes_its_check(name, fix, check):
    assert_passes(check(SOLVED[name]))


@pytest.mark.parametrize("check", [f[2] for f in FIXES], ids=[f[0] for f in FIXES])
def test_an_unsolved_exercise_is_todo(check):
    result = check(not_yet)
    assert result.status == "todo" and result.message.startswith("⏳")


@pytest.mark.parametrize("check", [f[2] for f in FIXES], ids=[f[0] for f in FIXES])
def test_an_exception_in_the_students_code_is_the_students(check):
    result = check(crashing)
    assert result.status == "error"
    assert "your code raised IndexError" in result.message
    assert result.hint and result.fix


@pytest.mark.parametrize("check", [f[2] for f in FIXES], ids=[f[0] for f in FIXES])
def test_returning_none_is_named(check):
    as_named(check(lambda *args: None), "None")


# --- correlate2d ----------------------------------------------------------------------------------
def correlate_loops_too_few(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh, w - kw), dtype=image.dtype)
    for i in range(h - kh):
        for j in range(w - kw):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


def correlate_same_zero_padded(image, kernel):
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))
    return correlate2d(padded, kernel)


def correlate_same_zeros_around(image, kernel):
    out = np.zeros_like(image)
    valid = correlate2d(image, kernel)
    out[:valid.shape[0], :valid.shape[1]] = valid
    return out


def correlate_one_too_large(image, kernel):
    return correlate2d(np.pad(image, ((0, 1), (0, 1))), kernel)     # one zero row and column more


def correlate_float64(image, kernel):
    return correlate2d(image, kernel).astype(np.float64)


def correlate_centring_in_place(image, kernel):
    image -= image.mean()
    return correlate2d(image, kernel)


@pytest.mark.parametrize("wrong, words", [
    (lambda im, k: correlate2d(im, k[::-1, ::-1]), "the kernel is flipped (rotated by 180°)"),
    (lambda im, k: correlate2d(im, k[::-1]), "flipped upside down"),
    (lambda im, k: correlate2d(im, k[:, ::-1]), "flipped left to right"),
    (lambda im, k: correlate2d(im, k.T), "the kernel is transposed"),
    (lambda im, k: correlate2d(im, np.ones_like(k)), "plain total of its window"),
    (lambda im, k: correlate2d(im, k) / k.size, "MEAN of its 3×3 products"),
    (correlate_loops_too_few, "one pixel too small each way"),
    (correlate_one_too_large, "5×6, one pixel too large each way"),
    (correlate_same_zero_padded, "the image's own size 6×7"),
    (correlate_same_zeros_around, "the image's own size 6×7"),
    (lambda im, k: correlate2d(im, k).T, "height and width are swapped"),
    (correlate_float64, "is float64, but the input was float32"),
    (lambda im, k: correlate2d(im, k).tolist(), "is a Python list, not a NumPy array"),
    (correlate_centring_in_place, "changed its input array in place"),
], ids=["flipped", "flipped-rows", "flipped-columns", "transposed", "no-kernel", "mean",
        "one-too-small", "one-too-large", "same-padded", "same-zeros", "swapped-axes", "float64", "list",
        "in-place"])
def test_correlate2d_names_the_mistake(wrong, words):
    as_named(check_correlate2d(wrong), words)


def test_correlate2d_flipped_kernel_says_why_deep_learning_does_not_flip():
    result = check_correlate2d(lambda im, k: correlate2d(im, k[::-1, ::-1]))
    assert "convolution of mathematics" in result.message
    assert "cross-correlation" in result.message
    assert "no index runs backwards" in result.hint
    assert "kernel as it is" in result.fix


def test_correlate2d_a_generic_wrong_value_gets_the_exercises_hint_and_fix():
    result = check_correlate2d(lambda im, k: correlate2d(im, k) + 0.5)
    assert_named(result, "is wrong: at index")
    assert result.fix == CORRELATE_FIX and "H − kh + 1" in result.hint


# --- im2col ---------------------------------------------------------------------------------------
def windows(x, kh, kw):
    return sliding_window_view(x, (kh, kw), axis=(2, 3))


def im2col_with(order):
    def wrong(x, kh, kw):
        w6 = windows(x, kh, kw)
        n, c, h_out, w_out = w6.shape[:4]
        return w6.transpose(order).reshape(n * h_out * w_out, c * kh * kw)
    return wrong


def im2col_loops(x, kh, kw):
    """A correct, slow version: loops over images and pixels."""
    n, c, h, w = x.shape
    rows = [x[i, :, r:r + kh, s:s + kw].ravel()
            for i in range(n) for r in range(h - kh + 1) for s in range(w - kw + 1)]
    return np.array(rows, dtype=x.dtype)


def test_im2col_with_loops_passes():
    assert check_im2col(im2col_loops).ok


@pytest.mark.parametrize("wrong, words", [
    (im2col_with((0, 2, 3, 4, 5, 1)), "order (kh, kw, C)"),
    (im2col_with((0, 2, 3, 1, 5, 4)), "column by column (C, kw, kh)"),
    (im2col_with((0, 3, 2, 1, 4, 5)), "output pixels column by column, (n, j, i)"),
    (im2col_with((2, 3, 0, 1, 4, 5)), "batch varying fastest"),
    (lambda x, kh, kw: windows(x, kh, kw).reshape(-1, x.shape[1] * kh * kw),
     "reshaped straight from (N, C, H_out, W_out, kh, kw)"),
    (windows, "the array of windows itself, 6-dimensional"),
    (lambda x, kh, kw: im2col(x, kh, kw).T, "the matrix is transposed"),
    (lambda x, kh, kw: im2col(x, kh, kw).reshape(len(x), -1, x.shape[1] * kh * kw),
     "one matrix per image"),
    (lambda x, kh, kw: im2col(x, kw, kh), "kh (the kernel's height, rows) and kw"),
    (lambda x, kh, kw: im2col(x, kh, kw).astype(np.float64), "is float64, but the input was "
                                                             "float32"),
    (lambda x, kh, kw: list(im2col(x, kh, kw)), "is a Python list"),
], ids=["columns-kh-kw-c", "columns-c-kw-kh", "rows-n-j-i", "rows-i-j-n", "no-transpose",
        "six-d", "transposed", "per-image", "kh-kw-swapped", "float64", "list"])
def test_im2col_names_the_mistake(wrong, words):
    as_named(check_im2col(wrong), words)


def test_a_float32_result_for_float64_inputs_is_named_too():
    result = check_correlate2d(lambda im, k: correlate2d(im, k).astype(np.float32))
    as_named(result, "is float32, but the input was float64: float64 in, float64 out")
    assert "precision" in result.message


def test_im2col_column_order_says_why_it_matters():
    result = check_im2col(im2col_with((0, 2, 3, 4, 5, 1)))
    assert "pair pixels with the wrong weights" in result.message
    assert "transpose first" in result.hint and "transpose(0, 2, 3, 1, 4, 5)" in result.fix


# --- conv2d_forward -------------------------------------------------------------------------------
def conv_loops(x, weights, biases):
    """The definition, one output number at a time: correct and slow."""
    n, c, h, w = x.shape
    f, _, kh, kw = weights.shape
    out = np.zeros((n, f, h - kh + 1, w - kw + 1), dtype=x.dtype)
    for i in range(n):
        for o in range(f):
            for r in range(h - kh + 1):
                for s in range(w - kw + 1):
                    out[i, o, r, s] = np.sum(x[i, :, r:r + kh, s:s + kw] * weights[o]) + biases[o]
    return out


def conv_via_nnlib(x, weights, biases):
    layer = Conv2D(weights.shape[1], weights.shape[0], weights.shape[2:], dtype=x.dtype)
    layer.weights[...] = weights
    layer.biases[...] = biases
    return layer.forward(x)


@pytest.mark.parametrize("right", [conv_loops, conv_via_nnlib], ids=["loops", "nnlib"])
def test_conv2d_forward_other_right_versions_pass(right):
    assert check_conv2d_forward(right).ok


def product(x, weights, biases, matrix):
    """The im2col product with a given weight matrix (C·kh·kw, F), as images."""
    n, _, h, w = x.shape
    f, _, kh, kw = weights.shape
    out = im2col(x, kh, kw) @ matrix + biases
    return out.reshape(n, h - kh + 1, w - kw + 1, f).transpose(0, 3, 1, 2)


def conv_reshaped_straight(x, weights, biases):
    n, _, h, w = x.shape
    f, _, kh, kw = weights.shape
    out = im2col(x, kh, kw) @ weights.reshape(f, -1).T + biases
    return out.reshape(n, f, h - kh + 1, w - kw + 1)


def conv_bias_along_width(x, weights, biases):
    return conv2d_forward(x, weights, np.zeros_like(biases)) + biases


def conv_same_size(x, weights, biases):
    kh, kw = weights.shape[2:]
    pad = ((0, 0), (0, 0), (kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2))
    return conv2d_forward(np.pad(x, pad), weights, biases)


def conv_in_place(x, weights, biases):
    x *= 1.5
    return conv2d_forward(x / 1.5, weights, biases)


@pytest.mark.parametrize("wrong, words", [
    (lambda x, w, b: conv2d_forward(x, w, 0 * b), "the bias is missing"),
    (lambda x, w, b: conv2d_forward(x, w[:, :, ::-1, ::-1], b), "the kernels are flipped"),
    (lambda x, w, b: conv2d_forward(x, w.transpose(0, 1, 3, 2), b), "kernels are transposed"),
    (conv_reshaped_straight, "reshaping it straight to (N, F, H_out, W_out)"),
    (lambda x, w, b: conv2d_forward(x, w, b).transpose(0, 2, 3, 1), "(N, H_out, W_out, F)"),
    (lambda x, w, b: conv2d_forward(x, w, b).transpose(0, 1, 3, 2), "height and width are "
                                                                    "swapped"),
    (lambda x, w, b: product(x, w, b, w.reshape(-1, len(w))), "reshaped straight to "
                                                              "(C·kh·kw, F)"),
    (lambda x, w, b: product(x, w, b, w.transpose(0, 2, 3, 1).reshape(len(w), -1).T),
     "filter in (kh, kw, C) order"),
    (conv_bias_along_width, "added along the output's width"),
    (lambda x, w, b: conv2d_forward(x, w, 0 * b + b[0]), "every filter got the same bias"),
    (lambda x, w, b: conv2d_forward(x, w, 0 * b + b.mean()), "every filter got the same bias"),
    (conv_same_size, "the image's own size 5×6"),
    (lambda x, w, b: conv2d_forward(x, w, b)[:, :, :-1, :-1], "2×3, one pixel too small"),
    (lambda x, w, b: conv2d_forward(x, w, b).astype(np.float64), "is float64, but the input "
                                                                 "was float32"),
    (lambda x, w, b: conv2d_forward(x, w, b).tolist(), "is a Python list"),
    (conv_in_place, "changed its input array in place"),
], ids=["no-bias", "flipped", "transposed-kernel", "reshaped-straight", "nhwc", "swapped-hw",
        "weights-reshaped-straight", "weights-kh-kw-c", "bias-along-width", "first-bias-for-all",
        "mean-bias-for-all", "same-size", "one-too-small", "float64", "list", "in-place"])
def test_conv2d_forward_names_the_mistake(wrong, words):
    as_named(check_conv2d_forward(wrong), words)


def unsolved_im2col(x, kh, kw):
    raise NotImplementedError()


def conv_on_unsolved_im2col(x, weights, biases):
    cols = unsolved_im2col(x, *weights.shape[2:])
    return cols @ weights.reshape(len(weights), -1).T + biases


def test_conv2d_forward_on_an_unsolved_im2col_says_so():
    result = check_conv2d_forward(conv_on_unsolved_im2col)
    as_named(result, "your code calls unsolved_im2col, which is not implemented yet")
    assert result.status == "fail"


# --- conv2d_backward ------------------------------------------------------------------------------
def grads_with(dx=None, dweights=None, dbiases=None):
    """conv2d_backward with some of its three results replaced by f(x, weights, dout)."""
    def wrong(x, weights, dout):
        right = conv2d_backward(x, weights, dout)
        return tuple(r if g is None else g(x, weights, dout)
                     for r, g in zip(right, (dx, dweights, dbiases)))
    return wrong


def dout_rows(dout):
    return dout.transpose(0, 2, 3, 1).reshape(-1, dout.shape[1])


def dweights_per_example(x, weights, dout):
    kh, kw = weights.shape[2:]
    return np.einsum("nfij,ncijab->nfcab", dout, windows(x, kh, kw))


def dweights_transposed_product(x, weights, dout):
    kh, kw = weights.shape[2:]
    return (im2col(x, kh, kw).T @ dout_rows(dout)).reshape(weights.shape)


def dweights_kh_kw_c(x, weights, dout):
    f, c, kh, kw = weights.shape
    matrix = dout_rows(dout).T @ im2col(x, kh, kw)
    return matrix.reshape(f, kh, kw, c).transpose(0, 3, 1, 2)


def dweights_first_example(x, weights, dout):
    return conv2d_backward(x[:1], weights, dout[:1])[1]


def dx_by(order="offsets", add=False, flip=False, transpose=False):
    """dx by col2im with the shares of dout @ W; the typical slips of each step."""
    def wrong(x, weights, dout):
        n, c, h, w = x.shape
        if flip:
            weights = weights[:, :, ::-1, ::-1]
        if transpose:
            weights = weights.transpose(0, 1, 3, 2)
        f, _, kh, kw = weights.shape
        h_out, w_out = dout.shape[2:]
        dcols = (dout_rows(dout) @ weights.reshape(f, -1)).reshape(n, h_out, w_out, c, kh, kw)
        dx = np.zeros_like(x)
        if order == "windows":
            for i in range(h_out):
                for j in range(w_out):
                    dx[:, :, i:i + kh, j:j + kw] = dcols[:, i, j]
            return dx
        offsets = [(a, b) for a in range(kh) for b in range(kw)]
        if order == "reversed":
            offsets = offsets[::-1]
        elif order == "odd-then-even":
            offsets = offsets[1::2] + offsets[::2]
        for a, b in offsets:
            part = dcols[..., a, b].transpose(0, 3, 1, 2)
            if add:
                dx[:, :, a:a + h_out, b:b + w_out] += part
            else:
                dx[:, :, a:a + h_out, b:b + w_out] = part
        return dx
    return wrong


def backward_float64_dx(x, weights, dout):
    dx, dweights, dbiases = conv2d_backward(x, weights, dout)
    return dx.astype(np.float64), dweights, dbiases


def backward_scaling_dout_in_place(x, weights, dout):
    dout /= len(x)                   # "averages" the incoming gradient, in the caller's array
    dx, dweights, dbiases = conv2d_backward(x, weights, dout)
    return dx * len(x), dweights * len(x), dbiases * len(x)


def backward_via_nnlib(x, weights, dout):
    layer = Conv2D(weights.shape[1], weights.shape[0], weights.shape[2:], dtype=x.dtype)
    layer.weights[...] = weights
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.dweights, layer.dbiases


@pytest.mark.parametrize("right", [backward_via_nnlib, grads_with(dx=dx_by("offsets", add=True)),
                                   grads_with(dx=dx_by("reversed", add=True))],
                         ids=["nnlib", "col2im-offsets", "col2im-reversed"])
def test_conv2d_backward_other_right_versions_pass(right):
    assert check_conv2d_backward(right).ok


@pytest.mark.parametrize("wrong, words", [
    (grads_with(dweights=dweights_per_example), "one gradient per example, (N, F, C, kh, kw)"),
    (grads_with(dweights=lambda x, w, d: conv2d_backward(x, w, d)[1][:, :, ::-1, ::-1]),
     "dweights is flipped"),
    (grads_with(dweights=dweights_transposed_product), "reshaped from the transposed product"),
    (grads_with(dweights=dweights_kh_kw_c), "(kh, kw, C) order"),
    (grads_with(dweights=dweights_first_example), "only holds the first example's share"),
    (grads_with(dweights=lambda x, w, d: conv2d_backward(x, w, d)[1] / len(x)),
     "dweights (2 images, Conv2D(2 → 3, 3×3)) is 1/N of the right value"),
    (grads_with(dbiases=lambda x, w, d: d.sum(axis=0)), "added up over the batch only"),
    (grads_with(dbiases=lambda x, w, d: d.sum(axis=(2, 3))), "has shape (N, F)"),
    (grads_with(dbiases=lambda x, w, d: d.sum(axis=(1, 2, 3))), "one number per example"),
    (grads_with(dbiases=lambda x, w, d: d.sum(axis=(0, 1))), "the batch and the FILTERS"),
    (grads_with(dbiases=lambda x, w, d: d.sum(axis=(0, 2, 3), keepdims=True)),
     "has shape (1, F, 1, 1)"),
    (grads_with(dbiases=lambda x, w, d: np.sum(d)), "dbiases is one number"),
    (grads_with(dbiases=lambda x, w, d: d.mean(axis=(0, 2, 3))), "MEAN of dout"),
    (grads_with(dbiases=lambda x, w, d: d.sum(axis=(0, 2, 3)) / len(x)), "1/N of the right"),
    (grads_with(dx=dx_by("offsets")), "kept only the last one written"),
    (grads_with(dx=dx_by("windows")), "kept only the last one written"),
    (grads_with(dx=dx_by("reversed")), "kept only the last one written"),
    (grads_with(dx=dx_by("odd-then-even")), "right at the pixels that only one window reads"),
    (grads_with(dx=dx_by("offsets", add=True, flip=True)), "dx used the kernels flipped"),
    (grads_with(dx=dx_by("offsets", add=True, transpose=True)), "dx used the kernels "
                                                                "transposed"),
    (grads_with(dx=lambda x, w, d: conv2d_backward(x, w, d)[0] / len(x)),
     "dx (2 images, Conv2D(2 → 3, 3×3)) is 1/N of the right value"),
    (lambda x, w, d: conv2d_backward(x, w, d)[::-1], "wrong order"),
    (lambda x, w, d: conv2d_backward(x, w, d)[:2], "returned 2 values"),
    (backward_float64_dx, "dx (float32) is float64, but the input was float32"),
    (grads_with(dbiases=lambda x, w, d: list(d.sum(axis=(0, 2, 3)))), "is a Python list"),
    (backward_scaling_dout_in_place, "changed its input array in place"),
], ids=["dweights-per-example", "dweights-flipped", "dweights-transposed-product",
        "dweights-kh-kw-c", "dweights-first-example", "dweights-mean", "dbiases-batch-only",
        "dbiases-pixels-only", "dbiases-per-example", "dbiases-over-filters", "dbiases-keepdims",
        "dbiases-total", "dbiases-mean", "dbiases-over-n", "dx-overwrite-offsets",
        "dx-overwrite-windows", "dx-overwrite-reversed", "dx-overwrite-odd-then-even",
        "dx-flipped-kernel",
        "dx-transposed-kernel", "dx-mean", "reversed-order", "two-values", "float64", "list",
        "in-place"])
def test_conv2d_backward_names_the_mistake(wrong, words):
    as_named(check_conv2d_backward(wrong), words)


def test_conv2d_backward_overwriting_overlaps_is_named_with_its_tiers():
    result = check_conv2d_backward(grads_with(dx=dx_by("offsets")))
    assert_named(result, "dx is wrong where windows overlap")
    assert "up to kh·kw windows" in result.hint
    assert "+=" in result.fix and "+=" not in result.message


def test_conv2d_backward_dividing_dweights_by_n_says_why_the_batch_size_does_not_belong():
    result = check_conv2d_backward(grads_with(
        dweights=lambda x, w, d: conv2d_backward(x, w, d)[1] / len(x)))
    assert_named(result, "never divides by the batch size again")
    assert "already inside dout" in result.hint


# --- maxpool_forward ------------------------------------------------------------------------------
def pool_no_crop(x, size):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // size, size, w // size, size).max(axis=(3, 5))


def pool_ceil(x, size):
    n, c, h, w = x.shape
    hc, wc = -(-h // size), -(-w // size)
    padded = np.full((n, c, hc * size, wc * size), -np.inf, dtype=x.dtype)
    padded[:, :, :h, :w] = x
    return maxpool_forward(padded, size)


def pool_in_place(x, size):
    np.maximum(x, 0, out=x)      # "a ReLU first", in the caller's array
    return maxpool_forward(x, size)


def pool_mean(x, size):
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    return x[:, :, :h_out * size, :w_out * size].reshape(
        n, c, h_out, size, w_out, size).mean(axis=(3, 5))


def pool_via_nnlib(x, size):
    return MaxPool2D(size).forward(x)


def test_maxpool_forward_nnlib_passes():
    assert check_maxpool_forward(pool_via_nnlib).ok


@pytest.mark.parametrize("wrong, words", [
    (pool_mean, "MEAN of each window"),
    (lambda x, s: x[:, :, :x.shape[2] // s * s, :x.shape[3] // s * s].reshape(
        *x.shape[:2], x.shape[2] // s, x.shape[3] // s, s, s).max(axis=(4, 5)),
     "not 2×2 squares of neighbouring pixels"),
    (lambda x, s: windows(x, s, s).max(axis=(4, 5)), "windows overlap"),
    (pool_ceil, "kept the partial windows"),
    (pool_no_crop, "fails on 7×5 images with 2×2 windows"),
    (lambda x, s: maxpool_forward(x, s).astype(np.float64), "is float64, but the input was "
                                                            "float32"),
    (lambda x, s: maxpool_forward(x, s).tolist(), "is a Python list"),
    (pool_in_place, "changed its input array in place"),
], ids=["average", "far-apart-groups", "stride-1", "ceil", "crash-on-odd-size", "float64", "list",
        "in-place"])
def test_maxpool_forward_names_the_mistake(wrong, words):
    as_named(check_maxpool_forward(wrong), words)


# --- maxpool_backward -----------------------------------------------------------------------------
def pool_grad(rule):
    """maxpool_backward built from window rows, with ``rule`` choosing who gets the gradient."""
    def backward(x, dout, size):
        n, c, h, w = x.shape
        h_out, w_out = h // size, w // size
        win = x[:, :, :h_out * size, :w_out * size].reshape(n, c, h_out, size, w_out, size)
        flat = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h_out, w_out, size * size)
        k = np.arange(size * size)
        top = flat.max(axis=-1, keepdims=True)
        if rule in ("first", "mask", "cropped"):
            share = k == flat.argmax(axis=-1)[..., None]
        elif rule == "last":
            share = k == (size * size - 1 - flat[..., ::-1].argmax(axis=-1))[..., None]
        elif rule == "ties":
            share = flat == top
        elif rule == "transposed":
            first = flat.argmax(axis=-1)
            share = k == ((first % size) * size + first // size)[..., None]
        else:
            share = np.ones(flat.shape, dtype=bool)
        grads = share * (np.ones_like(dout) if rule == "mask" else dout)[..., None]
        if rule == "mean":
            grads = grads / size ** 2
        images = grads.reshape(n, c, h_out, w_out, size, size).transpose(
            0, 1, 2, 4, 3, 5).reshape(n, c, h_out * size, w_out * size)
        if rule == "cropped":
            return images
        dx = np.zeros_like(x)
        dx[:, :, :h_out * size, :w_out * size] = images
        return dx
    return backward


def pool_backward_via_nnlib(x, dout, size):
    layer = MaxPool2D(size)
    layer.forward(x)
    return layer.backward(dout)


def pool_backward_upsampled_mask(x, dout, size):
    """The usual ties-to-all version: compare every entry with its window's maximum."""
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    big = np.repeat(np.repeat(maxpool_forward(x, size), size, axis=2), size, axis=3)
    grads = np.repeat(np.repeat(dout, size, axis=2), size, axis=3)
    dx = np.zeros_like(x)
    crop = x[:, :, :h_out * size, :w_out * size]
    dx[:, :, :h_out * size, :w_out * size] = (crop == big) * grads
    return dx


def pool_backward_no_crop(x, dout, size):
    n, c, h, w = x.shape
    x.reshape(n, c, h // size, size, w // size, size)   # fails unless size divides h and w
    return maxpool_backward(x, dout, size)


def pool_backward_float64(x, dout, size):
    return maxpool_backward(x, dout, size).astype(np.float64)


def pool_backward_in_place(x, dout, size):
    x += 1.0                     # a shift keeps every winner, but changes the caller's array
    return maxpool_backward(x, dout, size)


@pytest.mark.parametrize("right", [pool_grad("first"), pool_backward_via_nnlib],
                         ids=["argmax", "nnlib"])
def test_maxpool_backward_other_right_versions_pass(right):
    assert check_maxpool_backward(right).ok


@pytest.mark.parametrize("wrong, words", [
    (pool_grad("all"), "every entry of a window got the window's gradient"),
    (pool_grad("mean"), "backward of average pooling"),
    (pool_grad("ties"), "several equal largest entries, each got the full gradient"),
    (pool_backward_upsampled_mask, "several equal largest entries, each got the full gradient"),
    (pool_grad("last"), "went to the LAST one"),
    (pool_grad("transposed"), "read column by column"),
    (pool_grad("mask"), "you returned where the winners are"),
    (pool_grad("cropped"), "no window covers are part of the input too"),
    (pool_backward_no_crop, "fails on 7×5 images with 2×2 windows"),
    (pool_backward_float64, "is float64, but the input was float32"),
    (lambda x, d, s: maxpool_backward(x, d, s).tolist(), "is a Python list"),
    (pool_backward_in_place, "changed its input array in place"),
], ids=["every-entry", "average", "ties-to-all", "ties-to-all-upsampled", "ties-to-last",
        "transposed-position", "mask-only", "cropped", "crash-on-odd-size", "float64", "list",
        "in-place"])
def test_maxpool_backward_names_the_mistake(wrong, words):
    as_named(check_maxpool_backward(wrong), words)


def test_maxpool_backward_ties_to_all_is_named_with_its_tiers():
    result = check_maxpool_backward(pool_grad("ties"))
    assert "first one in row order" in result.hint
    assert "found" in result.fix and "~found" in result.fix


def unsolved_maxpool_forward(x, size):
    raise NotImplementedError()


def pool_backward_on_unsolved_forward(x, dout, size):
    largest = unsolved_maxpool_forward(x, size)
    return np.zeros_like(x) + 0 * largest.sum()


def test_maxpool_backward_on_an_unsolved_forward_says_so():
    result = check_maxpool_backward(pool_backward_on_unsolved_forward)
    as_named(result, "your code calls unsolved_maxpool_forward, which is not implemented yet")
