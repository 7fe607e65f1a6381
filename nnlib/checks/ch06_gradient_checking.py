"""Checks for chapter 06 (gradient checking): numerical_gradient, rel_error, check_layer, and the
answer to the bug hunt. Also holds BuggyDense, the layer with a planted bug that the chapter's
student finds with their own checker.
"""

import numpy as np

from .. import gradcheck
from ..activations import ReLU
from ..layers import Dense
from ._core import Problem, call, check, expect_array, expect_scalar, rng_for_checks


class BuggyDense(Dense):
    """A Dense layer whose backward has one wrong line. Which gradient is it? (Chapter 06.)"""

    def __repr__(self):
        return f"BuggyDense({self.n_inputs} → {self.n_outputs})"

    def backward(self, dout):
        self.dweights = self.inputs.T @ dout
        self.dbiases = dout.mean(axis=0)
        return dout @ self.weights.T


# --- numerical_gradient ----------------------------------------------------------------------------
# Typical wrong versions, run on a copy of x so that their outputs can be recognised and named.
def _perturbed(f, x, eps, formula):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        grad[i] = formula(f, x, i, original, eps)
        x[i] = original
    return grad


def _forward(f, x, i, original, eps):
    f0 = f()
    x[i] = original + eps
    return (f() - f0) / eps


def _backward(f, x, i, original, eps):
    f0 = f()
    x[i] = original - eps
    return (f0 - f()) / eps


def _over_eps(f, x, i, original, eps):
    x[i] = original + eps
    f_plus = f()
    x[i] = original - eps
    return (f_plus - f()) / eps


def _not_reset_between(f, x, i, original, eps):
    x[i] = original + eps
    f_plus = f()
    x[i] = original          # "+ eps - eps": the minus side is never evaluated
    return (f_plus - f()) / (2 * eps)


def _whole_rows(f, x, eps):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        original = x[i].copy()
        x[i] = original + eps
        f_plus = f()
        x[i] = original - eps
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _cubic(x, c):
    def f():
        return float(np.sum(c * x ** 3))
    return f


@check("numerical_gradient")
def check_numerical_gradient(numerical_gradient):
    rng = rng_for_checks()
    eps = 1e-2   # large enough that forward differences (error ~ eps) stand out from central ones
    for shape in [(5,), (2, 3)]:
        x0 = rng.uniform(0.5, 1.5, shape)
        c = rng.uniform(0.5, 2.0, shape)
        x = x0.copy()
        try:
            out = numerical_gradient(_cubic(x, c), x, eps)
        except TypeError as err:
            if "positional argument" in str(err):
                raise Problem("call f() with no arguments: f reads x itself, so change x in "
                              "place (x[i] = original + eps), call f(), and restore x[i]") from None
            raise
        what = f"numerical_gradient of Σ c·x³ for x of shape {shape}"
        if not np.allclose(x, x0, rtol=1e-12, atol=0):
            moved = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(x - x0)), shape))
            raise Problem(f"x was not restored: after the call x{list(moved)} is "
                          f"{x[moved]:.6g} instead of {x0[moved]:.6g}; save original = x[i] "
                          "before changing x[i] and put it back afterwards")

        def wrong(formula):
            return _perturbed(_cubic(scratch, c), scratch, eps, formula)

        scratch = x0.copy()
        mistakes = [
            (wrong(_forward), "that is the forward difference (f(x + eps) − f(x)) / eps, with "
                              "error ~eps; use the central difference "
                              "(f(x + eps) − f(x − eps)) / (2 * eps), error ~eps²"),
            (wrong(_backward), "that is the backward difference (f(x) − f(x − eps)) / eps; use the "
                               "central difference (f(x + eps) − f(x − eps)) / (2 * eps)"),
            (wrong(_over_eps), "your gradient is twice too large: the two points x ± eps are 2·eps "
                               "apart, so divide by 2 * eps, not eps"),
            (wrong(_not_reset_between),
             "your gradient is about half the right one: f(x − eps) was never evaluated (x[i] "
             "went back to the original instead of to original − eps)"),
            (np.zeros(shape), "your gradient is all zeros: f() reads x itself, so perturb x in "
                              "place (not a copy of it) before calling f()"),
            (gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=1e-5),
             "you ignored the eps argument: use the eps passed in (default 1e-5)"),
            (gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=eps).ravel(),
             "return an array shaped like x, not a flat one"),
        ]
        if len(shape) == 2:
            mistakes.append((_whole_rows(_cubic(scratch, c), scratch, eps),
                             "for a 2-D x you changed whole rows at once: perturb one entry at a "
                             "time, e.g. for i in np.ndindex(x.shape)"))
        expect_array(out, gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=eps),
                     what, mistakes=mistakes)
    return "central differences, x restored, any shape"


