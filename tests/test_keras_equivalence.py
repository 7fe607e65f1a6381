"""nnlib against Keras 3 (TensorFlow backend): the same inputs must give the same numbers.

Every test builds the Keras counterpart of one nnlib piece, feeds both the same arrays and compares
forward values and gradients (Keras's from tf.GradientTape). Tolerances:

- float64: both sides compute in float64, so only summation order differs: rtol 1e-12, atol 1e-12
  (the largest differences seen are ~1e-15).
- float32: rtol 1e-5, atol 1e-6 — a few units of float32 rounding (2⁻²³ ≈ 1.2e-7) accumulated
  over sums of up to a few hundred products (the largest differences seen are ~1e-7).

- convolutional layers (chapter 14), whose gradients sum over thousands of products (a 5×5
  kernel's gradient over every output pixel of every image): every difference at most 1e-5 (float32)
  or 1e-12 (float64) times the largest entry of the array (the largest seen: 1.5e-6 and 3e-15 for
  one layer, 9.5e-7 through chapter 15's CNN in float32).

Layouts: nnlib's images are (N, C, H, W) and its kernels (out, in, kh, kw), as in PyTorch; Keras's
are (N, H, W, C) and (kh, kw, in, out). The tests transpose on the way in and out, and put
Permute((3, 1, 2)) before Keras's Flatten so that it reads (c, h, w) like nnlib's.

Known, deliberate differences, each pinned by a test below:
- Keras's cross-entropy on probabilities divides each row by its sum before the log, so its
  gradient w.r.t. the probabilities is nnlib's plus 1/N in every entry; through the softmax
  backward that constant vanishes.
- Keras clips probabilities to [1e-7, 1 − 1e-7] like nnlib, but gives a clipped entry zero gradient
  (the derivative of the clip); nnlib keeps −1/(N·eps) there so a confidently wrong prediction is
  still pushed in the right direction.
- Keras casts Python-float hyperparameters (learning rate, Adam's β₁ and β₂) through float32, even
  for float64 variables; float64 optimizer tests therefore use values exact in float32.

Run with `pytest tests/test_keras_equivalence.py -s` to print the largest difference of each
comparison. TensorFlow is imported here only; the module is skipped where it is not installed.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from nnlib import (SGD, Adam, CategoricalCrossEntropy, Conv2D, Dense, Flatten,  # noqa: E402
                   MaxPool2D, Model, ReLU, Softmax, SoftmaxCrossEntropy, load_mnist, one_hot,
                   preprocess)
from nnlib.activations import softmax  # noqa: E402
from nnlib.train import build_cnn, build_model  # noqa: E402

DTYPES = ["float32", "float64"]
TOL = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-12}}
SCALED = {"float32": 1e-5, "float64": 1e-12}  # of the largest entry, for convolutional layers
LARGEST = {}


@pytest.fixture(scope="module", autouse=True)
def report_largest_differences():
    """After the module, print the largest |nnlib − Keras| of each comparison (visible with -s)."""
    yield
    print("\nlargest |nnlib − Keras| per comparison:")
    for what, diff in sorted(LARGEST.items()):
        print(f"  {diff:9.2e}  {what}")


def assert_close(actual, expected, dtype, what, **tolerance):
    """assert_allclose with the dtype's tolerance, recording the largest absolute difference."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    diff = float(np.max(np.abs(actual.astype(np.float64) - expected), initial=0.0))
    LARGEST[f"{what} ({dtype})"] = max(diff, LARGEST.get(f"{what} ({dtype})", 0.0))
    np.testing.assert_allclose(actual, expected, err_msg=f"{what} ({dtype})",
                               **(tolerance or TOL[dtype]))


