"""The chapter 10 checks catch the typical mistakes in save_model and load_model."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from nnlib import Dense, Model, ReLU, Softmax
from nnlib.checks import check_load_model, check_save_model
from checkhelpers import assert_named, not_yet

KNOWN_LAYERS = {"Dense": Dense, "ReLU": ReLU, "Softmax": Softmax}


@pytest.mark.parametrize("check", [check_save_model, check_load_model])
def test_unimplemented_exercise_is_pending(check):
    result = check(not_yet)
    assert not result.ok
    assert result.message.startswith("⏳")


# ---------------------------------------------------------------- save_model, and its variants

def spec_of(model):
    return {"format": "nnlib-model", "version": 1, "input_shape": model.input_shape,
            "layers": [{"type": type(layer).__name__, "config": layer.config()}
                       for layer in model.layers]}


def params_of(model):
    return {f"{i}.{name}": getattr(layer, name)
            for i, layer in enumerate(model.layers) for name in layer.param_names}


def saver(spec=spec_of, arrays=params_of, mkdir=True, write_json=None, write_arrays=None):
    """A save_model built from replaceable parts, correct unless a part is swapped."""
    def save_model(model, path):
        path = Path(path)
        if mkdir:
            path.mkdir(parents=True, exist_ok=True)
        (write_json or (lambda p, s: (p / "model.json").write_text(json.dumps(s))))(
            path, spec(model))
        (write_arrays or (lambda p, a: np.savez(p / "weights.npz", **a)))(path, arrays(model))
        return path
    return save_model


def test_correct_save_model_passes():
    result = check_save_model(saver())
    assert result.ok and result.message.startswith("✅")


def test_nnlib_save_passes():
    assert check_save_model(lambda model, path: model.save(path)).ok


def test_save_model_forgetting_the_biases_is_named():
    def weights_only(model):
        return {k: v for k, v in params_of(model).items() if k.endswith(".weights")}

    assert_named(check_save_model(saver(arrays=weights_only)), "weights.npz has no biases")


def test_save_model_forgetting_the_weights_is_named():
    def biases_only(model):
        return {k: v for k, v in params_of(model).items() if k.endswith(".biases")}

    assert_named(check_save_model(saver(arrays=biases_only)), "weights.npz has no weights")


def test_save_model_casting_float32_to_float64_is_named():
    def as_float64(model):
        return {k: v.astype(np.float64) for k, v in params_of(model).items()}

    assert_named(check_save_model(saver(arrays=as_float64)), "a conversion changed the dtype")


def test_save_model_casting_float64_to_float32_is_named():
    def as_float32(model):
        return {k: v.astype(np.float32) for k, v in params_of(model).items()}

    assert_named(check_save_model(saver(arrays=as_float32)), "a conversion changed the dtype")


def test_save_model_with_layers_reversed_is_named():
    def reversed_spec(model):
        spec = spec_of(model)
        spec["layers"].reverse()
        return spec

    assert_named(check_save_model(saver(spec=reversed_spec)), "reversed")


def test_save_model_listing_only_dense_layers_is_named():
    def dense_only(model):
        spec = spec_of(model)
        spec["layers"] = [e for e in spec["layers"] if e["type"] == "Dense"]
        return spec

    assert_named(check_save_model(saver(spec=dense_only)), "lists only the Dense layers")


def test_save_model_numbering_only_the_dense_layers_is_named():
    def dense_numbered(model):
        dense = [layer for layer in model.layers if layer.param_names]
        return {f"{i}.{name}": getattr(layer, name)
                for i, layer in enumerate(dense) for name in layer.param_names}

    assert_named(check_save_model(saver(arrays=dense_numbered)), "numbered the Dense layers only")


def test_save_model_with_arrays_under_swapped_keys_is_named():
    def swapped(model):
        arrays = dict(params_of(model))
        if "2.biases" in arrays:
            arrays["0.biases"], arrays["2.biases"] = arrays["2.biases"], arrays["0.biases"]
        return arrays

    assert_named(check_save_model(saver(arrays=swapped)), "went under the wrong keys")


def test_save_model_pickling_the_model_is_named():
    def with_pickle(path, arrays):
        np.savez(path / "weights.npz", **arrays)
        (path / "model.pkl").write_bytes(pickle.dumps(arrays, protocol=4))

    assert_named(check_save_model(saver(write_arrays=with_pickle)), "is a pickle file")


def test_save_model_storing_an_object_array_is_named():
    def as_object_array(path, arrays):
        holder = np.empty(len(arrays), dtype=object)
        holder[:] = list(arrays.values())
        np.savez(path / "weights.npz", params=holder)

    assert_named(check_save_model(saver(write_arrays=as_object_array)), "object array")


def test_save_model_with_positional_savez_is_named():
    def positional(path, arrays):
        np.savez(path / "weights.npz", *arrays.values())

    assert_named(check_save_model(saver(write_arrays=positional)), "arr_0, arr_1")


def test_save_model_writing_separate_npy_files_is_named():
    def npy_files(path, arrays):
        for key, value in arrays.items():
            np.save(path / f"{key}.npy", value)

    assert_named(check_save_model(saver(write_arrays=npy_files)), "separate .npy files")


def test_save_model_with_rounded_values_is_named():
    def rounded(model):
        return {k: np.round(v, 4) for k, v in params_of(model).items()}

    assert_named(check_save_model(saver(arrays=rounded)), "bit for bit")


def test_save_model_with_transposed_weights_is_named():
    def transposed(model):
        return {k: v.T if v.ndim == 2 else v for k, v in params_of(model).items()}

    assert_named(check_save_model(saver(arrays=transposed)), "it was transposed")


def test_save_model_writing_python_repr_instead_of_json_is_named():
    def with_str(path, spec):
        (path / "model.json").write_text(str(spec))

    assert_named(check_save_model(saver(write_json=with_str)), "Python repr, not JSON")


def test_save_model_forgetting_the_format_key_is_named():
    def no_format(model):
        spec = spec_of(model)
        del spec["format"]
        return spec

    assert_named(check_save_model(saver(spec=no_format)), "\"format\"")


def test_save_model_that_does_not_create_the_folder_is_named():
    assert_named(check_save_model(saver(mkdir=False)), "does not exist yet")


def test_save_model_that_refuses_an_existing_folder_is_named():
    def save_once(model, path):
        Path(path).mkdir(parents=True)
        return saver(mkdir=False)(model, path)

    assert_named(check_save_model(save_once), "FileExistsError")


def test_save_model_that_changes_the_model_is_named():
    def converts_in_place(model, path):
        for layer in model.layers:
            for name in layer.param_names:
                setattr(layer, name, getattr(layer, name).astype(np.float64))
        return saver()(model, path)

    assert_named(check_save_model(converts_in_place), "changed the model's")


# ---------------------------------------------------------------- load_model, and its variants

def load_model(path):
    path = Path(path)
    spec = json.loads((path / "model.json").read_text())
    model = Model(input_shape=spec["input_shape"])
    for entry in spec["layers"]:
        if entry["type"] not in KNOWN_LAYERS:
            raise ValueError(f"unknown layer type {entry['type']!r}")
        model.add(KNOWN_LAYERS[entry["type"]](**entry["config"]))
    with np.load(path / "weights.npz", allow_pickle=False) as stored:
        for i, layer in enumerate(model.layers):
            for name in layer.param_names:
                setattr(layer, name, stored[f"{i}.{name}"])
    return model


def test_correct_load_model_passes():
    result = check_load_model(load_model)
    assert result.ok and result.message.startswith("✅")


def test_nnlib_load_passes():
    assert check_load_model(Model.load).ok


def test_load_model_that_also_knows_dropout_passes(monkeypatch):
    # the chapter's go-further problem adds Dropout to the allow-list: that must stay correct
    from nnlib import Dropout
    monkeypatch.setitem(KNOWN_LAYERS, "Dropout", Dropout)
    result = check_load_model(load_model)
    assert result.ok, result.message


def test_load_model_with_a_dictionary_lookup_keyerror_passes():
    def lookup(path):
        spec = json.loads((Path(path) / "model.json").read_text())
        model = Model(input_shape=spec["input_shape"])
        for entry in spec["layers"]:
            model.add(KNOWN_LAYERS[entry["type"]](**entry["config"]))     # KeyError('LeakyReLU')
        with np.load(Path(path) / "weights.npz") as stored:
            for i, layer in enumerate(model.layers):
                for name in layer.param_names:
                    getattr(layer, name)[...] = stored[f"{i}.{name}"]
        return model

    assert check_load_model(lookup).ok


def original_project(entry, previous):
    """The original project's loop: an if/elif chain without else."""
    layer = previous
    if entry["type"] == "Dense":
        layer = Dense(**entry["config"])
    elif entry["type"] == "ReLU":
        layer = ReLU()
    elif entry["type"] == "Softmax":
        layer = Softmax()
    return layer


