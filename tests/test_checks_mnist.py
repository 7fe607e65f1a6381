"""The chapter 01 checks catch the typical mistakes in preprocess, one_hot and train_val_split."""

import numpy as np
import pytest

import nnlib
from nnlib.checks import check_one_hot, check_preprocess, check_train_val_split
from checkhelpers import assert_named, not_yet


@pytest.mark.parametrize("check", [check_preprocess, check_one_hot, check_train_val_split])
def test_unimplemented_exercise_is_pending(check):
    result = check(not_yet)
    assert not result.ok
    assert result.message.startswith("⏳")


# ---------------------------------------------------------------- preprocess

def test_nnlib_preprocess_passes():
    result = check_preprocess(nnlib.preprocess)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_preprocess_versions_pass():
    assert check_preprocess(lambda im: im.reshape(-1, 784).astype(np.float32) / 255).ok
    assert check_preprocess(lambda im: (im / 255).astype(np.float32).reshape(len(im), 784)).ok
    assert check_preprocess(lambda im: np.float32(1 / 255) * im.reshape(len(im), -1)).ok


def _in_place_preprocess(images):
    images[images > 250] = 250
    return images.reshape(len(images), -1).astype(np.float32) / 255


@pytest.mark.parametrize("wrong, named", [
    (lambda im: im.reshape(len(im), -1).astype(np.float32), "still go up to 255"),
    (lambda im: im.reshape(len(im), -1).astype(np.float32) / 256, "divided by 256"),
    (lambda im: im.reshape(len(im), -1).astype(np.float32) / im.max(), "brightest pixel"),
    (lambda im: im.reshape(len(im), -1) // 255, "integer division"),
    (lambda im: (im.reshape(len(im), -1) / 255).astype(np.uint8), "integer division"),
    (lambda im: im.reshape(len(im), -1) / 255, "float64"),
    (lambda im: (im.reshape(len(im), -1) / 255).astype(np.float16), "dtype is float16"),
    (lambda im: im.astype(np.float32) / 255, "still has shape"),
    (lambda im: im.reshape(len(im), -1).T.astype(np.float32) / 255, "one image per COLUMN"),
    (lambda im: im.reshape(784, -1).astype(np.float32) / 255, "one image per COLUMN"),
    (lambda im: im.ravel().astype(np.float32) / 255, "one long vector"),
    (lambda im: 1 - im.reshape(len(im), -1).astype(np.float32) / 255, "inverted"),
    (lambda im: (lambda f: (f - f.mean()) / f.std())(im.reshape(len(im), -1).astype(np.float64)),
     "standardised"),
    (lambda im: list(im.reshape(len(im), -1) / 255), "not a NumPy array"),
    (_in_place_preprocess, "in place"),
], ids=["unscaled", "by_256", "by_batch_max", "floor_division", "cast_to_uint8", "float64",
        "float16", "not_flattened", "transposed", "reshape_784_first", "one_vector", "inverted",
        "standardised", "list", "in_place"])
def test_typical_preprocess_mistake_is_named(wrong, named):
    assert_named(check_preprocess(wrong), named)


# ---------------------------------------------------------------- one_hot

def test_nnlib_one_hot_passes():
    result = check_one_hot(nnlib.one_hot)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_one_hot_versions_pass():
    assert check_one_hot(lambda y, n_classes=10: np.eye(n_classes, dtype=np.float32)[y]).ok
    assert check_one_hot(
        lambda y, n_classes=10: (y[:, None] == np.arange(n_classes)).astype(np.float32)).ok


def _one_hot_with(assign, n_columns=None, dtype=np.float32):
    def one_hot(labels, n_classes=10):
        out = np.zeros((len(labels), n_columns or n_classes), dtype=dtype)
        assign(out, labels)
        return out
    return one_hot


def _every_column(out, labels):
    out[:, labels] = 1


def _whole_rows(out, labels):
    out[labels] = 1


def _right(out, labels):
    out[np.arange(len(labels)), labels] = 1


@pytest.mark.parametrize("wrong, named", [
    (lambda y, n_classes=10: np.eye(10, dtype=np.float32)[y], "although n_classes = 3"),
    (lambda y, n_classes=10: np.eye(n_classes, dtype=np.float32)[y].T, "transposed"),
    (_one_hot_with(_every_column), "column of EVERY label"),
    (_one_hot_with(_whole_rows), "fills whole ROWS"),
    (lambda y, n_classes=10: np.eye(n_classes + 1, dtype=np.float32)[y], "columns; there are"),
    (lambda y, n_classes=10: np.eye(y.max() + 1, dtype=np.float32)[y],
     "one more than the largest label"),
    (lambda y, n_classes=10: np.eye(n_classes, dtype=np.float32)[y.astype(int) - 1],
     "too far left"),
    (lambda y, n_classes=10: 1 - np.eye(n_classes, dtype=np.float32)[y], "swapped"),
    (lambda y, n_classes=10: np.eye(n_classes)[y], "dtype is float64"),
    (_one_hot_with(_right, dtype=np.int64), "dtype is int64"),
    (lambda y, n_classes=11: np.eye(n_classes, dtype=np.float32)[y], "11 columns"),
], ids=["fixed_10", "transposed", "every_column", "whole_rows", "one_column_too_many",
        "max_plus_one", "minus_one", "inverted", "float64", "int64", "wrong_default"])
def test_typical_one_hot_mistake_is_named(wrong, named):
    assert_named(check_one_hot(wrong), named)


# ---------------------------------------------------------------- train_val_split

def test_nnlib_train_val_split_passes():
    result = check_train_val_split(nnlib.train_val_split)
    assert result.ok and result.message.startswith("✅")


def test_a_random_split_kept_in_original_order_passes():
    def by_mask(x, y, val_size=10_000, *, rng=None):
        val = np.zeros(len(x), dtype=bool)
        val[rng.choice(len(x), val_size, replace=False)] = True
        return (x[~val], y[~val]), (x[val], y[val])
    assert check_train_val_split(by_mask).ok


def _split_with(make_order, val_first=True, **changes):
    """A split built from an index order; ``changes`` plant one mistake."""
    def train_val_split(x, y, val_size=10_000, *, rng=None):
        order = make_order(len(x), rng)
        val, train = order[:val_size], order[val_size:]
        if changes.get("swap"):
            val, train = train, val
        if changes.get("overlap"):
            train = order[val_size - 1:]
        if changes.get("off_by_one"):
            val, train = order[:val_size + 1], order[val_size + 1:]
        y_order = changes["y_order"](len(y), rng) if "y_order" in changes else None
        y_val = y[y_order[:val_size]] if y_order is not None else y[val]
        y_train = y[y_order[val_size:]] if y_order is not None else y[train]
        if changes.get("grouped_by_array"):
            return (x[train], x[val]), (y_train, y_val)
        return (x[train], y_train), (x[val], y_val)
    return train_val_split


def shuffled(n, rng):
    return rng.permutation(n)


def _shuffle_in_place(x, y, val_size=10_000, *, rng=None):
    rng.shuffle(x)
    rng.shuffle(y)
    return (x[val_size:], y[val_size:]), (x[:val_size], y[:val_size])


@pytest.mark.parametrize("wrong, named", [
    (_split_with(lambda n, rng: np.arange(n)), "not shuffled"),
    (_split_with(lambda n, rng: np.arange(n)[::-1]), "not shuffled"),
    (_split_with(shuffled, y_order=lambda n, rng: np.arange(n)), "no longer belong"),
    (_split_with(shuffled, y_order=shuffled), "no longer belong"),
    (_shuffle_in_place, "in place"),
    (_split_with(shuffled, swap=True), "swapped"),
    (_split_with(shuffled, overlap=True), "BOTH"),
    (_split_with(shuffled, off_by_one=True), "expected 10 of each"),
    (_split_with(lambda n, rng: np.random.permutation(n)), "same rng seed"),
    (_split_with(lambda n, rng: np.random.default_rng(0).permutation(n)), "different rng seeds"),
    (_split_with(shuffled, grouped_by_array=True), "group by set"),
    (lambda x, y, val_size=10_000, *, rng=None: None, "without returning"),
], ids=["not_shuffled", "reversed", "labels_not_shuffled", "labels_own_permutation",
        "shuffled_in_place", "swapped_sizes", "overlap", "off_by_one", "global_random",
        "fixed_seed", "grouped_by_array", "no_return"])
def test_typical_split_mistake_is_named(wrong, named):
    assert_named(check_train_val_split(wrong), named)


def test_split_mixing_up_columns_is_caught():
    def scrambled(x, y, val_size=10_000, *, rng=None):
        (xt, yt), (xv, yv) = nnlib.train_val_split(x, y, val_size, rng=rng)
        return (xt[:, ::-1], yt), (xv, yv)
    assert_named(check_train_val_split(scrambled), "rows of x came back changed")


# ---------------------------------------------------------------- hints and fixes

def test_a_named_mistake_brings_its_hint_and_a_line_of_code_to_fix_it():
    result = check_one_hot(_one_hot_with(_every_column))
    assert "pair each row number with its own label" in result.hint
    assert result.fix.startswith("out[np.arange(len(labels)), labels] = 1")
    assert "np." not in result.message


def test_an_unnamed_mistake_falls_back_to_the_exercises_reference_code():
    def not_shuffled_rows(x, y, val_size=10_000, *, rng=None):
        return (x[val_size:], y[val_size:]), (x[:val_size], y[:val_size])
    result = check_train_val_split(not_shuffled_rows)
    assert_named(result, "not shuffled")
    assert result.fix.startswith("def train_val_split(")
    assert "permutation(len(x))" in result.fix


@pytest.mark.parametrize("check", [check_preprocess, check_one_hot, check_train_val_split])
def test_every_exercise_has_its_own_hint_and_reference_code(check):
    result = check(lambda *args, **kwargs: object())
    assert not result.ok
    assert result.hint and result.fix