def assert_close_scaled(actual, expected, dtype, what):
    """|actual − expected| ≤ SCALED[dtype] × the largest |expected|, entry by entry; records the
    largest difference divided by that largest entry."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = float(np.max(np.abs(expected), initial=0.0))
    diff = float(np.max(np.abs(actual.astype(np.float64) - expected), initial=0.0))
    key = f"{what} ({dtype}), relative to the largest entry"
    LARGEST[key] = max(diff / (scale or 1.0), LARGEST.get(key, 0.0))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=SCALED[dtype] * scale,
                               err_msg=f"{what} ({dtype})")


def keras_vjp(fn, x, dout, variables=()):
    """Keras's vector-Jacobian product: gradients of Σ fn(x) ⊙ dout w.r.t. x and ``variables``."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
    grads = tape.gradient(out, [x, *variables], output_gradients=tf.constant(dout))
    return out.numpy(), [g.numpy() for g in grads]


def keras_dense(layer):
    """A keras.layers.Dense holding a copy of nnlib ``layer``'s weights and biases."""
    dense = keras.layers.Dense(layer.n_outputs, dtype=layer.dtype.name)
    dense.build((None, layer.n_inputs))
    dense.set_weights([layer.weights, layer.biases])
    return dense


def keras_loss_and_grad(loss, y_true, y_pred):
    """(mean loss, dL/dy_pred) for a keras.losses object on y_pred, via GradientTape."""
    y_pred = tf.constant(y_pred)
    with tf.GradientTape() as tape:
        tape.watch(y_pred)
        value = loss(tf.constant(y_true), y_pred)
    return float(value), tape.gradient(value, y_pred).numpy()


def probabilities(rng, n, c, dtype):
    return softmax(rng.standard_normal((n, c)) * 2).astype(dtype)


# --- layers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_matches_keras_dense(dtype):
    rng = np.random.default_rng(0)
    layer = Dense(30, 7, rng=rng, dtype=dtype)
    layer.biases[:] = rng.standard_normal(7)
    x = rng.standard_normal((16, 30)).astype(dtype)
    assert_close(layer.forward(x), keras_dense(layer)(x).numpy(), dtype, "Dense forward")


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_kernel_bias_and_input_gradients_match_keras_gradient_tape(dtype):
    rng = np.random.default_rng(1)
    layer = Dense(30, 7, rng=rng, dtype=dtype)
    layer.biases[:] = rng.standard_normal(7)
    x = rng.standard_normal((16, 30)).astype(dtype)
    dout = rng.standard_normal((16, 7)).astype(dtype)
    dense = keras_dense(layer)
    _, (dx, dkernel, dbias) = keras_vjp(dense, x, dout, [dense.kernel, dense.bias])
    layer.forward(x)
    assert_close(layer.backward(dout), dx, dtype, "Dense dL/dx")
    assert_close(layer.dweights, dkernel, dtype, "Dense dL/dkernel")
    assert_close(layer.dbiases, dbias, dtype, "Dense dL/dbias")


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_forward_and_backward_match_keras_relu_including_exact_zeros(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 12)).astype(dtype)
    x[0, :4] = 0  # both libraries give ReLU's kink at 0 a zero gradient
    dout = rng.standard_normal(x.shape).astype(dtype)
    out, (dx,) = keras_vjp(keras.layers.ReLU(dtype=dtype), x, dout)
    relu = ReLU()
    assert_close(relu.forward(x), out, dtype, "ReLU forward")
    assert_close(relu.backward(dout), dx, dtype, "ReLU backward")
    assert np.all(dx[0, :4] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_forward_and_jacobian_vector_product_match_keras(dtype, scale):
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((9, 10)) * scale).astype(dtype)
    dout = rng.standard_normal(z.shape).astype(dtype)
    out, (dz,) = keras_vjp(keras.layers.Softmax(dtype=dtype), z, dout)
    layer = Softmax()
    p = layer.forward(z)
    assert np.all(np.isfinite(p))
    assert_close(p, out, dtype, f"Softmax forward, logits ×{scale:g}")
    assert_close(layer.backward(dout), dz, dtype, f"Softmax backward, logits ×{scale:g}")


# --- convolutional layers (chapter 14) -----------------------------------------------------------
def nhwc(images):
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1))


def nchw(images):
    return images.transpose(0, 3, 1, 2)


