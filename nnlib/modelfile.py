"""The model file format: a folder with ``model.json`` and ``weights.npz``. Introduced in
chapter 10; version 2 in chapter 14.

``model.json`` holds {"format": "nnlib-model", "version": 1, "input_shape": 784,
"layers": [{"type": "Dense", "config": {...}}, ...]}; ``weights.npz`` is a zip of one ``.npy``
file per parameter, named ``"<layer index>.<name>.npy"`` (``"0.weights.npy"``, …).

Version 1 knows Dense, ReLU, Softmax and Dropout, and an integer ``input_shape`` (or null).
Version 2 adds Conv2D, MaxPool2D and Flatten, and ``input_shape`` as a list such as [1, 28, 28].
``save`` writes the lowest version that describes the model, so a multilayer perceptron's folder
still opens in an nnlib that knows only version 1; ``load`` reads both.

Loading treats the folder as untrusted input: it builds layers only from the types below, never
unpickles, checks every size against ``model.json`` before allocating or reading anything, and
turns every problem into a one-line ``ModelFileError``.

Saving never loses the previous model: the files are written to ``.NAME.new.<pid>-*`` beside the
target, the old folder is renamed to ``.NAME.old.<pid>-*``, the new one takes its place, and the
old one is deleted. If the process dies between the two renames, ``load`` and the next ``save``
move the old folder back; leftovers of dead processes are removed by the next ``save``.
"""

import glob
import inspect
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .activations import ReLU, Softmax
from .layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D

FORMAT = "nnlib-model"
VERSION = 1                      # what save writes for a model that version 1 describes
LATEST_VERSION = 2               # what save writes for any other model
LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ReLU, Softmax, Dropout,
                                             Conv2D, MaxPool2D, Flatten)}
VERSION_1_TYPES = ("Dense", "ReLU", "Softmax", "Dropout")
MAX_JSON_BYTES = 1_000_000       # a model.json is a few hundred bytes per layer
MAX_PARAMETERS = 20_000_000      # 80 MB of float32: far above any network of the course
MAX_INT_DIGITS = 12


class ModelFileError(ValueError):
    """A model folder that cannot be loaded: the message names the file and the problem."""


def parameters(layers):
    """{"<layer index>.<name>": array} for every parameter, as weights.npz names them."""
    return {f"{i}.{name}": getattr(layer, name)
            for i, layer in enumerate(layers) for name in layer.param_names}


def _one_line(err):
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


