"""Checks for chapter 06 (gradient checking): numerical_gradient, rel_error, check_layer, and the
answer to the bug hunt. Also holds the five suspect layers of that hunt (``suspects()``), some with
a planted bug in their backward and some correct, which the student sorts out with a gradient
checker.
"""

import textwrap

import numpy as np

from .. import gradcheck
from ..activations import ReLU, Softmax
from ..layers import Dense
from ._core import Mistake, Problem, call, check, expect_array, expect_scalar, rng_for_checks

# --- numerical_gradient ----------------------------------------------------------------------------
CENTRAL_FIX = """\
original = x[i]
x[i] = original + eps
f_plus = float(f())
x[i] = original - eps
f_minus = float(f())
x[i] = original
grad[i] = (f_plus - f_minus) / (2 * eps)"""
NUMERICAL_GRADIENT_FIX = ("def numerical_gradient(f, x, eps=1e-5):\n"
                          "    grad = np.zeros(x.shape, dtype=np.float64)\n"
                          "    for i in np.ndindex(x.shape):\n"
                          + textwrap.indent(CENTRAL_FIX, " " * 8) + "\n    return grad")
EVERY_ENTRY_FIX = """\
grad = np.zeros(x.shape, dtype=np.float64)
for i in np.ndindex(x.shape):   # every index of x, as a tuple, whatever its shape
    ...                         # move x[i] alone, measure, put it back"""
CENTRAL = ("Taylor: in f(x + ε) − f(x − ε) the ε² terms cancel, so its error shrinks like ε²; "
           "a difference with one side at x itself keeps an error that shrinks only like ε.")
IN_PLACE_F = ("f takes no arguments: it reads the array x itself, so the only way to change what "
              "it returns is to change x's own entries, in place.")


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


class _Watched:
    """f = Σ c·x³ for the checks, which also notes the entries of x that differ from x0 at each
    call: the most found at one call, and every entry ever found moved."""

    def __init__(self, x, x0, c):
        self.x, self.x0, self.c = x, x0, c
        self.most_at_once = 0
        self.ever_moved = np.zeros(x.shape, dtype=bool)

    def __call__(self):
        # 1e-12: the drift of adding and taking away eps is ~1e-16; a real step is eps or more
        moved = np.abs(self.x.astype(np.float64) - self.x0) > 1e-12
        self.most_at_once = max(self.most_at_once, int(moved.sum()))
        self.ever_moved |= moved
        return float(np.sum(self.c * self.x.astype(np.float64) ** 3))


def _cubic(x, c):
    def f():
        return float(np.sum(c * x ** 3))
    return f


def _digits(dtype):
    """The significant decimal digits a floating dtype keeps: 7 for float32."""
    return round((np.finfo(dtype).nmant + 1) * np.log10(2))


def _close(out, right):
    """True when ``out`` holds the numbers of ``right``, in its shape."""
    try:
        out = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return out.shape == right.shape and np.allclose(out, right)


def _numerical_gradient_mistakes(x0, c, eps):
    scratch = x0.copy()

    def wrong(formula):
        return _perturbed(_cubic(scratch, c), scratch, eps, formula)

    right = gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=eps)
    return [
        Mistake(wrong(_forward), "that is the forward difference, one side at x + ε and the "
                "other at x itself: its error shrinks only like ε, not like ε²", CENTRAL,
                CENTRAL_FIX),
        Mistake(wrong(_backward), "that is the backward difference, one side at x − ε and the "
                "other at x itself: its error shrinks only like ε, not like ε²", CENTRAL,
                CENTRAL_FIX),
        Mistake(wrong(_over_eps), "your gradient is twice too large: x + ε and x − ε are 2ε "
                "apart, and you divided the change of f between them by ε",
                "A slope is the change of f divided by the distance between the two points.",
                CENTRAL_FIX),
        Mistake(wrong(_not_reset_between), "your gradient is about half the right one: the "
                "second value of f was measured at x itself, not at x − ε (taking ε away once "
                "after adding it lands back on the original value)",
                "After the step to x + ε, how far must the entry move to reach x − ε?",
                CENTRAL_FIX),
        Mistake(np.zeros(x0.shape), "your gradient is all zeros: f reads x itself, so a change "
                "made to a copy of x never reaches it", IN_PLACE_F, CENTRAL_FIX),
        Mistake(gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=1e-5),
                f"your gradient is what a step of 1e-5 gives, but this call passed eps = {eps:g}: "
                "the step must be the one the caller asks for",
                "The caller chooses the step; a default value is only used when the caller "
                "gives none.",
                "def numerical_gradient(f, x, eps=1e-5):\n"
                "    ...   # use eps everywhere below, never the number 1e-5"),
        Mistake(right.ravel(), f"your gradient is a flat array of {right.size} numbers, but x "
                f"has shape {x0.shape}: the gradient has one partial derivative per entry of x, "
                "in the same place, so it is shaped like x",
                "The partial derivative with respect to the entry at index i goes to index i "
                "of the gradient.",
                "grad = np.zeros(x.shape, dtype=np.float64)   # shaped like x"),
    ]


