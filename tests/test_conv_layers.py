"""Conv2D, MaxPool2D and Flatten: forward against plain loops, float64 gradient checks, shapes,
errors, and convolutional models in Model (shape checks, training, saving).

Gradient-check tolerance: rel_error < 1e-6, as in test_gradients.py (the element-wise maximum of
|analytic − numerical| / (|analytic| + |numerical|)). The largest measured over the cases below:
Conv2D 5e-8 (inputs), 2e-9 (weights), 8e-11 (biases); MaxPool2D 1e-8; Flatten 8e-8. A wrong
backward scores 0.3 to 1 (a flipped kernel gradient 1.0, a doubled pooling gradient 0.33).
"""

import json

import numpy as np
import pytest

from nnlib import (SGD, Adam, Conv2D, Dense, Flatten, MaxPool2D, Model, ReLU, Softmax,
                   SoftmaxCrossEntropy, load_mnist, minibatches, preprocess)
from nnlib.gradcheck import check_layer, numerical_gradient, rel_error
from nnlib.train import build_cnn

TOL = 1e-6


def naive_conv(x, weights, biases, stride, padding):
    """The definition, one output number at a time: (N, C, H, W) -> (N, F, H_out, W_out)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    f, _, kh, kw = weights.shape
    h_out = (x.shape[2] - kh) // stride + 1
    w_out = (x.shape[3] - kw) // stride + 1
    out = np.zeros((len(x), f, h_out, w_out))
    for n in range(len(x)):
        for o in range(f):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, o, i, j] = np.sum(window * weights[o]) + biases[o]
    return out


def naive_max_pool(x, size, stride):
    h_out, w_out = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    out = np.zeros((*x.shape[:2], h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size,
                                j * stride:j * stride + size].max(axis=(2, 3))
    return out


def distinct(rng, shape):
    """Inputs whose entries differ by at least 0.01, so that the central differences of a gradient
    check (±1e-5) never change which entry of a pooling window is the largest."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 100.0


CONVS = [  # in, out, kernel, stride, padding, image height, width
    (1, 3, 3, 1, 0, 7, 7),
    (2, 3, 3, 2, 1, 7, 8),
    (3, 2, (2, 3), 1, 1, 6, 5),
    (2, 4, 3, 3, 2, 9, 9),
    (4, 2, 1, 1, 0, 3, 4),
]


def conv_id(case):
    c, f, k, s, p, h, w = case
    return f"{c}to{f}-k{k}-s{s}-p{p}-{h}x{w}"


# --- Conv2D ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CONVS, ids=conv_id)
def test_conv2d_forward_equals_the_definition_computed_with_loops(rng, case):
    c, f, k, s, p, h, w = case
    layer = Conv2D(c, f, k, stride=s, padding=p, rng=rng, dtype=np.float64)
    layer.biases[:] = rng.standard_normal(f)
    x = rng.standard_normal((3, c, h, w))
    out = layer.forward(x)
    np.testing.assert_allclose(out, naive_conv(x, layer.weights, layer.biases, s, p),
                               rtol=1e-12, atol=1e-12)
    assert out.shape[1:] == layer.output_shape((c, h, w))


@pytest.mark.parametrize("case", CONVS, ids=conv_id)
def test_conv2d_gradients_match_numerical_in_float64(rng, case):
    c, f, k, s, p, h, w = case
    layer = Conv2D(c, f, k, stride=s, padding=p, rng=rng, dtype=np.float64)
    layer.biases[:] = rng.standard_normal(f)
    errors = check_layer(layer, rng.standard_normal((2, c, h, w)), rng)
    assert set(errors) == {"inputs", "weights", "biases"}
    assert max(errors.values()) < TOL, errors


def test_conv2d_gradients_are_those_of_the_definition(rng):
    # an independent route: differentiate the loop version numerically for the weights
    layer = Conv2D(2, 3, 3, stride=2, padding=1, rng=rng, dtype=np.float64)
    x, r = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((2, 3, 3, 3))
    layer.forward(x)
    layer.backward(r)
    numeric = numerical_gradient(
        lambda: np.sum(naive_conv(x, layer.weights, layer.biases, 2, 1) * r), layer.weights)
    assert rel_error(layer.dweights, numeric) < TOL


