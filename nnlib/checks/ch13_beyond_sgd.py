"""Checks for chapter 13 (beyond SGD): the Adam optimizer, an SGD step with L2 weight decay,
inverted dropout as a layer, and early stopping. Each runs the student's code next to a reference
and, when the results differ, looks them up in a table of the results the typical mistakes give.
"""

import inspect
import numbers

import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from ._core import Mistake, Problem, check, expect_array, expect_scalar, rng_for_checks
from .ch07_sgd import _dense, _flat, _network, _snapshot


# --- shared: run an optimizer-like step on a small network ---------------------------------------
def _case(shapes, n_steps, seed, grad_scale=1.0):
    """A fresh float64 network, its starting parameters, and the gradients for every step."""
    rng = np.random.default_rng(seed)
    layers = _network(shapes, seed)
    params0 = _snapshot(layers)
    grads = [[grad_scale * rng.standard_normal(p.shape) for _, _, p in params0]
             for _ in range(n_steps)]
    return layers, params0, grads


def _accepts(cls, *args, **kwargs):
    """True unless the signature of ``cls`` (a class or function) refuses these arguments."""
    try:
        inspect.signature(cls).bind(*args, **kwargs)
    except TypeError:
        return False
    except ValueError:  # no signature to inspect: let the call decide
        pass
    return True


class _StepTiers:
    """What an optimizer-like step is told when it crashes on a ReLU, mixes up parameters of
    different shapes, or changes a gradient in place: the words for one exercise."""

    def __init__(self, mixed_says, mixed_hint, mixed_fix, loop_fix, grad_fix):
        self.mixed_says, self.mixed_hint, self.mixed_fix = mixed_says, mixed_hint, mixed_fix
        self.loop_fix, self.grad_fix = loop_fix, grad_fix

    def relu(self, err):
        return Problem(f"the step crashed on a ReLU layer ({err}): a ReLU has no parameters, "
                       "and the step must update only the parameters each layer lists as its "
                       "own", "Every layer names its parameters in its param_names tuple; a "
                       "ReLU's tuple is empty, so a loop over it does nothing.", self.loop_fix)

    def mixed(self, detail):
        return Problem(f"{detail}: {self.mixed_says}", self.mixed_hint, self.mixed_fix)

    def changed_gradients(self):
        return Problem("the step changed the layers' gradients in place, so whatever reads them "
                       "next (a log, a second optimizer, a gradient check) sees other numbers",
                       "An augmented assignment on a gradient writes into the layer's own array; "
                       "an expression with the gradient in it makes a new one.", self.grad_fix)


def _call_step(step, layers, tiers):
    try:
        step(layers)
    except AttributeError as err:
        if "ReLU" in str(err):
            raise tiers.relu(str(err).splitlines()[0]) from None
        raise
    except ValueError as err:
        if "broadcast" in str(err):
            raise tiers.mixed(f"the step raised ValueError ({str(err).splitlines()[0]})") \
                from None
        raise


def _run(step, layers, grads_per_step, tiers):
    """Call ``step(layers)`` once per set of gradients; parameters after each step, one row each."""
    rows = []
    shapes = [p.shape for _, _, p in _snapshot(layers)]
    for grads in grads_per_step:
        for layer, dw, db in zip(_dense(layers), grads[::2], grads[1::2]):
            layer.dweights, layer.dbiases = dw.copy(), db.copy()
        with np.errstate(all="ignore"):
            _call_step(step, layers, tiers)
        for layer, dw, db in zip(_dense(layers), grads[::2], grads[1::2]):
            if not (np.array_equal(layer.dweights, dw) and np.array_equal(layer.dbiases, db)):
                raise tiers.changed_gradients()
        for layer in _dense(layers):
            for name in ("weights", "biases"):
                if not isinstance(getattr(layer, name), np.ndarray):
                    raise Problem(f"after a step, a layer's {name} is a "
                                  f"{type(getattr(layer, name)).__name__}, not a NumPy array: "
                                  "the step must change the layer's own arrays",
                                  "Change each parameter array in place, so that the layer "
                                  "keeps the very array it had.", tiers.loop_fix)
        for (_, name, p), shape in zip(_snapshot(layers), shapes):
            if p.shape != shape:
                raise tiers.mixed(f"after a step, a layer's {name} has shape {p.shape} "
                                   f"instead of {shape}")
        rows.append(_flat(p for _, _, p in _snapshot(layers)))
    return np.array(rows)


def _simulate(params0, grads_per_step, update):
    """Parameters after each step when each follows ``update(state, key, p, g)``."""
    params = [p.copy() for _, _, p in params0]
    keys = [(i, name) for i, name, _ in params0]
    state, rows = {}, []
    with np.errstate(all="ignore"):
        for grads in grads_per_step:
            params = [update(state, key, p, g) for key, p, g in zip(keys, params, grads)]
            rows.append(_flat(params))
    return np.array(rows)


