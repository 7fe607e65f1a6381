"""The chapter 13 checks pass nnlib's Adam and Dropout and correct student versions (Adam in the
textbook form too), name each typical mistake in Adam, weight decay, dropout and early stopping,
and offer the chapter's own solution as the fix."""

import numpy as np
import pytest

from nnlib import Adam as NnlibAdam
from nnlib import Dropout as NnlibDropout
from nnlib.checks import ch13_beyond_sgd
from nnlib.checks.ch13_beyond_sgd import (check_adam, check_dropout, check_early_stopping,
                                          check_weight_decay_step)

from checkhelpers import assert_fix_holds_solution, assert_named, assert_passes, not_yet


# --- Adam -----------------------------------------------------------------------------------------
def make_adam(textbook=True, bias_correction=True, t_start=1, sqrt_of="v", eps_inside=False,
              sign=-1.0, swap=False, key=lambda layer, name: (id(layer), name), t_per_param=False,
              scale_grad_in_place=False, v_of="g2", forget=False, t_late=False):
    """A student's Adam in the textbook form (m̂, v̂) or the folded (Keras) form, with one
    optional mistake. ``t_late``: t starts at 0 and grows at the END of step, so the first step
    uses t = 0."""
    class StudentAdam:
        def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
            self.lr, self.eps = learning_rate, eps
            self.b1, self.b2 = (beta2, beta1) if swap else (beta1, beta2)
            self.m, self.v, self.t = {}, {}, (0 if t_late else t_start - 1)

        def step(self, layers):
            if forget:
                self.m, self.v = {}, {}
            if not t_per_param and not t_late:
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
                        old_m = self.m[k]
                        self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
                        square = {"g2": g * g, "m2": self.m[k] ** 2, "old_m2": old_m * old_m}[v_of]
                        self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * square
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
            if t_late:
                self.t += 1
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
    (make_adam(t_start=0), "t was 0"),
    (make_adam(t_late=True), "t was 0"),
    (make_adam(textbook=False, t_late=True), "t was 0"),
    (make_adam(t_start=2), "one step late"),
    (make_adam(textbook=False, t_start=2), "one step late"),
    (make_adam(v_of="m2"), "v is built from m"),
    (make_adam(v_of="old_m2"), "v is built from m"),
    (make_adam(sqrt_of="m"), "square root"),
    (make_adam(sqrt_of="none"), "divides by v̂ + ε itself"),
    (make_adam(eps_inside=True), "ε is inside the square root"),
    (make_adam(textbook=False, eps_inside=True), "ε is inside the square root"),
    (make_adam(key=lambda layer, name: name), "shared between layers"),
    (make_adam(sign=+1.0), "UPHILL"),
    (make_adam(swap=True), "swapped"),
    (make_adam(t_per_param=True), "t counts parameter updates"),
    (make_adam(forget=True), "start again from zero at every step"),
    (make_adam(scale_grad_in_place=True), "changed the layers' gradients"),
], ids=["no-bias-correction", "no-bias-correction-keras", "t-from-zero", "t-grows-at-the-end",
        "t-grows-at-the-end-keras", "t-one-late", "t-one-late-keras", "v-from-m-squared",
        "v-from-old-m-squared", "sqrt-of-m", "no-sqrt", "eps-inside-sqrt", "eps-inside-sqrt-keras",
        "shared-state", "uphill", "betas-swapped", "t-per-parameter", "state-forgotten",
        "gradient-mutated"])
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
    assert_named(result, "ignored the beta1 and beta2")
    assert "beta1 0.8" in result.message


def test_adam_ignoring_the_learning_rate_passed_in_is_flagged():
    class FixedRate(make_adam()):
        def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
            super().__init__(1e-3, beta1, beta2, eps)

    assert_named(check_adam(FixedRate), "ignored the learning rate")


