"""Checks for chapter 02, the dense layer: neuron, dense_forward and the Dense class."""

import numpy as np

from ._core import Problem, call, check, expect_array, expect_scalar, rng_for_checks


def _shape_hint(err, **shapes):
    """Problem for a NumPy shape error, with the shapes the student's code was given."""
    given = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
    return Problem(f"raised {type(err).__name__} ({str(err).splitlines()[0]}) for {given}: "
                   "x @ weights needs weights of shape (n_inputs, n_outputs) and gives "
                   "(N, n_outputs); biases (n_outputs,) then broadcast over the rows")


@check("neuron")
def check_neuron(neuron):
    rng = rng_for_checks()
    for n_in in (3, 7, 1):
        x, w = rng.standard_normal(n_in), rng.standard_normal(n_in)
        b = float(rng.standard_normal()) + 2.0
        out = call(neuron, x, w, b)
        if out is None:
            raise Problem("neuron(x, w, b) is None: did you forget `return`?")
        if np.ndim(out) != 0 and np.size(out) == n_in and n_in > 1:
            raise Problem(f"neuron returned {np.size(out)} numbers, one per input: multiply AND "
                          "sum (`np.dot(x, w)` or `x @ w`), then add b")
        expect_scalar(out, float(x @ w + b), f"neuron(x, w, b) for {n_in} inputs", mistakes=[
            (float(x @ w), "the bias is missing: a neuron computes x · w + b"),
            (float(np.sum(x * w + b)), "you added b to every product before summing, so the bias "
                                       f"counts {n_in} times: compute `np.dot(x, w) + b`"),
            (float(x @ w - b), "the bias is subtracted: a neuron computes x · w + b"),
            (float(np.sum(x + w) + b), "you added x and w; a neuron MULTIPLIES each input by its "
                                       "weight, then sums: `np.dot(x, w) + b`"),
            (float(x @ w * b), "you multiplied by the bias; add it: `np.dot(x, w) + b`"),
        ])
    return "output = x · w + b"


@check("dense_forward")
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
            raise _shape_hint(err, x=x.shape, weights=weights.shape, biases=biases.shape) from None
        expected = x @ weights + biases
        mistakes = [
            (x @ weights, "the biases are missing: the layer computes x @ weights + biases"),
            ((x @ weights + biases).T, f"the output is transposed, shape {expected.T.shape}: it "
                                       "must be (N, n_outputs), one ROW per example — "
                                       "compute x @ weights, not weights.T @ x.T"),
            (x @ weights - biases, "the biases are subtracted: the layer computes "
                                   "x @ weights + biases"),
            (x @ weights + biases.sum(), "you added the SUM of the biases to every output; each "
                                         "output neuron j gets its own biases[j]"),
        ]
        if n_in == n_out:
            mistakes += [
                (x @ weights.T + biases, "you used the weights transposed (x @ weights.T): "
                                         "weights has shape (n_inputs, n_outputs), so the batch "
                                         "is simply x @ weights"),
                (x @ weights + biases[:, None], "the biases were added as a column (n_outputs, 1) "
                                                "instead of a row: add the 1-D biases (n_outputs,) "
                                                "so they broadcast over the rows"),
            ]
        expect_array(out, expected, f"dense_forward for x {x.shape}, weights {weights.shape}",
                     mistakes=mistakes)
    return "x @ weights + biases, for batches of any size"


def _std_mistakes(n_in, n_out):
    return [
        (1.0, "the weights have standard deviation 1: scale standard normal numbers by "
              "np.sqrt(2 / n_inputs) (He initialisation)"),
        (0.01, "the weights have standard deviation 0.01, a fixed small scale that makes the "
               "signal shrink layer after layer: use np.sqrt(2 / n_inputs)"),
        (0.1, "the weights have standard deviation 0.1, a fixed scale: use np.sqrt(2 / n_inputs)"),
        (np.sqrt(1.0 / n_in), "the weights have standard deviation sqrt(1/n_inputs); for ReLU "
                              "layers He initialisation uses sqrt(2/n_inputs)"),
        (2.0 / n_in, "the weights have standard deviation 2/n_inputs, which is the VARIANCE: "
                     "scale by its square root, np.sqrt(2 / n_inputs)"),
        (np.sqrt(2.0 / n_out), "the weights have standard deviation sqrt(2/n_outputs): He "
                               "initialisation divides by the number of INPUTS, "
                               "np.sqrt(2 / n_inputs)"),
        (np.sqrt(2.0 / (n_in + n_out)), "the weights have standard deviation "
                                        "sqrt(2/(n_inputs + n_outputs)) (Glorot); use He "
                                        "initialisation, np.sqrt(2 / n_inputs)"),
    ]