def _same(out, wrong):
    return wrong.shape == out.shape and np.allclose(out, wrong, rtol=1e-6, atol=1e-10,
                                                    equal_nan=True)


def _raise_named(out, mistakes, what):
    """Raise the first row whose ``wrong`` (a list of parameter trajectories) ``out`` matches."""
    for m in mistakes:
        if any(_same(out, wrong) for wrong in m.wrong):
            raise Problem(f"{m.says} ({what})", m.hint, m.fix)


def _first_wrong_step(out, expected):
    return int(np.argmax(~np.all(np.isclose(out, expected, rtol=1e-6, atol=1e-10), axis=1))) + 1


UNCHANGED = ("the parameters did not change: the new values never reached the layers (a new "
             "array bound to a local name leaves the layer's own array as it was)")
UNCHANGED_HINT = ("The layer keeps its own array: change that array in place, or store the new "
                  "array back on the layer under the parameter's name.")
UNCHANGED_FIX = ("param -= step                    # changes the layer's array itself\n"
                 "# or: setattr(layer, name, param - step)\n"
                 "# not: param = param - step      # only rebinds the local name")


# --- Adam -----------------------------------------------------------------------------------------
ADAM_FIX = '''\
class Adam:
    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, layers):
        self.t += 1
        for layer in layers:
            for name in layer.param_names:
                key = (id(layer), name)
                param, grad = getattr(layer, name), getattr(layer, "d" + name)
                if key not in self.m:
                    self.m[key], self.v[key] = np.zeros_like(param), np.zeros_like(param)
                self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grad
                self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grad * grad
                m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                param -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)'''
ADAM_HINT = ("m and v are running averages of g and of g², one pair for every parameter of every "
             "layer; t counts the calls of step and is 1 at the first; the step is "
             "θ ← θ − η·m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ).")
ADAM_STEP = ("m_hat = self.m[key] / (1 - self.beta1 ** self.t)\n"
             "v_hat = self.v[key] / (1 - self.beta2 ** self.t)\n"
             "param -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)")
ADAM_T = ("self.t = 0         # in __init__\n\n"
          "def step(self, layers):\n"
          "    self.t += 1    # first line of step: t = 1 at the first step, 2 at the second, ...\n"
          "    for layer in layers:\n"
          "        ...")
ADAM_KEY = ("key = (id(layer), name)     # this layer's parameter, not any other's\n"
            "if key not in self.m:\n"
            "    self.m[key], self.v[key] = np.zeros_like(param), np.zeros_like(param)")
ADAM_TIERS = _StepTiers(
    "one m and v served parameters of different shapes, but every parameter of every layer "
    "needs its own m and v",
    "Two layers can both have parameters called weights: the moments must be told apart by the "
    "layer AND by the parameter's name.", ADAM_KEY,
    "for layer in layers:\n    for name in layer.param_names:\n"
    "        param, grad = getattr(layer, name), getattr(layer, \"d\" + name)\n        ...",
    "self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grad * grad   # a new array\n"
    "# not: grad *= grad   (or grad *= 1 - self.beta1): that writes into layer.d<name>")
ADAM_T_ZERO = Mistake(
    None, "at the first step t was 0, so the bias correction divided by 1 − β⁰ = 1 − 1 = 0",
    "The bias correction is meant for step 1, 2, 3, …: t must already be 1 when the first step "
    "uses it.", ADAM_T)


