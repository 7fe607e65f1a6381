"""The chapter 02 checks catch the typical mistakes in neuron, dense_forward, Dense, init_std and the
Glorot-vs-He answer."""

import numpy as np
import pytest

import nnlib
from nnlib.checks import (check_dense, check_dense_forward, check_glorot_vs_he, check_init_std,
                          check_neuron)
from checkhelpers import assert_named, not_yet


class NotYetDense:
    def __init__(self, n_inputs, n_outputs, *, rng):
        raise NotImplementedError()


@pytest.mark.parametrize("check, student", [
    (check_neuron, not_yet), (check_dense_forward, not_yet), (check_dense, NotYetDense)])
def test_unimplemented_exercise_is_pending(check, student):
    result = check(student)
    assert not result.ok
    assert result.message.startswith("⏳")


# ---------------------------------------------------------------- neuron

def test_correct_neuron_versions_pass():
    assert check_neuron(lambda x, w, b: np.dot(x, w) + b).ok
    assert check_neuron(lambda x, w, b: x @ w + b).ok
    assert check_neuron(lambda x, w, b: float(np.sum(x * w)) + b).ok
    assert check_neuron(lambda x, w, b: sum(xi * wi for xi, wi in zip(x, w)) + b).ok


def _in_place_neuron(x, w, b):
    x *= w
    return x.sum() + b


@pytest.mark.parametrize("wrong, named", [
    (lambda x, w, b: np.dot(x, w), "bias is missing"),
    (lambda x, w, b: np.sum(x * w + b), "counts 3 times"),
    (lambda x, w, b: x * w + b, "one per input"),
    (lambda x, w, b: np.dot(x, w) - b, "bias is subtracted"),
    (lambda x, w, b: np.sum(x + w) + b, "MULTIPLIES"),
    (lambda x, w, b: np.dot(x, w) * b, "multiplied by the bias"),
    (lambda x, w, b: None, "forget `return`"),
    (_in_place_neuron, "in place"),
])
def test_wrong_neuron_is_named(wrong, named):
    assert_named(check_neuron(wrong), named)


# ---------------------------------------------------------------- dense_forward

def test_correct_dense_forward_versions_pass():
    assert check_dense_forward(lambda x, w, b: x @ w + b).ok
    assert check_dense_forward(lambda x, w, b: np.dot(x, w) + b.reshape(1, -1)).ok
    assert check_dense_forward(lambda x, w, b: (w.T @ x.T).T + b).ok
    assert check_dense_forward(lambda x, w, b: np.einsum("ni,io->no", x, w) + b).ok


def _in_place_dense_forward(x, w, b):
    x[:] = x @ w + b if w.shape[0] == w.shape[1] else x
    return x @ w + b


@pytest.mark.parametrize("wrong, named", [
    (lambda x, w, b: x @ w, "biases are missing"),
    (lambda x, w, b: x @ w.T + b, "weights transposed"),
    (lambda x, w, b: w.T @ x.T + b[:, None], "output is transposed"),
    (lambda x, w, b: x @ w + b[:, None], "as a column"),
    (lambda x, w, b: x @ w + b.sum(), "SUM of the biases"),
    (lambda x, w, b: x @ w - b, "biases are subtracted"),
    (_in_place_dense_forward, "in place"),
])
def test_wrong_dense_forward_is_named(wrong, named):
    assert_named(check_dense_forward(wrong), named)


def test_dense_forward_shape_error_explains_the_shapes():
    # a transposed product that only runs for square layers fails later with a shape hint
    def transposed_unless_square(x, w, b):
        return x @ w + b if w.shape[0] == w.shape[1] else x @ w.T + b
    assert_named(check_dense_forward(transposed_unless_square), "(n_inputs, n_outputs)")


# ---------------------------------------------------------------- Dense

def make_dense(init=None, forward=None):
    """A Dense class whose __init__ or forward is replaced by a deliberately wrong one."""
    def default_init(self, n_inputs, n_outputs, *, rng):
        self.weights = rng.standard_normal((n_inputs, n_outputs)) * np.sqrt(2 / n_inputs)
        self.biases = np.zeros(n_outputs)

    def default_forward(self, x):
        return x @ self.weights + self.biases

    return type("Dense", (), {"__init__": init or default_init,
                              "forward": forward or default_forward})


def test_nnlib_dense_passes():
    result = check_dense(nnlib.Dense)
    assert result.ok and result.message.startswith("✅")