@check("numerical_gradient",
       hint="∂f/∂xᵢ ≈ (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε: move ONE entry of x at a time, in place, "
            "measure f on both sides, put the entry back; the result is float64, shaped like x.",
       fix=NUMERICAL_GRADIENT_FIX)
def check_numerical_gradient(numerical_gradient):
    rng = rng_for_checks()
    eps = 1e-2   # large enough that forward differences (error ~ eps) stand out from central ones
    for shape in [(5,), (2, 3)]:
        x0 = rng.uniform(0.5, 1.5, shape)
        c = rng.uniform(0.5, 2.0, shape)
        x = x0.copy()
        f = _Watched(x, x0, c)
        try:
            out = numerical_gradient(f, x, eps)
        except TypeError as err:
            if "positional argument" in str(err):
                raise Problem("your code called f with an argument, but f takes none: it reads "
                              "x itself, so moving an entry of x in place is what changes its "
                              "value", IN_PLACE_F, CENTRAL_FIX) from None
            raise
        what = f"numerical_gradient of Σ c·x³ for x of shape {shape}"
        if not np.allclose(x, x0, rtol=1e-12, atol=0):
            moved = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(x - x0)), shape))
            raise Problem(f"x was not restored: after the call its entry at index {moved} is "
                          f"{x[moved]:.6g} instead of {x0[moved]:.6g}; every later entry is then "
                          "measured at the wrong point, and a layer is left with damaged weights",
                          "Keep each entry's value before you move it, and give it back that "
                          "exact value once both sides are measured.", CENTRAL_FIX)
        scratch = x0.copy()
        right = gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=eps)
        # only an array of the right shape says anything about the steps taken
        wrong_values = np.shape(out) == shape and not _close(out, right)
        if wrong_values and f.most_at_once > 1:
            row = " (a whole row)" if len(shape) == 2 and f.most_at_once == shape[1] else ""
            raise Problem(f"for x of shape {shape} you moved {f.most_at_once} entries of x at "
                          f"once{row}: a partial derivative moves one entry alone, so that the "
                          "change of f belongs to that entry only",
                          "A loop over the length of a 2-D array visits its rows, not its "
                          "entries: how many entries does x have, and how many times did your "
                          "loop run?",
                          EVERY_ENTRY_FIX)
        if wrong_values and not f.ever_moved.any():
            raise Problem("f never saw x change: f reads x itself, so a change made to a copy of "
                          "x, not to x's own entries, never reaches it", IN_PLACE_F, CENTRAL_FIX)
        if wrong_values and not f.ever_moved.all():
            raise Problem(f"only {int(f.ever_moved.sum())} of the {x0.size} entries of x (shape "
                          f"{shape}) were ever moved: the others got no partial derivative; "
                          "every entry needs its own, whatever the shape of x",
                          "The length of a 2-D array is its number of rows, not its number of "
                          "entries.", EVERY_ENTRY_FIX)
        expect_array(out, right, what, mistakes=_numerical_gradient_mistakes(x0, c, eps))

    # a float32 x: the gradient is float64 all the same
    x0 = rng.uniform(0.5, 1.5, (4,)).astype(np.float32)
    c = rng.uniform(0.5, 2.0, (4,))
    x = x0.copy()
    out = numerical_gradient(_Watched(x, x0.astype(np.float64), c), x, eps)
    scratch = x0.copy()
    right = gradcheck.numerical_gradient(_cubic(scratch, c), scratch, eps=eps)
    expect_array(out, right, "numerical_gradient for a float32 x", rtol=1e-3, atol=1e-4)
    dtype = np.asarray(out).dtype
    if dtype != np.float64:
        digits = (f"{dtype.name} keeps only about {_digits(dtype)} significant digits, "
                  "so storing the gradient in it adds errors as large as the ones a gradient "
                  "check must see below (1e-7)" if dtype.kind == "f" and dtype.itemsize < 8 else
                  "float64 is what rel_error and every check after it expect")
        raise Problem(f"for a float32 x your gradient is {dtype.name}, but the result is float64 "
                      f"whatever x is: {digits}",
                      "An array made like x takes x's type as well. Which type does the "
                      "docstring ask for?",
                      "grad = np.zeros(x.shape, dtype=np.float64)   # float64 whatever x is")
    return "central differences, one entry at a time, x restored, float64 for any x"