def _adam_rule(lr, b1, b2, eps, form="keras", key_of=lambda key: key, bias_correction=True,
               t_start=1, denominator="sqrt_v", eps_inside=False, sign=-1.0, global_t=False,
               v_of="g2", keep_state=True):
    """One Adam variant as an update(state, key, p, g); the defaults are nnlib's (Keras) form."""
    def update(state, key, p, g):
        k = key_of(key)
        if k not in state or not keep_state:
            state[k] = [np.zeros_like(p), np.zeros_like(p)]
        m_old, v = state[k]
        if global_t:
            t = state["t"] = state.get("t", t_start - 1) + 1
        else:
            t = state[("t", key)] = state.get(("t", key), t_start - 1) + 1
        m = b1 * m_old + (1 - b1) * g
        square = {"g2": g * g, "m2": m * m, "old_m2": m_old * m_old, "m": m}[v_of]
        v = b2 * v + (1 - b2) * square
        state[k] = [m, v]
        c1 = 1 - b1 ** t if bias_correction else 1.0
        c2 = 1 - b2 ** t if bias_correction else 1.0
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
    """The Mistake rows of Adam; each row's ``wrong`` lists the trajectories of that mistake (in
    the textbook and in the folded form, where the two differ)."""
    def sim(lr=lr, b1=b1, b2=b2, **kw):
        runs = []
        for form in ("keras", "textbook"):
            try:
                runs.append(_simulate(params0, grads, _adam_rule(lr, b1, b2, eps, form=form,
                                                                 **kw)))
            except ValueError:  # a shared state cannot serve parameters of different shapes
                pass
        return runs

    return [
        Mistake([_simulate(params0, grads, lambda state, key, p, g: p)], UNCHANGED,
                UNCHANGED_HINT, UNCHANGED_FIX),
        Mistake(sim(sign=+1.0), "the parameters moved UPHILL: the step went along the average "
                                "gradient instead of against it",
                "The gradient points to where the loss grows.", ADAM_STEP),
        Mistake(sim(t_start=0), ADAM_T_ZERO.says + " and every parameter became nan or inf",
                ADAM_T_ZERO.hint, ADAM_T_ZERO.fix),
        Mistake(sim(bias_correction=False),
                "there is no bias correction: m and v start at zero, so in the first steps "
                "they are far too small, and the first step is about 3 times too long with the "
                "default betas",
                "After one step m = (1 − β₁)·g, a tenth of g. By what must m be divided so that "
                "it equals g? The same question for v with β₂.", ADAM_STEP),
        Mistake(sim(t_start=2), "the bias correction is one step late: at the first step it "
                                "used t = 2, so the first moves are too short",
                "t counts the calls of step: 1 during the first call, 2 during the second.",
                ADAM_T),
        Mistake(sim(b1=b2, b2=b1), "β₁ and β₂ are swapped: the average of the gradients uses "
                                   "β₂ and the average of their squares uses β₁",
                "β₁ (0.9) belongs to m, the average of g; β₂ (0.999), the slower one, to v, "
                "the average of g².",
                "self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grad\n"
                "self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grad * grad"),
        Mistake(sim(v_of="m2") + sim(v_of="old_m2") + sim(v_of="m"),
                "v is built from m, the average gradient, instead of from the squared gradient "
                "g²: √v̂ then measures the size of the AVERAGE gradient, not the typical size of "
                "the gradients",
                "v is the running average of the squares of the gradients themselves; the "
                "square of an average is smaller than the average of the squares when gradients "
                "change sign.",
                "self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grad * grad"),
        Mistake(sim(denominator="sqrt_m"),
                "the step divides by the square root of m̂, the average gradient, which is "
                "negative for some parameters (nan): the denominator comes from v̂, the average "
                "of g²", "Only an average of squares is never negative.", ADAM_STEP),
        Mistake(sim(denominator="no_sqrt"),
                "the step divides by v̂ + ε itself: v̂ is the square of a gradient's size, so the "
                "step no longer has the size η", "m̂ has the units of g, v̂ those of g².",
                ADAM_STEP),
        Mistake(sim(eps_inside=True),
                "ε is inside the square root (√(v̂ + ε)): nnlib, Keras and the paper add it to "
                "√v̂, outside the root",
                "With ε = 10⁻³, √ε is about 0.03: inside the root ε weighs 30 times more.",
                ADAM_STEP),
        Mistake(sim(key_of=lambda key: key[1]),
                "the moments m and v are shared between layers: the weights of two layers "
                "use the same m and v", "A parameter is known by its layer AND its name.",
                ADAM_KEY),
        Mistake(sim(global_t=True),
                "t counts parameter updates, not steps: it grows once per parameter in every "
                "call of step", "t is the number of the step: one call of step, one more t.",
                ADAM_T),
        Mistake(sim(keep_state=False),
                "m and v start again from zero at every step: they must carry over from one "
                "call of step to the next", "The averages are kept on the optimizer, made once "
                "per parameter when it is first seen.",
                "self.m, self.v, self.t = {}, {}, 0          # in __init__, once\n" + ADAM_KEY),
        Mistake(sim(b1=0.9, b2=0.999), "your Adam ignored the beta1 and beta2 it was given and "
                                       "used 0.9 and 0.999",
                "The constructor's arguments are the optimizer's settings: keep them and use "
                "them.", "self.learning_rate, self.beta1, self.beta2, self.eps = "
                         "learning_rate, beta1, beta2, eps"),
        Mistake(sim(lr=1e-3), "your Adam ignored the learning rate it was given and used 0.001",
                "The constructor's arguments are the optimizer's settings: keep them and use "
                "them.", "self.learning_rate, self.beta1, self.beta2, self.eps = "
                         "learning_rate, beta1, beta2, eps"),
    ]


