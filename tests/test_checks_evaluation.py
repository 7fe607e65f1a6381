"""The chapter 09 checks catch the typical mistakes in confusion_matrix, per_class_accuracy and
most_confident_mistakes."""

import numpy as np
import pytest

from nnlib.checks import (check_confusion_matrix, check_most_confident_mistakes,
                          check_per_class_accuracy)
from nnlib.checks.ch09_evaluation import (reference_confusion_matrix,
                                          reference_most_confident_mistakes,
                                          reference_per_class_accuracy)
from checkhelpers import assert_named, not_yet


@pytest.mark.parametrize("check", [check_confusion_matrix, check_per_class_accuracy,
                                   check_most_confident_mistakes])
def test_unimplemented_exercise_is_pending(check):
    result = check(not_yet)
    assert not result.ok
    assert result.message.startswith("⏳")


# ---------------------------------------------------------------- confusion_matrix

def test_reference_confusion_matrix_passes():
    assert check_confusion_matrix(reference_confusion_matrix).ok


def test_other_correct_confusion_matrices_pass():
    def with_loop(y_true, y_pred, n_classes=10):
        cm = np.zeros((n_classes, n_classes), dtype=int)
        for t, p in zip(y_true, y_pred):
            cm[t, p] += 1
        return cm

    def with_bincount(y_true, y_pred, n_classes=10):
        codes = n_classes * np.asarray(y_true, dtype=np.int64) + y_pred
        return np.bincount(codes, minlength=n_classes ** 2).reshape(n_classes, n_classes)

    assert check_confusion_matrix(with_loop).ok
    assert check_confusion_matrix(with_bincount).ok


def test_confusion_matrix_with_rows_as_predictions_is_named_transposed():
    def transposed(y_true, y_pred, n_classes=10):
        return reference_confusion_matrix(y_pred, y_true, n_classes)

    assert_named(check_confusion_matrix(transposed), "rows and columns are swapped")


def test_confusion_matrix_with_fancy_index_increment_is_named():
    def fancy(y_true, y_pred, n_classes=10):
        cm = np.zeros((n_classes, n_classes), dtype=int)
        cm[y_true, y_pred] += 1
        return cm

    result = check_confusion_matrix(fancy)
    assert_named(result, "counted only ONCE")
    assert "np.add.at(cm, (y_true, y_pred), 1)" in result.fix


def test_confusion_matrix_skipping_the_last_example_is_named_off_by_one():
    def skips_last(y_true, y_pred, n_classes=10):
        cm = np.zeros((n_classes, n_classes), dtype=int)
        for i in range(len(y_true) - 1):
            cm[y_true[i], y_pred[i]] += 1
        return cm

    assert_named(check_confusion_matrix(skips_last), "the last example is missing")


def test_confusion_matrix_with_labels_shifted_by_one_is_named():
    def shifted(y_true, y_pred, n_classes=10):
        cm = np.zeros((n_classes, n_classes), dtype=int)
        for t, p in zip(y_true, y_pred):
            cm[int(t) - 1, int(p) - 1] += 1
        return cm

    assert_named(check_confusion_matrix(shifted), "not k − 1")


def test_confusion_matrix_one_too_large_is_named():
    def too_large(y_true, y_pred, n_classes=10):
        cm = np.zeros((n_classes + 1, n_classes + 1), dtype=int)
        np.add.at(cm, (y_true, y_pred), 1)
        return cm

    assert_named(check_confusion_matrix(too_large), "so it is n_classes × n_classes")


def test_confusion_matrix_with_float_counts_is_named_wrong_dtype():
    def floats(y_true, y_pred, n_classes=10):
        cm = np.zeros((n_classes, n_classes))
        np.add.at(cm, (y_true, y_pred), 1)
        return cm

    assert_named(check_confusion_matrix(floats), "integer array")


def _count_in_label_dtype_with_a_loop(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=y_true.dtype)
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    return cm


def _count_in_label_dtype_with_add_at(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=np.asarray(y_true).dtype)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


@pytest.mark.parametrize("in_label_dtype", [_count_in_label_dtype_with_a_loop,
                                            _count_in_label_dtype_with_add_at],
                         ids=["loop", "add_at"])
def test_confusion_matrix_counting_in_the_uint8_of_the_labels_is_named(in_label_dtype):
    # MNIST's labels are uint8: a matrix in their dtype wraps a count of 256 around to 0
    with np.errstate(over="ignore"):
        result = check_confusion_matrix(in_label_dtype)
    assert_named(result, "dtype uint8, which counts only up to 255")
    assert "uint8 stops at 255" in result.hint
    assert "dtype=np.int64" in result.fix


def test_confusion_matrix_whose_uint8_counts_wrapped_before_widening_is_named():
    def widened_too_late(y_true, y_pred, n_classes=10):
        with np.errstate(over="ignore"):
            return _count_in_label_dtype_with_add_at(y_true, y_pred, n_classes).astype(np.int64)

    assert_named(check_confusion_matrix(widened_too_late), "300 examples of true class 0 "
                 "predicted as 0 came out as 44")


def test_confusion_matrix_in_a_narrow_but_wide_enough_dtype_passes():
    def uint16(y_true, y_pred, n_classes=10):
        return reference_confusion_matrix(y_true, y_pred, n_classes).astype(np.uint16)

    assert check_confusion_matrix(uint16).ok