@check("Dense")
def check_dense(Dense):
    n_in, n_out = 300, 120
    layer = Dense(n_in, n_out, rng=np.random.default_rng(1))
    for name in ("weights", "biases"):
        if not hasattr(layer, name):
            raise Problem(f"Dense has no attribute `{name}`: set self.{name} in __init__")
    weights, biases = np.asarray(layer.weights), np.asarray(layer.biases)

    if weights.shape != (n_in, n_out):
        if weights.shape == (n_out, n_in):
            raise Problem(f"weights has shape {weights.shape} = (n_outputs, n_inputs); this "
                          f"course stores it as (n_inputs, n_outputs) = {(n_in, n_out)}, so a "
                          "batch goes through as x @ weights")
        raise Problem(f"Dense({n_in}, {n_out}).weights has shape {weights.shape}, "
                      f"expected (n_inputs, n_outputs) = {(n_in, n_out)}")
    if biases.shape != (n_out,):
        if biases.shape in ((1, n_out), (n_out, 1)):
            raise Problem(f"biases has shape {biases.shape}; make it 1-D, shape (n_outputs,) = "
                          f"{(n_out,)}, e.g. np.zeros(n_outputs)")
        raise Problem(f"Dense({n_in}, {n_out}).biases has shape {biases.shape}, "
                      f"expected (n_outputs,) = {(n_out,)}")
    if np.any(biases != 0):
        raise Problem("the biases do not start at zero: initialise them with np.zeros(n_outputs)")

    mean, std, he = float(weights.mean()), float(weights.std()), np.sqrt(2.0 / n_in)
    if np.all(weights == weights.flat[0]):
        raise Problem("all weights are equal: draw them at random, "
                      "rng.standard_normal((n_inputs, n_outputs)) * np.sqrt(2 / n_inputs)")
    if abs(mean) > 0.05 * std:
        raise Problem(f"the weights have mean {mean:.3g}, not 0: draw them from a distribution "
                      "centred on 0, rng.standard_normal(...) (rng.random() is in [0, 1))")
    if abs(std / he - 1) > 0.05:
        for wrong, why in _std_mistakes(n_in, n_out):
            if abs(std / wrong - 1) < 0.05:
                raise Problem(why)
        raise Problem(f"the weights have standard deviation {std:.4g}, expected "
                      f"sqrt(2/n_inputs) = {he:.4g} (He initialisation)")

    again = np.asarray(Dense(n_in, n_out, rng=np.random.default_rng(1)).weights)
    if not np.array_equal(again, weights):
        raise Problem("two layers made with the same rng seed have different weights: draw them "
                      "from the `rng` you are given (rng.standard_normal), not np.random")
    other = np.asarray(Dense(n_in, n_out, rng=np.random.default_rng(2)).weights)
    if np.array_equal(other, weights):
        raise Problem("the weights are the same whatever rng is passed in: draw them from the "
                      "`rng` argument, not from a generator you make yourself")

    rng = rng_for_checks()
    for n, n_in, n_out in ((4, 4, 4), (6, 5, 3), (1, 7, 2)):
        layer = Dense(n_in, n_out, rng=np.random.default_rng(3))
        # non-zero biases so that a forward that forgets them is caught
        layer.weights = rng.standard_normal((n_in, n_out))
        layer.biases = rng.standard_normal(n_out) + 1.0
        x = rng.standard_normal((n, n_in))
        try:
            out = call(layer.forward, x)
        except (ValueError, IndexError) as err:
            raise _shape_hint(err, x=x.shape, weights=(n_in, n_out)) from None
        expected = x @ layer.weights + layer.biases
        mistakes = [
            (x @ layer.weights, "forward forgets the biases: return "
                                "x @ self.weights + self.biases"),
            (expected.T, "forward returns the output transposed: it must be (N, n_outputs), "
                         "x @ self.weights + self.biases"),
        ]
        if n_in == n_out:
            mistakes.append((x @ layer.weights.T + layer.biases,
                             "forward uses the weights transposed: weights is "
                             "(n_inputs, n_outputs), so compute x @ self.weights"))
        expect_array(out, expected, f"Dense({n_in}, {n_out}).forward(x) for x {x.shape}",
                     mistakes=mistakes)
    return "He-initialised from rng, zero biases, forward = x @ weights + biases"


