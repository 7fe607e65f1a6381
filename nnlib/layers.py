"""Layers with a forward and a backward pass. Dense: chapters 02 and 05; Dropout: chapter 13;
Conv2D, MaxPool2D and Flatten: chapter 14.

Every ``backward(dout)`` receives dL/d(output) and returns dL/d(input), and sets (never
accumulates) the gradients of the layer's parameters.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import floating_dtype, fraction, pair, positive, shape_text


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

    def output_shape(self, input_shape):
        """(n_outputs,) for one example of shape (n_inputs,); ValueError for any other shape.

        ``input_shape`` leaves out the batch axis; None stands for a size that is not known yet.
        Model calls this for every layer it is given, so that a misfit is found at once.
        """
        if input_shape is not None and len(input_shape) != 1:
            flat = _product(input_shape)
            raise ValueError(f"{self!r} cannot follow outputs of shape {shape_text(input_shape)}: "
                             f"it takes flat vectors; put Flatten() before it"
                             + (f", which gives {flat} values: Dense({flat} → …)" if flat else ""))
        if input_shape is not None and input_shape[0] not in (None, self.n_inputs):
            raise ValueError(f"{self!r} cannot follow a layer with {input_shape[0]} outputs: "
                             f"expected Dense({input_shape[0]} → …)")
        return (self.n_outputs,)

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


def _product(shape):
    """The number of values in an example of this shape, or None if a size is not known."""
    return None if None in shape else math.prod(shape)


def _check_images(layer, x, channels=None):
    """x as an array of images (N, C, H, W), or a ValueError that names the layer and the shape."""
    x = np.asarray(x)
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        expected = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        raise ValueError(f"{layer!r} got input of shape {x.shape}: expected {expected} images")
    return x


def _windows_fit(layer, height, width, window, padding=0):
    """Raise unless a (kh, kw) window fits in images of height × width (plus padding)."""
    kh, kw = window
    too_high = height is not None and height + 2 * padding < kh
    too_wide = width is not None and width + 2 * padding < kw
    if too_high or too_wide:
        border = f" with padding {padding}" if padding else ""
        raise ValueError(f"{layer!r} got images of {height}×{width} pixels{border}: smaller than "
                         f"its {kh}×{kw} window")


def _out_size(size, window, stride, padding=0):
    """How many positions a window of ``window`` pixels takes along ``size`` pixels."""
    return None if size is None else (size + 2 * padding - window) // stride + 1


def _offset_view(images, i, j, stride, out_hw):
    """The entries at offset (i, j) of every window, (N, H_out, W_out, C), as a view of images
    (N, H, W, C) whose windows start every ``stride`` pixels."""
    h_out, w_out = out_hw
    return images[:, i:i + stride * (h_out - 1) + 1:stride, j:j + stride * (w_out - 1) + 1:stride]


class Conv2D:
    """y[n, f] = b[f] + Σ_c x[n, c] ⋆ W[f, c]: every filter f slides over every image with the given
    stride (⋆ is cross-correlation, as in PyTorch and Keras) after ``padding`` rows and columns of
    zeros are added around it. He initialisation.

    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, H_out, W_out) with
    H_out = (H + 2·padding − kh) // stride + 1 (and W_out alike); weights
    (out_channels, in_channels, kh, kw), biases (out_channels,). ``kernel_size`` is kh = kw or a
    pair (kh, kw). Introduced in chapter 14.

    How it is computed: im2col copies every window of the images into one row of a matrix, so that
    the whole layer is one matrix product; the backward pass sends each kernel offset's share of
    the gradient back to the pixels it read, one strided addition per offset (col2im).
    """

    param_names = ("weights", "biases")

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, padding=0, rng=None,
                 dtype=np.float32):
        self.in_channels = int(positive(in_channels, "Conv2D in_channels", integer=True))
        self.out_channels = int(positive(out_channels, "Conv2D out_channels", integer=True))
        self.kernel_size = tuple(int(k) for k in pair(kernel_size, "Conv2D kernel_size"))
        self.stride = int(positive(stride, "Conv2D stride", integer=True))
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) \
                or not 0 <= padding < min(self.kernel_size):
            largest = min(self.kernel_size) - 1
            raise ValueError(f"Conv2D padding must be an integer from 0 to {largest} (one less "
                             f"than the kernel: a wider border only adds outputs that see nothing "
                             f"but zeros), got {padding!r}")
        self.padding = int(padding)
        self.dtype = floating_dtype(dtype, "Conv2D dtype")
        rng = np.random.default_rng(rng)
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        # He et al. (2015) again: each output sums in_channels · kh · kw inputs
        scale = np.sqrt(2.0 / (self.in_channels * kh * kw))
        self.weights = aligned_zeros(shape, self.dtype)
        self.weights[...] = rng.standard_normal(shape) * scale
        self.biases = aligned_zeros(self.out_channels, self.dtype)
        self.dweights = np.zeros_like(self.weights)
        self.dbiases = np.zeros_like(self.biases)
        self.cols = None

    def __repr__(self):
        kh, kw = self.kernel_size
        extra = "".join(f", {name}={value}" for name, value, default in
                        (("stride", self.stride, 1), ("padding", self.padding, 0))
                        if value != default)
        return f"Conv2D({self.in_channels} → {self.out_channels}, {kh}×{kw}{extra})"

    def config(self):
        """Constructor arguments, as stored in model.json."""
        kh, kw = self.kernel_size
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": kh if kh == kw else [kh, kw], "stride": self.stride,
                "padding": self.padding, "dtype": self.dtype.name}

    def output_shape(self, input_shape):
        """(out_channels, H_out, W_out) for one image of shape (in_channels, H, W)."""
        if input_shape is None:
            return (self.out_channels, None, None)
        if len(input_shape) != 3 or input_shape[0] not in (None, self.in_channels):
            raise ValueError(f"{self!r} cannot follow outputs of shape {shape_text(input_shape)}: "
                             f"expected ({self.in_channels}, H, W) images")
        _, h, w = input_shape
        _windows_fit(self, h, w, self.kernel_size, self.padding)
        kh, kw = self.kernel_size
        return (self.out_channels, _out_size(h, kh, self.stride, self.padding),
                _out_size(w, kw, self.stride, self.padding))

    # Speed trick, and what it costs in clarity: inside forward and backward the images are
    # handled as (N, H, W, C), a transposed view of the (N, C, H, W) array, and the layer returns
    # its output and dL/dx as transposed views too. In memory a pixel's channels then sit side by
    # side, so im2col copies runs of kw · C numbers and col2im adds runs of W_out · C, where the
    # (N, C, H, W) layout moves 5 or 8 numbers at a time: in chapter 15's CNN, im2col became 5 to
    # 7 times faster and col2im 3.5 to 4 times (benchmarks/README.md). The price: every index
    # below reads in (N, H, W, C) order, and the kernel matrix lists its rows in (kh, kw, C) order.
    def forward(self, x):
        """x (N, in_channels, H, W) -> y (N, out_channels, H_out, W_out)."""
        x = _check_images(self, x, self.in_channels)
        _windows_fit(self, x.shape[2], x.shape[3], self.kernel_size, self.padding)
        kh, kw, s, p = *self.kernel_size, self.stride, self.padding
        x_nhwc = x.transpose(0, 2, 3, 1)
        if p:
            x_nhwc = np.pad(x_nhwc, ((0, 0), (p, p), (p, p), (0, 0)))
        # every kh × kw window, as a view (N, H_out, W_out, C, kh, kw): no copy yet
        windows = sliding_window_view(x_nhwc, (kh, kw), axis=(1, 2))[:, ::s, ::s]
        n, h_out, w_out, c = windows.shape[:4]
        # im2col: one row per output pixel, (kh, kw, C) numbers per row; the one copy
        self.cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h_out * w_out, kh * kw * c)
        self._padded_shape = x_nhwc.shape
        out = self.cols @ self.weights.transpose(2, 3, 1, 0).reshape(kh * kw * c, -1)
        out += self.biases
        return out.reshape(n, h_out, w_out, -1).transpose(0, 3, 1, 2)

    def backward(self, dout, *, input_grad=True):
        """dout (N, out_channels, H_out, W_out) -> dL/dx (N, in_channels, H, W); sets
        dweights = colsᵀ dout (reshaped like the weights) and dbiases = Σ dout over N, H_out, W_out.

        ``input_grad=False`` skips dL/dx (and returns None), as for Dense: Model.fit does that for
        the first layer.
        """
        if self.cols is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        kh, kw, s, p = *self.kernel_size, self.stride, self.padding
        n, h_pad, w_pad, c = self._padded_shape
        dout = np.asarray(dout).transpose(0, 2, 3, 1)  # (N, H_out, W_out, F)
        h_out, w_out, f = dout.shape[1:]
        dout = dout.reshape(-1, f)  # a view when dout came from the next layer's backward
        dweights = (self.cols.T @ dout).reshape(kh, kw, c, f)
        self.dweights = np.ascontiguousarray(dweights.transpose(3, 2, 0, 1))
        # Σ dout over its rows as a matrix-vector product: sum(axis=0) adds the N · H_out · W_out
        # rows one after another, out_channels numbers at a time, and took 5 to 10 times as long
        self.dbiases = np.ones(len(dout), dout.dtype) @ dout
        if not input_grad:
            return None
        # col2im: the pixels that kernel offset (i, j) read, x[:, y·s + i, x·s + j, :], receive
        # dout @ W[:, :, i, j]; where windows overlap, a pixel adds up the shares of every window
        dx = np.zeros((n, h_pad, w_pad, c), dtype=np.result_type(dout, self.weights))
        for i in range(kh):
            for j in range(kw):
                share = dout @ self.weights[:, :, i, j]
                _offset_view(dx, i, j, s, (h_out, w_out))[...] += share.reshape(n, h_out, w_out, c)
        return dx[:, p:h_pad - p, p:w_pad - p].transpose(0, 3, 1, 2)


class MaxPool2D:
    """y[n, c, i, j] = the largest x[n, c] in the pool_size × pool_size window at
    (i · stride, j · stride); stride defaults to pool_size (windows side by side).

    Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out), H_out = (H − pool_size) // stride + 1
    (and W_out alike). No parameters. The gradient of each window goes to its largest input; of
    equal largest inputs, to the first one (row by row), as in PyTorch and Keras.
    Introduced in chapter 14.
    """

    param_names = ()

    def __init__(self, pool_size=2, stride=None):
        self.pool_size = int(positive(pool_size, "MaxPool2D pool_size", integer=True))
        self.stride = self.pool_size if stride is None else int(
            positive(stride, "MaxPool2D stride", integer=True))
        self.argmax = None

    def __repr__(self):
        return f"MaxPool2D({self.pool_size}" + (
            f", stride={self.stride})" if self.stride != self.pool_size else ")")

    def config(self):
        """Constructor arguments, as stored in model.json."""
        return {"pool_size": self.pool_size, "stride": self.stride}

    def output_shape(self, input_shape):
        """(C, H_out, W_out) for one image of shape (C, H, W)."""
        if input_shape is None:
            return (None, None, None)
        if len(input_shape) != 3:
            raise ValueError(f"{self!r} cannot follow outputs of shape {shape_text(input_shape)}: "
                             "expected (C, H, W) images")
        c, h, w = input_shape
        _windows_fit(self, h, w, (self.pool_size, self.pool_size))
        p, s = self.pool_size, self.stride
        return (c, _out_size(h, p, s), _out_size(w, p, s))

    # Speed trick: the same (N, H, W, C) view as in Conv2D (the channels of a pixel side by side),
    # so that the loops below move rows of C numbers; Conv2D's output arrives in that layout.
    def forward(self, x):
        """x (N, C, H, W) -> y (N, C, H_out, W_out); remembers which entry of each window won."""
        x = _check_images(self, x)
        p = self.pool_size
        self._out_hw = self.output_shape(x.shape[1:])[1:]
        x_nhwc = x.transpose(0, 2, 3, 1)
        self._input_shape = x_nhwc.shape
        # offset k = (k // p, k % p) of every window at once, row by row through the window
        out = _offset_view(x_nhwc, 0, 0, self.stride, self._out_hw).copy()
        self.argmax = np.zeros(out.shape, dtype=np.min_scalar_type(p * p))
        for k in range(1, p * p):
            candidate = _offset_view(x_nhwc, k // p, k % p, self.stride, self._out_hw)
            larger = candidate > out  # strictly: of equal entries the first one stays the winner
            np.maximum(out, candidate, out=out)
            # argmax = k where larger, written as arithmetic: k grows, so the largest k that beat
            # the running maximum is the winner. It costs a second look; np.where or a masked
            # copy reads plainer but made this forward pass 3 to 4 times slower
            np.maximum(self.argmax, larger * self.argmax.dtype.type(k), out=self.argmax)
        return out.transpose(0, 3, 1, 2)

    def backward(self, dout):
        """dout (N, C, H_out, W_out) -> dL/dx (N, C, H, W): each window's gradient goes to the
        entry that won it in forward, every other entry gets 0."""
        if self.argmax is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        dout = np.asarray(dout).transpose(0, 2, 3, 1)
        dx = np.zeros(self._input_shape, dtype=dout.dtype)
        p = self.pool_size
        for k in range(p * p):
            # += rather than =: with stride < pool_size the windows overlap and share entries
            _offset_view(dx, k // p, k % p, self.stride, self._out_hw)[...] += \
                (self.argmax == k) * dout
        return dx.transpose(0, 3, 1, 2)


class Flatten:
    """y[n] = x[n] read row by row: (N, C, H, W) -> (N, C·H·W), in the order (c, h, w), as
    PyTorch's Flatten. Backward reshapes the gradient back. No parameters.

    Introduced in chapter 14.
    """

    param_names = ()

    def __init__(self):
        self._input_shape = None

    def __repr__(self):
        return "Flatten()"

    def config(self):
        """Constructor arguments, as stored in model.json: none."""
        return {}

    def output_shape(self, input_shape):
        """(C·H·W,) for one example of shape (C, H, W); (None,) while a size is not known."""
        return (None,) if input_shape is None else (_product(input_shape),)

    def forward(self, x):
        """x (N, ...) -> (N, number of values per example)."""
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"{self!r} got input of shape {x.shape}: expected a batch (N, ...) "
                             "of examples")
        self._input_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout):
        """dout (N, C·H·W) -> (N, C, H, W), the shape forward was given."""
        if self._input_shape is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        return np.asarray(dout).reshape(self._input_shape)
