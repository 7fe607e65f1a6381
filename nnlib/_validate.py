"""Input checks shared by nnlib's modules: each failure is one line that says what was expected."""

import numbers

import numpy as np


def shape_text(shape):
    """An example's shape as text, (1, 28, 28); an unknown size shows as its letter (C, H, W)."""
    letters = {1: "D", 3: "CHW"}.get(len(shape), "?" * len(shape))
    sizes = [letter if size is None else str(size) for size, letter in zip(shape, letters)]
    return f"({', '.join(sizes)}{',' if len(shape) == 1 else ''})"


def as_2d(x, who):
    """Return ``x`` as an ndarray of shape (batch, features), or raise a one-line error."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{who} expected a 2-D array (batch, features), got shape {x.shape}")
    return x


def positive(value, name, *, integer=False):
    """Return ``value`` if it is a positive (integer) number, else raise ValueError."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def pair(value, name):
    """(a, b) from a positive integer a = b or a pair of them (a kernel's height and width)."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(positive(v, name, integer=True) for v in value)
    if isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a positive integer or a pair of them, got {value!r}")
    size = positive(value, name, integer=True)
    return size, size


def fraction(value, name):
    """Return ``value`` if it is a number in [0, 1) (a momentum, a beta, a dropout rate)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return value


def non_negative(value, name):
    """Return ``value`` if it is a number ≥ 0, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")
    return value


def floating_dtype(dtype, name):
    """``np.dtype(dtype)`` if it is a floating-point type (float16/32/64), else ValueError."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f":
        raise ValueError(f"{name} must be a floating-point type such as float32 or float64, "
                         f"got {dtype!r}")
    return result


def class_ids(y_true, n_classes, who):
    """Integer class ids (N,) from integer labels (N,) or one-hot rows (N, n_classes)."""
    y = np.asarray(y_true)
    if y.dtype.kind not in "iuf":
        example = f" like {y.flat[0].item()!r}" if y.size and y.dtype.kind != "O" else ""
        raise ValueError(f"{who} expected integer class ids 0..{n_classes - 1} or one-hot rows, "
                         f"got {y.dtype} values{example}")
    if y.ndim == 2:
        if y.shape[1] != n_classes:
            raise ValueError(f"{who} got one-hot labels with {y.shape[1]} columns, "
                             f"expected {n_classes} (one per class)")
        sums = y.sum(axis=1)
        bad = ~(np.abs(sums - 1) < 1e-3) | (y.min(axis=1, initial=0) < 0)
        if bad.any():
            row = np.flatnonzero(bad)[0]
            raise ValueError(f"{who}: one-hot row {row} sums to {sums[row]:g}, expected 1 "
                             "(a single 1 per row, or probabilities that sum to 1)")
        return y.argmax(axis=1)
    if y.ndim != 1:
        raise ValueError(f"{who} expected labels of shape (N,) or one-hot (N, {n_classes}), "
                         f"got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(y == np.round(y)):
            raise ValueError(f"{who} expected integer class ids, got {y.dtype} values like {y[0]!r}")
        y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{who} got labels from {y.min()} to {y.max()}, "
                         f"expected class ids 0..{n_classes - 1}")
    return y


def same_batch(a, b, who):
    if len(a) != len(b):
        raise ValueError(f"{who} got {len(a)} predictions but {len(b)} labels")
