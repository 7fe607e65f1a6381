"""Checks for chapter 02, the dense layer: neuron, dense_forward, the Dense class, init_std and the
Glorot-vs-He answer."""

import numbers

import numpy as np

from ._core import Mistake, Problem, call, check, expect_array, expect_scalar, rng_for_checks


def _is_number(value):
    """True for one real number: a Python or NumPy int or float, or a 0-d numeric array."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def _type_name(value):
    return type(value).__name__


# --- neuron --------------------------------------------------------------------------------------
NEURON_FIX = "def neuron(x, w, b):\n    return np.dot(x, w) + b"
WEIGHTED_SUM = "A neuron multiplies each input by its own weight, adds up the products, then " \
               "adds its one bias: y = Σᵢ xᵢwᵢ + b."


def _neuron_mistakes(x, w, b):
    n = len(x)
    return [
        Mistake(float(x @ w), "the bias is missing: a neuron adds b to its weighted sum, so its "
                "output can differ from 0 even when every input is 0",
                "Which term of y = x · w + b did your code leave out?",
                "return np.dot(x, w) + b   # the bias too"),
        Mistake(float(np.sum(x * w + b)), f"you added b to every product before summing, so the "
                f"bias counts {n} times: a neuron has ONE bias",
                "The bias is added once, after the sum of the products.",
                "return np.dot(x, w) + b   # sum the products first, then add b once"),
        Mistake(float(x @ w - b), "the bias is subtracted: a neuron ADDS its bias to the weighted "
                "sum", WEIGHTED_SUM, "return np.dot(x, w) + b"),
        Mistake(float(np.sum(x + w) + b), "you added x and w; a neuron MULTIPLIES each input by "
                "its weight, then sums the products", WEIGHTED_SUM, "return np.dot(x, w) + b"),
        Mistake(float(x @ w * b), "you multiplied the weighted sum by the bias; a neuron adds it",
                WEIGHTED_SUM, "return np.dot(x, w) + b"),
    ]


@check("neuron", hint="y = x · w + b = Σᵢ xᵢwᵢ + b: one number per neuron, whatever the number "
       "of inputs.", fix=NEURON_FIX)
def check_neuron(neuron):
    rng = rng_for_checks()
    for n_in in (3, 7, 1):
        x, w = rng.standard_normal(n_in), rng.standard_normal(n_in)
        b = float(rng.standard_normal()) + 2.0
        out = call(neuron, x, w, b)
        what = f"neuron(x, w, b) for {n_in} inputs"
        if out is not None and np.ndim(out) != 0:
            shape = np.shape(out)
            if np.size(out) == n_in and n_in > 1:
                raise Problem(f"neuron returned {n_in} numbers, one per input: each input was "
                              "multiplied by its weight, but the products were never added up",
                              "x · w is a SUM of products: one number, however long x is.",
                              "return np.dot(x, w) + b   # multiply and sum in one call")
            if np.size(out) == 1:
                raise Problem(f"neuron returned an array of shape {shape} holding one number; "
                              "the exercise asks for the number itself, a scalar: every neuron "
                              "would carry that extra axis into the layer it belongs to",
                              "The dot product of two 1-D vectors is already a single number. "
                              "Where does the extra axis come from: a reshape of x or w into a "
                              "row or a column, or brackets around the result?",
                              "return np.dot(x, w) + b   # x and w stay 1-D: the result is a "
                              "scalar")
            raise Problem(f"neuron returned an array of shape {shape}; a neuron gives a single "
                          "number", WEIGHTED_SUM, NEURON_FIX)
        if out is not None and not _is_number(out):
            raise Problem(f"neuron returned a {_type_name(out)}, not a number",
                          "A neuron's output is one real number.", NEURON_FIX)
        expect_scalar(out, float(x @ w + b), what, mistakes=_neuron_mistakes(x, w, b))
    return "x · w + b, a single number"


# --- dense_forward -------------------------------------------------------------------------------
DENSE_FORWARD_FIX = "def dense_forward(x, weights, biases):\n    return x @ weights + biases"
SHAPES = ("Write the shapes down: x (N, n_in) times weights (n_in, n_out) gives (N, n_out), one "
          "row per example and one column per neuron; biases (n_out,) line up with the columns.")
ONE_BIAS_EACH = "Neuron j, column j of the output, adds its own bias j, the same for every example."


def _shape_problem(err, **shapes):
    """Problem for a NumPy shape error, with the shapes the student's code was given."""
    given = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
    return Problem(f"your code raised {type(err).__name__} ({str(err).splitlines()[0]}) for "
                   f"{given}: the product of x (N, n_inputs) with weights (n_inputs, n_outputs) "
                   "has shape (N, n_outputs), and the biases (n_outputs,) are added to every row",
                   SHAPES, DENSE_FORWARD_FIX)