# --- rel_error -------------------------------------------------------------------------------------
def _rel_error_without_floor(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))


@check("rel_error")
def check_rel_error(rel_error):
    # the largest relative difference, 1/6 at [0, 2], sits where a − b is negative, and each
    # wrong denominator picks a different entry, so every mistake below gives its own number
    a = np.array([[-1.0, -2.0, 0.25], [3.0, 1.0, -4.0]])
    b = np.array([[-1.1, -2.0, 0.35], [3.0, 0.75, -4.0]])
    diff, total = np.abs(a - b), np.abs(a) + np.abs(b)

    def scalar(out, what):
        if out is not None and np.size(out) != 1:
            raise Problem(f"{what} returned an array of shape {np.shape(out)}: return one number, "
                          "the max over all entries")
        return out

    out = scalar(call(rel_error, a, b), "rel_error(a, b)")
    expect_scalar(out, gradcheck.rel_error(a, b), "rel_error(a, b)", mistakes=[
        (np.max((a - b) / total), "you forgot the abs in |a − b|: a large difference with a − b < 0 "
                                  "was missed; use np.abs(a - b)"),
        (np.mean(diff / total), "you took the mean over the entries; take the max, so that one "
                                "wrong entry among thousands is not averaged away"),
        (diff.sum() / total.sum(), "you divided sums over the whole arrays; compare entry by "
                                   "entry, then take the max: max(|a − b| / (|a| + |b|))"),
        (diff.max() / total.max(), "you divided two maxima; compare entry by entry, then take the "
                                   "max: max(|a − b| / (|a| + |b|))"),
        (np.max(diff / np.maximum(np.abs(a), np.abs(b))),
         "you divided by max(|a|, |b|); use |a| + |b| (then opposite arrays give exactly 1)"),
        (np.max(diff / np.abs(b)), "you divided by |b| only; use |a| + |b|, so that the error is "
                                   "symmetric in a and b"),
        (np.max(diff / np.abs(a)), "you divided by |a| only; use |a| + |b|, so that the error is "
                                   "symmetric in a and b"),
    ])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = scalar(call(rel_error, a, -a), "rel_error(a, -a)")
        expect_scalar(out, 1.0, "rel_error(a, -a) for opposite arrays", mistakes=[
            (None, "rel_error(a, -a) is nan or inf: did you forget abs in the denominator? "
                   "|a| + |b| is never 0 unless both entries are 0"),
            (2.0, "rel_error(a, -a) is 2: divide by |a| + |b|, not by max(|a|, |b|)"),
        ])
        zeros = np.zeros((3, 2))
        out = scalar(call(rel_error, zeros, zeros.copy()), "rel_error(zeros, zeros)")
        expect_scalar(out, 0.0, "rel_error of two zero arrays", mistakes=[
            (None, "rel_error of two zero arrays is nan (0/0): floor the denominator, "
                   "np.maximum(np.abs(a) + np.abs(b), 1e-8)"),
        ])
    out = scalar(call(rel_error, b, b.copy()), "rel_error(b, b)")
    expect_scalar(out, 0.0, "rel_error of equal arrays")
    return "max |a − b| / max(|a| + |b|, 1e-8): 0 for equal, 1 for opposite, safe for zeros"


