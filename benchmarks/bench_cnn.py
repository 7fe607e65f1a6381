"""Chapter 15's CNN in nnlib, PyTorch (CPU) and Keras, side by side, and where nnlib's time goes.

    python benchmarks/bench_cnn.py [--batch-sizes 64 256] [--repeats 5] [--train-size 12800]
                                   [--only nnlib torch keras] [--threads N] [--profile]

Every library trains the same network from the same initial weights, float32, with Adam
(learning rate 0.001) and softmax cross-entropy, reshuffling every epoch and computing the loss
and accuracy of every batch (as ``Model.fit`` does):

    Conv2D(1 → 16, 5×5), ReLU, MaxPool2D(2) -> (16, 12, 12)
    Conv2D(16 → 32, 5×5), ReLU, MaxPool2D(2) -> (32, 4, 4)
    Flatten -> 512, Dense(512 → 128), ReLU, Dropout(0.25), Dense(128 → 10)

One "epoch" here is one pass over the first ``--train-size`` MNIST training images, so that a
timed run takes seconds; the table also gives the seconds a full epoch of chapter 15's 50 000
training images would take at that speed (time × 50 000 / train-size), an extrapolation that leaves
out the evaluation of the validation set after each epoch. The timing is that of
bench_side_by_side.py: one untimed warm-up epoch each, then ``--repeats`` rounds in which every
library trains one epoch at every batch size, in an order rotated from round to round, so that a
busy spell of the machine is shared out; the ratios are nnlib's time over the other's, best over
best and within each round.

``--threads N`` runs every library with N threads (OpenBLAS for NumPy, PyTorch's and TensorFlow's
thread pools); the default is each library's own choice, one thread per core.
``--profile`` then times each layer of nnlib's forward and backward passes, and the steps inside
Conv2D and MaxPool2D, at each batch size. PyTorch and TensorFlow are optional: a missing one is
skipped. Timings are never asserted.
"""

import os
import sys

if "--threads" in sys.argv[:-1]:  # before NumPy starts its BLAS threads
    _threads = sys.argv[sys.argv.index("--threads") + 1]
    os.environ.update(OPENBLAS_NUM_THREADS=_threads, OMP_NUM_THREADS=_threads,
                      MKL_NUM_THREADS=_threads)

import argparse  # noqa: E402
import collections  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from bench_side_by_side import (available, interleaved, print_header, torch_epoch,  # noqa: E402
                                print_table, ratio_line)
from nnlib import Adam, load_mnist, preprocess  # noqa: E402
from nnlib.train import build_cnn  # noqa: E402

TARGETS = {64: 2.0, 256: 3.0}  # nnlib's time / PyTorch's should not exceed these
FULL_EPOCH = 50_000            # chapter 15's training images per epoch


def training_data(size):
    """(x, y, weights): the first ``size`` training images (N, 1, 28, 28) float32, their labels,
    and the initial parameters of chapter 15's CNN (nnlib's layouts), shared by every library."""
    (x, y), _ = load_mnist()
    model = build_cnn(seed=0)
    weights = [getattr(layer, name).copy() for layer in model.layers for name in layer.param_names]
    return preprocess(x[:size], keep_shape=True), y[:size].astype(np.int64), weights


def nnlib_epochs(x, y, weights, batch_size, seed):
    model = build_cnn(seed=seed)
    for param, value in zip((getattr(l, n) for l in model.layers for n in l.param_names), weights):
        param[...] = value
    optimizer, seeds = Adam(1e-3), itertools.count(seed)

    def epoch():
        history = model.fit(x, y, epochs=1, batch_size=batch_size, optimizer=optimizer,
                            seed=next(seeds), verbose=False)
        return history["loss"][-1], history["accuracy"][-1]
    return epoch


