"""The training playground's logic, in-process: settings, runs, stop, explosions, clear, errors,
settings changed during a run, the MLP and the CNN on flat or image-shaped data, and the plot
drawn for the space and theme a page reports (sizes, contrast, nothing overlapping or cut off).

The widgets live without a browser here; tests/test_playground_browser.py drives a real one.
No test asserts a timing (benchmarks/bench_playground.py measures those).
"""

import io
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from nnlib import Conv2D, Dense, load_mnist, preprocess  # noqa: E402
from nnlib.widgets import EXPLODED, LOCKED, Playground, contrast  # noqa: E402


@pytest.fixture(scope="module")
def mnist_small():
    """2 000 training and 500 validation images, as chapter 08 prepares them."""
    (x, y), _ = load_mnist()
    x, y = preprocess(x[:2500]), y[:2500]
    return x[:2000], y[:2000], x[2000:], y[2000:]


@pytest.fixture
def pg(mnist_small):
    playground = Playground(*mnist_small, seed=0, hidden_units=16, epochs=2)
    yield playground
    playground.stop()


def wait_until(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def playground_threads():
    return [t for t in threading.enumerate() if t.name.startswith("nnlib-playground")]


def test_sliders_are_widgets_and_a_run_uses_their_values(pg):
    pg.learning_rate.value = 0.2
    pg.batch_size.value = 64
    pg.hidden_units.value = 8
    pg.epochs.value = 1
    pg.train_size.value = 1000
    run = pg.train(wait=True)
    assert (run.learning_rate, run.batch_size, run.hidden_units, run.epochs, run.train_size) == (
        0.2, 64, 8, 1, 1000)
    assert run.model.layers[0].weights.shape == (784, 8)
    assert "lr 0.2 · batch 64" in run.label()


def test_train_with_wait_fills_the_history_of_the_latest_run(pg):
    run = pg.train(wait=True)
    assert run.outcome == "done" and not pg.is_training
    history = pg.history
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    lengths = {len(values) for values in history.values()}
    assert len(lengths) == 1 and lengths.pop() >= 3
    assert history["epoch"][0] == 0 and history["epoch"][-1] == pytest.approx(2.0)
    assert history["loss"][0] == pytest.approx(np.log(10), abs=0.4)   # the untrained network
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert 0.7 < run.val_accuracy <= 1
    assert pg.model is run.model
    assert "Run 1" in pg.status.value and "done" in pg.status.value


def test_each_run_is_kept_for_comparison_until_clear(pg):
    first = pg.train(wait=True)
    pg.learning_rate.value = 0.01
    second = pg.train(wait=True)
    assert pg.runs == [first, second]
    assert pg.history["val_loss"] == second.history["val_loss"]
    picture = pg.plot.value
    pg.clear()
    assert pg.runs == [] and pg.history["loss"] == []
    assert pg.plot.value != picture and bytes(pg.plot.value).startswith(b"\x89PNG")
    assert pg.train(wait=True).number == 1


def test_the_plot_is_redrawn_when_the_x_axis_changes(pg):
    pg.train(wait=True)
    before = pg.plot.value
    pg.x_axis.value = "seconds"
    assert pg.plot.value != before


def test_stop_ends_a_running_run_between_batches(pg):
    run = start_long_run(pg)
    pg.stop(wait=False)
    wait_until(lambda: not pg.is_training, timeout=30)
    assert run.outcome == "stopped"
    assert run.history["epoch"][-1] < 100
    assert "stopped" in pg.status.value
    assert not playground_threads()


def test_stop_button_stops_a_run(pg):
    run = start_long_run(pg)
    pg.stop_button.click()
    wait_until(lambda: not pg.is_training)
    assert run.outcome == "stopped"


def test_train_while_training_does_not_start_a_second_run(pg):
    pg.set(epochs=100, batch_size=1)
    run = pg.train(wait=False)
    assert pg.train(wait=False) is None
    pg.train_button.click()                           # as a second click on Train would
    assert len(pg.runs) == 1 and len(playground_threads()) == 1
    assert pg.train_button.disabled and not pg.stop_button.disabled
    pg.stop()
    assert run.outcome == "stopped"
    assert not pg.train_button.disabled and pg.stop_button.disabled


def test_the_training_thread_is_a_daemon_and_ends_with_the_run(pg):
    pg.set(epochs=100, batch_size=1)
    pg.train(wait=False)
    threads = playground_threads()
    assert len(threads) == 1 and threads[0].daemon
    pg.stop()
    assert not playground_threads()


def test_a_diverging_learning_rate_stops_with_a_message_instead_of_raising(pg):
    pg.set(learning_rate=10, epochs=5)
    run = pg.train(wait=True)
    assert run.outcome == "exploded"
    assert "loss exploded — learning rate too high?" in pg.status.value
    assert run.history["epoch"][-1] < 5
    assert "exploded" in run.label()


def test_an_unexpected_error_is_reported_and_reraised_by_wait(pg, monkeypatch):
    import nnlib.widgets

    def broken(hidden, seed):
        raise MemoryError("no room for the weights")

    monkeypatch.setattr(nnlib.widgets, "build_model", broken)
    with pytest.raises(MemoryError, match="no room"):
        pg.train(wait=True)
    assert pg.runs[-1].outcome == "error"
    assert "MemoryError: no room for the weights" in pg.status.value
    assert not pg.is_training and not pg.train_button.disabled


def test_clear_during_a_run_stops_it_first(pg):
    pg.set(epochs=100, batch_size=1)
    pg.train(wait=False)
    pg.clear()
    assert not pg.is_training and pg.runs == []


def test_display_shows_the_widget_with_a_stable_text(pg):
    bundle = pg._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == ("Playground(2,000 training images, 500 validation images, "
                                    "0 runs)")


@pytest.mark.parametrize("settings, message", [
    ({"learning_rate": 100}, "learning_rate must be a number from 0.0001 to 10"),
    ({"learning_rate": 0}, "learning_rate must be"),
    ({"learning_rate": "fast"}, "learning_rate must be"),
    ({"batch_size": 48}, "batch_size must be one of 1, 2, 4"),
    ({"batch_size": True}, "batch_size must be one of"),
    ({"hidden_units": 0}, "hidden_units must be one of"),
    ({"epochs": 0}, "epochs must be an integer from 1 to 100"),
    ({"epochs": 2.5}, "epochs must be an integer"),
    ({"train_size": 1234}, "train_size must be one of 100, 200, 500, 1000, 2000"),
    ({"x_axis": "steps"}, "x_axis must be one of epochs, seconds"),
    ({"dropout": 0.5}, "Playground has no setting 'dropout'"),
    ({"model": "resnet"}, "model must be 'mlp' or 'cnn', got 'resnet'"),
    ({"model": ""}, "model must be 'mlp' or 'cnn', got ''"),
    ({"model": None}, "model must be 'mlp' or 'cnn', got None"),
    ({"model": 1}, "model must be 'mlp' or 'cnn', got 1"),
    ({"model_kind": "cnn"}, "Playground has no setting 'model_kind'; choose from model, "),
])
def test_impossible_settings_raise_a_one_line_value_error(pg, settings, message):
    with pytest.raises(ValueError, match=message) as info:
        pg.set(**settings)
    assert "\n" not in str(info.value)


SHAPES = r"of shape \(N, 784\), \(N, 28, 28\) or \(N, 1, 28, 28\) as made by nnlib.preprocess"


def bad_data(x, y, xv, yv):
    return [
        ((x.reshape(-1, 2, 28, 28), y, xv, yv), r"x_train " + SHAPES + r", got shape "
                                                 r"\(1000, 2, 28, 28\)"),
        ((x[:, :756].reshape(-1, 28, 27), y, xv, yv), r"got shape \(2000, 28, 27\)"),
        ((x.reshape(-1), y, xv, yv), r"x_train of shape .*, got shape \(1568000,\)"),
        (((x * 255).astype(np.uint8), y, xv, yv), "uint8 values; scale the images"),
        ((x, y[:-1], xv, yv), "2000 images in x_train but 1999 labels"),
        ((x, y + 10, xv, yv), "labels from 10 to 19"),
        ((x, y, xv[:0], yv[:0]), r"x_val " + SHAPES),
        ((x, y, xv[:, :100], yv), r"got shape \(500, 100\)"),
        ((x * 255, y, xv, yv), r"x_train looks unscaled \(max 255\): pass preprocess\(x\)"),
        ((x, y, xv * 255, yv), r"x_val looks unscaled \(max 255\)"),
        ((np.where(x > 0.5, np.nan, x), y, xv, yv), "x_train holds NaN or infinite values"),
        ((x, y, np.where(xv > 0.5, np.inf, xv), yv), "x_val holds NaN or infinite values"),
    ]


@pytest.mark.parametrize("case", range(12))
def test_bad_data_raises_a_one_line_value_error(mnist_small, case):
    args, message = bad_data(*mnist_small)[case]
    with pytest.raises(ValueError, match=message) as info:
        Playground(*args)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("keywords, message", [
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"seed": 1.5}, "seed must be a non-negative integer"),
    ({"batch_size": 3}, "batch_size must be one of"),
    ({"train_size": 5000}, "train_size must be one of"),
    ({"model": "rnn"}, "model must be 'mlp' or 'cnn', got 'rnn'"),
])
def test_bad_keywords_raise_a_one_line_value_error(mnist_small, keywords, message):
    with pytest.raises(ValueError, match=message):
        Playground(*mnist_small, **keywords)


