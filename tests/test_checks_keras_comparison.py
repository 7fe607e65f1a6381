"""The chapter 12 checks (keras_weights, weights_from_torch_layout) pass nnlib's references and
name each typical mistake.

The check needs NumPy only; this module does not import TensorFlow.
"""

import numpy as np
import pytest

from checkhelpers import not_yet
from nnlib.checks import check_keras_weights
from nnlib.checks.ch12_keras_comparison import (check_weights_from_torch_layout,
                                                reference_keras_weights,
                                                reference_weights_from_torch_layout)


def test_keras_weights_check_passes_the_reference():
    result = check_keras_weights(reference_keras_weights)
    assert result.ok, result.message
    assert result.message.startswith("✅")


def test_keras_weights_check_accepts_a_tuple_of_float64_copies():
    result = check_keras_weights(
        lambda model: tuple(np.array(a, dtype=np.float64) for a in reference_keras_weights(model)))
    assert result.ok, result.message


def test_keras_weights_check_reports_an_unimplemented_function():
    result = check_keras_weights(not_yet)
    assert not result.ok
    assert result.message.startswith("⏳")


def all_layers_with_none(model):
    return [getattr(layer, name, None) for layer in model.layers
            for name in ("weights", "biases")]


def transposed_kernels(model):
    return [a.T if a.ndim == 2 else a for a in reference_keras_weights(model)]


def biases_as_rows(model):
    return [a if a.ndim == 2 else a.reshape(1, -1) for a in reference_keras_weights(model)]


def kernels_first_then_biases(model):
    dense = [layer for layer in model.layers if layer.param_names]
    return [d.weights for d in dense] + [d.biases for d in dense]


def only_kernels(model):
    return [layer.weights for layer in model.layers if layer.param_names]


def two_layers_by_index(model):
    first, second = model.layers[0], model.layers[2]
    return [first.weights, first.biases, second.weights, second.biases]


def a_dict(model):
    return {f"{i}.{name}": getattr(layer, name)
            for i, layer in enumerate(model.layers) for name in layer.param_names}


def one_flat_vector(model):
    return np.concatenate([a.ravel() for a in reference_keras_weights(model)])


def zeroes_the_biases_in_place(model):
    for layer in model.layers:
        if layer.param_names:
            layer.biases[:] = 0
    return reference_keras_weights(model)


def forgets_return(model):
    reference_keras_weights(model)


@pytest.mark.parametrize("wrong, named", [
    (all_layers_with_none, "ReLU and Softmax have no parameters"),
    (transposed_kernels, "transposed"),
    (biases_as_rows, "a Keras bias is 1-D"),
    (kernels_first_then_biases, "layer by layer"),
    (only_kernels, "its kernel AND its bias"),
    (two_layers_by_index, "picked by position"),
    (a_dict, "takes a plain list"),
    (one_flat_vector, "one flat vector"),
    (zeroes_the_biases_in_place, "changed the model's weights"),
    (forgets_return, "ends without returning it"),
    (lambda model: len(model.layers), "value of type int"),
    (lambda model: [[[1.0, 2.0], [3.0]]] + reference_keras_weights(model)[1:],
     "rows differ in length"),
])
def test_keras_weights_check_names_the_mistake(wrong, named):
    result = check_keras_weights(wrong)
    assert not result.ok
    assert result.message.startswith("❌")
    assert named in result.message, result.message


# weights_from_torch_layout: from torch's (n_outputs, n_inputs) layout to Keras's and nnlib's

def test_torch_layout_check_passes_the_reference():
    result = check_weights_from_torch_layout(reference_weights_from_torch_layout)
    assert result.ok, result.message
    assert result.message.startswith("✅")


def test_torch_layout_check_accepts_contiguous_float64_copies_in_a_tuple():
    def converted(state_dict):
        return tuple(np.ascontiguousarray(a, dtype=np.float64)
                     for a in reference_weights_from_torch_layout(state_dict))

    assert check_weights_from_torch_layout(converted).ok


def test_torch_layout_check_reports_an_unimplemented_function():
    result = check_weights_from_torch_layout(not_yet)
    assert not result.ok
    assert result.message.startswith("⏳")


def no_transpose(state_dict):
    return list(state_dict.values())


def reshape_instead_of_transpose(state_dict):
    return [a.reshape(a.shape[1], a.shape[0]) if a.ndim == 2 else a for a in state_dict.values()]


def biases_as_rows_torch(state_dict):
    return [a.T if a.ndim == 2 else a.reshape(1, -1) for a in state_dict.values()]


def biases_transposed_too(state_dict):
    return [a.T if a.ndim == 2 else a[:, None] for a in state_dict.values()]


def sorted_keys(state_dict):
    # "0.bias" sorts before "0.weight": every bias ends up in front of its kernel
    return [state_dict[k].T if k.endswith("weight") else state_dict[k] for k in sorted(state_dict)]


def layers_reversed(state_dict):
    out = reference_weights_from_torch_layout(state_dict)
    pairs = [out[i:i + 2] for i in range(0, len(out), 2)][::-1]
    return [a for pair in pairs for a in pair]


def first_two_layers_only(state_dict):
    return [state_dict["0.weight"].T, state_dict["0.bias"],
            state_dict["2.weight"].T, state_dict["2.bias"]]


def transposes_in_place(state_dict):
    for key in state_dict:
        if key.endswith("weight"):
            state_dict[key] = state_dict[key].T
    return list(state_dict.values())


def a_dict_back(state_dict):
    return dict(zip(state_dict, reference_weights_from_torch_layout(state_dict)))


def forgets_return_torch(state_dict):
    reference_weights_from_torch_layout(state_dict)


@pytest.mark.parametrize("wrong, named", [
    (no_transpose, "still in torch's layout"),
    (reshape_instead_of_transpose, "reshape keeps the order"),
    (biases_as_rows_torch, "bias is 1-D"),
    (biases_transposed_too, "only the weight matrices need a transpose"),
    (sorted_keys, "order of the state_dict"),
    (layers_reversed, "order of the state_dict"),
    (first_two_layers_only, "expected 6"),
    (transposes_in_place, "changed the state_dict"),
    (a_dict_back, "plain list"),
    (forgets_return_torch, "ends without returning it"),
    (lambda state_dict: (a.T for a in state_dict.values()), "value of type generator"),
])
def test_torch_layout_check_names_the_mistake(wrong, named):
    result = check_weights_from_torch_layout(wrong)
    assert not result.ok
    assert result.message.startswith("❌")
    assert named in result.message, result.message


def test_failures_offer_a_hint_and_the_reference_code():
    result = check_keras_weights(transposed_kernels)
    assert "(n_inputs, n_outputs)" in result.hint
    assert result.fix.startswith("def keras_weights(model):")
    result = check_weights_from_torch_layout(reshape_instead_of_transpose)
    assert "swaps rows and columns" in result.hint
    assert "array.T if key.endswith" in result.fix