def test_conv2d_float32_by_default_with_he_initialisation_and_zero_biases():
    layer = Conv2D(16, 32, 5, rng=0)
    assert layer.weights.shape == (32, 16, 5, 5) and layer.weights.dtype == np.float32
    assert layer.biases.shape == (32,) and not layer.biases.any()
    assert abs(layer.weights.std() - np.sqrt(2 / (16 * 25))) < 0.003
    out = layer.forward(np.ones((2, 16, 12, 12), np.float32))
    assert out.dtype == np.float32
    layer.backward(np.ones_like(out))
    assert layer.dweights.dtype == layer.dbiases.dtype == np.float32
    assert layer.dweights.shape == (32, 16, 5, 5) and layer.dweights.flags.c_contiguous


def test_conv2d_is_reproducible_from_its_rng():
    a, b = Conv2D(3, 4, 3, rng=5), Conv2D(3, 4, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weights, b.weights)


def test_conv2d_backward_sets_rather_than_accumulates_and_can_skip_the_input_gradient(rng):
    layer = Conv2D(2, 3, 3, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 5, 5))
    dout = rng.standard_normal((2, 3, 3, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    first = layer.dweights.copy(), layer.dbiases.copy()
    assert layer.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(layer.dweights, first[0])
    np.testing.assert_array_equal(layer.dbiases, first[1])
    assert dx.shape == x.shape


def test_conv2d_gives_the_same_result_for_any_memory_layout_of_its_input(rng):
    layer = Conv2D(3, 4, 3, stride=2, padding=1, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 3, 7, 7))
    dout = rng.standard_normal((2, 4, 4, 4))
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    results = []
    for images in (x, nhwc, np.asfortranarray(x)):
        out = layer.forward(images)
        results.append((out, layer.backward(dout), layer.dweights.copy()))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_conv2d_leaves_its_input_alone(rng):
    layer = Conv2D(2, 2, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    before = x.copy()
    out = layer.forward(x)
    layer.backward(np.ones_like(out))
    np.testing.assert_array_equal(x, before)


def test_conv2d_repr_and_config_rebuild_the_same_layer():
    for layer in (Conv2D(1, 16, 5), Conv2D(3, 8, (3, 5), stride=2, padding=1, dtype=np.float64)):
        again = Conv2D(**json.loads(json.dumps(layer.config())))
        assert repr(again) == repr(layer) and again.dtype == layer.dtype
    assert repr(Conv2D(1, 16, 5)) == "Conv2D(1 → 16, 5×5)"
    assert repr(Conv2D(3, 8, (3, 5), stride=2, padding=1)) == \
        "Conv2D(3 → 8, 3×5, stride=2, padding=1)"


def test_conv2d_rejects_flat_input_naming_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"^Conv2D\(1 → 16, 5×5\) got input of shape \(64, 784\): "
                                         r"expected \(N, 1, H, W\) images$"):
        Conv2D(1, 16, 5).forward(np.zeros((64, 784), np.float32))


def test_conv2d_rejects_the_wrong_number_of_channels():
    with pytest.raises(ValueError, match=r"Conv2D\(3 → 8, 3×3\) got input of shape "
                                         r"\(2, 1, 28, 28\): expected \(N, 3, H, W\) images"):
        Conv2D(3, 8, 3).forward(np.zeros((2, 1, 28, 28), np.float32))


def test_conv2d_rejects_images_smaller_than_its_kernel():
    with pytest.raises(ValueError, match=r"Conv2D\(1 → 2, 5×5\) got images of 4×4 pixels: smaller "
                                         r"than its 5×5 window"):
        Conv2D(1, 2, 5).forward(np.zeros((2, 1, 4, 4), np.float32))
    Conv2D(1, 2, 5, padding=1).forward(np.zeros((2, 1, 3, 3), np.float32))  # 3 + 2 ≥ 5 fits


@pytest.mark.parametrize("kwargs, match", [
    ({"kernel_size": 0}, "kernel_size must be a positive integer, got 0"),
    ({"kernel_size": (3, 3, 3)}, "kernel_size must be a positive integer or a pair of them"),
    ({"kernel_size": 2.5}, "kernel_size must be a positive integer, got 2.5"),
    ({"stride": 0}, "stride must be a positive integer, got 0"),
    ({"padding": -1}, r"padding must be an integer from 0 to 2"),
    ({"padding": 3}, r"padding must be an integer from 0 to 2 .* got 3"),
    ({"padding": 1.0}, r"padding must be an integer"),
    ({"in_channels": 0}, "in_channels must be a positive integer, got 0"),
    ({"out_channels": True}, "out_channels must be a positive integer, got True"),
    ({"dtype": int}, "Conv2D dtype must be a floating-point type"),
])
def test_conv2d_checks_its_settings(kwargs, match):
    settings = {"in_channels": 1, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        Conv2D(**settings)


def test_conv2d_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"Conv2D\(1 → 2, 3×3\).backward called before forward"):
        Conv2D(1, 2, 3).backward(np.zeros((1, 2, 3, 3)))


# --- MaxPool2D ---------------------------------------------------------------------------------
POOLS = [(2, None, 8, 8), (2, None, 7, 9), (3, 2, 7, 8), (2, 1, 5, 6), (3, None, 9, 9)]


@pytest.mark.parametrize("size, stride, h, w", POOLS)
def test_max_pool_forward_equals_the_definition(rng, size, stride, h, w):
    x = rng.standard_normal((2, 3, h, w))
    pool = MaxPool2D(size, stride)
    out = pool.forward(x)
    np.testing.assert_array_equal(out, naive_max_pool(x, size, stride or size))
    assert out.shape[1:] == pool.output_shape((3, h, w))


@pytest.mark.parametrize("size, stride, h, w", POOLS)
def test_max_pool_gradient_matches_numerical_in_float64(rng, size, stride, h, w):
    assert check_layer(MaxPool2D(size, stride), distinct(rng, (2, 3, h, w)), rng)["inputs"] < TOL


def test_max_pool_sends_each_window_gradient_to_its_first_largest_entry():
    # as PyTorch and Keras: of equal largest entries (zeros after a ReLU, say) the first one, row
    # by row, gets the whole gradient, so that the gradient's sum stays that of dout
    x = np.array([[[[0.0, 0.0, 1.0, 2.0],
                    [0.0, 0.0, 2.0, 2.0]]]])
    pool = MaxPool2D(2)
    np.testing.assert_array_equal(pool.forward(x), [[[[0.0, 2.0]]]])
    dx = pool.backward(np.array([[[[5.0, 7.0]]]]))
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0, 0.0, 7.0],
                                         [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool_with_overlapping_windows_adds_the_gradients_an_entry_wins(rng):
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the centre is the largest entry of all four 2×2 windows
    pool = MaxPool2D(2, stride=1)
    pool.forward(x)
    dx = pool.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


def test_max_pool_repr_config_and_errors():
    assert repr(MaxPool2D()) == "MaxPool2D(2)" and repr(MaxPool2D(3, 2)) == "MaxPool2D(3, stride=2)"
    assert MaxPool2D(3).config() == {"pool_size": 3, "stride": 3}
    assert repr(MaxPool2D(**MaxPool2D(3, 1).config())) == "MaxPool2D(3, stride=1)"
    with pytest.raises(ValueError, match=r"MaxPool2D\(2\) got input of shape \(64, 784\): expected "
                                         r"\(N, C, H, W\) images"):
        MaxPool2D().forward(np.zeros((64, 784)))
    with pytest.raises(ValueError, match=r"MaxPool2D\(3\) got images of 2×2 pixels: smaller than "
                                         r"its 3×3 window"):
        MaxPool2D(3).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="pool_size must be a positive integer, got 0"):
        MaxPool2D(0)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        MaxPool2D().backward(np.zeros((1, 1, 1, 1)))


