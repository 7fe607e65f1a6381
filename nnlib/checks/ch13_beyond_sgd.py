"""Checks for chapter 13 (beyond SGD): the Adam optimizer, an SGD step with L2 weight decay,
inverted dropout as a layer, and early stopping. Each runs the student's code next to a reference
and, when the numbers differ, compares them with the numbers the typical mistakes would give.
"""

import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from .ch07_sgd import _call_step, _dense, _flat, _network, _snapshot
from ._core import Problem, check, expect_array, rng_for_checks


# --- shared: run an optimizer-like step on a small network ---------------------------------------
def _case(shapes, n_steps, seed, grad_scale=1.0):
    """A fresh float64 network, its starting parameters, and the gradients for every step."""
    rng = np.random.default_rng(seed)
    layers = _network(shapes, seed)
    params0 = _snapshot(layers)
    grads = [[grad_scale * rng.standard_normal(p.shape) for _, _, p in params0]
             for _ in range(n_steps)]
    return layers, params0, grads


def _run(step, layers, grads_per_step, state_word):
    """Call ``step(layers)`` once per set of gradients; parameters after each step, one row each."""
    rows = []
    shapes = [p.shape for _, _, p in _snapshot(layers)]
    for grads in grads_per_step:
        for layer, dw, db in zip(_dense(layers), grads[::2], grads[1::2]):
            layer.dweights, layer.dbiases = dw.copy(), db.copy()
        with np.errstate(all="ignore"):
            _call_step(step, layers, state_word)
        for layer, dw, db in zip(_dense(layers), grads[::2], grads[1::2]):
            if not (np.array_equal(layer.dweights, dw) and np.array_equal(layer.dbiases, db)):
                raise Problem("step changed the layers' gradients (dweights or dbiases) in "
                              "place: compute new arrays from them instead (g * g, not g *= g)")
        for (_, name, p), shape in zip(_snapshot(layers), shapes):
            if p.shape != shape:
                raise Problem(f"after step, a layer's {name} has shape {p.shape} instead of "
                              f"{shape}: each parameter needs its own {state_word}, kept per "
                              "layer and per name, e.g. in a dict keyed by (id(layer), name)")
        rows.append(_flat(p for _, _, p in _snapshot(layers)))
    return np.array(rows)


def _simulate(params0, grads_per_step, update):
    """Parameters after each step when each follows ``update(state, key, p, g)``."""
    params = [p.copy() for _, _, p in params0]
    keys = [(i, name) for i, name, _ in params0]
    state, rows = {}, []
    for grads in grads_per_step:
        params = [update(state, key, p, g) for key, p, g in zip(keys, params, grads)]
        rows.append(_flat(params))
    return np.array(rows)


def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-10)


# --- Adam -----------------------------------------------------------------------------------------
def _adam_rule(lr, b1, b2, eps, form="keras", key_of=lambda key: key, bias_correction=True,
               t_start=1, denominator="sqrt_v", eps_inside=False, sign=-1.0, global_t=False):
    """One Adam variant as an update(state, key, p, g); the defaults are nnlib's (Keras) form."""
    def update(state, key, p, g):
        k = key_of(key)
        if k not in state:
            state[k] = [np.zeros_like(p), np.zeros_like(p)]
        m, v = state[k]
        if global_t:
            t = state["t"] = state.get("t", t_start - 1) + 1
        else:
            t = state[("t", key)] = state.get(("t", key), t_start - 1) + 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        state[k] = [m, v]
        c1 = 1 - b1 ** t if bias_correction else 1.0
        c2 = 1 - b2 ** t if bias_correction else 1.0
        with np.errstate(all="ignore"):
            if form == "keras":
                top, bottom, rate = m, v, lr * np.sqrt(c2) / c1
            else:
                top, bottom, rate = m / c1, v / c2, lr
            if denominator == "sqrt_m":
                bottom = top
            if denominator == "no_sqrt":
                root = bottom + eps
            elif eps_inside:
                root = np.sqrt(bottom + eps)
            else:
                root = np.sqrt(bottom) + eps
            return p + sign * rate * top / root
    return update


