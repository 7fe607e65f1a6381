"""The original project's names, so its README example runs with only its imports changed:

    from nnlib import Model
    from nnlib.compat import Layer_Dense, Activation_ReLU, Activation_Softmax

Everything else in the course uses the PEP 8 names (Dense, ReLU, Softmax, CategoricalCrossEntropy).
"""

from .activations import ReLU as Activation_ReLU
from .activations import Softmax as Activation_Softmax
from .layers import Dense as Layer_Dense
from .losses import CategoricalCrossEntropy


class Loss_CategoricalCrossentropy(CategoricalCrossEntropy):
    """CategoricalCrossEntropy, with the original ``calculate(output, y)`` spelling of forward."""

    def calculate(self, output, y):
        return self.forward(output, y)


__all__ = ["Layer_Dense", "Activation_ReLU", "Activation_Softmax", "Loss_CategoricalCrossentropy"]
