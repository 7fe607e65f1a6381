"""The chapter 02 checks catch the typical mistakes in neuron, dense_forward and Dense."""

import numpy as np
import pytest

import nnlib
from nnlib.checks import check_dense, check_dense_forward, check_neuron
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