def _adam_mistakes(params0, grads, lr, b1, b2, eps):
    both = ("keras", "textbook")

    def sim(**kw):
        try:
            return [_simulate(params0, grads, _adam_rule(lr, b1, b2, eps, form=f, **kw))
                    for f in both]
        except ValueError:  # a shared state cannot serve parameters of different shapes
            return []
    swapped = [_simulate(params0, grads, _adam_rule(lr, b2, b1, eps, form=f)) for f in both]
    return [
        ([_simulate(params0, grads, lambda state, key, p, g: p)],
         "the parameters did not change: update the arrays in place (param -= ...) or store "
         "the new ones with setattr(layer, name, ...); `param = param - ...` only rebinds a "
         "local name"),
        (sim(sign=+1.0), "the parameters moved UPHILL: Adam subtracts its step, "
                         "θ ← θ − η·m̂ / (√v̂ + ε)"),
        (sim(bias_correction=False),
         "there is no bias correction: m and v start at zero, so early on they are too small; "
         "divide by (1 − β₁ᵗ) and (1 − β₂ᵗ) with t = 1 at the first step"),
        (swapped, "β₁ and β₂ are swapped: the first moment m uses β₁ (0.9), the second moment "
                  "v (the average of g²) uses β₂ (0.999)"),
        (sim(denominator="no_sqrt"), "you divided by v̂ + ε instead of √v̂ + ε: take the square "
                                     "root of the second moment"),
        (sim(eps_inside=True), "ε is inside the square root (√(v̂ + ε)): add it outside, "
                               "√v̂ + ε, as nnlib, Keras and the paper do"),
        (sim(key_of=lambda key: key[1]),
         "the state (m, v) is shared between layers: two layers' weights use the same moments. "
         "Keep m, v and t per layer AND per parameter, e.g. keyed by (id(layer), name)"),
        (sim(global_t=True),
         "t counts parameter updates, not steps: it grows once per parameter in every call of "
         "step. Count steps (once per step call), or keep one t per parameter"),
    ]


def _adam_case(Adam, shapes, n_steps, seed, lr, b1, b2, eps, grad_scale, what):
    layers, params0, grads = _case(shapes, n_steps, seed, grad_scale)
    optimizer = Adam(lr, beta1=b1, beta2=b2, eps=eps)
    out = _run(optimizer.step, layers, grads, "m and v")
    if not np.all(np.isfinite(out)):
        first = out[0]
        if not np.any(np.isfinite(first)):
            raise Problem(f"every parameter became nan or inf at the first step ({what}): if t "
                          "starts at 0, the bias correction divides by 1 − β₁⁰ = 0; increase t "
                          "BEFORE you use it, so the first step has t = 1")
        raise Problem(f"some parameters became nan ({what}): a square root of something "
                      "negative? The denominator is √v̂, the average of g², which is never "
                      "negative — not √m̂")
    expected = [_simulate(params0, grads, _adam_rule(lr, b1, b2, eps, form=f))
                for f in ("keras", "textbook")]
    if any(_close(out, e) for e in expected):
        return
    for wrongs, why in _adam_mistakes(params0, grads, lr, b1, b2, eps):
        if any(_close(out, w) for w in wrongs):
            raise Problem(f"{why} ({what})")
    ref = expected[1]
    step = int(np.argmax(~np.all(np.isclose(out, ref, rtol=1e-6, atol=1e-10), axis=1)))
    raise Problem(f"the parameters after step {step + 1} are wrong ({what}): "
                  "m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂ / (√v̂ + ε)")


@check("Adam")
def check_adam(Adam):
    _adam_case(Adam, [(3, 3), (3, 3)], 4, 1, 0.05, 0.8, 0.99, 1e-7, 1.0,
               "two Dense(3 → 3) layers, 4 steps, beta1=0.8, beta2=0.99")
    _adam_case(Adam, [(3, 4), (4, 2)], 5, 0, 0.01, 0.9, 0.999, 1e-7, 1.0,
               "Dense → ReLU → Dense, 5 steps, default betas")
    _adam_case(Adam, [(4, 3)], 4, 2, 0.01, 0.9, 0.999, 1e-3, 0.01,
               "small gradients (≈ 0.01) with eps=1e-3, 4 steps")
    return ("one m, v per parameter, bias-corrected from t = 1, θ ← θ − η·m̂ / (√v̂ + ε) "
            "(the textbook and the Keras form both pass)")