def _dense_forward_mistakes(x, weights, biases):
    expected = x @ weights + biases
    n_in, n_out = weights.shape
    mistakes = [
        Mistake(x @ weights, "the biases are missing: every neuron adds its own bias to its "
                "weighted sum", "Which term of Y = XW + b did your code leave out?",
                "return x @ weights + biases   # the biases too"),
        Mistake(expected.T, f"the output is transposed, shape {expected.T.shape}: it must be "
                "(N, n_outputs), one ROW per example and one column per neuron", SHAPES,
                "return x @ weights + biases   # x on the left: rows stay examples"),
        Mistake(x @ weights - biases, "the biases are subtracted: a layer ADDS its biases",
                ONE_BIAS_EACH, "return x @ weights + biases"),
        Mistake(x @ weights + biases.sum(), "you added the SUM of all biases to every output; "
                "each output neuron has its own bias", ONE_BIAS_EACH,
                "return x @ weights + biases   # the vector, not its sum"),
    ]
    if n_in == n_out:
        mistakes += [
            Mistake(x @ weights.T + biases, "you used the weights transposed: weights already has "
                    "shape (n_inputs, n_outputs), with neuron j's weights in column j", SHAPES,
                    "return x @ weights + biases   # no transpose"),
            Mistake(x @ weights + biases[:, None], "the biases were added as a column, shape "
                    "(n_outputs, 1), so bias i went to row i, an example, instead of to column "
                    "i, a neuron", "Broadcasting lines shapes up from the right: a 1-D vector of "
                    "n_outputs numbers is repeated for every row.",
                    "return x @ weights + biases   # biases stay 1-D, shape (n_outputs,)"),
        ]
    return mistakes


@check("dense_forward", hint="Y = XW + b: one matrix product for the whole batch, then the "
       "biases broadcast over the rows. Shapes: (N, n_in) times (n_in, n_out) gives (N, n_out).",
       fix=DENSE_FORWARD_FIX)
def check_dense_forward(dense_forward):
    rng = rng_for_checks()
    # a square layer first: there, wrong orientations still run and give namable wrong numbers
    for n, n_in, n_out in ((4, 4, 4), (5, 3, 2), (1, 6, 4), (8, 784, 10)):
        x = rng.standard_normal((n, n_in))
        weights = rng.standard_normal((n_in, n_out))
        biases = rng.standard_normal(n_out) + 1.0
        try:
            out = call(dense_forward, x, weights, biases)
        except (ValueError, IndexError) as err:
            raise _shape_problem(err, x=x.shape, weights=weights.shape,
                                 biases=biases.shape) from None
        expect_array(out, x @ weights + biases,
                     f"dense_forward for x {x.shape}, weights {weights.shape}",
                     mistakes=_dense_forward_mistakes(x, weights, biases))
    return "XW + b, for batches of any size"


# --- Dense ---------------------------------------------------------------------------------------
DENSE_INIT_FIX = ("self.weights = rng.standard_normal((n_inputs, n_outputs)) "
                  "* np.sqrt(2 / n_inputs)\nself.biases = np.zeros(n_outputs)")
DENSE_FIX = ("class Dense:\n    def __init__(self, n_inputs, n_outputs, *, rng):\n"
             "        self.weights = rng.standard_normal((n_inputs, n_outputs)) "
             "* np.sqrt(2 / n_inputs)\n        self.biases = np.zeros(n_outputs)\n\n"
             "    def forward(self, x):\n        return x @ self.weights + self.biases")
DENSE_FORWARD_METHOD_FIX = "def forward(self, x):\n    return x @ self.weights + self.biases"
HE = ("He initialisation: standard normal numbers scaled to σ = √(2/n_inputs), so that "
      "n_inputs · σ² = 2 makes up for ReLU halving E[x²].")
