"""A stack of layers that trains, evaluates, saves and loads. Introduced in chapters 08 and 10.

File format (a folder): ``model.json`` holds {"format": "nnlib-model", "version": 1,
"input_shape": 784, "layers": [{"type": "Dense", "config": {...}}, ...]}; ``weights.npz`` holds
one array per parameter, named ``"<layer index>.<name>"`` (``"0.weights"``, ``"0.biases"``, …).
Loading builds layers only from the types below and never unpickles anything.
"""

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ._validate import class_ids, positive
from .activations import ReLU, Softmax
from .data import minibatches
from .layers import Dense, Dropout
from .losses import CategoricalCrossEntropy, SoftmaxCrossEntropy, accuracy
from .optimizers import SGD

FORMAT, VERSION = "nnlib-model", 1
LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ReLU, Softmax, Dropout)}


def _parameters(layers):
    """{"<layer index>.<name>": array} for every parameter, as weights.npz names them."""
    return {f"{i}.{name}": getattr(layer, name)
            for i, layer in enumerate(layers) for name in layer.param_names}


class ModelFileError(ValueError):
    """A model folder that cannot be loaded: the message names the file and the problem."""


class Model:
    """Layers applied in order: y = layer_k(… layer_1(x)). x (N, input_shape) -> y (N, C).

    A model ending in ``Softmax`` trains with the fused softmax + cross-entropy gradient; any other
    model's output is taken as logits. Introduced in chapter 08.
    """

    def __init__(self, layers=None, *, input_shape=None):
        self.input_shape = None if input_shape is None else positive(
            input_shape, "input_shape", integer=True)
        self.layers = []
        for layer in layers or []:
            self.add(layer)

    def __repr__(self):
        return f"Model([{', '.join(map(repr, self.layers))}])"

    def add(self, layer):
        """Append a layer, checking that its input size fits the previous layer's output."""
        if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
            raise TypeError(f"Model.add expected a layer with forward and backward methods "
                            f"(such as {', '.join(LAYER_TYPES)}), got {type(layer).__name__}")
        if hasattr(layer, "n_inputs"):
            sizes = [l.n_outputs for l in self.layers if hasattr(l, "n_outputs")]
            expected = sizes[-1] if sizes else self.input_shape
            if expected is not None and layer.n_inputs != expected:
                raise ValueError(f"{layer!r} cannot follow a layer with {expected} outputs: "
                                 f"expected Dense({expected} → …)")
        self.layers.append(layer)
        return self

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

    def forward(self, x):
        """Output of the last layer (probabilities for a model ending in Softmax)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict(self, x, batch_size=10_000):
        """Class ids (N,): the index of the largest output of each row."""
        return np.concatenate([self._logits(x[i:i + batch_size]).argmax(axis=1)
                               for i in range(0, len(x), batch_size)])

    def evaluate(self, x, y, batch_size=10_000):
        """(mean cross-entropy loss, accuracy) on x (N, D) and labels y (N,) or one-hot (N, C)."""
        loss_fn, total_loss, correct = SoftmaxCrossEntropy(), 0.0, 0.0
        for i in range(0, len(x), batch_size):
            z, yb = self._logits(x[i:i + batch_size]), y[i:i + batch_size]
            total_loss += loss_fn.forward(z, yb) * len(z)
            correct += accuracy(z, yb) * len(z)
        return total_loss / len(x), correct / len(x)

    def train_step(self, x, y, optimizer):
        """One forward, backward and update on a batch; returns (loss, accuracy) before the update."""
        loss_fn = SoftmaxCrossEntropy()
        trainable = self._to_logits()
        modal = [layer for layer in trainable if hasattr(layer, "training")]
        for layer in modal:
            layer.training = True  # e.g. Dropout: active for this step only
        try:
            z = self._logits(x)
            loss = loss_fn.forward(z, y)
            grad = loss_fn.backward(z, y)
            for layer in reversed(trainable):
                grad = layer.backward(grad)
        finally:
            for layer in modal:
                layer.training = False
        optimizer.step(trainable)
        return loss, accuracy(z, y)

    def fit(self, x, y, *, epochs=5, batch_size=128, learning_rate=0.1, optimizer=None,
            validation_data=None, seed=None, verbose=True):
        """Mini-batch training; returns the history {"loss", "accuracy", "val_loss",
        "val_accuracy"}: one value per epoch (the val_ lists stay empty without validation_data).
        """
        from tqdm.auto import tqdm

        positive(epochs, "epochs", integer=True)
        positive(batch_size, "batch_size", integer=True)
        optimizer = optimizer or SGD(learning_rate)
        if not self.layers:
            raise ValueError("Model.fit: the model has no layers; add some with model.add(...)")
        n_classes = next(l.n_outputs for l in reversed(self.layers) if hasattr(l, "n_outputs"))
        y = class_ids(y, n_classes, "Model.fit")
        rng = np.random.default_rng(seed)
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        n_batches = -(-len(x) // batch_size)
        for epoch in range(1, epochs + 1):
            bar = tqdm(minibatches(x, y, batch_size, rng=rng), total=n_batches,
                       desc=f"epoch {epoch}/{epochs}", disable=not verbose, leave=True)
            total_loss = total_correct = 0.0
            for xb, yb in bar:
                loss, acc = self.train_step(xb, yb, optimizer)
                # a loss above 1000 means p(true class) < e^-1000: the weights have blown up
                if not loss < 1000:
                    bar.close()
                    raise FloatingPointError(f"loss exploded to {loss:.4g} in epoch {epoch}: "
                                             "the learning rate is probably too high")
                total_loss += loss * len(xb)
                total_correct += acc * len(xb)
                bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", refresh=False)
            history["loss"].append(total_loss / len(x))
            history["accuracy"].append(total_correct / len(x))
            summary = {"loss": f"{history['loss'][-1]:.4f}", "acc": f"{history['accuracy'][-1]:.4f}"}
            if validation_data is not None:
                val_loss, val_acc = self.evaluate(*validation_data)
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_acc)
                summary.update(val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.4f}")
            bar.set_postfix(summary)
            bar.close()
        return history

    # --- save and load --------------------------------------------------------------------------
    def save(self, path):
        """Write the model to the folder ``path`` (model.json + weights.npz), atomically: the files
        are written to a new folder beside it which then replaces ``path``, so a failed save leaves
        the previous model untouched.
        """
        path = Path(path)
        unknown = [type(l).__name__ for l in self.layers if type(l).__name__ not in LAYER_TYPES]
        if unknown:
            raise TypeError(f"cannot save layers of type {', '.join(unknown)}; "
                            f"the file format knows {', '.join(LAYER_TYPES)}")
        if path.exists() and not (path / "model.json").is_file() and (
                not path.is_dir() or any(path.iterdir())):
            raise FileExistsError(f"{path} exists and is not an nnlib model folder; "
                                  "refusing to overwrite it")
        spec = {"format": FORMAT, "version": VERSION, "input_shape": self.input_shape,
                "layers": [{"type": type(l).__name__, "config": l.config()} for l in self.layers]}
        arrays = _parameters(self.layers)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        old = None
        try:
            (tmp / "model.json").write_text(json.dumps(spec, indent=2) + "\n")
            np.savez(tmp / "weights.npz", **arrays)
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
                os.replace(path, old)
            os.replace(tmp, path)
        except BaseException:
            if old is not None and not path.exists():
                os.replace(old, path)  # the new model could not be moved in: put the old one back
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return path

    @classmethod
    def load(cls, path):
        """Rebuild a model saved by ``save``; raises ModelFileError naming what is wrong."""
        path = Path(path)
        spec_file, weights_file = path / "model.json", path / "weights.npz"
        for f in (spec_file, weights_file):
            if not f.is_file():
                raise ModelFileError(f"{f} is missing: a saved model is a folder with model.json "
                                     "and weights.npz")
        try:
            spec = json.loads(spec_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ModelFileError(f"{spec_file} is not valid JSON ({err})") from None
        if not isinstance(spec, dict) or spec.get("format") != FORMAT:
            raise ModelFileError(f"{spec_file} is not an nnlib model (no \"format\": \"{FORMAT}\")")
        if spec.get("version") != VERSION:
            raise ModelFileError(f"{spec_file} has format version {spec.get('version')!r}; "
                                 f"this nnlib reads version {VERSION}")
        try:
            model = cls(input_shape=spec.get("input_shape"))
            for i, entry in enumerate(spec["layers"]):
                kind = entry.get("type")
                if kind not in LAYER_TYPES:
                    raise ModelFileError(f"{spec_file}: layer {i} has unknown type {kind!r}; "
                                         f"nnlib knows {', '.join(LAYER_TYPES)}")
                model.add(LAYER_TYPES[kind](**entry.get("config", {})))
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ModelFileError(f"{spec_file} describes an impossible model ({err})") from None
        try:
            with np.load(weights_file, allow_pickle=False) as stored:
                arrays = {k: stored[k] for k in stored.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise ModelFileError(f"{weights_file} is damaged or truncated ({err})") from None
        expected = _parameters(model.layers)
        if set(arrays) != set(expected):
            missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
            raise ModelFileError(f"{weights_file} does not match model.json "
                                 f"(missing {missing or 'nothing'}, unexpected {extra or 'nothing'})")
        for key, target in expected.items():
            if arrays[key].shape != target.shape or arrays[key].dtype != target.dtype:
                raise ModelFileError(f"{weights_file}: {key} has shape {arrays[key].shape} "
                                     f"{arrays[key].dtype}, model.json says {target.shape} "
                                     f"{target.dtype}")
            target[...] = arrays[key]
        return model
