"""Checks for chapter 01 (mnist): ``preprocess``, ``one_hot`` and ``train_val_split``."""

import numpy as np

from .. import data
from ._core import Problem, call, check, expect_array, rng_for_checks


def _images(rng, n, high=256):
    """Random uint8 'images' (n, 28, 28) that contain both 0 and the brightest value."""
    x = rng.integers(0, high, size=(n, 28, 28), dtype=np.uint8)
    x[0, 0, 0], x[-1, -1, -1] = 0, high - 1
    return x


# ---------------------------------------------------------------- preprocess

def _preprocess_mistakes(images):
    n = len(images)
    flat = images.reshape(n, -1).astype(np.float64)
    return [
        (flat, "the values still go up to 255: divide by 255 so every pixel is in [0, 1]"),
        (flat / 256, "you divided by 256; the brightest uint8 value is 255, so divide by 255 "
                     "(then white is exactly 1.0)"),
        (flat / images.max(), "you divided by the brightest pixel of this batch; divide by the "
                              "fixed 255 so that every batch is scaled the same way"),
        (flat // 255, "you used integer division (or converted to an integer type), so almost "
                      "every pixel became 0: convert to float32 first, then divide by 255"),
        ((flat - flat.mean()) / flat.std(), "you standardised the pixels (mean 0, std 1); this "
                                            "exercise only scales them to [0, 1]: divide by 255"),
        (1 - flat / 255, "you inverted the image (1 - x / 255); keep 0 for the background: "
                         "x / 255"),
    ]


def _check_preprocess_shape(out, n):
    shape = np.shape(out)
    if shape == (n, 784):
        return
    if shape == (n, 28, 28):
        raise Problem(f"the result still has shape {shape}: flatten each image into one row of "
                      f"784 pixels with images.reshape(len(images), -1)")
    if shape == (784, n):
        raise Problem(f"the result has shape {shape}, one image per COLUMN; nnlib wants one image "
                      "per ROW, shape (N, 784): images.reshape(len(images), -1)")
    if shape == (n * 784,):
        raise Problem("you flattened the whole batch into one long vector; keep one row per "
                      "image, shape (N, 784): images.reshape(len(images), -1)")
    raise Problem(f"for {n} images of 28 x 28 the result has shape {shape}, expected ({n}, 784)")