STANDARD_NORMAL = ("Standard normal numbers are bell-shaped: about 4.6 % of them lie beyond two "
                   "standard deviations, and a few beyond three. The exercise names the "
                   "generator method that draws them.")
# normal numbers: 4.55 % beyond 2σ and kurtosis 3; for the check's 36 000 weights the sampling
# spread of each is about 0.1 % and 0.03, so these bounds hold for any seed
NORMAL_BEYOND_2SD, NORMAL_KURTOSIS = (0.038, 0.053), (2.7, 3.3)


def _std_mistakes(n_in, n_out):
    """The standard deviations of typical wrong weight scales, each with its three tiers."""
    def row(wrong, says, hint=HE):
        return Mistake(wrong, f"the weights have standard deviation {wrong:.4g}: {says}", hint,
                       DENSE_INIT_FIX)
    return [
        row(1.0, "plain standard normal numbers, never scaled; a layer of 300 inputs then makes "
            "the signal about 12 times larger, and deep networks explode"),
        row(0.01, "a fixed small scale that makes the signal shrink layer after layer"),
        row(0.1, "a fixed scale that ignores how many inputs each neuron adds up"),
        row(np.sqrt(1.0 / n_in), "that is √(1/n_inputs), without the factor 2 that makes up for "
            "ReLU setting half of the values to 0"),
        row(2.0 / n_in, "that is 2/n_inputs, the VARIANCE He initialisation asks for, used as "
            "the standard deviation", "σ² is the variance; the scale factor is σ, its square "
            "root."),
        row(np.sqrt(2.0 / n_out), "that is √(2/n_outputs); He initialisation counts the INPUTS "
            "of the layer, the products each neuron adds up"),
        row(np.sqrt(2.0 / (n_in + n_out)), "that is √(2/(n_inputs + n_outputs)), Glorot's "
            "scale; this layer is to use He initialisation"),
    ]


def _distribution_problem(weights):
    """A Problem when the weights are not bell-shaped like scaled standard normal numbers."""
    w = weights.astype(np.float64).ravel()
    z = (w - w.mean()) / w.std()
    beyond, kurtosis, widest = float(np.mean(np.abs(z) > 2)), float(np.mean(z ** 4)), \
        float(np.abs(z).max())
    if NORMAL_BEYOND_2SD[0] <= beyond <= NORMAL_BEYOND_2SD[1] and \
            NORMAL_KURTOSIS[0] <= kurtosis <= NORMAL_KURTOSIS[1]:
        return None
    if widest < 1.8 and kurtosis < 2:
        return Problem(f"the weights are spread evenly over an interval (a uniform "
                       f"distribution): none lies beyond {widest:.2f} standard deviations, where "
                       "standard normal numbers put 4.6 % beyond two; the exercise asks for "
                       "normal numbers", STANDARD_NORMAL,
                       "self.weights = rng.standard_normal((n_inputs, n_outputs)) "
                       "* np.sqrt(2 / n_inputs)   # normal, not uniform")
    return Problem(f"the weights are not distributed like normal numbers: {100 * beyond:.1f} % "
                   f"lie beyond two standard deviations (normal numbers: 4.6 %) and the "
                   f"largest lies {widest:.1f} standard deviations out", STANDARD_NORMAL,
                   DENSE_INIT_FIX)


def _dense_forward_method_mistakes(x, weights, biases):
    expected = x @ weights + biases
    mistakes = [
        Mistake(x @ weights, "forward forgets the biases: every neuron adds its own bias to its "
                "weighted sum", "Which term of Y = XW + b is missing?", DENSE_FORWARD_METHOD_FIX),
        Mistake(expected.T, f"forward returns the output transposed, shape {expected.T.shape}: "
                "it must be (N, n_outputs), one row per example", SHAPES,
                DENSE_FORWARD_METHOD_FIX),
    ]
    if weights.shape[0] == weights.shape[1]:
        mistakes.append(Mistake(x @ weights.T + biases, "forward uses the weights transposed: "
                                "the layer keeps them as (n_inputs, n_outputs), one column per "
                                "neuron", SHAPES, DENSE_FORWARD_METHOD_FIX))
    return mistakes


