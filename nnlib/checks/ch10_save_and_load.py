"""Checks for chapter 10: save_model and load_model, in nnlib's file format (see nnlib/model.py).

A saved model is a folder: model.json (format, version, input_shape, and every layer's type and
config, in order) and weights.npz (one array per parameter, named "<layer index>.<name>").
The checks write into a temporary folder that they delete afterwards.
"""

import ast
import json
import tempfile
from pathlib import Path

import numpy as np

from ..activations import ReLU, Softmax
from ..layers import Dense
from ..model import FORMAT, VERSION, Model
from ._core import Problem, check, rng_for_checks

PICKLE_MAGIC = b"\x80"           # every pickle of protocol 2 or later starts with this byte


def _model_a():
    """Three Dense layers, float32, with random biases: not the MNIST network."""
    rng = rng_for_checks(10)
    layers = [Dense(6, 5, rng=rng), ReLU(), Dense(5, 5, rng=rng), ReLU(), Dense(5, 3, rng=rng),
              Softmax()]
    for layer in layers[::2]:
        layer.biases[:] = rng.standard_normal(layer.biases.shape)
    return Model(layers, input_shape=6), rng.standard_normal((7, 6)).astype(np.float32)


def _model_b():
    """One float64 Dense layer and nothing else."""
    rng = rng_for_checks(11)
    dense = Dense(3, 2, rng=rng, dtype=np.float64)
    dense.biases[:] = rng.standard_normal(2)
    return Model([dense], input_shape=3), rng.standard_normal((4, 3))


def _types(layers):
    return [type(layer).__name__ for layer in layers]


def _params(model):
    return {f"{i}.{name}": getattr(layer, name)
            for i, layer in enumerate(model.layers) for name in layer.param_names}


def _first_line(err):
    return str(err).splitlines()[0] if str(err) else type(err).__name__


# --- save_model -----------------------------------------------------------------------------------

def _read_spec(folder, model):
    files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if not folder.is_dir():
        raise Problem(f"save_model did not create the folder {folder.name!r}: create it with "
                      "Path(path).mkdir(parents=True, exist_ok=True), then write the two files "
                      "into it")
    for name in files:
        if (folder / name).is_file() and (folder / name).read_bytes()[:1] == PICKLE_MAGIC:
            raise Problem(f"{name} is a pickle file: unpickling can run any code hidden in the "
                          "file, so a model shared this way is unsafe to open; write model.json "
                          "with json and weights.npz with np.savez instead")
    if "model.json" not in files:
        raise Problem(f"the folder holds {files or 'nothing'}, but no model.json: write the "
                      "architecture to path / 'model.json'")
    text = (folder / "model.json").read_text()
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as err:
        try:
            ast.literal_eval(text)
            raise Problem("model.json is a Python repr, not JSON (single quotes, True/None): "
                          "write it with json.dumps(spec) or json.dump(spec, file)") from None
        except (ValueError, SyntaxError):
            raise Problem(f"model.json is not valid JSON ({err}): write it with json.dumps") \
                from None
    if not isinstance(spec, dict):
        raise Problem(f"model.json holds a {type(spec).__name__}; it must be one object (a "
                      "dict) with the keys format, version, input_shape and layers")
    for key, value in (("format", FORMAT), ("version", VERSION)):
        if spec.get(key) != value:
            raise Problem(f"model.json has \"{key}\": {spec.get(key)!r}, expected {value!r} "
                          "(nnlib uses these two keys to recognise its files)")
    if spec.get("input_shape") != model.input_shape:
        raise Problem(f"model.json has \"input_shape\": {spec.get('input_shape')!r}, the model "
                      f"has input_shape {model.input_shape}: store model.input_shape")
    entries = spec.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Problem("model.json needs \"layers\": a list with one {\"type\": ..., \"config\": "
                      "...} object per layer")
    saved, expected = [e.get("type") for e in entries], _types(model.layers)
    if saved != expected:
        if saved == expected[::-1]:
            raise Problem(f"the layers in model.json are reversed ({saved}): keep the order of "
                          "model.layers, first layer first")
        if saved == [t for t in expected if t == "Dense"]:
            raise Problem("model.json lists only the Dense layers: every layer must be listed, "
                          "also ReLU and Softmax, which have no parameters but still compute")
        if sorted(map(str, saved)) == sorted(expected):
            raise Problem(f"the layers in model.json are in the wrong order: {saved}, the model "
                          f"has {expected}")
        raise Problem(f"model.json lists the layer types {saved}, the model has {expected}: "
                      "store type(layer).__name__ for every layer, in order")
    for i, (entry, layer) in enumerate(zip(entries, model.layers)):
        if entry.get("config") != layer.config():
            raise Problem(f"layer {i} in model.json has \"config\": {entry.get('config')!r}, "
                          f"expected {layer.config()!r}: store layer.config(), the arguments "
                          "that rebuild the layer")
    return spec


