"""The chapter 04 checks catch the typical mistakes in CategoricalCrossEntropy and accuracy."""

import numpy as np
import pytest

import nnlib
from nnlib.checks import check_accuracy, check_categorical_cross_entropy
from checkhelpers import assert_named, not_yet


class NotYetCrossEntropy:
    def __init__(self, eps=1e-7):
        self.eps = eps

    def forward(self, y_pred, y_true):
        raise NotImplementedError()


@pytest.mark.parametrize("check, student", [
    (check_categorical_cross_entropy, NotYetCrossEntropy), (check_accuracy, not_yet)])
def test_unimplemented_exercise_is_pending(check, student):
    result = check(student)
    assert not result.ok
    assert result.message.startswith("⏳")


# ---------------------------------------------------------------- CategoricalCrossEntropy

def loss_class(forward):
    """A CategoricalCrossEntropy class with eps = 1e-7 and the given forward(self, p, y)."""
    def init(self, eps=1e-7):
        self.eps = eps
    return type("CategoricalCrossEntropy", (), {"__init__": init, "forward": forward})


def ids(y, p):
    return y.argmax(axis=1) if np.ndim(y) == 2 else y


def picked(self, p, y):
    """The true-class probabilities, clipped as they should be."""
    return np.clip(p[np.arange(len(p)), ids(y, p)], self.eps, 1 - self.eps)


def test_nnlib_cross_entropy_passes():
    result = check_categorical_cross_entropy(nnlib.CategoricalCrossEntropy)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_cross_entropy_versions_pass():
    def one_hot_product(self, p, y):
        y = np.eye(p.shape[1])[y] if np.ndim(y) == 1 else y
        return -np.mean(np.sum(y * np.log(np.clip(p, self.eps, 1 - self.eps)), axis=1))
    assert check_categorical_cross_entropy(loss_class(one_hot_product)).ok

    def lower_clip_only(self, p, y):
        return -np.log(np.maximum(p[np.arange(len(p)), ids(y, p)], self.eps)).mean()
    assert check_categorical_cross_entropy(loss_class(lower_clip_only)).ok


def _in_place_clip(self, p, y):
    np.clip(p, self.eps, 1 - self.eps, out=p)
    return -np.log(p[np.arange(len(p)), ids(y, p)]).mean()


def _integer_labels_only(self, p, y):
    return -np.log(np.clip(p[np.arange(len(p)), y], self.eps, 1 - self.eps)).mean()


def _one_hot_only(self, p, y):
    return -np.log(np.clip(np.sum(p * y, axis=1), self.eps, 1 - self.eps)).mean()


def _mean_over_all_entries(self, p, y):
    y = np.eye(p.shape[1])[y] if np.ndim(y) == 1 else y
    return -np.mean(y * np.log(np.clip(p, self.eps, 1 - self.eps)))


def _unclipped_one_hot_product(self, p, y):
    y = np.eye(p.shape[1])[y] if np.ndim(y) == 1 else y
    return -np.mean(np.sum(y * np.log(p), axis=1))


def _one_hot_argmax_axis0(self, p, y):
    y = y.argmax(axis=0) if np.ndim(y) == 2 else y
    y = np.resize(y, len(p))
    return -np.log(np.clip(p[np.arange(len(p)), y], self.eps, 1 - self.eps)).mean()


