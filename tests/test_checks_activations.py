"""The chapter 03 checks catch the typical mistakes in ReLU and softmax."""

import numpy as np
import pytest

import nnlib
from nnlib.activations import softmax as nnlib_softmax
from nnlib.checks import check_relu, check_softmax
from checkhelpers import assert_named, not_yet


class NotYetReLU:
    def forward(self, x):
        raise NotImplementedError()


@pytest.mark.parametrize("check, student", [(check_relu, NotYetReLU), (check_softmax, not_yet)])
def test_unimplemented_exercise_is_pending(check, student):
    result = check(student)
    assert not result.ok
    assert result.message.startswith("⏳")


# ---------------------------------------------------------------- ReLU

def relu_class(forward):
    return type("ReLU", (), {"forward": lambda self, x: forward(x)})


def test_nnlib_relu_passes():
    result = check_relu(nnlib.ReLU)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_relu_versions_pass():
    assert check_relu(relu_class(lambda x: np.where(x > 0, x, 0))).ok
    assert check_relu(relu_class(lambda x: x * (x > 0))).ok
    assert check_relu(relu_class(lambda x: np.clip(x, 0, None))).ok


def _in_place_relu(x):
    x[x < 0] = 0
    return x


@pytest.mark.parametrize("wrong, named", [
    (np.abs, "|x|"),
    (lambda x: np.where(x > 0, x, 0.01 * x), "leaky"),
    (_in_place_relu, "in place"),
    (lambda x: np.max(x, 0), "each column"),
    (lambda x: np.max(x, axis=1), "each row"),
    (lambda x: max(0, x), "works on ONE number"),
    (lambda x: x > 0, "True/False"),
    (lambda x: np.minimum(x, 0), "POSITIVE part"),
    (lambda x: np.clip(x, 0, 1), "no upper limit"),
    (lambda x: x, "unchanged"),
    (lambda x: None, "without returning"),
])
def test_wrong_relu_is_named(wrong, named):
    assert_named(check_relu(relu_class(wrong)), named)


def test_relu_without_forward_is_named():
    assert_named(check_relu(type("ReLU", (), {})), "no forward method")


# ---------------------------------------------------------------- softmax

def test_nnlib_softmax_passes():
    result = check_softmax(nnlib_softmax)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_softmax_versions_pass():
    def via_logsumexp(z):
        shifted = z - z.max(axis=1, keepdims=True)
        return np.exp(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))
    assert check_softmax(via_logsumexp).ok
    assert check_softmax(lambda z: nnlib.Softmax().forward(z)).ok


def unstable(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def columns(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def whole_array(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def no_keepdims_sum(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


def no_keepdims_max(z):
    e = np.exp(z - z.max(axis=1))
    return e / e.sum(axis=1, keepdims=True)


def no_keepdims_sum_transposed_trick(z):
    # runs for every shape: (C, N) / (N,) broadcasts, then transposes back
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e.T / e.sum(axis=1)).T if z.shape[0] != z.shape[1] else e / e.sum(axis=1)


def global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def in_place(z):
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def not_normalised(z):
    return np.exp(z - z.max(axis=1, keepdims=True))


@pytest.mark.parametrize("wrong, named", [
    (unstable, "exp overflows"),
    (columns, "COLUMNS sum to 1"),
    (whole_array, "whole batch sums to 1"),
    (no_keepdims_sum, "row sums lost their axis"),
    (no_keepdims_max, "row max was subtracted along the wrong axis"),
    (no_keepdims_sum_transposed_trick, "lost their axis"),
    (global_max, "max of the WHOLE batch"),
    (in_place, "in place"),
    (not_normalised, "do not sum to 1"),
    (np.exp, "you returned exp(z)"),
    (lambda z: None, "without returning"),
])
def test_wrong_softmax_is_named(wrong, named):
    assert_named(check_softmax(wrong), named)


def test_softmax_without_keepdims_on_non_square_batch_names_keepdims():
    def no_keepdims_unless_square(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True) if z.shape[0] == z.shape[1] else e / e.sum(axis=1)
    assert_named(check_softmax(no_keepdims_unless_square), "lost its axis")


def test_softmax_of_one_example_as_a_vector_is_caught():
    # written for one vector of logits: correct for a batch of one, wrong for a batch
    assert_named(check_softmax(lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()),
                 "whole batch sums to 1")


def test_softmax_summed_over_columns_is_named():
    def row_max_column_sum(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)
    assert_named(check_softmax(row_max_column_sum), "divided by the column sums")


def test_softmax_that_drops_the_batch_axis_of_a_batch_of_one_is_named():
    def squeezed(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return np.squeeze(e / e.sum(axis=1, keepdims=True))
    assert_named(check_softmax(squeezed), "batch of one")


def test_a_failed_softmax_keeps_a_hint_and_the_fix_for_when_the_student_asks():
    result = check_softmax(unstable)
    assert "exp overflows" in result.message
    assert "constant" in result.hint
    assert "z.max(axis=1, keepdims=True)" in result.fix


def test_a_softmax_that_raises_is_reported_as_the_students_error():
    def typo(z):
        return np.exp(z) / np.exp(z).sum(axis=2)
    result = check_softmax(typo)
    assert result.status == "error"
    assert result.message.startswith("❌ FAIL softmax: your code raised AxisError")
