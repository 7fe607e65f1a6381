"""Bad input gets a one-line error that says what was expected, never a silent wrong result."""

import subprocess
import sys

import numpy as np
import pytest

import nnlib.data
from nnlib import (Adam, Dense, Model, ReLU, SGD, Softmax, SoftmaxCrossEntropy, load_mnist, one_hot,
                   preprocess, train_val_split)
from nnlib.train import build_model


@pytest.fixture
def model():
    return build_model(hidden=8, seed=0)


@pytest.fixture
def data(rng):
    return rng.random((32, 784), dtype=np.float32), rng.integers(0, 10, 32)


def one_line(info):
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("call", [
    lambda m, x, y: m.forward(x), lambda m, x, y: m.predict(x), lambda m, x, y: m.evaluate(x, y),
    lambda m, x, y: m.fit(x, y, verbose=False),
])
def test_a_model_without_layers_says_so(call, data):
    with pytest.raises(ValueError, match=r"the model has no layers; add some with model.add"):
        call(Model(), *data)


@pytest.mark.parametrize("dtype", [np.uint8, bool, np.int64])
@pytest.mark.parametrize("method", ["forward", "predict", "evaluate", "fit"])
def test_unscaled_or_integer_images_ask_for_preprocess(model, data, dtype, method):
    x = (data[0] * 255).astype(dtype)
    args = (x,) if method in ("forward", "predict") else (x, data[1])
    with pytest.raises(ValueError, match=r"expected floating-point inputs scaled to \[0, 1\], got "
                                         r"\w+: call preprocess\(images\) first") as info:
        getattr(model, method)(*args, **({"verbose": False} if method == "fit" else {}))
    one_line(info)


