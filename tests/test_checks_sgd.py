"""The chapter 07 checks pass nnlib's SGD and a correct gradient descent, and name each typical
mistake in a descent loop, a plain SGD step and a momentum step."""

import numpy as np
import pytest

from nnlib import SGD as NnlibSGD
from nnlib.checks.ch07_sgd import (DESCENT_FIX, MOMENTUM_FIX, SGD_FIX, check_gradient_descent,
                                   check_sgd, check_sgd_momentum)
from checkhelpers import assert_named, not_yet


# --- gradient_descent ---------------------------------------------------------------------------
def gradient_descent(grad_fn, start, learning_rate, steps):
    w = np.array(start, dtype=float)
    path = [w]
    for _ in range(steps):
        w = w - learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)


def test_gradient_descent_reference_passes():
    result = check_gradient_descent(gradient_descent)
    assert result.ok and result.message.startswith("✅"), result.message


def test_gradient_descent_returning_a_list_of_points_passes():
    def as_list(grad_fn, start, learning_rate, steps):
        w = np.array(start, dtype=float)
        path = [w.copy()]
        for _ in range(steps):
            w -= learning_rate * grad_fn(w)
            path.append(w.copy())
        return path

    assert check_gradient_descent(as_list).ok


def test_gradient_descent_not_implemented_is_pending():
    result = check_gradient_descent(not_yet)
    assert not result.ok and result.message.startswith("⏳")


def uphill(grad_fn, start, learning_rate, steps):
    w, path = start.copy(), [start.copy()]
    for _ in range(steps):
        w = w + learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)


def aliased(grad_fn, start, learning_rate, steps):
    w = start.copy()
    path = [w]
    for _ in range(steps):
        w -= learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)


def aliased_after_start(grad_fn, start, learning_rate, steps):
    w, path = start.copy(), [start.copy()]
    for _ in range(steps):
        w -= learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)


def gradient_once(grad_fn, start, learning_rate, steps):
    g = grad_fn(start)
    path = [start.copy()]
    for _ in range(steps):
        path.append(path[-1] - learning_rate * g)
    return np.array(path)


def no_start(grad_fn, start, learning_rate, steps):
    return gradient_descent(grad_fn, start, learning_rate, steps)[1:]


def one_step_short(grad_fn, start, learning_rate, steps):
    return gradient_descent(grad_fn, start, learning_rate, steps - 1) if steps else start[None]


def final_point_only(grad_fn, start, learning_rate, steps):
    return gradient_descent(grad_fn, start, learning_rate, steps)[-1]


def lr_twice(grad_fn, start, learning_rate, steps):
    return gradient_descent(grad_fn, start, learning_rate ** 2, steps)


def no_lr(grad_fn, start, learning_rate, steps):
    return gradient_descent(grad_fn, start, 1.0, steps)


def mutates_start(grad_fn, start, learning_rate, steps):
    path = [start.copy()]
    for _ in range(steps):
        start -= learning_rate * grad_fn(start)
        path.append(start.copy())
    return np.array(path)


def float_only_by_luck(grad_fn, start, learning_rate, steps):
    # right for float starts; in place on a copy of an integer start, it cannot store fractions
    w = start.copy()
    path = [w.copy()]
    for _ in range(steps):
        w -= learning_rate * grad_fn(w)
        path.append(w.copy())
    return np.array(path)


def integer_path(grad_fn, start, learning_rate, steps):
    path = np.zeros((steps + 1, len(start)), dtype=start.dtype)
    path[0] = start
    for t in range(steps):
        path[t + 1] = path[t] - learning_rate * grad_fn(path[t])
    return path


def ragged_path(grad_fn, start, learning_rate, steps):
    return [start] + [gradient_descent(grad_fn, start, learning_rate, steps)[-1][:1]]


def bare_start_for_no_steps(grad_fn, start, learning_rate, steps):
    path = gradient_descent(grad_fn, start, learning_rate, steps)
    return path[0] if steps == 0 else path