# --- rel_error -------------------------------------------------------------------------------------
REL_ERROR_FIX = """\
def rel_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))"""
REL_ERROR_LINE = "return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))"
ENTRY_BY_ENTRY = ("rel_error measures each entry against its own size, then reports the worst "
                  "entry: one wrong entry among 100 000 must not be averaged or summed away.")
SYMMETRIC = ("rel_error(a, b) must not depend on which array is the analytic one: it measures "
             "the difference against the size of both entries together.")


def _rel_error_mistakes(a, b):
    diff, total = np.abs(a - b), np.abs(a) + np.abs(b)
    return [
        Mistake(np.max((a - b) / total), "you took the largest signed difference, so a large "
                "difference where a − b is negative was missed: a difference of −5 is as wrong "
                "as one of +5",
                "The max of signed numbers finds the largest positive one.", REL_ERROR_LINE),
        Mistake(np.mean(diff / total), "you took the mean over the entries: one wrong entry "
                "among thousands is averaged away, and only the worst entry tells you about a "
                "bug", ENTRY_BY_ENTRY, REL_ERROR_LINE),
        Mistake(diff.sum() / total.sum(), "you divided a sum over the whole arrays by another "
                "sum: each entry has to be measured against its own size before the worst one "
                "is picked", ENTRY_BY_ENTRY, REL_ERROR_LINE),
        Mistake(diff.max() / total.max(), "you divided the largest difference by the largest "
                "size, which usually belong to different entries: each entry has to be measured "
                "against its own size before the worst one is picked", ENTRY_BY_ENTRY,
                REL_ERROR_LINE),
        Mistake(np.max(diff / np.maximum(np.abs(a), np.abs(b))), "you divided by the larger of "
                "|a| and |b| (written max(|a|, |b|)), so opposite arrays score 2; with the sum of "
                "both sizes that the formula asks for, they score exactly 1, the worst possible",
                "What is |a − (−a)| compared with |a| + |−a|?", REL_ERROR_LINE),
        Mistake(np.max(diff / np.abs(b)), "you divided by |b| only: swap a and b and the error "
                "changes, but it must not depend on which gradient is the analytic one",
                SYMMETRIC, REL_ERROR_LINE),
        Mistake(np.max(diff / np.abs(a)), "you divided by |a| only: swap a and b and the error "
                "changes, but it must not depend on which gradient is the analytic one",
                SYMMETRIC, REL_ERROR_LINE),
    ]


@check("rel_error",
       hint="rel_error(a, b) = max over the entries of |aᵢ − bᵢ| / max(|aᵢ| + |bᵢ|, 1e-8): "
            "each entry against its own size, then the worst one, as one float.",
       fix=REL_ERROR_FIX)