def _read_arrays(folder, model):
    files = sorted(p.name for p in folder.iterdir())
    if "weights.npz" not in files:
        npy = [f for f in files if f.endswith(".npy")]
        if npy:
            raise Problem(f"the parameters are in separate .npy files ({', '.join(npy)}): "
                          "np.save writes one array per file; write all of them into one file "
                          "with np.savez(path / 'weights.npz', **arrays)")
        raise Problem(f"the folder holds {files}, but no weights.npz: write the parameters "
                      "with np.savez(path / 'weights.npz', **arrays)")
    try:
        with np.load(folder / "weights.npz", allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except ValueError as err:
        if "pickle" in str(err):
            raise Problem("weights.npz holds an object array, which NumPy can only store by "
                          "pickling it (a list of differently shaped arrays, a dict, a layer…); "
                          "save every parameter as its own named array: "
                          "np.savez(file, **{'0.weights': ..., '0.biases': ...})") from None
        raise Problem(f"weights.npz cannot be read ({_first_line(err)})") from None
    except Exception as err:      # a zip that is not an npz, a text file, …
        raise Problem(f"weights.npz is not an .npz file NumPy can read ({_first_line(err)}): "
                      "write it with np.savez") from None

    expected = _params(model)
    if set(arrays) == set(expected):
        return arrays, expected
    missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    dense_numbered = {f"{i}.{name}" for i, _ in enumerate(
        [layer for layer in model.layers if layer.param_names]) for name in ("weights", "biases")}
    if set(arrays) == dense_numbered:
        raise Problem(f"the keys in weights.npz are {sorted(arrays)}: you numbered the Dense "
                      "layers only; the number is the layer's position in model.layers, where "
                      f"ReLU and Softmax count too ({sorted(expected)})")
    if extra and all(key.startswith("arr_") for key in extra):
        raise Problem(f"the arrays in weights.npz are called {extra}: np.savez(file, *arrays) "
                      "numbers them arr_0, arr_1, …; name each one as keyword argument, "
                      "np.savez(file, **{'0.weights': w, '0.biases': b, ...})")
    if missing and all(key.endswith(".biases") for key in missing) and not extra:
        raise Problem(f"weights.npz has no biases (missing {missing}): save every name in "
                      "layer.param_names, the biases as well as the weights")
    if missing and all(key.endswith(".weights") for key in missing) and not extra:
        raise Problem(f"weights.npz has no weights (missing {missing}): save every name in "
                      "layer.param_names, the weights as well as the biases")
    raise Problem(f"weights.npz has the keys {sorted(arrays)}, expected {sorted(expected)} "
                  "(\"<position in model.layers>.<parameter name>\")")


def _compare_arrays(arrays, expected, where):
    for key, target in expected.items():
        stored = arrays[key]
        if stored.shape != target.shape:
            if stored.shape == target.T.shape:
                raise Problem(f"{key} {where} has shape {stored.shape}, the layer's is "
                              f"{target.shape}: store the array as it is, not transposed")
            raise Problem(f"{key} {where} has shape {stored.shape}, expected {target.shape}")
        if stored.dtype != target.dtype:
            raise Problem(f"{key} {where} is {stored.dtype}, but the layer's array is "
                          f"{target.dtype}: keep every array's dtype (no astype, no "
                          "np.array(..., dtype=float)), or the round trip is not exact")
        if not np.array_equal(stored, target):
            for other_key, other in expected.items():
                if other_key != key and other.shape == stored.shape and np.array_equal(
                        stored, other):
                    raise Problem(f"{key} {where} holds the values of {other_key}: the arrays "
                                  "went under the wrong keys (are the layers in order?)")
            if np.allclose(stored, target, rtol=1e-2, atol=1e-3):
                gap = float(np.max(np.abs(stored.astype(np.float64) - target)))
                raise Problem(f"{key} {where} differs from the layer's values by up to "
                              f"{gap:.1g}: the round trip must be exact, bit for bit, so store "
                              "the arrays themselves (np.savez), not rounded or as text")
            raise Problem(f"{key} {where} does not hold the layer's values")


def _save_and_inspect(save_model, model, x, folder):
    before = {key: value.copy() for key, value in _params(model).items()}
    expected_out = model.forward(x)
    try:
        save_model(model, str(folder))
    except FileNotFoundError as err:
        raise Problem(f"save_model raised FileNotFoundError ({_first_line(err)}): create the "
                      "folder first, Path(path).mkdir(parents=True, exist_ok=True)") from None
    except FileExistsError as err:
        raise Problem(f"saving into a folder that already exists raised FileExistsError "
                      f"({_first_line(err)}): use mkdir(parents=True, exist_ok=True), so that "
                      "saving again replaces the old files") from None
    for key, value in _params(model).items():
        if not np.array_equal(value, before[key]) or value.dtype != before[key].dtype:
            raise Problem(f"save_model changed the model's {key}: saving must leave the model "
                          "as it was (work on copies, not with in-place operations)")
    _read_spec(folder, model)
    arrays, expected = _read_arrays(folder, model)
    _compare_arrays(arrays, expected, "in weights.npz")
    try:
        loaded = Model.load(folder)
    except Exception as err:
        raise Problem(f"nnlib's Model.load cannot read your folder: {_first_line(err)}") from None
    if not np.array_equal(loaded.forward(x), expected_out):
        raise Problem("the model loaded from your folder computes different outputs")


@check("save_model")
def check_save_model(save_model):
    with tempfile.TemporaryDirectory(prefix="nnlib-check-") as tmp:
        tmp = Path(tmp)
        model, x = _model_a()
        # a folder that does not exist yet, two levels deep
        _save_and_inspect(save_model, model, x, tmp / "models" / "first")
        model, x = _model_b()
        _save_and_inspect(save_model, model, x, tmp / "models" / "second")
        # saving into an existing model folder replaces it
        model.layers[0].weights *= -2
        model.layers[0].biases += 1
        _save_and_inspect(save_model, model, x, tmp / "models" / "second")
    return ("model.json + weights.npz in nnlib's format; nnlib's Model.load reads it back bit "
            "for bit")


# --- load_model -----------------------------------------------------------------------------------

_PICKLE_RAN = []


def _pickle_alarm():
    """Called if, and only if, someone unpickles the trap array below: it records that it ran."""
    _PICKLE_RAN.append(True)
    return np.zeros((3, 2))


class _Trap:
    def __reduce__(self):
        # what pickle.load will call to "rebuild" this object; a real attack would name
        # os.system here instead of a harmless function
        return (_pickle_alarm, ())


def _write_folder(folder, spec, arrays):
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps(spec, indent=2))
    np.savez(folder / "weights.npz", **arrays)


