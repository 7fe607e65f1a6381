"""Checks for chapter 01 (mnist): ``preprocess``, ``one_hot`` and ``train_val_split``."""

import numpy as np

from .. import data
from ._core import Mistake, Problem, call, check, expect_array, rng_for_checks


def _images(rng, n, high=256):
    """Random uint8 'images' (n, 28, 28) that contain both 0 and the brightest value."""
    x = rng.integers(0, high, size=(n, 28, 28), dtype=np.uint8)
    x[0, 0, 0], x[-1, -1, -1] = 0, high - 1
    return x


def _returned_none(fix_line):
    return Problem("it returned None: the function computes its result but ends without "
                   "returning it", "A Python function without a return statement gives None to "
                   "its caller, however much it computed.", fix_line)


# ---------------------------------------------------------------- preprocess

PREPROCESS_FIX = ('def preprocess(images):\n    """uint8 images (N, 28, 28) in 0..255 -> float32 '
                  'rows (N, 784) in [0, 1]."""\n    images = np.asarray(images)\n'
                  '    return images.reshape(len(images), -1).astype(np.float32) / 255')
PREPROCESS_LINE = "return images.reshape(len(images), -1).astype(np.float32) / 255"
ONE_ROW_PER_IMAGE = ("Keep the first axis, one entry per image, and let the 28 × 28 pixels of "
                     "each image become one axis of 784.")
FLATTEN_LINE = "images.reshape(len(images), -1)   # (N, 28, 28) -> (N, 784), one row per image"


def _preprocess_mistakes(images):
    n = len(images)
    flat = images.reshape(n, -1).astype(np.float64)
    return [
        Mistake(flat, "the values still go up to 255: the pixels were never scaled to [0, 1]",
                "Which number turns the brightest uint8 pixel into exactly 1?", PREPROCESS_LINE),
        Mistake(flat / 256, "you divided by 256; the brightest uint8 value is 255, so white "
                "comes out a little below 1", "uint8 has 256 values, from 0 to 255.",
                PREPROCESS_LINE + "   # 255, not 256"),
        Mistake(flat / images.max(), "you divided by the brightest pixel of this batch, so "
                "each batch is scaled differently; every batch must be scaled the same way",
                "A batch without pure white would be stretched until its brightest pixel is 1.",
                PREPROCESS_LINE + "   # the fixed 255"),
        Mistake(flat // 255, "you used integer division (or converted to an integer type), so "
                "almost every pixel became 0", "An integer type cannot hold 0.5: convert to "
                "floats before you divide.", PREPROCESS_LINE + "   # convert, then divide"),
        Mistake((flat - flat.mean()) / flat.std(), "you standardised the pixels (mean 0, std 1); "
                "this exercise only scales them to [0, 1]", "Scaling here is one division by a "
                "fixed number, nothing subtracted.", PREPROCESS_LINE),
        Mistake(1 - flat / 255, "you inverted the image: the background came out as 1 and the "
                "ink as 0; the background must stay 0", "Dividing by 255 keeps 0 at 0 and turns "
                "255 into 1.", PREPROCESS_LINE),
    ]


def _check_preprocess_shape(out, n):
    shape = np.shape(out)
    if shape == (n, 784):
        return
    if shape == (n, 28, 28):
        raise Problem(f"the result still has shape {shape}: each image must become one row of "
                      "784 pixels", ONE_ROW_PER_IMAGE, FLATTEN_LINE)
    if shape == (784, n):
        raise Problem(f"the result has shape {shape}, one image per COLUMN; nnlib wants one "
                      "image per ROW, shape (N, 784)", "Reshaping to (784, N) does not turn the "
                      "images into columns either: it cuts the pixels at the wrong places. "
                      "Keep N first.", FLATTEN_LINE)
    if shape == (n * 784,):
        raise Problem("you flattened the whole batch into one long vector; each image must keep "
                      "a row of its own, shape (N, 784)", ONE_ROW_PER_IMAGE, FLATTEN_LINE)
    raise Problem(f"for {n} images of 28 x 28 the result has shape {shape}, expected ({n}, 784)",
                  ONE_ROW_PER_IMAGE, FLATTEN_LINE)


