"""What nnlib's two no-overwrite rules cost, against the flat NumPy loop of bench_side_by_side.py.

    python benchmarks/bench_in_place.py [--batch-sizes 64 256] [--repeats 10]

nnlib keeps two rules that the flat loop does not have to keep:
- an optimizer leaves the gradients alone (``layer.dweights`` still holds the gradient after
  ``optimizer.step``; chapter 07's check rejects an SGD that scales it in place), so SGD computes
  η·g into a new array;
- a layer leaves its input alone, so ReLU returns a new array and keeps a mask, and its backward
  returns a new array too.

This script times one epoch of the flat loop, of nnlib's ``Model.fit`` as it is, and of
``Model.fit`` with each rule dropped (a ReLU and an SGD that overwrite their arguments, as the flat
loop does) and with both dropped. What is left between "both in place" and the flat loop is the
cost of nnlib's function calls and checks. Same training, timing and output as
bench_side_by_side.py; the ratios are each variant's time over the flat loop's.
"""

import functools

import numpy as np

from bench_side_by_side import (flat_epochs, interleaved, nnlib_epochs, print_header, print_table,
                                ratio_line, timing_parser, training_data)
from nnlib import SGD, ReLU


class ReLUInPlace(ReLU):
    """ReLU that overwrites its input with the output and the incoming gradient with its own."""

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, 0, out=x)

    def backward(self, dout):
        dout *= self.mask
        return dout


class SGDInPlace(SGD):
    """Plain SGD that scales each gradient array in place before subtracting it."""

    def _update(self, key, param, grad):
        grad *= self.learning_rate
        param -= grad


VARIANTS = {
    "flat": flat_epochs,
    "nnlib": nnlib_epochs,
    "nnlib, ReLU in place": functools.partial(nnlib_epochs, relu=ReLUInPlace),
    "nnlib, SGD in place": functools.partial(nnlib_epochs, sgd=SGDInPlace),
    "nnlib, both in place": functools.partial(nnlib_epochs, relu=ReLUInPlace, sgd=SGDInPlace),
}


def main():
    args = timing_parser().parse_args()
    x, y, w = training_data()
    print_header()
    names = list(VARIANTS)
    runs = {(name, b): VARIANTS[name](x, y, w, b, seed=1) for b in args.batch_sizes for name in names}
    times, results = interleaved(runs, names, args.batch_sizes, args.repeats)
    print_table(times, results)
    print(f"\nEach variant's time / the flat loop's, {args.repeats} repeats: the ratio of the best "
          "times, then the median [lowest, highest] of the ratios within one repeat")
    for b in args.batch_sizes:
        for name in names[1:]:
            print(f"batch {b:>4}: " + ratio_line(times, name, "flat", b))


if __name__ == "__main__":
    main()
