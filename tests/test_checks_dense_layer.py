"""The chapter 02 checks catch the typical mistakes in neuron, dense_forward, Dense, init_std and
the Glorot-vs-He answer."""

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
    (lambda x, w, b: np.dot(x, w) * b, "multiplied the weighted sum by the bias"),
    (lambda x, w, b: None, "without returning"),
    (_in_place_neuron, "in place"),
    (lambda x, w, b: str(np.dot(x, w) + b), "not a number"),
])
def test_wrong_neuron_is_named(wrong, named):
    assert_named(check_neuron(wrong), named)


@pytest.mark.parametrize("wrong, shape", [
    (lambda x, w, b: np.array([np.dot(x, w) + b]), "(1,)"),
    (lambda x, w, b: x.reshape(1, -1) @ w + b, "(1,)"),
    (lambda x, w, b: x @ w.reshape(-1, 1) + b, "(1,)"),
    (lambda x, w, b: x.reshape(1, -1) @ w.reshape(-1, 1) + b, "(1, 1)"),
    (lambda x, w, b: [float(np.dot(x, w) + b)], "(1,)"),
], ids=["wrapped", "x-as-row", "w-as-column", "row-times-column", "list"])
def test_neuron_returning_one_number_in_an_array_is_named(wrong, shape):
    # the exercise asks for a single number; an array holding one is a different shape
    result = check_neuron(wrong)
    assert_named(result, f"array of shape {shape} holding one number")
    assert "scalar" in result.message and "1-D" in result.hint and "np.dot(x, w)" in result.fix


def test_neuron_failure_carries_the_exercise_hint_and_fix():
    result = check_neuron(lambda x, w, b: np.dot(x, w) * 1.5 + b)
    assert result.status == "fail"
    assert result.fix.startswith("def neuron(x, w, b):")


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
    (lambda x, w, b: x @ w + b.sum(), "SUM of all biases"),
    (lambda x, w, b: x @ w - b, "biases are subtracted"),
    (_in_place_dense_forward, "in place"),
])
def test_wrong_dense_forward_is_named(wrong, named):
    assert_named(check_dense_forward(wrong), named)


def test_dense_forward_shape_error_explains_the_shapes():
    # a transposed product that only runs for square layers fails later with a shape hint
    def transposed_unless_square(x, w, b):
        return x @ w + b if w.shape[0] == w.shape[1] else x @ w.T + b
    result = check_dense_forward(transposed_unless_square)
    assert_named(result, "weights (n_inputs, n_outputs)")
    assert "x (5, 3), weights (3, 2), biases (2,)" in result.message
    assert result.fix == "def dense_forward(x, weights, biases):\n    return x @ weights + biases"


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
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * np.sqrt(1 / i)), "√(1/n_inputs)"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * 2 / i), "VARIANCE"),
    (_init(weights=lambda r, i, o: r.standard_normal((i, o)) * np.sqrt(2 / o)), "INPUTS"),
    (_init(weights=lambda r, i, o: r.random((i, o)) * np.sqrt(2 / i)), "mean"),
    (_init(weights=lambda r, i, o: np.full((i, o), np.sqrt(2 / i))), "all weights are equal"),
    (_init(weights=lambda r, i, o: np.random.standard_normal((i, o)) * np.sqrt(2 / i)),
     "same seed"),
    (_init(weights=lambda r, i, o: np.random.default_rng(0).standard_normal((i, o))
           * np.sqrt(2 / i)), "whatever rng is passed"),
])
def test_wrong_dense_init_is_named(init, named):
    assert_named(check_dense(make_dense(init=init)), named)


def _he_uniform(rng, n_inputs, n_outputs):
    """He's variance 2/n_inputs from U(−a, a): the right std, the wrong distribution."""
    a = np.sqrt(6 / n_inputs)
    return rng.uniform(-a, a, size=(n_inputs, n_outputs))


def _truncated_normal(rng, n_inputs, n_outputs):
    """Normal numbers cut at ±2 and rescaled to He's std: the right std, thin tails."""
    z = rng.standard_normal(4 * n_inputs * n_outputs)
    z = z[np.abs(z) < 2][:n_inputs * n_outputs].reshape(n_inputs, n_outputs)
    return z / z.std() * np.sqrt(2 / n_inputs)