@check("preprocess", hint="Three steps: one row of 784 pixels per image, float32, and a "
       "division by the fixed 255 so that every pixel lies in [0, 1].", fix=PREPROCESS_FIX)
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
            raise _returned_none(PREPROCESS_LINE)
        if not isinstance(out, np.ndarray):
            raise Problem(f"it returned a value of type {type(out).__name__}, not a NumPy array, "
                          "so the layers cannot compute with it", "NumPy operations on an array "
                          "give arrays; a list of rows is something else.", PREPROCESS_LINE)
        _check_preprocess_shape(out, len(images))
        if out.dtype == np.float16:
            raise Problem("the dtype is float16, which keeps only about 3 significant digits; "
                          "the network computes in float32", "float32 keeps about 7 significant "
                          "digits, at half the memory of float64.", PREPROCESS_LINE)
        expected = data.preprocess(images)
        expect_array(out.astype(np.float64), expected, f"preprocess of {what}",
                     mistakes=_preprocess_mistakes(images))
        if out.dtype == np.float64:
            raise Problem("the values are right but the dtype is float64: twice the memory of "
                          "float32, which is what nnlib's layers use", "Dividing integers by 255 "
                          "gives float64; convert to float32 first and the division keeps it.",
                          PREPROCESS_LINE)
        if out.dtype != np.float32:
            raise Problem(f"the values are right but the dtype is {out.dtype}; the network needs "
                          "float32", "Convert the pixels to float32 before you divide.",
                          PREPROCESS_LINE)
    return "float32, shape (N, 784), values in [0, 1]"


# ---------------------------------------------------------------- one_hot

ONE_HOT_FIX = ('def one_hot(labels, n_classes=10):\n    """Class ids (N,) -> float32 one-hot rows '
               '(N, n_classes)."""\n    labels = np.asarray(labels)\n'
               '    out = np.zeros((len(labels), n_classes), dtype=np.float32)\n'
               '    out[np.arange(len(labels)), labels] = 1\n    return out')
ONE_ENTRY_PER_ROW = ("Row i is all zeros except a single 1 in the column of the i-th label: pair "
                     "each row number with its own label, two index arrays of the same length.")
SET_ONES = "out[np.arange(len(labels)), labels] = 1   # one (row, column) pair per label"
N_COLUMNS = "The number of columns is n_classes, whatever labels this batch happens to hold."
ZEROS = "out = np.zeros((len(labels), n_classes), dtype=np.float32)"


def _one_hot_mistakes(labels, n_classes):
    labels = labels.astype(np.int64)
    n = len(labels)
    right = data.one_hot(labels, n_classes, dtype=np.float64)
    every_column = np.zeros((n, n_classes))
    every_column[:, labels] = 1
    whole_rows = np.zeros((n, n_classes))
    whole_rows[labels[labels < n]] = 1
    mistakes = [
        Mistake(right.T, f"the result is transposed, shape ({n_classes}, N); there is one ROW "
                f"per label, shape (N, {n_classes})", "Rows are examples, columns are classes.",
                ZEROS),
        Mistake(every_column, "every row has a 1 in the column of EVERY label: indexing the "
                "columns with all the labels at once sets whole columns", ONE_ENTRY_PER_ROW,
                SET_ONES),
        Mistake(np.eye(n_classes, n_classes + 1)[labels],
                f"you made {n_classes + 1} columns; there are n_classes = {n_classes} classes, "
                f"ids 0..{n_classes - 1}", "Class ids start at 0, so the last id is one less "
                "than the number of classes.", ZEROS),
        Mistake(np.eye(max(labels.max() + 1, 1))[labels],
                f"you made {labels.max() + 1} columns, one more than the largest label in this "
                "batch; a batch need not contain the largest class", N_COLUMNS, ZEROS),
        Mistake(1 - right, "zeros and ones are swapped: the label's column gets 1, all others 0",
                "Start from zeros and set the ones.", ONE_HOT_FIX),
    ]
    if n_classes != 10:
        mistakes.insert(0, Mistake(np.eye(10)[labels], f"you made 10 columns although "
                                   f"n_classes = {n_classes}: the number of columns is fixed "
                                   "instead of coming from the argument", N_COLUMNS, ZEROS))
    # labels - 1 turns class 0 into -1, which NumPy's indexing wraps to the last column
    mistakes.append(Mistake(np.eye(n_classes)[(labels - 1) % n_classes],
                            "every 1 sits one column too far left: class k belongs in column k, "
                            "since ids already start at 0", "Class 0 goes in column 0.",
                            SET_ONES))
    if labels.max() + 1 < n_classes:
        mistakes.append(Mistake(np.eye(n_classes)[labels + 1],
                                "every 1 sits one column too far right: class k belongs in "
                                "column k, since ids already start at 0",
                                "Class 0 goes in column 0.", SET_ONES))
    if labels.max() < n:
        mistakes.append(Mistake(whole_rows, "indexing with the labels alone fills whole ROWS "
                                "chosen by the label values; each row needs exactly one entry "
                                "set", ONE_ENTRY_PER_ROW, SET_ONES))
    return mistakes