@check("preprocess")
def check_preprocess(preprocess):
    """Check ``preprocess(images)``: uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    rng = rng_for_checks()
    cases = [
        ("5 images", _images(rng, 5)),
        ("a batch of one image", _images(rng, 1)),
        ("3 dim images (brightest pixel 200)", _images(rng, 3, high=201)),
    ]
    for what, images in cases:
        out = call(preprocess, images)
        if out is None:
            raise Problem("it returned None: did you forget `return`?")
        if not isinstance(out, np.ndarray):
            raise Problem(f"it returned a {type(out).__name__}; return a NumPy array")
        _check_preprocess_shape(out, len(images))
        if out.dtype == np.float16:
            raise Problem("the dtype is float16, which keeps only about 3 significant digits; "
                          "use float32: images.astype(np.float32) / 255")
        expected = data.preprocess(images)
        expect_array(out.astype(np.float64), expected, f"preprocess of {what}",
                     mistakes=_preprocess_mistakes(images))
        if out.dtype == np.float64:
            raise Problem("the values are right but the dtype is float64; use float32 "
                          "(images.astype(np.float32) / 255): half the memory, and what nnlib's "
                          "layers use")
        if out.dtype != np.float32:
            raise Problem(f"the values are right but the dtype is {out.dtype}; the network needs "
                          "float32: images.astype(np.float32) / 255")
    return "float32, shape (N, 784), values in [0, 1]"


# ---------------------------------------------------------------- one_hot

def _one_hot_mistakes(labels, n_classes):
    labels = labels.astype(np.int64)
    n = len(labels)
    right = data.one_hot(labels, n_classes, dtype=np.float64)
    every_column = np.zeros((n, n_classes))
    every_column[:, labels] = 1
    whole_rows = np.zeros((n, n_classes))
    whole_rows[labels[labels < n]] = 1
    mistakes = [
        (right.T, f"the result is transposed, shape ({n_classes}, N); one row per label: "
                  f"shape (N, {n_classes})"),
        (every_column, "every row has a 1 in the column of EVERY label: `out[:, labels] = 1` "
                       "sets whole columns; set one entry per row with "
                       "out[np.arange(len(labels)), labels] = 1"),
        (np.eye(n_classes, n_classes + 1)[labels],
         f"you made {n_classes + 1} columns; there are n_classes = {n_classes} classes, "
         f"ids 0..{n_classes - 1}"),
        (np.eye(max(labels.max() + 1, 1))[labels],
         f"you made labels.max() + 1 = {labels.max() + 1} columns; use n_classes columns: "
         "a batch need not contain the largest class"),
        (1 - right, "zeros and ones are swapped: the label's column gets 1, all others 0"),
    ]
    if n_classes != 10:
        mistakes.insert(0, (np.eye(10)[labels],
                            f"you made 10 columns although n_classes = {n_classes}: use the "
                            "n_classes argument instead of a fixed 10"))
    # labels - 1 turns class 0 into -1, which NumPy's indexing wraps to the last column
    mistakes.append((np.eye(n_classes)[(labels - 1) % n_classes],
                     "every 1 sits one column too far left: class k goes in column k "
                     "(no -1; ids already start at 0)"))
    if labels.max() + 1 < n_classes:
        mistakes.append((np.eye(n_classes)[labels + 1],
                         "every 1 sits one column too far right: class k goes in column k "
                         "(no +1; ids already start at 0)"))
    if labels.max() < n:
        mistakes.append((whole_rows, "`out[labels] = 1` fills whole ROWS chosen by the labels; "
                                     "set one entry per row with "
                                     "out[np.arange(len(labels)), labels] = 1"))
    return mistakes


@check("one_hot")
def check_one_hot(one_hot):
    """Check ``one_hot(labels, n_classes=10)``: class ids (N,) -> float32 (N, n_classes)."""
    cases = [
        ("labels 0..2 with n_classes=3", np.array([2, 0, 1, 1, 0]), 3),
        ("the first 8 MNIST labels (uint8)", np.array([5, 0, 4, 1, 9, 2, 1, 3], np.uint8), None),
        ("labels whose largest is 6, n_classes=10", np.array([6, 1, 0, 3, 3, 1, 6, 2]), 10),
        ("a batch of one label", np.array([9]), None),
    ]
    for what, labels, n_classes in cases:
        k = 10 if n_classes is None else n_classes
        out = call(one_hot, labels) if n_classes is None else call(one_hot, labels, n_classes)
        if out is None:
            raise Problem("it returned None: did you forget `return`?")
        expected = data.one_hot(labels, k)
        expect_array(np.asarray(out, dtype=np.float64), expected, f"one_hot of {what}",
                     mistakes=_one_hot_mistakes(labels, k))
        if np.asarray(out).dtype != np.float32:
            raise Problem(f"the ones and zeros are right but the dtype is {np.asarray(out).dtype}; "
                          "make it float32 like the images: np.zeros(..., dtype=np.float32) or "
                          "np.eye(n_classes, dtype=np.float32)")
    return "one 1 per row, in the label's column, float32"


# ---------------------------------------------------------------- train_val_split

def _split_case(rng, n, d):
    """Rows that carry their own index (x[i, 0] == i) and labels that are NOT in index order."""
    x = np.arange(n * d, dtype=np.float64).reshape(n, d)
    x[:, 0] = np.arange(n)
    y = rng.integers(0, 10, size=n)
    return x, y


def _run_split(train_val_split, x, y, val_size, seed):
    """Call the student's split on copies; fail if it changed x or y in place."""
    x_copy, y_copy = x.copy(), y.copy()
    out = train_val_split(x_copy, y_copy, val_size, rng=np.random.default_rng(seed))
    if not np.array_equal(x, x_copy) or not np.array_equal(y, y_copy):
        raise Problem("it shuffled x or y in place (rng.shuffle changes the caller's arrays); "
                      "draw idx = rng.permutation(len(x)) and index: x[idx], y[idx]")
    if out is None:
        raise Problem("it returned None: did you forget `return`?")
    try:
        (x_train, y_train), (x_val, y_val) = out
    except (TypeError, ValueError):
        raise Problem("return two pairs: (x_train, y_train), (x_val, y_val)") from None
    if np.ndim(y_train) == np.ndim(x) and np.ndim(x_val) == np.ndim(y):
        raise Problem("you returned (x_train, x_val), (y_train, y_val); group by set instead: "
                      "return (x_train, y_train), (x_val, y_val)")
    return [np.asarray(a) for a in (x_train, y_train, x_val, y_val)]