def _load(load_model, folder, what):
    try:
        loaded = load_model(str(folder))
    except NotImplementedError:
        raise
    except Exception as err:
        raise Problem(f"load_model raised {type(err).__name__} on {what}: "
                      f"{_first_line(err)}") from None
    if loaded is None:
        raise Problem("load_model returned None: did you forget `return model`?")
    if not isinstance(getattr(loaded, "layers", None), list) or not callable(
            getattr(loaded, "forward", None)):
        raise Problem(f"load_model returned a {type(loaded).__name__}; return a Model: "
                      "model = Model(input_shape=...), then model.add(layer) for every layer")
    return loaded


def _compare_models(loaded, model, x, what):
    got, expected = _types(loaded.layers), _types(model.layers)
    if got != expected:
        if got == ["Dense", "ReLU", "Dense", "Softmax"]:
            raise Problem(f"for {what}, load_model built Dense, ReLU, Dense, Softmax, but "
                          f"model.json lists {expected}: build the layers that model.json "
                          "describes, one per entry, from its \"type\" and \"config\"")
        raise Problem(f"for {what}, load_model built the layers {got}, but model.json lists "
                      f"{expected}: one layer per entry, in order, from its \"type\"")
    if getattr(loaded, "input_shape", None) != model.input_shape:
        raise Problem(f"the loaded model has input_shape {getattr(loaded, 'input_shape', None)!r}"
                      f", model.json says {model.input_shape}: Model(input_shape="
                      "spec['input_shape'])")
    for i, (mine, ref) in enumerate(zip(loaded.layers, model.layers)):
        for name in ref.param_names:
            value, target = np.asarray(getattr(mine, name)), getattr(ref, name)
            key = f"{i}.{name}"
            if value.shape == target.shape and value.dtype != target.dtype:
                raise Problem(f"{key} was loaded as {value.dtype}, the file holds {target.dtype}: "
                              "build each Dense with its whole config (Dense(**config), which "
                              "includes the dtype) and keep the stored arrays' dtype")
            if value.shape == target.shape and not np.array_equal(value, target):
                if name == "biases" and not value.any():
                    raise Problem(f"{key} are still all zero, as a new Dense starts: load the "
                                  "biases from weights.npz too, not only the weights")
                raise Problem(f"{key} of the loaded model differs from the file: set every "
                              "parameter from weights.npz, e.g. layer.weights = stored[key]")
            _compare_arrays({key: value}, {key: target}, "of the loaded model")
    if not np.array_equal(loaded.forward(x), model.forward(x)):
        raise Problem("the loaded model computes different outputs than the saved one")


