"""The chapter 06 checks pass nnlib.gradcheck and name each typical gradient-checking mistake."""

import numpy as np
import pytest

from nnlib import Dense, ReLU, Softmax, gradcheck
from checkhelpers import assert_named, not_yet
from nnlib.checks.ch06_gradient_checking import (
    CHECK_LAYER_FIX, NUMERICAL_GRADIENT_FIX, check_bug_report, check_check_layer,
    check_numerical_gradient, check_rel_error, suspect_source, suspects,
)

not_implemented = not_yet


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


def rows_by_len(f, x, eps=1e-5):
    # written for a 1-D x: on a 2-D x, x[i] is a whole row, and original a view of it
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        original = x[i]
        x[i] = original + eps
        f_plus = f()
        x[i] = original - eps
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def first_entries_by_len(f, x, eps=1e-5):
    # one entry at a time, but only the first len(x) of them
    grad = np.zeros(x.shape)
    flat, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(len(x)):
        original = flat[i]
        flat[i] = original + eps
        f_plus = f()
        flat[i] = original - eps
        f_minus = f()
        flat[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def in_x_dtype(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
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
    (divided_by_eps, "twice too large"),
    (perturbs_a_copy, "a copy of x"),
    (whole_rows, "entries of x at once (a whole row)"),
    (rows_by_len, "entries of x at once (a whole row)"),
    (first_entries_by_len, "only 2 of the 6 entries of x"),
    (in_x_dtype, "for a float32 x your gradient is float32"),
    (ignores_eps, "a step of 1e-5"),
    (passes_x_to_f, "f takes none"),
    (lambda f, x, eps=1e-5: gradcheck.numerical_gradient(f, x, eps).ravel(), "flat array"),
], ids=["forward-difference", "backward-difference", "minus-side-skipped", "x-not-restored",
        "divided-by-eps", "perturbs-a-copy", "whole-rows-of-2d-x", "range-len-on-2d-x",
        "first-len-entries-only", "dtype-of-x", "ignores-eps", "passes-x-to-f", "flattened"])
def test_numerical_gradient_names_the_mistake(wrong, words):
    assert_named(check_numerical_gradient(wrong), words)


def test_numerical_gradient_on_rows_of_a_2d_x_points_at_every_entry():
    result = check_numerical_gradient(rows_by_len)
    assert "rows, not its entries" in result.hint
    assert "np.ndindex(x.shape)" in result.fix


def test_numerical_gradient_in_float32_for_a_float32_x_is_told_why_float64():
    result = check_numerical_gradient(in_x_dtype)
    assert_named(result, "about 7 significant digits")
    assert "dtype=np.float64" in result.fix


def test_numerical_gradient_generic_failure_carries_the_whole_reference():
    def off_by_one_percent(f, x, eps=1e-5):
        return gradcheck.numerical_gradient(f, x, eps) * 1.01

    result = check_numerical_gradient(off_by_one_percent)
    assert_named(result, "at index")
    assert result.fix == NUMERICAL_GRADIENT_FIX


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
    (lambda a, b: np.max((a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)),
     "largest signed difference"),
    (lambda a, b: np.max(np.abs(a - b) / np.abs(a + b)), "your denominator is 0 there"),
    (lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))), "0/0"),
    (lambda a, b: np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)), "mean"),
    (lambda a, b: np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), "one number"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-8)),
     "max(|a|, |b|)"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8)), "divided by |b| only"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-8)), "divided by |a| only"),
    (lambda a, b: np.max(np.abs(a - b)) / np.max(np.abs(a) + np.abs(b)),
     "largest difference by the largest size"),
    (lambda a, b: np.abs(a - b).sum() / max((np.abs(a) + np.abs(b)).sum(), 1e-8),
     "divided a sum over the whole arrays"),
], ids=["no-abs-numerator", "no-abs-denominator", "zero-division", "mean", "returns-array",
        "max-denominator", "b-only", "a-only", "ratio-of-maxima", "global-ratio"])
def test_rel_error_names_the_mistake(wrong, words):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_rel_error(wrong)
    assert_named(result, words)


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


def with_r(draw):
    """The reference check_layer, with r = draw(rng, shape) in place of its own."""
    def check_layer(layer, x, rng=None):
        r = draw(rng, layer.forward(x).shape)

        def loss():
            return np.sum(layer.forward(x) * r)

        layer.forward(x)
        errors = {"inputs": gradcheck.rel_error(layer.backward(r),
                                                gradcheck.numerical_gradient(loss, x))}
        for name in layer.param_names:
            layer.forward(x)
            layer.backward(r)
            analytic = getattr(layer, "d" + name).copy()
            errors[name] = gradcheck.rel_error(
                analytic, gradcheck.numerical_gradient(loss, getattr(layer, name)))
        return errors
    return check_layer


