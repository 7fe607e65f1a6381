"""Losses and accuracy. Introduced in chapter 04; gradients in chapter 05."""

import numpy as np

from ._validate import as_2d, class_ids, same_batch


def softmax_cross_entropy(logits, y):
    """(loss, dL/dlogits) of the mean cross-entropy of softmax(logits), from one softmax.

    logits (N, C) floats, y (N,) class ids, both already checked -> (float, (N, C) array).
    Model.fit calls this once per step; SoftmaxCrossEntropy is the checked, two-method form.
    """
    n = len(logits)
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = float(-(shifted[rows, y] - np.log(total[:, 0])).sum()) / n
    grad = exp  # reused in place: grad = (softmax − one_hot) / N
    grad /= total
    grad[rows, y] -= 1
    grad /= n
    return loss, grad


class CategoricalCrossEntropy:
    """L = −(1/N) Σ_i log p_i,y_i on probabilities, clipped to [eps, 1 − eps].

    Shapes: y_pred (N, C) probabilities; y_true (N,) class ids or (N, C) one-hot -> scalar.
    Introduced in chapter 04.
    """

    def __init__(self, eps=1e-7):
        # log(0) = −inf and 1/0 = inf: clipping keeps both the loss and its gradient finite
        self.eps = eps

    def forward(self, y_pred, y_true):
        y_pred, y = self._checked(y_pred, y_true)
        p = np.clip(y_pred[np.arange(len(y)), y], self.eps, 1 - self.eps)
        return float(-np.log(p).mean())

    def backward(self, y_pred, y_true):
        """dL/dy_pred = −one_hot / (N · clip(y_pred)), shape (N, C)."""
        y_pred, y = self._checked(y_pred, y_true)
        n = len(y_pred)
        grad = np.zeros_like(y_pred)
        rows = np.arange(n)
        grad[rows, y] = -1.0 / (n * np.clip(y_pred[rows, y], self.eps, 1 - self.eps))
        return grad

    @staticmethod
    def _checked(y_pred, y_true):
        """(y_pred, class ids) after the checks; NaN probabilities raise: clipping would keep the
        NaN, and a loss of nan says nothing about where it came from."""
        y_pred = as_2d(y_pred, "CategoricalCrossEntropy")
        y = class_ids(y_true, y_pred.shape[1], "CategoricalCrossEntropy")
        same_batch(y_pred, y, "CategoricalCrossEntropy")
        nan_rows = np.isnan(y_pred).any(axis=1)
        if nan_rows.any():
            first = np.flatnonzero(nan_rows)[0]
            raise ValueError(f"CategoricalCrossEntropy got NaN probabilities in {nan_rows.sum()} "
                             f"of the {len(y_pred)} rows (the first is row {first}): the "
                             "network's output is not a number; check its inputs and weights")
        return y_pred, y


class SoftmaxCrossEntropy:
    """Softmax followed by cross-entropy, on logits: L = (1/N) Σ_i (logsumexp(z_i) − z_i,y_i).

    Exact for any logits (no clipping needed). Shapes: logits (N, C); y_true (N,) or (N, C).
    The gradient is simply (softmax(z) − one_hot) / N. Introduced in chapter 05.
    """

    def forward(self, logits, y_true):
        return softmax_cross_entropy(*self._checked(logits, y_true))[0]

    def backward(self, logits, y_true):
        """dL/dz = (softmax(z) − one_hot) / N, shape (N, C)."""
        return softmax_cross_entropy(*self._checked(logits, y_true))[1]

    @staticmethod
    def _checked(logits, y_true):
        z = as_2d(logits, "SoftmaxCrossEntropy")
        y = class_ids(y_true, z.shape[1], "SoftmaxCrossEntropy")
        same_batch(z, y, "SoftmaxCrossEntropy")
        return z, y


def accuracy(y_pred, y_true):
    """Fraction of rows whose largest score is the true class. y_pred (N, C); y_true (N,) or (N, C).

    Introduced in chapter 04.
    """
    y_pred = as_2d(y_pred, "accuracy")
    y = class_ids(y_true, y_pred.shape[1], "accuracy")
    same_batch(y_pred, y, "accuracy")
    return float((y_pred.argmax(axis=1) == y).mean())
