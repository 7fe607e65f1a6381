"""The chapter 00 check catches the typical mistakes in the warm-up exercise ``mean_square``."""

import numpy as np
import pytest

from nnlib.checks import check_mean_square


def mean_square(x):
    return (np.asarray(x) ** 2).mean(axis=1)


def test_correct_mean_square_passes(capsys):
    result = check_mean_square(mean_square)
    assert result.ok
    assert result.message.startswith("✅")
    assert capsys.readouterr().out.strip() == result.message


def test_also_accepts_a_float32_or_einsum_version():
    assert check_mean_square(lambda x: np.einsum("ij,ij->i", x, x) / x.shape[1]).ok
    assert check_mean_square(lambda x: np.mean(np.square(x.astype(np.float32)), axis=1)).ok


def test_unimplemented_mean_square_is_pending():
    def not_yet(x):
        raise NotImplementedError()
    result = check_mean_square(not_yet)
    assert not result.ok
    assert result.message.startswith("⏳")


def _in_place(x):
    x **= 2
    return x.mean(axis=1)


@pytest.mark.parametrize("wrong, named", [
    (lambda x: (x ** 2).sum(axis=1), "you summed the squares"),
    (lambda x: (x ** 2).mean(axis=0), "down the columns"),
    (lambda x: (x ** 2).mean(axis=1, keepdims=True), "shape (N, 1)"),
    (lambda x: x.mean(axis=1) ** 2, "you squared the mean"),
    (lambda x: np.sqrt((x ** 2).mean(axis=1)), "square root"),
    (lambda x: x.mean(axis=1), "forgot to square"),
    (lambda x: np.abs(x).mean(axis=1), "absolute values"),
    (lambda x: (x ** 2).mean(), "one number for the whole array"),
    (lambda x: np.full(len(x), (x ** 2).mean()), "mean over the whole array"),
    (_in_place, "in place"),
    (lambda x: None, "without returning"),
], ids=["sum", "axis0", "keepdims", "square_of_mean", "sqrt", "no_square", "abs",
        "scalar", "whole_array_per_row", "in_place", "no_return"])
def test_typical_mistake_is_named(wrong, named):
    result = check_mean_square(wrong)
    assert not result.ok
    assert result.message.startswith("❌")
    assert named in result.message


def test_axis0_is_caught_even_for_a_square_batch():
    # a (4, 4) batch gives axis=0 the right shape: only the values can catch it
    calls = []

    def axis0_when_square(x):
        calls.append(x.shape)
        return (x ** 2).mean(axis=0 if x.shape[0] == x.shape[1] else 1)
    result = check_mean_square(axis0_when_square)
    assert not result.ok and "down the columns" in result.message
    assert (4, 4) in calls


def test_a_single_number_for_the_batch_is_named():
    result = check_mean_square(lambda x: float((x ** 2).mean() + 1))
    assert "returned a single number" in result.message
    assert "one example per row" in result.hint


def test_a_named_mistake_keeps_its_own_hint_and_fix_for_later():
    result = check_mean_square(lambda x: (x ** 2).sum(axis=1))
    assert result.status == "fail"
    assert "divided by how many numbers" in result.hint
    assert "(np.asarray(x) ** 2).mean(axis=1)" in result.fix


def test_an_unnamed_mistake_gets_the_exercises_reference_code_as_its_fix():
    result = check_mean_square(lambda x: (x ** 2).mean(axis=1) + 0.5)
    assert result.status == "fail" and "at index" in result.message
    assert result.hint
    assert result.fix.startswith("def mean_square(x):")