def test_other_correct_dense_versions_pass():
    assert check_dense(make_dense()).ok

    def normal_init(self, n_inputs, n_outputs, *, rng):
        self.weights = rng.normal(0.0, np.sqrt(2 / n_inputs), size=(n_inputs, n_outputs))
        self.biases = np.zeros(n_outputs, dtype=np.float32)
    assert check_dense(make_dense(init=normal_init)).ok

    def transposed_draw(self, n_inputs, n_outputs, *, rng):
        self.weights = (rng.standard_normal((n_outputs, n_inputs)) * np.sqrt(2 / n_inputs)).T
        self.biases = np.zeros(n_outputs)
    assert check_dense(make_dense(init=transposed_draw)).ok


def _init(weights=None, biases=None):
    """An __init__ that draws He weights unless told otherwise; weights(rng, n_in, n_out)."""
    def init(self, n_inputs, n_outputs, *, rng):
        self.weights = (weights(rng, n_inputs, n_outputs) if weights else
                        rng.standard_normal((n_inputs, n_outputs)) * np.sqrt(2 / n_inputs))
        self.biases = biases(n_outputs) if biases else np.zeros(n_outputs)
    return init


@pytest.mark.parametrize("init, named", [
    (_init(weights=lambda r, i, o: r.standard_normal((o, i)) * np.sqrt(2 / i)),
     "(n_outputs, n_inputs)"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o, 1))), "expected (n_inputs, n_outputs)"),
    (_init(biases=lambda o: np.zeros((1, o))), "make it 1-D"),
    (_init(biases=lambda o: np.zeros((o, 1))), "make it 1-D"),
    (_init(biases=lambda o: np.ones(o)), "start at zero"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o))), "standard deviation 1"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * 0.01), "0.01"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * np.sqrt(1 / i)), "sqrt(1/n_inputs)"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * 2 / i), "VARIANCE"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * np.sqrt(2 / o)), "INPUTS"),
    (_init(weights=lambda r, i, o: r.random((i, o)) * np.sqrt(2 / i)), "mean"),
    (_init(weights=lambda r, i, o: np.full((i, o), np.sqrt(2 / i))), "all weights are equal"),
    (_init(weights=lambda r, i, o: np.random.standard_normal((i, o)) * np.sqrt(2 / i)),
     "same rng seed"),
    (_init(weights=lambda r, i, o: np.random.default_rng(0).standard_normal((i, o))
           * np.sqrt(2 / i)), "whatever rng is passed"),
])
def test_wrong_dense_init_is_named(init, named):
    assert_named(check_dense(make_dense(init=init)), named)


def _no_attributes(self, n_inputs, n_outputs, *, rng):
    self.W = rng.standard_normal((n_inputs, n_outputs)) * np.sqrt(2 / n_inputs)
    self.b = np.zeros(n_outputs)


def test_dense_without_the_course_attribute_names_is_named():
    assert_named(check_dense(make_dense(init=_no_attributes)), "no attribute `weights`")


def _in_place_forward(self, x):
    x -= 0
    x *= 1.5
    return x / 1.5 @ self.weights + self.biases


@pytest.mark.parametrize("forward, named", [
    (lambda self, x: x @ self.weights, "forgets the biases"),
    (lambda self, x: (x @ self.weights + self.biases).T, "transposed"),
    (lambda self, x: x @ self.weights.T + self.biases, "weights transposed"),
    (lambda self, x: None, "forget `return`"),
    (_in_place_forward, "in place"),
])
def test_wrong_dense_forward_method_is_named(forward, named):
    assert_named(check_dense(make_dense(forward=forward)), named)


# --- init_std -----------------------------------------------------------------------------------------
def init_std_with(glorot=None, he=None, normal=None):
    """A correct init_std except for the formulas given, each a function of (n_in, n_out)."""
    right = {"normal": lambda i, o: 1.0, "glorot": lambda i, o: np.sqrt(2 / (i + o)),
             "he": lambda i, o: np.sqrt(2 / i)}
    given = {"normal": normal, "glorot": glorot, "he": he}

    def init_std(n_inputs, n_outputs, method):
        return (given[method] or right[method])(n_inputs, n_outputs)
    return init_std


def test_init_std_reference_passes():
    result = check_init_std(init_std_with())
    assert result.ok and result.message.startswith("✅"), result.message


def test_init_std_returning_numpy_scalars_passes():
    assert check_init_std(init_std_with(he=lambda i, o: np.float32(np.sqrt(2 / i)))).ok
    assert check_init_std(init_std_with(he=lambda i, o: np.sqrt(np.float64(2) / i))).ok


def test_init_std_unimplemented_is_pending():
    result = check_init_std(not_yet)
    assert not result.ok and result.message.startswith("⏳")


