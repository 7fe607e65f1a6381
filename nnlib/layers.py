"""The fully connected layer. Introduced in chapter 02; backward in chapter 05."""

import numpy as np

from ._validate import floating_dtype, fraction, positive


def aligned_zeros(shape, dtype):
    """Zeros whose data starts on a 64-byte boundary, the size of a cache line.

    NumPy only promises 16 bytes. With two BLAS threads, training with weights that straddle cache
    lines was measured 25 % slower (benchmarks/README.md); with one thread it makes no difference.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buffer = np.zeros(nbytes + 64, dtype=np.uint8)
    start = -buffer.ctypes.data % 64
    return buffer[start:start + nbytes].view(dtype).reshape(shape)


class Dense:
    """y = x W + b, a fully connected layer with He initialisation.

    Shapes: x (N, n_inputs) -> y (N, n_outputs); weights (n_inputs, n_outputs), biases (n_outputs,).
    Introduced in chapter 02.
    """

    param_names = ("weights", "biases")

    def __init__(self, n_inputs, n_outputs, *, rng=None, dtype=np.float32):
        self.n_inputs = positive(n_inputs, "Dense n_inputs", integer=True)
        self.n_outputs = positive(n_outputs, "Dense n_outputs", integer=True)
        self.dtype = floating_dtype(dtype, "Dense dtype")
        rng = np.random.default_rng(rng)
        # He et al. (2015): variance 2/n_inputs keeps the signal's size through ReLU layers
        scale = np.sqrt(2.0 / n_inputs)
        self.weights = aligned_zeros((n_inputs, n_outputs), self.dtype)
        self.weights[...] = rng.standard_normal((n_inputs, n_outputs)) * scale
        self.biases = aligned_zeros(n_outputs, self.dtype)
        self.dweights = np.zeros_like(self.weights)
        self.dbiases = np.zeros_like(self.biases)
        self.inputs = None

    def __repr__(self):
        return f"Dense({self.n_inputs} → {self.n_outputs})"

    def config(self):
        """Constructor arguments, as stored in model.json."""
        return {"n_inputs": self.n_inputs, "n_outputs": self.n_outputs, "dtype": self.dtype.name}

    def forward(self, x):
        """x (N, n_inputs) -> x W + b (N, n_outputs)."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"{self!r} got input of shape {x.shape}: expected {self.n_inputs} "
                             "features in a 2-D array (batch, features)")
        self.inputs = x
        out = x @ self.weights
        out += self.biases  # in place: no second (N, n_outputs) array
        return out

    def backward(self, dout, *, input_grad=True):
        """dout (N, n_outputs) -> dL/dx (N, n_inputs); sets dweights = xᵀ dout, dbiases = Σ dout.

        ``input_grad=False`` skips dL/dx (and returns None): Model.fit does that for the first
        layer, whose input gradient nothing uses.
        """
        if self.inputs is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        self.dweights = self.inputs.T @ dout
        self.dbiases = dout.sum(axis=0)
        return dout @ self.weights.T if input_grad else None


class Dropout:
    """Inverted dropout: while training y = x ⊙ m / (1 − rate), m_ij ~ Bernoulli(1 − rate);
    otherwise y = x. Dividing by 1 − rate keeps E[y] = x, so evaluation needs no rescaling.

    Shapes: x (N, D) -> y (N, D). ``Model.train_step`` switches ``training`` on for its own
    forward and backward pass only; everything else (predict, evaluate, forward) sees y = x.
    Introduced in chapter 13.
    """

    param_names = ()

    def __init__(self, rate=0.5, *, rng=None):
        self.rate = float(fraction(rate, "Dropout rate"))
        self.rng = np.random.default_rng(rng)
        self.training = False
        self.mask = None

    def __repr__(self):
        return f"Dropout({self.rate:g})"

    def config(self):
        return {"rate": self.rate}

    def forward(self, x):
        x = np.asarray(x)
        if not self.training or self.rate == 0:
            self.mask = None
            return x
        keep = 1 - self.rate
        self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * self.mask

    def backward(self, dout):
        """dL/dx = dout ⊙ m / (1 − rate): the same mask as the forward pass."""
        return dout if self.mask is None else dout * self.mask