# inf × 0 in the matrix product makes NumPy warn before nnlib raises its own error
@pytest.mark.filterwarnings("ignore:invalid value encountered in matmul:RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_in_x_is_named_by_predict_and_evaluate(model, data, bad):
    x, y = data
    x[17, 3] = bad
    for call in (lambda: model.predict(x, batch_size=10), lambda: model.evaluate(x, y),
                 lambda: model.forward(x)):
        with pytest.raises(ValueError, match=r"x holds NaN or infinite values \(row 17\)"):
            call()


def test_nan_in_x_stops_fit_without_blaming_the_learning_rate_or_touching_the_weights(model, data):
    x, y = data
    x[5, 0] = np.nan
    before = model.layers[0].weights.copy()
    with pytest.raises(ValueError, match=r"Model.fit, epoch 1: x holds NaN or infinite values "
                                         r"\(1 of the 32 rows of this batch\)") as info:
        model.fit(x, y, batch_size=32, verbose=False)
    assert "learning rate" not in str(info.value)
    np.testing.assert_array_equal(model.layers[0].weights, before)


def test_a_diverging_fit_blames_the_learning_rate(model, data):
    with pytest.raises(FloatingPointError, match=r"loss exploded .*learning rate is probably too high"):
        model.fit(*data, epochs=20, batch_size=4, learning_rate=1e4, seed=0, verbose=False)


@pytest.mark.parametrize("method", ["predict", "evaluate", "fit"])
def test_zero_examples_are_an_error(model, method):
    x, y = np.zeros((0, 784), np.float32), np.zeros(0, int)
    args = (x,) if method == "predict" else (x, y)
    with pytest.raises(ValueError, match="got 0 examples"):
        getattr(model, method)(*args, **({"verbose": False} if method == "fit" else {}))


@pytest.mark.parametrize("size", [0, -1, 2.5, "64"])
def test_predict_and_evaluate_need_a_positive_integer_batch_size(model, data, size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {size!r}"):
        model.predict(data[0], batch_size=size)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.evaluate(*data, batch_size=size)


def test_one_hot_rows_that_are_all_zero_are_refused(model, data):
    y = one_hot(data[1])
    y[4] = 0
    with pytest.raises(ValueError, match=r"one-hot row 4 sums to 0, expected 1"):
        model.evaluate(data[0], y)
    with pytest.raises(ValueError, match=r"one-hot row 4 sums to 0"):
        SoftmaxCrossEntropy().forward(np.zeros((32, 10)), y)


def test_soft_labels_that_sum_to_one_are_accepted(model, data):
    y = np.full((32, 10), 0.1)
    loss, _ = model.evaluate(data[0], y)
    assert np.isfinite(loss)


@pytest.mark.parametrize("labels", [np.array(["3", "5"] * 16), np.array([True, False] * 16),
                                    np.array([object()] * 32)])
def test_string_boolean_or_object_labels_are_refused(model, data, labels):
    with pytest.raises(ValueError, match=r"expected integer class ids 0..9 or one-hot rows, got") as info:
        model.evaluate(data[0], labels)
    assert "np.str_" not in str(info.value)


@pytest.mark.parametrize("dtype", ["U3", int, "int8", bool, "complex64", "nonsense"])
def test_dense_needs_a_floating_point_dtype(dtype):
    with pytest.raises(ValueError, match=r"Dense dtype must be a floating-point type such as "
                                         r"float32 or float64, got"):
        Dense(4, 3, dtype=dtype)


@pytest.mark.parametrize("make, match", [
    (lambda: Adam(beta1=1.0), r"beta1 must be a number in \[0, 1\), got 1.0"),
    (lambda: Adam(eps=0), "eps must be a positive number, got 0"),
    (lambda: SGD(momentum="0.9"), r"momentum must be a number in \[0, 1\), got '0.9'"),
])
def test_optimizer_settings_are_checked(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_preprocess_twice_is_refused():
    (x, _), _ = load_mnist()
    once = preprocess(x[:10])
    with pytest.raises(ValueError, match=r"already in \[0, 1\]: they were preprocessed once"):
        preprocess(once)


@pytest.mark.parametrize("images, match", [
    (np.array([[0.0, 300.0]]), r"pixel values 0..255, got 0..300"),
    (np.array([[-1, 5]]), r"pixel values 0..255, got -1..5"),
    (np.array([["a"]]), r"pixel values 0..255, got <U1"),
])
def test_preprocess_needs_pixels_in_0_to_255(images, match):
    with pytest.raises(ValueError, match=match):
        preprocess(images)


def test_validation_data_must_be_a_pair(model, data):
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(x_val, y_val\), got ndarray"):
        model.fit(*data, validation_data=data[0], verbose=False)


def test_fit_on_a_model_without_dense_layers_says_so(data):
    with pytest.raises(ValueError, match="the model has no Dense layer, so there is nothing to train"):
        Model([ReLU(), Softmax()]).fit(*data, verbose=False)


@pytest.mark.parametrize("size", [2.5, 0, 32, "10", True])
def test_train_val_split_needs_a_whole_number_of_examples(data, size):
    with pytest.raises(ValueError, match=r"val_size must be a whole number between 1 and 31"):
        train_val_split(*data, val_size=size)


# --- load_mnist with a damaged file ------------------------------------------------------------
def damaged_copies(good, tmp_path):
    yield "truncated", good[:len(good) // 2]
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0x01
    yield "bit-flipped", bytes(flipped)
    yield "empty", b""
    path = tmp_path / "wrong.npz"
    np.savez(path, x_train=np.zeros((60000, 28, 28), np.float32), y_train=np.zeros(60000, np.uint8),
             x_test=np.zeros((10000, 28, 28), np.uint8), y_test=np.zeros(10000, np.uint8))
    yield "wrong dtype", path.read_bytes()
    np.savez(path, x_train=np.zeros((60000, 784), np.uint8), y_train=np.zeros(60000, np.uint8),
             x_test=np.zeros((10000, 28, 28), np.uint8), y_test=np.zeros(10000, np.uint8))
    yield "wrong shape", path.read_bytes()


def test_a_damaged_mnist_file_says_how_to_restore_it(tmp_path, monkeypatch):
    good = nnlib.data.find_mnist().read_bytes()
    file = tmp_path / "mnist.npz"
    monkeypatch.setattr(nnlib.data, "BUNDLED", file)
    for name, content in damaged_copies(good, tmp_path):
        file.write_bytes(content)
        with pytest.raises(OSError, match=r"mnist.npz is damaged \(.*\): restore it with "
                                          r"`git checkout data/mnist.npz`") as info:
            load_mnist()
        assert "\n" not in str(info.value), name


# --- the terminal trainer ----------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (["--hidden", "0"], "argument --hidden: must be a positive integer, got '0'"),
    (["--seed", "-1"], "argument --seed: must be an integer ≥ 0, got '-1'"),
    (["--epochs", "two"], "argument --epochs: must be a positive integer, got 'two'"),
    (["--learning-rate", "-0.1"], "argument --learning-rate: must be a positive number"),
    (["--momentum", "1"], r"argument --momentum: must be in [0, 1), got '1'"),
    (["--model", "rnn"], "argument --model: invalid choice: 'rnn'"),
    (["--schedule", "step"], "argument --schedule: invalid choice: 'step'"),
    (["--model", "cnn", "--momentum", "0.5"],
     "argument --momentum: only SGD has a momentum option"),
    (["--save", "/proc/nnlib-model"], "error: --save /proc/nnlib-model: cannot save a model"),
    (["--save", "README.md"], "error: --save README.md: README.md exists and is not an nnlib "
                              "model folder; refusing to overwrite it"),
])
def test_the_terminal_trainer_checks_its_options_before_training(args, message):
    result = subprocess.run([sys.executable, "-m", "nnlib.train", "--epochs", "1", *args],
                            capture_output=True, text=True, timeout=120,
                            cwd=nnlib.data.BUNDLED.parent.parent)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "trained" not in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
