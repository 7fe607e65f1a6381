"""Speed and memory of training 784 → 128 ReLU → 10 on MNIST with nnlib (not a test: numbers only).

    python benchmarks/bench_training.py [--epochs 3] [--batch-sizes 32 64 128 512]

Prints wall time per epoch for each batch size, the peak resident memory of the process, and the
time of the softmax backward: vectorised vs a per-sample Jacobian loop.
"""

import argparse
import resource
import time

import numpy as np

from nnlib import SGD, Softmax, load_mnist, preprocess
from nnlib.train import build_model


def per_sample_jacobian_backward(p, dout):
    return np.array([(np.diagflat(pi) - np.outer(pi, pi)) @ di for pi, di in zip(p, dout)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 512])
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train, x_test = preprocess(x_train), preprocess(x_test)
    print(f"{'batch':>6} {'s/epoch':>8} {'test acc':>9}")
    for batch_size in args.batch_sizes:
        model = build_model(128, seed=0)
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=batch_size,
                  optimizer=SGD(0.05, momentum=0.9), seed=0, verbose=False)
        per_epoch = (time.perf_counter() - start) / args.epochs
        print(f"{batch_size:>6} {per_epoch:>8.2f} {model.evaluate(x_test, y_test)[1]:>9.4f}")

    rng = np.random.default_rng(0)
    z, dout = rng.standard_normal((1024, 10)).astype(np.float32), rng.standard_normal((1024, 10))
    sm = Softmax()
    p = sm.forward(z)
    for name, fn in (("vectorised", lambda: sm.backward(dout)),
                     ("per-sample Jacobian loop", lambda: per_sample_jacobian_backward(p, dout))):
        start = time.perf_counter()
        for _ in range(20):
            fn()
        print(f"softmax backward, batch 1024, {name}: {(time.perf_counter() - start) / 20 * 1e3:.2f} ms")
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
