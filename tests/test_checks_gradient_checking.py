"""The chapter 06 checks pass nnlib.gradcheck and name each typical gradient-checking mistake."""

import numpy as np
import pytest

from nnlib import Dense, gradcheck
from checkhelpers import not_yet
from nnlib.checks.ch06_gradient_checking import (
    BuggyDense, check_buggy_gradient, check_check_layer, check_numerical_gradient, check_rel_error,
)


def not_implemented(*args):
    raise NotImplementedError()


def assert_flagged(result, words):
    assert not result.ok and result.message.startswith("❌"), result.message
    assert words in result.message, result.message


# --- numerical_gradient -------------------------------------------------------------------------------
def test_numerical_gradient_reference_passes():
    result = check_numerical_gradient(gradcheck.numerical_gradient)
    assert result.ok and result.message.startswith("✅"), result.message


def test_numerical_gradient_with_add_and_subtract_passes():
    # x[i] += eps ... x[i] -= 2 * eps ... x[i] += eps drifts by ~1e-16 at most: accepted
    def drifting(f, x, eps=1e-5):
        grad = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            x[i] += eps
            f_plus = f()
            x[i] -= 2 * eps
            f_minus = f()
            x[i] += eps
            grad[i] = (f_plus - f_minus) / (2 * eps)
        return grad

    assert check_numerical_gradient(drifting).ok


def test_numerical_gradient_not_implemented_is_pending():
    result = check_numerical_gradient(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


def forward_difference(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        f0 = f()
        x[i] = original + eps
        grad[i] = (f() - f0) / eps
        x[i] = original
    return grad


def backward_difference(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        f0 = f()
        x[i] = original - eps
        grad[i] = (f0 - f()) / eps
        x[i] = original
    return grad


def minus_side_skipped(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f()
        x[i] -= eps
        grad[i] = (f_plus - f()) / (2 * eps)
    return grad


def never_restored(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f()
        x[i] -= 2 * eps
        grad[i] = (f_plus - f()) / (2 * eps)
    return grad


def divided_by_eps(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = f()
        x[i] = original - eps
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / eps
    return grad


def perturbs_a_copy(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[i] += eps
        f_plus = f()
        shifted[i] -= 2 * eps
        grad[i] = (f_plus - f()) / (2 * eps)
    return grad


def whole_rows(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        original = x[i].copy()
        x[i] = original + eps
        f_plus = f()
        x[i] = original - eps
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def ignores_eps(f, x, eps=1e-5):
    return gradcheck.numerical_gradient(f, x, 1e-5)


def passes_x_to_f(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = f(x)
        x[i] = original - eps
        f_minus = f(x)
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("wrong, words", [
    (forward_difference, "forward difference"),
    (backward_difference, "backward difference"),
    (minus_side_skipped, "about half"),
    (never_restored, "x was not restored"),
    (divided_by_eps, "divide by 2 * eps"),
    (perturbs_a_copy, "not a copy"),
    (whole_rows, "whole rows"),
    (ignores_eps, "ignored the eps"),
    (passes_x_to_f, "call f() with no arguments"),
    (lambda f, x, eps=1e-5: gradcheck.numerical_gradient(f, x, eps).ravel(), "shaped like x"),
], ids=["forward-difference", "backward-difference", "minus-side-skipped", "x-not-restored", "divided-by-eps", "perturbs-a-copy",
        "whole-rows-of-2d-x", "ignores-eps", "passes-x-to-f", "flattened"])
def test_numerical_gradient_names_the_mistake(wrong, words):
    assert_flagged(check_numerical_gradient(wrong), words)


# --- rel_error ----------------------------------------------------------------------------------------
def test_rel_error_reference_passes():
    result = check_rel_error(gradcheck.rel_error)
    assert result.ok and result.message.startswith("✅"), result.message


def test_rel_error_with_added_floor_passes():
    def added_floor(a, b):
        return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + 1e-8))

    assert check_rel_error(added_floor).ok


def test_rel_error_not_implemented_is_pending():
    result = check_rel_error(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (lambda a, b: np.max((a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)), "forgot the abs"),
    (lambda a, b: np.max(np.abs(a - b) / np.abs(a + b)), "abs in the denominator"),
    (lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))), "0/0"),
    (lambda a, b: np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)), "mean"),
    (lambda a, b: np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), "one number"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-8)),
     "max(|a|, |b|)"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8)), "divided by |b| only"),
    (lambda a, b: np.abs(a - b).sum() / max((np.abs(a) + np.abs(b)).sum(), 1e-8), "sums"),
], ids=["no-abs-numerator", "no-abs-denominator", "zero-division", "mean", "returns-array",
        "max-denominator", "b-only", "global-ratio"])
def test_rel_error_names_the_mistake(wrong, words):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_rel_error(wrong)
    assert_flagged(result, words)


# --- check_layer --------------------------------------------------------------------------------------
def test_check_layer_reference_passes():
    result = check_check_layer(gradcheck.check_layer)
    assert result.ok and result.message.startswith("✅"), result.message


