"""Checks for chapter 14 (convolution): correlate2d, im2col, conv2d_forward, conv2d_backward,
maxpool_forward and maxpool_backward. Each runs the student's function on small images (square and
non-square kernels, a batch of one, float32 and float64), compares with the definition computed
here, and names the typical mistakes: a flipped kernel, an output one pixel off, a forgotten bias,
im2col's rows or columns in the wrong order, overlapping windows that overwrite instead of add,
pooling gradients sent to every entry of a window or to every tied entry. The backward checks end
with a gradient check in float64.
"""

import traceback

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._core import Mistake, Problem, call, check, expect_array, is_student_file, rng_for_checks
from .ch05_backpropagation import DENSE_N, _dense_returned, _expect_gradient, _gradcheck

FLOAT32 = {"rtol": 1e-4, "atol": 1e-5}   # float32 sums of a few dozen products of size ~1

CORRELATE_FIX = """\
def correlate2d(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1), dtype=image.dtype)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out"""
IM2COL_FIX = """\
def im2col(x, kh, kw):
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))   # (N, C, H_out, W_out, kh, kw)
    n, c, h_out, w_out = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * kh * kw)"""
FORWARD_FIX = """\
def conv2d_forward(x, weights, biases):
    n, c, h, w = x.shape
    f, _, kh, kw = weights.shape
    h_out, w_out = h - kh + 1, w - kw + 1
    cols = im2col(x, kh=kh, kw=kw)                       # (N·H_out·W_out, C·kh·kw)
    out = cols @ weights.reshape(f, -1).T + biases       # (N·H_out·W_out, F)
    return out.reshape(n, h_out, w_out, f).transpose(0, 3, 1, 2)"""
BACKWARD_FIX = """\
def conv2d_backward(x, weights, dout):
    n, c, h, w = x.shape
    f, _, kh, kw = weights.shape
    h_out, w_out = dout.shape[2:]
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, f)      # (N·H_out·W_out, F)
    dweights = (dout_rows.T @ im2col(x, kh=kh, kw=kw)).reshape(weights.shape)
    dbiases = dout.sum(axis=(0, 2, 3))
    dcols = (dout_rows @ weights.reshape(f, -1)).reshape(n, h_out, w_out, c, kh, kw)
    dx = np.zeros_like(x)
    for a in range(kh):            # col2im: kernel offset (a, b) read x at (i + a, j + b)
        for b in range(kw):
            dx[:, :, a:a + h_out, b:b + w_out] += dcols[..., a, b].transpose(0, 3, 1, 2)
    return dx, dweights, dbiases"""
POOL_FIX = """\
def maxpool_forward(x, size):
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    windows = x[:, :, :h_out * size, :w_out * size].reshape(n, c, h_out, size, w_out, size)
    return windows.max(axis=(3, 5))"""
POOL_BACKWARD_FIX = """\
def maxpool_backward(x, dout, size):
    h_out, w_out = x.shape[2] // size, x.shape[3] // size
    largest = maxpool_forward(x, size=size)             # (N, C, H_out, W_out)
    dx = np.zeros_like(x)
    found = np.zeros(largest.shape, dtype=bool)         # windows whose winner is known
    for a in range(size):                               # the entries of a window, row by row
        for b in range(size):
            entry = x[:, :, a:h_out * size:size, b:w_out * size:size]
            wins = (entry == largest) & ~found
            dx[:, :, a:h_out * size:size, b:w_out * size:size] = wins * dout
            found |= wins
    return dx"""

CORRELATE_HINT = ("Output pixel (i, j) is the sum, over the kernel's rows a and columns b, of "
                  "pixel (i + a, j + b) times kernel entry (a, b); a kh-row kernel fits "
                  "H − kh + 1 times into H rows.")
IM2COL_HINT = ("sliding_window_view over the last two axes gives every window as a view of "
               "shape (N, C, H_out, W_out, kh, kw). A reshape reads the axes in their order, "
               "last axis fastest: first move the axes into the order the rows (n, i, j) and the "
               "columns (c, a, b) need.")
FORWARD_HINT = ("With one window per row of im2col and one filter per row of the weights "
                "reshaped to (F, C·kh·kw), a single matrix product gives every output pixel of "
                "every filter, (N·H_out·W_out, F); add each filter's bias to its own column, then "
                "turn the rows back into images.")
BACKWARD_HINT = ("Each weight and each bias is used at every output pixel of every example: "
                 "their gradients add up over the batch and the pixels. An input pixel is read by "
                 "every window that covers it, with a different kernel entry each time: its "
                 "gradient is the sum of all those shares.")
POOL_HINT = ("Cut the (H, W) image into size × size squares side by side (drop the rows and "
             "columns left over at the bottom and right), and keep the largest entry of each.")
POOL_BACKWARD_HINT = ("Only the largest entry of a window moves the output, with slope 1; the "
                      "others have slope 0. Of equal largest entries, the first one in row order "
                      "counts as the winner, as in nnlib and PyTorch.")

DTYPE_HINT = ("NumPy's zeros, ones and empty make float64 unless they are given a dtype; "
              "zeros_like copies the dtype of its argument.")


# --- shared ---------------------------------------------------------------------------------------
def _call_solved(fn, *args, fix=""):
    """call(fn, *args); a NotImplementedError raised in ANOTHER unsolved exercise that fn uses
    (im2col inside conv2d_forward, say) is named, instead of calling fn itself unsolved."""
    try:
        return call(fn, *args)
    except NotImplementedError as err:
        frames = [frame.f_code for frame, _ in traceback.walk_tb(err.__traceback__)]
        inner = frames[-1]
        if inner is not getattr(fn, "__code__", None) and is_student_file(inner.co_filename) \
                and inner.co_name != "<lambda>":
            raise Problem(f"your code calls {inner.co_name}, which is not implemented yet, so "
                          "this exercise cannot run: solve that exercise first (its check says "
                          "when it is right)",
                          f"{inner.co_name} comes from an earlier exercise of this chapter; "
                          "run its cell again after filling it in.", fix) from None
        raise