def test_adam_with_t_zero_in_python_floats_names_the_division_by_zero():
    class FoldedInPythonFloats(make_adam()):
        def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
            super().__init__(learning_rate, beta1, beta2, eps)
            self.t = 0

        def step(self, layers):
            rate = self.lr * (1 - self.b2 ** self.t) ** 0.5 / (1 - self.b1 ** self.t)
            for layer in layers:
                for name in layer.param_names:
                    k, p, g = (id(layer), name), getattr(layer, name), getattr(layer, "d" + name)
                    m, v = self.m.get(k, 0.0), self.v.get(k, 0.0)
                    self.m[k], self.v[k] = self.b1 * m + (1 - self.b1) * g, \
                        self.b2 * v + (1 - self.b2) * g * g
                    p -= rate * self.m[k] / (np.sqrt(self.v[k]) + self.eps)
            self.t += 1

    result = check_adam(FoldedInPythonFloats)
    assert_named(result, "t was 0")
    assert result.status == "fail" and "self.t += 1" in result.fix


def test_adam_updating_a_relu_is_named():
    class EveryLayerHasWeights(make_adam()):
        def step(self, layers):
            for layer in layers:
                layer.weights -= self.lr * layer.dweights

    assert_named(check_adam(EveryLayerHasWeights), "crashed on a ReLU layer")


def test_adam_with_other_constructor_arguments_is_named():
    class OtherNames(make_adam()):
        def __init__(self, lr=1e-3, b1=0.9, b2=0.999, epsilon=1e-7):
            super().__init__(lr, b1, b2, epsilon)

    assert_named(check_adam(OtherNames), "cannot be made")


def test_adam_failures_come_with_the_exercises_hint_and_fix():
    result = check_adam(make_adam(v_of="m2"))
    assert "squares of the gradients" in result.hint and "grad * grad" in result.fix
    result = check_adam(make_adam(textbook=True, sign=+1.0))
    assert "param -= self.learning_rate * m_hat" in result.fix


# --- weight decay ---------------------------------------------------------------------------------
def make_decay(decay=lambda name, w, lam: lam * w if name == "weights" else 0.0, lr_on_decay=True,
               in_place_grad=False, first_layer_only=False, after_step=False,
               stop_after_first=False):
    def weight_decay_step(layers, learning_rate, weight_decay):
        dense = [layer for layer in layers if layer.param_names]
        for layer in layers:
            for name in layer.param_names:
                p, g = getattr(layer, name), getattr(layer, "d" + name)
                extra = decay(name, p, weight_decay)
                if first_layer_only and layer is not dense[0]:
                    extra = 0.0
                if after_step:
                    p -= learning_rate * g
                    p -= learning_rate * decay(name, p, weight_decay)
                elif in_place_grad:
                    g += extra
                    p -= learning_rate * g
                elif lr_on_decay:
                    p -= learning_rate * (g + extra)
                else:
                    p -= learning_rate * g + extra
            if stop_after_first and layer.param_names:
                return
    return weight_decay_step


def test_weight_decay_reference_passes():
    assert_passes(check_weight_decay_step(make_decay()))


def test_weight_decay_not_implemented_is_pending():
    assert check_weight_decay_step(not_yet).message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (make_decay(decay=lambda n, w, lam: 0.0), "decay never reached them"),
    (make_decay(decay=lambda n, w, lam: lam * w), "biases were decayed"),
    (make_decay(decay=lambda n, w, lam: -lam * w if n == "weights" else 0.0), "AWAY from zero"),
    (make_decay(decay=lambda n, w, lam: lam / 2 * w if n == "weights" else 0.0), "half the size"),
    (make_decay(decay=lambda n, w, lam: 2 * lam * w if n == "weights" else 0.0), "twice the size"),
    (make_decay(lr_on_decay=False), "not scaled by the learning rate"),
    (make_decay(in_place_grad=True), "changed the layers' gradients"),
    (make_decay(decay=lambda n, w, lam: lam * np.sign(w) if n == "weights" else 0.0), "L1"),
    (make_decay(first_layer_only=True), "only the first layer's weights were decayed"),
    (make_decay(stop_after_first=True), "only the first layer was updated"),
    (make_decay(after_step=True), "after the gradient step"),
    (make_decay(decay=lambda n, w, lam: -lam * w if n == "weights" else 0.0, lr_on_decay=True),
     "AWAY from zero"),
], ids=["no-decay", "decays-biases", "wrong-sign", "half", "double", "no-lr", "grad-in-place",
        "l1-sign", "first-layer-only", "returns-after-first-layer", "decay-after-step",
        "grows-weights"])