def _make(Dense, n_in, n_out, seed):
    """Dense(n_in, n_out, rng=...), with a named Problem when the constructor's signature does not
    take those arguments."""
    try:
        return Dense(n_in, n_out, rng=np.random.default_rng(seed))
    except TypeError as err:
        if err.__traceback__.tb_next is not None:   # raised inside the student's __init__
            raise
        raise Problem(f"a layer could not be made from two sizes and a generator passed by the "
                      f"name rng (TypeError: {str(err).splitlines()[0]}): the constructor takes "
                      "n_inputs, n_outputs and the keyword argument rng",
                      "The star in the signature makes rng a keyword-only argument: callers "
                      "write its name.", DENSE_FIX) from None


@check("Dense", hint="A Dense layer keeps weights (n_inputs, n_outputs), He-initialised from the "
       "generator it is given, and biases (n_outputs,) at zero; forward computes XW + b.",
       fix=DENSE_FIX)
def check_dense(Dense):
    n_in, n_out = 300, 120
    layer = _make(Dense, n_in, n_out, 1)
    for name in ("weights", "biases"):
        if not hasattr(layer, name):
            raise Problem(f"Dense has no attribute {name}: the layer must keep its weight matrix "
                          "and its bias vector under the names weights and biases, which every "
                          "later chapter uses", "Attributes are set on self inside __init__.",
                          DENSE_INIT_FIX)
    if not callable(getattr(layer, "forward", None)):
        raise Problem("Dense has no forward method, so a network cannot send a batch through it",
                      "Methods are defined inside the class, indented under it.", DENSE_FIX)
    weights, biases = np.asarray(layer.weights), np.asarray(layer.biases)
    for name, value in (("weights", weights), ("biases", biases)):
        if value.dtype.kind not in "iuf":
            raise Problem(f"{name} is not an array of real numbers (it holds "
                          f"{value.dtype.name} values)", "Both parameters are NumPy arrays of "
                          "floats.", DENSE_INIT_FIX)

    if weights.shape != (n_in, n_out):
        if weights.shape == (n_out, n_in):
            raise Problem(f"weights has shape {weights.shape} = (n_outputs, n_inputs); this "
                          f"course stores it as (n_inputs, n_outputs) = {(n_in, n_out)}, one "
                          "column per neuron, so that a batch of rows multiplies it from the "
                          "left", SHAPES, DENSE_INIT_FIX)
        raise Problem(f"Dense({n_in}, {n_out}) has weights of shape {weights.shape}, expected "
                      f"(n_inputs, n_outputs) = {(n_in, n_out)}", SHAPES, DENSE_INIT_FIX)
    if biases.shape != (n_out,):
        if biases.shape in ((1, n_out), (n_out, 1)):
            raise Problem(f"biases has shape {biases.shape}; make it 1-D, shape (n_outputs,) = "
                          f"{(n_out,)}: one bias per neuron, repeated for every example by "
                          "broadcasting", SHAPES, DENSE_INIT_FIX)
        raise Problem(f"Dense({n_in}, {n_out}) has biases of shape {biases.shape}, expected "
                      f"(n_outputs,) = {(n_out,)}", SHAPES, DENSE_INIT_FIX)
    if np.any(biases != 0):
        raise Problem("the biases do not start at zero: random weights already make the neurons "
                      "differ, and a fresh layer's biases are 0",
                      "Only the weights are drawn at random.", DENSE_INIT_FIX)

    if np.all(weights == weights.flat[0]):
        raise Problem("all weights are equal, so every neuron computes the same output, gets the "
                      "same update, and stays identical to its neighbours forever",
                      "Draw the weights at random from the generator you are given.",
                      DENSE_INIT_FIX)
    mean, std, he = float(weights.mean()), float(weights.std()), np.sqrt(2.0 / n_in)
    if abs(mean) > 0.05 * std:
        raise Problem(f"the weights have mean {mean:.3g}, not 0: they are drawn from a "
                      "distribution that is not centred on 0 (numbers from [0, 1), for example)",
                      STANDARD_NORMAL, DENSE_INIT_FIX)
    shape_problem = _distribution_problem(weights)
    if shape_problem:
        raise shape_problem
    if abs(std / he - 1) > 0.05:
        for mistake in _std_mistakes(n_in, n_out):
            if abs(std / mistake.wrong - 1) < 0.05:
                raise Problem.of(mistake)
        raise Problem(f"the weights have standard deviation {std:.4g}, expected √(2/n_inputs) = "
                      f"{he:.4g} (He initialisation)", HE, DENSE_INIT_FIX)

    again = np.asarray(_make(Dense, n_in, n_out, 1).weights)
    if not np.array_equal(again, weights):
        raise Problem("two layers made with the same seed have different weights: they are not "
                      "drawn from the rng you are given (NumPy's global generator, perhaps), so a "
                      "seed does not reproduce the network", "Every random number the layer "
                      "needs comes from the generator passed in as rng.", DENSE_INIT_FIX)
    other = np.asarray(_make(Dense, n_in, n_out, 2).weights)
    if np.array_equal(other, weights):
        raise Problem("the weights are the same whatever rng is passed in: they come from a "
                      "generator made inside the class, not from the one the caller gives",
                      "Every random number the layer needs comes from the generator passed in "
                      "as rng.", DENSE_INIT_FIX)

    rng = rng_for_checks()
    for n, n_in, n_out in ((4, 4, 4), (6, 5, 3), (1, 7, 2)):
        layer = _make(Dense, n_in, n_out, 3)
        # non-zero biases so that a forward that forgets them is caught
        layer.weights = rng.standard_normal((n_in, n_out))
        layer.biases = rng.standard_normal(n_out) + 1.0
        x = rng.standard_normal((n, n_in))
        try:
            out = call(layer.forward, x)
        except (ValueError, IndexError) as err:
            raise _shape_problem(err, x=x.shape, weights=(n_in, n_out)) from None
        expect_array(out, x @ layer.weights + layer.biases,
                     f"the forward pass of Dense({n_in}, {n_out}) for x {x.shape}",
                     mistakes=_dense_forward_method_mistakes(x, layer.weights, layer.biases))
    return "He-initialised normal weights from the given generator, zero biases, XW + b"