def _adam_case(Adam, shapes, n_steps, seed, lr, b1, b2, eps, grad_scale, what):
    layers, params0, grads = _case(shapes, n_steps, seed, grad_scale)
    if not _accepts(Adam, lr, beta1=b1, beta2=b2, eps=eps):
        raise Problem("your Adam cannot be made with a learning rate followed by beta1, beta2 "
                      "and eps given by name, as nnlib's Adam can",
                      "The constructor's arguments are learning_rate, beta1, beta2 and eps, "
                      "with the defaults 1e-3, 0.9, 0.999 and 1e-7.",
                      "def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):")
    optimizer = Adam(lr, beta1=b1, beta2=b2, eps=eps)
    if not callable(getattr(optimizer, "step", None)):
        raise Problem("your Adam has no step method, so training cannot call it",
                      "Methods are defined inside the class, indented under it.", ADAM_FIX)
    try:
        out = _run(optimizer.step, layers, grads, ADAM_TIERS)
    except ZeroDivisionError as err:
        raise Problem(f"{ADAM_T_ZERO.says} (ZeroDivisionError: {err})", ADAM_T_ZERO.hint,
                      ADAM_T_ZERO.fix) from None
    expected = [_simulate(params0, grads, _adam_rule(lr, b1, b2, eps, form=f))
                for f in ("keras", "textbook")]
    if any(_same(out, e) for e in expected):
        return
    _raise_named(out, _adam_mistakes(params0, grads, lr, b1, b2, eps), what)
    step = _first_wrong_step(out, expected[1])
    if not np.all(np.isfinite(out[step - 1])):
        raise Problem(f"some parameters became nan or inf at step {step} ({what}): a square "
                      "root of a negative number, or a division by zero?",
                      "v̂ is an average of squares and never negative; 1 − βᵗ is zero only for "
                      "t = 0.", ADAM_FIX)
    if step == 1:
        raise Problem(f"already the first step differs from Adam's ({what})",
                      "At the first step, with the bias correction, m̂ = g and v̂ = g²: every "
                      "parameter moves by about η against the sign of its gradient. Check one "
                      "number by hand.", ADAM_FIX)
    raise Problem(f"the first step is right, but the parameters after step {step} are not "
                  f"({what}): what carries over from one step to the next (m, v and t) goes "
                  "wrong", ADAM_HINT, ADAM_FIX)


@check("Adam", hint=ADAM_HINT, fix=ADAM_FIX)
def check_adam(Adam):
    _adam_case(Adam, [(3, 3), (3, 3)], 4, 1, 0.05, 0.8, 0.99, 1e-7, 1.0,
               "two Dense(3 → 3) layers, 4 steps, learning rate 0.05, beta1 0.8, beta2 0.99")
    _adam_case(Adam, [(3, 4), (4, 2)], 5, 0, 0.01, 0.9, 0.999, 1e-7, 1.0,
               "Dense → ReLU → Dense, 5 steps, default betas")
    _adam_case(Adam, [(4, 3)], 4, 2, 0.01, 0.9, 0.999, 1e-3, 0.01,
               "small gradients (about 0.01) with eps 1e-3, 4 steps")
    return ("one m, v per parameter, bias-corrected from t = 1, θ ← θ − η·m̂ / (√v̂ + ε) "
            "(the textbook and the Keras form both pass)")


# --- SGD with L2 weight decay ---------------------------------------------------------------------
DECAY_FIX = '''\
def weight_decay_step(layers, learning_rate, weight_decay):
    for layer in layers:
        for name in layer.param_names:
            param, grad = getattr(layer, name), getattr(layer, "d" + name)
            if name == "weights":
                grad = grad + weight_decay * param
            param -= learning_rate * grad'''
DECAY_HINT = ("The penalty (λ/2)·ΣW² adds λW to the gradient of every layer's weights, and "
              "nothing to the biases; then the usual SGD step, θ ← θ − η·(gradient).")
DECAY_LINES = ("if name == \"weights\":\n    grad = grad + weight_decay * param\n"
               "param -= learning_rate * grad")
DECAY_TIERS = _StepTiers(
    "a parameter was updated with a gradient (or a decay term) of another shape",
    "Each parameter goes with its own gradient: weights with dweights, biases with dbiases.",
    DECAY_FIX, DECAY_FIX,
    "grad = grad + weight_decay * param   # a new array\n"
    "# not: grad += weight_decay * param  # writes into layer.dweights")
NO_BIAS_DECAY = ("A bias shifts a unit's output; it cannot make the unit more sensitive to its "
                 "input, so shrinking it only costs fit.")


def _decay_rule(lr, lam, decay_biases=False, lam_factor=1.0, decay_lr=True, sign=1.0,
                l1=False, layers=None, after=False):
    def update(state, key, p, g):
        decayed = (key[1] == "weights" or decay_biases) and (layers is None or key[0] in layers)
        if not decayed:
            return p - lr * g
        if after:
            p = p - lr * g
            return p - lr * lam * p
        extra = sign * lam_factor * lam * (np.sign(p) if l1 else p)
        return p - lr * g - (lr if decay_lr else 1.0) * extra
    return update