def test_weight_decay_names_the_mistake(wrong, words):
    assert_named(check_weight_decay_step(wrong), words)


def test_weight_decay_that_only_rebinds_a_local_name_is_flagged():
    def rebinds(layers, learning_rate, weight_decay):
        for layer in layers:
            for name in layer.param_names:
                param = getattr(layer, name)
                param = param - learning_rate * getattr(layer, "d" + name)  # noqa: F841

    assert_named(check_weight_decay_step(rebinds), "did not change")


def test_weight_decay_going_uphill_is_flagged():
    def uphill(layers, learning_rate, weight_decay):
        for layer in layers:
            for name in layer.param_names:
                p, g = getattr(layer, name), getattr(layer, "d" + name)
                p += learning_rate * (g + (weight_decay * p if name == "weights" else 0.0))

    assert_named(check_weight_decay_step(uphill), "UPHILL")


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


class SameMaskEveryPass(StudentDropout):
    def draw(self, shape):
        return (np.random.default_rng(0).random(shape) >= self.rate) / (1 - self.rate)


class StartsTraining(StudentDropout):
    def __init__(self, rate=0.5, *, rng=None):
        super().__init__(rate, rng=rng)
        self.training = True


class ForgetsReturn(StudentDropout):
    def forward(self, x):
        super().forward(x)


class MaskNoneInBackward(StudentDropout):
    def backward(self, dout):
        return dout * self.mask


class RowMask(StudentDropout):
    def forward(self, x):
        if not self.training:
            return x
        self.mask = self.draw(x.shape[1:])
        return (x * self.mask).sum(axis=0)


def test_dropout_nnlib_passes():
    assert_passes(check_dropout(NnlibDropout))


def test_dropout_reference_passes():
    assert_passes(check_dropout(StudentDropout))


def test_dropout_not_implemented_is_pending():
    assert check_dropout(not_yet).message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (dropout_with(scale_with=staticmethod(lambda rate: 1.0)), "not rescaled"),
    (dropout_with(scale_with=staticmethod(lambda rate: 1 / rate)), "divided by the rate"),
    (dropout_with(scale_with=staticmethod(lambda rate: 1 - rate)), "multiplied by 1 − rate"),
    (dropout_with(draw=lambda self, shape: (self.rng.random(shape) < self.rate) / self.rate),
     "probability to DROP"),
    (DropsInEval, "evaluation mode"),
    (ScalesInEval, "scaled by 1 − rate"),
    (NewMaskInBackward, "NEW mask in backward"),
    (BackwardUnscaled, "forgot the 1 / (1 − rate) scale"),
    (BackwardIdentity, "dout unchanged"),
    (GlobalRandom, "not come from the layer's own generator"),
    (InPlace, "in place"),
    (NoTrainingAttribute, "no training attribute"),
    (SameMaskEveryPass, "same mask"),
    (StartsTraining, "training is on right after construction"),
    (ForgetsReturn, "forward returned None"),
    (MaskNoneInBackward, "no mask then"),
    (RowMask, "into shape"),
], ids=["no-rescaling", "scale-by-rate", "times-keep", "rate-is-keep-probability",
        "drops-in-eval", "scales-in-eval", "new-mask-in-backward", "backward-unscaled",
        "backward-identity", "global-random", "in-place", "no-training-attribute",
        "same-mask-every-pass", "starts-training", "forgets-return", "backward-needs-a-mask",
        "one-mask-per-column"])
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