def keras_conv(layer):
    """keras.layers.Conv2D with nnlib ``layer``'s weights, as a function of NHWC images; padding
    comes from a ZeroPadding2D layer in front, as Keras's own padding knows only valid and same."""
    conv = keras.layers.Conv2D(layer.out_channels, layer.kernel_size, strides=layer.stride,
                               dtype=layer.dtype.name)
    conv.build((None, None, None, layer.in_channels))
    conv.set_weights([layer.weights.transpose(2, 3, 1, 0), layer.biases])
    pad = keras.layers.ZeroPadding2D(layer.padding, dtype=layer.dtype.name)
    return conv, lambda images: conv(pad(images))


CONVS = [(1, 16, 5, 1, 0, 28, 28), (16, 32, 5, 1, 0, 12, 12), (3, 4, 3, 2, 1, 9, 9),
         (2, 3, (2, 3), 1, 1, 7, 6)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c, f, k, s, p, h, w", CONVS)
def test_conv2d_output_and_gradients_match_keras_conv2d(dtype, c, f, k, s, p, h, w):
    rng = np.random.default_rng(20)
    layer = Conv2D(c, f, k, stride=s, padding=p, rng=rng, dtype=dtype)
    layer.biases[:] = rng.standard_normal(f)
    x = rng.standard_normal((8, c, h, w)).astype(dtype)
    conv, fn = keras_conv(layer)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    keras_out, (dx, dkernel, dbias) = keras_vjp(fn, nhwc(x), nhwc(dout), [conv.kernel, conv.bias])
    what = f"{layer!r}"
    assert_close_scaled(out, nchw(keras_out), dtype, f"{what} forward")
    assert_close_scaled(layer.backward(dout), nchw(dx), dtype, f"{what} dL/dx")
    assert_close_scaled(layer.dweights, dkernel.transpose(3, 2, 0, 1), dtype, f"{what} dL/dkernel")
    assert_close_scaled(layer.dbiases, dbias, dtype, f"{what} dL/dbias")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size, stride", [(2, None), (3, 2), (2, 1)])
def test_max_pool_output_and_gradient_match_keras_max_pooling_2d(dtype, size, stride):
    rng = np.random.default_rng(21)
    x = rng.standard_normal((4, 3, 9, 8)).astype(dtype)
    pool = MaxPool2D(size, stride)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    keras_pool = keras.layers.MaxPooling2D(size, strides=stride, dtype=dtype)
    keras_out, (dx,) = keras_vjp(keras_pool, nhwc(x), nhwc(dout))
    assert_close(out, nchw(keras_out), dtype, f"{pool!r} forward")
    assert_close(pool.backward(dout), nchw(dx), dtype, f"{pool!r} dL/dx")


def test_max_pool_gives_a_tie_to_the_first_entry_like_keras():
    # zeros after a ReLU tie in every window of a dark region: the gradient must not be copied
    # to each of them, and both libraries pick the first entry, row by row
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 2:, 2:] = [[0.5, 0.5], [0.5, 0.1]]
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], np.float32)
    _, (dx,) = keras_vjp(keras.layers.MaxPooling2D(2), nhwc(x), nhwc(dout))
    pool = MaxPool2D(2)
    pool.forward(x)
    ours = pool.backward(dout)
    np.testing.assert_array_equal(ours, nchw(dx))
    assert ours.sum() == dout.sum() and ours[0, 0, 0, 0] == 1 and ours[0, 0, 2, 2] == 4


@pytest.mark.parametrize("dtype", DTYPES)
def test_flatten_matches_keras_flatten_after_permuting_to_channels_first(dtype):
    rng = np.random.default_rng(22)
    x = rng.standard_normal((4, 3, 5, 6)).astype(dtype)
    dout = rng.standard_normal((4, 90)).astype(dtype)
    permute = keras.layers.Permute((3, 1, 2), dtype=dtype)
    flatten = keras.layers.Flatten(dtype=dtype)
    keras_out, (dx,) = keras_vjp(lambda t: flatten(permute(t)), nhwc(x), dout)
    layer = Flatten()
    assert_close(layer.forward(x), keras_out, dtype, "Flatten forward")
    assert_close(layer.backward(dout), nchw(dx), dtype, "Flatten backward")