def _decay_mistakes(params0, grads, lr, lam):
    def sim(**kw):
        return [_simulate(params0, grads, _decay_rule(lr, lam, **kw))]

    def sgd(rule):
        return [_simulate(params0, grads, lambda state, key, p, g: rule(key, p, g))]

    first = params0[0][0]
    return [
        Mistake(sgd(lambda k, p, g: p), UNCHANGED, UNCHANGED_HINT, UNCHANGED_FIX),
        Mistake(sim(lam_factor=0.0), "the weights moved exactly as in plain SGD: the decay "
                                     "never reached them",
                "The penalty's gradient is added to the weights' gradient before the step.",
                DECAY_LINES),
        Mistake(sgd(lambda k, p, g: p + lr * g)
                + sgd(lambda k, p, g: p + lr * (g + lam * p * (k[1] == "weights"))),
                "the parameters moved UPHILL: the step went along the gradient instead of "
                "against it", "The gradient points to where the loss grows.", DECAY_LINES),
        Mistake(sim(decay_biases=True), "the biases were decayed too: only the weights are",
                NO_BIAS_DECAY, DECAY_LINES),
        Mistake(sim(sign=-1.0), "the decay pushed the weights AWAY from zero: with that sign it "
                                "makes large weights larger",
                "The penalty grows with |W|; its gradient points away from zero, and the step "
                "goes against it.", DECAY_LINES),
        Mistake(sim(l1=True), "every weight moved by the same amount in the direction of its "
                              "sign: that is the gradient of an L1 penalty, λ·Σ|W|; the L2 "
                              "penalty's gradient is proportional to each weight",
                "Differentiate (λ/2)·W² with respect to W: large weights shrink more than "
                "small ones.", DECAY_LINES),
        Mistake(sim(lam_factor=0.5), "your decay term is half the size it should be: "
                                     "differentiating (λ/2)·ΣW² brings down a 2 that cancels "
                                     "the ½", "d/dW of (λ/2)·W² is …?", DECAY_LINES),
        Mistake(sim(lam_factor=2.0), "your decay term is twice the size it should be: the ½ in "
                                     "(λ/2)·ΣW² is there to cancel the 2 that differentiating "
                                     "the square brings down", "d/dW of (λ/2)·W² is …?",
                DECAY_LINES),
        Mistake(sim(decay_lr=False), "the decay term was not scaled by the learning rate: it is "
                                     "part of the gradient, and the whole gradient is scaled "
                                     "by η", "W ← W − η·(dW + λW): where does η apply?",
                DECAY_LINES),
        Mistake(sim(after=True), "the weights were decayed after the gradient step, from the "
                                 "already-updated weights: both terms must use the weights "
                                 "from before the step",
                "Add λW to the gradient first, then take one step with the sum.", DECAY_LINES),
        Mistake(sim(layers={first}), "only the first layer's weights were decayed: the penalty "
                                     "covers the weights of every layer",
                "(λ/2)·ΣW² sums over all the layers.", DECAY_FIX),
        Mistake(sgd(lambda k, p, g: (p - lr * g - lr * lam * p * (k[1] == "weights"))
                    if k[0] == first else p),
                "only the first layer was updated: the later layers kept their parameters",
                "Does your function return (or break) before the loop over the layers has "
                "reached them all?", DECAY_FIX),
    ]


@check("weight_decay_step", hint=DECAY_HINT, fix=DECAY_FIX)
def check_weight_decay_step(weight_decay_step):
    for shapes, n_steps, seed, lr, lam, what in [
            ([(3, 4)], 1, 0, 0.1, 0.01, "one Dense layer, one step, learning rate 0.1, λ = 0.01"),
            ([(3, 4), (4, 2)], 3, 1, 0.05, 0.5,
             "Dense → ReLU → Dense, 3 steps, learning rate 0.05, λ = 0.5"),
            ([(4, 3)], 2, 2, 0.1, 0.0, "λ = 0: a plain SGD step")]:
        layers, params0, grads = _case(shapes, n_steps, seed)
        out = _run(lambda ls: weight_decay_step(ls, lr, lam), layers, grads, DECAY_TIERS)
        expected = _simulate(params0, grads, _decay_rule(lr, lam))
        if _same(out, expected):
            continue
        _raise_named(out, _decay_mistakes(params0, grads, lr, lam), what)
        raise Problem(f"the parameters after step {_first_wrong_step(out, expected)} are wrong "
                      f"({what})", DECAY_HINT, DECAY_FIX)
    return "W ← W − η(dW + λW) for weights, b ← b − η·db for biases, gradients left untouched"


# --- Dropout --------------------------------------------------------------------------------------
DROPOUT_FIX = '''\
class Dropout:
    param_names = ()

    def __init__(self, rate=0.5, *, rng=None):
        self.rate = rate
        self.rng = np.random.default_rng(rng)
        self.training = False
        self.mask = None

    def forward(self, x):
        if not self.training:
            self.mask = None
            return x
        keep = 1 - self.rate
        self.mask = (self.rng.random(x.shape) < keep) / keep
        return x * self.mask

    def backward(self, dout):
        return dout if self.mask is None else dout * self.mask'''
DROPOUT_HINT = ("While training: keep each unit with probability 1 − rate and divide the kept "
                "ones by 1 − rate, so the expected output is x; otherwise the identity. Backward "
                "multiplies by the forward's own mask.")
