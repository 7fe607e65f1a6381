"""Optimizer settings: bad values are one-line errors; weight decay is the gradient of (λ/2)ΣW²."""

import re

import numpy as np
import pytest

from nnlib import SGD, Adam, Dense


@pytest.mark.parametrize("make, words", [
    (lambda: SGD(0.1, momentum="0.9"), "momentum must be a number in [0, 1)"),
    (lambda: SGD(0.1, momentum=1.0), "momentum must be a number in [0, 1)"),
    (lambda: SGD(0.1, weight_decay=-1e-4), "weight_decay must be a number ≥ 0"),
    (lambda: Adam(beta1=1.0), "beta1 must be a number in [0, 1)"),
    (lambda: Adam(beta1=-0.1), "beta1 must be a number in [0, 1)"),
    (lambda: Adam(beta2=1.5), "beta2 must be a number in [0, 1)"),
    (lambda: Adam(eps=0), "eps must be a positive number"),
    (lambda: Adam(eps=-1e-8), "eps must be a positive number"),
    (lambda: Adam(weight_decay="1e-4"), "weight_decay must be a number ≥ 0"),
])
def test_bad_optimizer_settings_are_one_line_errors(make, words):
    with pytest.raises(ValueError, match=re.escape(words)) as err:
        make()
    assert "\n" not in str(err.value)


def _layer(rng):
    layer = Dense(4, 3, rng=rng, dtype=np.float64)
    layer.biases[...] = rng.standard_normal(3)
    layer.dweights, layer.dbiases = rng.standard_normal((4, 3)), rng.standard_normal(3)
    return layer


def test_sgd_weight_decay_adds_lambda_w_to_the_weights_gradient_only(rng):
    layer = _layer(rng)
    w, b, dw, db = layer.weights.copy(), layer.biases.copy(), layer.dweights, layer.dbiases
    SGD(0.1, weight_decay=0.01).step([layer])
    np.testing.assert_allclose(layer.weights, w - 0.1 * (dw + 0.01 * w), rtol=1e-12)
    np.testing.assert_allclose(layer.biases, b - 0.1 * db, rtol=1e-12)


def test_weight_decay_equals_adding_half_lambda_w_squared_to_the_loss(rng):
    # the same step as plain SGD on the gradient of L + (λ/2) ΣW², taken numerically
    lam, w0 = 0.05, rng.standard_normal((4, 3))
    decayed, plain = _layer(np.random.default_rng(7)), _layer(np.random.default_rng(7))
    decayed.weights[...] = plain.weights[...] = w0
    eps, penalty_grad = 1e-6, np.zeros_like(w0)
    for i in np.ndindex(w0.shape):
        up, down = w0.copy(), w0.copy()
        up[i] += eps
        down[i] -= eps
        penalty_grad[i] = (lam / 2 * (up ** 2).sum() - lam / 2 * (down ** 2).sum()) / (2 * eps)
    plain.dweights = plain.dweights + penalty_grad
    SGD(0.1, weight_decay=lam).step([decayed])
    SGD(0.1).step([plain])
    np.testing.assert_allclose(decayed.weights, plain.weights, rtol=1e-8)


def test_adam_weight_decay_changes_the_step_and_zero_decay_does_not(rng):
    a, b, c = _layer(np.random.default_rng(3)), _layer(np.random.default_rng(3)), _layer(
        np.random.default_rng(3))
    Adam(0.01).step([a])
    Adam(0.01, weight_decay=0.0).step([b])
    Adam(0.01, weight_decay=0.5).step([c])
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.allclose(a.weights, c.weights)
    np.testing.assert_array_equal(a.biases, c.biases)