# --- SGD with L2 weight decay ---------------------------------------------------------------------
def _decay_rule(lr, lam, decay_biases=False, lam_factor=1.0, decay_lr=True, sign=1.0):
    def update(state, key, p, g):
        decayed = key[1] == "weights" or decay_biases
        extra = sign * lam_factor * lam * p if decayed else 0.0
        return p - lr * g - (lr if decay_lr else 1.0) * extra
    return update


@check("weight_decay_step")
def check_weight_decay_step(weight_decay_step):
    for shapes, n_steps, seed, lr, lam, what in [
            ([(3, 4)], 1, 0, 0.1, 0.01, "one Dense layer, one step, lr 0.1, λ = 0.01"),
            ([(3, 4), (4, 2)], 3, 1, 0.05, 0.5, "Dense → ReLU → Dense, 3 steps, lr 0.05, λ = 0.5"),
            ([(4, 3)], 2, 2, 0.1, 0.0, "λ = 0: a plain SGD step")]:
        layers, params0, grads = _case(shapes, n_steps, seed)
        out = _run(lambda ls: weight_decay_step(ls, lr, lam), layers, grads, "update")
        expected = _simulate(params0, grads, _decay_rule(lr, lam))
        if _close(out, expected):
            continue
        sim = lambda **kw: _simulate(params0, grads, _decay_rule(lr, lam, **kw))  # noqa: E731
        for wrong, why in [
                (sim(lam_factor=0.0), "the weight decay had no effect: add λ·W to the weights' "
                                      "gradient before the step, W ← W − η(dW + λW)"),
                (sim(decay_biases=True), "the biases were decayed too: only the parameters "
                                         "named 'weights' get λ·W, biases follow plain SGD"),
                (sim(sign=-1.0), "the decay has the wrong sign: it must pull the weights "
                                 "towards zero, W ← W − η(dW + λW)"),
                (sim(lam_factor=0.5), "you used λ/2·W: the gradient of (λ/2)·ΣW² is λ·W"),
                (sim(lam_factor=2.0), "you used 2λ·W: the gradient of (λ/2)·ΣW² is λ·W"),
                (sim(decay_lr=False), "the decay term is not multiplied by the learning rate: "
                                      "W ← W − η(dW + λW), not W − η·dW − λW"),
                (_simulate(params0, grads, lambda s, k, p, g: p + lr * g),
                 "the parameters moved UPHILL: subtract, W ← W − η(dW + λW)"),
                (_simulate(params0, grads, lambda s, k, p, g: p),
                 "the parameters did not change: update the arrays in place (param -= ...) "
                 "or store the new ones with setattr(layer, name, ...)")]:
            if _close(out, wrong):
                raise Problem(f"{why} ({what})")
        raise Problem(f"the parameters are wrong ({what}): W ← W − η(dW + λW), b ← b − η·db")
    return "W ← W − η(dW + λW) for weights, b ← b − η·db for biases, gradients left untouched"


# --- Dropout --------------------------------------------------------------------------------------
def _forward(layer, x, training):
    layer.training = training
    given = x.copy()
    out = layer.forward(given)
    if not np.array_equal(given, x):
        raise Problem("forward changed its input in place: return x * mask, a new array")
    if out is None:
        raise Problem("forward returned None: did you forget `return`?")
    return np.asarray(out, dtype=np.float64)


