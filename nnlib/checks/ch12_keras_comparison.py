"""Checks for chapter 12 (the same network in Keras). They need NumPy only, not TensorFlow."""

import numpy as np

from ..activations import ReLU, Softmax
from ..layers import Dense
from ..model import Model
from ._core import Problem, check, expect_array, rng_for_checks


def reference_keras_weights(model):
    """The list ``keras_model.set_weights`` expects: [kernel₁, bias₁, kernel₂, bias₂, …]."""
    return [getattr(layer, name) for layer in model.layers for name in layer.param_names]


def _model(sizes, rng):
    """Dense layers of ``sizes`` with ReLU between them and Softmax at the end; biases non-zero
    (and all different), so that a bias cannot pass for another one."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        dense = Dense(n_in, n_out, rng=rng)
        dense.biases[:] = rng.standard_normal(n_out)
        layers += [dense, ReLU()] if i < len(sizes) - 2 else [dense, Softmax()]
    return Model(layers, input_shape=sizes[0])


def _same(a, b):
    return np.shape(a) == np.shape(b) and np.array_equal(a, b)


@check("keras_weights")
def check_keras_weights(keras_weights):
    rng = rng_for_checks()
    for sizes in [(784, 128, 10), (6, 5, 4, 3)]:
        model = _model(sizes, rng)
        before = [p.copy() for p in reference_keras_weights(model)]
        out = keras_weights(model)
        if any(not _same(a, b) for a, b in zip(reference_keras_weights(model), before)):
            raise Problem("it changed the model's weights or biases; only read them")
        _compare(out, before, model, sizes)
    return "[kernel, bias] of each Dense layer in order, shapes as Keras expects"


def _compare(out, expected, model, sizes):
    n_dense = len(sizes) - 1
    where = f"for a model with {n_dense} Dense layers {' → '.join(map(str, sizes))}"
    if out is None:
        raise Problem("keras_weights(model) returned None: did you forget `return`?")
    if isinstance(out, dict):
        raise Problem("it returned a dict; Keras's set_weights takes a plain list of arrays "
                      "[kernel₁, bias₁, kernel₂, bias₂, …]")
    if isinstance(out, np.ndarray) and out.ndim == 1 and out.dtype != object:
        raise Problem("it returned one flat vector; Keras wants a list with one array per "
                      "variable: [kernel₁, bias₁, kernel₂, bias₂, …]")
    out = list(out)
    if any(a is None for a in out):
        raise Problem("the list contains None: ReLU and Softmax have no parameters "
                      "(their param_names is empty), so they add nothing to the list")
    if any(np.size(a) == 0 for a in out):
        raise Problem("the list contains empty arrays: ReLU and Softmax have no parameters "
                      "(their param_names is empty), so they add nothing to the list")
    if len(out) != len(expected):
        kernels = expected[::2]
        if len(out) == n_dense and all(_same(a, k) for a, k in zip(out, kernels)):
            raise Problem(f"it gave only the kernels ({len(out)} arrays) {where}; each Dense "
                          "layer has two Keras variables: its kernel AND its bias")
        if len(out) == 4 and n_dense != 2:
            raise Problem(f"it gave 4 arrays {where}, expected {len(expected)}: it seems to "
                          "handle exactly two Dense layers; loop over model.layers instead of "
                          "picking layers by index")
        raise Problem(f"it gave {len(out)} arrays {where}, expected {len(expected)} "
                      "(a kernel and a bias per Dense layer)")
    for i, (mine, right) in enumerate(zip(out, expected)):
        mine = np.asarray(mine)
        role = ("kernel" if i % 2 == 0 else "bias") + str(i // 2 + 1)
        if i % 2 == 0 and _same(mine, right.T):
            raise Problem(f"{role} is transposed, shape {mine.shape}: a Keras kernel is "
                          "(n_inputs, n_outputs), exactly like nnlib's Dense.weights, so no .T "
                          "(it is PyTorch's nn.Linear that stores (n_outputs, n_inputs))")
        if i % 2 == 1 and mine.shape == (1, right.size) and _same(mine.ravel(), right):
            raise Problem(f"{role} has shape {mine.shape}; a Keras bias is 1-D ({right.size},), "
                          "like nnlib's Dense.biases: do not reshape it")
        if not _same(mine, right):
            for j, other in enumerate(expected):
                if j != i and _same(mine, other):
                    raise Problem(f"entry {i} holds {'kernel' if j % 2 == 0 else 'bias'}"
                                  f"{j // 2 + 1} instead of {role}: Keras lists the variables "
                                  "layer by layer, [kernel₁, bias₁, kernel₂, bias₂, …]")
        expect_array(mine, right, f"entry {i} ({role})", rtol=0, atol=0)


def reference_weights_from_torch_layout(state_dict):
    """torch layout {"0.weight": (n_out, n_in), "0.bias": (n_out,), …}
    -> [kernel₁ (n_in, n_out), bias₁ (n_out,), kernel₂, bias₂, …] for set_weights."""
    weights = []
    for key, array in state_dict.items():
        weights.append(array.T if key.endswith(".weight") else array)
    return weights


def _torch_state_dict(sizes, rng):
    """What ``nn.Sequential(Linear, ReLU, Linear, …).state_dict()`` holds, as float32 NumPy arrays:
    keys "0.weight", "0.bias", "2.weight", … (the ReLUs take the odd indices), in that order."""
    state = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        state[f"{2 * i}.weight"] = rng.standard_normal((n_out, n_in)).astype(np.float32)
        state[f"{2 * i}.bias"] = rng.standard_normal(n_out).astype(np.float32)
    return state


@check("weights_from_torch_layout")
def check_weights_from_torch_layout(weights_from_torch_layout):
    rng = rng_for_checks()
    # every matrix non-square: a missing transpose or a reshape must change the shape or values
    for sizes in [(784, 128, 10), (6, 5, 4, 3)]:
        state = _torch_state_dict(sizes, rng)
        before = {key: array.copy() for key, array in state.items()}
        out = weights_from_torch_layout(state)
        if list(state) != list(before) or any(not _same(state[k], before[k]) for k in before):
            raise Problem("it changed the state_dict it was given; only read it")
        _compare_torch(out, before, sizes)
    return "kernels transposed to (n_inputs, n_outputs), biases 1-D, layer by layer"


def _compare_torch(out, state, sizes):
    n_linear = len(sizes) - 1
    where = f"for {n_linear} Linear layers {' → '.join(map(str, sizes))}"
    expected = reference_weights_from_torch_layout(state)
    keys = list(state)
    if out is None:
        raise Problem("weights_from_torch_layout(state_dict) returned None: did you forget "
                      "`return`?")
    if isinstance(out, dict):
        raise Problem("it returned a dict; set_weights takes a plain list of arrays "
                      "[kernel₁, bias₁, kernel₂, bias₂, …]")
    out = [np.asarray(a) for a in out]
    if len(out) != len(expected):
        raise Problem(f"it gave {len(out)} arrays {where}, expected {len(expected)} (a kernel "
                      "and a bias per Linear layer, in the order of the state_dict)")
    for i, (mine, right) in enumerate(zip(out, expected)):
        key = keys[i]
        role = ("kernel" if i % 2 == 0 else "bias") + str(i // 2 + 1)
        torch_array = state[key]
        if not _same(mine, right):
            for j, other in enumerate(expected):
                if j != i and (_same(mine, other) or _same(mine, state[keys[j]])):
                    raise Problem(f"entry {i} holds the array of {keys[j]!r} instead of "
                                  f"{key!r} ({role}): keep the layers in the order of the "
                                  "state_dict, each layer's kernel then its bias")
        if i % 2 == 0:
            n_out, n_in = torch_array.shape
            if _same(mine, torch_array):
                raise Problem(f"{role} has shape {mine.shape}, torch's layout (n_outputs, "
                              f"n_inputs); Keras and nnlib want (n_inputs, n_outputs) = "
                              f"({n_in}, {n_out}): transpose it")
            if _same(mine, torch_array.reshape(n_in, n_out)):
                raise Problem(f"{role} has the right shape ({n_in}, {n_out}) but the wrong "
                              "numbers: reshape keeps the order of the numbers in memory and "
                              "cuts it differently; a transpose (.T) swaps rows and columns")
        else:
            if mine.shape == (1, right.size) and _same(mine.ravel(), right):
                raise Problem(f"{role} has shape {mine.shape}; a Keras or nnlib bias is 1-D "
                              f"({right.size},), exactly as torch stores it: leave it as it is")
            if mine.shape == (right.size, 1) and _same(mine.ravel(), right):
                raise Problem(f"{role} has shape {mine.shape}; a bias is 1-D ({right.size},): "
                              "only the weight matrices need a transpose")
        expect_array(mine, right, f"entry {i} ({role}, from {key!r})", rtol=0, atol=0)