# --- init_std ------------------------------------------------------------------------------------
INIT_STD_FIX = ('def init_std(n_inputs, n_outputs, method):\n    if method == "normal":\n'
                '        return 1.0\n    if method == "glorot":\n'
                '        return np.sqrt(2 / (n_inputs + n_outputs))\n    if method == "he":\n'
                '        return np.sqrt(2 / n_inputs)\n'
                '    raise ValueError(f"unknown method {method!r}: use \'normal\', \'glorot\' '
                'or \'he\'")')
VARIANCE = "The table gives σ; σ² is the variance. Which of the two does init_std return?"


def _reference_std(n_in, n_out, method):
    return {"normal": 1.0, "glorot": np.sqrt(2.0 / (n_in + n_out)),
            "he": np.sqrt(2.0 / n_in)}[method]


def _init_std_mistakes(n_in, n_out, method):
    """The σ of typical wrong formulas for one method; the sizes are unequal, so each differs."""
    fan_sum = n_in + n_out
    what = f"init_std({n_in}, {n_out}, {method!r})"
    he_fix = 'if method == "he":\n    return np.sqrt(2 / n_inputs)'
    glorot_fix = 'if method == "glorot":\n    return np.sqrt(2 / (n_inputs + n_outputs))'
    normal_fix = 'if method == "normal":\n    return 1.0'
    if method == "he":
        return [
            Mistake(2.0 / n_in, f"{what} returned 2/n_inputs, the VARIANCE; init_std returns the "
                    "standard deviation", VARIANCE, he_fix),
            Mistake(np.sqrt(2.0 / n_out), f"{what} used n_outputs: He counts the INPUTS of the "
                    "layer, the products each neuron adds up", "Each output is a sum of "
                    "n_inputs products; its variance grows with that count.", he_fix),
            Mistake(np.sqrt(1.0 / n_in), f"{what} returned √(1/n_inputs): the factor 2, which "
                    "makes up for ReLU zeroing half of the values, is missing",
                    "ReLU halves E[x²]; He's variance is twice LeCun's to make up for it.",
                    he_fix),
            Mistake(1.0 / n_in, f"{what} returned 1/n_inputs: both the factor 2 and the square "
                    "root are missing", VARIANCE, he_fix),
            Mistake(np.sqrt(2.0 / fan_sum), f"{what} returned Glorot's √(2/(n_inputs + "
                    "n_outputs)); He counts the inputs only", "Compare the two rows of the table "
                    "for 'glorot' and 'he'.", he_fix),
            Mistake(np.sqrt(2.0) / n_in, f"{what} returned √2/n_inputs: the square root covers "
                    "the 2 but not the n_inputs", "√(a/b) = √a/√b, not √a/b.", he_fix),
        ]
    if method == "glorot":
        return [
            Mistake(2.0 / fan_sum, f"{what} returned 2/(n_inputs + n_outputs), the VARIANCE; "
                    "init_std returns the standard deviation", VARIANCE, glorot_fix),
            Mistake(np.sqrt(1.0 / fan_sum), f"{what} returned √(1/(n_inputs + n_outputs)): the "
                    "factor 2 is missing; Glorot's variance is 1 over the AVERAGE of the two "
                    "sizes", "The average of two numbers is their sum divided by 2.", glorot_fix),
            Mistake(np.sqrt(2.0 / (n_in * n_out)), f"{what} returned √(2/(n_inputs·n_outputs)): "
                    "you MULTIPLIED the two sizes; Glorot averages them, so its σ stays close to "
                    "He's instead of being far smaller", "Glorot's variance is 1 over the "
                    "average of n_inputs and n_outputs. How is an average of two numbers made?",
                    glorot_fix),
            Mistake(np.sqrt(1.0 / n_in), f"{what} returned √(1/n_inputs), LeCun's σ: Glorot "
                    "looks at the outputs too", "Glorot balances the forward pass (n_inputs) and "
                    "the backward pass (n_outputs).", glorot_fix),
            Mistake(np.sqrt(2.0 / n_in), f"{what} returned He's √(2/n_inputs); Glorot counts the "
                    "outputs as well", "Compare the two rows of the table for 'glorot' and "
                    "'he'.", glorot_fix),
            Mistake(np.sqrt(6.0 / fan_sum), f"{what} returned √(6/(n_inputs + n_outputs)), the "
                    "LIMIT a of Glorot's uniform distribution U(−a, a); our weights are normal, "
                    "and init_std returns their standard deviation", "U(−a, a) has variance "
                    "a²/3; the normal version needs σ itself.", glorot_fix),
            Mistake(np.sqrt(2.0 / n_in + 2.0 / n_out), f"{what} returned √(2/n_inputs + "
                    "2/n_outputs): you added two fractions; Glorot adds the sizes first and "
                    "divides once", "2/a + 2/b is not 2/(a + b).", glorot_fix),
            Mistake(np.sqrt(2.0 / n_in) + n_out, f"{what} is n_outputs larger than He's σ: the "
                    "brackets are misplaced, so n_outputs was added outside the fraction",
                    "Python divides before it adds: the sum in the denominator needs its own "
                    "brackets.", glorot_fix),
            Mistake(np.sqrt(2.0 / n_in + n_out), f"{what} returned √(2/n_inputs + n_outputs): "
                    "the brackets are misplaced, so n_outputs was added outside the fraction",
                    "Python divides before it adds: the sum in the denominator needs its own "
                    "brackets.", glorot_fix),
        ]
    return [
        Mistake(0.0, f"{what} returned 0: weights with σ = 0 are all equal; plain standard "
                "normal numbers have σ = 1", "What is the standard deviation of N(0, 1)?",
                normal_fix),
        Mistake(np.sqrt(2.0 / n_in), f"{what} returned He's value: 'normal' means unscaled "
                "standard normal numbers, σ = 1", "What is the standard deviation of N(0, 1)?",
                normal_fix),
    ]