def _need_array(out, what, fix):
    """``out`` itself when it is a NumPy array (None is left to expect_array); else a Problem."""
    if out is None or isinstance(out, (np.ndarray, np.generic, int, float)):
        return out    # a single number is named by the shape test that follows
    kind = f"a Python {type(out).__name__}" if isinstance(out, (list, tuple)) else \
        f"a {type(out).__name__}"
    raise Problem(f"{what} is {kind}, not a NumPy array: the layers after this one, and the "
                  "matrix products inside it, need one array of numbers with a shape and a dtype",
                  "Build the result as a NumPy array from the start (or turn it into one before "
                  "returning it).", fix)


def _same_dtype(out, dtype, what, fix):
    """Fail unless the array ``out`` has the input's floating dtype."""
    if out.dtype != dtype:
        name = np.dtype(dtype).name
        why = ("nnlib's layers compute in float32, and a float64 result doubles the memory and "
               "the time of every layer after this one" if name == "float32" else
               "gradient checks need the precision of float64")
        raise Problem(f"{what} is {out.dtype.name}, but the input was {name}: {name} in, "
                      f"{name} out ({why})", DTYPE_HINT, fix)


def _expect(out, expected, what, fix, mistakes=(), spatial=None, extra=None, **tol):
    """expect_array, with a named Problem for an output that has the wrong height and width
    (``spatial``: a function of the output's shape that returns a Problem or None) and a last
    look (``extra``: out -> Problem or None) at numbers that match no Mistake row."""
    out = _need_array(out, what, fix)
    try:
        return expect_array(out, expected, what, mistakes=mistakes, **tol)
    except Problem as problem:
        if spatial is not None and " has shape " in problem.says:
            named = spatial(np.shape(out))
            if named is not None:
                raise named from None
        if extra is not None and " is wrong: at index " in problem.says:
            named = extra(np.asarray(out))
            if named is not None:
                raise named from None
        raise


def _size_problem(what, image_hw, kernel_hw, fix, lead=()):
    """A function of an output's shape that names a 'same'-sized output, or one a pixel too
    small or too large, for a kernel of kernel_hw on images of image_hw. ``lead`` is the shape
    before the two spatial axes."""
    (h, w), (kh, kw) = image_hw, kernel_hw
    h_out, w_out = h - kh + 1, w - kw + 1
    why = (f"a {kh}-row kernel fits {h} − {kh} + 1 = {h_out} times into {h} rows (starting "
           f"rows 0 to {h - kh}), and a {kw}-column one {w_out} times into {w} columns")
    hint = ("Count the positions a window can take: on 5 pixels a 3-pixel window starts at 0, "
            "1 or 2, so 3 = 5 − 3 + 1 positions.")

    def named(shape):
        shape = tuple(shape)
        if len(shape) != len(lead) + 2 or shape[:len(lead)] != tuple(lead):
            return None
        got = shape[len(lead):]
        if got == (h, w) and (kh, kw) != (1, 1):
            return Problem(f"{what} has the image's own size {h}×{w} (a 'same' output); this "
                           f"exercise asks for the 'valid' output, only where the whole kernel "
                           f"fits inside the image, {h_out}×{w_out}: {why}", hint, fix)
        if got == (h_out - 1, w_out - 1):
            return Problem(f"{what} is {got[0]}×{got[1]}, one pixel too small each way: {why}",
                           hint, fix)
        if got == (h_out + 1, w_out + 1):
            return Problem(f"{what} is {got[0]}×{got[1]}, one pixel too large each way: {why}",
                           hint, fix)
        if got == (w_out, h_out) and h_out != w_out:
            return Problem(f"{what} is {got[0]}×{got[1]}: height and width are swapped, it "
                           f"should be {h_out} rows by {w_out} columns",
                           "Shapes list the rows (the height) first, then the columns (the "
                           "width).", fix)
        return None
    return named


# --- references: the definitions, computed independently of the student's route ------------------
def _correlate(image, kernel):
    """'valid' cross-correlation of one image (H, W) with one kernel (kh, kw)."""
    return np.einsum("ijab,ab->ij", sliding_window_view(image, kernel.shape), kernel)


