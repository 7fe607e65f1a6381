"""The chapter 13 checks pass nnlib's Adam and Dropout and correct student versions (Adam in the
textbook form too), and name each typical mistake in Adam, weight decay, dropout and early
stopping."""

import numpy as np
import pytest

from nnlib import Adam as NnlibAdam
from nnlib import Dropout as NnlibDropout
from nnlib.checks.ch13_beyond_sgd import (check_adam, check_dropout, check_early_stopping,
                                          check_weight_decay_step)

from checkhelpers import assert_named, not_yet


def assert_passes(result):
    assert result.ok and result.message.startswith("✅"), result.message


# --- Adam -----------------------------------------------------------------------------------------
def make_adam(textbook=True, bias_correction=True, t_start=1, sqrt_of="v", eps_inside=False,
              sign=-1.0, swap=False, key=lambda layer, name: (id(layer), name), t_per_param=False,
              scale_grad_in_place=False):
    """A student's Adam in the textbook form (m̂, v̂) or the folded (Keras) form, with one
    optional mistake."""
    class StudentAdam:
        def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
            self.lr, self.eps = learning_rate, eps
            self.b1, self.b2 = (beta2, beta1) if swap else (beta1, beta2)
            self.m, self.v, self.t = {}, {}, t_start - 1

        def step(self, layers):
            if not t_per_param:
                self.t += 1
            for layer in layers:
                for name in layer.param_names:
                    if t_per_param:
                        self.t += 1
                    k, p, g = key(layer, name), getattr(layer, name), getattr(layer, "d" + name)
                    if k not in self.m:
                        self.m[k], self.v[k] = np.zeros_like(p), np.zeros_like(p)
                    if scale_grad_in_place:
                        g *= 1 - self.b1
                        self.m[k] = self.b1 * self.m[k] + g
                        self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * (g / (1 - self.b1)) ** 2
                    else:
                        self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
                        self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
                    c1 = 1 - self.b1 ** self.t if bias_correction else 1.0
                    c2 = 1 - self.b2 ** self.t if bias_correction else 1.0
                    top, bottom = self.m[k], (self.m[k] if sqrt_of == "m" else self.v[k])
                    if textbook:
                        top, bottom, rate = top / c1, bottom / c2, self.lr
                    else:
                        rate = self.lr * np.sqrt(c2) / c1
                    if sqrt_of == "none":
                        root = bottom + self.eps
                    elif eps_inside:
                        root = np.sqrt(bottom + self.eps)
                    else:
                        root = np.sqrt(bottom) + self.eps
                    setattr(layer, name, p + sign * rate * top / root)
    return StudentAdam


def test_adam_nnlib_passes():
    assert_passes(check_adam(NnlibAdam))


def test_adam_textbook_form_passes():
    assert_passes(check_adam(make_adam(textbook=True)))


def test_adam_folded_keras_form_passes():
    assert_passes(check_adam(make_adam(textbook=False)))


def test_adam_not_implemented_is_pending():
    result = check_adam(not_yet)
    assert not result.ok and result.message.startswith("⏳"), result.message


@pytest.mark.parametrize("wrong, words", [
    (make_adam(bias_correction=False), "no bias correction"),
    (make_adam(textbook=False, bias_correction=False), "no bias correction"),
    (make_adam(t_start=0), "t starts at 0"),
    (make_adam(sqrt_of="m"), "not √m̂"),
    (make_adam(sqrt_of="none"), "square root of the second moment"),
    (make_adam(eps_inside=True), "ε is inside the square root"),
    (make_adam(textbook=False, eps_inside=True), "ε is inside the square root"),
    (make_adam(key=lambda layer, name: name), "shared between layers"),
    (make_adam(sign=+1.0), "UPHILL"),
    (make_adam(swap=True), "swapped"),
    (make_adam(t_per_param=True), "t counts parameter updates"),
    (make_adam(scale_grad_in_place=True), "changed the layers' gradients"),
], ids=["no-bias-correction", "no-bias-correction-keras", "t-from-zero", "sqrt-of-m", "no-sqrt",
        "eps-inside-sqrt", "eps-inside-sqrt-keras", "shared-state", "uphill", "betas-swapped",
        "t-per-parameter", "gradient-mutated"])
