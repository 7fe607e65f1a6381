"""Model.save / Model.load: bitwise round trips, atomic overwrite, and clear errors for bad files."""

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnlib import Dense, Model, ModelFileError, ReLU, Softmax
from nnlib.train import build_cnn, build_model


@pytest.fixture
def model():
    return build_model(hidden=16, seed=3)


@pytest.fixture
def x(rng):
    return rng.random((20, 784), dtype=np.float32)


def test_save_then_load_gives_bit_identical_outputs(model, x, tmp_path):
    model.layers[0].biases[:] = np.linspace(-1, 1, 16)
    model.save(tmp_path / "m")
    loaded = Model.load(tmp_path / "m")
    assert [type(l).__name__ for l in loaded.layers] == ["Dense", "ReLU", "Dense", "Softmax"]
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert loaded.forward(x).dtype == np.float32


def test_float64_models_round_trip_in_float64(tmp_path, x):
    model = Model([Dense(784, 4, rng=0, dtype=np.float64), Softmax()])
    model.save(tmp_path / "m")
    loaded = Model.load(tmp_path / "m")
    assert loaded.layers[0].weights.dtype == np.float64
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_file_format_is_json_plus_npz_without_pickles(model, tmp_path):
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "weights.npz"]
    spec = json.loads((tmp_path / "m" / "model.json").read_text())
    assert spec["format"] == "nnlib-model" and spec["version"] == 1 and spec["input_shape"] == 784
    assert spec["layers"][0] == {"type": "Dense",
                                 "config": {"n_inputs": 784, "n_outputs": 16, "dtype": "float32"}}
    with np.load(tmp_path / "m" / "weights.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["0.biases", "0.weights", "2.biases", "2.weights"]


def test_a_version_1_folder_written_by_an_older_nnlib_still_loads(x, tmp_path):
    # model.json exactly as nnlib 1.0 wrote it, before format version 2 existed
    folder = tmp_path / "old"
    folder.mkdir()
    layers = [{"type": "Dense", "config": {"n_inputs": 784, "n_outputs": 3, "dtype": "float32"}},
              {"type": "ReLU", "config": {}}, {"type": "Dropout", "config": {"rate": 0.5}},
              {"type": "Dense", "config": {"n_inputs": 3, "n_outputs": 10, "dtype": "float32"}},
              {"type": "Softmax", "config": {}}]
    (folder / "model.json").write_text(json.dumps(
        {"format": "nnlib-model", "version": 1, "input_shape": 784, "layers": layers}, indent=2))
    rng = np.random.default_rng(0)
    arrays = {"0.weights": rng.standard_normal((784, 3)).astype(np.float32),
              "0.biases": rng.standard_normal(3).astype(np.float32),
              "3.weights": rng.standard_normal((3, 10)).astype(np.float32),
              "3.biases": rng.standard_normal(10).astype(np.float32)}
    np.savez(folder / "weights.npz", **arrays)
    loaded = Model.load(folder)
    assert repr(loaded) == ("Model([Dense(784 → 3), ReLU(), Dropout(0.5), Dense(3 → 10), "
                            "Softmax()])") and loaded.input_shape == 784
    hidden = np.maximum(x @ arrays["0.weights"] + arrays["0.biases"], 0)
    np.testing.assert_allclose(loaded.forward(x).argmax(axis=1),
                               (hidden @ arrays["3.weights"] + arrays["3.biases"]).argmax(axis=1))


def test_save_writes_version_1_unless_the_model_needs_version_2(model, tmp_path):
    # version 1 keeps a multilayer perceptron's folder readable by an nnlib without version 2
    model.save(tmp_path / "mlp")
    build_cnn().save(tmp_path / "cnn")
    Model([Dense(784, 2, rng=0)], input_shape=(784,)).save(tmp_path / "tuple")
    specs = {name: json.loads((tmp_path / name / "model.json").read_text())
             for name in ("mlp", "cnn", "tuple")}
    versions = {name: spec["version"] for name, spec in specs.items()}
    assert versions == {"mlp": 1, "cnn": 2, "tuple": 2}
    assert specs["tuple"]["input_shape"] == [784]
    assert Model.load(tmp_path / "tuple").input_shape == (784,)


def test_version_2_also_reads_a_multilayer_perceptron(model, x, tmp_path):
    model.save(tmp_path / "m")
    _edit_spec(tmp_path / "m", lambda s: s.update(version=2))
    np.testing.assert_array_equal(Model.load(tmp_path / "m").forward(x), model.forward(x))


def test_saving_over_a_model_replaces_it(model, x, tmp_path):
    build_model(hidden=8, seed=1).save(tmp_path / "m")
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(Model.load(tmp_path / "m").forward(x), model.forward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folders left behind


def test_a_failed_save_leaves_the_previous_model_loadable(model, x, tmp_path, monkeypatch):
    model.save(tmp_path / "m")
    other = build_model(hidden=8, seed=1)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        other.save(tmp_path / "m")
    np.testing.assert_array_equal(Model.load(tmp_path / "m").forward(x), model.forward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_a_save_failing_at_the_final_rename_puts_the_previous_model_back(model, x, tmp_path,
                                                                        monkeypatch):
    model.save(tmp_path / "m")
    real_replace = os.replace

    def refuse_new_model(src, dst):
        if Path(src).name.startswith(".m.") and ".old." not in Path(src).name:
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse_new_model)
    with pytest.raises(OSError, match="Input/output error"):
        build_model(hidden=8, seed=1).save(tmp_path / "m")
    monkeypatch.undo()
    np.testing.assert_array_equal(Model.load(tmp_path / "m").forward(x), model.forward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_save_refuses_to_overwrite_a_folder_that_is_not_a_model(model, tmp_path):
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="is not an nnlib model folder"):
        model.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_save_refuses_layers_the_format_does_not_know(tmp_path):
    class Mystery:
        def forward(self, x):
            return x

        def backward(self, d):
            return d

    with pytest.raises(TypeError, match="cannot save layers of type Mystery"):
        Model([Dense(2, 2, rng=0), Mystery()]).save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def _edit_spec(folder, change):
    spec = json.loads((folder / "model.json").read_text())
    change(spec)
    (folder / "model.json").write_text(json.dumps(spec))


def test_unknown_layer_type_is_named_not_replaced_by_the_previous_layer(model, tmp_path):
    model.save(tmp_path / "m")
    _edit_spec(tmp_path / "m", lambda s: s["layers"][1].update(type="LeakyReLU"))
    with pytest.raises(ModelFileError, match=r"layer 1 has unknown type 'LeakyReLU'; "
                                             r"nnlib knows Dense, ReLU, Softmax, Dropout, Conv2D, "
                                             r"MaxPool2D, Flatten"):
        Model.load(tmp_path / "m")


def test_a_version_1_file_cannot_hold_the_layers_of_version_2(model, tmp_path):
    model.save(tmp_path / "m")
    _edit_spec(tmp_path / "m", lambda s: s["layers"][1].update(type="Flatten"))
    with pytest.raises(ModelFileError, match=r"layer 1 is a Flatten, which needs format version 2; "
                                             r"the file says version 1"):
        Model.load(tmp_path / "m")


def test_truncated_weights_file_is_reported_as_damaged(model, tmp_path):
    model.save(tmp_path / "m")
    weights = tmp_path / "m" / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match=r"weights.npz is damaged or truncated"):
        Model.load(tmp_path / "m")


def test_corrupt_json_is_reported(model, tmp_path):
    model.save(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text('{"format": "nnlib-model", "layers": [')
    with pytest.raises(ModelFileError, match="model.json is not valid JSON"):
        Model.load(tmp_path / "m")


@pytest.mark.parametrize("missing", ["model.json", "weights.npz"])
def test_missing_file_is_named(model, tmp_path, missing):
    model.save(tmp_path / "m")
    (tmp_path / "m" / missing).unlink()
    with pytest.raises(ModelFileError, match=f"{missing} is missing"):
        Model.load(tmp_path / "m")


def test_weights_that_do_not_match_the_layers_are_reported(model, tmp_path):
    model.save(tmp_path / "m")
    _edit_spec(tmp_path / "m", lambda s: s["layers"][0]["config"].update(n_outputs=32))
    with pytest.raises(ModelFileError, match="impossible model|does not match|has shape"):
        Model.load(tmp_path / "m")


def test_weights_with_a_wrong_shape_are_reported(tmp_path):
    Model([Dense(4, 3, rng=0)]).save(tmp_path / "m")
    np.savez(tmp_path / "m" / "weights.npz", **{"0.weights": np.zeros((3, 4), np.float32),
                                                "0.biases": np.zeros(3, np.float32)})
    with pytest.raises(ModelFileError, match=r"0.weights has shape \(3, 4\) float32, "
                                             r"model.json says \(4, 3\) float32"):
        Model.load(tmp_path / "m")


def test_wrong_format_version_is_reported(model, tmp_path):
    model.save(tmp_path / "m")
    _edit_spec(tmp_path / "m", lambda s: s.update(version=99))
    with pytest.raises(ModelFileError,
                       match="format version 99; this nnlib reads versions 1 and 2"):
        Model.load(tmp_path / "m")


def test_loading_never_unpickles(model, tmp_path):
    model.save(tmp_path / "m")
    ran = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (ran.write_text, ("!",))

    np.savez(tmp_path / "m" / "weights.npz",
             **{"0.weights": np.array([Payload()], dtype=object)})
    with zipfile.ZipFile(tmp_path / "m" / "weights.npz") as z:
        assert b"write_text" in z.read("0.weights.npy")  # the file really holds a pickle
    with pytest.raises(ModelFileError):
        Model.load(tmp_path / "m")
    assert not ran.exists()


def test_adding_a_dense_layer_that_does_not_fit_is_an_error():
    model = Model(input_shape=784)
    with pytest.raises(ValueError, match=r"Dense\(100 → 10\) cannot follow a layer with 784 outputs"):
        model.add(Dense(100, 10))