# --- Glorot vs He ----------------------------------------------------------------------------------
def _reference_std(n_in, n_out, method):
    return {"normal": 1.0, "glorot": np.sqrt(2.0 / (n_in + n_out)), "he": np.sqrt(2.0 / n_in)}[method]


def _init_std_mistakes(n_in, n_out, method):
    """(wrong σ, why) pairs for one method; the sizes are unequal, so each formula differs."""
    fan_avg = n_in + n_out
    if method == "he":
        return [
            (2.0 / n_in, "init_std(..., 'he') returned 2/n_inputs, the VARIANCE: the standard "
                         "deviation is its square root, np.sqrt(2 / n_inputs)"),
            (np.sqrt(2.0 / n_out), "init_std(..., 'he') used n_outputs: He divides by the number "
                                   "of INPUTS of the layer, np.sqrt(2 / n_inputs)"),
            (np.sqrt(1.0 / n_in), "init_std(..., 'he') returned sqrt(1/n_inputs): the factor 2, "
                                  "which makes up for ReLU zeroing half the signal, is missing"),
            (1.0 / n_in, "init_std(..., 'he') returned 1/n_inputs: both the factor 2 and the "
                         "square root are missing, np.sqrt(2 / n_inputs)"),
            (np.sqrt(2.0 / fan_avg), "init_std(..., 'he') returned Glorot's "
                                     "sqrt(2/(n_inputs + n_outputs)); He is np.sqrt(2 / n_inputs)"),
            (np.sqrt(2.0) / n_in, "init_std(..., 'he') returned sqrt(2)/n_inputs: take the square "
                                  "root of the whole fraction, np.sqrt(2 / n_inputs)"),
        ]
    if method == "glorot":
        return [
            (2.0 / fan_avg, "init_std(..., 'glorot') returned 2/(n_inputs + n_outputs), the "
                            "VARIANCE: return its square root"),
            (np.sqrt(1.0 / fan_avg), "init_std(..., 'glorot') returned sqrt(1/(n_inputs + "
                                     "n_outputs)): the factor 2 is missing — Glorot's variance "
                                     "is 1 over the AVERAGE of n_inputs and n_outputs"),
            (np.sqrt(1.0 / n_in), "init_std(..., 'glorot') returned sqrt(1/n_inputs) (LeCun): "
                                  "Glorot averages inputs and outputs, "
                                  "np.sqrt(2 / (n_inputs + n_outputs))"),
            (np.sqrt(2.0 / n_in), "init_std(..., 'glorot') returned He's sqrt(2/n_inputs); Glorot "
                                  "is np.sqrt(2 / (n_inputs + n_outputs))"),
            (np.sqrt(6.0 / fan_avg), "init_std(..., 'glorot') returned sqrt(6/(n_inputs + "
                                     "n_outputs)), the LIMIT a of Glorot's uniform U(-a, a); we "
                                     "draw normal numbers, so return the std, "
                                     "np.sqrt(2 / (n_inputs + n_outputs))"),
            (np.sqrt(2.0 / n_in + 2.0 / n_out), "init_std(..., 'glorot') returned sqrt(2/n_inputs "
                                                "+ 2/n_outputs): add the sizes first, "
                                                "np.sqrt(2 / (n_inputs + n_outputs))"),
            (np.sqrt(2.0 / n_in) + n_out, "init_std(..., 'glorot'): mind the brackets, "
                                          "np.sqrt(2 / (n_inputs + n_outputs))"),
            (np.sqrt(2.0 / n_in + n_out), "init_std(..., 'glorot'): mind the brackets, "
                                          "np.sqrt(2 / (n_inputs + n_outputs))"),
        ]
    return [
        (0.0, "init_std(..., 'normal') returned 0: plain N(0, 1) numbers have standard deviation 1"),
        (np.sqrt(2.0 / n_in), "init_std(..., 'normal') returned He's value: 'normal' means "
                              "unscaled N(0, 1) numbers, standard deviation 1"),
    ]


