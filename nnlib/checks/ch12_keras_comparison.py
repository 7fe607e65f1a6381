"""Checks for chapter 12 (the same network in Keras). They need NumPy only, not TensorFlow."""

import numpy as np

from ..activations import ReLU, Softmax
from ..layers import Dense
from ..model import Model
from ._core import Problem, check, expect_array, rng_for_checks

KERAS_FIX = """def keras_weights(model):
    return [getattr(layer, name) for layer in model.layers for name in layer.param_names]"""
KERAS_ORDER = ("Keras lists its variables layer by layer: [kernel₁, bias₁, kernel₂, bias₂, …]. "
               "Each nnlib layer names its parameters, and a ReLU or Softmax names none.")
SAME_LAYOUT = ("A Keras kernel is (n_inputs, n_outputs) and a Keras bias is (n_outputs,): exactly "
               "the shapes of nnlib's Dense weights and biases, so the arrays go over unchanged.")
TORCH_FIX = """def weights_from_torch_layout(state_dict):
    return [array.T if key.endswith(".weight") else array for key, array in state_dict.items()]"""
TORCH_LAYOUT = ("torch stores a Linear weight as (n_outputs, n_inputs), Keras and nnlib as "
                "(n_inputs, n_outputs): each weight needs a transpose, each bias stays as it is.")
TORCH_ORDER = ("A dict keeps the order its keys were inserted in: the state_dict already lists "
               "each layer's weight, then its bias, layer after layer.")


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


def _as_list(out, fix, order):
    """The student's list of arrays, after the checks that such a list needs."""
    if out is None:
        raise Problem("it returned None: the function builds its list but ends without "
                      "returning it", "A function without a return statement gives None to its "
                      "caller.", fix)
    if isinstance(out, dict):
        raise Problem("it returned a dict; set_weights takes a plain list of arrays "
                      "[kernel₁, bias₁, kernel₂, bias₂, …], in order, without names", order, fix)
    if isinstance(out, np.ndarray) and out.ndim == 1 and out.dtype != object:
        raise Problem("it returned one flat vector; Keras wants a list with one array per "
                      "variable: [kernel₁, bias₁, kernel₂, bias₂, …]", order, fix)
    if not isinstance(out, (list, tuple)):
        raise Problem(f"it returned a value of type {type(out).__name__}; set_weights takes a "
                      "list of arrays", order, fix)
    arrays = []
    for i, entry in enumerate(out):
        try:
            arrays.append(entry if entry is None else np.asarray(entry))
        except ValueError:
            raise Problem(f"entry {i} of the list is not an array: its rows differ in length",
                          order, fix) from None
    return arrays


@check("keras_weights", hint=KERAS_ORDER, fix=KERAS_FIX)
def check_keras_weights(keras_weights):
    rng = rng_for_checks()
    for sizes in [(784, 128, 10), (6, 5, 4, 3)]:
        model = _model(sizes, rng)
        before = [p.copy() for p in reference_keras_weights(model)]
        out = keras_weights(model)
        if any(not _same(a, b) for a, b in zip(reference_keras_weights(model), before)):
            raise Problem("it changed the model's weights or biases; it must only read them",
                          "Collecting the arrays in a list changes nothing in the model.",
                          KERAS_FIX)
        _compare(_as_list(out, KERAS_FIX, KERAS_ORDER), before, sizes)
    return "[kernel, bias] of each Dense layer in order, shapes as Keras expects"


