"""Activation functions. Introduced in chapter 03; backward in chapter 05."""

import numpy as np

from ._validate import as_2d, shape_text


def softmax(z):
    """softmax(z)_ij = exp(z_ij - max_j z_ij) / Σ_k exp(z_ik - max_j z_ij); z (N, C) -> (N, C)."""
    # subtract the row max: exp overflows above ~88 in float32 and ~709 in float64
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class ReLU:
    """y = max(0, x), element-wise. Shapes: x (N, D) -> y (N, D). Introduced in chapter 03."""

    param_names = ()

    def __repr__(self):
        return "ReLU()"

    def config(self):
        return {}

    def forward(self, x):
        x = np.asarray(x)
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout):
        """dL/dx = dout where x > 0, else 0."""
        return dout * self.mask


class Softmax:
    """p = softmax(z) row by row, stable for any logits. Shapes: z (N, C) -> p (N, C).

    Introduced in chapter 03.
    """

    param_names = ()

    def __repr__(self):
        return "Softmax()"

    def config(self):
        return {}

    def output_shape(self, input_shape):
        """The shape it was given: (classes,) scores become (classes,) probabilities."""
        if input_shape is not None and len(input_shape) != 1:
            raise ValueError(f"{self!r} cannot follow outputs of shape {shape_text(input_shape)}: "
                             "it turns (N, classes) scores into probabilities; put Flatten() and "
                             "a Dense layer before it")
        return input_shape

    def forward(self, z):
        self.output = softmax(as_2d(z, "Softmax"))
        return self.output

    def backward(self, dout):
        """dL/dz = p ⊙ (dout − Σ_j dout_j p_j), the Jacobian-vector product for every row at once."""
        p = self.output
        return p * (dout - (dout * p).sum(axis=1, keepdims=True))
