"""nnlib against Keras on this machine: import time, seconds per training epoch, prediction time.

    python benchmarks/bench_keras.py [--epochs 2] [--batch-size 64] [--hidden 128]

Both libraries train 784 → hidden ReLU → 10 softmax with SGD (0.05, momentum 0.9) on all 60 000
MNIST training images, from the same initial weights, on the same batches. Keras is timed both
with a train_on_batch loop (the same per-batch calls as nnlib) and with fit. Each epoch is timed
separately; the table shows the fastest one (the first Keras call also builds its graph).

Timings depend on the CPU, the BLAS library, thread counts and whatever else the machine is
doing: run it on a quiet machine, and more than once, before drawing conclusions.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np


def import_seconds(statement):
    """Wall time of a fresh Python process that runs ``statement`` (minus an empty one's)."""
    def run(code):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        return time.perf_counter() - start
    return run(statement) - run("pass")


def best_of(epochs, run):
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per variant (2)")
    parser.add_argument("--batch-size", type=int, default=64, help="examples per step (64)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units (128)")
    args = parser.parse_args(argv)

    results = {"import nnlib": import_seconds("import nnlib"),
               "import tensorflow + keras": import_seconds("import tensorflow, keras")}

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from nnlib import SGD, load_mnist, preprocess
    from nnlib.train import build_model

    (x_raw, y_raw), (x_test_raw, _) = load_mnist()
    x, y = preprocess(x_raw), y_raw.astype(np.int64)
    x_test = preprocess(x_test_raw)
    n, bs = len(x), args.batch_size

    model = build_model(args.hidden, seed=0)
    d1, _, d2, _ = model.layers
    sgd = SGD(0.05, momentum=0.9)
    keras_model = keras.Sequential([keras.Input(shape=(784,)),
                                    keras.layers.Dense(args.hidden, activation="relu"),
                                    keras.layers.Dense(10, activation="softmax")])
    keras_model.set_weights([d1.weights, d1.biases, d2.weights, d2.biases])
    keras_model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                        loss=keras.losses.SparseCategoricalCrossentropy())

    def nnlib_epoch():
        for i in range(0, n, bs):
            model.train_step(x[i:i + bs], y[i:i + bs], sgd)

    def keras_on_batch_epoch():
        for i in range(0, n, bs):
            keras_model.train_on_batch(x[i:i + bs], y[i:i + bs])

    def keras_fit_epoch():
        keras_model.fit(x, y, batch_size=bs, epochs=1, shuffle=False, verbose=0)

    results["nnlib epoch (train_step loop)"] = best_of(args.epochs, nnlib_epoch)
    results["Keras epoch (train_on_batch loop)"] = best_of(args.epochs, keras_on_batch_epoch)
    results["Keras epoch (fit)"] = best_of(args.epochs, keras_fit_epoch)
    results["nnlib predict 10 000"] = best_of(3, lambda: model.predict(x_test))
    results["Keras predict 10 000"] = best_of(
        3, lambda: keras_model.predict(x_test, batch_size=1000, verbose=0))

    print(f"{n} training images, batch {bs}, 784 → {args.hidden} → 10, "
          f"{os.cpu_count()} CPUs, best of {args.epochs} epochs")
    for what, seconds in results.items():
        print(f"  {what:36} {seconds:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