@check("init_std")
def check_init_std(init_std):
    for n_in, n_out in ((784, 256), (300, 100), (10, 1000), (256, 256)):
        for method in ("normal", "glorot", "he"):
            out = call(init_std, n_in, n_out, method)
            what = f"init_std({n_in}, {n_out}, {method!r})"
            if out is None:
                raise Problem(f"{what} is None: did you forget `return`, or a branch for "
                              f"{method!r}?")
            mistakes = [] if n_in == n_out else _init_std_mistakes(n_in, n_out, method)
            expect_scalar(out, _reference_std(n_in, n_out, method), what, mistakes=mistakes,
                          rtol=1e-6, atol=0)
    return ("σ = 1, sqrt(2/(n_in + n_out)) and sqrt(2/n_in); for a square layer Glorot is "
            "He / √2")


_FACTOR_NAMES = {"glorot_factor": "Glorot", "he_factor": "He"}


@check("glorot_vs_he")
def check_glorot_vs_he(glorot_vs_he):
    answer = glorot_vs_he() if callable(glorot_vs_he) else glorot_vs_he
    if answer is None:
        raise NotImplementedError()
    keys = ("glorot_factor", "he_factor", "depth")
    if not isinstance(answer, dict) or set(answer) != set(keys):
        raise Problem("return a dict with exactly the keys 'glorot_factor', 'he_factor' and "
                      f"'depth', got {answer!r}")
    for key in keys:
        value = answer[key]
        if isinstance(value, (bool, str)) or np.ndim(value) != 0:
            raise Problem(f"answer['{key}'] should be one number, got {value!r}")
        if not np.isfinite(float(value)):
            raise Problem(f"answer['{key}'] is {value}: give a finite number")
    glorot, he, depth = (float(answer[key]) for key in keys)
    for key, value, low, high in (("glorot_factor", glorot, 0.65, 0.78),
                                  ("he_factor", he, 0.92, 1.08)):
        if low <= value <= high:
            continue
        name = _FACTOR_NAMES[key]
        if abs(value - 0.5) < 0.05:
            raise Problem(f"a {name} factor of 0.5 is the factor of the VARIANCE per layer; the "
                          "standard deviation (what the table prints) shrinks by its square root")
        if key == "glorot_factor" and abs(value - 1) < 0.08:
            raise Problem("a Glorot factor of 1 would keep the signal steady; the table shows "
                          "it shrinking layer after layer: divide one layer's std by the one "
                          "before")
        if abs(value - 1.414) < 0.1 or abs(value - 2) < 0.1:
            raise Problem(f"a {name} factor above 1 means the signal grows; divide a layer's std "
                          "by the PREVIOUS layer's, not the other way round")
        if key == "he_factor" and abs(value - 0.707) < 0.06:
            raise Problem("0.71 is Glorot's factor; He's variance 2/n_in makes up for ReLU's "
                          "halving, so its factor is about 1")
        raise Problem(f"the {name} factor {value:.3g} does not match the table: per ReLU layer "
                      f"of 256 units, divide one layer's std by the previous one's (from layer 2 "
                      "on, the first layer is 784 → 256)")
    if depth != int(depth):
        raise Problem(f"answer['depth'] is {depth:g}: give a whole number of layers")
    depth = int(depth)
    if depth in (20, 21):
        return ("Glorot loses a factor √2 per layer, He none: after 21 layers Glorot's "
                "signal is 1000 times smaller than He's")
    if depth in (10, 11):
        raise Problem(f"depth {depth} is what a factor 1/2 per layer gives; the std shrinks by "
                      "1/√2 per layer, so it takes twice as many layers")
    raise Problem(f"depth {depth} does not fit: after the first layer (784 → 256) Glorot's std "
                  "is √(784/1040) = 0.87 of He's, and every 256 → 256 layer after it takes "
                  "another factor 1/√2; solve 0.87 · (1/√2)^(L − 1) < 1/1000 for L, or push the "
                  "images through more layers and look")
