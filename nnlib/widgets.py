"""A training playground for JupyterLab: sliders for the hyperparameters, live loss and accuracy
curves, one curve per run so runs can be compared. Introduced in chapter 11.

    from nnlib.widgets import Playground
    pg = Playground(x_train, y_train, x_val, y_val)
    pg                                   # shows the controls, a status line and the plot

The controls are ipywidgets, exposed as attributes: ``pg.model_kind``, ``pg.learning_rate``,
``pg.batch_size``, ``pg.hidden_units``, ``pg.epochs``, ``pg.train_size``, ``pg.optimizer``,
``pg.momentum`` and ``pg.x_axis``. Setting ``pg.learning_rate.value = 0.01`` is exactly what
moving the slider does. ``pg.set(...)`` sets several at once (``model="cnn"`` sets
``pg.model_kind``, since ``pg.model`` is the latest run's network) and raises ValueError for a
value the control cannot take (a slider alone would silently clamp it). ``pg.train()``,
``pg.stop()`` and ``pg.clear()`` do what the buttons do; ``pg.wait()`` waits for the run in
progress.

The model control chooses the network each run trains, from the same seed: "mlp" is
``nnlib.train.build_model(hidden_units, seed)``, 784 → hidden ReLU → 10 softmax on flat images;
"cnn" is ``nnlib.train.build_cnn(hidden_units, seed)``, chapter 15's convolutional network on
(N, 1, 28, 28) images, where the hidden units are the width of its dense layer. The data may come
flat, (N, 784), or as images, (N, 28, 28) or (N, 1, 28, 28); each run sees it in the shape its
network takes, as a view of the same array. A CNN costs tens of times more per image than the
MLP, so choosing it lowers the training images to 10 000 (and says so in the status line; the
slider may go back up), and choosing the MLP again restores the number it had. Its curve points
are measured on 500 of the validation images instead of 1 000, and a run spends at most about a
fifth of its processor time on them.

Each run trains its fresh network with ``nnlib.SGD`` (plain or with momentum) or ``nnlib.Adam``
in a background thread, so the notebook stays responsive; the same seed for every run means two
runs differ only in the settings you changed. The learning rate and the momentum may change while
a run trains: the change acts at the next step, is marked on the curves and kept in the run
(``Run.changes``, ``history["learning_rate"]``, its legend entry). The other settings, the model
among them, are locked until the run ends. Stop acts between two batches.

The plot is drawn off-screen by matplotlib (Agg) and sent as a PNG to an ``ipywidgets.Image``, a
few times per second. A short script in the widget's HTML reports to the kernel how wide the
widget is, how much of the notebook's height is left for the plot, the device pixel ratio, the size
of the control text and the theme's colours; the plot is drawn for exactly that space, with text
no smaller than the controls' and in the theme's own ink. The same script names the controls and
their values for screen readers, makes the status line a live region, gives the plot its text
alternative, moves focus between Train and Stop, and keeps keystrokes typed into the widget away
from JupyterLab's shortcuts. In a front end that runs no script the widget still works, with a
plot drawn for a light page 960 pixels wide.

This module imports ipywidgets and matplotlib, so ``import nnlib`` does not import it.
"""

import html
import io
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import (FuncFormatter, LogLocator, MaxNLocator, NullFormatter,
                               PercentFormatter)

from ._validate import class_ids
from .optimizers import SGD, Adam
from .train import build_cnn, build_model

BATCH_SIZES = tuple(2 ** k for k in range(13))              # 1, 2, 4, …, 4096
HIDDEN_UNITS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
TRAIN_SIZES = (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)
LEARNING_RATES = (1e-4, 10.0)
OPTIMIZERS = ("SGD", "SGD + momentum", "Adam")
MAX_MOMENTUM = 0.99
MAX_EPOCHS = 100
POINT_EVERY = 0.2            # a curve point every 0.2 s of training …
POINTS_PER_EPOCH = 20        # … or every 1/20 of an epoch, if that comes sooner
DRAW_EVERY = 0.25            # seconds between redraws of the plot
VAL_POINTS = 1000            # validation images evaluated for each curve point …
CNN_VAL_POINTS = 500         # … for a CNN, the first 500 of them: 1 000 cost it about 0.1 s
VAL_COST = 4                 # a point waits for 4× its validation time of training: ≤ 1/5 of a run
MODELS = {"mlp": "MLP", "cnn": "CNN"}
CNN_TRAIN_SIZE = 10_000      # choosing the CNN lowers the training images to this many
IMAGE_SHAPES = ((784,), (28, 28), (1, 28, 28))      # one image as the playground takes it
EXPLODED = 10 * np.log(10)   # a loss 10× that of guessing uniformly: the run has diverged
TRAJECTORY = 8               # the last steps before an explosion, drawn one point per step
MAX_RUNS_SHOWN = 10          # the plot shows the latest 10 runs; pg.runs keeps them all
UNSCALED = 1.0 + 1e-6        # a pixel above this was not scaled by nnlib.preprocess
MIN_CONTRAST = 4.5           # WCAG AA for text, between the plot's ink and its background
MAX_FONT = 22                # px: the plot's text grows with its width up to this size
# What the plot is drawn for until the page reports its own: a light page 960 CSS pixels wide.
DEFAULT_VIEW = {"width": 960, "room": 0, "dpr": 1.0, "font": 16.0, "ink": "#1f1f1f",
                "background": "#ffffff", "dark": False}
# Run colours with at least 3:1 contrast against a white page (light) and JupyterLab's dark one.
PALETTES = {False: ("#1f77b4", "#d9590b", "#2b8a2b", "#d62728", "#8a5cc2", "#8c564b", "#c2399b",
                    "#666666", "#7f7f00", "#0e8a99"),
            True: ("#5aa9e6", "#ffa24d", "#5cc85c", "#ff6b6b", "#b794f4", "#d4a373", "#f58ed8",
                   "#bdbdbd", "#d4d44a", "#4fd3e0")}
LOCKED = "locked while a run trains: press Stop to change it"
HIDDEN_TIPS = {"mlp": "width of the hidden layer: 784 → hidden → 10",
               "cnn": "width of the CNN's dense layer, after its convolutions: 512 → hidden → 10"}
SETTINGS = ("model_kind", "optimizer", "learning_rate", "batch_size", "hidden_units", "train_size")
WORDS = {"learning_rate": "learning rate", "momentum": "momentum"}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _number(value):
    """A number as the legend and the status line write it: 0.0025, 0.1, 2, 1e+03."""
    return "0" if value == 0 else f"{value:.3g}"