all_ones_r = with_r(lambda rng, shape: np.ones(shape))
fresh_generator = with_r(lambda rng, shape: np.random.default_rng().standard_normal(shape))
global_random_state = with_r(lambda rng, shape: np.random.standard_normal(shape))
fixed_seed = with_r(lambda rng, shape: np.random.default_rng(0).standard_normal(shape))
same_r_in_every_column = with_r(
    lambda rng, shape: np.random.default_rng(rng).standard_normal((shape[0], 1)) * np.ones(shape))


@pytest.mark.parametrize("wrong, words", [
    (only_inputs, "only checked the inputs"),
    (d_prefixed_keys, "without the d"),
    (backward_with_ones, "same r in the loss and in backward"),
    (numerical_against_numerical, "cannot see the bug"),
    (returns_differences, "each gradient gets one number"),
    (forgets_return, "check_layer returned None"),
    (all_ones_r, "the same number, 1, in every entry"),
    (fresh_generator, "same rng seed, your check_layer drew two different r"),
    (global_random_state, "same rng seed, your check_layer drew two different r"),
    (fixed_seed, "two different rng seeds, your check_layer drew the same r"),
    (same_r_in_every_column, "swaps its outputs' gradients"),
], ids=["only-inputs", "d-prefixed-keys", "different-r", "numerical-vs-numerical",
        "arrays-not-numbers", "no-return", "all-ones-r", "rng-ignored-fresh-generator",
        "rng-ignored-global-state", "rng-ignored-fixed-seed", "r-equal-across-columns"])
def test_check_layer_names_the_mistake(wrong, words):
    assert_named(check_check_layer(wrong), words)


def test_check_layer_with_all_ones_r_is_told_why_r_is_random():
    result = check_check_layer(all_ones_r)
    assert_named(result, "weighs every output alike")
    assert "columns of dout" in result.hint and "standard_normal" in result.fix


def test_check_layer_with_any_random_r_from_its_rng_passes():
    normal = with_r(lambda rng, shape: np.random.default_rng(rng).normal(size=shape))
    uniform = with_r(lambda rng, shape: np.random.default_rng(rng).uniform(-1, 1, shape))
    assert check_check_layer(normal).ok and check_check_layer(uniform).ok


def test_the_layer_that_swaps_outputs_hides_from_an_r_of_ones_only():
    # the planted bug the check feeds to every check_layer: invisible to r = 1, plain with random r
    from nnlib.checks.ch06_gradient_checking import _new, _SwappedOutputs
    layer = _new(_SwappedOutputs, np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((5, 4))
    assert max(all_ones_r(layer, x.copy()).values()) < 1e-7
    assert min(gradcheck.check_layer(layer, x.copy(), 1).values()) > 1e-3


def test_check_layer_generic_failure_carries_the_whole_reference():
    assert check_check_layer(numerical_against_numerical).fix == CHECK_LAYER_FIX


def test_check_layer_that_leaves_weights_perturbed_is_caught():
    def leaves_weights_changed(layer, x, rng=None):
        errors = gradcheck.check_layer(layer, x, rng)
        for name in layer.param_names:
            getattr(layer, name)[...] += 1e-5
        return errors

    assert_named(check_check_layer(leaves_weights_changed), "left layer.weights changed")


# --- odd return values -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, [1, 2], "abc", (1, 2), 3.0, {"a": 1}],
                         ids=["none", "list", "str", "tuple", "float", "dict"])
def test_odd_return_values_are_named_and_never_crash_a_check(value):
    for result in [check_numerical_gradient(lambda f, x, eps=1e-5: value),
                   check_rel_error(lambda a, b: value),
                   check_check_layer(lambda layer, x, rng=None: value),
                   check_check_layer(lambda layer, x, rng=None: dict.fromkeys(
                       gradcheck.check_layer(layer, x, rng), value))]:
        assert result.status == "fail", result.message
        assert "inside the check" not in result.message, result.message


# --- the bug hunt -------------------------------------------------------------------------------------
RIGHT = {"A": ["biases"], "B": ["inputs"], "C": [], "D": ["inputs"], "E": []}


def errors_of(name, n, seed=0):
    rng = np.random.default_rng(seed)
    suspect = suspects(rng)[name]
    return gradcheck.check_layer(suspect, rng.standard_normal((n, suspect.n_inputs)), rng)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_suspects_have_exactly_the_planted_bugs_with_a_batch_of_eight(seed):
    for name, wrong in RIGHT.items():
        errors = errors_of(name, 8, seed)
        assert sorted(k for k, e in errors.items() if e > 1e-3) == wrong, (name, errors)
        assert all(e < 1e-7 for k, e in errors.items() if k not in wrong), (name, errors)