def _compare(out, expected, sizes):
    n_dense = len(sizes) - 1
    where = f"for a model with {n_dense} Dense layers {' → '.join(map(str, sizes))}"
    if any(a is None for a in out) or any(np.size(a) == 0 for a in out):
        raise Problem("the list contains " + ("None" if any(a is None for a in out) else
                      "empty arrays") + ": ReLU and Softmax have no parameters (they name none), "
                      "so they add nothing to the list", KERAS_ORDER, KERAS_FIX)
    if len(out) != len(expected):
        kernels = expected[::2]
        if len(out) == n_dense and all(_same(a, k) for a, k in zip(out, kernels)):
            raise Problem(f"it gave only the kernels ({len(out)} arrays) {where}; each Dense "
                          "layer has two Keras variables: its kernel AND its bias", KERAS_ORDER,
                          KERAS_FIX)
        if len(out) == 4 and n_dense != 2:
            raise Problem(f"it gave 4 arrays {where}, expected {len(expected)}: it handles "
                          "exactly two Dense layers, picked by position, and this model has "
                          f"{n_dense}", "The check also tries a deeper model: go through "
                          "whatever layers the model has.", KERAS_FIX)
        raise Problem(f"it gave {len(out)} arrays {where}, expected {len(expected)} "
                      "(a kernel and a bias per Dense layer)", KERAS_ORDER, KERAS_FIX)
    for i, (mine, right) in enumerate(zip(out, expected)):
        role = ("kernel" if i % 2 == 0 else "bias") + str(i // 2 + 1)
        if i % 2 == 0 and _same(mine, right.T):
            raise Problem(f"{role} is transposed, shape {mine.shape}: a Keras kernel is "
                          "(n_inputs, n_outputs), exactly like nnlib's Dense weights (it is "
                          "PyTorch's Linear that stores (n_outputs, n_inputs))", SAME_LAYOUT,
                          KERAS_FIX)
        if i % 2 == 1 and mine.shape == (1, right.size) and _same(mine.ravel(), right):
            raise Problem(f"{role} has shape {mine.shape}; a Keras bias is 1-D ({right.size},), "
                          "like nnlib's Dense biases, so it was reshaped for nothing",
                          SAME_LAYOUT, KERAS_FIX)
        if not _same(mine, right):
            for j, other in enumerate(expected):
                if j != i and _same(mine, other):
                    raise Problem(f"entry {i} holds {'kernel' if j % 2 == 0 else 'bias'}"
                                  f"{j // 2 + 1} instead of {role}: Keras lists the variables "
                                  "layer by layer, [kernel₁, bias₁, kernel₂, bias₂, …]",
                                  KERAS_ORDER, KERAS_FIX)
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


@check("weights_from_torch_layout", hint=TORCH_LAYOUT + " " + TORCH_ORDER, fix=TORCH_FIX)
def check_weights_from_torch_layout(weights_from_torch_layout):
    rng = rng_for_checks()
    # every matrix non-square: a missing transpose or a reshape must change the shape or values
    for sizes in [(784, 128, 10), (6, 5, 4, 3)]:
        state = _torch_state_dict(sizes, rng)
        before = {key: array.copy() for key, array in state.items()}
        out = weights_from_torch_layout(state)
        if list(state) != list(before) or any(not _same(state[k], before[k]) for k in before):
            raise Problem("it changed the state_dict it was given; it must only read it",
                          "A transpose can be a new array; the dict belongs to the caller.",
                          TORCH_FIX)
        out = _as_list(out, TORCH_FIX, TORCH_ORDER)
        _compare_torch(out, before, sizes)
    return "kernels transposed to (n_inputs, n_outputs), biases 1-D, layer by layer"


def _compare_torch(out, state, sizes):
    n_linear = len(sizes) - 1
    where = f"for {n_linear} Linear layers {' → '.join(map(str, sizes))}"
    expected = reference_weights_from_torch_layout(state)
    keys = list(state)
    if len(out) != len(expected):
        raise Problem(f"it gave {len(out)} arrays {where}, expected {len(expected)} (a kernel "
                      "and a bias per Linear layer, in the order of the state_dict)",
                      TORCH_ORDER, TORCH_FIX)
    for i, (mine, right) in enumerate(zip(out, expected)):
        key = keys[i]
        role = ("kernel" if i % 2 == 0 else "bias") + str(i // 2 + 1)
        torch_array = state[key]
        if not _same(mine, right):
            for j, other in enumerate(expected):
                if j != i and (_same(mine, other) or _same(mine, state[keys[j]])):
                    raise Problem(f"entry {i} holds the array of {keys[j]!r} instead of "
                                  f"{key!r} ({role}): the list must keep the order of the "
                                  "state_dict, each layer's kernel then its bias", TORCH_ORDER,
                                  TORCH_FIX)
        if i % 2 == 0:
            n_out, n_in = torch_array.shape
            if _same(mine, torch_array):
                raise Problem(f"{role} is still in torch's layout, shape {mine.shape} = "
                              f"(n_outputs, n_inputs); Keras and nnlib want (n_inputs, "
                              f"n_outputs) = ({n_in}, {n_out})", TORCH_LAYOUT, TORCH_FIX)
            if _same(mine, torch_array.reshape(n_in, n_out)):
                raise Problem(f"{role} has the right shape ({n_in}, {n_out}) but the wrong "
                              "numbers: a reshape keeps the order of the numbers in memory and "
                              "cuts it differently, so rows and columns were not swapped",
                              "A transpose swaps rows and columns; a reshape only changes where "
                              "the rows end.", TORCH_FIX)
        else:
            if mine.shape == (1, right.size) and _same(mine.ravel(), right):
                raise Problem(f"{role} has shape {mine.shape}; a Keras or nnlib bias is 1-D "
                              f"({right.size},), exactly as torch stores it", TORCH_LAYOUT,
                              TORCH_FIX)
            if mine.shape == (right.size, 1) and _same(mine.ravel(), right):
                raise Problem(f"{role} has shape {mine.shape}; a bias is 1-D ({right.size},): "
                              "only the weight matrices need a transpose", TORCH_LAYOUT,
                              TORCH_FIX)
        expect_array(mine, right, f"entry {i} ({role}, from {key!r})", rtol=0, atol=0)