MASK_LINES = ("keep = 1 - self.rate\n"
              "self.mask = (self.rng.random(x.shape) < keep) / keep\n"
              "return x * self.mask")
INVERTED = ("Inverted dropout: E[y] = (1 − rate)·x/(1 − rate) = x while training, so evaluation "
            "needs no scaling at all.")


def _forward(layer, x, training):
    layer.training = training
    given = x.copy()
    out = layer.forward(given)
    if not np.array_equal(given, x):
        raise Problem("forward changed its input in place, so the caller's activations are "
                      "no longer what they were",
                      "Multiplying x by the mask in place writes into the caller's array.",
                      "return x * self.mask      # a new array\n# not: x *= self.mask")
    if out is None:
        raise Problem("forward returned None: the function ends without returning its output",
                      "A method that only computes a value gives None to its caller.",
                      "return x * self.mask      # while training\nreturn x                  "
                      "# when not training")
    out = np.asarray(out, dtype=np.float64)
    if out.shape != x.shape:
        raise Problem(f"forward turned an input of shape {x.shape} into shape {out.shape}: "
                      "dropout keeps the shape, it only zeroes entries",
                      "The mask has the shape of x, one entry per unit of every example.",
                      MASK_LINES)
    return out


def _backward(layer, dout):
    try:
        dx = layer.backward(dout.copy())
    except TypeError as err:
        if "NoneType" not in str(err):
            raise
        raise Problem("backward failed after an evaluation-mode forward pass "
                      f"({str(err).splitlines()[0]}): there is no mask then, and backward "
                      "passes the gradient through unchanged",
                      "When the forward pass was the identity, so is its backward.",
                      "return dout if self.mask is None else dout * self.mask") from None
    if dx is None:
        raise Problem("backward returned None: the function ends without returning the "
                      "gradient", "A method that only computes a value gives None to its caller.",
                      "return dout if self.mask is None else dout * self.mask")
    dx = np.asarray(dx, dtype=np.float64)
    if dx.shape != dout.shape:
        raise Problem(f"backward returned shape {dx.shape}, expected {dout.shape}: the "
                      "gradient has the shape of the layer's input",
                      "One gradient entry per input entry.",
                      "return dout if self.mask is None else dout * self.mask")
    return dx


def _scale_mistakes(rate):
    return [
        Mistake(1.0, f"the kept units were not rescaled (rate {rate}): the expected output is "
                     "then (1 − rate)·x, smaller than x", INVERTED, MASK_LINES),
        Mistake(1 / rate, f"the kept units were divided by the rate ({rate}), not by the "
                          "probability to KEEP a unit", INVERTED, MASK_LINES),
        Mistake(1 - rate, f"the kept units were multiplied by 1 − rate ({1 - rate:g}): that "
                          "shrinks the output instead of making up for the dropped units",
                INVERTED, MASK_LINES),
        Mistake(rate, f"the kept units were multiplied by the rate ({rate}): that shrinks the "
                      "output instead of making up for the dropped units", INVERTED, MASK_LINES),
    ]