@check("Dropout")
def check_dropout(Dropout):
    rng = rng_for_checks()
    x = rng.standard_normal((4, 6)) + 3.0
    layer = Dropout(0.5, rng=np.random.default_rng(1))
    if not hasattr(layer, "training"):
        raise Problem("the layer has no `training` attribute: set self.training = False in "
                      "__init__ (off by default, like nnlib.Dropout)")
    if getattr(layer, "param_names", None) != ():
        raise Problem("the layer needs `param_names = ()`: it has no parameters, and "
                      "optimizers loop over that tuple")
    if layer.training:
        raise Problem("training is True right after construction: start in evaluation mode "
                      "(training = False); Model.train_step switches it on")
    out = _forward(layer, np.ones((200, 50)), False)
    if not np.allclose(out, 1.0):
        if np.allclose(out, 0.5):
            raise Problem("in evaluation mode you scaled by (1 − rate): with inverted dropout "
                          "the scaling happens while training, so evaluation is y = x")
        raise Problem("in evaluation mode (training = False) the output must equal the input: "
                      "you dropped or changed units; when not training, return x")
    dout = rng.standard_normal(x.shape)
    expect_array(layer.backward(dout), dout, "backward after an evaluation-mode forward")

    ones = np.ones((400, 250))
    for rate in (0.2, 0.5):
        layer = Dropout(rate, rng=np.random.default_rng(2))
        out = _forward(layer, ones, True)
        if np.allclose(out, ones):
            raise Problem(f"with training = True and rate {rate} nothing was dropped: draw a "
                          "mask while training")
        zeros = float(np.mean(out == 0))
        kept = np.unique(np.round(out[out != 0], 9))
        if abs(zeros - (1 - rate)) < 0.03 and rate != 0.5:
            raise Problem(f"with rate {rate} you dropped {zeros:.0%} of the units: rate is the "
                          "probability to DROP a unit; keep it with probability 1 − rate")
        if abs(zeros - rate) > 0.03:
            raise Problem(f"with rate {rate} you dropped {zeros:.0%} of the units, expected "
                          f"about {rate:.0%}: a unit is dropped with probability rate")
        scale = 1 / (1 - rate)
        if len(kept) != 1:
            raise Problem(f"the kept units of an all-ones input have {len(kept)} different "
                          f"values: every kept unit must be x / (1 − rate) = {scale:g}")
        value = float(kept[0])
        for wrong, why in [(1.0, "no rescaling: divide the kept units by (1 − rate), so the "
                                 "expected output stays x (inverted dropout)"),
                           (1 / rate, "you divided by rate: divide by (1 − rate), the "
                                      "probability to KEEP a unit"),
                           (1 - rate, "you multiplied by (1 − rate): DIVIDE by it, so the "
                                      "expected output stays x"),
                           (rate, "you multiplied by rate: divide by (1 − rate)")]:
            if not np.isclose(value, scale) and np.isclose(value, wrong):
                raise Problem(f"{why} (rate {rate})")
        if not np.isclose(value, scale):
            raise Problem(f"kept units of an all-ones input are {value:g}, expected "
                          f"1 / (1 − {rate}) = {scale:g}")
        if abs(out.mean() - 1) > 0.02:
            raise Problem(f"the mean output is {out.mean():.3f} for an all-ones input, "
                          "expected about 1: the expected value must be preserved")

    a, b = Dropout(0.5, rng=np.random.default_rng(3)), Dropout(0.5, rng=np.random.default_rng(3))
    if not np.array_equal(_forward(a, x, True), _forward(b, x, True)):
        raise Problem("two layers with the same seed drew different masks: draw the mask from "
                      "self.rng (np.random.default_rng(rng) in __init__), not from np.random")
    if np.array_equal(_forward(a, ones, True), _forward(a, ones, True)):
        raise Problem("two forward passes gave the same mask: draw a fresh mask on every "
                      "training forward pass")

    layer = Dropout(0.4, rng=np.random.default_rng(4))
    x = rng.standard_normal((6, 8)) + 5.0
    out = _forward(layer, x, True)
    mask = out / x  # the forward's mask, frozen: 0 or 1 / (1 − rate)
    r = rng.standard_normal(x.shape)
    dx = layer.backward(r.copy())
    if dx is None:
        raise Problem("backward returned None: did you forget `return`?")
    dx = np.asarray(dx, dtype=np.float64)
    z = x.copy()
    numeric = numerical_gradient(lambda: np.sum(z * mask * r), z)
    if dx.shape != x.shape:
        raise Problem(f"backward returned shape {dx.shape}, expected {x.shape}")
    if rel_error(dx, numeric) > 1e-7:
        if np.allclose(dx, r):
            raise Problem("backward returned dout unchanged: multiply by the same mask (and "
                          "scale) as the forward pass, dx = dout · mask")
        if np.allclose(dx, r * (mask != 0)):
            raise Problem("backward forgot the 1 / (1 − rate) scale: use exactly the mask of "
                          "the forward pass, scale included")
        if np.mean((dx == 0) == (mask == 0)) < 0.9:
            raise Problem("backward drops other units than the forward pass did: did you draw "
                          "a NEW mask in backward? Store the forward's mask (self.mask) and "
                          "reuse it")
        raise Problem(f"backward disagrees with the numerical gradient of sum(out · r) with "
                      f"the forward's mask frozen (relative error {rel_error(dx, numeric):.1e})")
    return ("inverted dropout: drops with probability rate, scales by 1/(1 − rate), identity "
            "when not training, backward with the forward's mask")


