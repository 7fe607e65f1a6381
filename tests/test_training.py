"""Model training end to end: overfitting a tiny batch, fit's history, the terminal trainer, and the
original project's README example."""

import subprocess
import sys

import numpy as np
import pytest

from nnlib import SGD, Adam, Dense, Model, ReLU, Softmax, load_mnist, minibatches, preprocess
from nnlib.train import build_model


@pytest.fixture(scope="module")
def small_mnist():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    return preprocess(x_train[:2000]), y_train[:2000], preprocess(x_test[:500]), y_test[:500]


@pytest.mark.parametrize("optimizer", [SGD(0.1, momentum=0.9), Adam(0.01)],
                         ids=["sgd-momentum", "adam"])
def test_a_tiny_batch_is_overfitted_to_100_percent(small_mnist, optimizer):
    x, y = small_mnist[0][:32], small_mnist[1][:32]
    model = build_model(hidden=64, seed=0)
    for _ in range(100):
        model.train_step(x, y, optimizer)
    loss, acc = model.evaluate(x, y)
    assert acc == 1.0 and loss < 0.01


def test_fit_returns_per_epoch_history_and_learns(small_mnist):
    x, y, x_val, y_val = small_mnist
    model = build_model(hidden=32, seed=0)
    before = model.evaluate(x_val, y_val)[1]
    history = model.fit(x, y, epochs=3, batch_size=32, learning_rate=0.1,
                        validation_data=(x_val, y_val), seed=0, verbose=False)
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 for v in history.values())
    assert history["loss"][2] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.8 > before


def test_fit_is_reproducible_with_a_seed(small_mnist):
    x, y = small_mnist[0][:256], small_mnist[1][:256]
    runs = [build_model(hidden=8, seed=0).fit(x, y, epochs=2, seed=4, verbose=False)
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_fit_without_validation_keeps_val_lists_empty(small_mnist):
    history = build_model(8, 0).fit(*small_mnist[:2], epochs=1, verbose=False)
    assert history["val_loss"] == [] and len(history["loss"]) == 1


def test_fit_accepts_one_hot_labels(small_mnist):
    x, y = small_mnist[0][:256], small_mnist[1][:256]
    a = build_model(8, 0).fit(x, y, epochs=1, seed=1, verbose=False)
    b = build_model(8, 0).fit(x, np.eye(10)[y], epochs=1, seed=1, verbose=False)
    assert a == b


def test_a_diverging_run_stops_with_a_clear_error(small_mnist):
    x, y = small_mnist[0][:512], small_mnist[1][:512]
    with pytest.raises(FloatingPointError, match="learning rate is probably too high"):
        with np.errstate(all="ignore"):
            build_model(32, 0).fit(x, y, epochs=5, learning_rate=100.0, seed=0, verbose=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"epochs": -1}, "epochs must be a positive integer, got -1"),
    ({"learning_rate": 0}, "learning_rate must be a positive number, got 0"),
])
def test_fit_rejects_bad_settings(small_mnist, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_model(8, 0).fit(*small_mnist[:2], verbose=False, **kwargs)


def test_fit_rejects_labels_out_of_range(small_mnist):
    with pytest.raises(ValueError, match="expected class ids 0..9"):
        build_model(8, 0).fit(small_mnist[0][:4], np.array([0, 1, 2, 10]), verbose=False)


def test_predict_returns_class_ids(small_mnist):
    model = build_model(8, 0)
    pred = model.predict(small_mnist[2])
    assert pred.shape == (500,) and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, model.forward(small_mnist[2]).argmax(axis=1))


def test_the_original_readme_example_runs_with_only_its_imports_changed(small_mnist, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    from nnlib import Model
    from nnlib.compat import (Activation_ReLU, Activation_Softmax, Layer_Dense,
                              Loss_CategoricalCrossentropy)

    X, y, X_test, y_test = small_mnist
    model = Model(input_shape=784)
    model.add(Layer_Dense(784, 128))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(128, 10))
    model.add(Activation_Softmax())
    model.fit(X, y, epochs=2, batch_size=64, verbose=False)
    model.save('dir')
    loaded = Model.load('dir')

    np.testing.assert_array_equal(loaded.forward(X_test), model.forward(X_test))
    loss = Loss_CategoricalCrossentropy().calculate(loaded.forward(X_test), y_test)
    assert loss < 1.5  # it learned: an untrained network scores ln 10 ≈ 2.3 (measured 0.66–0.93)


