"""How live is the training playground? Two timings, over several runs each:

- press Train → first plotted point (the untrained network at epoch 0) and first *trained*
  point, i.e. the first picture sent to the Image widget holding a curve point after training;
- press Stop → the training thread has ended (the buttons and the status line are updated).

Each on a 10 000-image training subset, for small and large batches and hidden layers.

    python benchmarks/bench_playground.py [--repeats 5]

The playground should show its first point within about a second and stop within a fraction
of a second. Timings depend on the machine and its load, so they are measured here, never
asserted in tests.
"""

import argparse
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


def summary(values):
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

    for batch_size, hidden in ((32, 64), (4096, 64), (32, 512), (4096, 512)):
        pg = Playground(x_train, y_train, x_val, y_val, batch_size=batch_size,
                        hidden_units=hidden, epochs=100)
        firsts, trained, stops = [], [], []
        for _ in range(args.repeats):
            first, trained_point = time_to_first_points(pg)
            firsts.append(first)
            trained.append(trained_point)
            stops.append(time_to_stop(pg))
            pg.clear()
        print(f"batch {batch_size:>4}, {hidden:>3} hidden units")
        print(f"  Train → first plotted point    {summary(firsts)}")
        print(f"  Train → first trained point    {summary(trained)}")
        print(f"  Stop  → stopped                {summary(stops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
