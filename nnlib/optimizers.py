"""Optimizers: they alone change parameters. SGD in chapter 07, Adam in chapter 13."""

import numpy as np

from ._validate import fraction, non_negative, positive


class _Optimizer:
    def step(self, layers):
        """Update every parameter of ``layers`` in place from the gradients backward set.

        With weight decay λ the step uses g + λW for parameters named "weights" (not biases):
        the gradient of (λ/2) ΣW² added to the loss. Introduced in chapter 13.
        """
        for layer in layers:
            for name in getattr(layer, "param_names", ()):
                param, grad = getattr(layer, name), getattr(layer, "d" + name)
                if self.weight_decay and name == "weights":
                    grad = grad + self.weight_decay * param
                self._update((id(layer), name), param, grad)


class SGD(_Optimizer):
    """v ← μ v − η g;  θ ← θ + v  (plain SGD when momentum μ = 0). Introduced in chapter 07;
    ``weight_decay`` in chapter 13."""

    def __init__(self, learning_rate=0.1, momentum=0.0, weight_decay=0.0):
        self.learning_rate = positive(learning_rate, "learning_rate")
        self.momentum = fraction(momentum, "momentum")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.velocity = {}

    def _update(self, key, param, grad):
        step = self.learning_rate * grad
        if self.momentum == 0:
            param -= step
            return
        v = self.velocity.get(key)
        if v is None:
            v = self.velocity[key] = np.zeros_like(param)
        v *= self.momentum
        v -= step
        param += v


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015): m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
    θ ← θ − η_t m / (√v + ε) with η_t = η √(1−β₂ᵗ) / (1−β₁ᵗ)  (the bias correction folded into
    the step size, as in section 2 of the paper and in Keras).

    Introduced in chapter 13.
    """

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0):
        self.learning_rate = positive(learning_rate, "learning_rate")
        self.beta1, self.beta2 = fraction(beta1, "beta1"), fraction(beta2, "beta2")
        self.eps = positive(eps, "eps")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.state = {}

    def _update(self, key, param, grad):
        if key not in self.state:
            self.state[key] = [np.zeros_like(param), np.zeros_like(param), 0]
        m, v, t = self.state[key]
        t = self.state[key][2] = t + 1
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad * grad - v)
        step = self.learning_rate * np.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)
        param -= step * m / (np.sqrt(v) + self.eps)