def keras_cnn(model):
    """The Keras twin of a Conv2D/ReLU/MaxPool2D/Flatten/Dense/Softmax nnlib model, same weights."""
    keras_layers, weights = [keras.Input(model.input_shape[1:] + model.input_shape[:1])], []
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            keras_layers.append(keras.layers.Conv2D(layer.out_channels, layer.kernel_size))
            weights += [layer.weights.transpose(2, 3, 1, 0), layer.biases]
        elif isinstance(layer, Dense):
            keras_layers.append(keras.layers.Dense(layer.n_outputs))
            weights += [layer.weights, layer.biases]
        elif isinstance(layer, Flatten):
            keras_layers += [keras.layers.Permute((3, 1, 2)), keras.layers.Flatten()]
        else:
            keras_layers.append({"ReLU": keras.layers.ReLU, "Softmax": keras.layers.Softmax,
                                 "MaxPool2D": keras.layers.MaxPooling2D}[type(layer).__name__]())
    twin = keras.Sequential(keras_layers)
    twin.set_weights(weights)
    return twin


def test_chapter_15_cnn_probabilities_gradients_and_sgd_step_match_keras(mnist_batch):
    x, y = mnist_batch
    images = x.reshape(-1, 1, 28, 28)
    # chapter 15's CNN without its Dropout, whose random mask the two libraries cannot share
    model = Model([layer for layer in build_cnn(seed=0).layers
                   if type(layer).__name__ != "Dropout"], input_shape=(1, 28, 28))
    for layer in model.layers:
        if layer.param_names:
            layer.biases[:] = np.random.default_rng(23).standard_normal(layer.biases.shape) * 0.1
    twin = keras_cnn(model)
    assert_close_scaled(model.forward(images), twin(nhwc(images)).numpy(), "float32",
                        "CNN probabilities")

    with tf.GradientTape() as tape:
        keras_loss = keras.losses.SparseCategoricalCrossentropy()(y, twin(nhwc(images)))
    keras_grads = tape.gradient(keras_loss, twin.trainable_variables)
    keras.optimizers.SGD(0.1).apply_gradients(zip(keras_grads, twin.trainable_variables))

    loss, _ = model.train_step(images, y, SGD(0.1))
    assert_close(loss, float(keras_loss), "float32", "CNN loss")
    ours = [(f"{layer!r} {name}", layer, name) for layer in model.layers
            for name in layer.param_names]
    for (what, layer, name), grad, after in zip(ours, keras_grads, twin.get_weights(),
                                              strict=True):
        to_ours = (3, 2, 0, 1) if isinstance(layer, Conv2D) and name == "weights" else None
        theirs = grad.numpy() if to_ours is None else grad.numpy().transpose(to_ours)
        assert_close_scaled(getattr(layer, "d" + name), theirs, "float32", f"CNN gradient, {what}")
        after = after if to_ours is None else after.transpose(to_ours)
        assert_close_scaled(getattr(layer, name), after, "float32",
                            f"CNN {what} after one SGD step")


# --- losses -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_cce_with_integer_labels_matches_keras_sparse_categorical_crossentropy(dtype):
    rng = np.random.default_rng(4)
    p = probabilities(rng, 12, 10, dtype)
    y = rng.integers(0, 10, 12)
    keras_value, _ = keras_loss_and_grad(
        keras.losses.SparseCategoricalCrossentropy(dtype=dtype), y, p)
    assert_close(CategoricalCrossEntropy().forward(p, y), keras_value, dtype, "CCE, integer labels")