def _windows(x, kh, kw):
    """Every kh × kw window of x (N, C, H, W): a view (N, C, H_out, W_out, kh, kw)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))


def _im2col(x, kh, kw):
    windows = _windows(x, kh, kw)
    n, c, h_out, w_out = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * kh * kw)


def _conv(x, weights, biases):
    """y(n, f, i, j) = b(f) + Σ over c, a, b of x(n, c, i + a, j + b) W(f, c, a, b)."""
    kh, kw = weights.shape[2:]
    return np.einsum("ncijab,fcab->nfij", _windows(x, kh, kw), weights) + biases[:, None, None]


def _col2im(shares, x_shape, add=True, window_order=False):
    """dx (N, C, H, W) from shares (N, H_out, W_out, C, kh, kw), the gradient of every window
    entry. ``add=False``: overlapping windows overwrite each other (a typical mistake), looping
    over kernel offsets or, with ``window_order``, over windows."""
    n, h_out, w_out, c, kh, kw = shares.shape
    dx = np.zeros(x_shape, dtype=shares.dtype)
    if window_order:
        for i in range(h_out):
            for j in range(w_out):
                dx[:, :, i:i + kh, j:j + kw] = shares[:, i, j]
        return dx
    for a in range(kh):
        for b in range(kw):
            part = shares[..., a, b].transpose(0, 3, 1, 2)
            if add:
                dx[:, :, a:a + h_out, b:b + w_out] += part
            else:
                dx[:, :, a:a + h_out, b:b + w_out] = part
    return dx


def _conv_grads(x, weights, dout):
    """(dx, dweights, dbiases) of the convolution, from the definition."""
    kh, kw = weights.shape[2:]
    dweights = np.einsum("nfij,ncijab->fcab", dout, _windows(x, kh, kw))
    shares = np.einsum("nfij,fcab->nijcab", dout, weights)
    return _col2im(shares, x.shape), dweights, dout.sum(axis=(0, 2, 3))


def _coverage(h, w, kh, kw):
    """How many kh × kw windows read each pixel of an h × w image, (h, w)."""
    def count(p, size, k):   # windows starting at rows s with s ≤ p ≤ s + k − 1, 0 ≤ s ≤ size − k
        return min(p, size - k) - max(0, p - k + 1) + 1

    return np.outer([count(p, h, kh) for p in range(h)], [count(q, w, kw) for q in range(w)])


def _pool(x, size, reduce=np.max):
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    windows = x[:, :, :h_out * size, :w_out * size].reshape(n, c, h_out, size, w_out, size)
    return reduce(windows, axis=(3, 5))


def _pool_grad(x, dout, size, rule="first"):
    """dx of max pooling; ``rule`` names who gets a window's gradient: "first" (the first
    largest entry in row order: right), "last", "ties" (every largest entry), "all" (every entry),
    "mean" (every entry, divided by size²), "mask" (the winner gets 1, not dout), "transposed"
    (the winner's position inside its window read column by column)."""
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    windows = x[:, :, :h_out * size, :w_out * size].reshape(n, c, h_out, size, w_out, size)
    flat = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h_out, w_out, size * size)
    k = np.arange(size * size)
    if rule in ("first", "mask"):
        share = k == flat.argmax(axis=-1)[..., None]
    elif rule == "last":
        share = k == (size * size - 1 - flat[..., ::-1].argmax(axis=-1))[..., None]
    elif rule == "ties":
        share = flat == flat.max(axis=-1, keepdims=True)
    elif rule == "transposed":
        first = flat.argmax(axis=-1)
        share = k == ((first % size) * size + first // size)[..., None]
    else:
        share = np.ones(flat.shape, dtype=bool)
    grads = share * (np.ones_like(dout) if rule == "mask" else dout)[..., None]
    if rule == "mean":
        grads = grads / (size * size)
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    dx[:, :, :h_out * size, :w_out * size] = grads.reshape(
        n, c, h_out, w_out, size, size).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h_out * size, w_out * size)
    return dx


# --- correlate2d ----------------------------------------------------------------------------------
def _correlate_mistakes(image, kernel):
    kh, kw = kernel.shape
    flip = "The kernel's entry (a, b) multiplies pixel (i + a, j + b), for a and b counted up " \
           "from 0: no index runs backwards."
    rows = [
        Mistake(_correlate(image, kernel[::-1, ::-1]), "the kernel is flipped (rotated by 180°): "
                "that is the convolution of mathematics; deep-learning layers compute "
                "cross-correlation, so that the kernel's entry (a, b) multiplies pixel "
                "(i + a, j + b) as it is stored", flip,
                "out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)   # kernel as it is"),
        Mistake(_correlate(image, kernel[::-1]), "the kernel is flipped upside down: its first "
                "row must meet the window's first row", flip,
                "out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)"),
        Mistake(_correlate(image, kernel[:, ::-1]), "the kernel is flipped left to right: its "
                "first column must meet the window's first column", flip,
                "out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)"),
        Mistake(_correlate(image, np.ones_like(kernel)), "each output is the plain total of its "
                "window: the kernel's weights never multiply the pixels",
                "Every pixel of the window is weighted by the kernel entry it meets.",
                "out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)"),
        Mistake(_correlate(image, kernel) / (kh * kw), f"each output is the MEAN of its "
                f"{kh}×{kw} products, {kh * kw} times too small: a correlation adds them up",
                "A weighted sum, not an average: the weights already say how much each pixel "
                "counts.", "out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)"),
    ]
    if kh == kw:
        rows.append(Mistake(_correlate(image, kernel.T), "the kernel is transposed: its rows "
                            "met the window's columns, so a filter for vertical edges would "
                            "find horizontal ones", flip,
                            "out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)"))
    return rows


@check("correlate2d", hint=CORRELATE_HINT, fix=CORRELATE_FIX)
def check_correlate2d(correlate2d):
    rng = rng_for_checks()
    cases = [((6, 7), (3, 3), np.float64, "correlate2d of a 6×7 image with a 3×3 kernel"),
             ((5, 6), (2, 3), np.float64, "correlate2d with a 2×3 kernel"),
             ((4, 4), (4, 4), np.float64, "correlate2d with a kernel as large as the image"),
             ((3, 5), (1, 1), np.float64, "correlate2d with a 1×1 kernel"),
             ((7, 6), (3, 3), np.float32, "correlate2d of float32 arrays")]
    for image_shape, kernel_shape, dtype, what in cases:
        image = rng.standard_normal(image_shape).astype(dtype)
        kernel = rng.standard_normal(kernel_shape).astype(dtype)
        out = _call_solved(correlate2d, image, kernel, fix=CORRELATE_FIX)
        expected = _correlate(image.astype(np.float64), kernel.astype(np.float64))
        tol = FLOAT32 if dtype == np.float32 else {}
        out = _expect(out, expected, what, CORRELATE_FIX,
                      _correlate_mistakes(image.astype(np.float64), kernel.astype(np.float64)),
                      spatial=_size_problem(what, image_shape, kernel_shape, CORRELATE_FIX),
                      **tol)
        _same_dtype(out, dtype, what, CORRELATE_FIX)
    return "each output pixel is its window times the kernel, added up; 'valid' size, no flip"


