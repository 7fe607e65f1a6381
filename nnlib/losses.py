"""Losses and accuracy. Introduced in chapter 04; gradients in chapter 05."""

import numpy as np

from ._validate import as_2d, class_ids, same_batch
from .activations import softmax


class CategoricalCrossEntropy:
    """L = −(1/N) Σ_i log p_i,y_i on probabilities, clipped to [eps, 1 − eps].

    Shapes: y_pred (N, C) probabilities; y_true (N,) class ids or (N, C) one-hot -> scalar.
    Introduced in chapter 04.
    """

    def __init__(self, eps=1e-7):
        # log(0) = −inf and 1/0 = inf: clipping keeps both the loss and its gradient finite
        self.eps = eps

    def forward(self, y_pred, y_true):
        y_pred = as_2d(y_pred, "CategoricalCrossEntropy")
        y = class_ids(y_true, y_pred.shape[1], "CategoricalCrossEntropy")
        same_batch(y_pred, y, "CategoricalCrossEntropy")
        p = np.clip(y_pred[np.arange(len(y)), y], self.eps, 1 - self.eps)
        return float(-np.log(p).mean())

    def backward(self, y_pred, y_true):
        """dL/dy_pred = −one_hot / (N · clip(y_pred)), shape (N, C)."""
        y_pred = as_2d(y_pred, "CategoricalCrossEntropy")
        n, c = y_pred.shape
        y = class_ids(y_true, c, "CategoricalCrossEntropy")
        same_batch(y_pred, y, "CategoricalCrossEntropy")
        grad = np.zeros_like(y_pred)
        rows = np.arange(n)
        grad[rows, y] = -1.0 / (n * np.clip(y_pred[rows, y], self.eps, 1 - self.eps))
        return grad


class SoftmaxCrossEntropy:
    """Softmax followed by cross-entropy, on logits: L = (1/N) Σ_i (logsumexp(z_i) − z_i,y_i).

    Exact for any logits (no clipping needed). Shapes: logits (N, C); y_true (N,) or (N, C).
    The gradient is simply (softmax(z) − one_hot) / N. Introduced in chapter 05.
    """

    def forward(self, logits, y_true):
        z = as_2d(logits, "SoftmaxCrossEntropy")
        y = class_ids(y_true, z.shape[1], "SoftmaxCrossEntropy")
        same_batch(z, y, "SoftmaxCrossEntropy")
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())

    def backward(self, logits, y_true):
        """dL/dz = (softmax(z) − one_hot) / N, shape (N, C)."""
        z = as_2d(logits, "SoftmaxCrossEntropy")
        n, c = z.shape
        y = class_ids(y_true, c, "SoftmaxCrossEntropy")
        same_batch(z, y, "SoftmaxCrossEntropy")
        grad = softmax(z)
        grad[np.arange(n), y] -= 1
        return grad / n


def accuracy(y_pred, y_true):
    """Fraction of rows whose largest score is the true class. y_pred (N, C); y_true (N,) or (N, C).

    Introduced in chapter 04.
    """
    y_pred = as_2d(y_pred, "accuracy")
    y = class_ids(y_true, y_pred.shape[1], "accuracy")
    same_batch(y_pred, y, "accuracy")
    return float((y_pred.argmax(axis=1) == y).mean())
