"""The chapter 12 check (keras_weights) passes nnlib's reference and names each typical mistake.

The check needs NumPy only; this module does not import TensorFlow.
"""

import numpy as np
import pytest

from nnlib.checks import check_keras_weights
from nnlib.checks.ch12_keras_comparison import reference_keras_weights


def test_keras_weights_check_passes_the_reference():
    result = check_keras_weights(reference_keras_weights)
    assert result.ok, result.message
    assert result.message.startswith("✅")


def test_keras_weights_check_accepts_a_tuple_of_float64_copies():
    result = check_keras_weights(
        lambda model: tuple(np.array(a, dtype=np.float64) for a in reference_keras_weights(model)))
    assert result.ok, result.message


def test_keras_weights_check_reports_an_unimplemented_function():
    def keras_weights(model):
        raise NotImplementedError()

    result = check_keras_weights(keras_weights)
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
    (two_layers_by_index, "loop over model.layers"),
    (a_dict, "takes a plain list"),
    (one_flat_vector, "one flat vector"),
    (zeroes_the_biases_in_place, "changed the model's weights"),
    (forgets_return, "forget `return`"),
])
def test_keras_weights_check_names_the_mistake(wrong, named):
    result = check_keras_weights(wrong)
    assert not result.ok
    assert result.message.startswith("❌")
    assert named in result.message, result.message