# --- im2col ---------------------------------------------------------------------------------------
def _im2col_mistakes(x, kh, kw):
    w6 = _windows(x, kh, kw)
    n, c, h_out, w_out = w6.shape[:4]
    rows, cols = n * h_out * w_out, c * kh * kw
    right = _im2col(x, kh, kw)
    fix = "windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * kh * kw)"
    order = ("A reshape reads the axes in their order, the last one fastest; transpose first so "
             "that the row axes (N, H_out, W_out) come first, then the column axes (C, kh, kw).")
    mistakes = [
        Mistake(w6.transpose(0, 2, 3, 4, 5, 1).reshape(rows, cols), "the columns are in the "
                "order (kh, kw, C), the channels fastest; the weights reshaped to (F, C·kh·kw) "
                "list each filter's numbers channel by channel, (C, kh, kw), so the product "
                "would pair pixels with the wrong weights", order, fix),
        Mistake(w6.transpose(0, 2, 3, 1, 5, 4).reshape(rows, cols), "each window was read "
                "column by column (C, kw, kh); the weights list a kernel row by row, "
                "(C, kh, kw)", order, fix),
        Mistake(w6.transpose(0, 3, 2, 1, 4, 5).reshape(rows, cols), "the rows go through the "
                "output pixels column by column, (n, j, i); they must go row by row, (n, i, j), "
                "so that the product reshapes into images (N, H_out, W_out)", order, fix),
        Mistake(w6.transpose(2, 3, 0, 1, 4, 5).reshape(rows, cols), "the rows have the batch "
                "varying fastest, (i, j, n); the exercise asks for (n, i, j): all the windows "
                "of the first image, then those of the second", order, fix),
        Mistake(w6.reshape(rows, cols), "the windows were reshaped straight from "
                "(N, C, H_out, W_out, kh, kw): the channel axis sits between the batch and the "
                "pixels, so each row mixes numbers of different windows", order, fix),
        Mistake(w6, "this is the array of windows itself, 6-dimensional (N, C, H_out, W_out, "
                "kh, kw); im2col flattens it into a matrix, one row per output pixel and one "
                "column per kernel entry", order, fix),
        Mistake(right.T, f"the matrix is transposed: {cols} rows by {rows} columns; the "
                f"exercise asks for one ROW per output pixel ({rows} rows) and one column per "
                f"kernel entry ({cols})", "Rows: N·H_out·W_out. Columns: C·kh·kw.", fix),
        Mistake(right.reshape(n, h_out * w_out, cols), "there is one matrix per image, "
                "(N, H_out·W_out, C·kh·kw); the exercise asks for one matrix for the whole "
                "batch, so that a single product serves every image", order, fix),
    ]
    if kh != kw:
        swapped = _im2col(x, kw, kh)
        mistakes.append(Mistake(swapped, f"the windows are {kw}×{kh} instead of {kh}×{kw}: kh "
                                "(the kernel's height, rows) and kw (its width, columns) are "
                                "swapped", "A window shape lists rows first, then columns.",
                                "windows = sliding_window_view(x, (kh, kw), axis=(2, 3))"))
    return mistakes


@check("im2col", hint=IM2COL_HINT, fix=IM2COL_FIX)
def check_im2col(im2col):
    rng = rng_for_checks()
    cases = [((2, 3, 4, 6), 2, 3, np.float64, "im2col of 2 images of 3 channels, 2×3 windows"),
             ((3, 2, 5, 5), 3, 3, np.float64, "im2col with 3×3 windows"),
             ((1, 1, 3, 3), 3, 3, np.float64, "im2col with one window per image"),
             ((2, 2, 6, 5), 2, 2, np.float32, "im2col of float32 images")]
    for shape, kh, kw, dtype, what in cases:
        x = rng.standard_normal(shape).astype(dtype)
        out = _call_solved(im2col, x, kh, kw, fix=IM2COL_FIX)
        _expect(out, _im2col(x, kh, kw), what, IM2COL_FIX, _im2col_mistakes(x, kh, kw))
        _same_dtype(out, dtype, what, IM2COL_FIX)
    # the point of it all: the product with the weights is the convolution's definition
    x = rng.standard_normal((2, 3, 5, 6))
    weights = rng.standard_normal((4, 3, 3, 2))
    cols = _expect(_call_solved(im2col, x, 3, 2, fix=IM2COL_FIX), _im2col(x, 3, 2),
                   "im2col with 3×2 windows", IM2COL_FIX, _im2col_mistakes(x, 3, 2))
    product = (cols @ weights.reshape(4, -1).T).reshape(2, 3, 5, 4).transpose(0, 3, 1, 2)
    expect_array(product, _conv(x, weights, np.zeros(4)), "im2col times the weights")
    return ("one row per window in (n, i, j) order, columns in the weights' (C, kh, kw) order: "
            "times the weights, it gives the loops' numbers")


