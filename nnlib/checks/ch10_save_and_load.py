"""Checks for chapter 10: save_model and load_model, in nnlib's file format (see nnlib/model.py).

A saved model is a folder: model.json (format, version, input_shape, and every layer's type and
config, in order) and weights.npz (one array per parameter, named "<layer index>.<name>").
The checks write into a temporary folder that they delete afterwards.
"""

import ast
import json
import tempfile
from pathlib import Path
from textwrap import indent

import numpy as np

from ..activations import ReLU, Softmax
from ..layers import Dense
from ..model import FORMAT, VERSION, Model
from ._core import Problem, check, rng_for_checks

PICKLE_MAGIC = b"\x80"           # every pickle of protocol 2 or later starts with this byte

# --- the reference code, in the pieces a fix points at, and whole ------------------------------
MKDIR = "path = Path(path)\npath.mkdir(parents=True, exist_ok=True)"
SPEC = '''spec = {"format": "nnlib-model", "version": 1, "input_shape": model.input_shape,
        "layers": [{"type": type(layer).__name__, "config": layer.config()}
                   for layer in model.layers]}
(path / "model.json").write_text(json.dumps(spec, indent=2) + "\\n")'''
ARRAYS = '''arrays = {f"{i}.{name}": getattr(layer, name)
          for i, layer in enumerate(model.layers) for name in layer.param_names}
np.savez(path / "weights.npz", **arrays)'''
BUILD = '''model = Model(input_shape=spec["input_shape"])
for i, entry in enumerate(spec["layers"]):
    kind = entry["type"]
    if kind not in KNOWN_LAYERS:
        raise ValueError(f"{path / 'model.json'}: layer {i} has unknown type {kind!r}; "
                         f"known types are {', '.join(KNOWN_LAYERS)}")
    model.add(KNOWN_LAYERS[kind](**entry["config"]))'''
FILL = '''with np.load(path / "weights.npz", allow_pickle=False) as stored:
    for i, layer in enumerate(model.layers):
        for name in layer.param_names:
            setattr(layer, name, stored[f"{i}.{name}"])'''
SAVE_FIX = "def save_model(model, path):\n" + indent(
    "\n".join([MKDIR, SPEC, ARRAYS, "return path"]), "    ")
LOAD_FIX = "def load_model(path):\n" + indent("\n".join([
    'path = Path(path)\nspec = json.loads((path / "model.json").read_text())', BUILD, FILL,
    "return model"]), "    ")

# --- tier 2: the facts the mistakes overlook ------------------------------------------------------
FOLDER = ("A Path's mkdir can create the missing parent folders too, and can accept a folder that "
          "exists already: saving again must replace the old model.")
FORMAT_TEXT = ("nnlib's format is a folder with two files: model.json, written by the json module, "
               "and weights.npz, written by NumPy. Neither can carry code.")
SPEC_KEYS = ('model.json holds one object with the keys "format", "version", "input_shape" and '
             '"layers": one {"type", "config"} entry per layer, in order.')
KEYS = ('Each array in weights.npz is named "<position in the model\'s list of layers>.<parameter '
        'name>": the ReLU and Softmax count for the position, and each Dense layer has two '
        "names.")
EXACT = ("An .npz file stores an array's raw bytes: unchanged arrays come back bit for bit, with "
         "their shape and dtype.")
FROM_FILE = ("The file decides the model: one layer per entry of model.json, built from its type "
             "and its whole config, then every parameter taken from weights.npz.")