def torch_epochs(x, y, weights, batch_size, seed):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(512, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
    with torch.no_grad():  # the same layouts as nnlib, except Dense's (in, out) weights
        for param, value in zip(net.parameters(), weights):
            value = value.T if value.ndim == 2 else value
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    xt, yt, gen = torch.from_numpy(x), torch.from_numpy(y), torch.Generator()
    gen.manual_seed(seed)

    return lambda: torch_epoch(net, optimizer, loss_fn, xt, yt, gen, batch_size)


def keras_epochs(x, y, weights, batch_size, seed):
    from tensorflow import keras
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(32, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.Permute((3, 1, 2)), layers.Flatten(),  # (c, h, w) order, as nnlib and PyTorch
        layers.Dense(128, activation="relu"), layers.Dropout(0.25), layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    # Keras's kernels are (kh, kw, in, out) where nnlib's are (out, in, kh, kw)
    model.set_weights([w.transpose(2, 3, 1, 0) if w.ndim == 4 else w for w in weights])
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))

    def epoch():
        history = model.fit(x_nhwc, y, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
        return history.history["loss"][-1], history.history["accuracy"][-1]
    return epoch


def set_threads(names, threads):
    """Give PyTorch and TensorFlow ``threads`` threads (NumPy's were set before it started)."""
    if threads is None:
        return
    if "torch" in names:
        import torch
        torch.set_num_threads(threads)
    if "keras" in names:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


# --- where nnlib's time goes ----------------------------------------------------------------------
def timed(table, key, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    table[key] += time.perf_counter() - start
    return result


def profile_layers(x, y, weights, batch_size, steps=150):
    """Seconds per training step spent in each layer's forward and backward, in the optimizer and
    in the rest of Model.fit (batches, loss, checks), over ``steps`` steps after a warm-up."""
    table = collections.Counter()
    model = build_cnn()
    for param, value in zip((getattr(l, n) for l in model.layers for n in l.param_names), weights):
        param[...] = value
    for i, layer in enumerate(model.layers):
        for method in ("forward", "backward"):
            original = getattr(layer, method)
            setattr(layer, method, lambda *a, _f=original, _k=f"{i:>2} {layer!r} {method}", **kw:
                    timed(table, _k, _f, *a, **kw))
    optimizer = Adam(1e-3)
    step = optimizer.step
    optimizer.step = lambda layers: timed(table, "   Adam step", step, layers)
    n = min(len(x), steps * batch_size)
    model.fit(x[:n // 3], y[:n // 3], epochs=1, batch_size=batch_size, optimizer=optimizer,
              verbose=False)
    table.clear()
    start = time.perf_counter()
    model.fit(x[:n], y[:n], epochs=1, batch_size=batch_size, optimizer=optimizer, verbose=False)
    total = time.perf_counter() - start
    table["   the rest of Model.fit"] = total - sum(table.values())
    return {key: value * batch_size / n for key, value in table.items()}, total * batch_size / n


def median_time(fn, repeats):
    """Median seconds of ``repeats`` calls of fn, after one call to warm up."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def profile_steps(batch_size, repeats=50):
    """Seconds per call of each step inside Conv2D and MaxPool2D, on the shapes of chapter 15's
    CNN, written out as in nnlib/layers.py and timed one by one (median of ``repeats``)."""
    rng = np.random.default_rng(0)
    results = {}

    def median(fn):
        return median_time(fn, repeats)

    for c, f, size in ((1, 16, 28), (16, 32, 12)):
        out = size - 4
        # the input as the layer before hands it on: (N, H, W, C) in memory, seen as (N, C, H, W)
        x = rng.random((batch_size, size, size, c), dtype=np.float32).transpose(0, 3, 1, 2)
        w = rng.standard_normal((f, c, 5, 5)).astype(np.float32)
        x_nhwc = x.transpose(0, 2, 3, 1)
        cols = sliding_window_view(x_nhwc, (5, 5), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3) \
            .reshape(-1, 25 * c)
        kernel = w.transpose(2, 3, 1, 0).reshape(25 * c, f)
        dout = rng.standard_normal((len(cols), f)).astype(np.float32)
        name = f"Conv2D({c} → {f}, 5×5)"

        def col2im():
            dx = np.zeros((batch_size, size, size, c), np.float32)
            for i in range(5):
                for j in range(5):
                    dx[:, i:i + out, j:j + out] += (dout @ w[:, :, i, j]).reshape(
                        batch_size, out, out, c)

        results[f"{name} forward: im2col copy"] = median(
            lambda: sliding_window_view(x_nhwc, (5, 5), axis=(1, 2))
            .transpose(0, 1, 2, 4, 5, 3).reshape(-1, 25 * c))
        results[f"{name} forward: matrix product"] = median(lambda: cols @ kernel)
        results[f"{name} backward: dweights (matrix product)"] = median(lambda: cols.T @ dout)
        results[f"{name} backward: dbiases"] = median(
            lambda: np.ones(len(dout), np.float32) @ dout)
        if c > 1:  # the first layer's input gradient is never computed
            results[f"{name} backward: col2im, 25 products and strided adds"] = median(col2im)
    return results


def profile_tricks(batch_size, repeats=50):
    """Each speed trick of nnlib/layers.py against the plainer code it replaced, on the shapes of
    chapter 15's CNN: (plain seconds, nnlib's seconds) per call, medians of ``repeats``."""
    rng = np.random.default_rng(0)
    n, c, f, size, out = batch_size, 16, 32, 12, 8

    def median(fn):
        return median_time(fn, repeats)

    nchw = rng.random((n, c, size, size), dtype=np.float32)       # (N, C, H, W) in memory
    nhwc = np.ascontiguousarray(nchw.transpose(0, 2, 3, 1))       # (N, H, W, C) in memory
    w = rng.standard_normal((f, c, 5, 5)).astype(np.float32)
    dout = rng.standard_normal((n * out * out, f)).astype(np.float32)

    def col2im_nchw():  # every index in (C, N, H, W) order: rows of W_out numbers
        dx = np.zeros((c, n, size, size), np.float32)
        for i in range(5):
            for j in range(5):
                dx[:, :, i:i + out, j:j + out] += (w[:, :, i, j].T @ dout.T).reshape(c, n, out, out)

    def col2im_nhwc():  # as in Conv2D.backward: rows of W_out · C numbers
        dx = np.zeros((n, size, size, c), np.float32)
        for i in range(5):
            for j in range(5):
                dx[:, i:i + out, j:j + out] += (dout @ w[:, :, i, j]).reshape(n, out, out, c)

    pool_in = rng.standard_normal((n, 24, 24, c)).astype(np.float32)  # (N, H, W, C) in memory

    def pool(update):
        best = pool_in[:, 0::2, 0::2].copy()
        argmax = np.zeros(best.shape, np.uint8)
        for k in range(1, 4):
            candidate = pool_in[:, k // 2::2, k % 2::2]
            larger = candidate > best
            np.maximum(best, candidate, out=best)
            argmax = update(argmax, larger, k)

    def arithmetic(argmax, larger, k):
        return np.maximum(argmax, larger * np.uint8(k), out=argmax)

    def with_where(argmax, larger, k):
        return np.where(larger, np.uint8(k), argmax)

    def masked(argmax, larger, k):
        np.copyto(argmax, k, where=larger)
        return argmax

    conv1_in = rng.random((n, 28, 28, 1), dtype=np.float32)
    conv1_dout = rng.standard_normal((n * 24 * 24, 16)).astype(np.float32)
    windows = sliding_window_view(conv1_in, (5, 5), axis=(1, 2))
    return {
        "Conv2D(16 → 32) im2col, from (N, C, H, W), rows in (C, kh, kw) order": (
            median(lambda: sliding_window_view(nchw, (5, 5), axis=(2, 3))
                   .transpose(0, 2, 3, 1, 4, 5).reshape(-1, 400)),
            median(lambda: sliding_window_view(nhwc, (5, 5), axis=(1, 2))
                   .transpose(0, 1, 2, 4, 5, 3).reshape(-1, 400))),
        "Conv2D(16 → 32) col2im, 25 products and adds in (C, N, H, W)": (
            median(col2im_nchw), median(col2im_nhwc)),
        "MaxPool2D(2) forward on (N, 16, 24, 24), argmax by np.where": (
            median(lambda: pool(with_where)), median(lambda: pool(arithmetic))),
        "MaxPool2D(2) forward on (N, 16, 24, 24), argmax by a masked copy": (
            median(lambda: pool(masked)), median(lambda: pool(arithmetic))),
        "Conv2D(1 → 16) dbiases, sum(axis=0)": (
            median(lambda: conv1_dout.sum(axis=0)),
            median(lambda: np.ones(len(conv1_dout), np.float32) @ conv1_dout)),
        "not taken: Conv2D(1 → 16) im2col, one column per kernel entry (a transposed cols)": (
            median(lambda: windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, 25)),
            median(lambda: windows.transpose(4, 5, 3, 0, 1, 2).reshape(25, -1))),
    }


def print_profile(x, y, weights, batch_sizes):
    for b in batch_sizes:
        layers, step = profile_layers(x, y, weights, b)
        print(f"\nnnlib, batch {b}: {step * 1e3:.2f} ms per training step, by layer "
              "(ms per step, share):")
        for key, seconds in sorted(layers.items(), key=lambda kv: -kv[1]):
            if seconds / step >= 0.005:
                print(f"  {seconds * 1e3:7.3f}  {seconds / step:5.1%}  {key.strip()}")
        print(f"nnlib, batch {b}: steps inside the layers, timed alone (ms per call):")
        for key, seconds in profile_steps(b).items():
            print(f"  {seconds * 1e3:7.3f}  {key}")
        print(f"nnlib, batch {b}: the speed tricks, ms per call: plain code, nnlib's, ratio")
        for key, (plain, fast) in profile_tricks(b).items():
            print(f"  {plain * 1e3:7.3f} {fast * 1e3:7.3f} {plain / fast:5.1f}×  {key}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    makers = {"nnlib": nnlib_epochs, "torch": torch_epochs, "keras": keras_epochs}
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-size", type=int, default=12_800)
    parser.add_argument("--only", nargs="+", choices=list(makers), default=list(makers))
    parser.add_argument("--threads", type=int, help="threads for every library (default: theirs)")
    parser.add_argument("--profile", action="store_true",
                        help="also show where nnlib's time goes")
    args = parser.parse_args()
    names = [name for name in args.only if available(name)]
    set_threads(names, args.threads)

    x, y, weights = training_data(args.train_size)
    versions = [f"{len(x)} training images per timed epoch; s per {FULL_EPOCH:,}-image epoch "
                f"= time × {FULL_EPOCH / len(x):.3g}"]
    if "torch" in names:
        import torch
        versions.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if "keras" in names:
        import tensorflow as tf
        versions.append(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
    print_header(*versions)

    runs = {(name, b): makers[name](x, y, weights, b, seed=1)
            for b in args.batch_sizes for name in names}
    times, results = interleaved(runs, names, args.batch_sizes, args.repeats)
    print_table(times, results)
    scale = FULL_EPOCH / len(x)
    print(f"\nseconds per {FULL_EPOCH:,}-image epoch at this speed, median [best, worst]:")
    for (name, b), t in times.items():
        print(f"{b:>5} {name:<6} {np.median(t) * scale:6.1f} [{min(t) * scale:.1f}, "
              f"{max(t) * scale:.1f}]")
    if "nnlib" in names and len(names) > 1:
        print(f"\nnnlib's time / the other's, {args.repeats} repeats: the ratio of the best times, "
              "then the median [lowest, highest] of the ratios within one repeat (target in "
              "brackets)")
        for b in args.batch_sizes:
            print(f"batch {b:>4}: " + ",  ".join(
                ratio_line(times, "nnlib", other, b, TARGETS.get(b) if other == "torch" else None)
                for other in names if other != "nnlib"))
    if args.profile:
        print_profile(x, y, weights, args.batch_sizes)


if __name__ == "__main__":
    main()