@check("init_std", hint="σ is the standard deviation, the square root of the variance in the "
       "table: 1 for 'normal', √(2/(n_inputs + n_outputs)) for 'glorot', √(2/n_inputs) for "
       "'he'.",
       fix=INIT_STD_FIX)
def check_init_std(init_std):
    for n_in, n_out in ((784, 256), (300, 100), (10, 1000), (256, 256)):
        for method in ("normal", "glorot", "he"):
            out = call(init_std, n_in, n_out, method)
            what = f"init_std({n_in}, {n_out}, {method!r})"
            if out is None:
                raise Problem(f"{what} is None: the function ends without returning a value for "
                              f"the method {method!r}", "Every method in the table needs a "
                              "branch that returns its σ.", INIT_STD_FIX)
            if np.ndim(out) != 0:
                raise Problem(f"{what} returned an array of shape {np.shape(out)}, not a single "
                              "number: σ is one number for the whole layer",
                              "Every weight of the layer is drawn with the same σ.", INIT_STD_FIX)
            if not _is_number(out):
                raise Problem(f"{what} returned a {_type_name(out)}, not a number",
                              "σ is one real number.", INIT_STD_FIX)
            mistakes = [] if n_in == n_out else _init_std_mistakes(n_in, n_out, method)
            expect_scalar(out, _reference_std(n_in, n_out, method), what, mistakes=mistakes,
                          rtol=1e-6, atol=0)
    return "σ = 1, √(2/(n_in + n_out)) and √(2/n_in) for the three methods"