def test_adam_names_the_mistake(wrong, words):
    assert_named(check_adam(wrong), words)


def test_adam_that_only_rebinds_a_local_name_is_flagged():
    class Rebinds(make_adam()):
        def step(self, layers):
            for layer in layers:
                for name in layer.param_names:
                    param = getattr(layer, name)
                    param = param - self.lr * getattr(layer, "d" + name)  # noqa: F841

    assert_named(check_adam(Rebinds), "did not change")


def test_adam_with_one_state_for_everything_is_flagged():
    assert_named(check_adam(make_adam(key=lambda layer, name: "all")), "own m and v")


def test_adam_ignoring_the_betas_passed_in_is_flagged():
    class FixedBetas(make_adam()):
        def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
            super().__init__(learning_rate, 0.9, 0.999, eps)

    result = check_adam(FixedBetas)
    assert not result.ok and "beta1=0.8" in result.message, result.message


# --- weight decay ---------------------------------------------------------------------------------
def make_decay(decay=lambda name, w, lam: lam * w if name == "weights" else 0.0, lr_on_decay=True,
               in_place_grad=False):
    def weight_decay_step(layers, learning_rate, weight_decay):
        for layer in layers:
            for name in layer.param_names:
                p, g = getattr(layer, name), getattr(layer, "d" + name)
                extra = decay(name, p, weight_decay)
                if in_place_grad:
                    g += extra
                    p -= learning_rate * g
                elif lr_on_decay:
                    p -= learning_rate * (g + extra)
                else:
                    p -= learning_rate * g + extra
    return weight_decay_step


def test_weight_decay_reference_passes():
    assert_passes(check_weight_decay_step(make_decay()))


def test_weight_decay_not_implemented_is_pending():
    assert check_weight_decay_step(not_yet).message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (make_decay(decay=lambda n, w, lam: 0.0), "had no effect"),
    (make_decay(decay=lambda n, w, lam: lam * w), "biases were decayed"),
    (make_decay(decay=lambda n, w, lam: -lam * w if n == "weights" else 0.0), "wrong sign"),
    (make_decay(decay=lambda n, w, lam: lam / 2 * w if n == "weights" else 0.0), "λ/2·W"),
    (make_decay(decay=lambda n, w, lam: 2 * lam * w if n == "weights" else 0.0), "2λ·W"),
    (make_decay(lr_on_decay=False), "not multiplied by the learning rate"),
    (make_decay(in_place_grad=True), "changed the layers' gradients"),
], ids=["no-decay", "decays-biases", "wrong-sign", "half", "double", "no-lr", "grad-in-place"])
def test_weight_decay_names_the_mistake(wrong, words):
    assert_named(check_weight_decay_step(wrong), words)


# --- Dropout --------------------------------------------------------------------------------------
class StudentDropout:
    param_names = ()
    scale_with = staticmethod(lambda rate: 1 / (1 - rate))

    def __init__(self, rate=0.5, *, rng=None):
        self.rate, self.rng = rate, np.random.default_rng(rng)
        self.training, self.mask = False, None

    def draw(self, shape):
        return (self.rng.random(shape) >= self.rate) * self.scale_with(self.rate)

    def forward(self, x):
        if not self.training:
            self.mask = None
            return x
        self.mask = self.draw(x.shape)
        return x * self.mask

    def backward(self, dout):
        return dout if self.mask is None else dout * self.mask


def dropout_with(**overrides):
    return type("WrongDropout", (StudentDropout,), overrides)


class DropsInEval(StudentDropout):
    def forward(self, x):
        self.mask = self.draw(x.shape)
        return x * self.mask


class ScalesInEval(StudentDropout):
    def forward(self, x):
        if not self.training:
            return x * (1 - self.rate)
        return super().forward(x)


class NewMaskInBackward(StudentDropout):
    def backward(self, dout):
        return dout if self.mask is None else dout * self.draw(dout.shape)