def test_training_from_the_terminal_saves_a_loadable_model(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nnlib.train", "--epochs", "1", "--hidden", "32",
                          "--save", str(tmp_path / "model")], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "test accuracy" in out.stdout and "validation accuracy" in out.stdout
    reported = float(out.stdout.split("test accuracy")[1].split("%")[0])
    (_, _), (x_test, y_test) = load_mnist()
    _, acc = Model.load(tmp_path / "model").evaluate(preprocess(x_test), y_test)
    assert abs(acc * 100 - reported) < 0.01 and acc > 0.9


def test_training_a_cnn_from_the_terminal_saves_a_loadable_model(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nnlib.train", "--model", "cnn", "--epochs", "1",
                          "--hidden", "32", "--save", str(tmp_path / "cnn")], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    reported = float(out.stdout.split("test accuracy")[1].split("%")[0])
    (_, _), (x_test, y_test) = load_mnist()
    loaded = Model.load(tmp_path / "cnn")
    assert type(loaded.layers[0]).__name__ == "Conv2D" and loaded.input_shape == (1, 28, 28)
    _, acc = loaded.evaluate(preprocess(x_test, keep_shape=True), y_test)
    assert abs(acc * 100 - reported) < 0.01 and acc > 0.97


def test_terminal_trainer_reports_bad_options_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nnlib.train", "--batch-size", "0",
                          "--save", str(tmp_path / "m")], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: argument --batch-size: must be a positive integer, "
                                  "got '0' (see python -m nnlib.train --help)")


def test_fit_equals_train_step_on_minibatches_bit_for_bit(small_mnist):
    # fit's fast path (labels checked once, one softmax per step, no input gradient for the
    # first layer) must compute exactly what the public, fully checked train_step computes
    x, y, _, _ = small_mnist
    fast, slow = build_model(hidden=16, seed=4), build_model(hidden=16, seed=4)
    history = fast.fit(x, y, epochs=2, batch_size=50, optimizer=SGD(0.1, momentum=0.9), seed=7,
                       verbose=False)
    rng, optimizer, losses = np.random.default_rng(7), SGD(0.1, momentum=0.9), []
    for _ in range(2):
        losses.append(sum(slow.train_step(xb, yb, optimizer)[0] * len(xb)
                          for xb, yb in minibatches(x, y, 50, rng=rng)) / len(x))
    assert history["loss"] == losses
    for a, b in zip(fast.layers, slow.layers):
        for name in a.param_names:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_dense_backward_can_skip_the_input_gradient(rng):
    layer = Dense(5, 3, rng=0)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    layer.forward(x)
    full = layer.backward(dout)
    dweights = layer.dweights.copy()
    assert layer.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(layer.dweights, dweights)
    assert full.shape == (4, 5)


def test_patience_stops_early_and_restores_the_best_epoch(small_mnist):
    x, y, x_val, y_val = small_mnist
    model = build_model(hidden=16, seed=0)
    # a learning rate this high makes the validation loss climb after its best epoch
    history = model.fit(x, y, epochs=40, batch_size=16, learning_rate=0.5, seed=0, patience=2,
                        validation_data=(x_val, y_val), verbose=False)
    best = history["best_epoch"]
    assert len(history["val_loss"]) == best + 2 < 40
    assert history["val_loss"][best - 1] == min(history["val_loss"])
    assert model.evaluate(x_val, y_val)[0] == pytest.approx(history["val_loss"][best - 1], rel=1e-6)


def test_patience_needs_validation_data_and_a_positive_integer(small_mnist):
    x, y, *val = small_mnist
    with pytest.raises(ValueError, match=r"patience stops on the validation loss, so it needs "
                                         r"validation_data=\(x_val, y_val\)"):
        build_model(hidden=4).fit(x, y, patience=3, verbose=False)
    with pytest.raises(ValueError, match="patience must be a positive integer, got 0"):
        build_model(hidden=4).fit(x, y, patience=0, validation_data=val, verbose=False)