def check_rel_error(rel_error):
    # the largest relative difference, 1/6 at [0, 2], sits where a − b is negative, and each
    # wrong denominator picks a different entry, so every mistake below gives its own number
    a = np.array([[-1.0, -2.0, 0.25], [3.0, 1.0, -4.0]])
    b = np.array([[-1.1, -2.0, 0.35], [3.0, 0.75, -4.0]])

    def scalar(out, what):
        if out is None:
            return out
        try:
            size = np.size(np.asarray(out, dtype=np.float64))
        except (TypeError, ValueError):
            raise Problem(f"{what} returned a {type(out).__name__}, not a number: rel_error "
                          "reports one number, the error of the worst entry", ENTRY_BY_ENTRY,
                          REL_ERROR_LINE) from None
        if size != 1:
            raise Problem(f"{what} returned an array of shape {np.shape(out)}: rel_error reports "
                          "one number, the error of the worst entry", ENTRY_BY_ENTRY,
                          REL_ERROR_LINE)
        return out

    out = scalar(call(rel_error, a, b), "rel_error(a, b)")
    expect_scalar(out, gradcheck.rel_error(a, b), "rel_error(a, b)",
                  mistakes=_rel_error_mistakes(a, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = scalar(call(rel_error, a, -a), "rel_error(a, −a)")
        expect_scalar(out, 1.0, "rel_error(a, −a) for opposite arrays", mistakes=[
            Mistake(None, "for opposite arrays, a and −a, you return nan or inf: your "
                    "denominator is 0 there, as |a + b| or a + b would be; each entry's size "
                    "must count both of its values, whatever their signs",
                    "|a| + |b| is 0 only when both entries are 0; |a + b| is 0 whenever they "
                    "are opposite.", REL_ERROR_LINE),
            Mistake(2.0, "for opposite arrays you return 2: you divided by the larger of |a| and "
                    "|b|, while the formula's denominator, the sum of both sizes, makes the "
                    "worst possible error exactly 1",
                    "What is |a − (−a)| compared with |a| + |−a|?", REL_ERROR_LINE),
        ])
        zeros = np.zeros((3, 2))
        out = scalar(call(rel_error, zeros, zeros.copy()), "rel_error of two zero arrays")
        expect_scalar(out, 0.0, "rel_error of two zero arrays", mistakes=[
            Mistake(None, "two arrays of zeros give nan, 0/0: a dead ReLU's gradient is exactly "
                    "0 both ways, and equal gradients must score 0, so the denominator needs the "
                    "formula's floor of 1e-8",
                    "In NumPy 0/0 is nan, and the max of anything with a nan is nan.",
                    REL_ERROR_LINE),
        ])
    out = scalar(call(rel_error, b, b.copy()), "rel_error(b, b)")
    expect_scalar(out, 0.0, "rel_error of equal arrays")
    return "the worst entry's error against its own size: 0 for equal, 1 for opposite, " \
           "safe for zeros"


# --- check_layer -----------------------------------------------------------------------------------
CHECK_LAYER_FIX = """\
def check_layer(layer, x, rng=None):
    rng = np.random.default_rng(rng)
    r = rng.standard_normal(layer.forward(x).shape)

    def loss():
        return np.sum(layer.forward(x) * r)

    layer.forward(x)
    errors = {"inputs": rel_error(layer.backward(r), numerical_gradient(loss, x))}
    for name in layer.param_names:
        layer.forward(x)
        layer.backward(r)
        analytic = getattr(layer, "d" + name).copy()
        errors[name] = rel_error(analytic, numerical_gradient(loss, getattr(layer, name)))
    return errors"""
DRAW_R_FIX = """\
rng = np.random.default_rng(rng)                  # a seed, None or a Generator
r = rng.standard_normal(layer.forward(x).shape)   # random in every entry
# the same r in loss() and in layer.backward(r)"""
PARAMS_FIX = """\
for name in layer.param_names:
    layer.forward(x)
    layer.backward(r)
    analytic = getattr(layer, "d" + name).copy()
    errors[name] = rel_error(analytic, numerical_gradient(loss, getattr(layer, name)))"""
THE_LOSS = ("L = Σ layer(x) ⊙ r has ∂L/∂output = r, so backward(r) gives the analytic gradients "
            "of L; the numerical ones come from L itself, with the same r.")
RANDOM_R = ("Which bugs can a loss that weighs every output alike miss? Think of a backward that "
            "mixes up the columns of dout.")
SEEDED = ("A seed or a Generator passed as rng fixes every random number the function draws, so "
          "a run can be repeated; np.random.default_rng turns either (or None) into a Generator.")


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


class _SwappedOutputs(Dense):
    # every gradient wrong, but the numbers of a correct layer whenever the columns of dout agree
    def backward(self, dout):
        return super().backward(dout[:, ::-1])


class _Recording(Dense):
    """A correct Dense that keeps every dout its backward receives: the r of a check_layer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    def backward(self, dout, **kwargs):
        self.received.append(np.array(dout, dtype=np.float64))
        return super().backward(dout, **kwargs)


def _new(cls, rng):
    layer = cls(4, 3, rng=rng, dtype=np.float64)
    layer.biases[...] = rng.standard_normal(3) * 0.1
    return layer


@check("check_layer",
       hint="L = Σ layer(x) ⊙ r for one random r drawn from rng has ∂L/∂output = r: compare "
            "backward(r), and every parameter gradient it sets, with the numerical gradient of L, "
            "one rel_error per gradient.",
       fix=CHECK_LAYER_FIX)
def check_check_layer(check_layer):
    rng = rng_for_checks()
    x = rng.standard_normal((5, 4))

    def errors_for(layer, expected_keys, what, seed=1):
        before = {name: getattr(layer, name).copy() for name in layer.param_names}
        errors = check_layer(layer, x.copy(), seed)
        if errors is None:
            raise Problem("check_layer returned None: the function ends without returning its "
                          "errors", "A function that only computes a value gives None to its "
                          "caller.", "return errors   # the last line of check_layer")
        if not isinstance(errors, dict):
            raise Problem(f"check_layer returned a {type(errors).__name__}, but it should return "
                          "a dict from each gradient's name (inputs, then every parameter) to "
                          "one number, that gradient's relative error", THE_LOSS, CHECK_LAYER_FIX)
        keys = set(errors)
        if keys != set(expected_keys):
            if keys >= {"dweights", "dbiases"} or keys >= {"dinputs"}:
                raise Problem(f"for {what} the keys are {sorted(keys)}: name each error after "
                              "the array it belongs to, 'inputs', 'weights', 'biases' (without "
                              "the d)", "The keys are the names in the layer's param_names, "
                              "plus 'inputs'.", PARAMS_FIX)
            if keys == {"inputs"} and len(expected_keys) > 1:
                raise Problem(f"for {what} you only checked the inputs: its parameters, weights "
                              "and biases, have gradients of their own, and a bug can sit in any "
                              "of them", "The layer's param_names lists its parameters; each "
                              "one's gradient is the attribute named d followed by its name.",
                              PARAMS_FIX)
            raise Problem(f"for {what} check_layer returned the keys {sorted(keys)}, "
                          f"expected {sorted(expected_keys)}: one for the inputs and one for "
                          "each name in the layer's param_names",
                          "The keys are the names in the layer's param_names, plus 'inputs'.",
                          PARAMS_FIX)
        numbers = {}
        for key, value in errors.items():
            if np.size(value) != 1:
                raise Problem(f"the error for '{key}' is an array of shape {np.shape(value)}: "
                              "each gradient gets one number, the relative error of its worst "
                              "entry", "rel_error turns two arrays into one number.", PARAMS_FIX)
            try:
                numbers[key] = float(np.asarray(value, dtype=np.float64).reshape(()))
            except (TypeError, ValueError):
                raise Problem(f"the error for '{key}' is {value!r}, not a number", THE_LOSS,
                              CHECK_LAYER_FIX) from None
        for name, array in before.items():
            if not np.allclose(getattr(layer, name), array, rtol=1e-12, atol=0):
                raise Problem(f"check_layer left layer.{name} changed: the numerical gradient "
                              "must put back every entry it moves, or the layer keeps damaged "
                              "parameters", "Is your numerical_gradient restoring each entry?",
                              "x[i] = original   # after both sides are measured")
        return numbers

    # correct layers: every error small
    recording = _new(_Recording, rng)
    for layer, what in [(recording, "a correct Dense(4 → 3)"), (ReLU(), "a correct ReLU")]:
        keys = ("inputs",) + tuple(layer.param_names)
        errors = errors_for(layer, keys, what)
        for key, err in errors.items():
            if not err < 1e-6:
                raise Problem(f"for {what} your check_layer reports the error {err:.1e} for "
                              f"'{key}', but a correct float64 layer is below 1e-7: that takes the "
                              "same r in the loss and in backward, and a backward that follows a "
                              "forward pass at x itself", THE_LOSS, CHECK_LAYER_FIX)

    # r: random in every entry, and drawn from the rng it is given
    if recording.received:
        for r in recording.received:
            if r.size > 1 and np.ptp(r) == 0:
                raise Problem(f"the r your check_layer passed to backward is the same number, "
                              f"{r.flat[0]:g}, in every entry: such an r weighs every output "
                              "alike, so a backward that swaps two outputs' gradients gets the "
                              "same small errors as a correct one", RANDOM_R, DRAW_R_FIX)
        first = recording.received[0]
        again = _new(_Recording, rng_for_checks(1))
        errors_for(again, ("inputs", "weights", "biases"), "a correct Dense(4 → 3)", seed=1)
        other = _new(_Recording, rng_for_checks(1))
        errors_for(other, ("inputs", "weights", "biases"), "a correct Dense(4 → 3)", seed=2)
        if again.received and not np.array_equal(again.received[0], first):
            raise Problem("called twice with the same rng seed, your check_layer drew two "
                          "different r: r does not come from the rng it was given, so no check "
                          "can be repeated", SEEDED, DRAW_R_FIX)
        if other.received and np.array_equal(other.received[0], first):
            raise Problem("called with two different rng seeds, your check_layer drew the same "
                          "r both times: the rng it was given is never used (a fixed seed of "
                          "its own?)", SEEDED, DRAW_R_FIX)

    # planted bugs: each must stand out, and only where it is
    for cls, bad in [(_WrongDx, {"inputs"}), (_WrongDweights, {"weights"}),
                     (_WrongDbiases, {"biases"}),
                     (_SwappedOutputs, {"inputs", "weights", "biases"})]:
        what = ("a Dense whose backward swaps its outputs' gradients" if len(bad) > 1 else
                f"a Dense whose {next(iter(bad))} gradient is wrong")
        errors = errors_for(_new(cls, rng), ("inputs", "weights", "biases"), what)
        missed = sorted(key for key in bad if not errors[key] > 1e-3)
        if missed and cls is _SwappedOutputs:
            raise Problem(f"{what} got the error {errors[missed[0]]:.1e} for '{missed[0]}' from "
                          "your check_layer: it cannot see the bug; an r whose columns are "
                          "equal weighs every output alike, and the swap cancels out",
                          RANDOM_R, DRAW_R_FIX)
        if missed:
            key = missed[0]
            how = ("the gradient backward returns for r must be compared with the numerical "
                   "gradient of the loss with respect to x" if key == "inputs" else
                   f"the {key} gradient that backward sets must be compared with the numerical "
                   f"gradient of the loss with respect to the layer's {key} themselves")
            raise Problem(f"{what} got the error {errors[key]:.1e} from your check_layer: it "
                          f"cannot see the bug; {how}", THE_LOSS, CHECK_LAYER_FIX)
        for key, err in errors.items():
            if key not in bad and not err < 1e-6:
                raise Problem(f"for {what} your check_layer also blames '{key}' "
                              f"(error {err:.1e}), which is right", THE_LOSS, CHECK_LAYER_FIX)
    return "random r from the rng it is given; finds a wrong dx, dweights or dbiases and " \
           "passes correct layers"


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
        raise Problem(f"the entry for suspect {name} is {value!r}: give a list of the wrong "
                      "gradients, by name (inputs, weights or biases), or an empty list for a "
                      "correct suspect", REPORT_SHAPE, BUG_REPORT_FIX)
    found = set()
    for item in items:
        key = item.strip().lower() if isinstance(item, str) else item
        if isinstance(key, str) and key in _NO_BUG and len(items) == 1:
            continue
        if not isinstance(key, str) or key not in _ALIASES:
            raise Problem(f"the entry for suspect {name} contains {item!r}: name gradients "
                          "'inputs', 'weights' or 'biases' (a ReLU or Softmax has only 'inputs')",
                          "The names are the keys of the dict check_layer returns.",
                          BUG_REPORT_FIX)
        found.add(_ALIASES[key])
    return found


def _hunt_errors(name, n=8):
    """check_layer's errors for suspect ``name`` with a batch of n."""
    rng = rng_for_checks(6)
    layer = suspects(rng)[name]
    return gradcheck.check_layer(layer, rng.standard_normal((n, layer.n_inputs)), rng)


BUG_REPORT_FIX = """\
def bug_report():
    rng = np.random.default_rng(7)
    report = {}
    for name, suspect in suspects(rng).items():
        errors = check_layer(suspect, rng.standard_normal((8, suspect.n_inputs)), rng=8)
        report[name] = sorted(k for k, err in errors.items() if err > 1e-4)
    return report"""
REPORT_SHAPE = ("The report is a dict with the keys 'A' to 'E'; each value lists that suspect's "
                "wrong gradients by name, and is empty for a correct suspect.")
HUNT = ("Check every suspect with a batch of several examples, a random r and float64, and list "
        "the gradients whose error is far above 1e-7.")


@check("bug_report", hint=HUNT, fix=BUG_REPORT_FIX)
def check_bug_report(bug_report):
    report = bug_report() if callable(bug_report) else bug_report
    if report is None:
        raise NotImplementedError()
    if not isinstance(report, dict):
        raise Problem(f"bug_report should return a dict with one entry per suspect, A to E, each "
                      f"the list of its wrong gradients; it returned a {type(report).__name__}",
                      REPORT_SHAPE, BUG_REPORT_FIX)
    report = {str(k).strip().upper().replace("SUSPECT ", ""): v for k, v in report.items()}
    missing = [name for name in _BUGS if name not in report]
    if missing:
        raise Problem(f"the report has no entry for suspect {', '.join(missing)}: give one for "
                      "each of A, B, C, D and E (an empty list for a correct one)", REPORT_SHAPE,
                      BUG_REPORT_FIX)
    extra = sorted(set(report) - set(_BUGS))
    if extra:
        raise Problem(f"the report names suspects {extra} that do not exist: the suspects are "
                      "A to E", REPORT_SHAPE, BUG_REPORT_FIX)
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
                          "parameters has only 'inputs'", "Look at the keys check_layer "
                          "returned for that suspect.", BUG_REPORT_FIX)
        if name == "C":
            raise Problem(f"{right}; suspect {name}'s '{grad}' gradient is right (check_layer "
                          f"error {errors[grad]:.0e} with a batch of 8); x ≥ 0 and x > 0 differ "
                          "only at x exactly 0, where ReLU has no derivative and either choice "
                          "is fine", "A large error for an input within ε of a kink is the "
                          "checker's fault, not the layer's: random inputs never land there.",
                          BUG_REPORT_FIX)
        raise Problem(f"{right}; suspect {name}'s '{grad}' gradient is right (check_layer error "
                      f"{errors[grad]:.0e} with a batch of 8)", "Below 1e-7 in float64 is a "
                      "right gradient; look again at the errors you measured for it.",
                      BUG_REPORT_FIX)
    raise Problem(f"{right}; suspect {name} has a wrong gradient your report does not list: "
                  "check it with a batch of several examples (one can hide a bug), in float64")
