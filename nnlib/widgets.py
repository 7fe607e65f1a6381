"""A training playground for JupyterLab: sliders for the hyperparameters, live loss and accuracy
curves, one curve per run so runs can be compared. Introduced in chapter 11.

    from nnlib.widgets import Playground
    pg = Playground(x_train, y_train, x_val, y_val)
    pg                                   # shows the controls, the plot and a status line

The controls are ipywidgets, exposed as attributes: ``pg.learning_rate``, ``pg.batch_size``,
``pg.hidden_units``, ``pg.epochs``, ``pg.train_size``, ``pg.optimizer``, ``pg.momentum`` and
``pg.x_axis``. Setting
``pg.learning_rate.value = 0.01`` is exactly what moving the slider does. ``pg.set(...)`` sets
several at once and raises ValueError for a value the slider cannot take (a slider alone would
silently clamp it). ``pg.train()``, ``pg.stop()`` and ``pg.clear()`` do what the buttons do.

Each run trains a fresh ``nnlib.train.build_model(hidden_units, seed)`` with ``nnlib.SGD`` (plain
or with momentum) or ``nnlib.Adam`` in a
background thread, so the notebook stays responsive; the same seed for every run means two runs
differ only in the settings you changed. The plot is drawn off-screen by matplotlib (Agg) and sent
as a PNG to an ``ipywidgets.Image``, a few times per second. The picture has a transparent
background and mid-grey text, so it reads in JupyterLab's light and dark themes alike; the
controls wrap onto more rows in a narrow window.

This module imports ipywidgets and matplotlib, so ``import nnlib`` does not import it.
"""

import html
import io
import threading
import time
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from ._validate import class_ids
from .optimizers import SGD, Adam
from .train import build_model

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
VAL_POINTS = 1000            # validation images evaluated for each curve point
EXPLODED = 10 * np.log(10)   # a loss 10× that of guessing uniformly: the run has diverged
MAX_RUNS_SHOWN = 10          # the plot shows the latest 10 runs; pg.runs keeps them all
LABEL_WIDTH = 44             # characters of a legend entry before it wraps
FONT = 15
INK = "#8c8c8c"              # text, axes and grid: mid-grey reads on white and on a dark theme
HANDLE = "#2f80ed"           # slider handles: the dark theme would paint them like its background
UNSCALED = 1.0 + 1e-6        # a pixel above this was not scaled by nnlib.preprocess

CSS = """<style>
.nnlib-playground .widget-label, .nnlib-playground .widget-readout,
.nnlib-playground .widget-toggle-button, .nnlib-playground .widget-button {
  font-size: 17px; }
.nnlib-playground .widget-readout { min-width: 4em; color: var(--jp-widgets-color, inherit); }
.nnlib-playground .widget-label { font-weight: 600; }
.nnlib-playground .nnlib-right { text-align: right; padding-right: 10px; }
</style>"""


def _plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _empty_history():
    return {k: [] for k in ("epoch", "seconds", "loss", "accuracy", "val_loss", "val_accuracy")}