@pytest.mark.parametrize("wrong, named", [
    (dict(he=lambda i, o: 2 / i), "VARIANCE"),
    (dict(glorot=lambda i, o: 2 / (i + o)), "VARIANCE"),
    (dict(he=lambda i, o: np.sqrt(2 / o)), "INPUTS"),
    (dict(he=lambda i, o: np.sqrt(1 / i)), "factor 2"),
    (dict(he=lambda i, o: 1 / i), "square root are missing"),
    (dict(he=lambda i, o: np.sqrt(2) / i), "square root of the whole fraction"),
    (dict(he=lambda i, o: np.sqrt(2 / (i + o))), "Glorot's"),
    (dict(glorot=lambda i, o: np.sqrt(1 / (i + o))), "factor 2"),
    (dict(glorot=lambda i, o: np.sqrt(1 / i)), "LeCun"),
    (dict(glorot=lambda i, o: np.sqrt(2 / i)), "He's"),
    (dict(glorot=lambda i, o: np.sqrt(6 / (i + o))), "uniform"),
    (dict(glorot=lambda i, o: np.sqrt(2 / i + 2 / o)), "add the sizes first"),
    (dict(glorot=lambda i, o: np.sqrt(2 / i + o)), "brackets"),
    (dict(normal=lambda i, o: np.sqrt(2 / i)), "'normal' means"),
    (dict(normal=lambda i, o: 0.0), "standard deviation 1"),
    (dict(glorot=lambda i, o: None), "forget `return`"),
    (dict(he=lambda i, o: np.full(3, np.sqrt(2 / i))), "single number"),
    (dict(glorot=lambda i, o: np.sqrt(2 / (i + o)) * 1.01), "expected"),
], ids=["he-variance", "glorot-variance", "he-n-outputs", "he-no-2", "he-no-2-no-sqrt",
        "he-sqrt-numerator", "he-is-glorot", "glorot-no-2", "glorot-lecun", "glorot-is-he",
        "glorot-uniform-limit", "glorot-sum-of-fractions", "glorot-brackets", "normal-is-he",
        "normal-zero", "none", "array", "slightly-off"])
def test_init_std_names_the_mistake(wrong, named):
    assert_named(check_init_std(init_std_with(**wrong)), named)


# --- glorot_vs_he -------------------------------------------------------------------------------------
def answer(glorot_factor=0.71, he_factor=1.0, depth=21):
    return {"glorot_factor": glorot_factor, "he_factor": he_factor, "depth": depth}


@pytest.mark.parametrize("given", [
    answer(), answer(1 / np.sqrt(2), 1, 20), answer(0.75, 1.06, np.int64(21)),
    answer(np.float64(0.7), 0.95, 21.0),
])
def test_glorot_vs_he_right_answers_pass(given):
    result = check_glorot_vs_he(lambda: given)
    assert result.ok and result.message.startswith("✅"), result.message


def test_glorot_vs_he_unanswered_is_pending():
    for unanswered in (not_yet, lambda: None, None):
        result = check_glorot_vs_he(unanswered)
        assert not result.ok and result.message.startswith("⏳"), result.message


@pytest.mark.parametrize("given, named", [
    (answer(glorot_factor=0.5), "VARIANCE"),
    (answer(he_factor=0.5), "VARIANCE"),
    (answer(glorot_factor=1.0), "would keep the signal steady"),
    (answer(glorot_factor=1.41), "PREVIOUS"),
    (answer(he_factor=0.71), "0.71 is Glorot's"),
    (answer(glorot_factor=0.9), "does not match the table"),
    (answer(depth=10), "twice as many layers"),
    (answer(depth=11), "twice as many layers"),
    (answer(depth=19), "does not fit"),
    (answer(depth=30), "does not fit"),
    (answer(depth=20.5), "whole number"),
    (answer(depth="21"), "one number"),
    (answer(he_factor=np.nan), "finite"),
    (answer(glorot_factor=[0.7, 0.71]), "one number"),
    ({"glorot": 0.71, "he": 1.0, "depth": 21}, "exactly the keys"),
    ((0.71, 1.0, 21), "exactly the keys"),
], ids=["glorot-variance", "he-variance", "glorot-one", "inverted-ratio", "he-is-glorot",
        "glorot-off", "depth-halving", "depth-halving-11", "depth-19", "depth-30",
        "depth-fraction", "depth-string", "nan", "list", "wrong-keys", "tuple"])
def test_glorot_vs_he_wrong_answers_are_named(given, named):
    assert_named(check_glorot_vs_he(lambda: given), named)