@pytest.mark.parametrize("wrong, named", [
    (lambda self, p, y: -np.log(picked(self, p, y)).sum(), "summed over the batch"),
    (lambda self, p, y: np.log(picked(self, p, y)).mean(), "missing the minus sign"),
    (lambda self, p, y: -np.log(p[np.arange(len(p)), ids(y, p)]).mean(), "log(0)"),
    (_unclipped_one_hot_product, "0 · log 0 = nan"),
    (lambda self, p, y: -np.log(np.clip(p, self.eps, 1)).mean(), "ALL entries"),
    (_mean_over_all_entries, "all N·C entries"),
    (lambda self, p, y: -np.log10(picked(self, p, y)).mean(), "log10"),
    (lambda self, p, y: -np.log(np.clip(p.max(axis=1), self.eps, 1)).mean(), "PREDICTED class"),
    (lambda self, p, y: -np.log(np.clip(p[ids(y, p), np.arange(len(p))], self.eps, 1)).mean(),
     "labels as ROWS"),
    (lambda self, p, y: -np.log(np.clip(p[np.arange(len(p)), ids(y, p)], 1e-15, 1)).mean(),
     "clipped at 1e-15"),
    (lambda self, p, y: -np.log(picked(self, p, y)), "one loss per example"),
    (_integer_labels_only, "one-hot labels"),
    (_one_hot_only, "not for integer class ids"),
    (_one_hot_argmax_axis0, "but for one-hot labels it is"),
    (_in_place_clip, "in place"),
    (lambda self, p, y: None, "without returning"),
])
def test_wrong_cross_entropy_is_named(wrong, named):
    assert_named(check_categorical_cross_entropy(loss_class(wrong)), named)


# ---------------------------------------------------------------- accuracy

def test_nnlib_accuracy_passes():
    result = check_accuracy(nnlib.accuracy)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_accuracy_versions_pass():
    def with_sum(p, y):
        y = y.argmax(axis=1) if y.ndim == 2 else y
        return np.sum(np.argmax(p, axis=1) == y) / len(y)
    assert check_accuracy(with_sum).ok


def _one_hot_compared_directly(p, y):
    return float((p.argmax(axis=1) == y).mean())


def _argmax_axis0(p, y):
    y = y.argmax(axis=1) if y.ndim == 2 else y
    return float((p.argmax(axis=0) == y).mean())


def _counts(p, y):
    y = y.argmax(axis=1) if y.ndim == 2 else y
    return int((p.argmax(axis=1) == y).sum())


def _percent(p, y):
    y = y.argmax(axis=1) if y.ndim == 2 else y
    return 100 * float((p.argmax(axis=1) == y).mean())


def _max_not_argmax(p, y):
    y = y.argmax(axis=1) if y.ndim == 2 else y
    return float((p.max(axis=1) == y).mean())


def _error_rate(p, y):
    y = y.argmax(axis=1) if y.ndim == 2 else y
    return float((p.argmax(axis=1) != y).mean())


def _in_place(p, y):
    p[:] = p == p.max(axis=1, keepdims=True)
    y = y.argmax(axis=1) if y.ndim == 2 else y
    return float((p.argmax(axis=1) == y).mean())


@pytest.mark.parametrize("wrong, named", [
    (_one_hot_compared_directly, "one-hot"),
    (_argmax_axis0, "largest entry of each column"),
    (_counts, "counted the correct predictions"),
    (_percent, "percentage"),
    (_max_not_argmax, "largest PROBABILITY"),
    (_error_rate, "error rate"),
    (_in_place, "in place"),
    (lambda p, y: None, "without returning"),
])
def test_wrong_accuracy_is_named(wrong, named):
    assert_named(check_accuracy(wrong), named)


def test_accuracy_per_example_is_caught():
    assert_named(check_accuracy(lambda p, y: p.argmax(axis=1) == np.asarray(y).reshape(len(p), -1)
                                .argmax(axis=1) if np.ndim(y) == 2 else p.argmax(axis=1) == y),
                 "single number")


# ---------------------------------------------------------------- hints and fixes

def test_unclipped_loss_keeps_the_clipping_line_for_when_it_is_asked_for():
    result = check_categorical_cross_entropy(loss_class(
        lambda self, p, y: -np.log(p[np.arange(len(p)), ids(y, p)]).mean()))
    assert_named(result, "were not clipped")
    assert "[ε, 1 − ε]" in result.hint
    assert "np.clip(p_true, self.eps, 1 - self.eps)" in result.fix


def test_an_unnamed_accuracy_mistake_falls_back_to_the_reference_code():
    result = check_accuracy(lambda p, y: 0.123)
    assert_named(result, "is 0.123, expected")
    assert result.fix.startswith("def accuracy(y_pred, y_true):")
    assert "argmax(axis=1) == y_true" in result.fix