@dataclass(eq=False)
class Run:
    """One training run: its settings, its curves (``history``) and how it ended.

    ``outcome`` is "training", then "done", "stopped", "exploded" or "error". ``val_loss`` and
    ``val_accuracy`` are the run's final validation numbers (on every validation image when the
    run is done, else the last curve point).
    """

    number: int
    learning_rate: float
    batch_size: int
    hidden_units: int
    epochs: int
    train_size: int
    optimizer: str = "SGD"
    momentum: float = 0.0
    history: dict = field(default_factory=_empty_history)
    outcome: str = "training"
    val_loss: float = float("nan")
    val_accuracy: float = float("nan")
    seconds: float = 0.0
    model: object = field(default=None, repr=False)
    error: BaseException = field(default=None, repr=False)

    def label(self, show=("hidden_units", "train_size")):
        """The run's legend entry: learning rate, batch size, the settings named in ``show``
        and, once the run has ended, its result."""
        text = (f"#{self.number}  {self.optimizer_name()} · lr {self.learning_rate:.3g} · "
                f"batch {self.batch_size}")
        if "hidden_units" in show:
            text += f" · {self.hidden_units} hidden"
        if "train_size" in show:
            text += f" · {self.train_size:,} images"
        if self.outcome == "exploded":
            text += " → exploded"
        elif self.outcome in ("done", "stopped") and np.isfinite(self.val_accuracy):
            text += f" → {self.val_accuracy:.1%}"
        if len(text) > LABEL_WIDTH:
            # a long entry continues on a second line so that the legend fits beside the plots
            cut = text.rindex(" · ", 0, LABEL_WIDTH)
            text = text[:cut] + "\n        " + text[cut + 3:]
        return text

    def optimizer_name(self):
        """'SGD', 'SGD momentum 0.9' or 'Adam'."""
        if self.optimizer == "SGD + momentum":
            return f"SGD momentum {self.momentum:.2g}"
        return self.optimizer

    def __repr__(self):
        result = {"done": f"validation accuracy {self.val_accuracy:.2%}",
                  "stopped": f"stopped, validation accuracy {self.val_accuracy:.2%}",
                  "exploded": "loss exploded", "training": "training …",
                  "error": f"error: {self.error}"}[self.outcome]
        return (f"Run {self.number}: {self.optimizer_name()}, lr {self.learning_rate:.3g}, "
                f"batch {self.batch_size}, "
                f"{self.hidden_units} hidden, {_plural(self.epochs, 'epoch')} on "
                f"{self.train_size:,} images"
                f" — {result} ({self.seconds:.1f} s)")