@pytest.mark.parametrize("dtype", DTYPES)
def test_cce_with_integer_labels_clips_like_keras_sparse_categorical_crossentropy(dtype):
    # Keras's sparse loss clips every entry to [1e-7, 1 − 1e-7] and then renormalises the row
    # (it feeds log p to a softmax): a saturated row's loss moves by ~log(1 + 8e-7), so the
    # comparison allows 1e-6 per row
    rng = np.random.default_rng(4)
    p = probabilities(rng, 12, 10, dtype)
    y = rng.integers(0, 10, 12)
    p[0] = 0
    p[0, (y[0] + 1) % 10] = 1  # certain and wrong: −log(1e-7) ≈ 16.1 in both libraries
    p[1] = 0
    p[1, y[1]] = 1  # certain and right: −log(1 − 1e-7) ≈ 1e-7 in both
    keras_value, _ = keras_loss_and_grad(
        keras.losses.SparseCategoricalCrossentropy(dtype=dtype), y, p)
    value = CategoricalCrossEntropy().forward(p, y)
    assert value > 16.1 / 12
    assert_close(value, keras_value, dtype, "CCE, integer labels, saturated rows", rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cce_with_one_hot_labels_matches_keras_categorical_crossentropy(dtype):
    rng = np.random.default_rng(5)
    p = probabilities(rng, 12, 10, dtype)
    y = rng.integers(0, 10, 12)
    p[0] = 0
    p[0, (y[0] + 1) % 10] = 1
    y_hot = one_hot(y, 10, dtype=dtype)
    keras_value, _ = keras_loss_and_grad(
        keras.losses.CategoricalCrossentropy(dtype=dtype), y_hot, p)
    assert_close(CategoricalCrossEntropy().forward(p, y_hot), keras_value, dtype,
                 "CCE, one-hot labels")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_cce_gradient_is_keras_gradient_minus_its_row_normalisation_term(dtype, labels):
    # Keras computes −log(p_y / Σ_j p_j): the Σ adds ∂/∂p_k log Σ_j p_j / N = 1/N to every entry
    rng = np.random.default_rng(6)
    n = 12
    p = probabilities(rng, n, 10, dtype)
    y = rng.integers(0, 10, n)
    if labels == "integer":
        loss, y_keras = keras.losses.SparseCategoricalCrossentropy(dtype=dtype), y
    else:
        loss, y_keras = keras.losses.CategoricalCrossentropy(dtype=dtype), one_hot(y, 10, dtype=dtype)
    _, keras_grad = keras_loss_and_grad(loss, y_keras, p)
    grad = CategoricalCrossEntropy().backward(p, y_keras)
    assert_close(grad + 1 / n, keras_grad, dtype, f"CCE dL/dp + 1/N, {labels} labels")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_cce_gradient_through_softmax_backward_matches_keras_on_logits(dtype, labels):
    # softmax's backward removes any constant added to a row of dout: the 1/N above vanishes
    rng = np.random.default_rng(7)
    z = rng.standard_normal((12, 10)).astype(dtype) * 2
    y = rng.integers(0, 10, 12)
    if labels == "integer":
        loss, y_keras = keras.losses.SparseCategoricalCrossentropy(dtype=dtype), y
    else:
        loss, y_keras = keras.losses.CategoricalCrossentropy(dtype=dtype), one_hot(y, 10, dtype=dtype)
    z_t = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z_t)
        # tf.nn.softmax, not keras's softmax activation: Keras would spot that activation and
        # switch to the fused from-logits formula; here the loss must see bare probabilities
        value = loss(tf.constant(y_keras), tf.nn.softmax(z_t))
    keras_dz = tape.gradient(value, z_t).numpy()
    layer, cce = Softmax(), CategoricalCrossEntropy()
    p = layer.forward(z)
    assert_close(cce.forward(p, y_keras), float(value), dtype, f"Softmax + CCE, {labels} labels")
    assert_close(layer.backward(cce.backward(p, y_keras)), keras_dz, dtype,
                 f"Softmax + CCE dL/dz, {labels} labels")