@check("one_hot", hint="Yᵢₖ = 1 when k is the label of example i, else 0: an (N, n_classes) "
       "float32 matrix of zeros with one 1 per row.", fix=ONE_HOT_FIX)
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
            raise _returned_none("return out")
        expected = data.one_hot(labels, k)
        expect_array(np.asarray(out, dtype=np.float64), expected, f"one_hot of {what}",
                     mistakes=_one_hot_mistakes(labels, k))
        if np.asarray(out).dtype != np.float32:
            raise Problem(f"the ones and zeros are right but the dtype is "
                          f"{np.asarray(out).dtype}; the labels must be float32, like the images",
                          "The array you start from decides the dtype; choose it when you make "
                          "the zeros.", ZEROS)
    return "one 1 per row, in the label's column, float32"


# ---------------------------------------------------------------- train_val_split

SPLIT_FIX = ('def train_val_split(x, y, val_size=10_000, *, rng=None):\n'
             '    """Shuffle once with rng and hold out val_size examples:\n'
             '    returns (x_train, y_train), (x_val, y_val).\n    """\n'
             '    order = np.random.default_rng(rng).permutation(len(x))\n'
             '    val, train = order[:val_size], order[val_size:]\n'
             '    return (x[train], y[train]), (x[val], y[val])')
ONE_PERMUTATION = ("One permutation of 0..N−1: its first val_size entries pick the validation "
                   "examples, the rest the training examples, for x and y alike.")
PERMUTATION_FROM_RNG = "order = np.random.default_rng(rng).permutation(len(x))"
SPLIT_RETURN = "return (x[train], y[train]), (x[val], y[val])"


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
        raise Problem("it shuffled x or y in place, so the caller's arrays were reordered behind "
                      "their back", "Shuffling rearranges the array you were given; indexing "
                      "with a permutation makes new arrays.",
                      PERMUTATION_FROM_RNG + "\n" + SPLIT_RETURN + "   # new arrays")
    if out is None:
        raise _returned_none(SPLIT_RETURN)
    try:
        (x_train, y_train), (x_val, y_val) = out
    except (TypeError, ValueError):
        raise Problem("it did not return two pairs, the training pair and then the validation "
                      "pair", "The caller unpacks the result as (x_train, y_train), "
                      "(x_val, y_val).", SPLIT_RETURN) from None
    if np.ndim(y_train) == np.ndim(x) and np.ndim(x_val) == np.ndim(y):
        raise Problem("you grouped the result by array (both parts of x, then both parts of y); "
                      "group by set instead: the training pair first, then the validation pair",
                      "The caller unpacks the result as (x_train, y_train), (x_val, y_val).",
                      SPLIT_RETURN)
    return [np.asarray(a) for a in (x_train, y_train, x_val, y_val)]