@check("Dropout", hint=DROPOUT_HINT, fix=DROPOUT_FIX)
def check_dropout(Dropout):
    rng = rng_for_checks()
    if not _accepts(Dropout, 0.5, rng=0):
        raise Problem("your Dropout cannot be made with a rate and a generator given by name, "
                      "as nnlib's layers can",
                      "The constructor takes the rate, then rng as a keyword argument.",
                      "def __init__(self, rate=0.5, *, rng=None):")
    layer = Dropout(0.5, rng=np.random.default_rng(1))
    if not hasattr(layer, "training"):
        raise Problem("the layer has no training attribute, so nothing can tell it whether it "
                      "is training or evaluating",
                      "The layer starts in evaluation mode; Model.train_step switches training "
                      "on for its own forward and backward pass.", "self.training = False   "
                      "# in __init__")
    if getattr(layer, "param_names", None) != ():
        raise Problem("the layer must say that it has no parameters (an empty tuple of "
                      "parameter names): optimizers and save loop over it",
                      "The class line of the exercise defines it; keep it as it is.",
                      "param_names = ()   # in the class body")
    if layer.training:
        raise Problem("training is on right after construction: a new layer starts in "
                      "evaluation mode, so predict and evaluate never drop anything",
                      "Model.train_step switches training on for its own step and off again.",
                      "self.training = False   # in __init__")
    out = _forward(layer, np.ones((200, 50)), False)
    if not np.allclose(out, 1.0):
        if np.allclose(out, 0.5):
            raise Problem("in evaluation mode you scaled by 1 − rate: with inverted dropout the "
                          "scaling happens while training, so evaluation leaves x unchanged",
                          INVERTED, "if not self.training:\n    self.mask = None\n    return x")
        raise Problem("in evaluation mode (training off) some outputs differ from the input: "
                      "when not training, the layer passes x through unchanged",
                      "Dropout only acts while training.",
                      "if not self.training:\n    self.mask = None\n    return x")
    _forward(layer, rng.standard_normal((4, 6)), False)
    dout = rng.standard_normal((4, 6))
    expect_array(_backward(layer, dout), dout, "backward after an evaluation-mode forward")

    ones = np.ones((400, 250))
    for rate in (0.2, 0.5):
        layer = Dropout(rate, rng=np.random.default_rng(2))
        out = _forward(layer, ones, True)
        if np.allclose(out, ones):
            raise Problem(f"with training on and rate {rate} nothing was dropped",
                          "While training, a new random mask decides which units survive.",
                          MASK_LINES)
        dropped = float(np.mean(out == 0))
        if abs(dropped - (1 - rate)) < 0.03 and rate != 0.5:
            raise Problem(f"with rate {rate} you dropped {dropped:.0%} of the units: the rate "
                          "is the probability to DROP a unit, and 1 − rate the probability to "
                          "keep it", "Which units does your comparison of u with the "
                          "threshold keep?", MASK_LINES)
        if abs(dropped - rate) > 0.03:
            raise Problem(f"with rate {rate} you dropped {dropped:.0%} of the units, expected "
                          f"about {rate:.0%}: each unit is dropped with probability rate",
                          "A uniform number u in [0, 1) is below 1 − rate with probability "
                          "1 − rate.", MASK_LINES)
        kept = np.unique(np.round(out[out != 0], 9))
        scale = 1 / (1 - rate)
        if len(kept) != 1:
            raise Problem(f"the kept units of an all-ones input have {len(kept)} different "
                          f"values: every kept unit must be worth 1 / (1 − rate) = {scale:g}",
                          "The mask holds only two values: 0 and one scale for every kept "
                          "unit.", MASK_LINES)
        expect_scalar(kept[0], scale, f"a kept unit of an all-ones input (rate {rate})",
                      mistakes=_scale_mistakes(rate), rtol=1e-6)
        if abs(out.mean() - 1) > 0.02:
            raise Problem(f"the mean output is {out.mean():.3f} for an all-ones input, "
                          "expected about 1: dropout must keep the expected value",
                          INVERTED, MASK_LINES)

    x = rng.standard_normal((4, 6)) + 3.0
    a, b = Dropout(0.5, rng=np.random.default_rng(3)), Dropout(0.5, rng=np.random.default_rng(3))
    if not np.array_equal(_forward(a, x, True), _forward(b, x, True)):
        raise Problem("two layers built with the same seed drew different masks: the masks do "
                      "not come from the layer's own generator",
                      "The layer makes its generator from rng once, in the constructor, and "
                      "draws every mask from it; NumPy's global generator ignores the seed.",
                      "self.rng = np.random.default_rng(rng)            # in __init__\n"
                      "self.mask = (self.rng.random(x.shape) < keep) / keep   # in forward")
    if np.array_equal(_forward(a, ones, True), _forward(a, ones, True)):
        raise Problem("two training passes gave the same mask: each training step must drop "
                      "a new random set of units",
                      "Draw the mask inside forward, every time it runs in training mode.",
                      MASK_LINES)

    layer = Dropout(0.4, rng=np.random.default_rng(4))
    x = rng.standard_normal((6, 8)) + 5.0
    out = _forward(layer, x, True)
    mask = out / x  # the forward's mask, frozen: 0 or 1 / (1 − rate)
    r = rng.standard_normal(x.shape)
    dx = _backward(layer, r)
    z = x.copy()
    numeric = numerical_gradient(lambda: np.sum(z * mask * r), z)
    if rel_error(dx, numeric) > 1e-7:
        backward_fix = "return dout if self.mask is None else dout * self.mask"
        if np.allclose(dx, r):
            raise Problem("backward returned dout unchanged: while training, the dropped units "
                          "had no effect on the loss, so their gradient is 0",
                          "y = x ⊙ m with m fixed: what is ∂y/∂x?", backward_fix)
        if np.allclose(dx, r * (mask != 0)):
            raise Problem("backward zeroes the dropped units but forgot the 1 / (1 − rate) "
                          "scale of the kept ones",
                          "The forward pass multiplied by the whole mask, scale included.",
                          backward_fix)
        if np.mean((dx == 0) == (mask == 0)) < 0.9:
            raise Problem("backward drops other units than the forward pass did: a NEW mask in "
                          "backward? It must reuse the forward's own mask",
                          "Store the mask in forward; backward only reads it.", backward_fix)
        raise Problem(f"backward disagrees with the numerical gradient of the sum of out · r "
                      f"with the forward's mask frozen (relative error "
                      f"{rel_error(dx, numeric):.1e})", DROPOUT_HINT, backward_fix)
    return ("inverted dropout: drops with probability rate, scales by 1/(1 − rate), identity "
            "when not training, backward with the forward's mask")