# --- early stopping -------------------------------------------------------------------------------
def reference_early_stopping(val_losses, patience):
    """(best epoch, stop epoch), both 1-based: stop after ``patience`` epochs without a new
    lowest validation loss (or at the end); best is the lowest loss seen until then."""
    best, best_loss = 0, np.inf
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best_loss:
            best, best_loss = epoch, loss
        elif epoch - best >= patience:
            return best, epoch
    return best, len(val_losses)


def _variant(val_losses, patience, strict=True, off=0):
    best, best_loss = 0, np.inf
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best_loss or (not strict and loss == best_loss):
            best, best_loss = epoch, loss
        elif epoch - best >= patience + off:
            return best, epoch
    return best, len(val_losses)


@check("early_stopping")
def check_early_stopping(early_stopping):
    cases = [
        ([0.9, 0.7, 0.6, 0.62, 0.65, 0.61, 0.7, 0.8, 0.5], 2),
        ([0.9, 0.7, 0.6, 0.62, 0.65, 0.61, 0.7, 0.8, 0.5], 3),
        ([1.0, 0.8, 0.8, 0.8, 0.9, 0.4], 2),
        ([0.5, 0.4, 0.3, 0.2], 1),
        ([0.3, 0.5, 0.4, 0.45], 5),
        ([0.3, 0.5, 0.2, 0.6], 1),
    ]
    for losses, patience in cases:
        what = f"val_losses {losses}, patience {patience}"
        out = early_stopping(list(losses), patience)
        expected = reference_early_stopping(losses, patience)
        if out is None:
            raise Problem("early_stopping returned None: did you forget `return`?")
        if not isinstance(out, tuple) or len(out) != 2:
            raise Problem(f"return a pair (best_epoch, stop_epoch), got {out!r}")
        out = tuple(int(v) for v in out)
        if out == expected:
            continue
        best, stop = expected
        overall = int(np.argmin(losses)) + 1
        for wrong, why in [
                ((best - 1, stop - 1), "your epochs count from 0: number them from 1, as the "
                                       "training log does"),
                ((best - 1, stop), "your best epoch counts from 0: number epochs from 1"),
                (_variant(losses, patience, strict=False),
                 "an equal loss counted as an improvement: only a strictly LOWER validation "
                 "loss resets the patience"),
                (_variant(losses, patience, off=1),
                 "you stop one epoch late: stop when `patience` epochs in a row have not "
                 "improved"),
                (_variant(losses, patience, off=-1),
                 "you stop one epoch early: allow `patience` epochs without improvement, "
                 "then stop"),
                ((stop, stop), "the best epoch is the one with the lowest validation loss, "
                               "not the epoch you stopped at"),
                ((overall, stop), "your best epoch looks into the future: it is the lowest "
                                  "loss among the epochs trained BEFORE stopping")]:
            if out == tuple(wrong):
                raise Problem(f"{why} ({what}: expected {expected}, got {out})")
        raise Problem(f"for {what} you returned {out}, expected (best, stop) = {expected}")
    return "stops after `patience` epochs without a strictly lower val_loss; epochs from 1"
