"""A stack of layers that trains, evaluates, saves and loads. Introduced in chapters 08 and 10;
images (N, C, H, W) and convolutional layers in chapter 14.

The file format and its safety rules are in ``modelfile.py``.
"""

import numbers

import numpy as np

from . import modelfile
from ._validate import class_ids, positive, same_batch, shape_text
from .activations import Softmax
from .layers import Conv2D, Dense, Flatten, MaxPool2D, _product
from .data import minibatches
from .losses import SoftmaxCrossEntropy, softmax_cross_entropy
from .modelfile import (FORMAT, LATEST_VERSION, LAYER_TYPES, VERSION,  # noqa: F401 (public names)
                        ModelFileError)
from .optimizers import SGD


def _refuse_nonfinite(x, who, first_row=None):
    """Raise if x holds NaN or inf. Called only once an output is not finite, so that clean data
    costs nothing; ``first_row`` is the index of x's first row in the caller's input."""
    bad = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if bad.any():
        where = (f"row {first_row + np.flatnonzero(bad)[0]}" if first_row is not None
                 else f"{bad.sum()} of the {len(x)} rows of this batch")
        raise ValueError(f"{who}: x holds NaN or infinite values ({where}); clean the data first")


def _input_shape(value):
    """None, a positive integer (784), or a tuple of one to three of them ((1, 28, 28), given as
    a tuple or a list)."""
    if value is None:
        return None
    if not isinstance(value, (tuple, list)):
        return positive(value, "input_shape", integer=True)
    if not 1 <= len(value) <= 3:
        raise ValueError(f"input_shape must be a positive integer (features) or a tuple of one to "
                         f"three of them, such as (1, 28, 28) for images, got {value!r}")
    return tuple(positive(size, "every size in input_shape", integer=True) for size in value)


def _shape_after(layer, shape):
    """One example's shape after ``layer``, given its shape before (None: not known yet)."""
    if hasattr(layer, "output_shape"):
        return layer.output_shape(shape)
    if hasattr(layer, "n_inputs") and hasattr(layer, "n_outputs"):  # a Dense from a chapter
        return Dense.output_shape(layer, shape)
    return shape  # ReLU, Dropout and other element-wise layers keep the shape