def _check_split(parts, x, y, val_size):
    x_train, y_train, x_val, y_val = parts
    n, d = x.shape
    if len(x_val) == n - val_size and len(x_train) == val_size and val_size != n - val_size:
        raise Problem(f"the validation set has {n - val_size} examples and the training set "
                      f"{val_size}: they are swapped; the validation set gets val_size examples")
    if len(x_val) != val_size or len(y_val) != val_size:
        raise Problem(f"with {n} examples and val_size={val_size} the validation set has "
                      f"{len(x_val)} inputs and {len(y_val)} labels; expected {val_size} of each")
    for name, part in (("x_train", x_train), ("x_val", x_val)):
        if part.shape[1:] != (d,):
            raise Problem(f"{name} has shape {part.shape}; its rows should be whole rows of x, "
                          f"shape (n, {d})")
    idx_train, idx_val = x_train[:, 0], x_val[:, 0]
    for idx in (idx_train, idx_val):
        if not np.all((idx == np.round(idx)) & (idx >= 0) & (idx < n)):
            raise Problem("the rows of x came back changed or mixed up; take whole rows: x[idx]")
    idx_train, idx_val = idx_train.astype(int), idx_val.astype(int)
    if not (np.array_equal(x_train, x[idx_train]) and np.array_equal(x_val, x[idx_val])):
        raise Problem("the rows of x came back changed or mixed up; take whole rows: x[idx]")
    if np.intersect1d(idx_train, idx_val).size:
        raise Problem("some examples are in BOTH the training and the validation set; split one "
                      "permutation into two parts that do not overlap")
    if len(x_train) != n - val_size or len(y_train) != n - val_size:
        raise Problem(f"with {n} examples and val_size={val_size} the training set has "
                      f"{len(x_train)} inputs and {len(y_train)} labels; expected "
                      f"{n - val_size} of each (everything not in the validation set)")
    if np.unique(idx_train).size != len(idx_train):
        raise Problem("some examples are in the training set twice and others are missing; "
                      "together the two sets must hold every example exactly once")
    if not (np.array_equal(y_train, y[idx_train]) and np.array_equal(y_val, y[idx_val])):
        raise Problem("the labels no longer belong to their images: shuffle x and y with the "
                      "SAME permutation: idx = rng.permutation(len(x)), then x[idx] and y[idx]")
    if val_size >= 3 and np.array_equal(np.sort(idx_val),
                                         np.arange(idx_val.min(), idx_val.min() + val_size)):
        raise Problem("the validation set is one unbroken block of the original order, so the "
                      "data was not shuffled; shuffle with idx = rng.permutation(len(x)) "
                      "before splitting")
    return np.concatenate([idx_train, idx_val])


@check("train_val_split")
def check_train_val_split(train_val_split):
    """Check ``train_val_split(x, y, val_size, rng=rng)``: shuffled, disjoint, labels kept."""
    rng = rng_for_checks()
    for n, d, val_size in [(40, 3, 10), (25, 2, 1), (30, 4, 15)]:
        x, y = _split_case(rng, n, d)
        order = _check_split(_run_split(train_val_split, x, y, val_size, seed=1), x, y, val_size)
        again = _check_split(_run_split(train_val_split, x, y, val_size, seed=1), x, y, val_size)
        if not np.array_equal(order, again):
            raise Problem("two calls with the same rng seed gave different splits: draw the "
                          "permutation from the rng argument (rng.permutation), not from "
                          "np.random")
        other = _check_split(_run_split(train_val_split, x, y, val_size, seed=2), x, y, val_size)
        if np.array_equal(order, other):
            raise Problem("different rng seeds gave the same split: draw the permutation from "
                          "the rng argument instead of making your own generator")
    return "disjoint, random, labels stay with their inputs, reproducible with rng"
