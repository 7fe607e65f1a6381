"""One epoch of the same training in nnlib, a flat NumPy loop, PyTorch and Keras, side by side.

    python benchmarks/bench_side_by_side.py [--batch-sizes 64 256] [--repeats 10] [--only nnlib flat torch keras]

Every implementation trains 784 → 128 ReLU → 10 with softmax cross-entropy and plain SGD (lr 0.1),
float32, on all 60 000 MNIST training images reshuffled every epoch, from the same initial weights.
After one untimed warm-up epoch each, the epochs are timed interleaved: every repeat times one
epoch of each implementation in turn, for each batch size, in an order rotated from repeat to
repeat, so that a busy moment of the machine does not hit one implementation only. The table shows
the best and the median seconds per epoch, the mean training loss and accuracy of the last timed
epoch (every implementation computes both, as ``Model.fit`` reports both; similar values show that
all do the same work), and nnlib's time divided by each other's: best by best, and the median and
range of that ratio within each repeat.
PyTorch (CPU) and TensorFlow are optional: a missing one is skipped. Timings are never asserted.
"""

import argparse
import ctypes
import glob
import itertools
import os
import statistics
import time

import numpy as np

from nnlib import SGD, Dense, Model, ReLU, Softmax, load_mnist, preprocess
from nnlib.layers import aligned_zeros

TARGETS = {"torch": 1.00, "flat": 1.05}  # nnlib's time / theirs should not exceed these


def last_epoch(history):
    """(loss, accuracy) of the last epoch of a Model.fit or Keras fit history."""
    return history["loss"][-1], history["accuracy"][-1]


def nnlib_epochs(x, y, w, batch_size, seed, relu=ReLU, sgd=SGD):
    """Model.fit, one epoch a call; ``relu`` and ``sgd`` are the classes it is built with."""
    d1, d2 = Dense(784, 128), Dense(128, 10)
    d1.weights[...], d1.biases[...], d2.weights[...], d2.biases[...] = w
    model, optimizer, seeds = Model([d1, relu(), d2, Softmax()]), sgd(0.1), itertools.count(seed)
    return lambda: last_epoch(model.fit(x, y, epochs=1, batch_size=batch_size, optimizer=optimizer,
                                        verbose=False, seed=next(seeds)))


def flat_epochs(x, y, w, batch_size, seed):
    # on 64-byte cache lines, as nnlib allocates its weights (see benchmarks/README.md)
    W1, b1, W2, b2 = (aligned_zeros(a.shape, a.dtype) for a in w)
    W1[...], b1[...], W2[...], b2[...] = w
    rng, lr, all_rows = np.random.default_rng(seed), np.float32(0.1), np.arange(batch_size)

    def epoch():
        perm, total, correct = rng.permutation(len(x)), 0.0, 0
        for i in range(0, len(x), batch_size):
            # gathering each batch is faster here than one shuffled copy of x: the batch is still
            # in the cache when the matrix product reads it
            xb, yb = x[perm[i:i + batch_size]], y[perm[i:i + batch_size]]
            n, rows = len(xb), all_rows[:len(xb)]
            h = xb @ W1
            h += b1
            np.maximum(h, 0, out=h)
            z = h @ W2 + b2
            correct += int(np.count_nonzero(z.argmax(axis=1) == yb))
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            s = p.sum(axis=1)
            total -= float((z[rows, yb] - np.log(s)).sum())
            p /= (s * n)[:, None]  # p = (softmax - onehot) / N, the gradient of the mean loss
            p[rows, yb] -= 1 / n
            dh = p @ W2.T
            dh *= h > 0
            dW2, db2, dW1, db1 = h.T @ p, p.sum(axis=0), xb.T @ dh, dh.sum(axis=0)
            for param, grad in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
                grad *= lr
                param -= grad
        assert all(a.dtype == np.float32 for a in (W1, b1, W2, b2, h, p, dh, dW1)), "float64 crept in"
        return total / len(x), correct / len(x)
    return epoch


def torch_epochs(x, y, w, batch_size, seed):
    import torch
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        for param, value in zip(net.parameters(), (w[0].T, w[1], w[2].T, w[3])):
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    loss_fn, optimizer = torch.nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.1)
    xt, yt, gen = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)), torch.Generator()
    gen.manual_seed(seed)

    return lambda: torch_epoch(net, optimizer, loss_fn, xt, yt, gen, batch_size)


def torch_epoch(net, optimizer, loss_fn, xt, yt, gen, batch_size):
    """One epoch of PyTorch training over batches of one permutation: (mean loss, accuracy)."""
    import torch
    net.train()
    perm, total, correct = torch.randperm(len(xt), generator=gen), 0.0, 0
    for i in range(0, len(xt), batch_size):
        xb, yb = xt[perm[i:i + batch_size]], yt[perm[i:i + batch_size]]  # as the flat loop
        optimizer.zero_grad(set_to_none=True)
        out = net(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        correct += int((out.argmax(dim=1) == yb).sum())
    return total / len(xt), correct / len(xt)


def keras_epochs(x, y, w, batch_size, seed):
    from tensorflow import keras
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.set_weights(list(w))
    return lambda: last_epoch(model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=True,
                                        verbose=0).history)