# --- conv2d_forward -------------------------------------------------------------------------------
def _forward_mistakes(x, weights, biases):
    n, c, h, w = x.shape
    f, _, kh, kw = weights.shape
    h_out, w_out = h - kh + 1, w - kw + 1
    cols = _im2col(x, kh, kw)
    matrix = weights.reshape(f, -1)
    right = _conv(x, weights, biases)
    plain = right - biases[:, None, None]
    images = "(cols @ W + b).reshape(n, h_out, w_out, f).transpose(0, 3, 1, 2)"
    rows_fix = "out.reshape(n, h_out, w_out, f).transpose(0, 3, 1, 2)   # (N, F, H_out, W_out)"
    mistakes = [
        Mistake(plain, "the bias is missing: every filter adds its own bias to each of its "
                "outputs", "y(n, f, i, j) = b(f) + the weighted sum of the window.",
                "out = cols @ weights.reshape(f, -1).T + biases"),
        Mistake(_conv(x, weights[:, :, ::-1, ::-1], biases), "the kernels are flipped (rotated "
                "by 180°): a true convolution; deep-learning layers compute cross-correlation, "
                "as nnlib and PyTorch store their weights", CORRELATE_HINT, FORWARD_FIX),
        Mistake((cols @ matrix.T + biases).reshape(n, f, h_out, w_out), "the product's rows are "
                "output pixels in (n, i, j) order and its columns are the filters; reshaping it "
                "straight to (N, F, H_out, W_out) scatters each filter's numbers over other "
                "filters and pixels", "Reshape to (N, H_out, W_out, F) first: that is what the "
                "rows and columns ARE; then move the filter axis to second place.", rows_fix),
        Mistake(right.transpose(0, 2, 3, 1), "the output is (N, H_out, W_out, F), the filters "
                "last, as the product left them; images in this course are (N, F, H_out, "
                "W_out), the channels (here the filters) second", "After the reshape, move "
                "the filter axis from last to second place.", rows_fix),
        Mistake(right.transpose(0, 1, 3, 2), "height and width are swapped: the output is "
                "(N, F, W_out, H_out)", "A transpose lists where each NEW axis comes from.",
                rows_fix),
        Mistake((cols @ weights.reshape(-1, f) + biases).reshape(n, h_out, w_out, f).transpose(
                0, 3, 1, 2), "the weights were reshaped straight to (C·kh·kw, F): the numbers of "
                "one filter are spread over several columns; reshape them to one row per filter, "
                "(F, C·kh·kw), then transpose", IM2COL_HINT, FORWARD_FIX),
        Mistake((cols @ weights.transpose(0, 2, 3, 1).reshape(f, -1).T + biases).reshape(
                n, h_out, w_out, f).transpose(0, 3, 1, 2), "the weight matrix lists each "
                "filter in (kh, kw, C) order, but im2col's columns are in (C, kh, kw) order: "
                "pixels meet the weights of other channels", "Reshaping the weights (F, C, kh, "
                "kw) to (F, C·kh·kw) keeps exactly im2col's column order.", FORWARD_FIX),
    ]
    if kh == kw:
        mistakes.append(Mistake(_conv(x, weights.transpose(0, 1, 3, 2), biases), "the kernels "
                                "are transposed: their rows met the windows' columns",
                                CORRELATE_HINT, FORWARD_FIX))
    if w_out == f:
        mistakes.append(Mistake(plain + biases, "the biases were added along the output's "
                                "width, one per column of pixels; each belongs to one filter, "
                                "the second axis of (N, F, H_out, W_out)",
                                "Add the biases where the filters are the last axis: to the "
                                "product, (N·H_out·W_out, F), before reshaping.", images))
    return mistakes


def _one_bias_for_all(x, weights, biases, what):
    """A Problem when the output is the bias-free one plus ONE number for all filters."""
    plain = _conv(x, weights, np.zeros_like(biases))

    def named(out):
        if out.shape != plain.shape:
            return None
        diff = out - plain
        if np.allclose(diff, diff.flat[0], rtol=1e-5, atol=1e-6):
            return Problem(f"{what}: every filter got the same bias, {diff.flat[0]:.4g}; each "
                           "filter has its own, one per output channel", "biases has shape "
                           "(F,): bias f belongs to filter f only.",
                           "out = cols @ weights.reshape(f, -1).T + biases   # (…, F) + (F,)")
        return None
    return named


@check("conv2d_forward", hint=FORWARD_HINT, fix=FORWARD_FIX)
def check_conv2d_forward(conv2d_forward):
    rng = rng_for_checks()
    cases = [((2, 2, 5, 6), (4, 2, 3, 3), np.float64, "conv2d_forward, 2 images of 2 channels, "
                                                      "4 filters of 3×3"),
             ((3, 3, 6, 5), (2, 3, 2, 3), np.float64, "conv2d_forward with 2×3 kernels"),
             ((1, 1, 4, 4), (3, 1, 4, 4), np.float64, "conv2d_forward with kernels as large as "
                                                      "the image"),
             ((2, 1, 7, 7), (3, 1, 3, 3), np.float32, "conv2d_forward in float32")]
    for x_shape, w_shape, dtype, what in cases:
        x = rng.standard_normal(x_shape).astype(dtype)
        weights = rng.standard_normal(w_shape).astype(dtype)
        biases = rng.standard_normal(w_shape[0]).astype(dtype)
        out = _call_solved(conv2d_forward, x, weights, biases, fix=FORWARD_FIX)
        x64, w64, b64 = (a.astype(np.float64) for a in (x, weights, biases))
        tol = FLOAT32 if dtype == np.float32 else {}
        out = _expect(out, _conv(x64, w64, b64), what, FORWARD_FIX,
                      _forward_mistakes(x64, w64, b64),
                      spatial=_size_problem(what, x_shape[2:], w_shape[2:], FORWARD_FIX,
                                            lead=(x_shape[0], w_shape[0])),
                      extra=_one_bias_for_all(x64, w64, b64, what), **tol)
        _same_dtype(out, dtype, what, FORWARD_FIX)
    return "one matrix product gives the same numbers as sliding every filter over every image"