def only_2d(grad_fn, start, learning_rate, steps):
    x, y = start[0], start[1]
    path = [(x, y)]
    for _ in range(steps):
        gx, gy = grad_fn(np.array([x, y]))[:2]
        x, y = x - learning_rate * gx, y - learning_rate * gy
        path.append((x, y))
    return np.array(path)


@pytest.mark.parametrize("wrong, words", [
    (uphill, "UPHILL"),
    (aliased, "every row of your path is the same point"),
    (aliased_after_start, "every row after the start is the same point"),
    (gradient_once, "gradient at the START"),
    (no_start, "missing the start point"),
    (one_step_short, "one step short"),
    (final_point_only, "only the final point"),
    (lr_twice, "applied twice"),
    (no_lr, "ignore the learning rate"),
    (mutates_start, "changed start in place"),
    (only_2d, "any length D"),
    (float_only_by_luck, "integer array cannot hold the fractions"),
    (integer_path, "whole numbers only"),
    (ragged_path, "not a table of numbers"),
    (bare_start_for_no_steps, "bare start point"),
], ids=["uphill", "aliased-path", "aliased-after-start", "gradient-once", "no-start",
        "one-step-short", "final-point-only", "lr-twice", "no-lr", "mutates-start", "only-2d",
        "in-place-on-an-integer-start", "integer-path", "ragged-path", "bare-start-for-no-steps"])
def test_gradient_descent_names_the_mistake(wrong, words):
    assert_named(check_gradient_descent(wrong), words)


def test_gradient_descent_failure_offers_the_reference_code():
    result = check_gradient_descent(uphill)
    assert "goes the other way" in result.hint
    assert "learning_rate * grad_fn(w)" in result.fix
    assert check_gradient_descent(integer_path).fix.startswith("w = np.array(start, dtype=float)")
    assert DESCENT_FIX.startswith("def gradient_descent(")


# --- SGD ------------------------------------------------------------------------------------------
class PlainSGD:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                getattr(layer, name)[...] -= self.learning_rate * getattr(layer, "d" + name)


def make_sgd(update, skip=lambda layer, name: False):
    """An SGD class whose step sets each parameter to update(param, grad, lr)."""
    class WrongSGD:
        def __init__(self, learning_rate, momentum=0.0):
            self.learning_rate = learning_rate

        def step(self, layers):
            for layer in layers:
                for name in layer.param_names:
                    if not skip(layer, name):
                        setattr(layer, name, update(getattr(layer, name),
                                                    getattr(layer, "d" + name),
                                                    self.learning_rate))
    return WrongSGD


def test_sgd_reference_passes():
    result = check_sgd(PlainSGD)
    assert result.ok and result.message.startswith("✅"), result.message


def test_sgd_nnlib_passes():
    assert check_sgd(NnlibSGD).ok


def test_sgd_that_rebinds_the_parameters_passes():
    assert check_sgd(make_sgd(lambda p, g, lr: p - lr * g)).ok


def test_sgd_not_implemented_is_pending():
    class Todo:
        def __init__(self, learning_rate):
            raise NotImplementedError()

    result = check_sgd(Todo)
    assert not result.ok and result.message.startswith("⏳")