class BackwardUnscaled(StudentDropout):
    def backward(self, dout):
        return dout if self.mask is None else dout * (self.mask != 0)


class BackwardIdentity(StudentDropout):
    def backward(self, dout):
        return dout


class GlobalRandom(StudentDropout):
    def draw(self, shape):
        return (np.random.random(shape) >= self.rate) / (1 - self.rate)


class InPlace(StudentDropout):
    def forward(self, x):
        if not self.training:
            return x
        self.mask = self.draw(x.shape)
        x *= self.mask
        return x


class NoTrainingAttribute(StudentDropout):
    def __init__(self, rate=0.5, *, rng=None):
        super().__init__(rate, rng=rng)
        del self.training


def test_dropout_nnlib_passes():
    assert_passes(check_dropout(NnlibDropout))


def test_dropout_reference_passes():
    assert_passes(check_dropout(StudentDropout))


def test_dropout_not_implemented_is_pending():
    assert check_dropout(not_yet).message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (dropout_with(scale_with=staticmethod(lambda rate: 1.0)), "no rescaling"),
    (dropout_with(scale_with=staticmethod(lambda rate: 1 / rate)), "divided by rate"),
    (dropout_with(scale_with=staticmethod(lambda rate: 1 - rate)), "multiplied by (1 − rate)"),
    (dropout_with(draw=lambda self, shape: (self.rng.random(shape) < self.rate) / self.rate),
     "probability to DROP"),
    (DropsInEval, "evaluation mode"),
    (ScalesInEval, "scaled by (1 − rate)"),
    (NewMaskInBackward, "NEW mask in backward"),
    (BackwardUnscaled, "forgot the 1 / (1 − rate) scale"),
    (BackwardIdentity, "dout unchanged"),
    (GlobalRandom, "self.rng"),
    (InPlace, "in place"),
    (NoTrainingAttribute, "no `training` attribute"),
], ids=["no-rescaling", "scale-by-rate", "times-keep", "rate-is-keep-probability",
        "drops-in-eval", "scales-in-eval", "new-mask-in-backward", "backward-unscaled",
        "backward-identity", "global-random", "in-place", "no-training-attribute"])
def test_dropout_names_the_mistake(wrong, words):
    assert_named(check_dropout(wrong), words)


# --- early stopping -------------------------------------------------------------------------------
def early_stopping(val_losses, patience):
    best, best_loss, waited = 0, float("inf"), 0
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best_loss:
            best, best_loss, waited = epoch, loss, 0
        else:
            waited += 1
            if waited == patience:
                return best, epoch
    return best, len(val_losses)


def stopping_variant(strict=True, extra=0, zero_based=False, best_is_stop=False, peek=False):
    def wrong(val_losses, patience):
        best, best_loss, waited = 0, float("inf"), 0
        stop = len(val_losses)
        for epoch, loss in enumerate(val_losses, 1):
            if loss < best_loss or (not strict and loss == best_loss):
                best, best_loss, waited = epoch, loss, 0
            else:
                waited += 1
                if waited == patience + extra:
                    stop = epoch
                    break
        if peek:
            best = int(np.argmin(val_losses)) + 1
        if best_is_stop:
            best = stop
        return (best - 1, stop - 1) if zero_based else (best, stop)
    return wrong


def test_early_stopping_reference_passes():
    assert_passes(check_early_stopping(early_stopping))


def test_early_stopping_not_implemented_is_pending():
    assert check_early_stopping(not_yet).message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (stopping_variant(strict=False), "strictly LOWER"),
    (stopping_variant(extra=1), "one epoch late"),
    (stopping_variant(extra=-1), "one epoch early"),
    (stopping_variant(zero_based=True), "count from 0"),
    (stopping_variant(best_is_stop=True), "not the epoch you stopped at"),
    (stopping_variant(peek=True), "looks into the future"),
    (lambda losses, patience: int(np.argmin(losses)) + 1, "pair"),
], ids=["ties-improve", "late", "early", "zero-based", "best-is-stop", "peeks", "not-a-pair"])
def test_early_stopping_names_the_mistake(wrong, words):
    assert_named(check_early_stopping(wrong), words)