# --- conv2d_backward ------------------------------------------------------------------------------
def _backward_mistakes(x, weights, dout, dweights):
    """The rows for each of the three gradients, (dweights, dbiases, dx); ``dweights`` is the
    right one, which the check has already computed."""
    c = x.shape[1]
    f, _, kh, kw = weights.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    cols = _im2col(x, kh, kw)
    matrix = (dout_rows.T @ cols)
    shares = np.einsum("nfij,fcab->nijcab", dout, weights)
    sum_fix = "dweights = (dout_rows.T @ cols).reshape(weights.shape)   # sums over n, i, j"
    flip_hint = ("W(f, c, a, b) multiplied x(n, c, i + a, j + b) in the forward pass: its "
                 "gradient pairs the same two indices, with no index running backwards.")
    dw_rows = [
        Mistake(np.einsum("nfij,ncijab->nfcab", dout, _windows(x, kh, kw)), "dweights has one "
                "gradient per example, (N, F, C, kh, kw): the weights are shared by the whole "
                "batch, so the examples' gradients add up into one of the weights' shape",
                DENSE_N[1].hint, sum_fix),
        Mistake(dweights[:, :, ::-1, ::-1], "dweights is flipped (rotated by 180°) in each "
                "kernel: kernel entry (a, b) read pixel (i + a, j + b), so its gradient collects "
                "dout times exactly those pixels", flip_hint, sum_fix),
        Mistake((cols.T @ dout_rows).reshape(weights.shape), "dweights was reshaped from the "
                "transposed product, (C·kh·kw, F): its numbers land on the wrong filters and "
                "kernel entries; the product that has the weights' layout is (F, C·kh·kw)",
                "Which of the two products has one row per filter?", sum_fix),
        Mistake(matrix.reshape(f, kh, kw, c).transpose(0, 3, 1, 2), "dweights read its "
                "columns in (kh, kw, C) order, but im2col's columns are in (C, kh, kw) order, "
                "the weights' own", IM2COL_HINT, sum_fix),
        Mistake(_conv_grads(x[:1], weights, dout[:1])[1], "dweights only holds the first "
                "example's share: every example used the same weights, so every example adds "
                "its gradient", DENSE_N[1].hint, sum_fix),
    ]
    db_fix = "dbiases = dout.sum(axis=(0, 2, 3))   # shape (F,)"
    db_hint = ("Bias f is added at every output pixel of filter f, in every example: its "
               "gradient adds up dout over the batch and both pixel axes, keeping the filters.")
    db_rows = [
        Mistake(dout.sum(axis=0), "dbiases has shape (F, H_out, W_out): it was added up over "
                "the batch only, but each filter's single bias is also used at every output "
                "pixel", db_hint, db_fix),
        Mistake(dout.sum(axis=(2, 3)), "dbiases has shape (N, F), one row per example: the "
                "biases are shared by the batch, so the examples add up too", db_hint, db_fix),
        Mistake(dout.sum(axis=(1, 2, 3)), "dbiases holds one number per example (added over "
                "filters and pixels); each bias belongs to one filter and collects all "
                "examples and pixels of that filter", db_hint, db_fix),
        Mistake(dout.sum(axis=(0, 1)), "dbiases has shape (H_out, W_out): it was added up over "
                "the batch and the FILTERS, which must stay apart, one bias each", db_hint,
                db_fix),
        Mistake(dout.sum(axis=(0, 2, 3)).reshape(1, f, 1, 1), "dbiases has shape (1, F, 1, 1): "
                "the right numbers, but the biases are one-dimensional, (F,)",
                "A sum that keeps the summed axes leaves them there with length 1.", db_fix),
        Mistake(np.sum(dout), "dbiases is one number, the total of all of dout: each filter's "
                "bias only gets the gradient of that filter's outputs", db_hint, db_fix),
        Mistake(dout.mean(axis=(0, 2, 3)), "dbiases is the MEAN of dout over the batch and the "
                "pixels; every use of a shared bias adds its full gradient", DENSE_N[1].hint,
                db_fix),
    ]
    add_fix = ("dx[:, :, a:a + h_out, b:b + w_out] += dcols[..., a, b].transpose(0, 3, 1, 2)"
               "   # add: windows overlap")
    overwrite = ("where windows overlap, a pixel must collect the shares of EVERY window that "
                 "read it; yours kept only the last one written")
    overwrite_hint = ("A pixel inside the image is read by up to kh·kw windows; the chain rule "
                      "adds the gradients of all the outputs it influenced.")
    dx_rows = [
        Mistake(_col2im(shares, x.shape, add=False), f"dx is wrong where windows overlap: "
                f"{overwrite}", overwrite_hint, add_fix),
        Mistake(_col2im(shares, x.shape, window_order=True), f"dx is wrong where windows "
                f"overlap: {overwrite}", overwrite_hint, add_fix),
        Mistake(_conv_grads(x, weights[:, :, ::-1, ::-1], dout)[0], "dx used the kernels "
                "flipped: the pixel at offset (a, b) of a window got the share of kernel entry "
                "(a, b) itself in the forward pass, so its gradient is dout times that same "
                "entry", flip_hint, add_fix),
    ]
    if kh == kw:
        dx_rows.append(Mistake(_conv_grads(x, weights.transpose(0, 1, 3, 2), dout)[0], "dx used "
                               "the kernels transposed: a pixel's share came from the entry "
                               "(b, a) instead of (a, b)", flip_hint, add_fix))
    return dw_rows, db_rows, dx_rows


def _overlap_problem(expected, x_shape, kernel_hw, what):
    """A Problem when dx is right at the pixels that one window reads, wrong where windows
    overlap."""
    cover = _coverage(*x_shape[2:], *kernel_hw)

    def named(out):
        if out.shape != expected.shape or cover.max() == 1:
            return None
        ok = np.isclose(out, expected, rtol=1e-5, atol=1e-6)
        if ok[..., cover == 1].all() and not ok[..., cover > 1].all():
            return Problem(f"{what} is right at the pixels that only one window reads and wrong "
                           "where windows overlap: a pixel read by several windows must add up "
                           "the shares of all of them", "A pixel inside the image is read by up "
                           "to kh·kw windows; the chain rule adds the gradients of all the "
                           "outputs it influenced.", BACKWARD_FIX)
        return None
    return named