# --- Glorot vs He --------------------------------------------------------------------------------
GLOROT_VS_HE_FIX = (
    "def glorot_vs_he():\n"
    "    glorot, he = glorot_and_he(n_layers=30)\n"
    "    depth = int(np.argmax(glorot / he < 1e-3))   # index 0 is the input, index L is layer L\n"
    '    return {"glorot_factor": 1 / np.sqrt(2), "he_factor": 1.0, "depth": depth}')
READ_THE_TABLE = ("A layer's 'ratio to previous' is its std divided by the std of the layer "
                  "before it; read the typical value of that column for each initialisation.")
DEPTH_HINT = ("With the same seed, the Glorot/He column is exact: the first layer (784 → 256) "
              "gives √(784/1040) ≈ 0.87, and every 256 → 256 layer after it multiplies by "
              "another 1/√2. Find the first L with 0.87 · (1/√2)^(L − 1) below 1/1000, or push "
              "the images through 30 layers and look.")
KEYS = ("glorot_factor", "he_factor", "depth")
# the accepted ranges of the two factors, and how far a wrong answer may be from a row's value
FACTOR_RANGES = {"glorot_factor": (0.65, 0.78), "he_factor": (0.92, 1.08)}
NEAR = 0.08


def _factor_mistakes(key):
    name = {"glorot_factor": "Glorot", "he_factor": "He"}[key]
    upside_down = Mistake(None, f"a {name} factor above 1 means the signal grows; each layer's "
                          "std was divided by the NEXT layer's, where the ratio in the table is "
                          "a layer over the one BEFORE it", READ_THE_TABLE, GLOROT_VS_HE_FIX)
    rows = [Mistake(0.5, f"a {name} factor of 0.5 is the factor of the VARIANCE per layer; the "
                    "standard deviation (what the table prints) shrinks by its square root",
                    "ReLU halves E[x²], the variance; the std is its square root.",
                    GLOROT_VS_HE_FIX),
            upside_down._replace(wrong=np.sqrt(2)), upside_down._replace(wrong=2.0)]
    if key == "glorot_factor":
        rows.append(Mistake(1.0, "a Glorot factor of 1 would keep the signal steady; the table "
                            "shows it shrinking layer after layer", READ_THE_TABLE,
                            GLOROT_VS_HE_FIX))
    else:
        rows.append(Mistake(1 / np.sqrt(2), "a He factor of 0.71 would make the signal fade "
                            "layer after layer; He's variance, twice Glorot's for a square layer, "
                            "makes up for ReLU's halving",
                            "Look at He's 'ratio to previous' column: does the signal shrink?",
                            GLOROT_VS_HE_FIX))
    return rows


def _glorot_over_he(depth):
    """Glorot's activations over He's after ``depth`` layers (784 → 256, then 256 → 256)."""
    return np.sqrt(784 / 1040) * 0.5 ** ((depth - 1) / 2)


def _times_smaller(depth):
    factor = 1 / _glorot_over_he(depth)
    return "more than a million times" if factor > 1e6 else f"about {factor:.0f} times"