@pytest.mark.parametrize("size", [
    lambda y_true, y_pred: int(max(y_true.max(), y_pred.max())) + 1,
    lambda y_true, y_pred: len(np.union1d(y_true, y_pred)),
], ids=["max_plus_one", "unique"])
def test_confusion_matrix_ignoring_n_classes_is_named(size):
    def from_labels(y_true, y_pred, n_classes=10):
        n = size(y_true, y_pred)
        cm = np.zeros((n, n), dtype=int)
        np.add.at(cm, (y_true, y_pred), 1)
        return cm

    assert_named(check_confusion_matrix(from_labels), "take the size from n_classes")


def test_confusion_matrix_that_changes_its_input_is_named():
    def sorts_labels(y_true, y_pred, n_classes=10):
        cm = reference_confusion_matrix(y_true, y_pred, n_classes)
        y_true.sort()
        return cm

    assert_named(check_confusion_matrix(sorts_labels), "changed its input array in place")


def test_confusion_matrix_without_return_is_named():
    def no_return(y_true, y_pred, n_classes=10):
        reference_confusion_matrix(y_true, y_pred, n_classes)

    assert_named(check_confusion_matrix(no_return), "without returning")


# ---------------------------------------------------------------- per_class_accuracy

def test_reference_per_class_accuracy_passes():
    assert check_per_class_accuracy(reference_per_class_accuracy).ok


def test_per_class_accuracy_with_a_loop_passes():
    def loop(cm):
        return np.array([cm[i, i] / cm[i].sum() if cm[i].sum() else np.nan
                         for i in range(len(cm))])

    assert check_per_class_accuracy(loop).ok


def test_per_class_accuracy_dividing_by_predicted_counts_is_named_precision():
    def precision(cm):
        return np.diagonal(cm) / cm.sum(axis=0)

    assert_named(check_per_class_accuracy(precision), "that is precision")


def test_per_class_accuracy_dividing_by_all_examples_is_named():
    def by_total(cm):
        return np.diagonal(cm) / cm.sum()

    assert_named(check_per_class_accuracy(by_total), "total number of examples")


def test_per_class_accuracy_with_integer_division_is_named():
    def floor_division(cm):
        return np.diagonal(cm) // cm.sum(axis=1)

    assert_named(check_per_class_accuracy(floor_division), "integer division")


def test_per_class_accuracy_in_percent_is_named():
    def percent(cm):
        return 100 * np.diagonal(cm) / cm.sum(axis=1)

    assert_named(check_per_class_accuracy(percent), "percentages")


def test_per_class_accuracy_returning_overall_accuracy_is_named():
    def overall(cm):
        return np.trace(cm) / cm.sum()

    assert_named(check_per_class_accuracy(overall), "overall accuracy")


def test_per_class_accuracy_with_keepdims_is_named():
    def keepdims(cm):
        return np.diagonal(cm) / cm.sum(axis=1, keepdims=True)

    assert_named(check_per_class_accuracy(keepdims), "row sums were kept as a column")


def test_per_class_accuracy_giving_zero_for_an_empty_class_is_named():
    def zero_for_empty(cm):
        totals = cm.sum(axis=1)
        return np.diagonal(cm) / np.maximum(totals, 1)

    assert_named(check_per_class_accuracy(zero_for_empty), "return nan for it")


def test_per_class_accuracy_that_changes_the_matrix_is_named():
    def normalises_in_place(cm):
        acc = np.diagonal(cm) / cm.sum(axis=1)
        cm[:] = 0
        return acc

    assert_named(check_per_class_accuracy(normalises_in_place), "changed its input array")


# ---------------------------------------------------------------- most_confident_mistakes

def test_reference_most_confident_mistakes_passes():
    assert check_most_confident_mistakes(reference_most_confident_mistakes).ok


def test_most_confident_mistakes_with_a_mask_and_reversed_argsort_passes():
    def masked(probs, y_true, k):
        confidence = probs.max(axis=1)
        wrong = np.nonzero(probs.argmax(axis=1) != y_true)[0]
        return wrong[np.argsort(confidence[wrong])[::-1]][:k]

    assert check_most_confident_mistakes(masked).ok


def test_most_confident_mistakes_including_correct_predictions_is_named():
    def all_predictions(probs, y_true, k):
        return np.argsort(-probs.max(axis=1))[:k]

    assert_named(check_most_confident_mistakes(all_predictions), "some of these predictions "
                                                                 "are correct")


def test_least_confident_mistakes_are_named():
    def ascending(probs, y_true, k):
        wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
        return wrong[np.argsort(probs.max(axis=1)[wrong])][:k]

    assert_named(check_most_confident_mistakes(ascending), "LEAST confident")


def test_most_confident_mistakes_ranked_by_true_class_probability_is_named():
    def by_true_class(probs, y_true, k):
        wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
        return wrong[np.argsort(probs[wrong, y_true[wrong]])][:k]

    assert_named(check_most_confident_mistakes(by_true_class), "probability of the TRUE class")


def test_most_confident_mistakes_returning_positions_among_mistakes_is_named():
    def positions(probs, y_true, k):
        wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
        return np.argsort(-probs.max(axis=1)[wrong])[:k]

    assert_named(check_most_confident_mistakes(positions), "map them back")


def test_most_confident_mistakes_ignoring_k_is_named():
    def every_mistake(probs, y_true, k):
        wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
        return wrong[np.argsort(-probs.max(axis=1)[wrong])]

    assert_named(check_most_confident_mistakes(every_mistake), "keep only the first k")


def test_most_confident_mistakes_that_edit_the_probabilities_is_named():
    def zeroes_correct_rows(probs, y_true, k):
        probs[probs.argmax(axis=1) == y_true] = 0
        return reference_most_confident_mistakes(probs, y_true, k)

    assert_named(check_most_confident_mistakes(zeroes_correct_rows), "changed its input array")