NEVER_GUESS = ("A type that is not in KNOWN_LAYERS must stop the loading with an error that names "
               "it: a model that silently computes something else is worse than no model.")


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
    if not folder.is_dir():
        raise Problem(f"save_model did not create the folder {folder.name!r}: the two files need "
                      "a folder, and neither it nor its parent exists yet", FOLDER, MKDIR)
    files = sorted(p.name for p in folder.iterdir())
    for name in files:
        if (folder / name).is_file() and (folder / name).read_bytes()[:1] == PICKLE_MAGIC:
            raise Problem(f"{name} is a pickle file: unpickling can run any code hidden in the "
                          "file, so a model shared this way is unsafe to open", FORMAT_TEXT,
                          SPEC + "\n" + ARRAYS)
    if "model.json" not in files:
        raise Problem(f"the folder holds {files or 'nothing'}, but no model.json, the file that "
                      "describes the architecture", SPEC_KEYS, SPEC)
    text = (folder / "model.json").read_text()
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as err:
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise Problem(f"model.json is not valid JSON ({err})", FORMAT_TEXT, SPEC) from None
        raise Problem("model.json is a Python repr, not JSON (single quotes, True/None): the str "
                      "of a dict only looks like JSON, and a JSON reader refuses it",
                      "JSON is a text format of its own; the json module writes it.", SPEC) \
            from None
    if not isinstance(spec, dict):
        raise Problem(f"model.json holds a {type(spec).__name__}; it must be one object (a "
                      "dict) with the keys format, version, input_shape and layers", SPEC_KEYS,
                      SPEC)
    for key, value in (("format", FORMAT), ("version", VERSION)):
        if spec.get(key) != value:
            raise Problem(f"model.json has \"{key}\": {spec.get(key)!r}, expected {value!r}: "
                          "nnlib uses these two keys to recognise its files", SPEC_KEYS, SPEC)
    if spec.get("input_shape") != model.input_shape:
        raise Problem(f"model.json has \"input_shape\": {spec.get('input_shape')!r}, but the "
                      f"model's input shape is {model.input_shape}", SPEC_KEYS, SPEC)
    entries = spec.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Problem("model.json has no \"layers\" list with one object (type and config) per "
                      "layer", SPEC_KEYS, SPEC)
    saved, expected = [e.get("type") for e in entries], _types(model.layers)
    if saved != expected:
        if saved == expected[::-1]:
            raise Problem(f"the layers in model.json are reversed ({saved}): a loader rebuilds "
                          "them in the order it reads them, first layer first", SPEC_KEYS, SPEC)
        if saved == [t for t in expected if t == "Dense"]:
            raise Problem("model.json lists only the Dense layers: ReLU and Softmax have no "
                          "parameters but still compute, so every layer must be listed",
                          SPEC_KEYS, SPEC)
        if sorted(map(str, saved)) == sorted(expected):
            raise Problem(f"the layers in model.json are in the wrong order: {saved}, the model "
                          f"has {expected}", SPEC_KEYS, SPEC)
        raise Problem(f"model.json lists the layer types {saved}, the model has {expected}: "
                      "each type must be the name of the layer's class", SPEC_KEYS, SPEC)
    for i, (entry, layer) in enumerate(zip(entries, model.layers)):
        if entry.get("config") != layer.config():
            raise Problem(f"layer {i} in model.json has \"config\": {entry.get('config')!r}, "
                          f"expected {layer.config()!r}: the config is what the layer reports "
                          "about itself, the arguments that rebuild it", "Each layer can "
                          "describe itself: ask it for its config.", SPEC)
    return spec