def test_one_hot_labels_are_accepted(mnist_small):
    x, y, xv, yv = mnist_small
    pg = Playground(x, np.eye(10)[y], xv, yv)
    assert pg._y_train.tolist() == y.tolist()


def test_import_nnlib_imports_neither_ipywidgets_nor_matplotlib():
    code = ("import sys, nnlib, nnlib.train, nnlib.checks; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('ipywidgets', 'matplotlib', 'nnlib.widgets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("optimizer, momentum, name", [
    ("SGD", 0.0, "SGD"), ("SGD + momentum", 0.9, "SGD momentum 0.9"), ("Adam", 0.0, "Adam")])
def test_the_optimizer_control_chooses_the_optimizer_and_names_it(pg, monkeypatch, optimizer,
                                                                 momentum, name):
    import nnlib.widgets as w
    made = []
    for cls in ("SGD", "Adam"):
        real = getattr(w, cls)
        monkeypatch.setattr(w, cls, lambda *a, real=real, **k: made.append(real(*a, **k))
                            or made[-1])
    pg.set(optimizer=optimizer, momentum=0.9, learning_rate=0.01, epochs=1)
    assert pg.momentum.disabled == (optimizer != "SGD + momentum")
    run = pg.train(wait=True)
    assert run.outcome == "done" and (run.optimizer, run.momentum) == (optimizer, momentum)
    assert type(made[0]).__name__ == optimizer.split()[0]
    assert getattr(made[0], "momentum", 0.0) == momentum
    assert run.label().startswith(f"#1  MLP · {name} · lr 0.01") and name in repr(run)