@check("conv2d_backward", hint=BACKWARD_HINT, fix=BACKWARD_FIX)
def check_conv2d_backward(conv2d_backward):
    rng = rng_for_checks()
    cases = [((2, 2, 5, 6), (3, 2, 3, 3), np.float64, "2 images, Conv2D(2 → 3, 3×3)"),
             ((3, 1, 4, 5), (2, 1, 2, 3), np.float64, "3 images, Conv2D(1 → 2, 2×3)"),
             ((1, 2, 3, 3), (2, 2, 3, 3), np.float64, "a batch of one, one window per image"),
             ((2, 2, 6, 6), (2, 2, 3, 3), np.float32, "float32")]
    for x_shape, w_shape, dtype, where in cases:
        n, (f, _, kh, kw) = x_shape[0], w_shape
        x = rng.standard_normal(x_shape).astype(dtype)
        weights = rng.standard_normal(w_shape).astype(dtype)
        dout = rng.standard_normal((n, f, x_shape[2] - kh + 1, x_shape[3] - kw + 1)).astype(dtype)
        out = _call_solved(conv2d_backward, x, weights, dout, fix=BACKWARD_FIX)
        dx, dw, db = _dense_returned(out, [x.shape, weights.shape, (f,)])
        x64, w64, d64 = (a.astype(np.float64) for a in (x, weights, dout))
        right = _conv_grads(x64, w64, d64)
        dw_rows, db_rows, dx_rows = _backward_mistakes(x64, w64, d64, right[1])
        tol = FLOAT32 if dtype == np.float32 else {}
        for got, expected, name, rows, extra in [
                (dw, right[1], "dweights", dw_rows, None),
                (db, right[2], "dbiases", db_rows, None),
                (dx, right[0], "dx", dx_rows,
                 _overlap_problem(right[0], x_shape, (kh, kw), f"dx ({where})"))]:
            what = f"{name} ({where})"
            got = _need_array(got, what, BACKWARD_FIX)
            if dtype == np.float32:
                got = expect_array(got, expected, what, rows, **tol)
            else:
                try:
                    got = _expect_gradient(got, expected, what, n, DENSE_N, BACKWARD_FIX, rows)
                except Problem as problem:
                    named = extra(np.asarray(got)) if extra is not None and \
                        " is wrong: at index " in problem.says else None
                    raise (named or problem) from None
            _same_dtype(np.asarray(got), dtype, what, BACKWARD_FIX)

    # gradient check in float64: L = Σ conv(x, W, b) ⊙ r, so dL/d(output) = r
    x = rng.standard_normal((2, 2, 4, 5))
    weights = rng.standard_normal((3, 2, 3, 2))
    biases = rng.standard_normal(3)
    r = rng.standard_normal((2, 3, 2, 4))
    dx, dw, db = _dense_returned(_call_solved(conv2d_backward, x, weights, r, fix=BACKWARD_FIX),
                                 [x.shape, weights.shape, biases.shape])

    def loss():
        return np.sum(_conv(x, weights, biases) * r)

    _gradcheck(dw, loss, weights, "dweights", BACKWARD_FIX)
    _gradcheck(db, loss, biases, "dbiases", BACKWARD_FIX)
    _gradcheck(dx, loss, x, "dx", BACKWARD_FIX)
    return ("dweights and dbiases add up over the batch and the pixels, dx adds the shares of "
            "overlapping windows; all three match the numerical gradients")


