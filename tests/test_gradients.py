"""Every layer and loss, gradient-checked in float64 against central differences.

Tolerance: rel_error < 1e-6 (the element-wise maximum, so gradient entries as small as 1e-4 count
fully); a wrong backward scores 1e-2 to 1.
"""

import numpy as np
import pytest

from nnlib import CategoricalCrossEntropy, Dense, ReLU, Softmax, SoftmaxCrossEntropy
from nnlib.activations import softmax
from nnlib.gradcheck import check_layer, numerical_gradient, rel_error

TOL = 1e-6


def test_dense_gradients_match_numerical_in_float64(rng):
    layer = Dense(5, 3, rng=rng, dtype=np.float64)
    layer.biases[:] = rng.standard_normal(3)
    errors = check_layer(layer, rng.standard_normal((4, 5)), rng)
    assert set(errors) == {"inputs", "weights", "biases"}
    assert max(errors.values()) < TOL, errors


def test_relu_gradient_matches_numerical_away_from_zero(rng):
    x = rng.standard_normal((4, 6))
    x[np.abs(x) < 0.01] = 0.5  # the kink at 0 has no derivative; keep clear of it
    assert check_layer(ReLU(), x, rng)["inputs"] < TOL


def test_softmax_gradient_matches_numerical(rng):
    assert check_layer(Softmax(), rng.standard_normal((4, 5)), rng)["inputs"] < TOL


@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_categorical_cross_entropy_gradient_matches_numerical(rng, labels):
    p = softmax(rng.standard_normal((6, 4)))
    y = rng.integers(0, 4, 6)
    y_true = np.eye(4)[y] if labels == "one-hot" else y
    loss = CategoricalCrossEntropy()
    numeric = numerical_gradient(lambda: loss.forward(p, y_true), p, eps=1e-7)
    assert rel_error(loss.backward(p, y_true), numeric) < 1e-6


@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_softmax_cross_entropy_gradient_matches_numerical(rng, labels):
    z = rng.standard_normal((6, 4)) * 2
    y = rng.integers(0, 4, 6)
    y_true = np.eye(4)[y] if labels == "one-hot" else y
    loss = SoftmaxCrossEntropy()
    numeric = numerical_gradient(lambda: loss.forward(z, y_true), z)
    assert rel_error(loss.backward(z, y_true), numeric) < TOL


def test_fused_gradient_equals_softmax_backward_of_cross_entropy_backward(rng):
    z = rng.standard_normal((8, 10))
    y = rng.integers(0, 10, 8)
    sm = Softmax()
    p = sm.forward(z)
    separate = sm.backward(CategoricalCrossEntropy().backward(p, y))
    fused = SoftmaxCrossEntropy().backward(z, y)
    np.testing.assert_allclose(fused, separate, rtol=1e-9, atol=1e-12)
    assert np.isclose(SoftmaxCrossEntropy().forward(z, y), CategoricalCrossEntropy().forward(p, y))


def test_softmax_backward_equals_per_sample_jacobian(rng):
    z, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    sm = Softmax()
    p = sm.forward(z)
    jacobian_rows = [(np.diagflat(pi) - np.outer(pi, pi)) @ di for pi, di in zip(p, dout)]
    np.testing.assert_allclose(sm.backward(dout), np.array(jacobian_rows), atol=1e-14)


def test_numerical_gradient_restores_its_input(rng):
    x = rng.standard_normal((3, 3))
    before = x.copy()
    numerical_gradient(lambda: (x ** 2).sum(), x)
    np.testing.assert_array_equal(x, before)


def test_rel_error_is_zero_for_equal_and_one_for_opposite_arrays():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, -a) == 1.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