def test_clipped_probability_gets_zero_gradient_in_keras_but_minus_one_over_n_eps_in_nnlib():
    p = np.array([[0.0, 1.0], [0.5, 0.5]])  # row 0: the true class 0 has probability 0
    y = np.array([0, 1])
    _, keras_grad = keras_loss_and_grad(
        keras.losses.SparseCategoricalCrossentropy(dtype="float64"), y, p)
    grad = CategoricalCrossEntropy(eps=1e-7).backward(p, y)
    assert keras_grad[0, 0] == 0
    assert grad[0, 0] == pytest.approx(-1 / (2 * 1e-7))
    assert_close(grad[1] + 1 / 2, keras_grad[1], "float64", "CCE dL/dp, unclipped row")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_fused_softmax_cross_entropy_matches_keras_from_logits_on_huge_logits(dtype, labels):
    rng = np.random.default_rng(8)
    z = (rng.standard_normal((12, 10)) * 1e4).astype(dtype)
    z[0] = 0  # a row of equal logits: loss ln 10
    y = rng.integers(0, 10, 12)
    y[1] = z[1].argmin()  # a hopeless row: loss ~ 1e4, far beyond any clipping
    if labels == "integer":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype)
        y_keras = y
    else:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, dtype=dtype)
        y_keras = one_hot(y, 10, dtype=dtype)
    keras_value, keras_grad = keras_loss_and_grad(loss, y_keras, z)
    fused = SoftmaxCrossEntropy()
    value = fused.forward(z, y_keras)
    assert np.isfinite(value) and value > 1e3
    # the loss is ~1e3: compare it relative to its size
    assert_close(value, keras_value, dtype, f"SoftmaxCrossEntropy value, logits ±1e4, {labels}",
                 rtol=TOL[dtype]["rtol"])
    assert_close(fused.backward(z, y_keras), keras_grad, dtype,
                 f"SoftmaxCrossEntropy dL/dz, logits ±1e4, {labels}")


# --- optimizers -------------------------------------------------------------------------------
def run_both(nnlib_optimizer, keras_optimizer, dtype, steps, seed):
    """Apply the same gradients for ``steps`` steps with both optimizers to a copy of the same
    Dense layer's parameters. Returns (layer, keras variables [kernel, bias])."""
    rng = np.random.default_rng(seed)
    layer = Dense(6, 4, rng=rng, dtype=dtype)
    layer.biases[:] = rng.standard_normal(4)
    variables = [keras.Variable(layer.weights.copy()), keras.Variable(layer.biases.copy())]
    for _ in range(steps):
        layer.dweights = rng.standard_normal(layer.weights.shape).astype(dtype)
        layer.dbiases = rng.standard_normal(layer.biases.shape).astype(dtype)
        nnlib_optimizer.step([layer])
        keras_optimizer.apply_gradients(
            [(tf.constant(layer.dweights), variables[0]), (tf.constant(layer.dbiases), variables[1])])
    return layer, variables


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_steps_match_keras_sgd_with_and_without_momentum(dtype, momentum):
    # Keras turns the Python floats into float32 tensors first: 0.1 would differ from nnlib's
    # float64 0.1 by 1.5e-9 relative, so float64 uses hyperparameters exact in float32
    lr, mu = (0.1, momentum) if dtype == "float32" else (0.125, momentum and 0.875)
    nnlib_sgd, keras_sgd = SGD(lr, momentum=mu), keras.optimizers.SGD(lr, momentum=mu)
    layer, (kernel, bias) = run_both(nnlib_sgd, keras_sgd, dtype, steps=3, seed=9)
    assert_close(layer.weights, kernel.numpy(), dtype, f"SGD(momentum={mu}) weights, 3 steps")
    assert_close(layer.biases, bias.numpy(), dtype, f"SGD(momentum={mu}) biases, 3 steps")