def spec_indexed_loader(make_layer):
    """Builds layers entry by entry and loads each Dense's arrays by its index in model.json."""
    def load(path):
        path = Path(path)
        spec = json.loads((path / "model.json").read_text())
        model = Model(input_shape=spec["input_shape"])
        with np.load(path / "weights.npz") as stored:
            previous = None
            for i, entry in enumerate(spec["layers"]):
                layer = make_layer(entry, previous)
                if layer is None:
                    continue
                if layer is not previous:
                    for name in layer.param_names:
                        setattr(layer, name, stored[f"{i}.{name}"])
                model.add(layer)
                previous = layer
        return model
    return load


def test_load_model_that_skips_an_unknown_layer_type_is_named():
    def skips(entry, previous):
        kind = KNOWN_LAYERS.get(entry["type"])
        return None if kind is None else kind(**entry["config"])

    assert_named(check_load_model(spec_indexed_loader(skips)), "silently skipped")


def test_load_model_that_repeats_the_previous_layer_for_an_unknown_type_is_named():
    assert_named(check_load_model(spec_indexed_loader(original_project)),
                 "put the previous layer")


def test_load_model_failing_without_naming_the_unknown_type_is_named():
    def get_none(path):
        spec = json.loads((Path(path) / "model.json").read_text())
        model = Model(input_shape=spec["input_shape"])
        for entry in spec["layers"]:
            model.add(KNOWN_LAYERS.get(entry["type"])(**entry["config"]))
        return load_model(path) if model else None

    assert_named(check_load_model(get_none), "does not name the unknown type")