class Playground:
    """Train 784 → hidden ReLU → 10 softmax on MNIST with sliders and watch the curves live.

    x_train (N, 784) floats in [0, 1] (``nnlib.preprocess``), y_train (N,) integer labels 0..9
    (one-hot rows are accepted too); the same for x_val, y_val. ``seed`` fixes the initial weights,
    the shuffling and the validation images plotted. The other keywords set the sliders.

    Display it (``pg`` as a cell's last line, or ``display(pg)``) to get the controls, the plot
    and a status line. Introduced in chapter 11.

    The controls are the widgets themselves; set their ``.value`` (``pg.epochs.value = 3``) or
    use ``set``: ``learning_rate``, ``batch_size``, ``hidden_units``, ``epochs``, ``train_size``,
    ``x_axis``. Buttons: ``train_button``, ``stop_button``, ``clear_button``; methods ``train``,
    ``stop``, ``clear`` do the same. Results: ``runs`` (every Run until cleared), ``history``
    and ``model`` (of the latest run), ``is_training``; ``plot`` (Image) and ``status`` (HTML).
    """

    def __init__(self, x_train, y_train, x_val, y_val, *, seed=0, learning_rate=0.1,
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
        self._build_widgets()
        self.set(learning_rate=learning_rate, batch_size=batch_size, hidden_units=hidden_units,
                 epochs=epochs, train_size=len(self._x_train) if train_size is None else train_size,
                 optimizer=optimizer, momentum=momentum)
        self._busy(False)
        self._setup_figure()
        self._draw()
        self._say("Set the sliders and press <b>Train</b>.")

    # --- the widgets ----------------------------------------------------------------------------
    def _build_widgets(self):
        wide = widgets.Layout(width="460px", max_width="100%", margin="2px 16px 2px 0")
        style = {"description_width": "165px", "handle_color": HANDLE}
        self.learning_rate = widgets.FloatLogSlider(
            value=0.1, base=10, min=np.log10(LEARNING_RATES[0]), max=np.log10(LEARNING_RATES[1]),
            step=0.1, readout=True, readout_format=".2g", description="learning rate",
            continuous_update=False, layout=wide, style=style)
        self.batch_size = widgets.SelectionSlider(
            options=BATCH_SIZES, value=32, description="batch size", readout=True,
            continuous_update=False, layout=wide, style=style)
        self.hidden_units = widgets.SelectionSlider(
            options=HIDDEN_UNITS, value=64, description="hidden units", readout=True,
            continuous_update=False, layout=wide, style=style)
        self.epochs = widgets.IntSlider(
            value=5, min=1, max=MAX_EPOCHS, description="epochs", readout=True,
            continuous_update=False, layout=wide, style=style)
        n = len(self._x_train)
        self.train_size = widgets.SelectionSlider(
            options=[s for s in TRAIN_SIZES if s < n] + [n], value=n,
            description="training images", readout=True, continuous_update=False, layout=wide,
            style=style)
        self.optimizer = widgets.Dropdown(options=OPTIMIZERS, value="SGD", description="optimizer",
                                          layout=wide, style={"description_width": "165px"})
        self.momentum = widgets.FloatSlider(
            value=0.9, min=0.0, max=MAX_MOMENTUM, step=0.01, readout=True, readout_format=".2f",
            description="momentum", continuous_update=False, layout=wide, style=style)
        self.optimizer.observe(lambda _: self._busy(self.is_training), names="value")
        self.x_axis = widgets.ToggleButtons(options=["epochs", "seconds"], value="epochs",
                                            style={"button_width": "100px"})
        button_style = {"font_size": "18px", "font_weight": "bold"}
        big = widgets.Layout(width="130px", height="44px", margin="0 12px 0 0")
        self.train_button = widgets.Button(description="Train", icon="play",
                                           button_style="success", layout=big, style=button_style)
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True, layout=big, style=button_style)
        self.clear_button = widgets.Button(description="Clear", icon="trash", layout=big,
                                           style=button_style)
        self.train_button.on_click(lambda _: self.train(wait=False))
        self.stop_button.on_click(lambda _: self.stop(wait=False))
        self.clear_button.on_click(lambda _: self.clear())
        self.x_axis.observe(lambda _: self._draw(), names="value")
        self.plot = widgets.Image(format="png", layout=widgets.Layout(width="100%",
                                                                      max_width="1300px",
                                                                      height="auto"))
        self.status = widgets.HTML(style={"font_size": "20px"})
        self._sliders = (self.learning_rate, self.batch_size, self.hidden_units, self.epochs,
                         self.train_size, self.optimizer, self.momentum)
        x_axis = widgets.HBox([widgets.Label("x axis", layout=widgets.Layout(width="165px"))
                               .add_class("nnlib-right"), self.x_axis], layout=wide)
        # one row per control in a narrow window, two or more side by side in a wide one
        wrap = widgets.Layout(flex_flow="row wrap", width="100%")
        controls = widgets.Box([*self._sliders, x_axis], layout=wrap)
        buttons = widgets.Box([self.train_button, self.stop_button, self.clear_button],
                              layout=widgets.Layout(flex_flow="row wrap", margin="10px 0"))
        self.widget = widgets.VBox([widgets.HTML(CSS), controls, buttons, self.status, self.plot],
                                   layout=widgets.Layout(width="100%"))
        self.widget.add_class("nnlib-playground")

    def figure(self):
        """The plot as it is now, as an IPython Image: a static picture that stays in a saved
        notebook (the live widget needs a running kernel)."""
        from IPython.display import Image
        return Image(self.plot.value, format="png")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self):
        return (f"Playground({len(self._x_train):,} training images, "
                f"{len(self._x_val):,} validation images, {len(self.runs)} runs)")

    # --- settings -------------------------------------------------------------------------------
    def set(self, **settings):
        """Set controls by name (learning_rate, batch_size, hidden_units, epochs, train_size,
        optimizer, momentum, x_axis); ValueError for an unknown name or a value the control
        cannot take."""
        names = ("learning_rate", "batch_size", "hidden_units", "epochs", "train_size",
                 "optimizer", "momentum", "x_axis")
        for name, value in settings.items():
            if name not in names:
                raise ValueError(f"Playground has no setting {name!r}; "
                                 f"choose from {', '.join(names)}")
            widget = getattr(self, name)
            if name == "learning_rate":
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
        return {"learning_rate": float(self.learning_rate.value),
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
        1 000 validation images), and ``epoch`` and ``seconds`` for each point."""
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
            self._say(f"{self._name(run)} starting …")
            self._thread = threading.Thread(target=self._run, args=(run,), daemon=True,
                                            name=f"nnlib-playground-run-{run.number}")
            self._thread.start()
        if wait:
            try:
                self._thread.join()
            except KeyboardInterrupt:
                self.stop()
                raise
            if run.outcome == "error":
                raise run.error
        return run

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
        self._draw()
        self._say("Cleared. Set the sliders and press <b>Train</b>.")

    def _busy(self, busy):
        self.train_button.disabled = busy
        self.stop_button.disabled = not busy
        for slider in self._sliders:
            slider.disabled = busy
        self.momentum.disabled = busy or self.optimizer.value != "SGD + momentum"

    def _run(self, run):
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"):   # an exploding run overflows: we report it instead
                self._train(run, start)
        except Exception as err:              # noqa: BLE001 — a widget must not die silently
            run.outcome, run.error = "error", err
        run.seconds = time.perf_counter() - start
        try:
            self._draw()
            self._say(self._summary(run))
        finally:
            self._busy(False)

    def _train(self, run, start):
        model = run.model = build_model(run.hidden_units, self.seed)
        optimizer = (Adam(run.learning_rate) if run.optimizer == "Adam"
                     else SGD(run.learning_rate, momentum=run.momentum))
        rng = np.random.default_rng(self.seed)
        images = self._train_order[:run.train_size]
        n = len(images)
        # the untrained network: a first point at epoch 0, on as many training as validation images
        first = images[:VAL_POINTS]
        loss, acc = model.evaluate(self._x_train[first], self._y_train[first])
        self._point(run, model, 0.0, start, loss, acc)
        recent = loss
        self._say(self._progress(run))
        next_draw = self._draw_timed()
        last_point, seen = time.perf_counter(), 0
        total_loss = total_acc = 0.0
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
                batch = order[begin:begin + run.batch_size]
                try:
                    loss, acc = model.train_step(self._x_train[batch], self._y_train[batch],
                                                 optimizer)
                except FloatingPointError:  # loss above 1000: train_step refused the update
                    loss, acc = float("nan"), 0.0
                seen += len(batch)
                # one image can cost a loss of 15 in a healthy run: judge small batches by a
                # moving average over about 32 images
                weight = min(1.0, len(batch) / 32)
                recent = (1 - weight) * recent + weight * loss
                if not recent < EXPLODED:     # also true for nan
                    run.outcome = "exploded"
                    self._point(run, model, seen / n, start, loss, acc)
                    return
                total_loss += loss * len(batch)
                total_acc += acc * len(batch)
                count += len(batch)
                now = time.perf_counter()
                if count >= min_count and (count >= per_point or now - last_point >= POINT_EVERY):
                    self._point(run, model, seen / n, start, total_loss / count, total_acc / count)
                    total_loss = total_acc = 0.0
                    count = 0
                    last_point = now
                    if now >= next_draw:
                        self._say(self._progress(run))
                        next_draw = self._draw_timed()
            if run.outcome == "stopped":
                break
        if count:
            self._point(run, model, seen / n, start, total_loss / count, total_acc / count)
        if run.outcome != "stopped":
            run.val_loss, run.val_accuracy = model.evaluate(self._x_val, self._y_val)
            run.outcome = "done"

    def _draw_timed(self):
        """Draw, and return the earliest time for the next drawing: at least DRAW_EVERY apart,
        and drawing takes at most a third of the time on a slow machine."""
        begin = time.perf_counter()
        self._draw()
        end = time.perf_counter()
        return begin + max(DRAW_EVERY, 3 * (end - begin))

    def _point(self, run, model, epoch, start, loss, acc):
        val_loss, val_acc = (model.evaluate(self._x_val_points, self._y_val_points)
                             if np.isfinite(loss) else (float("nan"), float("nan")))
        with self._plot_lock:
            h = run.history
            h["epoch"].append(epoch)
            h["seconds"].append(time.perf_counter() - start)
            h["loss"].append(float(loss))
            h["accuracy"].append(float(acc))
            h["val_loss"].append(float(val_loss))
            h["val_accuracy"].append(float(val_acc))
            run.val_loss, run.val_accuracy = float(val_loss), float(val_acc)

    # --- the status line --------------------------------------------------------------------------
    def _say(self, text):
        self.status.value = f"<div style='padding: 4px 0'>{text}</div>"

    @staticmethod
    def _name(run):
        return (f"<b>Run {run.number}</b> ({run.optimizer_name()}, lr {run.learning_rate:.3g}, "
                f"batch {run.batch_size})")

    def _progress(self, run):
        h = run.history
        return (f"{self._name(run)} · epoch {h['epoch'][-1]:.1f} / {run.epochs} · training loss "
                f"{h['loss'][-1]:.3f} · validation accuracy {h['val_accuracy'][-1]:.1%} · "
                f"{h['seconds'][-1]:.1f} s")

    def _summary(self, run):
        name, h = self._name(run), run.history
        if run.outcome == "done":
            return (f"{name} done: {_plural(run.epochs, 'epoch')} in {run.seconds:.1f} s · "
                    f"validation accuracy <b>{run.val_accuracy:.1%}</b> "
                    f"(all {len(self._x_val):,} validation images)")
        if run.outcome == "stopped":
            return (f"{name} stopped after {h['epoch'][-1]:.1f} epochs · validation accuracy "
                    f"{run.val_accuracy:.1%}")
        if run.outcome == "exploded":
            return (f"<span style='color:#c0392b'>{name}: <b>loss exploded — learning rate too "
                    f"high?</b></span> (stopped after {h['epoch'][-1]:.2f} epochs)")
        first = str(run.error).splitlines()[0] if str(run.error) else ""
        return (f"<span style='color:#c0392b'>{name} failed: "
                f"{html.escape(f'{type(run.error).__name__}: {first}')}</span>")

    # --- the plot -------------------------------------------------------------------------------
    def _setup_figure(self):
        self._fig = Figure(figsize=(14, 5), dpi=100, facecolor="none")
        FigureCanvasAgg(self._fig)
        self._ax_loss, self._ax_acc = self._fig.subplots(1, 2)
        self._fig.subplots_adjust(left=0.05, right=0.655, bottom=0.14, top=0.9, wspace=0.22)
        for ax, title in ((self._ax_loss, "loss"), (self._ax_acc, "accuracy")):
            ax.set_title(title, fontsize=FONT + 5, fontweight="bold", color=INK)
            ax.set_facecolor("none")
            ax.tick_params(labelsize=FONT, colors=INK)
            ax.xaxis.label.set_color(INK)
            for spine in ax.spines.values():
                spine.set_color(INK)
            ax.grid(True, alpha=0.35, color=INK)
        self._ax_acc.set_ylim(0, 1)
        self._ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        self._hint = self._ax_loss.text(0.5, 0.5, "press Train", transform=self._ax_loss.transAxes,
                                        ha="center", va="center", fontsize=FONT + 6, color="0.5")
        self._lines = {}        # run number -> its four curves and its "exploded" marker
        self._legend_key = None

    def _draw(self):
        """Redraw every run's curves and send the picture to the Image widget."""
        with self._plot_lock:
            png = self._render()
        self.plot.value = png

    def _render(self):
        """The plot as PNG bytes. The figure's artists are kept and only their data updated:
        rebuilding the axes every frame would cost most of the drawing time."""
        ax_loss, ax_acc = self._ax_loss, self._ax_acc
        x_key = "epoch" if self.x_axis.value == "epochs" else "seconds"
        runs = self.runs[-MAX_RUNS_SHOWN:]
        for number in set(self._lines) - {r.number for r in runs}:
            for artist in self._lines.pop(number):
                artist.remove()
        top, right = 2.5, 0.0
        for run in runs:
            h = run.history
            last = -1 if run.outcome == "exploded" else None   # its last point is off the chart
            losses = np.asarray(h["loss"][:last] + h["val_loss"][:last], dtype=float)
            top = max(top, min(np.max(losses[np.isfinite(losses)], initial=0), 5.0) * 1.05)
            if h[x_key]:     # the axis grows with the runs: it ends at the latest point
                right = max(right, h[x_key][-1])
        right = right or 1.0
        notes = 0
        for run in runs:
            if run.number not in self._lines:
                color = f"C{(run.number - 1) % 10}"
                self._lines[run.number] = (
                    *ax_loss.plot([], [], "-", [], [], "--", color=color),
                    *ax_acc.plot([], [], "-", [], [], "--", color=color),
                    *ax_loss.plot([], [], "X", color=color, ms=16, mec="white", mew=1.5),
                    ax_loss.text(0, 0, "", color=color, va="center",
                                 fontsize=FONT, fontweight="bold", visible=False))
            lines = self._lines[run.number]
            h = run.history
            x = np.asarray(h[x_key], dtype=float)
            for line, key in zip(lines[:2], ("loss", "val_loss")):
                # an exploded loss (inf, nan or huge) is drawn at the top edge of the plot
                values = np.asarray(h[key], dtype=float)
                line.set_data(x, np.where(values < top, values, top * 0.96))
            lines[2].set_data(x, h["accuracy"])
            lines[3].set_data(x, h["val_accuracy"])
            width = 3.2 if run is self.runs[-1] else 2.0
            for line in lines[:4]:
                line.set_linewidth(width)
            exploded = run.outcome == "exploded" and len(x)
            lines[4].set_data(x[-1:] if exploded else [], [top * 0.96] if exploded else [])
            lines[5].set_visible(bool(exploded))
            if exploded:    # the note goes on the side of the marker where there is room
                late = x[-1] > right / 2
                lines[5].set_position((x[-1], top * (0.96 - 0.08 * notes)))
                notes += 1
                lines[5].set_horizontalalignment("right" if late else "left")
                lines[5].set_text(f"#{run.number} exploded  " if late else
                                  f"  #{run.number} exploded")
        ax_loss.set_ylim(0, top)
        for ax in (ax_loss, ax_acc):
            ax.set_xlim(0, right * 1.02)
            ax.set_xlabel(self.x_axis.value, fontsize=FONT + 1)
        self._hint.set_visible(not runs)
        self._update_legend(runs)
        buffer = io.BytesIO()
        self._fig.savefig(buffer, format="png", transparent=True, pil_kwargs={"compress_level": 1})
        return buffer.getvalue()

    def _update_legend(self, runs):
        """Each run's learning rate, batch size and result; hidden units and training images
        too where the runs shown differ in them, else once in the legend's title."""
        common = {name: {getattr(r, name) for r in runs} for name in ("hidden_units", "train_size")}
        show = [name for name, values in common.items() if len(values) > 1]
        labels = tuple(run.label(show) for run in runs)
        title = "runs"
        if runs and len(show) < 2:
            title = "all runs: " + " · ".join(
                f"{next(iter(values)):,} {what}" for (name, values), what in zip(
                    common.items(), ("hidden", "images")) if name not in show)
        key = (labels, title)
        if key == self._legend_key:
            return
        self._legend_key = key
        for old in self._fig.legends:
            old.remove()
        handles = [Line2D([], [], color=self._lines[run.number][0].get_color(), lw=5, label=label)
                   for run, label in zip(runs, labels)]
        handles += [Line2D([], [], color=INK, lw=2.5, ls="-", label="training"),
                    Line2D([], [], color=INK, lw=2.5, ls="--",
                           label="validation  (→ final accuracy)")]
        renderer = self._fig.canvas.get_renderer()
        width, height = self._fig.bbox.width, self._fig.bbox.height
        for size in range(FONT - 1, FONT - 7, -1):    # the largest font that fits beside the plots
            legend = self._fig.legend(handles=handles, loc="center left",
                                      bbox_to_anchor=(0.67, 0.52), fontsize=size, frameon=False,
                                      handlelength=2.0, title=title if runs else None,
                                      title_fontsize=size + 1, alignment="left", labelcolor=INK)
            if legend.get_title():
                legend.get_title().set_color(INK)
            box = legend.get_window_extent(renderer)
            if box.x1 <= width - 4 and box.y0 >= 0 and box.y1 <= height:
                break
            legend.remove()


def _check_data(x, y, x_name, y_name):
    """x as float32 (N, 784) and y as integer class ids (N,), or a one-line ValueError."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 784 or len(x) == 0:
        raise ValueError(f"Playground expects {x_name} of shape (N, 784) as made by "
                         f"nnlib.preprocess, got shape {x.shape}")
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
    return np.ascontiguousarray(x, dtype=np.float32), y