@pytest.mark.parametrize("seed", [1, 2, 7, 123])
def test_he_scaled_uniform_weights_are_named(seed):
    # the exercise asks for standard normal numbers; uniform ones with He's std must not pass,
    # whatever the generator's seed (the wrong init draws from its own seeded generator)
    def init(self, n_inputs, n_outputs, *, rng):
        own = np.random.default_rng([seed, int(rng.integers(1 << 30))])
        self.weights = _he_uniform(own, n_inputs, n_outputs)
        self.biases = np.zeros(n_outputs)
    result = check_dense(make_dense(init=init))
    assert_named(result, "uniform distribution")
    assert "4.6 %" in result.hint and "rng.standard_normal" in result.fix


def test_he_scaled_uniform_weights_with_a_uniform_call_are_named():
    def init(self, n_inputs, n_outputs, *, rng):
        self.weights = (rng.random((n_inputs, n_outputs)) - 0.5) * np.sqrt(24 / n_inputs)
        self.biases = np.zeros(n_outputs)
    assert_named(check_dense(make_dense(init=init)), "uniform distribution")


def test_truncated_normal_weights_are_named():
    assert_named(check_dense(make_dense(init=_init(weights=_truncated_normal))),
                 "not distributed like normal numbers")


@pytest.mark.parametrize("seed", range(40))
def test_normal_weights_pass_the_distribution_test_for_any_seed(seed):
    def init(self, n_inputs, n_outputs, *, rng):
        self.weights = np.random.default_rng([seed, int(rng.integers(1 << 30))]).standard_normal(
            (n_inputs, n_outputs)) * np.sqrt(2 / n_inputs)
        self.biases = np.zeros(n_outputs)
    result = check_dense(make_dense(init=init))
    assert result.ok, result.message


def test_dense_without_the_rng_keyword_is_named():
    def init(self, n_inputs, n_outputs):
        self.weights = np.zeros((n_inputs, n_outputs))
        self.biases = np.zeros(n_outputs)
    assert_named(check_dense(make_dense(init=init)), "keyword argument rng")


def test_dense_without_forward_is_named():
    cls = type("Dense", (), {"__init__": _init()})
    assert_named(check_dense(cls), "no forward method")


def test_dense_with_weights_that_are_not_numbers_is_named():
    assert_named(check_dense(make_dense(init=_init(weights=lambda r, i, o: np.full((i, o), "w")))),
                 "not an array of real numbers")


def _no_attributes(self, n_inputs, n_outputs, *, rng):
    self.W = rng.standard_normal((n_inputs, n_outputs)) * np.sqrt(2 / n_inputs)
    self.b = np.zeros(n_outputs)


def test_dense_without_the_course_attribute_names_is_named():
    assert_named(check_dense(make_dense(init=_no_attributes)), "no attribute weights")


def _in_place_forward(self, x):
    x -= 0
    x *= 1.5
    return x / 1.5 @ self.weights + self.biases


@pytest.mark.parametrize("forward, named", [
    (lambda self, x: x @ self.weights, "forgets the biases"),
    (lambda self, x: (x @ self.weights + self.biases).T, "transposed"),
    (lambda self, x: x @ self.weights.T + self.biases, "weights transposed"),
    (lambda self, x: None, "without returning"),
    (_in_place_forward, "in place"),
])
def test_wrong_dense_forward_method_is_named(forward, named):
    assert_named(check_dense(make_dense(forward=forward)), named)


# --- init_std ------------------------------------------------------------------------------------
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
    (dict(he=lambda i, o: np.sqrt(2) / i), "covers the 2 but not the n_inputs"),
    (dict(he=lambda i, o: np.sqrt(2 / (i + o))), "Glorot's"),
    (dict(glorot=lambda i, o: np.sqrt(1 / (i + o))), "factor 2"),
    (dict(glorot=lambda i, o: np.sqrt(1 / i)), "LeCun"),
    (dict(glorot=lambda i, o: np.sqrt(2 / i)), "He's"),
    (dict(glorot=lambda i, o: np.sqrt(6 / (i + o))), "uniform"),
    (dict(glorot=lambda i, o: np.sqrt(2 / i + 2 / o)), "adds the sizes first"),
    (dict(glorot=lambda i, o: np.sqrt(2 / i + o)), "brackets"),
    (dict(normal=lambda i, o: np.sqrt(2 / i)), "'normal' means"),
    (dict(normal=lambda i, o: 0.0), "σ = 1"),
    (dict(glorot=lambda i, o: None), "without returning a value for the method 'glorot'"),
    (dict(he=lambda i, o: np.full(3, np.sqrt(2 / i))), "single number"),
    (dict(he=lambda i, o: np.array([np.sqrt(2 / i)])), "single number"),
    (dict(he=lambda i, o: "0.05"), "not a number"),
    (dict(glorot=lambda i, o: np.sqrt(2 / (i + o)) * 1.01), "expected"),
], ids=["he-variance", "glorot-variance", "he-n-outputs", "he-no-2", "he-no-2-no-sqrt",
        "he-sqrt-numerator", "he-is-glorot", "glorot-no-2", "glorot-lecun", "glorot-is-he",
        "glorot-uniform-limit", "glorot-sum-of-fractions", "glorot-brackets", "normal-is-he",
        "normal-zero", "none", "array", "array-of-one", "string", "slightly-off"])