class CopySGD(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                param = getattr(layer, name).copy()
                param -= self.learning_rate * getattr(layer, "d" + name)


class RebindLocalSGD(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                param = getattr(layer, name)
                param = param - self.learning_rate * getattr(layer, "d" + name)  # noqa: F841


class WeightsOnlySGD(PlainSGD):
    def step(self, layers):
        for layer in layers:
            if hasattr(layer, "weights"):
                layer.weights -= self.learning_rate * layer.dweights


class CrashesOnReLU(PlainSGD):
    def step(self, layers):
        for layer in layers:
            layer.weights -= self.learning_rate * layer.dweights
            layer.biases -= self.learning_rate * layer.dbiases


class ReturnsEarly(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                getattr(layer, name)[...] -= self.learning_rate * getattr(layer, "d" + name)
            return


class ScalesGradientInPlace(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                grad = getattr(layer, "d" + name)
                grad *= self.learning_rate
                getattr(layer, name)[...] -= grad


class HardCodedRate(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                getattr(layer, name)[...] -= 0.1 * getattr(layer, "d" + name)


class SwapsGradients(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                other = "biases" if name == "weights" else "weights"
                grad = getattr(layer, "d" + name)
                scale = np.abs(getattr(layer, "d" + other)).mean()
                getattr(layer, name)[...] -= self.learning_rate * grad * scale


class Float64SGD(PlainSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                param = getattr(layer, name).astype(np.float64)
                setattr(layer, name, param - self.learning_rate * getattr(layer, "d" + name))


@pytest.mark.parametrize("wrong, words", [
    (make_sgd(lambda p, g, lr: p + lr * g), "UPHILL"),
    (make_sgd(lambda p, g, lr: p - lr * lr * g), "applied twice"),
    (make_sgd(lambda p, g, lr: p - g), "ignores the learning rate"),
    (make_sgd(lambda p, g, lr: p - lr * g, skip=lambda l, n: n == "weights"),
     "weights never change"),
    (WeightsOnlySGD, "biases never change"),
    (CopySGD, "updated a copy"),
    (RebindLocalSGD, "rebound a local name"),
    (CrashesOnReLU, "ReLU"),
    (ReturnsEarly, "only the first layer"),
    (ScalesGradientInPlace, "changed the layers' gradients"),
    (HardCodedRate, "learning rate 0.1, not the 0.05"),
    (Float64SGD, "float32"),
    (SwapsGradients, "are wrong"),
], ids=["uphill", "lr-twice", "no-lr", "no-weights", "no-biases", "copy", "rebind-local",
        "crashes-on-relu", "returns-early", "scales-gradient-in-place", "hard-coded-rate",
        "changes-dtype", "unknown-mistake"])
def test_sgd_names_the_mistake(wrong, words):
    assert_named(check_sgd(wrong), words)


def test_sgd_failures_offer_a_hint_and_the_fix():
    named = check_sgd(CrashesOnReLU)
    assert "param_names" in named.fix and "empty" in named.hint
    unnamed = check_sgd(SwapsGradients)
    assert unnamed.fix == SGD_FIX and "θ ← θ − η·dθ" in unnamed.hint


# --- SGD with momentum ----------------------------------------------------------------------------
class MomentumSGD:
    def __init__(self, learning_rate, momentum=0.0):
        self.learning_rate, self.momentum, self.velocity = learning_rate, momentum, {}

    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                key = (id(layer), name)
                if key not in self.velocity:
                    self.velocity[key] = np.zeros_like(getattr(layer, name))
                v = self.velocity[key] = (self.momentum * self.velocity[key]
                                          - self.learning_rate * getattr(layer, "d" + name))
                getattr(layer, name)[...] += v


def make_momentum(rule, key=lambda layer, name: (id(layer), name),
                  init=lambda p, g, lr: np.zeros_like(p)):
    """A momentum SGD whose step does (v, new_param) = rule(v, param, grad, lr, mu)."""
    class WrongMomentum:
        def __init__(self, learning_rate, momentum=0.0):
            self.learning_rate, self.momentum, self.velocity = learning_rate, momentum, {}

        def step(self, layers):
            for layer in layers:
                for name in layer.param_names:
                    k = key(layer, name)
                    p, g = getattr(layer, name), getattr(layer, "d" + name)
                    if k not in self.velocity:
                        self.velocity[k] = init(p, g, self.learning_rate)
                    self.velocity[k], new = rule(self.velocity[k], p, g, self.learning_rate,
                                                 self.momentum)
                    setattr(layer, name, new)
    return WrongMomentum


def correct_rule(v, p, g, lr, mu):
    v = mu * v - lr * g
    return v, p + v


def pytorch_rule(v, p, g, lr, mu):
    v = mu * v + g
    return v, p - lr * v


def test_momentum_reference_passes():
    result = check_sgd_momentum(MomentumSGD)
    assert result.ok and result.message.startswith("✅"), result.message


def test_momentum_nnlib_passes():
    assert check_sgd_momentum(NnlibSGD).ok


def test_momentum_pytorch_formulation_passes():
    assert check_sgd_momentum(make_momentum(pytorch_rule)).ok


def test_momentum_not_implemented_is_pending():
    result = check_sgd_momentum(not_yet)
    assert not result.ok and result.message.startswith("⏳")


def test_momentum_check_rejects_plain_sgd():
    assert_named(check_sgd_momentum(make_sgd(lambda p, g, lr: p - lr * g)),
                   "momentum had no effect")


class VelocityNotKept(MomentumSGD):
    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                v = np.zeros_like(getattr(layer, name))
                v = self.momentum * v - self.learning_rate * getattr(layer, "d" + name)
                getattr(layer, name)[...] += v


class ResetsVelocityEachStep(MomentumSGD):
    def step(self, layers):
        self.velocity = {}
        super().step(layers)


class PlainWhenNoMomentumIsBroken(MomentumSGD):
    def step(self, layers):
        if self.momentum == 0:
            for layer in layers:
                for name in layer.param_names:
                    getattr(layer, name)[...] += self.learning_rate * getattr(layer, "d" + name)
            return
        super().step(layers)


@pytest.mark.parametrize("wrong, words", [
    (make_momentum(lambda v, p, g, lr, mu: (mu * v + lr * g, p + mu * v + lr * g)), "UPHILL"),
    (make_momentum(lambda v, p, g, lr, mu: (mu * v - lr * g, p - (mu * v - lr * g))), "UPHILL"),
    (VelocityNotKept, "momentum had no effect"),
    (ResetsVelocityEachStep, "momentum had no effect"),
    (make_momentum(lambda v, p, g, lr, mu: (mu * v - lr * g, p + lr * (mu * v - lr * g))),
     "learning rate is applied twice"),
    (make_momentum(correct_rule, key=lambda layer, name: name), "shared between layers"),
    (make_momentum(correct_rule, key=lambda layer, name: id(layer)), "own velocity"),
    (make_momentum(lambda v, p, g, lr, mu: (mu * v - lr * g, p + v)), "OLD velocity"),
    (make_momentum(lambda v, p, g, lr, mu: (mu * v - (1 - mu) * lr * g,
                                            p + mu * v - (1 - mu) * lr * g)), "(1 − μ)"),
    (make_momentum(lambda v, p, g, lr, mu: (-mu * v - lr * g, p - mu * v - lr * g)),
     "minus sign"),
    (make_momentum(lambda v, p, g, lr, mu: (mu * v - lr * g, p - lr * g + mu * v - lr * g)),
     "gradient is applied twice"),
    (make_momentum(correct_rule, init=lambda p, g, lr: -lr * g), "did not start at ZERO"),
    (make_momentum(correct_rule, init=lambda p, g, lr: np.ones_like(p)), "did not start at ZERO"),
    (PlainWhenNoMomentumIsBroken, "UPHILL"),
    (PlainSGD, "cannot be created with a momentum"),
    (make_momentum(correct_rule, key=lambda layer, name: name if layer.weights.shape[0] == 3
                   else (id(layer), name)), "shared between layers"),
], ids=["uphill", "uphill-mixed-conventions", "velocity-not-kept", "velocity-reset-each-step",
        "lr-twice", "shared-by-name", "shared-by-layer", "stale-velocity", "dampening",
        "minus-mu", "gradient-twice", "init-to-gradient", "init-to-ones", "plain-path-broken",
        "no-momentum-argument", "shared-by-name-on-equal-shapes-only"])
def test_momentum_names_the_mistake(wrong, words):
    assert_named(check_sgd_momentum(wrong), words)


def test_momentum_failure_offers_the_reference_code():
    result = check_sgd_momentum(make_momentum(correct_rule, key=lambda layer, name: name))
    assert "(id(layer), name)" in result.fix
    assert MOMENTUM_FIX.startswith("class SGD:") and "np.zeros_like(param)" in MOMENTUM_FIX