# --- check_layer -----------------------------------------------------------------------------------
class _WrongDx(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        dx[:, 0] *= 2
        return dx


class _WrongDweights(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dweights[1, 2] *= -1
        return dx


class _WrongDbiases(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dbiases = -self.dbiases
        return dx


def _new(cls, rng):
    layer = cls(4, 3, rng=rng, dtype=np.float64)
    layer.biases[...] = rng.standard_normal(3) * 0.1
    return layer


@check("check_layer")
def check_check_layer(check_layer):
    rng = rng_for_checks()
    x = rng.standard_normal((5, 4))

    def errors_for(layer, expected_keys, what):
        before = {name: getattr(layer, name).copy() for name in layer.param_names}
        errors = check_layer(layer, x.copy(), 1)
        if errors is None:
            raise Problem("check_layer returned None: did you forget `return errors`?")
        if not isinstance(errors, dict):
            raise Problem(f"check_layer should return a dict like {{'inputs': 3e-10, ...}}, got "
                          f"{type(errors).__name__}")
        keys = set(errors)
        if keys != set(expected_keys):
            if keys >= {"dweights", "dbiases"} or keys >= {"dinputs"}:
                raise Problem(f"for {what} the keys are {sorted(keys)}: name them after the "
                              "arrays, 'inputs', 'weights', 'biases' (without the d)")
            if keys == {"inputs"} and len(expected_keys) > 1:
                raise Problem(f"for {what} you only checked the inputs: also check every "
                              "parameter, for name in layer.param_names")
            raise Problem(f"for {what} check_layer returned the keys {sorted(keys)}, "
                          f"expected {sorted(expected_keys)}")
        for key, value in errors.items():
            if np.size(value) != 1:
                raise Problem(f"errors['{key}'] is an array of shape {np.shape(value)}: store "
                              "one number per gradient, rel_error(analytic, numerical)")
        for name, array in before.items():
            if not np.allclose(getattr(layer, name), array, rtol=1e-12, atol=0):
                raise Problem(f"check_layer left layer.{name} changed: numerical_gradient must "
                              "restore every entry it perturbs")
        return {key: float(np.asarray(value).reshape(())) for key, value in errors.items()}

    for layer, what in [(_new(Dense, rng), "a correct Dense(4 → 3)"), (ReLU(), "a correct ReLU")]:
        keys = ("inputs",) + tuple(layer.param_names)
        errors = errors_for(layer, keys, what)
        for key, err in errors.items():
            if not err < 1e-6:
                raise Problem(f"for {what} your check_layer reports the error {err:.1e} for "
                              f"'{key}', but a correct float64 layer is below 1e-7: use the same "
                              "r in the loss and in backward(r), and call forward(x) before "
                              "backward")
    for cls, bad in [(_WrongDx, "inputs"), (_WrongDweights, "weights"), (_WrongDbiases, "biases")]:
        what = f"a Dense whose {bad} gradient is wrong"
        errors = errors_for(_new(cls, rng), ("inputs", "weights", "biases"), what)
        if not errors[bad] > 1e-3:
            how = ("compare backward(r) with the numerical gradient of the loss with respect "
                   "to x" if bad == "inputs" else
                   f"compare layer.d{bad} (set by backward(r)) with the numerical gradient of "
                   f"the loss with respect to layer.{bad}")
            raise Problem(f"{what} got the error {errors[bad]:.1e} from your check_layer: it "
                          f"cannot see the bug; {how}")
        for key, err in errors.items():
            if key != bad and not err < 1e-6:
                raise Problem(f"for {what} your check_layer also blames '{key}' "
                              f"(error {err:.1e}), which is right")
    return "finds a wrong dx, dweights or dbiases and passes correct layers"


# --- the bug hunt ----------------------------------------------------------------------------------
_ALIASES = {"inputs": "inputs", "input": "inputs", "x": "inputs", "dx": "inputs",
            "dinputs": "inputs", "weights": "weights", "weight": "weights", "w": "weights",
            "dweights": "weights", "dw": "weights", "biases": "biases", "bias": "biases",
            "b": "biases", "dbiases": "biases", "db": "biases"}


def _buggy_dense_errors():
    rng = rng_for_checks(6)
    layer = BuggyDense(4, 3, rng=rng, dtype=np.float64)
    return gradcheck.check_layer(layer, rng.standard_normal((8, 4)), rng)


@check("buggy_gradient")
def check_buggy_gradient(buggy_gradient):
    if callable(buggy_gradient):
        buggy_gradient = buggy_gradient()
    if buggy_gradient is None:
        raise NotImplementedError()
    if not isinstance(buggy_gradient, str) or buggy_gradient.strip().lower() not in _ALIASES:
        raise Problem(f"answer with one of the strings 'inputs', 'weights' or 'biases' "
                      f"(got {buggy_gradient!r})")
    answer = _ALIASES[buggy_gradient.strip().lower()]
    errors = _buggy_dense_errors()
    wrong = max(errors, key=errors.get)
    if answer != wrong:
        raise Problem(f"BuggyDense's '{answer}' gradient is right (relative error "
                      f"{errors[answer]:.0e}); look for the error far above 1e-7 in what your "
                      "check_layer printed")
    return f"BuggyDense's {wrong} gradient is the wrong one — the next cells show the bug"