def test_suspect_a_bug_is_invisible_with_a_batch_of_one_and_the_others_are_not():
    assert max(errors_of("A", 1).values()) < 1e-7
    assert errors_of("B", 1)["inputs"] > 1e-3 and errors_of("D", 1)["inputs"] > 1e-3


def test_suspects_are_layers_of_the_kinds_the_chapter_describes():
    lineup = suspects(0)
    assert list(lineup) == list("ABCDE")
    assert [type(s).__mro__[2] for s in lineup.values()] == [Dense, Dense, ReLU, Softmax, Dense]
    assert (lineup["B"].n_inputs, lineup["B"].n_outputs) == (4, 4)
    assert all(repr(s) == f"suspect {n}" for n, s in lineup.items())
    assert ">= 0" in suspect_source("C") and "mean" in suspect_source("A")


def test_suspect_c_differs_from_relu_only_at_exactly_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    suspect, relu = suspects(0)["C"], ReLU()
    assert np.array_equal(suspect.forward(x), relu.forward(x))
    dout = np.ones((1, 3))
    assert suspect.backward(dout).tolist() == [[0.0, 1.0, 1.0]]
    assert relu.backward(dout).tolist() == [[0.0, 0.0, 1.0]]


@pytest.mark.parametrize("answer", [
    RIGHT,
    {"A": "biases", "B": "dx", "C": None, "D": ("inputs",), "E": "none"},
    {"a": {"dbiases"}, "b": ["Inputs "], "c": "", "d": ["x"], "e": []},
    {"suspect A": ["b"], "Suspect B": ["inputs"], "C": [], "D": ["inputs"], "E": ["correct"]},
], ids=["lists", "strings-and-none", "lowercase-keys-and-aliases", "suspect-prefix"])
def test_bug_report_right_answers_pass(answer):
    result = check_bug_report(lambda: answer)
    assert result.ok and result.message.startswith("✅"), result.message


def test_bug_report_computed_with_the_reference_checker_passes():
    def computed():
        rng = np.random.default_rng(3)
        return {name: [k for k, e in gradcheck.check_layer(
                    s, rng.standard_normal((5, s.n_inputs)), rng).items() if e > 1e-4]
                for name, s in suspects(rng).items()}

    assert check_bug_report(computed).ok


def test_bug_report_unsolved_is_pending():
    for unsolved in (not_yet, lambda: None, None):
        result = check_bug_report(unsolved)
        assert not result.ok and result.message.startswith("⏳"), result.message


def report(**changes):
    return {**RIGHT, **changes}


def checked_with_a_batch_of_one():
    rng = np.random.default_rng(4)
    return {name: [k for k, e in gradcheck.check_layer(
                s, rng.standard_normal((1, s.n_inputs)), rng).items() if e > 1e-4]
            for name, s in suspects(rng).items()}


@pytest.mark.parametrize("answer, words", [
    (checked_with_a_batch_of_one(), "suspect A has a wrong gradient your report does not list"),
    (report(A=[]), "batch of several examples"),
    (report(C=["inputs"]), "suspect C's 'inputs' gradient is right"),
    (report(C=["inputs"]), "where ReLU has no derivative"),
    (report(B=["weights"]), "suspect B's 'weights' gradient is right"),
    (report(B=["inputs", "weights"]), "suspect B's 'weights' gradient is right"),
    (report(A=["weights", "biases"]), "suspect A's 'weights' gradient is right"),
    (report(E=["inputs"]), "suspect E's 'inputs' gradient is right"),
    (report(D=[]), "suspect D has a wrong gradient"),
    (report(D=["weights"]), "suspect D has no 'weights' gradient"),
    (report(B=["the inputs"]), "name gradients 'inputs', 'weights' or 'biases'"),
    (report(B=3), "give a list of the wrong gradients"),
    ({k: v for k, v in RIGHT.items() if k != "E"}, "no entry for suspect E"),
    (report(F=[]), "do not exist"),
    (["biases", "inputs"], "should return a dict"),
], ids=["batch-of-one", "missed-a", "c-is-no-bug", "c-explains-the-kink", "b-wrong-gradient",
        "b-extra-gradient", "a-extra-gradient", "e-control", "missed-d", "relu-softmax-no-params",
        "unknown-name", "number", "missing-key", "extra-key", "not-a-dict"])
def test_bug_report_wrong_answers_are_flagged(answer, words):
    assert_named(check_bug_report(lambda: answer), words)


def test_bug_report_counts_right_suspects_and_names_only_the_first_wrong_one():
    result = check_bug_report(lambda: {name: [] for name in RIGHT})
    assert_named(result, "2 of 5 suspects right; suspect A ")
    assert not any(f"suspect {other}" in result.message for other in "BCDE"), result.message
    assert "biases" not in result.message, result.message
