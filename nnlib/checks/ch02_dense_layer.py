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