def test_check_layer_not_implemented_is_pending():
    result = check_check_layer(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


def only_inputs(layer, x, rng=None):
    return {"inputs": gradcheck.check_layer(layer, x, rng)["inputs"]}


def d_prefixed_keys(layer, x, rng=None):
    return {"d" + k: v for k, v in gradcheck.check_layer(layer, x, rng).items()}


def backward_with_ones(layer, x, rng=None):
    r = np.random.default_rng(rng).standard_normal(layer.forward(x).shape)

    def loss():
        return np.sum(layer.forward(x) * r)

    layer.forward(x)
    errors = {"inputs": gradcheck.rel_error(layer.backward(np.ones_like(r)),
                                            gradcheck.numerical_gradient(loss, x))}
    for name in layer.param_names:
        analytic = getattr(layer, "d" + name).copy()
        errors[name] = gradcheck.rel_error(analytic,
                                           gradcheck.numerical_gradient(loss, getattr(layer, name)))
    return errors


def numerical_against_numerical(layer, x, rng=None):
    r = np.random.default_rng(rng).standard_normal(layer.forward(x).shape)

    def loss():
        return np.sum(layer.forward(x) * r)

    names = ("inputs",) + tuple(layer.param_names)
    arrays = [x] + [getattr(layer, n) for n in layer.param_names]
    return {n: gradcheck.rel_error(gradcheck.numerical_gradient(loss, a),
                                   gradcheck.numerical_gradient(loss, a))
            for n, a in zip(names, arrays)}


def returns_differences(layer, x, rng=None):
    r = np.random.default_rng(rng).standard_normal(layer.forward(x).shape)

    def loss():
        return np.sum(layer.forward(x) * r)

    layer.forward(x)
    errors = {"inputs": np.abs(layer.backward(r) - gradcheck.numerical_gradient(loss, x))}
    for name in layer.param_names:
        analytic = getattr(layer, "d" + name).copy()
        errors[name] = np.abs(analytic - gradcheck.numerical_gradient(loss, getattr(layer, name)))
    return errors


def forgets_return(layer, x, rng=None):
    gradcheck.check_layer(layer, x, rng)


@pytest.mark.parametrize("wrong, words", [
    (only_inputs, "only checked the inputs"),
    (d_prefixed_keys, "without the d"),
    (backward_with_ones, "same r in the loss and in backward"),
    (numerical_against_numerical, "cannot see the bug"),
    (returns_differences, "one number per gradient"),
    (forgets_return, "forget `return errors`"),
], ids=["only-inputs", "d-prefixed-keys", "different-r", "numerical-vs-numerical",
        "arrays-not-numbers", "no-return"])
def test_check_layer_names_the_mistake(wrong, words):
    assert_flagged(check_check_layer(wrong), words)


def test_check_layer_that_leaves_weights_perturbed_is_caught():
    def leaves_weights_changed(layer, x, rng=None):
        errors = gradcheck.check_layer(layer, x, rng)
        for name in layer.param_names:
            getattr(layer, name)[...] += 1e-5
        return errors

    assert_flagged(check_check_layer(leaves_weights_changed), "left layer.weights changed")


# --- the bug hunt -------------------------------------------------------------------------------------
def test_buggy_dense_has_exactly_one_wrong_gradient():
    rng = np.random.default_rng(0)
    errors = gradcheck.check_layer(BuggyDense(4, 3, rng=rng, dtype=np.float64),
                                   rng.standard_normal((8, 4)), rng)
    assert sorted(k for k, e in errors.items() if e > 1e-3) == ["biases"]
    assert all(e < 1e-7 for k, e in errors.items() if k != "biases")


def test_buggy_dense_bug_is_invisible_with_a_batch_of_one():
    rng = np.random.default_rng(0)
    errors = gradcheck.check_layer(BuggyDense(4, 3, rng=rng, dtype=np.float64),
                                   rng.standard_normal((1, 4)), rng)
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("answer", ["biases", "dbiases", " Biases "])
def test_buggy_gradient_right_answer_passes(answer):
    result = check_buggy_gradient(answer)
    assert result.ok and result.message.startswith("✅"), result.message


def test_buggy_gradient_unanswered_is_pending():
    result = check_buggy_gradient(None)
    assert not result.ok and result.message.startswith("⏳")


def test_buggy_gradient_answer_as_a_function_is_checked_and_unsolved_is_pending():
    assert check_buggy_gradient(lambda: "biases").ok
    assert_flagged(check_buggy_gradient(lambda: "weights"), "'weights' gradient is right")
    result = check_buggy_gradient(not_yet)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("answer, words", [
    ("weights", "'weights' gradient is right"),
    ("inputs", "'inputs' gradient is right"),
    ("dx", "'inputs' gradient is right"),
    ("the biases", "answer with one of the strings"),
    (2, "answer with one of the strings"),
])
def test_buggy_gradient_wrong_answer_is_flagged(answer, words):
    assert_flagged(check_buggy_gradient(answer), words)


def test_buggy_dense_is_a_dense():
    assert isinstance(BuggyDense(2, 2, rng=0), Dense)