def test_load_model_that_ignores_the_layer_types_is_named():
    def always_mnist_shape(path):
        spec = json.loads((Path(path) / "model.json").read_text())
        dense = [e["config"] for e in spec["layers"] if e["type"] == "Dense"]
        model = Model([Dense(**dense[0]), ReLU(), Dense(**dense[-1]), Softmax()])
        return model

    assert_named(check_load_model(always_mnist_shape), "built Dense, ReLU, Dense, Softmax")


def test_load_model_with_allow_pickle_is_named():
    def trusting(path):
        spec = json.loads((Path(path) / "model.json").read_text())
        model = Model(input_shape=spec["input_shape"])
        for entry in spec["layers"]:
            if entry["type"] not in KNOWN_LAYERS:
                raise ValueError(f"unknown layer type {entry['type']!r}")
            model.add(KNOWN_LAYERS[entry["type"]](**entry["config"]))
        with np.load(Path(path) / "weights.npz", allow_pickle=True) as stored:
            for i, layer in enumerate(model.layers):
                for name in layer.param_names:
                    setattr(layer, name, stored[f"{i}.{name}"])
        return model

    assert_named(check_load_model(trusting), "ran code that came with the file")


def test_load_model_casting_to_float64_is_named():
    def float64(path):
        model = load_model(path)
        for layer in model.layers:
            for name in layer.param_names:
                setattr(layer, name, np.array(getattr(layer, name), dtype=float))
        return model

    assert_named(check_load_model(float64), "was loaded as float64, the file holds float32")


def test_load_model_ignoring_the_dtype_in_config_is_named():
    def default_dtype(path):
        spec = json.loads((Path(path) / "model.json").read_text())
        model = Model(input_shape=spec["input_shape"])
        for entry in spec["layers"]:
            config = {k: v for k, v in entry["config"].items() if k != "dtype"}
            model.add(KNOWN_LAYERS[entry["type"]](**config))
        with np.load(Path(path) / "weights.npz") as stored:
            for i, layer in enumerate(model.layers):
                for name in layer.param_names:
                    getattr(layer, name)[...] = stored[f"{i}.{name}"]
        return model

    assert_named(check_load_model(default_dtype), "whole config")


def test_load_model_forgetting_the_biases_is_named():
    def weights_only(path):
        fresh = load_model(path)
        for layer in fresh.layers:
            if hasattr(layer, "biases"):
                layer.biases = np.zeros_like(layer.biases)
        return fresh

    assert_named(check_load_model(weights_only), "biases were not loaded")


def test_load_model_returning_a_list_of_layers_is_named():
    assert_named(check_load_model(lambda path: load_model(path).layers), "not a Model")


def test_load_model_forgetting_the_input_shape_is_named():
    def no_input_shape(path):
        model = load_model(path)
        model.input_shape = None
        return model

    assert_named(check_load_model(no_input_shape), "input shape was not taken from the file")


def test_load_model_without_return_is_named():
    def no_return(path):
        load_model(path)

    assert_named(check_load_model(no_return), "ends without returning it")


# ---------------------------------------------------------------- what the text asks beyond the files

def test_save_model_that_returns_nothing_is_named():
    def no_return(model, path):
        saver()(model, path)

    assert_named(check_save_model(no_return), "returned None")


def test_save_model_that_returns_the_path_as_a_string_is_named():
    assert_named(check_save_model(lambda model, path: str(saver()(model, path))),
                 "as a Path")


def test_an_exception_in_load_model_is_reported_as_the_students():
    def wrong_file_name(path):
        spec = json.loads((Path(path) / "model.json").read_text())
        model = Model(input_shape=spec["input_shape"])
        with np.load(Path(path) / "weights.npy") as stored:
            model.layers = list(stored)
        return model

    result = check_load_model(wrong_file_name)
    assert result.status == "error"
    assert result.message.startswith("❌ FAIL load_model: your code raised FileNotFoundError")


def test_failures_offer_a_hint_and_the_reference_code():
    result = check_save_model(saver(mkdir=False))
    assert "mkdir(parents=True, exist_ok=True)" in result.fix and "parent" in result.hint
    result = check_load_model(spec_indexed_loader(original_project))
    assert "KNOWN_LAYERS" in result.fix and "error that names it" in result.hint
    assert check_load_model(not_a_model_at_all).fix.startswith("model = Model(")


def not_a_model_at_all(path):
    return load_model(path).layers