@pytest.mark.parametrize("settings, message", [
    ({"momentum": 1.0}, "momentum must be a number from 0 to 0.99"),
    ({"optimizer": "RMSprop"}, "optimizer must be one of SGD, SGD \\+ momentum, Adam")])
def test_bad_optimizer_settings_raise(pg, settings, message):
    with pytest.raises(ValueError, match=message):
        pg.set(**settings)


def in_display_order(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from in_display_order(child)


def test_every_slider_shows_its_value_and_the_status_line_is_above_the_plot(pg):
    sliders = [w for w in pg._sliders if hasattr(w, "readout")]
    assert len(sliders) == 6 and all(w.readout for w in sliders)
    order = list(in_display_order(pg.widget))
    assert order.index(pg.model_kind) < order.index(pg.learning_rate)   # the model comes first
    assert order.index(pg.train_button) < order.index(pg.status) < order.index(pg.plot)


def test_the_x_axis_ends_at_the_latest_point_not_at_the_last_epoch(pg):
    pg.set(epochs=20)
    pg.train()
    wait_until(lambda: len(pg.history["epoch"]) >= 3)
    pg.stop()
    last = pg.history["epoch"][-1]
    assert last < 20
    assert pg._ax_loss.get_xlim()[1] == pytest.approx(max(last, 1e-9) * 1.02)


def test_figure_is_a_static_png_of_the_plot(pg):
    pg.set(epochs=1)
    pg.train(wait=True)
    picture = pg.figure()
    assert picture.data == pg.plot.value and picture.data[:8] == b"\x89PNG\r\n\x1a\n"


# --- settings that change during a run ---------------------------------------------------------
def start_long_run(pg, **settings):
    """Start a run that will not end by itself soon, and wait for its first two points. Batches
    of one image unless the settings say otherwise: 100 epochs of 2 000 steps take about 17 s,
    far longer than any test waits (100 epochs in batches of 32 took under a second)."""
    pg.set(epochs=100, **{"batch_size": 1, **settings})
    run = pg.train()
    assert run is not None
    wait_until(lambda: len(run.history["loss"]) >= 2)
    return run


def test_a_learning_rate_changed_during_a_run_acts_at_the_next_step_and_is_kept(pg):
    run = start_long_run(pg, learning_rate=0.1)
    pg.learning_rate.value = 0.3
    points = len(run.history["loss"])
    wait_until(lambda: len(run.history["loss"]) >= points + 2)
    pg.stop()
    assert [(c["setting"], c["value"]) for c in run.changes] == [("learning_rate", 0.3)]
    change = run.changes[0]
    rates = run.history["learning_rate"]
    assert rates[0] == 0.1 and rates[-1] == 0.3
    # every point before the change was made at 0.1, every point after it at 0.3
    for epoch, rate in zip(run.history["epoch"], rates):
        assert rate == (0.1 if epoch <= change["epoch"] else 0.3)
    assert run.learning_rate == 0.1 and run.values("learning_rate") == [0.1, 0.3]
    assert "lr 0.1 → 0.3" in run.label() and "lr 0.1 → 0.3" in repr(run)
    assert "lr 0.1 → 0.3" in pg._plot_text.value


def test_a_changed_setting_is_marked_on_both_charts_and_in_the_legend(pg):
    run = start_long_run(pg, learning_rate=0.1)
    pg.learning_rate.value = 0.05
    wait_until(lambda: run.changes)
    pg.stop()
    at = run.changes[0]["epoch"]
    for key in ("changed_loss", "changed_acc"):
        xs = pg._lines[run.number][key].get_xdata()
        assert list(xs[:2]) == [at, at]
    assert "setting changed" in [text for kind, text, _, _ in pg._texts() if kind == "legend"]


def test_momentum_changed_during_a_run_acts_and_is_kept(pg):
    run = start_long_run(pg, optimizer="SGD + momentum", momentum=0.9, learning_rate=0.01)
    assert not pg.momentum.disabled
    pg.momentum.value = 0.5
    wait_until(lambda: run.changes)
    pg.stop()
    assert [(c["setting"], c["value"]) for c in run.changes] == [("momentum", 0.5)]
    assert run.history["momentum"][0] == 0.9 and run.history["momentum"][-1] == 0.5
    assert run.optimizer_name() == "SGD momentum 0.9 → 0.5"


def test_settings_a_run_cannot_change_are_locked_while_it_trains_and_say_so(pg):
    run = start_long_run(pg)
    locked = (pg.model_kind, pg.batch_size, pg.hidden_units, pg.epochs, pg.train_size,
              pg.optimizer)
    for control in locked:
        assert control.disabled and control.tooltip == LOCKED
        assert "nnlib-locked" in control._dom_classes
    assert not pg.learning_rate.disabled and not pg.x_axis.disabled
    pg.stop()
    assert run.outcome == "stopped"
    for control in locked:
        assert not control.disabled and control.tooltip != LOCKED
        assert "nnlib-locked" not in control._dom_classes


def test_the_status_line_changes_on_events_only_and_the_progress_line_with_the_numbers(pg):
    statuses, progress = [], []
    pg.status.observe(lambda change: statuses.append(change["new"]), names="value")
    pg.progress.observe(lambda change: progress.append(change["new"]), names="value")
    run = start_long_run(pg)
    wait_until(lambda: len(progress) >= 4)
    pg.stop()
    # the status line is a live region: a screen reader reads every change aloud
    assert len(statuses) == 2 and "training" in statuses[0] and "stopped" in statuses[1]
    assert run.outcome == "stopped" and pg.progress.value == ""


def test_wait_returns_once_the_run_has_ended(pg):
    pg.set(epochs=1)
    run = pg.train()
    pg.wait()
    assert run.outcome == "done" and not pg.is_training
    pg.wait()       # no run: returns at once


# --- the model: an MLP or chapter 15's CNN --------------------------------------------------------
def test_a_cnn_run_trains_chapter_15s_network_and_its_loss_drops(pg):
    pg.set(model="cnn", epochs=2)
    run = pg.train(wait=True)
    assert run.outcome == "done" and run.model_kind == "cnn" and pg.model is run.model
    conv = [layer for layer in run.model.layers if isinstance(layer, Conv2D)]
    dense = [layer for layer in run.model.layers if isinstance(layer, Dense)]
    assert [c.weights.shape for c in conv] == [(16, 1, 5, 5), (32, 16, 5, 5)]
    assert [d.weights.shape for d in dense] == [(512, 16), (16, 10)]   # hidden units: 16
    history = pg.history
    lengths = {len(values) for values in history.values()}
    assert len(lengths) == 1 and lengths.pop() >= 2
    assert history["epoch"][0] == 0 and history["epoch"][-1] == pytest.approx(2.0)
    assert history["loss"][-1] < history["loss"][0] - 0.3
    assert history["val_loss"][-1] < history["val_loss"][0] - 0.5
    assert 0.3 < run.val_accuracy <= 1


def test_the_model_control_is_locked_while_a_cnn_run_trains(pg):
    run = start_long_run(pg, model="cnn")
    assert run.model_kind == "cnn" and "(CNN, 16 hidden) training" in pg.status.value
    assert pg.model_kind.disabled and pg.model_kind.tooltip == LOCKED
    assert list(pg.model_kind.tooltips) == [LOCKED, LOCKED]
    assert "nnlib-locked" in pg.model_kind._dom_classes
    pg.stop()
    assert run.outcome == "stopped" and not pg.model_kind.disabled
    assert LOCKED not in (pg.model_kind.tooltip, *pg.model_kind.tooltips)
    # the hidden units still say which layer they set
    assert "512 → hidden → 10" in pg.hidden_units.tooltip


def test_stop_during_a_cnn_run_ends_it_after_the_batch_in_progress(pg):
    run = start_long_run(pg, model="cnn", batch_size=16)     # 2 000 images: 125 whole batches
    # Stop is pressed as a batch begins: the training thread announces the learning rate that
    # batch is the first to use, and this observer runs in that thread, before the batch trains
    pg.status.observe(lambda change: "learning rate 0.05 from epoch" in change["new"]
                      and pg.stop_button.click(), names="value")
    pg.learning_rate.value = 0.05
    wait_until(lambda: not pg.is_training)
    assert run.outcome == "stopped" and not playground_threads()
    (change,) = run.changes
    began, ended = round(change["epoch"] * 2000), round(run.history["epoch"][-1] * 2000)
    assert ended == began + 16                           # that batch, and not one more
    assert run.history["learning_rate"][-1] == 0.05
    assert "<b>Run 1</b> (CNN, 16 hidden) stopped after" in pg.status.value
    assert np.isfinite(run.val_loss) and np.isfinite(run.model.evaluate(
        pg._x_val[:10].reshape(-1, 1, 28, 28), pg._y_val[:10])[0])


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_flat_and_image_shaped_data_train_the_same_run(mnist_small, model):
    x, y, xv, yv = mnist_small
    results = []
    for shape, val_shape in (((784,), (784,)), ((28, 28), (28, 28)),
                             ((1, 28, 28), (1, 28, 28)), ((784,), (1, 28, 28))):
        pg = Playground(x.reshape(-1, *shape), y, xv.reshape(-1, *val_shape), yv, model=model,
                        hidden_units=16, epochs=1, train_size=500)
        run = pg.train(wait=True)
        assert run.outcome == "done" and run.model_kind == model
        # one array of images, the caller's own, whatever shape it came in and a run needs
        assert np.shares_memory(pg._x_train, x) and np.shares_memory(pg._x_val, xv)
        assert np.shares_memory(pg._data(model)[0], x)
        results.append((run.val_loss, run.val_accuracy, run.history["val_loss"],
                        run.history["loss"]))
    assert results[1:] == results[:1] * 3
    first_layer = type(run.model.layers[0])
    assert first_layer is (Conv2D if model == "cnn" else Dense)


def test_legend_status_line_run_and_plot_text_name_the_model(pg):
    pg.set(epochs=1, train_size=500)
    pg.train(wait=True)
    assert "<b>Run 1</b> (MLP, 16 hidden) done: validation accuracy" in pg.status.value
    pg.set(model="cnn")
    cnn = pg.train(wait=True)
    assert "<b>Run 2</b> (CNN, 16 hidden) done: validation accuracy" in pg.status.value
    assert repr(cnn).startswith("Run 2: CNN, 16 hidden, SGD, lr 0.1, batch 32, 1 epoch on 500 "
                                "images — validation accuracy")
    assert cnn.label() == (f"#2  CNN · SGD · lr 0.1 · batch 32 · 16 hidden · 500 images — "
                           f"{cnn.val_accuracy:.1%}")
    legend = [text for kind, text, _, _ in pg._texts() if kind == "legend"]
    assert "all runs: SGD · batch 32 · 16 hidden · 500 images" in legend
    assert [text.split(" — ")[0] for text in legend if text.startswith("#")] == [
        "#1  MLP · lr 0.1", "#2  CNN · lr 0.1"]
    assert "Run 2 (CNN, 16 hidden, SGD, lr 0.1, batch 32): at epoch 1.00" in pg._plot_text.value


@pytest.fixture(scope="module")
def mnist_12k():
    """12 000 training and 500 validation images: more than a CNN starts with."""
    (x, y), _ = load_mnist()
    return preprocess(x[:12_000]), y[:12_000], preprocess(x[12_000:12_500]), y[12_000:12_500]


def test_choosing_the_cnn_lowers_the_training_images_openly_and_the_mlp_gets_them_back(
        mnist_12k):
    pg = Playground(*mnist_12k)
    assert pg.train_size.value == 12_000 and "784 → hidden → 10" in pg.hidden_units.tooltip
    pg.model_kind.value = "cnn"                               # a click on CNN
    assert pg.train_size.value == 10_000
    assert "training images lowered from 12,000 to 10,000" in pg.status.value
    assert "512 → hidden → 10" in pg.hidden_units.tooltip
    pg.model_kind.value = "mlp"
    assert pg.train_size.value == 12_000 and "back to 12,000" in pg.status.value
    # a number set by hand while the CNN is chosen stays
    pg.set(model="cnn")
    pg.set(train_size=5000)
    pg.set(model="mlp")
    assert pg.train_size.value == 5000
    # given with the model, in any order, the number holds
    pg.set(train_size=12_000)
    pg.set(train_size=12_000, model="CNN")
    assert (pg.model_kind.value, pg.train_size.value) == ("cnn", 12_000)
    assert Playground(*mnist_12k, model="cnn").train_size.value == 10_000
    assert Playground(*mnist_12k, model="cnn", train_size=12_000).train_size.value == 12_000


# --- divergence you can see -----------------------------------------------------------------------
def test_an_exploding_loss_is_drawn_at_its_value_on_a_log_axis(pg):
    pg.set(learning_rate=0.1, epochs=1)
    pg.train(wait=True)
    assert pg._ax_loss.get_yscale() == "linear"
    pg.set(learning_rate=10)
    run = pg.train(wait=True)
    losses = run.history["loss"]
    assert run.outcome == "exploded" and losses[-1] > EXPLODED
    # the steps on the way up are points of their own, not averaged into one
    assert len(losses) >= 3 and max(losses[:-1]) < losses[-1]
    assert pg._ax_loss.get_yscale() == "log"
    low, high = pg._ax_loss.get_ylim()
    assert low < min(losses) and high > losses[-1]
    marker = pg._lines[run.number]["exploded"]
    assert list(marker.get_xdata()) == [run.history["epoch"][-1]]
    assert list(marker.get_ydata()) == [losses[-1]]
    assert "nnlib-alarm" in pg.status.value


def test_the_x_ticks_of_a_run_that_explodes_at_once_are_few_and_apart(pg):
    pg.set(learning_rate=10)
    run = pg.train(wait=True)
    assert run.outcome == "exploded" and run.history["epoch"][-1] < 0.1
    below = pg._fig.bbox.height - pg._ax_loss.get_window_extent().y0
    ticks = sorted(box for kind, _, _, box in pg._texts() if kind == "tick" and box[1] > below
                   and box[2] < pg._ax_acc.get_window_extent().x0)
    assert 2 <= len(ticks) <= 8
    assert all(a[2] + 4 <= b[0] for a, b in zip(ticks, ticks[1:]))


VIEWS = {
    "no page: 960 px, light": {"width": 960},
    "1024x768 at 150 %, light": {"width": 567, "room": 220, "dpr": 1.5, "font": 14,
                                 "ink": "rgba(0, 0, 0, 0.87)", "background": "rgb(255, 255, 255)"},
    "1024x768 at 150 %, dark": {"width": 567, "room": 220, "dpr": 1.5, "font": 14,
                                "ink": "rgb(255, 255, 255)", "background": "rgb(17, 17, 17)"},
    "1920x1080, light": {"width": 1740, "room": 845, "dpr": 1, "font": 16,
                         "ink": "rgba(0, 0, 0, 0.87)", "background": "rgb(255, 255, 255)"},
}


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(scope="module")
def busy_playground(mnist_small):
    """A playground with a run of each kind: one done, one with a changed learning rate, one
    that exploded."""
    pg = Playground(*mnist_small, seed=0, hidden_units=16, epochs=2)
    pg.train(wait=True)
    run = start_long_run(pg, learning_rate=0.1)
    pg.learning_rate.value = 0.5
    wait_until(lambda: run.changes)
    pg.stop()
    pg.set(learning_rate=10, epochs=2)
    pg.train(wait=True)
    return pg


@pytest.mark.parametrize("view", VIEWS)
def test_no_text_overlaps_other_text_the_charts_or_the_edge_of_the_picture(busy_playground,
                                                                          view):
    pg = busy_playground
    pg._view.value = json.dumps(VIEWS[view])
    texts = pg._texts()
    width, height = pg._fig.bbox.width, pg._fig.bbox.height
    charts = [ax.get_window_extent() for ax in (pg._ax_loss, pg._ax_acc)]
    charts = [(b.x0, height - b.y1, b.x1, height - b.y0) for b in charts]
    for i, (_, text, _, box) in enumerate(texts):
        assert 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height, text
        assert not any(overlap(box, chart) for chart in charts), f"{text!r} is on a chart"
        for _, other, _, other_box in texts[i + 1:]:
            assert not overlap(box, other_box), f"{text!r} overlaps {other!r}"


@pytest.mark.parametrize("view", [v for v in VIEWS if "room" in VIEWS[v]])
def test_the_plot_is_drawn_for_the_reported_space_with_text_as_large_as_the_controls(
        busy_playground, view):
    pg, report = busy_playground, VIEWS[view]
    pg._view.value = json.dumps(report)
    picture = Image.open(io.BytesIO(pg.plot.value))
    assert picture.width == round(report["width"] * report["dpr"])
    assert picture.height <= (report["room"] + 1) * report["dpr"] or pg._layout["chart_height"] \
        == max(6 * pg._layout["font"], 84)
    assert min(size for _, _, size, _ in pg._texts()) >= report["font"]
    # the legend lies below the charts
    legend_top = min(box[1] for kind, _, _, box in pg._texts() if kind == "legend")
    chart_bottom = pg._fig.bbox.height - pg._ax_loss.get_window_extent().y0
    assert legend_top > chart_bottom


@pytest.mark.parametrize("view", VIEWS)
def test_the_text_in_the_plot_has_at_least_4_5_to_1_contrast(busy_playground, view):
    pg = busy_playground
    pg._view.value = json.dumps(VIEWS[view])
    picture = np.asarray(Image.open(io.BytesIO(pg.plot.value)).convert("RGB"))
    background = pg._view_now["background"]
    assert contrast(pg._view_now["ink"], background) >= 4.5
    for _, text, _, (x0, y0, x1, y1) in pg._texts():
        pixels = picture[int(y0) + 1:int(y1) - 1, int(x0) + 1:int(x1) - 1].reshape(-1, 3)
        best = max(contrast("#%02x%02x%02x" % tuple(p), background) for p in pixels)
        assert best >= 4.5, f"{text!r}: {best:.2f}:1"


def test_a_theme_with_too_little_contrast_gets_black_or_white_ink(pg):
    pg._view.value = json.dumps({"width": 800, "ink": "rgb(120, 120, 120)",
                                 "background": "rgb(100, 100, 100)"})
    assert pg._view_now["ink"] in ("#000000", "#ffffff")
    assert contrast(pg._view_now["ink"], pg._view_now["background"]) >= 4.5


def test_a_report_that_barely_differs_or_makes_no_sense_changes_nothing(pg):
    pg._view.value = json.dumps(VIEWS["1920x1080, light"])
    picture = pg.plot.value
    pg._view.value = json.dumps({**VIEWS["1920x1080, light"], "width": 1730})   # a scroll bar
    assert pg.plot.value is picture
    for nonsense in ("", "{", "[]", json.dumps({"room": 3}), json.dumps({"width": "wide"})):
        pg._view.value = nonsense
        assert pg.plot.value is picture


def test_the_plot_has_a_text_alternative_with_the_status_and_the_latest_values(pg):
    assert "no runs yet" in pg._plot_text.value
    pg.set(epochs=1)
    run = pg.train(wait=True)
    words = pg._plot_text.value
    assert words.startswith(f"Run {run.number} (MLP, 16 hidden) done: validation accuracy")
    h = run.history
    assert f"validation accuracy {h['val_accuracy'][-1]:.1%}" in words
    assert f"training loss {h['loss'][-1]:.3f}" in words