def _tick(value, _=None):
    """A tick label: 0, 0.0025, 0.5, 2, 1000, and beyond those powers of ten (10⁵, 2·10⁻⁴)."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        return np.format_float_positional(value, precision=3, fractional=False, trim="-")
    exponent = int(np.floor(np.log10(abs(value))))
    mantissa, power = value / 10.0 ** exponent, "10" + str(exponent).translate(SUPERSCRIPT)
    return power if round(mantissa, 2) == 1 else f"{mantissa:.2g}·{power}"


def _empty_history():
    return {k: [] for k in ("epoch", "seconds", "loss", "accuracy", "val_loss", "val_accuracy",
                            "learning_rate", "momentum")}


@dataclass(eq=False)
class Run:
    """One training run: its settings, its curves (``history``) and how it ended.

    ``model_kind`` is "mlp" or "cnn", and ``model`` the network it trained (an ``nnlib.Model``).
    ``outcome`` is "training", then "done", "stopped", "exploded" or "error". ``val_loss`` and
    ``val_accuracy`` are the run's final validation numbers (on every validation image when the
    run is done, else the last curve point). ``learning_rate`` and ``momentum`` are the values the
    run started with; ``changes`` lists those changed during the run, each a dict with
    ``setting``, ``value``, ``epoch`` and ``seconds``.
    """

    number: int
    learning_rate: float
    batch_size: int
    hidden_units: int
    epochs: int
    train_size: int
    optimizer: str = "SGD"
    momentum: float = 0.0
    model_kind: str = "mlp"
    history: dict = field(default_factory=_empty_history)
    outcome: str = "training"
    val_loss: float = float("nan")
    val_accuracy: float = float("nan")
    seconds: float = 0.0
    model: object = field(default=None, repr=False)
    error: BaseException = field(default=None, repr=False)
    changes: list = field(default_factory=list)

    def values(self, setting):
        """Every value of ``setting`` ("learning_rate" or "momentum") in the run, in order."""
        return [getattr(self, setting)] + [c["value"] for c in self.changes
                                           if c["setting"] == setting]

    def describe(self, setting):
        """One setting as the legend writes it: 'CNN', 'lr 0.1 → 0.3', 'batch 32', '64 hidden'."""
        if setting == "model_kind":
            return MODELS[self.model_kind]
        if setting == "optimizer":
            return self.optimizer_name()
        if setting == "learning_rate":
            return "lr " + " → ".join(_number(v) for v in self.values("learning_rate"))
        return {"batch_size": f"batch {self.batch_size}",
                "hidden_units": f"{self.hidden_units} hidden",
                "train_size": f"{self.train_size:,} images"}[setting]

    def result(self):
        """'91.2%', 'exploded', or '' while the run trains."""
        if self.outcome == "exploded":
            return "exploded"
        if self.outcome in ("done", "stopped") and np.isfinite(self.val_accuracy):
            return f"{self.val_accuracy:.1%}"
        return ""

    def label(self, show=SETTINGS):
        """The run's legend entry: its number, the settings named in ``show`` (all by default)
        and, once the run has ended, its result."""
        text = f"#{self.number}  " + " · ".join(self.describe(s) for s in show)
        return f"{text.rstrip()} — {self.result()}" if self.result() else text.rstrip()

    def network(self):
        """The network in words: 'MLP, 64 hidden' or 'CNN, 128 hidden'."""
        return f"{MODELS[self.model_kind]}, {self.hidden_units} hidden"

    def optimizer_name(self):
        """'SGD', 'SGD momentum 0.9' (or 'SGD momentum 0.9 → 0.5') or 'Adam'."""
        if self.optimizer == "SGD + momentum":
            return "SGD momentum " + " → ".join(f"{v:.2g}" for v in self.values("momentum"))
        return self.optimizer

    def __repr__(self):
        result = {"done": f"validation accuracy {self.val_accuracy:.2%}",
                  "stopped": f"stopped, validation accuracy {self.val_accuracy:.2%}",
                  "exploded": "loss exploded", "training": "training …",
                  "error": f"error: {self.error}"}[self.outcome]
        return (f"Run {self.number}: {self.network()}, {self.optimizer_name()}, "
                f"{self.describe('learning_rate')}, batch {self.batch_size}, "
                f"{_plural(self.epochs, 'epoch')} on {self.train_size:,} images"
                f" — {result} ({self.seconds:.1f} s)")


class Playground:
    """Train 784 → hidden ReLU → 10 softmax (or chapter 15's CNN) on MNIST with sliders and watch
    the curves live.

    x_train floats in [0, 1] (``nnlib.preprocess``), flat (N, 784) or images (N, 28, 28) or
    (N, 1, 28, 28); y_train (N,) integer labels 0..9 (one-hot rows are accepted too); the same for
    x_val, y_val. ``seed`` fixes the initial weights, the shuffling and the validation images
    plotted. ``model`` is "mlp" or "cnn"; the other keywords set the sliders (``train_size``: all
    the training images for the MLP, at most 10 000 for the CNN).

    Display it (``pg`` as a cell's last line, or ``display(pg)``) to get the controls, a status
    line and the plot. Introduced in chapter 11.

    The controls are the widgets themselves; set their ``.value`` (``pg.epochs.value = 3``) or
    use ``set``: ``model`` (the control ``model_kind``), ``learning_rate``, ``batch_size``,
    ``hidden_units``, ``epochs``, ``train_size``, ``optimizer``, ``momentum``, ``x_axis``.
    Buttons: ``train_button``, ``stop_button``, ``clear_button``; methods ``train``, ``stop``,
    ``clear`` do the same and ``wait`` waits for a run to end. Results: ``runs`` (every Run until
    cleared), ``history`` and ``model`` (of the latest run), ``is_training``; ``plot`` (Image),
    ``status`` (HTML: what happened last) and ``progress`` (HTML: the latest numbers).
    """

    def __init__(self, x_train, y_train, x_val, y_val, *, seed=0, model="mlp", learning_rate=0.1,
                 batch_size=32, hidden_units=64, epochs=5, train_size=None, optimizer="SGD",
                 momentum=0.9):
        self._x_train, self._y_train = _check_data(x_train, y_train, "x_train", "y_train")
        self._x_val, self._y_val = _check_data(x_val, y_val, "x_val", "y_val")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        # the same images in the same order for every run: runs differ only in their settings
        self._train_order = rng.permutation(len(self._x_train))
        val_idx = rng.permutation(len(self._x_val))[:VAL_POINTS]
        self._x_val_points, self._y_val_points = self._x_val[val_idx], self._y_val[val_idx]

        self.runs = []
        self._thread = None
        self._stop_event = threading.Event()
        self._start_lock = threading.Lock()
        self._plot_lock = threading.RLock()
        self._view_now = dict(DEFAULT_VIEW)
        self._mlp_train_size = None    # the MLP's training images while the CNN's 10 000 hold
        self._build_widgets()
        self.set(model=model, learning_rate=learning_rate, batch_size=batch_size,
                 hidden_units=hidden_units, epochs=epochs, optimizer=optimizer, momentum=momentum)
        if train_size is not None:
            self.set(train_size=train_size)
        self._busy(False)
        self._setup_figure()
        if self._mlp_train_size is None:    # else the status line says why there are fewer images
            self._say("Set the sliders and press <b>Train</b>.")
        self._draw()

    # --- the widgets ----------------------------------------------------------------------------
    def _build_widgets(self):
        style = {"description_width": "initial"}
        self.model_kind = widgets.ToggleButtons(
            options=[(name, kind) for kind, name in MODELS.items()], value="mlp",
            description="model", style=style, tooltip="the network each run trains",
            tooltips=["784 → hidden → 10, chapter 08's network",
                      "two convolutions with max pooling, then the dense layer: chapter 15's "
                      "network (slower)"])
        self.learning_rate = widgets.FloatLogSlider(
            value=0.1, base=10, min=np.log10(LEARNING_RATES[0]), max=np.log10(LEARNING_RATES[1]),
            step=0.1, readout=True, readout_format=".2", description="learning rate",
            continuous_update=False, style=style,
            tooltip="step size; may change while a run trains (type a value in the box)")
        self.batch_size = widgets.SelectionSlider(
            options=BATCH_SIZES, value=32, description="batch size", readout=True,
            continuous_update=False, style=style, tooltip="images per update")
        self.hidden_units = widgets.SelectionSlider(
            options=HIDDEN_UNITS, value=64, description="hidden units", readout=True,
            continuous_update=False, style=style, tooltip=HIDDEN_TIPS["mlp"])
        self.epochs = widgets.IntSlider(
            value=5, min=1, max=MAX_EPOCHS, description="epochs", readout=True,
            continuous_update=False, style=style, tooltip="passes over the training images")
        n = len(self._x_train)
        self.train_size = widgets.SelectionSlider(
            options=[s for s in TRAIN_SIZES if s < n] + [n], value=n,
            description="training images", readout=True, continuous_update=False, style=style,
            tooltip="train on the first N (shuffled) training images")
        self.optimizer = widgets.Dropdown(options=OPTIMIZERS, value="SGD", description="optimizer",
                                          style=style, tooltip="how the gradient becomes a step")
        self.momentum = widgets.FloatSlider(
            value=0.9, min=0.0, max=MAX_MOMENTUM, step=0.01, readout=True, readout_format=".2",
            description="momentum", continuous_update=False, style=style,
            tooltip="for SGD + momentum; may change while a run trains")
        self.optimizer.observe(lambda _: self._busy(self.is_training), names="value")
        self.model_kind.observe(self._on_model, names="value")
        self.train_size.observe(self._on_train_size, names="value")
        self.x_axis = widgets.ToggleButtons(options=["epochs", "seconds"], value="epochs",
                                            description="x axis", style=style,
                                            tooltips=["plot against epochs",
                                                      "plot against seconds of training"])
        self.x_axis.add_class("nnlib-x-axis")
        self.train_button = widgets.Button(description="Train", icon="play",
                                           button_style="success",
                                           tooltip="train a new network with these settings")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True, tooltip="stop after the current batch")
        self.clear_button = widgets.Button(description="Clear", icon="trash",
                                           tooltip="forget every run")
        for button, name in ((self.train_button, "train"), (self.stop_button, "stop"),
                             (self.clear_button, "clear")):
            button.add_class(f"nnlib-{name}")
        self.train_button.on_click(lambda _: self.train(wait=False))
        self.stop_button.on_click(lambda _: self.stop(wait=False))
        self.clear_button.on_click(lambda _: self.clear())
        self.x_axis.observe(lambda _: self._draw(), names="value")
        self.status = widgets.HTML().add_class("nnlib-status")
        self.progress = widgets.HTML().add_class("nnlib-progress")
        self.plot = widgets.Image(format="png", layout=widgets.Layout(width="100%", height="auto"))
        hidden = widgets.Layout(display="none")
        # the plot's text alternative, copied into the image's alt by the page's script
        self._plot_text = widgets.HTML(layout=hidden).add_class("nnlib-alt")
        # the page's report of the space and theme the plot is shown in (JSON, see _on_view)
        self._view = widgets.Text(layout=hidden).add_class("nnlib-view")
        self._view.observe(self._on_view, names="value")

        self._sliders = (self.learning_rate, self.batch_size, self.hidden_units, self.epochs,
                         self.train_size, self.optimizer, self.momentum)
        self._locked = (self.model_kind, self.batch_size, self.hidden_units, self.epochs,
                        self.train_size, self.optimizer)
        self._tips = {control: control.tooltip for control in self._locked}
        self._button_tips = list(self.model_kind.tooltips)
        # each slider's range in its own units, for screen readers (a slider knows positions)
        ranges = {"learning rate": list(LEARNING_RATES),
                  "batch size": [BATCH_SIZES[0], BATCH_SIZES[-1]],
                  "hidden units": [HIDDEN_UNITS[0], HIDDEN_UNITS[-1]],
                  "epochs": [1, MAX_EPOCHS], "training images": [self.train_size.options[0], n],
                  "momentum": [0.0, MAX_MOMENTUM]}
        # the settings of a run in a grid; the x axis, a setting of the plot, by the buttons
        controls = widgets.Box([self.model_kind, *self._sliders]).add_class("nnlib-controls")
        report = widgets.VBox([self.status, self.progress]).add_class("nnlib-report")
        bar = widgets.Box([self.train_button, self.stop_button, self.clear_button, self.x_axis,
                           report]).add_class("nnlib-bar")
        self.widget = widgets.VBox([widgets.HTML(_page(ranges)), controls, bar, self.plot,
                                    self._plot_text, self._view],
                                   layout=widgets.Layout(width="100%"))
        self.widget.add_class("nnlib-playground")

    def figure(self):
        """The plot as it is now, as an IPython Image: a static picture that stays in a saved
        notebook (the live widget needs a running kernel). Its background is opaque, so it reads
        in any theme."""
        from IPython.display import Image
        with self._plot_lock:
            png, width = self.plot.value, self._layout["width"]
        return Image(png, format="png", width=width)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self):
        return (f"Playground({len(self._x_train):,} training images, "
                f"{len(self._x_val):,} validation images, {len(self.runs)} runs)")

    # --- settings -------------------------------------------------------------------------------
    def set(self, **settings):
        """Set controls by name (model, learning_rate, batch_size, hidden_units, epochs,
        train_size, optimizer, momentum, x_axis); ValueError for an unknown name or a value the
        control cannot take. ``model`` ("mlp" or "cnn", in either case) is set first, so that a
        ``train_size`` given with it is kept."""
        names = ("model", "learning_rate", "batch_size", "hidden_units", "epochs", "train_size",
                 "optimizer", "momentum", "x_axis")
        for name in settings:
            if name not in names:
                raise ValueError(f"Playground has no setting {name!r}; "
                                 f"choose from {', '.join(names)}")
        for name, value in sorted(settings.items(), key=lambda item: item[0] != "model"):
            widget = getattr(self, "model_kind" if name == "model" else name)
            if name == "model":
                if not isinstance(value, str) or value.lower() not in MODELS:
                    raise ValueError(f"model must be 'mlp' or 'cnn', got {value!r}")
                value = value.lower()
            elif name == "learning_rate":
                lo, hi = LEARNING_RATES
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                        or not lo <= value <= hi:
                    raise ValueError(f"learning_rate must be a number from {lo:g} to {hi:g}, "
                                     f"got {value!r}")
                value = float(value)
            elif name == "epochs":
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                        or not 1 <= value <= MAX_EPOCHS:
                    raise ValueError(f"epochs must be an integer from 1 to {MAX_EPOCHS}, "
                                     f"got {value!r}")
                value = int(value)
            elif name == "momentum":
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                        or not 0 <= value <= MAX_MOMENTUM:
                    raise ValueError(f"momentum must be a number from 0 to {MAX_MOMENTUM}, "
                                     f"got {value!r}")
                value = float(value)
            elif value not in widget.options or isinstance(value, bool):
                options = ", ".join(map(str, widget.options))
                raise ValueError(f"{name} must be one of {options}; got {value!r}")
            widget.value = value
        return self

    def _settings(self):
        return {"model_kind": self.model_kind.value,
                "learning_rate": float(self.learning_rate.value),
                "batch_size": int(self.batch_size.value),
                "hidden_units": int(self.hidden_units.value),
                "epochs": int(self.epochs.value), "train_size": int(self.train_size.value),
                "optimizer": self.optimizer.value,
                "momentum": float(self.momentum.value)
                if self.optimizer.value == "SGD + momentum" else 0.0}

    # --- training -------------------------------------------------------------------------------
    @property
    def is_training(self):
        """True while a run's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def history(self):
        """Curves of the latest run: lists ``loss``, ``accuracy`` (training, averaged over the
        batches since the previous point), ``val_loss``, ``val_accuracy`` (on a fixed set of up to
        1 000 validation images, 500 of them for a CNN), ``epoch`` and ``seconds`` for each point,
        and the ``learning_rate`` and ``momentum`` in use at each point."""
        with self._plot_lock:
            if not self.runs:
                return _empty_history()
            return {k: list(v) for k, v in self.runs[-1].history.items()}

    @property
    def model(self):
        """The network of the latest run (an ``nnlib.Model``), or None before the first run."""
        return self.runs[-1].model if self.runs else None

    def train(self, wait=False):
        """Start a run with the current settings, as the Train button does; returns its Run.

        Returns None and starts nothing while a run is going. ``wait=True`` blocks until the run
        ends (interrupting the kernel stops the run); a run that failed with an error re-raises it.
        """
        with self._start_lock:
            if self.is_training:
                return None
            s = self._settings()
            run = Run(len(self.runs) + 1 if not self.runs else self.runs[-1].number + 1, **s)
            with self._plot_lock:
                self.runs.append(run)
            self._stop_event.clear()
            self._busy(True)
            live = ("learning rate and momentum" if run.optimizer == "SGD + momentum"
                    else "the learning rate")
            self._say(f"<b>Run {run.number}</b> ({run.network()}) training: {live} can "
                      f"change, the rest is locked")
            self.progress.value = ""
            self._thread = threading.Thread(target=self._run, args=(run,), daemon=True,
                                            name=f"nnlib-playground-run-{run.number}")
            self._thread.start()
        if wait:
            self._join(run)
        return run

    def wait(self):
        """Block until the run in progress has ended (return at once if none is); a run that
        failed with an error re-raises it. Interrupting the kernel stops the run."""
        if self.is_training:
            self._join(self.runs[-1])

    def _join(self, run):
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            try:
                thread.join()
            except KeyboardInterrupt:
                self.stop()
                raise
        if run.outcome == "error":
            raise run.error

    def stop(self, wait=True):
        """Stop the run in progress between two batches (as the Stop button does). With
        ``wait=True`` return once its thread has ended."""
        self._stop_event.set()
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    def clear(self):
        """Stop any run and forget every run: the plot starts empty."""
        self.stop(wait=self._thread is not threading.current_thread())
        with self._plot_lock:
            self.runs.clear()
        self._say("Cleared. Set the sliders and press <b>Train</b>.")
        self.progress.value = ""
        self._draw()

    def _busy(self, busy):
        """Lock the settings a run cannot change while it trains; the learning rate and the
        momentum stay free."""
        self.train_button.disabled = busy
        self.stop_button.disabled = not busy
        for control in self._locked:
            control.disabled = busy
            control.tooltip = LOCKED if busy else self._tips[control]
            if busy:
                control.add_class("nnlib-locked")
            else:
                control.remove_class("nnlib-locked")
        self.model_kind.tooltips = ([LOCKED] * len(MODELS) if busy else self._button_tips)
        self.momentum.disabled = self.optimizer.value != "SGD + momentum"

    def _on_model(self, change):
        """The hidden units' tooltip names the layer they set. Choosing the CNN lowers the
        training images to 10 000, and choosing the MLP again gives back the number it had,
        unless the slider was moved in between; the status line says so."""
        kind = change["new"]
        self._tips[self.hidden_units] = HIDDEN_TIPS[kind]
        if not self.hidden_units.disabled:
            self.hidden_units.tooltip = HIDDEN_TIPS[kind]
        size = self.train_size.value
        if kind == "cnn" and size > CNN_TRAIN_SIZE:
            self.train_size.value = CNN_TRAIN_SIZE
            self._mlp_train_size = size      # after the change: _on_train_size forgets it
            self._say(f"CNN chosen: training images lowered from {size:,} to "
                      f"{CNN_TRAIN_SIZE:,} to keep runs short (a CNN takes tens of times longer "
                      f"per image); move the slider up to train on more.")
        elif kind == "mlp" and self._mlp_train_size is not None:
            restored, self._mlp_train_size = self._mlp_train_size, None
            self.train_size.value = restored
            self._say(f"MLP chosen: training images back to {restored:,}.")

    def _on_train_size(self, _):
        """A training-image count set by hand is kept when the MLP is chosen again."""
        self._mlp_train_size = None

    def _run(self, run):
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"):   # an exploding run overflows: we report it instead
                self._train(run, start)
        except Exception as err:              # noqa: BLE001 — a widget must not die silently
            run.outcome, run.error = "error", err
        run.seconds = time.perf_counter() - start
        try:
            self._say(self._summary(run), alarm=run.outcome in ("exploded", "error"))
            self.progress.value = ""
            self._draw()
        finally:
            self._busy(False)

    def _data(self, kind):
        """The training images, the validation images and those measured for each curve point,
        in the shape the ``kind`` of network takes: views of the same arrays, not copies."""
        if kind == "mlp":
            return self._x_train, self._x_val, self._x_val_points
        return (self._x_train.reshape(-1, 1, 28, 28), self._x_val.reshape(-1, 1, 28, 28),
                self._x_val_points[:CNN_VAL_POINTS].reshape(-1, 1, 28, 28))

    def _train(self, run, start):
        build = build_cnn if run.model_kind == "cnn" else build_model
        model = run.model = build(run.hidden_units, self.seed)
        optimizer = (Adam(run.learning_rate) if run.optimizer == "Adam"
                     else SGD(run.learning_rate, momentum=run.momentum))
        rng = np.random.default_rng(self.seed)
        x_train, x_val, x_points = self._data(run.model_kind)
        images = self._train_order[:run.train_size]
        n = len(images)
        # the untrained network: a first point at epoch 0, on as many training as validation images
        first = images[:len(x_points)]
        loss, acc = model.evaluate(x_train[first], self._y_train[first])
        self._point(run, optimizer, 0.0, time.perf_counter() - start, loss, acc, (model, x_points))
        val_seconds = 0.0     # a new network's first measurings are slow: a poor estimate
        recent = loss
        self._show_progress(run)
        next_draw = self._draw_timed()
        last_point = measured = time.perf_counter()
        seen = 0
        total_loss = total_acc = 0.0
        steps = deque(maxlen=TRAJECTORY)     # (epoch, seconds, loss, accuracy) since the last point
        # a point averages the training loss over at least 1 000 images (or the whole epoch):
        # fewer, and the training curve would be mostly noise
        count, min_count, per_point = 0, min(max(run.batch_size, 1000), n), n / POINTS_PER_EPOCH
        for _ in range(run.epochs):
            # shuffle indices, not images: a batch copies only its own rows out of x_train
            order = images[rng.permutation(n)]
            for begin in range(0, n, run.batch_size):
                if self._stop_event.is_set():
                    run.outcome = "stopped"
                    break
                self._apply_live(run, optimizer, seen / n, start)
                batch = order[begin:begin + run.batch_size]
                x, y = x_train[batch], self._y_train[batch]
                try:
                    loss, acc = model.train_step(x, y, optimizer)
                except FloatingPointError:  # loss above 1000: train_step refused the update …
                    loss, acc = model.evaluate(x, y)     # … and this is the loss it refused
                seen += len(batch)
                # one image can cost a loss of 15 in a healthy run: judge small batches by a
                # moving average over about 32 images
                weight = min(1.0, len(batch) / 32)
                recent = (1 - weight) * recent + weight * loss
                if not recent < EXPLODED:     # also true for nan
                    run.outcome = "exploded"
                    # the steps since the last point, one by one, then the step that exploded:
                    # an average over them would hide how fast the loss grew
                    for step in steps:
                        self._point(run, optimizer, *step)
                    self._point(run, optimizer, seen / n, time.perf_counter() - start, loss, acc)
                    return
                steps.append((seen / n, time.perf_counter() - start, loss, acc))
                total_loss += loss * len(batch)
                total_acc += acc * len(batch)
                count += len(batch)
                now = time.perf_counter()
                # measuring a point's validation images takes a CNN as long as training on
                # hundreds of images: train VAL_COST times as long as that between two points
                if count >= min_count and now - measured >= VAL_COST * val_seconds and (
                        count >= per_point or now - last_point >= POINT_EVERY):
                    val_seconds = self._point(run, optimizer, seen / n, now - start,
                                              total_loss / count, total_acc / count,
                                              (model, x_points))
                    steps.clear()
                    total_loss = total_acc = 0.0
                    count = 0
                    last_point = now
                    if now >= next_draw:
                        self._show_progress(run)
                        next_draw = self._draw_timed()
                    measured = time.perf_counter()
            if run.outcome == "stopped":
                break
        if count:
            self._point(run, optimizer, seen / n, time.perf_counter() - start, total_loss / count,
                        total_acc / count, (model, x_points))
        if run.outcome != "stopped":
            self.progress.value = f"measuring all {len(x_val):,} validation images …"
            run.val_loss, run.val_accuracy = model.evaluate(x_val, self._y_val)
            run.outcome = "done"

    def _apply_live(self, run, optimizer, epoch, start):
        """Give the optimizer a learning rate or momentum changed since the previous step, and
        keep the change in the run."""
        values = {"learning_rate": float(self.learning_rate.value)}
        if run.optimizer == "SGD + momentum":
            values["momentum"] = float(self.momentum.value)
        for setting, value in values.items():
            if value == getattr(optimizer, setting):
                continue
            setattr(optimizer, setting, value)
            with self._plot_lock:
                run.changes.append({"setting": setting, "value": value, "epoch": epoch,
                                    "seconds": time.perf_counter() - start})
            self._say(f"<b>Run {run.number}</b>: {WORDS[setting]} {_number(value)} from epoch "
                      f"{epoch:.2f} on")

    def _draw_timed(self):
        """Draw, and return the earliest time for the next drawing: at least DRAW_EVERY apart,
        and drawing takes at most a third of the time on a slow machine."""
        begin = time.perf_counter()
        self._draw()
        end = time.perf_counter()
        return begin + max(DRAW_EVERY, 3 * (end - begin))

    def _point(self, run, optimizer, epoch, seconds, loss, acc, measure=None):
        """Add a curve point; with ``measure`` = (model, validation images), measure those too.
        Returns the processor time the measuring took: a moment spent waiting for the processor
        (the kernel's other thread, another program) is not a cost of measuring."""
        val_loss = val_acc = float("nan")
        begin = time.thread_time()
        if measure is not None and np.isfinite(loss):
            model, x_points = measure
            val_loss, val_acc = model.evaluate(x_points, self._y_val_points[:len(x_points)])
        with self._plot_lock:
            h = run.history
            h["epoch"].append(epoch)
            h["seconds"].append(seconds)
            h["loss"].append(float(loss))
            h["accuracy"].append(float(acc))
            h["val_loss"].append(float(val_loss))
            h["val_accuracy"].append(float(val_acc))
            h["learning_rate"].append(float(optimizer.learning_rate))
            h["momentum"].append(float(getattr(optimizer, "momentum", 0.0)))
            if measure is not None:
                run.val_loss, run.val_accuracy = float(val_loss), float(val_acc)
        return time.thread_time() - begin

    # --- the status line ------------------------------------------------------------------------
    def _say(self, text, alarm=False):
        """Set the status line. The page makes it a live region, so a screen reader reads each
        change aloud: only events go here (a run starts, a setting changes, a run ends), the
        numbers that change several times a second go to the progress line."""
        self.status.value = f"<span class='nnlib-alarm'>{text}</span>" if alarm else text

    def _show_progress(self, run):
        h = run.history
        if h["epoch"]:
            self.progress.value = (
                f"epoch {h['epoch'][-1]:.2f} of {run.epochs} · training loss "
                f"{h['loss'][-1]:.3f} · validation accuracy {h['val_accuracy'][-1]:.1%} · "
                f"{h['seconds'][-1]:.1f} s")

    def _summary(self, run):
        """How a run ended, short: the network, and the legend has the other settings."""
        name, h = f"<b>Run {run.number}</b> ({run.network()})", run.history
        if run.outcome == "done":
            return (f"{name} done: validation accuracy <b>{run.val_accuracy:.1%}</b> (all "
                    f"{len(self._x_val):,} images), {_plural(run.epochs, 'epoch')} in "
                    f"{run.seconds:.1f} s")
        if run.outcome == "stopped":
            return (f"{name} stopped after {h['epoch'][-1]:.1f} epochs · validation accuracy "
                    f"{run.val_accuracy:.1%}")
        if run.outcome == "exploded":
            return (f"{name}: <b>loss exploded — learning rate too high?</b> "
                    f"(after {h['epoch'][-1]:.2g} epochs)")
        first = str(run.error).splitlines()[0] if str(run.error) else ""
        return f"{name} failed: {html.escape(f'{type(run.error).__name__}: {first}')}"

    # --- the space the plot is shown in -----------------------------------------------------------
    def _on_view(self, change):
        """The page reports (as JSON) the widget's width and the height left for the plot in CSS
        pixels, the device pixel ratio, the control text's size and the theme's colours. Redraw
        when they changed enough to matter: a scroll bar coming and going must not start a loop."""
        try:
            view = _view_from(json.loads(change["new"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return
        now = self._view_now
        if (abs(view["width"] - now["width"]) < 16 and abs(view["room"] - now["room"]) < 24
                and all(view[k] == now[k] for k in ("dpr", "font", "ink", "background", "dark"))):
            return
        with self._plot_lock:
            self._view_now = view
        self._draw()

    # --- the plot -------------------------------------------------------------------------------
    def _setup_figure(self):
        self._fig = Figure()
        FigureCanvasAgg(self._fig)
        # placed and styled by _arrange, for the space the page reports
        self._ax_loss = self._fig.add_axes((0.1, 0.3, 0.35, 0.6), facecolor="none")
        self._ax_acc = self._fig.add_axes((0.55, 0.3, 0.35, 0.6), facecolor="none")
        self._ax_acc.set_ylim(0, 1)
        self._hint = self._ax_loss.text(0.5, 0.5, "press Train", transform=self._ax_loss.transAxes,
                                        ha="center", va="center")
        self._lines = {}        # run number -> its artists (see _artists)
        self._log = False       # the loss axis is logarithmic
        self._layout_key = None
        self._layout = {}

    def _draw(self):
        """Redraw every run's curves and send the picture to the Image widget, and its text
        alternative to the page."""
        with self._plot_lock:
            png = self._render()
            text = self._describe()
        self.plot.value = png
        if self._plot_text.value != text:
            self._plot_text.value = text

    def _artists(self, run):
        """The artists of one run, made on first use: four curves, the ✕ where it exploded, and a
        dotted line on each chart where a setting changed."""
        if run.number not in self._lines:
            ax_loss, ax_acc = self._ax_loss, self._ax_acc
            changed = {"ls": (0, (1.5, 2.5)), "lw": 2.0, "alpha": 0.9}
            self._lines[run.number] = {
                "loss": ax_loss.plot([], [], "-")[0], "val_loss": ax_loss.plot([], [], "--")[0],
                "accuracy": ax_acc.plot([], [], "-")[0],
                "val_accuracy": ax_acc.plot([], [], "--")[0],
                "exploded": ax_loss.plot([], [], "X", zorder=5, clip_on=False)[0],
                "changed_loss": ax_loss.plot([], [], transform=ax_loss.get_xaxis_transform(),
                                             **changed)[0],
                "changed_acc": ax_acc.plot([], [], transform=ax_acc.get_xaxis_transform(),
                                           **changed)[0]}
        return self._lines[run.number]

    def _render(self):
        """The plot as PNG bytes. The figure's artists are kept and only their data updated:
        rebuilding the axes every frame would cost most of the drawing time."""
        ax_loss, ax_acc = self._ax_loss, self._ax_acc
        view = self._view_now
        palette = PALETTES[view["dark"]]
        x_key = "epoch" if self.x_axis.value == "epochs" else "seconds"
        runs = self.runs[-MAX_RUNS_SHOWN:]
        for number in set(self._lines) - {r.number for r in runs}:
            for artist in self._lines.pop(number).values():
                artist.remove()
        losses, right, log = [], 0.0, False
        for run in runs:
            h = run.history
            values = np.asarray(h["loss"] + h["val_loss"], dtype=float)
            losses.append(values[np.isfinite(values) & (values > 0)])
            # a loss grew past where it started, or blew up: only a log scale shows how far
            log |= run.outcome == "exploded" or _grew(h["loss"]) or _grew(h["val_loss"])
            if h[x_key]:     # the axis grows with the runs: it ends at the latest point
                right = max(right, h[x_key][-1])
        right = right or 1.0
        losses = np.concatenate(losses) if losses else np.zeros(0)
        if log:
            bottom = max(np.min(losses, initial=1.0) / 1.5, 1e-5)
            top = max(np.max(losses, initial=2.5) * 2.0, 10 * bottom)
        else:
            bottom, top = 0.0, max(2.5, np.max(losses, initial=0.0) * 1.05)
        self._arrange(runs)
        switched = log != self._log
        if switched:
            ax_loss.set_yscale("log" if log else "linear")
            self._log = log
        thick = max(2.5, self._layout["font"] / 5)
        for run in runs:
            lines = self._artists(run)
            colour = palette[(run.number - 1) % len(palette)]
            h = run.history
            x = np.asarray(h[x_key], dtype=float)
            for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
                lines[key].set_data(x, np.asarray(h[key], dtype=float))
                lines[key].set_color(colour)
                lines[key].set_linewidth(thick if run is self.runs[-1] else 0.65 * thick)
            exploded = run.outcome == "exploded" and len(x)
            if exploded:     # at the loss it reached; one too large for a float at the top edge
                last = h["loss"][-1]
                lines["exploded"].set_data(x[-1:], [last if np.isfinite(last) else top])
            else:
                lines["exploded"].set_data([], [])
            lines["exploded"].set(color=colour, markeredgecolor=view["background"],
                                  markersize=1.1 * self._layout["font"], markeredgewidth=1.5)
            where = [change[x_key] for change in run.changes]
            xs = np.repeat(where, 3).astype(float)
            ys = np.tile([0.0, 1.0, np.nan], len(where))
            if len(xs):
                xs[2::3] = np.nan
            for key in ("changed_loss", "changed_acc"):
                lines[key].set_data(xs, ys)
                lines[key].set_color(colour)
        ax_loss.set_ylim(bottom, top)
        for ax in (ax_loss, ax_acc):
            ax.set_xlim(0, right * 1.02)
        if log or switched:
            self._ticks()     # which log ticks fit depends on the range
        self._hint.set_visible(not runs)
        buffer = io.BytesIO()
        # the figure's own dpi: savefig's default would be the dpi the figure was created with
        self._fig.savefig(buffer, format="png", dpi=self._fig.dpi, facecolor=view["background"],
                          pil_kwargs={"compress_level": 1})
        return buffer.getvalue()

    def _legend_entries(self, runs):
        """The legend's title (the settings all runs share) and each run's label (the settings
        in which the runs differ, and the learning rate always)."""
        shared = [s for s in SETTINGS
                  if s != "learning_rate" and len({r.describe(s) for r in runs}) == 1]
        show = [s for s in SETTINGS if s not in shared]
        title = ("all runs: " + " · ".join(runs[0].describe(s) for s in shared)) if shared else None
        return title, [run.label(show) for run in runs]

    def _arrange(self, runs):
        """Size the figure for the space the page reported and lay it out: the two charts side by
        side, the legend below them. Only when the space, the theme or the legend changed."""
        view = self._view_now
        title, labels = self._legend_entries(runs) if runs else (None, [])
        exploded = any(r.outcome == "exploded" for r in runs)
        changed = any(r.changes for r in runs)
        state = (tuple(sorted(view.items())), title, tuple(labels), exploded, changed,
                 tuple(r.number for r in runs), self.x_axis.value)
        if state == self._layout_key:
            return
        self._layout_key = state
        fig, ax_loss, ax_acc = self._fig, self._ax_loss, self._ax_acc
        width, dpr, ink = view["width"], view["dpr"], view["ink"]
        palette = PALETTES[view["dark"]]
        # one point is one CSS pixel: font sizes below are the sizes the page shows
        font = max(view["font"], min(MAX_FONT, round(width / 70)))
        fig.set_dpi(72 * dpr)
        renderer = fig.canvas.get_renderer()

        def text_width(text, size=font):
            w, _, _ = renderer.get_text_width_height_descent(text, FontProperties(size=size),
                                                             ismath=False)
            return w / dpr

        # --- below the charts: a row that says how to read the lines, then one entry per run
        reading = []
        if runs:
            reading += [(Line2D([], [], color=ink, lw=2), "training"),
                        (Line2D([], [], color=ink, lw=2, ls="--"), "validation")]
        if exploded:
            reading.append((Line2D([], [], color=ink, marker="X", ls="none", ms=0.8 * font),
                            "exploded"))
        if changed:
            reading.append((Line2D([], [], color=ink, ls=(0, (1.5, 2.5)), lw=2),
                            "setting changed"))
        entries = [(Line2D([], [], color=palette[(r.number - 1) % len(palette)], lw=4), text)
                   for r, text in zip(runs, labels)]
        room = width - 16
        spacing = 0.3 * font

        def place_legends(heading):
            for old in list(fig.legends):
                old.remove()
            made = [_legend(fig, part, text, font, ink, room, text_width, renderer)
                    for part, text in ((reading, None), (entries, heading)) if part]
            return made, sum(h for _, h in made) + spacing * (len(made) - 1)

        legends, legend_height = place_legends(title)
        # --- sizes in CSS pixels, from the top: titles, charts, tick labels, x label, legends.
        # Where the page is short of height the titles become the y axes' labels and the legend
        # leaves out the settings all runs share (the controls show them): two rows less.
        line = 1.3 * font
        below = (line + 6) + (line + 2) + (0.5 * font if legends else 0)
        tick_width = max(text_width("0.005"), text_width("2·10⁻⁵"))
        chart_room = width - tick_width - text_width("0.025") - text_width("100%") - 1.6 * font - 30
        low, high = max(6 * font, 84), max(6 * font, 84, min(0.31 * chart_room, 560))
        titles = 1.35 * (font + 3) + 4
        fixed = 6 + titles + below + legend_height + 4
        tight = bool(view["room"]) and view["room"] - fixed < max(7 * font, 100)
        if tight:
            if title:
                legends, legend_height = place_legends(None)
            fixed = 6 + 0.6 * font + below + legend_height + 4
        side = 1.35 * (font + 3) if tight else 0          # the y label, where the title was
        left = side + tick_width + 0.4 * font + 10
        middle = text_width("0.025") / 2 + side + text_width("100%") + 0.6 * font + 14
        right = text_width("0.025") / 2 + 6
        chart = (width - left - middle - right) / 2
        want = view["room"] - fixed if view["room"] else 0.5 * chart
        axes_height = float(np.clip(want, low, high))
        height = fixed + axes_height
        fig.set_size_inches(width / 72, height / 72)
        bottom = 4 + legend_height + below
        ax_loss.set_position((left / width, bottom / height, chart / width, axes_height / height))
        ax_acc.set_position(((left + chart + middle) / width, bottom / height, chart / width,
                             axes_height / height))
        top = 4 + legend_height
        for legend, legend_h in legends:
            legend.set_bbox_to_anchor((8 / width, top / height), transform=fig.transFigure)
            top -= legend_h + spacing
        for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.set_title("" if tight else name, fontsize=font + 3, color=ink, fontweight="bold",
                         pad=6)
            ax.set_ylabel(name if tight else "", fontsize=font + 3, color=ink, fontweight="bold",
                          labelpad=4)
        for ax in (ax_loss, ax_acc):
            ax.tick_params(labelsize=font, colors=ink, length=5, width=1.2, pad=4)
            ax.tick_params(which="minor", colors=ink, length=3, width=1)
            ax.xaxis.label.set(color=ink, fontsize=font)
            ax.set_xlabel(self.x_axis.value, labelpad=4)
            for spine in ax.spines.values():
                spine.set(color=ink, linewidth=1.2)
            ax.grid(True, color=ink, alpha=0.22, linewidth=0.8)
        self._hint.set(fontsize=font + 4, color=ink)
        self._layout = {"width": width, "height": round(height), "dpr": dpr, "font": float(font),
                        "chart_width": float(chart), "chart_height": axes_height}
        self._ticks()

    def _ticks(self):
        """Tick positions and labels: as many as fit the chart's size in pixels, written short."""
        layout = self._layout
        font, chart, tall = layout["font"], layout["chart_width"], layout["chart_height"]
        label = FuncFormatter(_tick)
        across = max(2, min(8, int(chart // (5.5 * font))))
        down = max(2, min(8, int(tall // (2.6 * font))))
        for ax in (self._ax_loss, self._ax_acc):
            ax.xaxis.set_major_locator(MaxNLocator(nbins=across, steps=[1, 2, 2.5, 5, 10],
                                                   min_n_ticks=2))
            ax.xaxis.set_major_formatter(label)
        loss = self._ax_loss.yaxis
        if self._log:
            # 1, 2, 5, 10, … where the chart is tall enough for them, else powers of ten only
            low, high = self._ax_loss.get_ylim()
            subs = (1.0, 2.0, 5.0) if 3 * np.log10(high / low) <= down else (1.0,)
            loss.set_major_locator(LogLocator(base=10, subs=subs, numticks=down + 1))
            loss.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10), numticks=12))
            loss.set_minor_formatter(NullFormatter())
        else:
            loss.set_major_locator(MaxNLocator(nbins=down, steps=[1, 2, 2.5, 5, 10]))
        loss.set_major_formatter(label)
        accuracy = self._ax_acc.yaxis
        accuracy.set_major_locator(MaxNLocator(nbins=min(4, down), steps=[1, 2, 2.5, 5, 10]))
        accuracy.set_major_formatter(PercentFormatter(1.0, decimals=0))

    def _describe(self):
        """The plot in words, for a screen reader: the status line, then the latest values of
        the newest runs (the text alternative of the picture)."""
        status = re.sub(r"<[^>]+>", "", self.status.value).rstrip(".") + "."
        runs = self.runs[-MAX_RUNS_SHOWN:]
        if not runs:
            return f"{status} Plot of loss and accuracy: no runs yet."
        scale = ", the loss on a log scale" if self._log else ""
        words = [status, f"Plot of loss and accuracy against {self.x_axis.value}{scale}, "
                         f"{_plural(len(runs), 'run')}."]
        for run in reversed(runs[-3:]):
            h = run.history
            name = (f"Run {run.number} ({run.network()}, {run.optimizer_name()}, "
                    f"{run.describe('learning_rate')}, batch {run.batch_size})")
            if not h["epoch"]:
                words.append(f"{name}: starting.")
            elif run.outcome == "exploded":
                words.append(f"{name}: loss exploded at epoch {h['epoch'][-1]:.3g}, training "
                             f"loss {_number(h['loss'][-1])}.")
            else:
                words.append(f"{name}: at epoch {h['epoch'][-1]:.2f} training loss "
                             f"{h['loss'][-1]:.3f}, validation loss {h['val_loss'][-1]:.3f}, "
                             f"training accuracy {h['accuracy'][-1]:.1%}, validation accuracy "
                             f"{h['val_accuracy'][-1]:.1%}.")
        return " ".join(words)

    def _texts(self):
        """Every piece of text in the latest picture, as (kind, text, font size in CSS pixels,
        box in the PNG's pixels as (left, top, right, bottom)); kind is "tick", "title", "label",
        "legend" or "hint". For tests of what the page shows."""
        with self._plot_lock:
            fig = self._fig
            fig.canvas.draw()
            found = []
            for ax in (self._ax_loss, self._ax_acc):
                for axis, ticks, labels in ((ax.xaxis, ax.get_xticks(), ax.get_xticklabels()),
                                            (ax.yaxis, ax.get_yticks(), ax.get_yticklabels())):
                    low, high = sorted(axis.get_view_interval())
                    found += [("tick", t) for at, t in zip(ticks, labels)
                              if low - 1e-12 <= at <= high + 1e-12]
                found += [("title", ax.title), ("label", ax.xaxis.label),
                          ("label", ax.yaxis.label)]
            for legend in fig.legends:
                found += [("legend", t) for t in (*legend.get_texts(), legend.get_title())]
            found.append(("hint", self._hint))
            height = fig.bbox.height
            result = []
            for kind, t in found:
                if t.get_visible() and t.get_text().strip():
                    box = t.get_window_extent()
                    result.append((kind, t.get_text(), float(t.get_fontsize()),
                                   (float(box.x0), float(height - box.y1), float(box.x1),
                                    float(height - box.y0))))
            return result


def _grew(curve):
    """True when a curve rose past its first value (by more than 2 %: not noise)."""
    values = np.asarray(curve, dtype=float)
    values = values[~np.isnan(values)]
    return len(values) > 1 and bool(np.any(values[1:] > 1.02 * values[0]))


def _legend(fig, entries, title, font, ink, room, text_width, renderer):
    """A legend of (handle, text) entries in as many columns as fit in ``room`` CSS pixels,
    read row after row; returns it and its height in CSS pixels."""
    texts = [_wrap(text, room - 2.4 * font, text_width) for _, text in entries]
    title = _wrap(title, room, text_width) if title else None
    narrowest = min(text_width(line) for text in texts for line in text.split("\n"))
    ncol = max(1, min(len(texts), int((room + 1.2 * font) // (narrowest + 3.5 * font))))
    dpr = fig.dpi / 72
    while True:
        order = _row_major(len(texts), ncol)
        legend = fig.legend([entries[i][0] for i in order], [texts[i] for i in order],
                            loc="upper left", ncol=ncol, fontsize=font, title=title,
                            title_fontsize=font, frameon=False, alignment="left",
                            handlelength=1.8, handletextpad=0.5, columnspacing=1.2,
                            borderaxespad=0, borderpad=0.2, labelcolor=ink)
        if legend.get_title():
            legend.get_title().set_color(ink)
        box = legend.get_window_extent(renderer)
        if box.width / dpr <= room or ncol == 1:
            return legend, box.height / dpr
        legend.remove()
        ncol -= 1


def _row_major(count, ncol):
    """The order in which to hand ``count`` entries to a legend of ``ncol`` columns, which fills
    column after column, so that they read row after row."""
    rows = -(-count // ncol)
    return [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < count]


def _wrap(text, room, text_width):
    """``text`` with line breaks at its ' · ' separators so that no line is wider than ``room``."""
    parts, lines = text.split(" · "), []
    for part in parts:
        if lines and text_width(lines[-1] + " · " + part) <= room:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _colour(css):
    """'#rrggbb' and the alpha of a CSS colour as getComputedStyle writes it, 'rgb(r, g, b)' or
    'rgba(r, g, b, a)' (also 'rgb(r g b / a)'); ValueError for anything else."""
    match = re.fullmatch(r"\s*rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)"
                         r"(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)\s*", str(css))
    if not match:
        if re.fullmatch(r"#[0-9a-fA-F]{6}", str(css)):
            return css.lower(), 1.0
        raise ValueError(f"not a CSS colour: {css!r}")
    r, g, b = (min(255, round(float(v))) for v in match.group(1, 2, 3))
    alpha = 1.0 if match.group(4) is None else float(match.group(4)) / (100 if match.group(5)
                                                                        else 1)
    return f"#{r:02x}{g:02x}{b:02x}", min(max(alpha, 0.0), 1.0)


def _luminance(hex_colour):
    """Relative luminance (WCAG 2) of '#rrggbb'."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    """WCAG 2 contrast ratio of two '#rrggbb' colours, from 1 (equal) to 21 (black on white)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _view_from(report):
    """The page's report, checked and made plot-ready: sizes clamped, colours as '#rrggbb', the
    ink blended onto the background and replaced by black or white if it has too little
    contrast to read."""
    background, alpha = _colour(report.get("background", DEFAULT_VIEW["background"]))
    if alpha < 1:
        background = DEFAULT_VIEW["background"]
    ink, alpha = _colour(report.get("ink", DEFAULT_VIEW["ink"]))
    channels = [round(alpha * int(ink[i:i + 2], 16) + (1 - alpha) * int(background[i:i + 2], 16))
                for i in (1, 3, 5)]
    ink = "#" + "".join(f"{c:02x}" for c in channels)
    if contrast(ink, background) < MIN_CONTRAST:
        ink = max(("#000000", "#ffffff"), key=lambda c: contrast(c, background))
    return {"width": int(np.clip(float(report["width"]), 240, 8000)),
            "room": int(np.clip(float(report.get("room", 0)), 0, 10_000)),
            "dpr": float(np.clip(float(report.get("dpr", 1.0)), 0.5, 4.0)),
            "font": float(np.clip(float(report.get("font", DEFAULT_VIEW["font"])), 8, 40)),
            "ink": ink, "background": background,
            "dark": _luminance(background) < 0.2}


def _check_data(x, y, x_name, y_name):
    """x as float32 (N, 784) and y as integer class ids (N,), or a one-line ValueError. Images
    (N, 28, 28) or (N, 1, 28, 28) become rows of 784 pixels: a view when they are float32
    already, so the playground holds one array of images whichever network a run trains."""
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[1:] not in IMAGE_SHAPES or len(x) == 0:
        raise ValueError(f"Playground expects {x_name} of shape (N, 784), (N, 28, 28) or "
                         f"(N, 1, 28, 28) as made by nnlib.preprocess, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{x_name} holds {x.dtype} values; scale the images to floats in [0, 1] "
                         "with nnlib.preprocess first")
    if not np.isfinite(x).all():
        raise ValueError(f"{x_name} holds NaN or infinite values; pass the images as made by "
                         "nnlib.preprocess")
    if x.max() > UNSCALED:
        raise ValueError(f"{x_name} looks unscaled (max {x.max():g}): pass preprocess(x), "
                         "floats in [0, 1]")
    y = class_ids(y, 10, f"Playground {y_name}")
    if len(y) != len(x):
        raise ValueError(f"Playground got {len(x)} images in {x_name} but {len(y)} labels "
                         f"in {y_name}")
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), 784), y


# --- the page side ------------------------------------------------------------------------------
# A padlock on the settings a run has locked: an image, since no icon font is sure to be there.
PADLOCK = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
           "%3Cpath d='M3.5 7h9v8h-9z M5 7V5a3 3 0 0 1 6 0v2H9.5V5a1.5 1.5 0 0 0-3 0v2z'/%3E"
           "%3C/svg%3E")
# The widget's look: controls in a grid (label above slider), as many columns as fit, fewer and
# smaller in a narrow widget; the x axis in the row of buttons, at its right end; a focus ring
# that stands out; slider handles, and the chosen one of a row of toggle buttons, that stay
# visible, locked or not, in the light and the dark theme.
CSS = """
.nnlib-playground { container-type: inline-size; --nnlib-focus: #0b57d0; --nnlib-alarm: #b3261e;
  --nnlib-handle: #1a73e8; --nnlib-locked: #6b6b6b; --nnlib-chosen: #1557b0;
  --nnlib-on-chosen: #ffffff; }
body[data-jp-theme-light="false"] .nnlib-playground { --nnlib-focus: #a8c7fa;
  --nnlib-alarm: #ffb4ab; --nnlib-handle: #8ab4f8; --nnlib-locked: #a6a6a6;
  --nnlib-chosen: #8ab4f8; --nnlib-on-chosen: #1f1f1f; }
.nnlib-playground .nnlib-controls, .nnlib-playground .nnlib-bar { --nnlib-text: 16px; }
.nnlib-playground .nnlib-controls { display: grid !important;
  grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 2px 20px; width: 100%; }
.nnlib-playground .nnlib-controls > .lm-Widget { width: auto !important; max-width: none;
  margin: 0 !important; display: flex; flex-wrap: wrap; align-items: center; height: auto;
  min-width: 0; }
.nnlib-playground .nnlib-controls .widget-label { flex: 0 0 100%; width: auto !important;
  max-width: none; margin: 0; padding: 0; height: auto; line-height: 1.25; text-align: left;
  font-size: var(--nnlib-text); font-weight: 600; }
.nnlib-playground .nnlib-controls .slider-container { flex: 1 1 40px; min-width: 40px;
  margin-left: 8px; margin-right: 12px; }
.nnlib-playground .nnlib-controls .widget-readout { flex: 0 0 auto; min-width: 3.2em;
  margin: 0; font-size: var(--nnlib-text); color: var(--jp-widgets-color, inherit);
  text-align: right; padding: 0 2px; }
.nnlib-playground .nnlib-controls select { flex: 1 1 auto; width: 100%; min-width: 0;
  font-size: var(--nnlib-text); height: 28px; }
.nnlib-playground .nnlib-controls .widget-toggle-buttons > div { display: flex; flex: 1 1 100%;
  gap: 3px; }
.nnlib-playground .widget-toggle-button { flex: 1 1 0; width: auto !important; margin: 0;
  font-size: var(--nnlib-text); padding: 0 4px; height: 28px; }
.nnlib-playground .widget-toggle-button.mod-active { background-color: var(--nnlib-chosen);
  color: var(--nnlib-on-chosen); }
.nnlib-playground .nnlib-locked .widget-toggle-button.mod-active {
  background-color: var(--nnlib-locked); opacity: 1; }
.nnlib-playground .nnlib-bar { display: flex !important; flex-wrap: wrap; align-items: center;
  gap: 4px 10px; margin: 8px 0 6px; width: 100%; }
.nnlib-playground .nnlib-bar .widget-button { width: auto; height: 36px; margin: 0;
  padding: 0 14px; font-size: var(--nnlib-text); font-weight: 700; }
.nnlib-playground .nnlib-report { display: block !important; flex: 1 1 300px; min-width: 0;
  margin: 0; font-size: var(--nnlib-text); line-height: 1.35; }
.nnlib-playground .nnlib-bar .nnlib-x-axis { display: flex; flex: 0 0 auto; order: 1;
  align-items: center; gap: 6px; width: auto; height: auto; margin: 0 0 0 auto; }
.nnlib-playground .nnlib-bar .nnlib-x-axis .widget-label { width: auto !important;
  max-width: none; height: auto; margin: 0; padding: 0; line-height: 1.25;
  font-size: var(--nnlib-text); font-weight: 600; }
.nnlib-playground .nnlib-bar .nnlib-x-axis > div { display: flex; gap: 3px; }
.nnlib-playground .nnlib-bar .nnlib-x-axis .widget-toggle-button { flex: 0 0 auto;
  min-width: 5.2em; }
.nnlib-playground .nnlib-report > .widget-html,
.nnlib-playground .nnlib-report .widget-html-content { display: inline; margin: 0; height: auto;
  line-height: inherit; font-size: inherit; white-space: normal; }
.nnlib-playground .nnlib-progress .widget-html-content:not(:empty)::before { content: " · "; }
.nnlib-playground .nnlib-alarm { color: var(--nnlib-alarm); }
.nnlib-playground img.widget-image { display: block; margin: 0; }
.nnlib-playground .noUi-handle { background-color: var(--nnlib-handle) !important;
  border: 1px solid var(--nnlib-handle) !important; }
.nnlib-playground .noUi-target[disabled] { opacity: 1 !important; }
.nnlib-playground .noUi-target[disabled] .noUi-handle {
  background-color: var(--nnlib-locked) !important; border-color: var(--nnlib-locked) !important; }
.nnlib-playground .nnlib-locked .widget-readout::before,
.nnlib-playground .nnlib-locked.widget-dropdown .widget-label::after,
.nnlib-playground .nnlib-locked.widget-toggle-buttons .widget-label::after {
  content: ""; display: inline-block; width: 0.75em; height: 0.85em; margin: 0 0.3em;
  vertical-align: -0.05em; background-color: currentColor;
  -webkit-mask: url("PADLOCK") center / contain no-repeat;
  mask: url("PADLOCK") center / contain no-repeat; }
.nnlib-playground :focus-visible, .nnlib-playground .widget-readout:focus,
.nnlib-playground .noUi-handle:focus {
  outline: 3px solid var(--nnlib-focus) !important; outline-offset: 2px; }
.nnlib-playground:focus, .nnlib-playground:focus-visible { outline: none !important; }
@container (max-width: 760px) {
  .nnlib-playground .nnlib-controls, .nnlib-playground .nnlib-bar { --nnlib-text: 14px; }
  .nnlib-playground .nnlib-controls { grid-template-columns: repeat(auto-fill, minmax(124px, 1fr));
    gap: 0 12px; }
  .nnlib-playground .nnlib-controls .slider-container { margin-left: 6px; margin-right: 10px; }
  .nnlib-playground .nnlib-bar { margin: 2px 0; }
  .nnlib-playground .nnlib-bar .widget-button { height: 30px; padding: 0 8px; }
  .nnlib-playground .nnlib-report { flex-basis: 100%; }
  .nnlib-playground .nnlib-bar .nnlib-x-axis { order: 0; }
  .nnlib-playground .widget-toggle-button { padding: 0 1px; }
}
""".replace("PADLOCK", PADLOCK)

# The page's side, run once per view of the widget (an image that fails to load runs it: the HTML
# widget inserts its value as HTML, where a <script> would not run). It reports the space and the
# theme to the kernel through the hidden Text widget, names the controls and their values for
# screen readers, makes the status line a live region, copies the plot's text alternative into
# its alt, moves focus to Stop after Train and back after a run, and stops keystrokes typed in
# the widget from reaching JupyterLab's shortcuts ("0 0" restarts the kernel, "d d" deletes a
# cell): JupyterLab handles them when a keydown bubbles up to the document.
SCRIPT = """
(function (loader) {
  var ranges = JSON.parse(loader.getAttribute('data-ranges') || '{}');
  var root = null, tries = 0, queued = false, sent = '', last = null, want = null, was = {};
  var watchers = [];

  function find() {              // the widget's view is attached a moment after its HTML
    root = loader.closest('.nnlib-playground');
    if (!root) {
      if (tries++ < 600) requestAnimationFrame(find);
      return;
    }
    if (root.nnlibPlayground) return;
    root.nnlibPlayground = true;
    root.tabIndex = -1;          // a click on a locked or plain part keeps the focus in here
    root.setAttribute('data-lm-suppress-shortcuts', 'true');
    root.addEventListener('keydown', keep);
    root.addEventListener('keyup', keep);
    root.addEventListener('focusin', function (event) { last = event.target; });
    var inside = new MutationObserver(soon), theme = new MutationObserver(soon);
    var size = new ResizeObserver(soon);
    inside.observe(root, {subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ['disabled', 'aria-valuetext', 'contenteditable', 'class', 'title']});
    theme.observe(document.body, {attributes: true});
    size.observe(root);
    watchers = [inside, theme, size];
    window.addEventListener('resize', soon);
    soon();
  }

  function keep(event) {         // Escape and shortcuts with Ctrl, Alt or Cmd still reach the page
    var modified = event.ctrlKey || event.metaKey || event.altKey;
    if (event.key === 'Escape' || (modified && event.key !== 'Enter')) return;
    event.stopPropagation();
  }

  function soon() {
    if (!queued) {
      queued = true;
      requestAnimationFrame(update);
    }
  }

  function set(element, name, value) {    // only real changes: the observer sees each one
    if (element && element.getAttribute(name) !== value) element.setAttribute(name, value);
  }

  function untitled(label) {     // ipywidgets writes the missing tooltip as the text "null"
    if (label && label.getAttribute('title') === 'null') label.removeAttribute('title');
    return label ? label.title : '';
  }

  function backdrop(element) {   // the first colour behind the widget that is not transparent
    for (var e = element; e && e.nodeType === 1; e = e.parentElement) {
      var colour = getComputedStyle(e).backgroundColor;
      var alpha = colour.match(/rgba?\\([^)]*[,\\/]\\s*([\\d.]+)\\s*\\)/);
      if (colour !== 'transparent' && !(alpha && parseFloat(alpha[1]) === 0)) return colour;
    }
    return 'rgb(255, 255, 255)';
  }

  function name_sliders() {      // names, real values and the lock, for screen readers
    root.querySelectorAll('.widget-slider').forEach(function (slider) {
      var label = slider.querySelector('.widget-label');
      var handle = slider.querySelector('.noUi-handle');
      var readout = slider.querySelector('.widget-readout');
      if (!label || !handle || !readout) return;
      var name = label.textContent.trim(), text = readout.textContent.trim();
      var locked = !!slider.querySelector('.noUi-target[disabled]'), range = ranges[name];
      var tip = untitled(label);
      set(handle, 'aria-label', name);
      set(handle, 'aria-valuetext', text);
      if (range && isFinite(parseFloat(text))) {
        set(handle, 'aria-valuemin', String(range[0]));
        set(handle, 'aria-valuemax', String(range[1]));
        set(handle, 'aria-valuenow', String(parseFloat(text)));
      }
      set(handle, 'aria-disabled', String(locked));
      set(handle, 'aria-description', tip);
      set(readout, 'role', 'textbox');
      set(readout, 'aria-label', name);
      set(readout, 'aria-readonly', String(locked));
      set(readout, 'aria-description', tip);
      // a locked box still takes the focus of a click, so the keys typed next stay here
      if (locked) set(readout, 'tabindex', '-1');
      else readout.removeAttribute('tabindex');
    });
  }

  function name_the_rest() {
    root.querySelectorAll('.widget-toggle-buttons').forEach(function (group) {
      var label = group.querySelector('.widget-label'), buttons = group.querySelectorAll('button');
      untitled(label);
      if (buttons.length) {
        set(buttons[0].parentElement, 'role', 'group');
        set(buttons[0].parentElement, 'aria-label', label ? label.textContent.trim() : '');
      }
      buttons.forEach(function (button) {
        set(button, 'aria-pressed', String(button.classList.contains('mod-active')));
      });
    });
    root.querySelectorAll('.widget-dropdown').forEach(function (menu) {
      set(menu.querySelector('select'), 'aria-description',
          untitled(menu.querySelector('.widget-label')));
    });
    root.querySelectorAll('button i').forEach(function (icon) {
      set(icon, 'aria-hidden', 'true');
    });
    var status = root.querySelector('.nnlib-status .widget-html-content');
    set(status, 'role', 'status');
    set(status, 'aria-live', 'polite');
    set(status, 'aria-atomic', 'true');
    var plot = root.querySelector('img.widget-image');
    var words = root.querySelector('.nnlib-alt .widget-html-content');
    if (plot && words) set(plot, 'alt', words.textContent);
  }

  function move_focus() {        // to Stop after Train, back to Train when the run ends
    var train = root.querySelector('button.nnlib-train');
    var stop = root.querySelector('button.nnlib-stop');
    if (!train || !stop) return;
    var active = document.activeElement;
    var lost = !active || active === document.body || active === root;
    if (train.disabled && !was.train && (active === train || (lost && last === train))) {
      want = stop;
    }
    if (stop.disabled && !was.stop && (active === stop || (lost && last === stop))) {
      want = train;
    }
    if (want === stop && !train.disabled) want = train;    // a run that ended at once
    if (want && !want.disabled) {
      want.focus();
      want = null;
    }
    was = {train: train.disabled, stop: stop.disabled};
  }

  function report() {            // the space and the theme, to the kernel (Playground._on_view)
    var field = root.querySelector('.nnlib-view input');
    var plot = root.querySelector('img.widget-image');
    var readout = root.querySelector('.widget-readout');
    var scroller = root.closest('.jp-WindowedPanel-outer') || root.closest('.jp-Notebook');
    var height = scroller ? scroller.clientHeight : window.innerHeight;
    var rest = root.getBoundingClientRect().height;
    if (plot) rest -= plot.getBoundingClientRect().height;
    var text = JSON.stringify({
      width: Math.floor(plot ? plot.clientWidth : root.clientWidth),
      room: Math.max(0, Math.floor(height - rest - 12)),
      dpr: window.devicePixelRatio || 1,
      font: parseFloat(getComputedStyle(readout || root).fontSize),
      ink: getComputedStyle(root).color,
      background: backdrop(root)
    });
    if (field && text !== sent) {
      sent = text;
      field.value = text;
      field.dispatchEvent(new Event('input', {bubbles: true}));
    }
  }

  function update() {
    queued = false;
    if (!root.isConnected) {     // the view is gone: stop watching
      watchers.forEach(function (watcher) { watcher.disconnect(); });
      window.removeEventListener('resize', soon);
      return;
    }
    name_sliders();
    name_the_rest();
    move_focus();
    report();
  }

  find();
})(this);
"""


def _page(ranges):
    """The HTML of the widget's first child: the style sheet and the page's script."""
    return (f"<style>{CSS}</style><img hidden alt='' src='data:,' "
            f"data-ranges='{html.escape(json.dumps(ranges), quote=True)}' "
            f"onerror=\"{html.escape(SCRIPT, quote=True)}\">")