# --- save --------------------------------------------------------------------------------------
def save(model, path):
    path = _as_path(path, "Model.save")
    unknown = [type(l).__name__ for l in model.layers if type(l).__name__ not in LAYER_TYPES]
    if unknown:
        raise TypeError(f"cannot save layers of type {', '.join(unknown)}; "
                        f"the file format knows {', '.join(LAYER_TYPES)}")
    arrays = parameters(model.layers)
    for key, array in arrays.items():
        if not np.isfinite(array).all():
            raise ValueError(f"cannot save: {key} holds {np.size(array) - np.isfinite(array).sum()} "
                             "NaN or infinite values (did the training diverge?)")
    check_save_target(path)
    types = [type(l).__name__ for l in model.layers]
    version_1 = set(types) <= set(VERSION_1_TYPES) and not isinstance(model.input_shape, tuple)
    spec = {"format": FORMAT, "version": VERSION if version_1 else LATEST_VERSION,
            "input_shape": model.input_shape,
            "layers": [{"type": t, "config": l.config()} for t, l in zip(types, model.layers)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
    _remove_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.new.{os.getpid()}-", dir=path.parent))
    old = None
    try:
        (tmp / "model.json").write_text(json.dumps(spec, indent=2) + "\n")
        np.savez(tmp / "weights.npz", **arrays)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.{os.getpid()}-", dir=path.parent))
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


def check_save_target(path):
    """Raise a one-line error now, before any work, if ``save`` could not write to ``path``."""
    path = _as_path(path, "Model.save")
    if path.exists() and not (path / "model.json").is_file() and (
            not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an nnlib model folder; "
                              "refusing to overwrite it")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{path.name}.new.{os.getpid()}-", dir=parent))
    except OSError as err:
        raise OSError(f"cannot save a model to {path}: cannot write in {parent} "
                      f"({err.strerror or err})") from None
    return path


def _temp_folders(path):
    """(kind, pid, folder) for every ``.NAME.new.*`` / ``.NAME.old.*`` folder beside ``path``."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(new|old)\.(\d+)-[^.]*")
    found = []
    for entry in path.parent.glob(f".{glob.escape(path.name)}.*"):
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir():
            found.append((match[1], int(match[2]), entry))
    return found


def _alive(pid):
    if pid == os.getpid():
        return False  # this process is not saving anything right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _recover(path):
    """If ``path`` is missing because a save died between its two renames, move the old model back."""
    if path.exists() or not path.parent.is_dir():
        return
    # a live process owning the folder is between its two renames right now: leave it alone
    olds = [folder for kind, pid, folder in _temp_folders(path)
            if kind == "old" and not _alive(pid) and (folder / "model.json").is_file()]
    if olds:
        newest = max(olds, key=lambda folder: folder.stat().st_mtime)
        try:
            os.replace(newest, path)
        except OSError:
            pass  # another process got there first, or the folder is read-only


def _remove_leftovers(path):
    for kind, pid, folder in _temp_folders(path):
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


# --- load --------------------------------------------------------------------------------------
def _as_path(path, who):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who} expected a folder path (str or pathlib.Path), got {path!r}")
    return Path(path)


def _int_parser(spec_file):
    def parse_int(text):  # int() of a 5000-digit string is slow, and no size needs 13 digits
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            raise ModelFileError(f"{spec_file} holds an integer with {len(text.lstrip('-'))} "
                                 f"digits; sizes in a model have at most {MAX_INT_DIGITS}")
        return int(text)
    return parse_int


def _read_spec(spec_file):
    try:
        size = spec_file.stat().st_size
        if size > MAX_JSON_BYTES:
            raise ModelFileError(f"{spec_file} is {size:,} bytes; a model.json is at most "
                                 f"{MAX_JSON_BYTES:,}")
        with open(spec_file, "rb") as f:
            raw = f.read(MAX_JSON_BYTES + 1)
    except OSError as err:
        raise ModelFileError(f"{spec_file} cannot be read ({_one_line(err)})") from None
    if len(raw) > MAX_JSON_BYTES:
        raise ModelFileError(f"{spec_file} is larger than {MAX_JSON_BYTES:,} bytes")
    try:
        spec = json.loads(raw.decode("utf-8"), parse_int=_int_parser(spec_file))
    except ModelFileError:
        raise
    except RecursionError:
        raise ModelFileError(f"{spec_file} is not a model description (JSON nested too deeply)") \
            from None
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{spec_file} is not valid JSON ({_one_line(err)})") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelFileError(f"{spec_file} is not an nnlib model (no \"format\": \"{FORMAT}\")")
    version = spec.get("version")
    if type(version) is not int or version not in (VERSION, LATEST_VERSION):
        raise ModelFileError(f"{spec_file} has format version {version!r}; "
                             f"this nnlib reads versions {VERSION} and {LATEST_VERSION}")
    return spec


def _positive_int(value):
    """value if it is a positive integer (not a float, not true), else None."""
    return value if type(value) is int and value > 0 else None


def _count(config, key):
    """config[key] if it is a positive integer, else None."""
    return _positive_int(config.get(key))


def _parameter_count(layer_cls, config):
    """The number of parameters a layer of this config would allocate, computed from the sizes in
    model.json alone; 0 where a size is missing or not a positive integer (the constructor then
    refuses it without allocating anything)."""
    if layer_cls is Dense:
        n_in, n_out = _count(config, "n_inputs"), _count(config, "n_outputs")
        return n_in * n_out + n_out if n_in and n_out else 0
    if layer_cls is Conv2D:
        c_in, c_out = _count(config, "in_channels"), _count(config, "out_channels")
        kernel = config.get("kernel_size")
        kernel = kernel if isinstance(kernel, list) and len(kernel) == 2 else [kernel, kernel]
        kh, kw = map(_positive_int, kernel)
        return c_out * c_in * kh * kw + c_out if c_in and c_out and kh and kw else 0
    return 0


def _build(cls, spec, spec_file):
    """The model described by ``spec``, checked entry by entry before any layer is allocated."""
    layers = spec.get("layers")
    if not isinstance(layers, list):
        raise ModelFileError(f"{spec_file}: \"layers\" must be a list, got {type(layers).__name__}")
    if not layers:
        raise ModelFileError(f"{spec_file}: \"layers\" is empty; a model has at least one layer")
    version, input_shape = spec["version"], spec.get("input_shape")
    if version == VERSION and isinstance(input_shape, list):
        raise ModelFileError(f"{spec_file}: input_shape {input_shape!r} is a list, which needs "
                             f"format version {LATEST_VERSION}; the file says version {version}")
    total = 0
    try:
        model = cls(input_shape=input_shape)
        for i, entry in enumerate(layers):
            kind = entry.get("type") if isinstance(entry, dict) else None
            if kind not in LAYER_TYPES:
                raise ModelFileError(f"{spec_file}: layer {i} has unknown type {kind!r}; "
                                     f"nnlib knows {', '.join(LAYER_TYPES)}")
            if version == VERSION and kind not in VERSION_1_TYPES:
                raise ModelFileError(f"{spec_file}: layer {i} is a {kind}, which needs format "
                                     f"version {LATEST_VERSION}; the file says version {version}")
            layer_cls = LAYER_TYPES[kind]
            config = entry.get("config", {})
            allowed = set(inspect.signature(layer_cls).parameters) - {"rng"}
            if not isinstance(config, dict) or not set(config) <= allowed:
                raise ModelFileError(f"{spec_file}: layer {i} ({kind}) has config {config!r}; "
                                     f"expected keys among {sorted(allowed)}")
            total += _parameter_count(layer_cls, config)
            if total > MAX_PARAMETERS:
                raise ModelFileError(f"{spec_file}: layer {i} brings the model to {total:,} "
                                     f"parameters; nnlib loads at most {MAX_PARAMETERS:,}")
            model.add(layer_cls(**config))
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ModelFileError(f"{spec_file} describes an impossible model ({_one_line(err)})") \
            from None
    return model


def _read_member(archive, info, key, target, weights_file):
    """Fill ``target`` from the .npy member ``info``, checking header and sizes before reading."""
    fmt = np.lib.format
    with archive.open(info) as f:
        version = fmt.read_magic(f)
        header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = header(f, max_header_size=10_000)
        if shape != target.shape or dtype != target.dtype:
            raise ModelFileError(f"{weights_file}: {key} has shape {shape} {dtype}, "
                                 f"model.json says {target.shape} {target.dtype}")
        if info.file_size != f.tell() + target.nbytes:
            raise ModelFileError(f"{weights_file}: {key} holds {info.file_size:,} bytes, "
                                 f"expected {f.tell() + target.nbytes:,} for {shape} {dtype}")
        data = f.read(target.nbytes)
        if len(data) != target.nbytes or f.read(1):  # reading to the end also checks the CRC
            raise ModelFileError(f"{weights_file}: {key} is truncated")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    if not np.isfinite(array).all():
        raise ModelFileError(f"{weights_file}: {key} holds NaN or infinite values")
    target[...] = array


def load(cls, path):
    path = _as_path(path, "Model.load")
    _recover(path)
    spec_file, weights_file = path / "model.json", path / "weights.npz"
    for f in (spec_file, weights_file):
        if not f.is_file():
            raise ModelFileError(f"{f} is missing: a saved model is a folder with model.json "
                                 "and weights.npz")
    model = _build(cls, _read_spec(spec_file), spec_file)
    expected = parameters(model.layers)
    try:
        with zipfile.ZipFile(weights_file) as archive:
            members = {info.filename: info for info in archive.infolist()}
            wanted = {f"{key}.npy": key for key in expected}
            if set(members) != set(wanted) or len(members) != len(archive.infolist()):
                missing = sorted(wanted[m] for m in set(wanted) - set(members))
                extra = sorted(set(members) - set(wanted))
                raise ModelFileError(f"{weights_file} does not match model.json (missing "
                                     f"{missing or 'nothing'}, unexpected {extra or 'nothing'})")
            for name, key in wanted.items():
                _read_member(archive, members[name], key, expected[key], weights_file)
    except ModelFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError,
            RuntimeError, TypeError, KeyError) as err:
        raise ModelFileError(f"{weights_file} is damaged or truncated ({_one_line(err)})") from None
    return model