@pytest.mark.parametrize("dtype", DTYPES)
def test_keras_sgd_momentum_slot_is_nnlib_velocity_v_equals_mu_v_minus_eta_g(dtype):
    # both: v ← μv − ηg; θ ← θ + v (not PyTorch's v ← μv + g; θ ← θ − ηv)
    lr, mu = (0.1, 0.9) if dtype == "float32" else (0.125, 0.875)
    for steps in (1, 4):
        nnlib_sgd, keras_sgd = SGD(lr, momentum=mu), keras.optimizers.SGD(lr, momentum=mu)
        layer, (kernel, _) = run_both(nnlib_sgd, keras_sgd, dtype, steps=steps, seed=10)
        velocity = nnlib_sgd.velocity[(id(layer), "weights")]
        keras_velocity = keras_sgd.momentums[keras_sgd._get_variable_index(kernel)].numpy()
        if steps == 1:
            assert_close(velocity, -lr * layer.dweights, dtype, "SGD velocity after one step = −ηg")
        assert_close(velocity, keras_velocity, dtype, f"SGD velocity = Keras momentum, {steps} steps")


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_steps_match_keras_adam(dtype):
    # float32: Keras's defaults; float64: hyperparameters exact in float32 (see module docstring)
    if dtype == "float32":
        kwargs = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    else:
        kwargs = {"learning_rate": 2 ** -10, "beta_1": 0.875, "beta_2": 1 - 2 ** -10,
                  "epsilon": 1e-7}
    nnlib_adam = Adam(kwargs["learning_rate"], kwargs["beta_1"], kwargs["beta_2"],
                      kwargs["epsilon"])
    keras_adam = keras.optimizers.Adam(**kwargs)
    layer, (kernel, bias) = run_both(nnlib_adam, keras_adam, dtype, steps=5, seed=11)
    assert_close(layer.weights, kernel.numpy(), dtype, "Adam weights, 5 steps")
    assert_close(layer.biases, bias.numpy(), dtype, "Adam biases, 5 steps")
    m, v, t = nnlib_adam.state[(id(layer), "weights")]
    index = keras_adam._get_variable_index(kernel)
    assert t == 5 == int(keras_adam.iterations.numpy())
    assert_close(m, keras_adam._momentums[index].numpy(), dtype, "Adam first moment m")
    assert_close(v, keras_adam._velocities[index].numpy(), dtype, "Adam second moment v")


def test_adam_float64_with_keras_defaults_differs_only_by_float32_rounded_betas():
    # the documented exception: Keras rounds β₁ = 0.9 to float32 (0.899999976…) in its bias
    # correction, which moves a float64 weight by ~1e-7 after a few steps — far below a step's size
    kwargs = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    layer, (kernel, _) = run_both(Adam(1e-3, 0.9, 0.999, 1e-7), keras.optimizers.Adam(**kwargs),
                                  "float64", steps=5, seed=12)
    assert_close(layer.weights, kernel.numpy(), "float64", "Adam weights with Keras defaults",
                 rtol=0, atol=1e-7)


# --- the whole network on MNIST -----------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist_batch():
    (x_train, y_train), _ = load_mnist()
    rng = np.random.default_rng(13)
    idx = rng.choice(len(x_train), 64, replace=False)
    return preprocess(x_train[idx]), y_train[idx].astype(np.int64)


def test_whole_network_probabilities_gradients_and_sgd_step_match_keras(mnist_batch):
    x, y = mnist_batch
    model = build_model(128, seed=0)
    dense1, relu, dense2, _ = model.layers
    keras_model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    keras_model.set_weights([dense1.weights, dense1.biases, dense2.weights, dense2.biases])

    assert_close(model.forward(x), keras_model(x).numpy(), "float32", "network probabilities")

    with tf.GradientTape() as tape:
        keras_loss = keras.losses.SparseCategoricalCrossentropy()(y, keras_model(x))
    keras_grads = tape.gradient(keras_loss, keras_model.trainable_variables)
    keras.optimizers.SGD(0.1).apply_gradients(zip(keras_grads, keras_model.trainable_variables))

    loss, _ = model.train_step(x, y, SGD(0.1))
    assert_close(loss, float(keras_loss), "float32", "network loss")
    nnlib_grads = [dense1.dweights, dense1.dbiases, dense2.dweights, dense2.dbiases]
    for name, mine, theirs in zip(["W1", "b1", "W2", "b2"], nnlib_grads, keras_grads):
        assert_close(mine, theirs.numpy(), "float32", f"network gradient {name}")
    for name, mine, theirs in zip(["W1", "b1", "W2", "b2"],
                                  [dense1.weights, dense1.biases, dense2.weights, dense2.biases],
                                  keras_model.get_weights()):
        assert_close(mine, theirs, "float32", f"network {name} after one SGD step")