def _check_split(parts, x, y, val_size):
    x_train, y_train, x_val, y_val = parts
    n, d = x.shape
    if len(x_val) == n - val_size and len(x_train) == val_size and val_size != n - val_size:
        raise Problem(f"the validation set has {n - val_size} examples and the training set "
                      f"{val_size}: they are swapped; the validation set gets val_size examples",
                      ONE_PERMUTATION, SPLIT_FIX)
    if len(x_val) != val_size or len(y_val) != val_size:
        raise Problem(f"with {n} examples and a val_size of {val_size} the validation set has "
                      f"{len(x_val)} inputs and {len(y_val)} labels; expected {val_size} of each",
                      ONE_PERMUTATION, SPLIT_FIX)
    for name, part in (("x_train", x_train), ("x_val", x_val)):
        if part.shape[1:] != (d,):
            raise Problem(f"{name} has shape {part.shape}; its rows should be whole rows of x, "
                          f"shape (n, {d})", "Index the first axis only: each chosen example "
                          "keeps all its features.", SPLIT_FIX)
    changed = Problem("the rows of x came back changed or mixed up; each example must be a "
                      "whole, unchanged row of x", "Index the first axis only: each chosen "
                      "example keeps all its features, in their order.", SPLIT_FIX)
    idx_train, idx_val = x_train[:, 0], x_val[:, 0]
    for idx in (idx_train, idx_val):
        if not np.all((idx == np.round(idx)) & (idx >= 0) & (idx < n)):
            raise changed
    idx_train, idx_val = idx_train.astype(int), idx_val.astype(int)
    if not (np.array_equal(x_train, x[idx_train]) and np.array_equal(x_val, x[idx_val])):
        raise changed
    if np.intersect1d(idx_train, idx_val).size:
        raise Problem("some examples are in BOTH the training and the validation set, so the "
                      "validation score would reward memorising them", "Cut one permutation "
                      "into two parts that do not overlap.", SPLIT_FIX)
    if len(x_train) != n - val_size or len(y_train) != n - val_size:
        raise Problem(f"with {n} examples and a val_size of {val_size} the training set has "
                      f"{len(x_train)} inputs and {len(y_train)} labels; expected "
                      f"{n - val_size} of each (everything not in the validation set)",
                      ONE_PERMUTATION, SPLIT_FIX)
    if np.unique(idx_train).size != len(idx_train):
        raise Problem("some examples are in the training set twice and others are missing; "
                      "together the two sets must hold every example exactly once",
                      "A permutation holds every index exactly once; random draws with "
                      "replacement do not.", SPLIT_FIX)
    if not (np.array_equal(y_train, y[idx_train]) and np.array_equal(y_val, y[idx_val])):
        raise Problem("the labels no longer belong to their images: x and y were reordered "
                      "differently", "Draw ONE permutation and use it for x and for y.",
                      SPLIT_RETURN + "   # the same indices for x and y")
    if val_size >= 3 and np.array_equal(np.sort(idx_val),
                                        np.arange(idx_val.min(), idx_val.min() + val_size)):
        raise Problem("the validation set is one unbroken block of the original order, so the "
                      "data was not shuffled", "A file is often stored in some order; a random "
                      "permutation makes the validation set a fair sample.", SPLIT_FIX)
    return np.concatenate([idx_train, idx_val])


@check("train_val_split", hint=ONE_PERMUTATION + " Draw it from the rng argument, so the same "
       "seed gives the same split.", fix=SPLIT_FIX)
def check_train_val_split(train_val_split):
    """Check ``train_val_split(x, y, val_size, rng=rng)``: shuffled, disjoint, labels kept."""
    rng = rng_for_checks()
    for n, d, val_size in [(40, 3, 10), (25, 2, 1), (30, 4, 15)]:
        x, y = _split_case(rng, n, d)
        order = _check_split(_run_split(train_val_split, x, y, val_size, seed=1), x, y, val_size)
        again = _check_split(_run_split(train_val_split, x, y, val_size, seed=1), x, y, val_size)
        if not np.array_equal(order, again):
            raise Problem("two calls with the same rng seed gave different splits: the "
                          "permutation does not come from the rng argument",
                          "The global random functions of NumPy ignore the generator your "
                          "function was handed.", PERMUTATION_FROM_RNG)
        other = _check_split(_run_split(train_val_split, x, y, val_size, seed=2), x, y, val_size)
        if np.array_equal(order, other):
            raise Problem("different rng seeds gave the same split: the permutation comes from a "
                          "generator of your own, not from the rng argument",
                          "A generator made inside the function with a fixed seed gives the same "
                          "numbers on every call.", PERMUTATION_FROM_RNG)
    return "disjoint, random, labels stay with their inputs, reproducible with rng"