def _read_arrays(folder, model):
    files = sorted(p.name for p in folder.iterdir())
    if "weights.npz" not in files:
        npy = [f for f in files if f.endswith(".npy")]
        if npy:
            raise Problem(f"the parameters are in separate .npy files ({', '.join(npy)}), one "
                          "file per array; the format keeps all of them in one weights.npz",
                          "NumPy's savez writes many named arrays into one .npz file; save "
                          "writes a single array.", ARRAYS)
        raise Problem(f"the folder holds {files}, but no weights.npz, the file with the "
                      "parameters", KEYS, ARRAYS)
    try:
        with np.load(folder / "weights.npz", allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except ValueError as err:
        if "pickle" in str(err):
            raise Problem("weights.npz holds an object array, which NumPy can only store by "
                          "pickling it (a list of differently shaped arrays, a dict, a layer…); "
                          "each parameter must be an array of numbers under a name of its own",
                          KEYS, ARRAYS) from None
        raise Problem(f"weights.npz cannot be read ({_first_line(err)})", EXACT, ARRAYS) from None
    except Exception as err:      # a zip that is not an npz, a text file, …
        raise Problem(f"weights.npz is not an .npz file NumPy can read ({_first_line(err)})",
                      EXACT, ARRAYS) from None

    expected = _params(model)
    if set(arrays) == set(expected):
        return arrays, expected
    missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    dense_numbered = {f"{i}.{name}" for i, _ in enumerate(
        [layer for layer in model.layers if layer.param_names]) for name in ("weights", "biases")}
    if set(arrays) == dense_numbered:
        raise Problem(f"the keys in weights.npz are {sorted(arrays)}: you numbered the Dense "
                      "layers only, but the number is the layer's position in the model, where "
                      f"ReLU and Softmax count too ({sorted(expected)})", KEYS, ARRAYS)
    if extra and all(key.startswith("arr_") for key in extra):
        raise Problem(f"the arrays in weights.npz are called {extra}: they reached NumPy "
                      "without names, so it numbered them arr_0, arr_1, …", "NumPy's savez "
                      "names each array after the keyword it was given; arrays passed by "
                      "position get numbers.", ARRAYS)
    if missing and all(key.endswith(".biases") for key in missing) and not extra:
        raise Problem(f"weights.npz has no biases (missing {missing}): only the weights were "
                      "saved", KEYS, ARRAYS)
    if missing and all(key.endswith(".weights") for key in missing) and not extra:
        raise Problem(f"weights.npz has no weights (missing {missing}): only the biases were "
                      "saved", KEYS, ARRAYS)
    raise Problem(f"weights.npz has the keys {sorted(arrays)}, expected {sorted(expected)}", KEYS,
                  ARRAYS)


def _compare_arrays(arrays, expected, where, fix):
    for key, target in expected.items():
        stored = arrays[key]
        if stored.shape != target.shape:
            if stored.shape == target.T.shape:
                raise Problem(f"{key} {where} has shape {stored.shape}, the layer's is "
                              f"{target.shape}: it was transposed", EXACT, fix)
            raise Problem(f"{key} {where} has shape {stored.shape}, expected {target.shape}",
                          EXACT, fix)
        if stored.dtype != target.dtype:
            raise Problem(f"{key} {where} is {stored.dtype}, but the layer's array is "
                          f"{target.dtype}: a conversion changed the dtype, so the round trip is "
                          "not exact", EXACT, fix)
        if not np.array_equal(stored, target):
            for other_key, other in expected.items():
                if other_key != key and other.shape == stored.shape and np.array_equal(
                        stored, other):
                    raise Problem(f"{key} {where} holds the values of {other_key}: the arrays "
                                  "went under the wrong keys", KEYS, fix)
            if np.allclose(stored, target, rtol=1e-2, atol=1e-3):
                gap = float(np.max(np.abs(stored.astype(np.float64) - target)))
                raise Problem(f"{key} {where} differs from the layer's values by up to "
                              f"{gap:.1g}: the values were rounded (or went through text), and "
                              "the round trip must be exact, bit for bit", EXACT, fix)
            raise Problem(f"{key} {where} does not hold the layer's values", EXACT, fix)


def _save_and_inspect(save_model, model, x, folder):
    before = {key: value.copy() for key, value in _params(model).items()}
    expected_out = model.forward(x)
    try:
        returned = save_model(model, str(folder))
    except FileNotFoundError as err:
        raise Problem(f"save_model raised FileNotFoundError ({_first_line(err)}): the folder, "
                      "or its parent, does not exist yet when the files are written", FOLDER,
                      MKDIR) from None
    except FileExistsError as err:
        raise Problem(f"saving into a folder that already exists raised FileExistsError "
                      f"({_first_line(err)}): saving again must replace the old files", FOLDER,
                      MKDIR) from None
    for key, value in _params(model).items():
        if not np.array_equal(value, before[key]) or value.dtype != before[key].dtype:
            raise Problem(f"save_model changed the model's {key}: saving must leave the model "
                          "as it was", "Read the parameters; any conversion belongs on a copy, "
                          "and none is needed.", ARRAYS)
    _read_spec(folder, model)
    arrays, expected = _read_arrays(folder, model)
    _compare_arrays(arrays, expected, "in weights.npz", ARRAYS)
    if not isinstance(returned, Path) or returned.resolve() != folder.resolve():
        raise Problem(f"save_model wrote the folder but returned {returned!r}; it must return "
                      "the folder it wrote, as a Path, so that the caller can load it from there",
                      "The path may come in as a string; the function turns it into a Path "
                      "and hands that back.", "path = Path(path)\n...\nreturn path")
    try:
        loaded = Model.load(folder)
    except Exception as err:
        raise Problem(f"nnlib's Model.load cannot read your folder: {_first_line(err)}") from None
    if not np.array_equal(loaded.forward(x), expected_out):
        raise Problem("the model loaded from your folder computes different outputs")


@check("save_model", hint="A folder with two files: model.json describes the layers in order "
       "(format, version, input_shape, and each layer's type and config); weights.npz holds "
       "every parameter as it is, named by the layer's position and the parameter's name.",
       fix=SAVE_FIX)
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


def _load(load_model, folder):
    loaded = load_model(str(folder))
    if loaded is None:
        raise Problem("load_model returned None: the function builds the model but ends without "
                      "returning it", "A function without a return statement gives None to its "
                      "caller.", "return model")
    if not isinstance(getattr(loaded, "layers", None), list) or not callable(
            getattr(loaded, "forward", None)):
        raise Problem(f"load_model returned a {type(loaded).__name__}, not a Model: a Model "
                      "holds the layers and runs them in order", "Start from an empty Model with "
                      "the input shape from model.json, and add each layer to it.", BUILD)
    return loaded


def _compare_models(loaded, model, x, what):
    got, expected = _types(loaded.layers), _types(model.layers)
    if got != expected:
        if got == ["Dense", "ReLU", "Dense", "Softmax"]:
            raise Problem(f"for {what}, load_model built Dense, ReLU, Dense, Softmax, but "
                          f"model.json lists {expected}: the layers came from a fixed recipe, "
                          "not from the file", FROM_FILE, BUILD)
        raise Problem(f"for {what}, load_model built the layers {got}, but model.json lists "
                      f"{expected}", FROM_FILE, BUILD)
    if getattr(loaded, "input_shape", None) != model.input_shape:
        raise Problem(f"the loaded model has input shape {getattr(loaded, 'input_shape', None)!r}"
                      f", but model.json says {model.input_shape}: the input shape was not taken "
                      "from the file", FROM_FILE, BUILD)
    for i, (mine, ref) in enumerate(zip(loaded.layers, model.layers)):
        for name in ref.param_names:
            value, target = np.asarray(getattr(mine, name)), getattr(ref, name)
            key = f"{i}.{name}"
            if value.shape == target.shape and value.dtype != target.dtype:
                raise Problem(f"{key} was loaded as {value.dtype}, the file holds {target.dtype}: "
                              "the layer was built without the dtype of its whole config, or the "
                              "stored array was converted", "The config includes the dtype; the "
                              "arrays in weights.npz already have the right one.",
                              BUILD + "\n" + FILL)
            if value.shape == target.shape and not np.array_equal(value, target):
                if name == "biases" and not value.any():
                    raise Problem(f"{key} are still all zero, as a new Dense starts: the biases "
                                  "were not loaded from weights.npz", KEYS, FILL)
                raise Problem(f"{key} of the loaded model differs from the file", KEYS, FILL)
            _compare_arrays({key: value}, {key: target}, "of the loaded model", FILL)
    if not np.array_equal(loaded.forward(x), model.forward(x)):
        raise Problem("the loaded model computes different outputs than the saved one",
                      FROM_FILE, LOAD_FIX)


def _refuses_unknown_types(load_model, tmp):
    """A layer type nnlib does not know, after a ReLU: it must be an error, not a guess."""
    model, _ = _model_a()
    spec = json.loads((tmp / "first" / "model.json").read_text())
    spec["layers"].insert(2, {"type": "LeakyReLU", "config": {"alpha": 0.01}})
    arrays = {}                                      # layers 2, 4 moved to 3, 5
    for key, value in _params(model).items():
        index, name = key.split(".")
        arrays[f"{int(index) + (int(index) >= 2)}.{name}"] = value
    _write_folder(tmp / "unknown", spec, arrays)
    unknown = "model.json names a layer type load_model does not know ('LeakyReLU'), and "
    try:
        loaded = load_model(str(tmp / "unknown"))
    except NotImplementedError:
        raise
    except Exception as err:
        if "LeakyReLU" in str(err):
            return
        raise Problem(f"{unknown}load_model raised {type(err).__name__}: {_first_line(err)}; "
                      "that error does not name the unknown type, so whoever loads the file "
                      "cannot tell what is wrong with it", NEVER_GUESS, BUILD) from None
    layers = getattr(loaded, "layers", None) or []
    if len(layers) == len(spec["layers"]) - 1:
        raise Problem(f"{unknown}load_model silently skipped it: the model computes something "
                      "else than what was saved", NEVER_GUESS, BUILD)
    if len(layers) > 2 and type(layers[2]) is type(layers[1]):
        previous = type(layers[1]).__name__
        raise Problem(f"{unknown}load_model put the previous layer (a {previous}) in its place: "
                      "after an if/elif chain with no else, the variable still holds the layer "
                      "before", NEVER_GUESS, BUILD)
    raise Problem(f"{unknown}load_model returned a model anyway", NEVER_GUESS, BUILD)


def _refuses_pickles(load_model, tmp):
    """weights.npz with a pickled object inside: loading it must not unpickle."""
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
                      "that came with the file", "NumPy's load refuses object arrays unless "
                      "it is told to allow pickle; its default is the safe one.", FILL)


@check("load_model", hint="Build exactly the layers model.json lists, in order, from KNOWN_LAYERS "
       "only (an unknown type is an error that names it), each with its whole config; then set "
       "every parameter from weights.npz, opened without pickle.", fix=LOAD_FIX)
def check_load_model(load_model):
    with tempfile.TemporaryDirectory(prefix="nnlib-check-") as tmp:
        tmp = Path(tmp)
        for name, (model, x) in (("first", _model_a()), ("second", _model_b())):
            model.save(tmp / name)
            what = f"a folder saved from {model!r}"
            _compare_models(_load(load_model, tmp / name), model, x, what)
        _refuses_unknown_types(load_model, tmp)
        _refuses_pickles(load_model, tmp)
    return ("builds the layers model.json lists, parameters bit for bit, refuses unknown types "
            "and pickled arrays")