def available(name):
    """Import the library behind ``name`` (TensorFlow CPU only, its C-level log lines hidden)."""
    os.environ.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    module = {"torch": "torch", "keras": "tensorflow"}.get(name, "numpy")
    stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # TensorFlow 2.21 logs before it reads TF_CPP_MIN_LOG_LEVEL
    try:
        __import__(module)
    except ImportError:
        module = None
    os.dup2(stderr, 2)
    os.close(devnull)
    if module is None:
        print(f"skipping {name}: it is not installed")
    return module is not None


def blas_info():
    """The BLAS library numpy was built with, and its thread count if it is OpenBLAS."""
    blas, threads = np.show_config(mode="dicts")["Build Dependencies"]["blas"], "?"
    for lib in glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")):
        get = getattr(ctypes.CDLL(lib), "scipy_openblas_get_num_threads64_", None)
        threads = get() if get else threads
    return f"{blas['name']} {blas.get('version', '')}, {threads} threads"


def timing_parser():
    """The options every side-by-side script takes: --batch-sizes and --repeats."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=10)
    return parser


def training_data():
    """(x, y, w): the 60 000 preprocessed MNIST training images, their labels, and the initial
    weights (W1, b1, W2, b2) that every implementation starts from."""
    (x, y), _ = load_mnist()
    d1, d2 = Dense(784, 128, rng=0), Dense(128, 10, rng=1)
    return preprocess(x), y, (d1.weights, d1.biases, d2.weights, d2.biases)


def print_header(*versions):
    """NumPy's BLAS and the machine, the lines in ``versions``, then a warning about busy machines."""
    print(f"numpy {np.__version__}, BLAS {blas_info()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    for line in versions:
        print(line)
    print("warning: other processes distort the timings: run it on a quiet machine, more than once")


def main():
    parser = timing_parser()
    makers = {"nnlib": nnlib_epochs, "flat": flat_epochs, "torch": torch_epochs, "keras": keras_epochs}
    parser.add_argument("--only", nargs="+", choices=list(makers), default=list(makers))
    args = parser.parse_args()
    names = [name for name in args.only if available(name)]

    x, y, w = training_data()
    versions = []
    if "torch" in names:
        import torch
        versions.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if "keras" in names:
        import tensorflow as tf
        versions.append(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
    print_header(*versions)

    runs = {(name, b): makers[name](x, y, w, b, seed=1) for b in args.batch_sizes for name in names}
    times, results = interleaved(runs, names, args.batch_sizes, args.repeats)

    print_table(times, results)
    if "nnlib" in names:
        print(f"\nnnlib's time / the other's, {args.repeats} repeats: the ratio of the best times, then "
              "the median [lowest, highest] of the ratios within one repeat (target in brackets)")
        for b in args.batch_sizes:
            print(f"batch {b:>4}: " + ",  ".join(ratio_line(times, "nnlib", other, b, TARGETS.get(other))
                                                for other in names if other != "nnlib"))


def interleaved(runs, names, batch_sizes, repeats):
    """Time ``runs[name, batch_size]()`` ``repeats`` times each after one untimed warm-up, every
    name in turn for each batch size, in an order rotated from repeat to repeat.

    Returns ({(name, b): [seconds, ...]}, {(name, b): what the last run returned}).
    """
    for run in runs.values():
        run()  # warm-up: first-call costs, graph tracing
    times, results = {key: [] for key in runs}, {}
    for repeat in range(repeats):
        order = names[repeat % len(names):] + names[:repeat % len(names)]
        for b in batch_sizes:
            for name in order:
                start = time.perf_counter()
                results[name, b] = runs[name, b]()
                times[name, b].append(time.perf_counter() - start)
    return times, results


def print_table(times, results):
    """Best and median seconds per epoch, and the (loss, accuracy) each run returned last."""
    width = max(len("implementation"), *(len(name) for name, _ in times))
    print(f"\n{'batch':>5} {'implementation':<{width}} {'best s/ep':>9} {'median':>7} {'last loss':>9} "
          f"{'accuracy':>8}")
    for (name, b), t in times.items():
        loss, acc = results[name, b]
        print(f"{b:>5} {name:<{width}} {min(t):>9.3f} {statistics.median(t):>7.3f} {loss:>9.4f} "
              f"{acc:>8.4f}")


def ratio_line(times, mine, other, b, target=None):
    """``mine``'s time over ``other``'s at batch size ``b``: best over best, then per repeat.

    Both timings of a repeat were taken seconds apart, so a busy spell of the machine slows both
    and largely cancels out of their ratio; the best times can come from different spells.
    """
    paired = sorted(m / o for m, o in zip(times[mine, b], times[other, b]))
    return (f"{mine}/{other} {min(times[mine, b]) / min(times[other, b]):.2f}, "
            f"per repeat {statistics.median(paired):.2f} [{paired[0]:.2f}, {paired[-1]:.2f}]"
            + (f" (≤ {target:.2f})" if target is not None else ""))


if __name__ == "__main__":
    main()
