"""Checks for chapter 06 (gradient checking): numerical_gradient, rel_error, check_layer, and the
answer to the bug hunt. Also holds the five suspect layers of that hunt (``suspects()``), some with
a planted bug in their backward and some correct, which the student sorts out with a gradient
checker.
"""

import numpy as np

from .. import gradcheck
from ..activations import ReLU, Softmax
from ..layers import Dense
from ._core import Problem, call, check, expect_array, expect_scalar, rng_for_checks


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
# Five suspects. The student checks them without reading this file; the chapter shows the sources
# once the hunt is over. Each takes inputs of shape (N, suspect.n_inputs).
class _Suspect:
    name = "?"

    def __repr__(self):
        return f"suspect {self.name}"


class _SuspectA(_Suspect, Dense):
    def backward(self, dout):
        self.dweights = self.inputs.T @ dout
        self.dbiases = dout.mean(axis=0)
        return dout @ self.weights.T


class _SuspectB(_Suspect, Dense):
    def backward(self, dout):
        self.dweights = self.inputs.T @ dout
        self.dbiases = dout.sum(axis=0)
        return dout @ self.weights


class _SuspectC(_Suspect, ReLU):
    n_inputs = 5

    def forward(self, x):
        self.inputs = np.asarray(x)
        return np.maximum(self.inputs, 0)

    def backward(self, dout):
        return dout * (self.inputs >= 0)


class _SuspectD(_Suspect, Softmax):
    n_inputs = 4

    def backward(self, dout):
        p = self.output
        return dout * p * (1 - p)


class _SuspectE(_Suspect, Dense):
    def backward(self, dout):
        self.dweights = (dout.T @ self.inputs).T
        self.dbiases = np.ones(len(dout)) @ dout
        return (self.weights @ dout.T).T


_SUSPECT_CLASSES = {"A": (_SuspectA, (4, 3)), "B": (_SuspectB, (4, 4)), "C": (_SuspectC, None),
                    "D": (_SuspectD, None), "E": (_SuspectE, (5, 3))}
# the wrong gradients, which the student's report must name
_BUGS = {"A": {"biases"}, "B": {"inputs"}, "C": set(), "D": {"inputs"}, "E": set()}


def suspects(rng=None):
    """The five suspects of chapter 06's bug hunt, {"A": layer, ..., "E": layer}, in float64.

    Every suspect has forward, backward and param_names like an nnlib layer, and takes inputs of
    shape (N, suspect.n_inputs). Some have a wrong gradient, some are correct.
    """
    rng = np.random.default_rng(rng)
    lineup = {}
    for name, (cls, sizes) in _SUSPECT_CLASSES.items():
        if sizes is None:
            layer = cls()
        else:
            layer = cls(*sizes, rng=rng, dtype=np.float64)
            layer.biases[...] = rng.standard_normal(sizes[1]) * 0.1
        layer.name = name
        lineup[name] = layer
    return lineup


def suspect_source(name):
    """The source of suspect ``name``'s backward, to read once the hunt is over."""
    import inspect
    return inspect.getsource(_SUSPECT_CLASSES[name][0].backward)


_ALIASES = {"inputs": "inputs", "input": "inputs", "x": "inputs", "dx": "inputs",
            "dinputs": "inputs", "weights": "weights", "weight": "weights", "w": "weights",
            "dweights": "weights", "dw": "weights", "biases": "biases", "bias": "biases",
            "b": "biases", "dbiases": "biases", "db": "biases"}
_NO_BUG = {"", "none", "correct", "ok", "no bug"}


def _as_gradients(name, value):
    """The set of gradient names the report gives for suspect ``name``."""
    if value is None or value is False:
        return set()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise Problem(f"report['{name}'] is {value!r}: give a list of the wrong gradients, "
                      "e.g. ['weights'], or [] for a correct suspect")
    found = set()
    for item in items:
        key = item.strip().lower() if isinstance(item, str) else item
        if isinstance(key, str) and key in _NO_BUG and len(items) == 1:
            continue
        if not isinstance(key, str) or key not in _ALIASES:
            raise Problem(f"report['{name}'] contains {item!r}: name gradients 'inputs', "
                          "'weights' or 'biases' (a ReLU or Softmax has only 'inputs')")
        found.add(_ALIASES[key])
    return found


def _hunt_errors(name, n=8):
    """check_layer's errors for suspect ``name`` with a batch of n."""
    rng = rng_for_checks(6)
    layer = suspects(rng)[name]
    return gradcheck.check_layer(layer, rng.standard_normal((n, layer.n_inputs)), rng)


@check("bug_report")
def check_bug_report(bug_report):
    report = bug_report() if callable(bug_report) else bug_report
    if report is None:
        raise NotImplementedError()
    if not isinstance(report, dict):
        raise Problem(f"bug_report() should return a dict like {{'A': ['weights'], 'B': [], ...}}, "
                      f"got {type(report).__name__}")
    report = {str(k).strip().upper().replace("SUSPECT ", ""): v for k, v in report.items()}
    missing = [name for name in _BUGS if name not in report]
    if missing:
        raise Problem(f"the report has no entry for suspect {', '.join(missing)}: give one for "
                      "each of A, B, C, D and E ([] for a correct one)")
    extra = sorted(set(report) - set(_BUGS))
    if extra:
        raise Problem(f"the report names suspects {extra} that do not exist: use the keys "
                      "'A' to 'E'")
    answers = {name: _as_gradients(name, report[name]) for name in _BUGS}
    wrong = [name for name in _BUGS if answers[name] != _BUGS[name]]
    if not wrong:
        return ("A, B and D have a wrong gradient, C and E are correct — the next cells show "
                "the culprits")
    name = wrong[0]
    right = f"{len(_BUGS) - len(wrong)} of {len(_BUGS)} suspects right"
    cleared = sorted(answers[name] - _BUGS[name])
    if cleared:
        errors = _hunt_errors(name)
        grad = cleared[0]
        if grad not in errors:
            raise Problem(f"{right}; suspect {name} has no '{grad}' gradient: a layer without "
                          "parameters has only 'inputs'")
        why = ""
        if name == "C":
            why = ("; x >= 0 and x > 0 differ only at x exactly 0, where ReLU has no derivative "
                   "and either choice is fine")
        raise Problem(f"{right}; suspect {name}'s '{grad}' gradient is right (check_layer error "
                      f"{errors[grad]:.0e} with a batch of 8){why}")
    raise Problem(f"{right}; suspect {name} has a wrong gradient your report does not list: "
                  "check it with a batch of several examples (one can hide a bug), in float64")