@check("glorot_vs_he", hint="Read the 'ratio to previous' columns for the two factors, and the "
       "Glorot/He column for the depth: the first number of layers at which Glorot's activations "
       "are at least 1000 times smaller than He's.", fix=GLOROT_VS_HE_FIX)
def check_glorot_vs_he(glorot_vs_he):
    answer = glorot_vs_he() if callable(glorot_vs_he) else glorot_vs_he
    if answer is None:
        raise NotImplementedError()
    if not isinstance(answer, dict):
        raise Problem(f"the answer is a {_type_name(answer)}; the exercise asks for a dict with "
                      "exactly the keys 'glorot_factor', 'he_factor' and 'depth'",
                      "A dict maps each key, a string, to its value.", GLOROT_VS_HE_FIX)
    if set(answer) != set(KEYS):
        given = ", ".join(repr(k) for k in answer) or "none"
        raise Problem(f"the answer has the keys {given}; the exercise asks for exactly the keys "
                      "'glorot_factor', 'he_factor' and 'depth'", "The keys are spelled as in "
                      "the exercise, all three and nothing else.", GLOROT_VS_HE_FIX)
    for key in KEYS:
        value = answer[key]
        if not _is_number(value):
            raise Problem(f"the value for '{key}' should be one number, got a "
                          f"{_type_name(value)}", "Each value is a single int or float.",
                          GLOROT_VS_HE_FIX)
        if not np.isfinite(float(value)):
            raise Problem(f"the value for '{key}' is {float(value)}: give a finite number",
                          "Each value is a single int or float you read from the table.",
                          GLOROT_VS_HE_FIX)
    glorot, he, depth = (float(answer[key]) for key in KEYS)
    for key, value in (("glorot_factor", glorot), ("he_factor", he)):
        low, high = FACTOR_RANGES[key]
        if low <= value <= high:
            continue
        for mistake in _factor_mistakes(key):
            if abs(value - mistake.wrong) < NEAR:
                raise Problem.of(mistake)
        name = {"glorot_factor": "Glorot", "he_factor": "He"}[key]
        raise Problem(f"the {name} factor {value:.3g} does not match the table: it is the typical "
                      "ratio of a 256 → 256 layer's std to the std of the layer before it (from "
                      "layer 2 on; the first layer is 784 → 256)", READ_THE_TABLE,
                      GLOROT_VS_HE_FIX)

    if depth != int(depth):
        raise Problem(f"the depth {depth:g} is not a whole number of layers",
                      "Count layers: 1, 2, 3, …", GLOROT_VS_HE_FIX)
    depth = int(depth)
    if depth < 1:
        raise Problem(f"the depth {depth} is not a number of layers: a network has at least one",
                      DEPTH_HINT, GLOROT_VS_HE_FIX)
    if depth == 21:
        return ("Glorot loses a factor √2 per layer, He none: after 21 layers Glorot's "
                "signal is 1000 times smaller than He's")
    if depth == 20:
        raise Problem(f"at 20 layers Glorot's activations are {_times_smaller(20)} smaller than "
                      "He's, not yet 1000: the question asks for the FIRST depth at which they "
                      "are at least 1000 times smaller", "Index 0 of the list of stds is the "
                      "input images, so the entry at index L is the output of layer L.",
                      GLOROT_VS_HE_FIX)
    if depth == 22:
        raise Problem(f"at 22 layers Glorot's activations are {_times_smaller(22)} smaller than "
                      "He's, but one layer less is already more than 1000 times: the question "
                      "asks for the FIRST such depth", "Index 0 of the list of stds is the input "
                      "images, so the entry at index L is the output of layer L.",
                      GLOROT_VS_HE_FIX)
    if depth in (10, 11):
        raise Problem(f"at {depth} layers Glorot's activations are only {_times_smaller(depth)} "
                      f"smaller than He's: depth {depth} is what a factor 1/2 per layer gives, "
                      "but the std shrinks by 1/√2 per layer, so it takes about twice as many "
                      "layers", DEPTH_HINT, GLOROT_VS_HE_FIX)
    shortfall = "only " if depth < 21 else ""
    raise Problem(f"depth {depth} does not fit: at {depth} layers Glorot's activations are "
                  f"{shortfall}{_times_smaller(depth)} smaller than He's, not about 1000 times",
                  DEPTH_HINT, GLOROT_VS_HE_FIX)