def against_the_previous_epoch(val_losses, patience):
    """Patience runs out after `patience` epochs that are not lower than the one before; the
    best epoch is the last such drop."""
    best, waited, previous = 0, 0, float("inf")
    for epoch, loss in enumerate(val_losses, 1):
        if loss < previous:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited == patience:
                return best, epoch
        previous = loss
    return best, len(val_losses)


def against_the_previous_epoch_keeping_the_lowest(val_losses, patience):
    best, best_loss, waited = 0, float("inf"), 0
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best_loss:
            best, best_loss = epoch, loss
        if epoch > 1 and loss >= val_losses[epoch - 2]:
            waited += 1
            if waited == patience:
                return best, epoch
        else:
            waited = 0
    return best, len(val_losses)


def test_early_stopping_reference_passes():
    assert_passes(check_early_stopping(early_stopping))


def test_early_stopping_not_implemented_is_pending():
    assert check_early_stopping(not_yet).message.startswith("⏳")


@pytest.mark.parametrize("wrong, words", [
    (stopping_variant(strict=False), "strictly LOWER"),
    (stopping_variant(extra=1), "one epoch late"),
    (stopping_variant(extra=-1), "one epoch early"),
    (stopping_variant(zero_based=True), "count from 0"),
    (stopping_variant(best_is_stop=True), "is the epoch you stopped at"),
    (stopping_variant(peek=True), "looks into the future"),
    (lambda losses, patience: int(np.argmin(losses)) + 1, "pair"),
    (lambda losses, patience: (early_stopping(losses, patience)[0], None), "stop epoch you "
                                                                          "returned is None"),
    (lambda losses, patience: (None, early_stopping(losses, patience)[1]), "best epoch you "
                                                                          "returned is None"),
    (lambda losses, patience: tuple(e + 0.5 for e in early_stopping(losses, patience)),
     "not a whole epoch number"),
    (against_the_previous_epoch, "compared each loss with the epoch before"),
    (against_the_previous_epoch_keeping_the_lowest, "compared each loss with the epoch before"),
], ids=["ties-improve", "late", "early", "zero-based", "best-is-stop", "peeks", "not-a-pair",
        "stop-is-none", "best-is-none", "half-epochs", "against-previous",
        "against-previous-keeping-the-lowest"])
def test_early_stopping_names_the_mistake(wrong, words):
    assert_named(check_early_stopping(wrong), words)


def test_early_stopping_returning_a_list_passes():
    assert_passes(check_early_stopping(lambda losses, p: list(early_stopping(losses, p))))


def test_early_stopping_returning_none_for_the_stop_is_a_failure_not_a_crash():
    result = check_early_stopping(lambda losses, patience: (1, None))
    assert result.status == "fail" and "inside the check" not in result.message
    assert "return best, len(val_losses)" in result.fix


# --- the fix is the chapter's own solution -------------------------------------------------------
@pytest.mark.parametrize("fix, cell_start", [
    (ch13_beyond_sgd.ADAM_FIX, "class Adam:"),
    (ch13_beyond_sgd.DECAY_FIX, "def weight_decay_step("),
    (ch13_beyond_sgd.DROPOUT_FIX, "class Dropout:"),
    (ch13_beyond_sgd.EARLY_FIX, "def early_stopping("),
], ids=["Adam", "weight_decay_step", "Dropout", "early_stopping"])
def test_each_exercises_fix_holds_every_line_of_the_chapters_solution(fix, cell_start):
    assert_fix_holds_solution(fix, "13_beyond_sgd.ipynb", cell_start)


def test_a_failure_without_a_named_mistake_gets_the_exercises_hint_and_fix():
    result = check_early_stopping(lambda losses, patience: (1, 1))
    assert result.fix == ch13_beyond_sgd.EARLY_FIX and result.hint == ch13_beyond_sgd.EARLY_HINT
    result = check_weight_decay_step(make_decay(decay=lambda n, w, lam: 3 * lam * w))
    assert result.fix == ch13_beyond_sgd.DECAY_FIX, result.message
