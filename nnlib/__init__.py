"""nnlib: a small neural-network library in NumPy, built chapter by chapter in the course
"Neural Network from Scratch".

Simple and readable first, fast enough to train MNIST in seconds per epoch second.
Every array is (batch, features), or (batch, channels, height, width) for images in the
convolutional layers; randomness comes from an explicit ``rng``.

Gradient convention, the same everywhere: ``backward(dout)`` receives dL/d(output) and returns
dL/d(input). A layer's parameter gradients (``dweights``, ``dbiases``) are *set*, not accumulated,
by ``backward``; only an optimizer changes parameters.
"""

from .activations import ReLU, Softmax
from .data import load_mnist, minibatches, one_hot, preprocess, train_val_split
from .layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
from .losses import CategoricalCrossEntropy, SoftmaxCrossEntropy, accuracy
from .model import Model, ModelFileError
from .optimizers import SGD, Adam

__version__ = "1.0.0"

__all__ = [
    "Dense", "Dropout", "Conv2D", "MaxPool2D", "Flatten", "ReLU", "Softmax",
    "CategoricalCrossEntropy", "SoftmaxCrossEntropy", "accuracy",
    "SGD", "Adam", "Model", "ModelFileError",
    "load_mnist", "preprocess", "one_hot", "minibatches", "train_val_split",
]
