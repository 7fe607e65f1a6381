"""How live is the training playground? Timings over several runs each:

- press Train → first plotted point (the untrained network at epoch 0) and first *trained*
  point, i.e. the first picture sent to the Image widget holding a curve point after training;
- press Stop → the training thread has ended (the buttons and the status line are updated);
- the median time between two curve points while a run trains, and for the CNN the whole of a
  two-epoch run;
- one redraw of a plot with three runs, drawn for the space a page reports: JupyterLab at
  1920 × 1080, at 1024 × 768 and 150 % zoom, and no page at all (the default 960 pixels).

The first two on a 10 000-image training subset, for small and large batches and hidden layers,
for the MLP and for chapter 15's CNN (the model switch).
While a run trains the plot is redrawn every 0.25 s, or every three redraw times if that is
longer, so a slow redraw costs liveliness, not training time.

    python benchmarks/bench_playground.py [--repeats 5]

The playground should show its first point within about a second and stop within a fraction
of a second. Timings depend on the machine and its load, so they are measured here, never
asserted in tests.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time

import numpy as np

from nnlib import load_mnist, preprocess, train_val_split
from nnlib.widgets import Playground


def time_to_first_points(pg):
    """Seconds from train() to the first picture, and to the first picture with a trained point."""
    shown = []
    done = threading.Event()

    def on_picture(change):
        shown.append((time.perf_counter(), len(pg.runs[-1].history["loss"]) if pg.runs else 0))
        if shown[-1][1] >= 2:
            done.set()

    pg.plot.observe(on_picture, names="value")
    try:
        start = time.perf_counter()
        pg.train(wait=False)
        done.wait(timeout=60)
    finally:
        pg.stop()
        pg.plot.unobserve(on_picture, names="value")
    first = shown[0][0] - start if shown else float("nan")
    trained = next((t - start for t, points in shown if points >= 2), float("nan"))
    return first, trained


def time_to_stop(pg, running_for=1.0):
    """Seconds from stop() to the run's thread having ended, after ``running_for`` s of training."""
    pg.train(wait=False)
    time.sleep(running_for)
    start = time.perf_counter()
    pg.stop(wait=False)
    while pg.is_training:
        time.sleep(0.001)
    return time.perf_counter() - start


def seconds_between_points(run):
    """The median time between two curve points of ``run`` after the first trained one."""
    seconds = run.history["seconds"][1:]
    return statistics.median(np.diff(seconds)) if len(seconds) > 2 else float("nan")


# what the page's script reports in each setting (see nnlib.widgets: Playground._on_view)
SCREENS = {
    "1920 × 1080": {"width": 1740, "room": 845, "dpr": 1, "font": 16,
                    "ink": "rgba(0, 0, 0, 0.87)", "background": "rgb(255, 255, 255)"},
    "1024 × 768 at 150 %": {"width": 567, "room": 223, "dpr": 1.5, "font": 14,
                            "ink": "rgba(0, 0, 0, 0.87)", "background": "rgb(255, 255, 255)"},
    "no page (960 px)": None,
}


def time_to_redraw(pg, repeats):
    """Seconds for each of ``repeats`` redraws (draw, encode as PNG, send to the widget)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pg._draw()
        times.append(time.perf_counter() - start)
    return times


def summary(values):
    values = [v for v in values if not np.isnan(v)]
    if not values:
        return "(not measured: too few points before Stop)"
    return f"median {statistics.median(values):6.3f} s   max {max(values):6.3f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per setting (5)")
    args = parser.parse_args(argv)

    (x, y), _ = load_mnist()
    (x_train, y_train), (x_val, y_val) = train_val_split(
        preprocess(x), y, 10_000, rng=np.random.default_rng(0))
    x_train, y_train = x_train[:10_000], y_train[:10_000]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {load:.2f}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    print(f"10 000 training images, {len(x_val):,} validation images, "
          f"{args.repeats} runs per setting\n")

    for model, batch_size, hidden in (("mlp", 32, 64), ("mlp", 4096, 64), ("mlp", 32, 512),
                                      ("mlp", 4096, 512), ("cnn", 32, 64), ("cnn", 256, 128),
                                      ("cnn", 4096, 64)):
        pg = Playground(x_train, y_train, x_val, y_val, model=model, batch_size=batch_size,
                        hidden_units=hidden, epochs=100)
        firsts, trained, stops, gaps = [], [], [], []
        for _ in range(args.repeats):
            first, trained_point = time_to_first_points(pg)
            firsts.append(first)
            trained.append(trained_point)
            stops.append(time_to_stop(pg, running_for=2.0))
            gaps.append(seconds_between_points(pg.runs[-1]))
            pg.clear()
        print(f"{model.upper()}, batch {batch_size:>4}, {hidden:>3} hidden units")
        print(f"  Train → first plotted point    {summary(firsts)}")
        print(f"  Train → first trained point    {summary(trained)}")
        print(f"  Stop  → stopped                {summary(stops)}")
        print(f"  between two curve points       {summary(gaps)}")

    pg = Playground(x_train, y_train, x_val, y_val, model="cnn", epochs=2)
    runs = []
    for _ in range(args.repeats):
        runs.append(pg.train(wait=True).seconds)
        pg.clear()
    print(f"\nCNN, two epochs of 10 000 images at the default settings: {summary(runs)}")

    print("\nredraw with three runs (learning rates 0.01, 0.1, 10)")
    for screen, report in SCREENS.items():
        pg = Playground(x_train, y_train, x_val, y_val, epochs=1)
        for learning_rate in (0.01, 0.1, 10):
            pg.set(learning_rate=learning_rate).train(wait=True)
        if report:
            pg._view.value = json.dumps(report)
        width, height = pg._layout["width"], pg._layout["height"]
        scale = pg._layout["dpr"]
        print(f"  {screen:<20} {round(width * scale)} × {round(height * scale)} pixels  "
              f"{summary(time_to_redraw(pg, 5 * args.repeats))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