# --- early stopping -------------------------------------------------------------------------------
EARLY_FIX = '''\
def early_stopping(val_losses, patience):
    best, best_loss = 0, float("inf")
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best_loss:
            best, best_loss = epoch, loss
        elif epoch - best >= patience:
            return best, epoch
    return best, len(val_losses)'''
EARLY_HINT = ("Walk through the epochs from 1, remembering the lowest loss so far and its epoch; "
              "stop at the first epoch that is `patience` epochs past that best one.")
EPOCHS_FROM_1 = ("The training log says 'epoch 1/…' for the first epoch; enumerate can start "
                 "counting wherever you ask.")


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


def _against_previous(val_losses, patience, best_is_last_drop):
    """Patience reset by any loss lower than the epoch before (not the best so far); the best
    epoch is either that last drop or the true lowest loss up to the stop."""
    best, best_loss, reset, previous = 0, np.inf, 0, np.inf
    for epoch, loss in enumerate(val_losses, 1):
        if loss < previous:
            reset = epoch
        if best_is_last_drop and loss < previous or not best_is_last_drop and loss < best_loss:
            best, best_loss = epoch, loss
        previous = loss
        if epoch - reset >= patience:
            return best, epoch
    return best, len(val_losses)


def _early_mistakes(losses, patience, expected):
    best, stop = expected
    return [
        Mistake([(best - 1, stop - 1)], "your epochs count from 0; the training log counts "
                                        "them from 1", EPOCHS_FROM_1,
                "for epoch, loss in enumerate(val_losses, 1):"),
        Mistake([(best - 1, stop)], "your best epoch counts from 0; epochs are counted from 1",
                EPOCHS_FROM_1, "for epoch, loss in enumerate(val_losses, 1):"),
        Mistake([_against_previous(losses, patience, True),
                 _against_previous(losses, patience, False)],
                "you compared each loss with the epoch before, not with the best so far: a loss "
                "that is lower than the last one but not lower than the best is no improvement",
                "Keep the lowest loss seen so far and compare every new loss with it.",
                "if loss < best_loss:\n    best, best_loss = epoch, loss"),
        Mistake([_variant(losses, patience, strict=False)],
                "an equal loss counted as an improvement: only a strictly LOWER validation loss "
                "resets the patience", "A plateau is not progress.",
                "if loss < best_loss:   # strictly lower"),
        Mistake([_variant(losses, patience, off=1)],
                "you stop one epoch late: training stops as soon as patience epochs in a row "
                "have brought no improvement",
                "With patience 2 and the best epoch 3, which epoch is the second without "
                "improvement?", "elif epoch - best >= patience:\n    return best, epoch"),
        Mistake([_variant(losses, patience, off=-1)],
                "you stop one epoch early: patience epochs without improvement are allowed "
                "before the stop",
                "With patience 2 and the best epoch 3, which epoch is the second without "
                "improvement?", "elif epoch - best >= patience:\n    return best, epoch"),
        Mistake([(stop, stop)], "your best epoch is the epoch you stopped at; the best is the "
                                "one with the lowest validation loss",
                "Remember the epoch of the lowest loss when you see it.",
                "if loss < best_loss:\n    best, best_loss = epoch, loss"),
        Mistake([(int(np.argmin(losses)) + 1, stop)],
                "your best epoch looks into the future: it must be the lowest loss among the "
                "epochs trained BEFORE the stop", "Training never sees the epochs after it "
                "stopped.", "if loss < best_loss:\n    best, best_loss = epoch, loss"),
    ]


def _epoch_number(value, which):
    if value is None:
        raise Problem(f"the {which} you returned is None: both numbers of the pair are epoch "
                      "numbers", "Every path through the function must return both epochs, "
                      "including the one where training never stops early.", EARLY_FIX)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not float(value).is_integer():
        raise Problem(f"the {which} you returned is {value!r} (a {type(value).__name__}), not "
                      "a whole epoch number", "Epochs are counted 1, 2, 3, …", EARLY_FIX)
    return int(value)


@check("early_stopping", hint=EARLY_HINT, fix=EARLY_FIX)
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
            raise Problem("early_stopping returned None: the function ends without returning "
                          "the pair of epochs", "A function that only computes a value gives "
                          "None to its caller.", "return best, len(val_losses)   # at the end")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Problem(f"for {what} you returned {out!r}: the answer is a pair of epochs, "
                          "the best one and the one training stops at", EARLY_HINT,
                          "return best, epoch   # a pair: (best_epoch, stop_epoch)")
        out = (_epoch_number(out[0], "best epoch"), _epoch_number(out[1], "stop epoch"))
        if out == expected:
            continue
        for m in _early_mistakes(losses, patience, expected):
            if out in [tuple(w) for w in m.wrong]:
                raise Problem(f"{m.says} ({what}: expected {expected}, got {out})", m.hint,
                              m.fix)
        raise Problem(f"for {what} you returned {out}, expected (best, stop) = {expected}",
                      EARLY_HINT, EARLY_FIX)
    return "stops after patience epochs without a strictly lower validation loss; epochs from 1"