def test_init_std_names_the_mistake(wrong, named):
    assert_named(check_init_std(init_std_with(**wrong)), named)


def test_glorot_with_the_product_of_the_sizes_is_named():
    # sqrt(2/(n_in*n_out)) used to fail with a bare "is 0.00319, expected 0.0442"
    result = check_init_std(init_std_with(glorot=lambda i, o: np.sqrt(2 / (i * o))))
    assert_named(result, "MULTIPLIED the two sizes")
    assert "average" in result.hint
    assert result.fix == 'if method == "glorot":\n    return np.sqrt(2 / (n_inputs + n_outputs))'


# --- glorot_vs_he --------------------------------------------------------------------------------
def answer(glorot_factor=0.71, he_factor=1.0, depth=21):
    return {"glorot_factor": glorot_factor, "he_factor": he_factor, "depth": depth}


@pytest.mark.parametrize("given", [
    answer(), answer(1 / np.sqrt(2), 1, 21), answer(0.75, 1.06, np.int64(21)),
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
    (answer(glorot_factor=1.41), "NEXT layer's"),
    (answer(he_factor=2.0), "NEXT layer's"),
    (answer(he_factor=0.71), "He factor of 0.71 would make the signal fade"),
    (answer(glorot_factor=0.9), "does not match the table"),
    (answer(depth=20), "FIRST depth"),
    (answer(depth=20.0), "FIRST depth"),
    (answer(depth=22), "FIRST such depth"),
    (answer(depth=0), "not a number of layers"),
    (answer(depth=10), "twice as many layers"),
    (answer(depth=11), "twice as many layers"),
    (answer(depth=19), "does not fit"),
    (answer(depth=30), "does not fit"),
    (answer(depth=1000), "more than a million times"),
    (answer(depth=20.5), "whole number"),
    (answer(depth="21"), "one number"),
    (answer(he_factor=np.nan), "finite"),
    (answer(glorot_factor=[0.7, 0.71]), "one number"),
    ({"glorot": 0.71, "he": 1.0, "depth": 21}, "exactly the keys"),
    ((0.71, 1.0, 21), "exactly the keys"),
], ids=["glorot-variance", "he-variance", "glorot-one", "inverted-ratio", "he-inverted",
        "he-is-glorot", "glorot-off", "depth-20", "depth-20-float", "depth-22", "depth-0",
        "depth-halving", "depth-halving-11", "depth-19", "depth-30", "depth-1000",
        "depth-fraction", "depth-string", "nan", "list", "wrong-keys", "tuple"])
def test_glorot_vs_he_wrong_answers_are_named(given, named):
    assert_named(check_glorot_vs_he(lambda: given), named)


def test_glorot_vs_he_depth_20_is_named_with_how_far_it_falls_short():
    # the question asks for the FIRST depth at which Glorot's signal is 1000 times smaller (21);
    # 20 used to pass
    result = check_glorot_vs_he(lambda: answer(depth=20))
    assert_named(result, "at 20 layers Glorot's activations are about 834 times smaller")
    assert "index L is the output of layer L" in result.hint
    assert "np.argmax(glorot / he < 1e-3)" in result.fix


def test_glorot_vs_he_depth_is_21_by_the_chapters_own_measurement():
    from nnlib import load_mnist, preprocess
    images = preprocess(load_mnist()[0][0][:200]).astype(np.float64)

    def stds(sigma, n_layers=25, width=256, seed=0):
        rng, h, out = np.random.default_rng(seed), images, [images.std()]
        for _ in range(n_layers):
            h = np.maximum(h @ (rng.standard_normal((h.shape[1], width)) * sigma(h.shape[1])), 0)
            out.append(h.std())
        return np.array(out)
    ratio = stds(lambda n_in: np.sqrt(2 / (n_in + 256))) / stds(lambda n_in: np.sqrt(2 / n_in))
    assert int(np.argmax(ratio < 1e-3)) == 21
    assert check_glorot_vs_he(lambda: answer(depth=int(np.argmax(ratio < 1e-3)))).ok
