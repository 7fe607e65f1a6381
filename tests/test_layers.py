import subprocess
import sys

import numpy as np
import pytest

from nnlib import (SGD, Adam, CategoricalCrossEntropy, Dense, Model, ReLU, Softmax,
                   SoftmaxCrossEntropy, accuracy)


def test_dense_forward_is_x_times_w_plus_b(rng):
    layer = Dense(3, 2, rng=rng)
    layer.biases[:] = [1, -1]
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x), x @ layer.weights + layer.biases, rtol=1e-6)


def test_dense_uses_he_initialisation_and_zero_biases():
    layer = Dense(784, 512, rng=0)
    assert layer.weights.dtype == np.float32 and layer.weights.shape == (784, 512)
    assert abs(layer.weights.std() - np.sqrt(2 / 784)) < 0.002
    assert not layer.biases.any() and layer.biases.shape == (512,)


def test_dense_is_reproducible_from_its_rng():
    a, b = Dense(4, 3, rng=7), Dense(4, 3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weights, b.weights)


def test_dense_backward_sets_rather_than_accumulates_gradients(rng):
    layer = Dense(3, 2, rng=rng, dtype=np.float64)
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    layer.forward(x)
    layer.backward(dout)
    first = layer.dweights.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(layer.dweights, first)


def test_dense_rejects_wrong_feature_count_naming_both_shapes():
    with pytest.raises(ValueError, match=r"Dense\(784 → 128\) got input of shape \(64, 785\): "
                                         r"expected 784 features"):
        Dense(784, 128, rng=0).forward(np.zeros((64, 785), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_parameters_start_on_a_cache_line_also_after_load(dtype, tmp_path):
    # the benchmarks measured misaligned weights 25 % slower with two BLAS threads
    model = Model([Dense(784, 128, rng=0, dtype=dtype), ReLU(), Dense(128, 10, rng=1, dtype=dtype)])
    model.save(tmp_path / "m")
    for m in (model, Model.load(tmp_path / "m")):
        for layer in (m.layers[0], m.layers[2]):
            for array in (layer.weights, layer.biases):
                assert array.ctypes.data % 64 == 0 and array.flags.c_contiguous
                assert array.flags.writeable and array.dtype == dtype


def test_dense_rejects_a_batch_that_is_not_2d():
    with pytest.raises(ValueError, match=r"Dense\(3 → 2\) got input of shape \(3,\): expected 3 "
                                         r"features in a 2-D array \(batch, features\)"):
        Dense(3, 2).forward(np.zeros(3, np.float32))


def test_dense_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match="n_outputs must be a positive integer"):
        Dense(3, 0)


def test_relu_keeps_positives_and_zeroes_negatives():
    x = np.array([[-2.0, 0.0, 3.0]])
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(x), [[0, 0, 3]])
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), [[0, 0, 1]])
    np.testing.assert_array_equal(x, [[-2.0, 0.0, 3.0]])


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_rows_sum_to_one_for_huge_logits(rng, scale):
    z = rng.standard_normal((6, 10)).astype(np.float32) * scale
    p = Softmax().forward(z)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(p.argmax(axis=1), z.argmax(axis=1))


def test_softmax_cross_entropy_is_exact_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    loss = SoftmaxCrossEntropy()
    # the true class of row 0 is 2: its log-probability is exactly -2e4
    assert loss.forward(z, np.array([2, 1])) == pytest.approx((2e4 + 0.0) / 2)
    assert np.all(np.isfinite(loss.backward(z, np.array([2, 1]))))


def test_cross_entropy_stays_finite_for_probabilities_of_zero():
    p = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    loss = CategoricalCrossEntropy()
    value = loss.forward(p, np.array([1, 1]))
    assert np.isfinite(value) and value == pytest.approx(-np.log(1e-7) / 2, rel=1e-4)
    assert np.all(np.isfinite(loss.backward(p, np.array([1, 1]))))


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_cross_entropy_of_nan_probabilities_raises_instead_of_returning_nan(method):
    p = np.full((4, 3), 1 / 3)
    p[2, 0] = np.nan  # not even the true class of row 2: the row is broken all the same
    with pytest.raises(ValueError, match=r"^CategoricalCrossEntropy got NaN probabilities in 1 of "
                                         r"the 4 rows \(the first is row 2\)"):
        getattr(CategoricalCrossEntropy(), method)(p, np.array([0, 1, 2, 0]))


def test_one_hot_and_integer_labels_give_the_same_loss_gradient_and_accuracy(rng):
    z = rng.standard_normal((7, 10))
    p = Softmax().forward(z)
    y = rng.integers(0, 10, 7)
    y_hot = np.eye(10)[y]
    for loss, x in ((CategoricalCrossEntropy(), p), (SoftmaxCrossEntropy(), z)):
        assert loss.forward(x, y) == loss.forward(x, y_hot)
        np.testing.assert_array_equal(loss.backward(x, y), loss.backward(x, y_hot))
    assert accuracy(p, y) == accuracy(p, y_hot)


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 10]), r"labels from 0 to 10, expected class ids 0..9"),
    (np.array([-1, 3]), r"labels from -1 to 3"),
    (np.zeros((2, 3)), r"one-hot labels with 3 columns, expected 10"),
    (np.array([0.5, 1.0]), r"expected integer class ids"),
])
def test_bad_labels_get_a_one_line_value_error(labels, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxCrossEntropy().forward(np.zeros((2, 10)), labels)


def test_label_and_prediction_counts_must_match():
    with pytest.raises(ValueError, match="got 3 predictions but 2 labels"):
        CategoricalCrossEntropy().forward(np.full((3, 2), 0.5), np.array([0, 1]))


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), "0.1"])
def test_optimizers_reject_bad_learning_rates(lr):
    for cls in (SGD, Adam):
        with pytest.raises(ValueError, match="learning_rate must be a positive number"):
            cls(lr)


def test_sgd_step_moves_against_the_gradient_in_place(rng):
    layer = Dense(2, 2, rng=rng, dtype=np.float64)
    weights = layer.weights
    before = weights.copy()
    layer.dweights, layer.dbiases = np.ones((2, 2)), np.ones(2)
    SGD(0.5).step([layer])
    assert layer.weights is weights
    np.testing.assert_allclose(layer.weights, before - 0.5)
    np.testing.assert_allclose(layer.biases, -0.5)


def test_sgd_momentum_accumulates_velocity():
    layer = Dense(1, 1, rng=0, dtype=np.float64)
    layer.weights[:] = 0
    layer.dweights, layer.dbiases = np.ones((1, 1)), np.zeros(1)
    opt = SGD(0.1, momentum=0.9)
    opt.step([layer])
    opt.step([layer])
    # v1 = -0.1, v2 = 0.9 * v1 - 0.1 = -0.19; w = v1 + v2
    assert layer.weights[0, 0] == pytest.approx(-0.29)


def test_adam_first_step_is_learning_rate_times_sign_of_gradient():
    layer = Dense(2, 1, rng=0, dtype=np.float64)
    before = layer.weights.copy()
    layer.dweights, layer.dbiases = np.array([[3.0], [-0.02]]), np.zeros(1)
    Adam(0.01).step([layer])
    np.testing.assert_allclose(layer.weights - before, [[-0.01], [0.01]], rtol=1e-3)


def test_import_nnlib_imports_nothing_heavier_than_numpy():
    code = ("import sys, nnlib; heavy = [m for m in ('matplotlib', 'ipywidgets', 'tensorflow', "
            "'keras', 'tqdm', 'IPython') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