@check("load_model")
def check_load_model(load_model):
    with tempfile.TemporaryDirectory(prefix="nnlib-check-") as tmp:
        tmp = Path(tmp)
        for name, (model, x) in (("first", _model_a()), ("second", _model_b())):
            model.save(tmp / name)
            what = f"a folder saved from {model!r}"
            _compare_models(_load(load_model, tmp / name, what), model, x, what)

        # a layer type nnlib does not know, after a ReLU: it must be an error, not a guess
        model, _ = _model_a()
        spec = json.loads((tmp / "first" / "model.json").read_text())
        spec["layers"].insert(2, {"type": "LeakyReLU", "config": {"alpha": 0.01}})
        arrays = {}                                      # layers 2, 4 moved to 3, 5
        for key, value in _params(model).items():
            index, name = key.split(".")
            arrays[f"{int(index) + (int(index) >= 2)}.{name}"] = value
        _write_folder(tmp / "unknown", spec, arrays)
        try:
            loaded = load_model(str(tmp / "unknown"))
        except NotImplementedError:
            raise
        except Exception as err:
            if "LeakyReLU" not in str(err):
                raise Problem(f"model.json names a layer type load_model does not know "
                              f"('LeakyReLU'), and load_model raised {type(err).__name__}: "
                              f"{_first_line(err)}; check the type first and raise an error "
                              "that names it, e.g. ValueError(f\"unknown layer type {kind!r}\")"
                              ) from None
        else:
            layers = getattr(loaded, "layers", None) or []
            if len(layers) == len(spec["layers"]) - 1:
                raise Problem("model.json names a layer type load_model does not know "
                              "('LeakyReLU'), and load_model silently skipped it: the model would "
                              "compute something else than what was saved; raise an error that "
                              "names the unknown type instead")
            if len(layers) > 2 and type(layers[2]) is type(layers[1]):
                raise Problem("model.json names a layer type load_model does not know "
                              "('LeakyReLU'), and load_model put the previous layer "
                              f"({layers[1]!r}) in its place: after an if/elif chain with no "
                              "else, `layer` still holds the last one; raise an error that names "
                              "the unknown type instead")
            raise Problem("model.json names a layer type load_model does not know ('LeakyReLU'), "
                          "and load_model returned a model anyway: raise an error that names "
                          "the unknown type")

        # weights.npz with a pickled object inside: loading it must not unpickle
        model, _ = _model_b()
        trap = np.empty((), dtype=object)
        trap[()] = _Trap()
        spec = json.loads((tmp / "second" / "model.json").read_text())
        _write_folder(tmp / "trap", spec, {"0.weights": trap, "0.biases": model.layers[0].biases})
        _PICKLE_RAN.clear()
        try:
            load_model(str(tmp / "trap"))
        except NotImplementedError:
            raise
        except Exception:
            pass
        if _PICKLE_RAN:
            _PICKLE_RAN.clear()
            raise Problem("load_model unpickled an object from weights.npz, and with it ran code "
                          "that came with the file: load with np.load(file, allow_pickle=False) "
                          "(NumPy's default), which refuses object arrays")
    return ("builds the layers model.json lists, parameters bit for bit, refuses unknown types "
            "and pickled arrays")