def test_max_pool_keeps_the_dtype(rng):
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    pool = MaxPool2D()
    out = pool.forward(x)
    assert out.dtype == np.float32 and pool.backward(out).dtype == np.float32


# --- Flatten -----------------------------------------------------------------------------------
def test_flatten_reads_each_example_in_channel_row_column_order_and_back(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    layer = Flatten()
    out = layer.forward(x)
    np.testing.assert_array_equal(out[1], x[1].ravel())
    np.testing.assert_array_equal(layer.backward(out), x)
    assert check_layer(Flatten(), x, rng)["inputs"] < TOL
    assert layer.output_shape((3, 4, 5)) == (60,) and repr(layer) == "Flatten()"


def test_flatten_of_a_transposed_view_is_in_channel_row_column_order(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(Flatten().forward(nhwc), x.reshape(2, -1))


def test_flatten_needs_a_batch():
    with pytest.raises(ValueError, match=r"Flatten\(\) got input of shape \(5,\): expected a "
                                         r"batch"):
        Flatten().forward(np.zeros(5))


# --- convolutional models ----------------------------------------------------------------------
def small_cnn(rng, dtype=np.float32):
    """(1, 10, 10) -> Conv2D(1 → 3, 3×3) -> (3, 8, 8) -> pool -> (3, 4, 4) -> 48 -> 10."""
    return Model([Conv2D(1, 3, 3, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2), Flatten(),
                  Dense(48, 10, rng=rng, dtype=dtype), Softmax()], input_shape=(1, 10, 10))


def test_a_whole_convolutional_model_gradient_checks_in_float64(rng):
    model = small_cnn(rng, np.float64)
    x = distinct(rng, (3, 1, 10, 10)) / 3
    y = np.array([1, 7, 3])
    model.train_step(x, y, SGD(1e-300))  # sets every gradient; the step changes nothing
    layers = model.layers[:-1]

    def loss():
        z = x
        for layer in layers:
            z = layer.forward(z)
        return SoftmaxCrossEntropy().forward(z, y)

    for layer in (layers[0], layers[4]):
        for name in layer.param_names:
            numeric = numerical_gradient(loss, getattr(layer, name))
            assert rel_error(getattr(layer, "d" + name), numeric) < TOL, (layer, name)


def test_model_output_shape_follows_the_stack():
    assert build_cnn().output_shape() == (10,)
    model = Model([Conv2D(1, 4, 3), ReLU(), MaxPool2D(2)], input_shape=(1, 28, 28))
    assert model.output_shape() == (4, 13, 13)
    assert Model([Conv2D(1, 4, 3), MaxPool2D(2)]).output_shape() == (4, None, None)


@pytest.mark.parametrize("layers, input_shape, match", [
    ([Conv2D(3, 8, 5)], (1, 28, 28),
     r"^Conv2D\(3 → 8, 5×5\) cannot follow outputs of shape \(1, 28, 28\): expected \(3, H, W\) "
     r"images$"),
    ([Conv2D(1, 8, 5), ReLU(), Conv2D(16, 8, 3)], None,
     r"^Conv2D\(16 → 8, 3×3\) cannot follow outputs of shape \(8, H, W\): expected \(16, H, W\)"),
    ([Conv2D(1, 16, 5), MaxPool2D(2), Flatten(), Dense(100, 10)], (1, 28, 28),
     r"^Dense\(100 → 10\) cannot follow a layer with 2304 outputs: expected Dense\(2304 → …\)$"),
    ([Conv2D(1, 16, 5), MaxPool2D(2), Dense(2304, 10)], (1, 28, 28),
     r"^Dense\(2304 → 10\) cannot follow outputs of shape \(16, 12, 12\): it takes flat vectors; "
     r"put Flatten\(\) before it, which gives 2304 values: Dense\(2304 → …\)$"),
    ([Conv2D(1, 4, 5), MaxPool2D(2), Conv2D(4, 4, 5), MaxPool2D(2), Conv2D(4, 4, 5)], (1, 28, 28),
     r"^Conv2D\(4 → 4, 5×5\) got images of 4×4 pixels: smaller than its 5×5 window$"),
    ([Conv2D(1, 4, 3), MaxPool2D(4)], (1, 4, 4),
     r"^MaxPool2D\(4\) got images of 2×2 pixels: smaller than its 4×4 window$"),
    ([Conv2D(1, 4, 3), Softmax()], (1, 8, 8),
     r"^Softmax\(\) cannot follow outputs of shape \(4, 6, 6\): it turns \(N, classes\) scores "
     r"into probabilities; put Flatten\(\) and a Dense layer before it$"),
    ([Conv2D(1, 4, 3)], (784,),
     r"^Conv2D\(1 → 4, 3×3\) cannot follow outputs of shape \(784,\): expected \(1, H, W\) "
     r"images$"),
    ([Dense(784, 10), MaxPool2D(2)], None,
     r"^MaxPool2D\(2\) cannot follow outputs of shape \(10,\): expected \(C, H, W\) images$"),
])
def test_a_layer_that_does_not_fit_is_refused_when_the_model_is_built(layers, input_shape, match):
    with pytest.raises(ValueError, match=match):
        Model(layers, input_shape=input_shape)


@pytest.mark.parametrize("input_shape", [(1, 0, 28), (), (1, 2, 3, 4), [28.0, 28], "1,28,28"])
def test_input_shape_must_be_positive_integers(input_shape):
    with pytest.raises(ValueError, match="input_shape"):
        Model(input_shape=input_shape)


def test_input_shape_may_be_a_list_and_is_kept_as_a_tuple():
    assert Model([Conv2D(1, 2, 3)], input_shape=[1, 28, 28]).input_shape == (1, 28, 28)
    assert Model([Dense(784, 10)], input_shape=784).input_shape == 784


@pytest.mark.parametrize("x_shape, match", [
    ((4, 784), r"Model.predict got inputs of shape \(4, 784\), expected \(N, 1, 28, 28\) images: "
               r"preprocess\(images, keep_shape=True\) keeps the images' shape"),
    ((4, 28, 28), r"expected \(N, 1, 28, 28\) images: preprocess\(images, keep_shape=True\)"),
    ((4, 1, 28, 27), r"got inputs of shape \(4, 1, 28, 27\), expected \(N, 1, 28, 28\) images$"),
])
def test_a_convolutional_model_names_the_image_shape_it_expects(x_shape, match):
    with pytest.raises(ValueError, match=match):
        build_cnn().predict(np.zeros(x_shape, np.float32))


def test_a_model_without_input_shape_takes_any_image_size_its_first_conv_accepts(rng):
    model = Model([Conv2D(1, 2, 3, rng=rng), ReLU(), MaxPool2D(2)])
    assert model.forward(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 2, 3, 3)
    assert model.forward(np.zeros((2, 1, 12, 10), np.float32)).shape == (2, 2, 5, 4)
    with pytest.raises(ValueError, match=r"expected \(N, 1, H, W\) images"):
        model.forward(np.zeros((2, 3, 8, 8), np.float32))


def test_an_mlp_given_images_is_told_to_flatten_them():
    with pytest.raises(ValueError, match=r"Model.fit expected a 2-D array \(batch, features\), got "
                                         r"shape \(4, 28, 28\): flatten the images with "
                                         r"preprocess\(images\)"):
        Model([Dense(784, 10)]).fit(np.zeros((4, 28, 28), np.float32), np.zeros(4, int),
                                    verbose=False)


def test_nan_in_an_image_is_named_by_its_row(rng):
    model = small_cnn(rng)
    x = rng.random((6, 1, 10, 10), dtype=np.float32)
    x[4, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match=r"x holds NaN or infinite values \(row 4\)"):
        model.predict(x)


def test_preprocess_keep_shape_gives_float32_images_with_a_channel_axis():
    (x, _), _ = load_mnist()
    images = preprocess(x[:5], keep_shape=True)
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    assert images.min() == 0 and images.max() == 1
    np.testing.assert_array_equal(images.reshape(5, -1), preprocess(x[:5]))
    assert preprocess(np.zeros((2, 3, 4, 4), np.uint8) + 255, keep_shape=True).shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"keep_shape=True\) expected images \(N, H, W\)"):
        preprocess(np.zeros((2, 784), np.uint8), keep_shape=True)


@pytest.fixture(scope="module")
def mnist_images():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    return (preprocess(x_train[:1500], keep_shape=True), y_train[:1500],
            preprocess(x_test[:500], keep_shape=True), y_test[:500])


def test_a_cnn_learns_mnist_with_fit_evaluate_and_predict(mnist_images):
    x, y, x_test, y_test = mnist_images
    model = build_cnn(hidden=32, seed=0)
    history = model.fit(x, y, epochs=2, batch_size=32, optimizer=Adam(2e-3),
                        validation_data=(x_test, y_test), seed=0, verbose=False)
    assert history["loss"][1] < history["loss"][0]
    loss, acc = model.evaluate(x_test, y_test)
    assert acc > 0.85 and acc == history["val_accuracy"][-1]
    pred = model.predict(x_test, batch_size=128)
    assert pred.shape == (500,) and np.mean(pred == y_test) == acc


def test_a_cnn_overfits_a_tiny_batch(mnist_images):
    x, y = mnist_images[0][:16], mnist_images[1][:16]
    model = build_cnn(hidden=32, seed=1)
    optimizer = Adam(3e-3)
    for _ in range(40):
        model.train_step(x, y, optimizer)
    assert model.evaluate(x, y)[1] == 1.0


def test_cnn_fit_equals_train_step_on_minibatches_bit_for_bit(mnist_images):
    # fit skips the first Conv2D's input gradient; the weights must come out exactly the same
    x, y = mnist_images[0][:256], mnist_images[1][:256]
    fast, slow = build_cnn(hidden=16, seed=4), build_cnn(hidden=16, seed=4)
    fast.layers[9].rng = np.random.default_rng(9)  # the same dropout masks in both
    slow.layers[9].rng = np.random.default_rng(9)
    history = fast.fit(x, y, epochs=1, batch_size=64, optimizer=SGD(0.05, momentum=0.9), seed=7,
                       verbose=False)
    rng, optimizer = np.random.default_rng(7), SGD(0.05, momentum=0.9)
    loss = sum(slow.train_step(xb, yb, optimizer)[0] * len(xb)
               for xb, yb in minibatches(x, y, 64, rng=rng)) / len(x)
    assert history["loss"] == [loss]
    for a, b in zip(fast.layers, slow.layers):
        for name in a.param_names:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_fit_follows_a_learning_rate_schedule(mnist_images):
    x, y = mnist_images[0][:128], mnist_images[1][:128]
    seen = []
    optimizer = SGD(0.1)

    def schedule(epoch):
        seen.append(optimizer.learning_rate)
        return 0.1 / epoch

    build_cnn(hidden=8).fit(x, y, epochs=3, optimizer=optimizer, schedule=schedule, verbose=False)
    assert seen == [0.1, 0.1, 0.05] and optimizer.learning_rate == pytest.approx(0.1 / 3)
    with pytest.raises(ValueError, match=r"schedule\(1\) must be a positive number, got -1"):
        build_cnn(hidden=8).fit(x, y, epochs=1, schedule=lambda e: -1, verbose=False)
    with pytest.raises(ValueError, match="schedule must be a function of the epoch"):
        build_cnn(hidden=8).fit(x, y, epochs=1, schedule=0.1, verbose=False)


def test_predict_and_evaluate_use_smaller_batches_for_convolutional_models():
    assert build_cnn()._default_batch_size() == 1_000
    assert Model([Dense(784, 10)])._default_batch_size() == 10_000


def test_a_cnn_saves_and_loads_bit_for_bit_in_format_version_2(mnist_images, tmp_path):
    x = mnist_images[2][:50]
    model = build_cnn(seed=2)
    model.layers[0].biases[:] = np.linspace(-0.1, 0.1, 16)
    model.layers[3].biases[:] = np.linspace(0.1, -0.1, 32)
    model.save(tmp_path / "cnn")
    spec = json.loads((tmp_path / "cnn" / "model.json").read_text())
    assert spec["version"] == 2 and spec["input_shape"] == [1, 28, 28]
    assert [entry["type"] for entry in spec["layers"]] == [
        "Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "ReLU",
        "Dropout", "Dense", "Softmax"]
    assert spec["layers"][0]["config"] == {"in_channels": 1, "out_channels": 16, "kernel_size": 5,
                                           "stride": 1, "padding": 0, "dtype": "float32"}
    assert spec["layers"][2]["config"] == {"pool_size": 2, "stride": 2}
    loaded = Model.load(tmp_path / "cnn")
    assert repr(loaded) == repr(model) and loaded.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    for a, b in zip(loaded.layers, model.layers):
        for name in a.param_names:
            assert getattr(a, name).dtype == getattr(b, name).dtype
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_a_cnn_without_input_shape_and_with_a_non_square_kernel_round_trips(rng, tmp_path):
    model = Model([Conv2D(2, 3, (2, 3), stride=2, padding=1, rng=rng, dtype=np.float64),
                   MaxPool2D(2, stride=1), Flatten()])
    model.save(tmp_path / "m")
    loaded = Model.load(tmp_path / "m")
    x = rng.standard_normal((2, 2, 9, 9))
    assert repr(loaded) == repr(model) and loaded.input_shape is None
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