# --- max pooling ----------------------------------------------------------------------------------
def _pool_forward_mistakes(x, size):
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    crop = x[:, :, :h_out * size, :w_out * size]
    ceil_h, ceil_w = -(-h // size), -(-w // size)
    padded = np.full((n, c, ceil_h * size, ceil_w * size), -np.inf)
    padded[:, :, :h, :w] = x
    square = ("A window is size × size NEIGHBOURING pixels: split the height into (H_out, size) "
              "and the width into (W_out, size), then take the largest over the two window axes.")
    mistakes = [
        Mistake(_pool(x, size, np.mean), "you took the MEAN of each window (average pooling); "
                "max pooling keeps its largest entry", POOL_HINT,
                "return windows.max(axis=(3, 5))"),
        Mistake(crop.reshape(n, c, h_out, w_out, size, size).max(axis=(4, 5)), "your windows "
                f"are not {size}×{size} squares of neighbouring pixels: splitting the image "
                "straight into (H_out, W_out, size, size) groups pixels that lie far apart",
                square, POOL_FIX),
        Mistake(sliding_window_view(x, (size, size), axis=(2, 3)).max(axis=(4, 5)), "your "
                f"windows overlap, one at every pixel (stride 1); pooling windows lie side by "
                f"side, so the output is {size} times smaller each way", POOL_HINT, POOL_FIX),
        Mistake(_pool(padded, size), "you kept the partial windows at the bottom or right "
                "edge; the rows and columns that do not fill a whole window are dropped (as "
                "in nnlib and PyTorch)", POOL_HINT, POOL_FIX),
    ]
    return mistakes


@check("maxpool_forward", hint=POOL_HINT, fix=POOL_FIX)
def check_maxpool_forward(maxpool_forward):
    rng = rng_for_checks()
    cases = [((2, 3, 4, 6), 2, np.float64, "maxpool_forward of 4×6 images, 2×2 windows"),
             ((1, 2, 6, 6), 3, np.float64, "maxpool_forward with 3×3 windows"),
             ((2, 1, 7, 5), 2, np.float64, "maxpool_forward of 7×5 images, 2×2 windows"),
             ((2, 2, 4, 4), 2, np.float32, "maxpool_forward of float32 images")]
    for shape, size, dtype, what in cases:
        x = rng.standard_normal(shape).astype(dtype)
        try:
            out = _call_solved(maxpool_forward, x, size, fix=POOL_FIX)
        except ValueError as err:
            if shape[2] % size == 0 and shape[3] % size == 0:
                raise
            raise Problem(f"your function fails on {shape[2]}×{shape[3]} images with "
                          f"{size}×{size} windows ({err}): the image size need not be a "
                          "multiple of the window; the rows and columns left over at the "
                          "bottom and right are dropped", POOL_HINT, POOL_FIX) from None
        _expect(out, _pool(x, size), what, POOL_FIX, _pool_forward_mistakes(x, size))
        _same_dtype(np.asarray(out), dtype, what, POOL_FIX)
    return "the largest entry of each window, windows side by side, leftover edges dropped"


def _pool_backward_mistakes(x, dout, size):
    n, c, h, w = x.shape
    h_out, w_out = h // size, w // size
    winner = ("Where the forward pass kept one entry of a window, the backward pass sends the "
              "window's gradient to that entry only.")
    fix = "wins = (entry == largest) & ~found   # the first winner only\nfound |= wins"
    return [
        Mistake(_pool_grad(x, dout, size, "all"), "every entry of a window got the window's "
                "gradient; only the largest one reached the output, so only it moves the loss",
                winner, POOL_BACKWARD_FIX),
        Mistake(_pool_grad(x, dout, size, "mean"), "each window's gradient was shared out "
                "equally among its entries: that is the backward of average pooling; in max "
                "pooling it all goes to the largest entry", winner, POOL_BACKWARD_FIX),
        Mistake(_pool_grad(x, dout, size, "ties"), "where a window has several equal largest "
                "entries, each got the full gradient, so that window passes back more gradient "
                "than it received; only the first of them (in row order) is the winner, as in "
                "nnlib and PyTorch", POOL_BACKWARD_HINT, fix),
        Mistake(_pool_grad(x, dout, size, "last"), "of equal largest entries, your gradient went "
                "to the LAST one; the rule (nnlib's and PyTorch's) is the first one in row "
                "order", POOL_BACKWARD_HINT, fix),
        Mistake(_pool_grad(x, dout, size, "transposed"), "the gradient reached the wrong entry "
                "of its window: the winner's position was read column by column instead of row "
                "by row", "Offset k of a window, counted row by row, is row k // size and "
                "column k % size.", POOL_BACKWARD_FIX),
        Mistake(_pool_grad(x, dout, size, "mask"), "you returned where the winners are (1 at "
                "each winner, 0 elsewhere): that is the local slope, which still has to "
                "multiply the incoming gradient", "Chain rule: gradient from above times the "
                "local slope.", POOL_BACKWARD_FIX),
        Mistake(_pool_grad(x, dout, size)[:, :, :h_out * size, :w_out * size], f"dx has shape "
                f"{(n, c, h_out * size, w_out * size)}, but x is {(n, c, h, w)}: the rows and "
                "columns that no window covers are part of the input too, and their gradient "
                "is 0", "A gradient has the shape of what it is the gradient of.",
                POOL_BACKWARD_FIX),
    ]


def _pool_backward_inputs(rng):
    """Inputs with ties: small integers (several equal largest entries in a window) and
    ReLU outputs (whole windows of zeros)."""
    ints = rng.integers(0, 3, (2, 2, 4, 6)).astype(np.float64)
    relu = np.maximum(rng.standard_normal((2, 1, 6, 6)), 0)
    relu[0, 0, :3, :3] = 0.0
    odd = rng.integers(0, 4, (1, 2, 7, 5)).astype(np.float64)
    return [(ints, 2, np.float64, "maxpool_backward where windows hold equal largest entries"),
            (relu, 3, np.float64, "maxpool_backward of ReLU outputs, 3×3 windows"),
            (odd, 2, np.float64, "maxpool_backward of 7×5 images"),
            (rng.integers(0, 3, (2, 2, 4, 4)).astype(np.float32), 2, np.float32,
             "maxpool_backward in float32")]


@check("maxpool_backward", hint=POOL_BACKWARD_HINT, fix=POOL_BACKWARD_FIX)
def check_maxpool_backward(maxpool_backward):
    rng = rng_for_checks()
    for x, size, dtype, what in _pool_backward_inputs(rng):
        n, c, h, w = x.shape
        dout = rng.standard_normal((n, c, h // size, w // size)).astype(dtype)
        try:
            out = _call_solved(maxpool_backward, x, dout, size, fix=POOL_BACKWARD_FIX)
        except ValueError as err:
            if h % size == 0 and w % size == 0:
                raise
            raise Problem(f"your function fails on {h}×{w} images with {size}×{size} windows "
                          f"({err}): the rows and columns left over at the bottom and right "
                          "belong to no window, so their gradient is 0", POOL_BACKWARD_HINT,
                          POOL_BACKWARD_FIX) from None
        x64, d64 = x.astype(np.float64), dout.astype(np.float64)
        _expect(out, _pool_grad(x64, d64, size), what, POOL_BACKWARD_FIX,
                _pool_backward_mistakes(x64, d64, size))
        _same_dtype(np.asarray(out), dtype, what, POOL_BACKWARD_FIX)

    # gradient check in float64, on entries at least 0.01 apart: no nudge of 1e-5 changes a winner
    x = rng.permutation(2 * 2 * 4 * 6).reshape(2, 2, 4, 6) / 100.0
    r = rng.standard_normal((2, 2, 2, 3))
    dx = _need_array(_call_solved(maxpool_backward, x, r, 2, fix=POOL_BACKWARD_FIX), "dx",
                     POOL_BACKWARD_FIX)
    if dx is None or np.shape(dx) != x.shape:
        raise Problem(f"dx has shape {np.shape(dx)}, expected {x.shape}",
                      "A gradient has the shape of what it is the gradient of.", POOL_BACKWARD_FIX)
    _gradcheck(dx, lambda: np.sum(_pool(x, 2) * r), x, "maxpool_backward", POOL_BACKWARD_FIX)
    return "each window's gradient goes to its largest entry, the first of equal ones"