class Model:
    """Layers applied in order: y = layer_k(… layer_1(x)).

    x (N, D) for a model whose first layer is Dense, images (N, C, H, W) for one that starts with
    Conv2D -> y (N, classes). ``input_shape`` is one example's shape: 784, or (1, 28, 28).
    A model ending in ``Softmax`` trains with the fused softmax + cross-entropy gradient; any other
    model's output is taken as logits. Introduced in chapter 08; images in chapter 14.
    """

    def __init__(self, layers=None, *, input_shape=None):
        self.input_shape = _input_shape(input_shape)
        self.layers = []
        for layer in layers or []:
            self.add(layer)

    def __repr__(self):
        return f"Model([{', '.join(map(repr, self.layers))}])"

    def add(self, layer):
        """Append a layer, checking that it fits the previous layer's output shape: a Dense layer's
        n_inputs, a Conv2D's in_channels, a window that fits in the image."""
        if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
            raise TypeError(f"Model.add expected a layer with forward and backward methods "
                            f"(such as {', '.join(LAYER_TYPES)}), got {type(layer).__name__}")
        _shape_after(layer, self.output_shape())
        self.layers.append(layer)
        return self

    def output_shape(self):
        """One example's output shape, (10,) say; None for a size not known yet (without
        input_shape, a Conv2D's image size is known only when images arrive)."""
        shape = None if self.input_shape is None else self._shape_tuple(self.input_shape)
        for layer in self.layers:
            shape = _shape_after(layer, shape)
        return shape

    @staticmethod
    def _shape_tuple(shape):
        return (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)

    def _expected_input(self):
        """One example's input shape as far as it is known, from input_shape or the first layers."""
        if self.input_shape is not None:
            return self._shape_tuple(self.input_shape)
        for layer in self.layers:
            if isinstance(layer, Conv2D):
                return (layer.in_channels, None, None)
            if isinstance(layer, MaxPool2D):
                return (None, None, None)
            if isinstance(layer, Flatten):
                return None
            if hasattr(layer, "n_inputs"):
                return (layer.n_inputs,)
        return None

    def _default_batch_size(self):
        """Rows per forward pass in predict and evaluate: 10 000, or 1 000 for a model with Conv2D
        layers, whose im2col copy holds kh · kw numbers per channel and output pixel (58 MB for
        1 000 MNIST images in a 5×5 convolution)."""
        return 1_000 if any(isinstance(layer, Conv2D) for layer in self.layers) else 10_000

    # --- forward and training -------------------------------------------------------------------
    def _fused(self):
        return bool(self.layers) and isinstance(self.layers[-1], Softmax)

    def _to_logits(self):
        """The layers that produce the logits: all but a final Softmax."""
        return self.layers[:-1] if self._fused() else self.layers

    def _logits(self, x):
        for layer in self._to_logits():
            x = layer.forward(x)
        return x

    def _n_classes(self, who):
        sizes = [l.n_outputs for l in self.layers if hasattr(l, "n_outputs")]
        if not sizes:
            raise ValueError(f"{who}: the model has no Dense layer, so there is nothing to train")
        return sizes[-1]

    def _check_inputs(self, x, who):
        """x as a float array (N ≥ 1, ...) whose examples fit the first layer, or a clear error."""
        if not self.layers:
            raise ValueError(f"{who}: the model has no layers; add some with model.add(...)")
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise ValueError(f"{who} expected floating-point inputs scaled to [0, 1], got {x.dtype}: "
                             "call preprocess(images) first")
        expected = self._expected_input()  # one example's shape, e.g. (784,) or (1, None, None)
        if expected is not None and len(expected) > 1:  # images
            if x.ndim != 1 + len(expected) or any(
                    size not in (None, given) for size, given in zip(expected, x.shape[1:])):
                hint = (": preprocess(images, keep_shape=True) keeps the images' shape"
                        if x.ndim in (2, 3) and expected[0] == 1 else "")
                raise ValueError(f"{who} got inputs of shape {x.shape}, expected "
                                 f"(N, {shape_text(expected)[1:]} images{hint}")
        elif x.ndim != 2:
            hint = (": flatten the images with preprocess(images)"
                    if expected and x.ndim in (3, 4) and _product(x.shape[1:]) == expected[0]
                    else "")
            raise ValueError(f"{who} expected a 2-D array (batch, features), got shape "
                             f"{x.shape}{hint}")
        if len(x) == 0:
            raise ValueError(f"{who} got 0 examples (an empty array), expected at least one row")
        if expected is not None and len(expected) == 1 and x.shape[1] != expected[0]:
            raise ValueError(f"{who} got inputs of shape {x.shape}, expected (N, {expected[0]})")
        return x

    def _check_labels(self, x, y, who):
        y = class_ids(y, self._n_classes(who), who)
        same_batch(x, y, who)
        return y

    def forward(self, x):
        """Output of the last layer (probabilities for a model ending in Softmax)."""
        x = out = self._check_inputs(x, "Model.forward")
        for layer in self.layers:
            out = layer.forward(out)
        if not np.isfinite(out).all():
            _refuse_nonfinite(x, "Model.forward", 0)
        return out

    def predict(self, x, batch_size=None):
        """Class ids (N,): the index of the largest output of each row. ``batch_size`` rows go
        through the layers at a time: by default 10 000, or 1 000 for a model with Conv2D layers."""
        x = self._check_inputs(x, "Model.predict")
        batch_size = self._batch_size(batch_size)
        classes = []
        for i in range(0, len(x), batch_size):
            z = self._logits(x[i:i + batch_size])
            if not np.isfinite(z).all():  # argmax of NaN is 0: a silent wrong answer
                _refuse_nonfinite(x[i:i + batch_size], "Model.predict", i)
            classes.append(z.argmax(axis=1))
        return np.concatenate(classes)

    def evaluate(self, x, y, batch_size=None):
        """(mean cross-entropy loss, accuracy) on x (N, D) or (N, C, H, W) and labels y (N,) or
        one-hot (N, classes). ``batch_size`` as in predict."""
        x = self._check_inputs(x, "Model.evaluate")
        y = self._check_labels(x, y, "Model.evaluate")
        return self._evaluate(x, y, self._batch_size(batch_size))

    def _batch_size(self, batch_size):
        if batch_size is None:
            return self._default_batch_size()
        return positive(batch_size, "batch_size", integer=True)

    def _evaluate(self, x, y, batch_size):
        """evaluate on checked inputs: x floats (N, ...), y class ids (N,)."""
        loss_fn, total_loss, correct = SoftmaxCrossEntropy(), 0.0, 0
        for i in range(0, len(x), batch_size):
            z, yb = self._logits(x[i:i + batch_size]), y[i:i + batch_size]
            if not np.isfinite(z).all():
                _refuse_nonfinite(x[i:i + batch_size], "Model.evaluate", i)
            total_loss += loss_fn.forward(z, yb) * len(z)
            correct += int((z.argmax(axis=1) == yb).sum())
        return total_loss / len(x), correct / len(x)

    def train_step(self, x, y, optimizer):
        """One forward, backward and update on a batch; returns (loss, accuracy) before the update."""
        x = self._check_inputs(x, "Model.train_step")
        return self._train_step(x, self._check_labels(x, y, "Model.train_step"), optimizer)

    def _train_step(self, x, y, optimizer, who="Model.train_step"):
        """train_step on checked inputs: x floats (N, D), y class ids (N,).

        A NaN or exploded loss raises before the update, so the weights stay as they were.
        """
        trainable = self._to_logits()
        modal = [layer for layer in trainable if hasattr(layer, "training")]
        for layer in modal:
            layer.training = True  # e.g. Dropout: active for this step only
        try:
            z = x
            for layer in trainable:
                z = layer.forward(z)
            loss, grad = softmax_cross_entropy(z, y)  # one softmax serves the loss and its gradient
            # a loss above 1000 means p(true class) < e^-1000: the weights have blown up
            if not loss < 1000:
                _refuse_nonfinite(x, who)  # NaN in the data is not the learning rate's fault
                raise FloatingPointError(f"{who}: loss exploded to {loss:.4g}: "
                                         "the learning rate is probably too high")
            # Layers before the first one with parameters need no gradient, and the first one
            # need not compute dL/dx: nothing uses the gradient with respect to the images.
            first = next((i for i, l in enumerate(trainable) if getattr(l, "param_names", ())),
                         len(trainable))
            for layer in reversed(trainable[first + 1:]):
                grad = layer.backward(grad)
            if first < len(trainable):
                if isinstance(trainable[first], (Dense, Conv2D)):
                    trainable[first].backward(grad, input_grad=False)
                else:
                    trainable[first].backward(grad)
        finally:
            for layer in modal:
                layer.training = False
        optimizer.step(trainable)
        return loss, int(np.count_nonzero(z.argmax(axis=1) == y)) / len(y)

    def fit(self, x, y, *, epochs=5, batch_size=128, learning_rate=0.1, optimizer=None,
            validation_data=None, patience=None, schedule=None, seed=None, verbose=True):
        """Mini-batch training; returns the history {"loss", "accuracy", "val_loss",
        "val_accuracy"}: one value per epoch (the val_ lists stay empty without validation_data).

        The batches come from ``minibatches(x, y, batch_size, rng=rng)``, reshuffled every epoch.
        With ``patience=P`` (needs validation_data), training stops once the validation loss has
        not improved for P epochs, the weights of the best epoch are put back, and the history
        gets "best_epoch" (counted from 1). ``schedule``, a function of the epoch (counted from 1),
        gives each epoch's learning rate: fit sets ``optimizer.learning_rate`` to it before the
        epoch (a cosine decay: ``lambda e: lr * (1 + cos(pi * (e - 1) / epochs)) / 2``).
        Introduced in chapter 08; ``patience`` in chapter 13; ``schedule`` in chapter 15.
        """
        from tqdm.auto import tqdm

        positive(epochs, "epochs", integer=True)
        positive(batch_size, "batch_size", integer=True)
        x = self._check_inputs(x, "Model.fit")
        y = self._check_labels(x, y, "Model.fit").astype(np.intp)  # the index type: no casts
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError("Model.fit: validation_data must be a pair (x_val, y_val), got "
                                 f"{type(validation_data).__name__}")
            x_val = self._check_inputs(validation_data[0], "Model.fit validation_data")
            validation_data = x_val, self._check_labels(x_val, validation_data[1],
                                                         "Model.fit validation_data")
        if patience is not None:
            positive(patience, "patience", integer=True)
            if validation_data is None:
                raise ValueError("Model.fit: patience stops on the validation loss, "
                                 "so it needs validation_data=(x_val, y_val)")
        if schedule is not None and not callable(schedule):
            raise ValueError("Model.fit: schedule must be a function of the epoch (1, 2, …) that "
                             f"returns its learning rate, got {type(schedule).__name__}")
        optimizer = optimizer or SGD(learning_rate)
        rng = np.random.default_rng(seed)
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        n_batches = -(-len(x) // batch_size)
        best_loss, best_epoch, best_weights = np.inf, 0, None
        for epoch in range(1, epochs + 1):
            if schedule is not None:
                optimizer.learning_rate = positive(schedule(epoch), f"schedule({epoch})")
            bar = tqdm(total=n_batches, desc=f"epoch {epoch}/{epochs}", disable=not verbose,
                       leave=True)
            total_loss = total_correct = 0.0
            who = f"Model.fit, epoch {epoch}"
            for xb, yb in minibatches(x, y, batch_size, rng=rng):
                try:
                    loss, acc = self._train_step(xb, yb, optimizer, who)
                except (ValueError, FloatingPointError):
                    bar.close()
                    raise
                total_loss += loss * len(xb)
                total_correct += acc * len(xb)
                bar.update()
                if verbose and bar.n % 25 == 1:  # formatting the numbers costs more than a step
                    bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", refresh=False)
            history["loss"].append(total_loss / len(x))
            history["accuracy"].append(total_correct / len(x))
            summary = {"loss": f"{history['loss'][-1]:.4f}", "acc": f"{history['accuracy'][-1]:.4f}"}
            if validation_data is not None:
                val_loss, val_acc = self._evaluate(*validation_data,  # checked above
                                                     self._default_batch_size())
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_acc)
                summary.update(val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.4f}")
            bar.set_postfix(summary)
            bar.close()
            if patience is not None:
                if history["val_loss"][-1] < best_loss:
                    best_loss, best_epoch = history["val_loss"][-1], epoch
                    best_weights = {k: v.copy() for k, v in modelfile.parameters(self.layers).items()}
                elif epoch - best_epoch >= patience:
                    break
        if patience is not None:
            for key, value in modelfile.parameters(self.layers).items():
                value[...] = best_weights[key]
            history["best_epoch"] = best_epoch
            if verbose:
                print(f"best validation loss {best_loss:.4f} in epoch {best_epoch} of "
                      f"{len(history['loss'])}: its weights are restored")
        return history

    # --- save and load --------------------------------------------------------------------------
    def save(self, path):
        """Write the model to the folder ``path`` (model.json + weights.npz), atomically: the files
        are written to a new folder beside it which then replaces ``path``, so a failed or killed
        save leaves the previous model loadable. Refuses NaN/infinite weights.
        """
        return modelfile.save(self, path)

    @classmethod
    def load(cls, path):
        """Rebuild a model saved by ``save``; raises ModelFileError naming what is wrong."""
        return modelfile.load(cls, path)
