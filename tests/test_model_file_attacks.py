"""Model.load on damaged or hostile folders: only ModelFileError, one line, and no memory blow-up;
Model.save killed at any moment: the folder still loads as the old or the new model."""

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnlib import Conv2D, Dense, Flatten, MaxPool2D, Model, ModelFileError, ReLU, Softmax
from nnlib.modelfile import MAX_PARAMETERS
from nnlib.train import build_model


def small_cnn(seed=0):
    """(1, 8, 8) images -> Conv2D(1 → 2, 3×3) -> (2, 6, 6) -> MaxPool2D(2) -> (2, 3, 3) -> 3."""
    rng = np.random.default_rng(seed)
    return Model([Conv2D(1, 2, 3, rng=rng), ReLU(), MaxPool2D(2), Flatten(), Dense(18, 3, rng=rng),
                  Softmax()], input_shape=(1, 8, 8))


@pytest.fixture
def folder(tmp_path):
    """A small saved model to damage: 4 → 3 ReLU → 2 softmax."""
    model = Model([Dense(4, 3, rng=0), ReLU(), Dense(3, 2, rng=1), Softmax()], input_shape=4)
    return model.save(tmp_path / "m")


def spec_of(folder):
    return json.loads((folder / "model.json").read_text())


def write_spec(folder, spec):
    (folder / "model.json").write_text(json.dumps(spec))


def refused(folder, match):
    with pytest.raises(ModelFileError, match=match) as info:
        Model.load(folder)
    assert "\n" not in str(info.value), "the error must be one line"
    return str(info.value)


# --- model.json --------------------------------------------------------------------------------
def test_deeply_nested_json_is_refused_not_a_recursion_error(folder):
    (folder / "model.json").write_text("[" * 100_000 + "]" * 100_000)
    refused(folder, "nested too deeply")


def test_a_5000_digit_integer_is_refused_quickly(folder):
    spec = spec_of(folder)
    text = json.dumps(spec).replace('"input_shape": 4', '"input_shape": ' + "9" * 5000)
    (folder / "model.json").write_text(text)
    refused(folder, "integer with 5000 digits")


def test_model_json_that_cannot_be_read_is_a_model_file_error(folder):
    if not Path("/proc/self/mem").exists():
        pytest.skip("needs Linux's /proc/self/mem, a file that exists but cannot be read")
    (folder / "model.json").unlink()
    (folder / "model.json").symlink_to("/proc/self/mem")
    refused(folder, "cannot be read")


def test_a_huge_model_json_is_refused_by_its_size(folder):
    with open(folder / "model.json", "r+b") as f:
        f.truncate(3 << 30)  # 3 GiB, sparse: no disk space used
    refused(folder, r"is 3,221,225,472 bytes; a model.json is at most")


@pytest.mark.parametrize("version", [True, 1.0, "1", None, 0, 3, 2.0, "2"])
def test_version_must_be_the_integer_1_or_2(folder, version):
    spec = spec_of(folder)
    spec["version"] = version
    write_spec(folder, spec)
    refused(folder, "format version")


@pytest.mark.parametrize("dtype", ["U4", "S4", "complex64", "int32", "bool", "object", "nonsense"])
def test_non_real_dtypes_are_refused(folder, dtype):
    spec = spec_of(folder)
    spec["layers"][0]["config"]["dtype"] = dtype
    write_spec(folder, spec)
    refused(folder, "floating-point type")


@pytest.mark.parametrize("change, match", [
    (lambda s: s.update(layers={"0": "Dense"}), '"layers" must be a list'),
    (lambda s: s["layers"].__setitem__(0, "Dense"), "unknown type None"),
    (lambda s: s["layers"][0].update(config=[4, 3]), "has config"),
    (lambda s: s["layers"][0]["config"].update(rng=5), "expected keys among"),
    (lambda s: s["layers"][0]["config"].update(n_inputs=4.0), "impossible model"),
    (lambda s: s["layers"][0]["config"].update(n_inputs=-4), "impossible model"),
    (lambda s: s.update(input_shape="4"), "impossible model"),
])
def test_malformed_descriptions_are_refused(folder, change, match):
    spec = spec_of(folder)
    change(spec)
    write_spec(folder, spec)
    refused(folder, match)


@pytest.fixture
def cnn_folder(tmp_path):
    """A small saved convolutional model (format version 2) to damage."""
    return small_cnn().save(tmp_path / "cnn")


def conv_config(spec):
    return spec["layers"][0]["config"]


@pytest.mark.parametrize("change, match", [
    (lambda s: s.update(layers=[]), '"layers" is empty; a model has at least one layer'),
    (lambda s: conv_config(s).update(kernel_size=0), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=-3), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=2.5), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size="3"), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=True), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=None), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=[3]), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=[3, 3, 3]), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=[[3], 3]), "impossible model.*kernel_size"),
    (lambda s: conv_config(s).update(kernel_size=9), r"impossible model.*8×8 pixels.*9×9"),
    (lambda s: conv_config(s).update(stride=0), "impossible model.*stride"),
    (lambda s: conv_config(s).update(padding=3), r"impossible model.*padding must be .* 0 to 2"),
    (lambda s: conv_config(s).update(padding=-1), "impossible model.*padding"),
    (lambda s: conv_config(s).update(in_channels=3), r"impossible model.*Conv2D\(3 → 2, 3×3\) "
                                                     r"cannot follow outputs of shape \(1, 8, 8\)"),
    (lambda s: conv_config(s).update(out_channels=0), "impossible model.*out_channels"),
    (lambda s: conv_config(s).update(dtype="int8"), "impossible model.*floating-point"),
    (lambda s: conv_config(s).update(groups=2), "expected keys among"),
    (lambda s: s["layers"][2]["config"].update(pool_size=7), r"impossible model.*6×6 pixels.*7×7"),
    (lambda s: s["layers"][2]["config"].update(stride=-2), "impossible model.*stride"),
    (lambda s: s["layers"][3].update(config={"start_dim": 1}), r"expected keys among \[\]"),
    (lambda s: s["layers"][4]["config"].update(n_inputs=72),
     r"impossible model.*Dense\(72 → 3\) cannot follow a layer with 18 outputs"),
    (lambda s: s["layers"].pop(3),
     r"impossible model.*Dense\(18 → 3\) cannot follow outputs of shape \(2, 3, 3\)"),
    (lambda s: s.update(input_shape=[1, 8]), "impossible model.*cannot follow outputs of shape"),
    (lambda s: s.update(input_shape=[1, 8, 8, 8]), "impossible model.*input_shape"),
    (lambda s: s.update(input_shape=[]), "impossible model.*input_shape"),
    (lambda s: s.update(input_shape=[0, 8, 8]), "impossible model.*input_shape"),
    (lambda s: s.update(input_shape=[1, 8.0, 8]), "impossible model.*input_shape"),
    (lambda s: s.update(input_shape=[1, [8], 8]), "impossible model.*input_shape"),
    (lambda s: s.update(input_shape={"c": 1}), "impossible model.*input_shape"),
    (lambda s: s.update(version=1), r"input_shape \[1, 8, 8\] is a list, which needs format "
                                    r"version 2; the file says version 1"),
    (lambda s: s.update(version=1, input_shape=None),
     r"layer 0 is a Conv2D, which needs format version 2; the file says version 1"),
])
def test_malformed_convolutional_descriptions_are_refused(cnn_folder, change, match):
    spec = spec_of(cnn_folder)
    change(spec)
    write_spec(cnn_folder, spec)
    refused(cnn_folder, match)


def test_a_convolutional_model_whose_sizes_all_change_together_loads_only_matching_weights(
        cnn_folder):
    # a coherent description with other sizes: the weights in weights.npz no longer fit it
    spec = spec_of(cnn_folder)
    conv_config(spec).update(out_channels=4)
    spec["layers"][4]["config"].update(n_inputs=36)
    write_spec(cnn_folder, spec)
    refused(cnn_folder, r"0.weights has shape \(2, 1, 3, 3\) float32, model.json says "
                        r"\(4, 1, 3, 3\) float32")


# --- weights.npz -------------------------------------------------------------------------------
def test_a_plain_npy_instead_of_npz_is_refused(folder):
    np.save(folder / "weights.npy", np.zeros(3, np.float32))
    os.replace(folder / "weights.npy", folder / "weights.npz")
    refused(folder, "damaged or truncated")


def test_members_must_be_named_exactly(folder):
    with np.load(folder / "weights.npz") as stored:
        arrays = {k: stored[k] for k in stored.files}
    with zipfile.ZipFile(folder / "weights.npz", "w") as archive:
        for key, array in arrays.items():
            archive.writestr(key, array.tobytes())  # no .npy suffix, no header
    refused(folder, r"does not match model.json \(missing \['0.biases', ")


def test_an_extra_member_is_refused(folder):
    with zipfile.ZipFile(folder / "weights.npz", "a") as archive:
        archive.writestr("extra.npy", b"")
    refused(folder, r"unexpected \['extra.npy'\]")


def test_an_unknown_compression_method_is_refused(folder):
    data = bytearray((folder / "weights.npz").read_bytes())
    # the compression method is a 2-byte field at offset 8 of a local header and 10 of a
    # central-directory header; 99 is a method zipfile does not implement
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset:start + offset + 2] = struct.pack("<H", 99)
            start += 4
    (folder / "weights.npz").write_bytes(bytes(data))
    refused(folder, "damaged or truncated")


def test_a_flipped_bit_in_the_weights_fails_the_crc(folder):
    data = bytearray((folder / "weights.npz").read_bytes())
    at = data.find(b"PK\x03\x04") + 30 + len("0.weights.npy") + 128 + 5  # inside the first array
    data[at] ^= 0x10
    (folder / "weights.npz").write_bytes(bytes(data))
    refused(folder, "damaged or truncated.*CRC")


def test_a_header_claiming_a_huge_shape_is_refused_before_reading(folder):
    header = {"descr": "<f4", "fortran_order": False, "shape": (10 ** 9, 10 ** 9)}
    buffer = bytearray()

    class Sink:
        def write(self, b):
            buffer.extend(b)

    np.lib.format.write_array_header_1_0(Sink(), header)
    with np.load(folder / "weights.npz") as stored:
        arrays = {k: stored[k] for k in stored.files}
    with zipfile.ZipFile(folder / "weights.npz", "w") as archive:
        archive.writestr("0.weights.npy", bytes(buffer) + b"\0" * 64)
        for key in ("0.biases", "2.weights", "2.biases"):
            with archive.open(f"{key}.npy", "w") as f:
                np.lib.format.write_array(f, arrays[key])
    refused(folder, r"0.weights has shape \(1000000000, 1000000000\) float32, model.json says \(4, 3\)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused_on_load_naming_the_array(folder, bad):
    with np.load(folder / "weights.npz") as stored:
        arrays = {k: stored[k].copy() for k in stored.files}
    arrays["2.weights"][1, 0] = bad
    np.savez(folder / "weights.npz", **arrays)
    refused(folder, "2.weights holds NaN or infinite values")


def test_save_refuses_non_finite_weights_and_keeps_the_old_file(folder):
    model = Model.load(folder)
    before = (folder / "weights.npz").read_bytes()
    model.layers[0].biases[1] = np.nan
    with pytest.raises(ValueError, match="0.biases holds 1 NaN or infinite values"):
        model.save(folder)
    assert (folder / "weights.npz").read_bytes() == before


# --- memory: each case runs in a child process limited to 1.5 GiB of address space -------------
CHILD = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
from nnlib import Model, ModelFileError
start = time.perf_counter()
try:
    Model.load(sys.argv[1])
    print("loaded")
except ModelFileError as err:
    print("ModelFileError", f"{time.perf_counter() - start:.2f}", err)
except BaseException as err:
    print("OTHER", type(err).__name__, err)
"""


def load_in_child(folder):
    result = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


@pytest.mark.parametrize("n_inputs, n_outputs, match", [
    (20_000, 20_000, f"at most {MAX_PARAMETERS:,}"), (10 ** 11, 5, f"at most {MAX_PARAMETERS:,}"),
    (5, 10 ** 11, f"at most {MAX_PARAMETERS:,}"), (10 ** 12, 5, "integer with 13 digits"),
])
def test_a_tiny_model_json_declaring_a_huge_layer_fails_fast(folder, n_inputs, n_outputs, match):
    spec = spec_of(folder)
    spec.update(input_shape=n_inputs)
    spec["layers"] = [{"type": "Dense", "config": {"n_inputs": n_inputs, "n_outputs": n_outputs}}]
    write_spec(folder, spec)
    assert len((folder / "model.json").read_bytes()) < 300
    out = load_in_child(folder)
    assert out.startswith("ModelFileError") and match in out, out


@pytest.mark.parametrize("config, match", [
    ({"in_channels": 10 ** 6, "out_channels": 10 ** 6, "kernel_size": 5},
     f"at most {MAX_PARAMETERS:,}"),
    ({"in_channels": 1, "out_channels": 1, "kernel_size": [10 ** 6, 10 ** 6]},
     f"at most {MAX_PARAMETERS:,}"),
    ({"in_channels": 1, "out_channels": 10 ** 11, "kernel_size": 1}, f"at most {MAX_PARAMETERS:,}"),
    ({"in_channels": 1, "out_channels": 2, "kernel_size": 10 ** 12}, "integer with 13 digits"),
])
def test_a_tiny_model_json_declaring_a_huge_convolution_fails_fast(cnn_folder, config, match):
    spec = spec_of(cnn_folder)
    spec.update(input_shape=None)
    spec["layers"] = [{"type": "Conv2D", "config": config}]
    write_spec(cnn_folder, spec)
    assert len((cnn_folder / "model.json").read_bytes()) < 300
    out = load_in_child(cnn_folder)
    assert out.startswith("ModelFileError") and match in out, out


def test_huge_sizes_that_allocate_nothing_load_within_the_memory_limit(cnn_folder):
    # images of 10¹¹ × 10¹¹ pixels: the layers' parameters stay small, and nothing is allocated
    # for the images until images of that size arrive
    spec = spec_of(cnn_folder)
    spec.update(input_shape=[1, 10 ** 11, 10 ** 11])
    spec["layers"] = spec["layers"][:3]
    write_spec(cnn_folder, spec)
    with np.load(cnn_folder / "weights.npz") as stored:
        np.savez(cnn_folder / "weights.npz", **{k: stored[k] for k in ("0.weights", "0.biases")})
    assert load_in_child(cnn_folder) == "loaded"


def test_a_zip_bomb_member_is_never_decompressed(folder):
    # 0.weights.npy with the right header, followed by 2.5 GiB of zeros (about 2.5 MB deflated)
    with np.load(folder / "weights.npz") as stored:
        arrays = {k: stored[k] for k in stored.files}
    with zipfile.ZipFile(folder / "weights.npz", "w", zipfile.ZIP_DEFLATED,
                         compresslevel=1) as archive:
        with archive.open("0.weights.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, arrays["0.weights"])
            zeros = bytes(64 << 20)
            for _ in range(40):
                f.write(zeros)
        for key in ("0.biases", "2.weights", "2.biases"):
            with archive.open(f"{key}.npy", "w") as f:
                np.lib.format.write_array(f, arrays[key])
    assert (folder / "weights.npz").stat().st_size < 20 << 20
    out = load_in_child(folder)
    assert out.startswith("ModelFileError") and "0.weights holds 2,684,354," in out, out


# --- crash-safe save ---------------------------------------------------------------------------
SAVER = """
import sys
from nnlib.train import build_model
models = [build_model(hidden=128, seed=1), build_model(hidden=128, seed=2)]
models[0].save(sys.argv[1])
print("ready", flush=True)
i = 1
while True:
    models[i % 2].save(sys.argv[1])
    i += 1
"""


def test_killing_a_save_at_random_moments_never_loses_the_model(tmp_path):
    trials = int(os.environ.get("NNLIB_KILL_TRIALS", 25))
    target = tmp_path / "m"
    expected = [build_model(hidden=128, seed=s).layers[0].weights for s in (1, 2)]
    rng = np.random.default_rng(0)
    recovered = leftovers = 0
    for _ in range(trials):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(target)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        recovered += not target.exists()
        leftovers += len(list(tmp_path.iterdir())) > 1
        loaded = Model.load(target)  # moves .m.old.* back if the kill fell between the renames
        assert any(np.array_equal(loaded.layers[0].weights, w) for w in expected)
    build_model(hidden=8, seed=0).save(target)  # the next save cleans every leftover
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    print(f"{trials} kills: {recovered} recovered by load, {leftovers} left temporary folders")


def test_leftovers_of_a_live_process_are_not_touched(tmp_path, folder):
    # a folder named by a live pid may be another process's save in progress
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        busy = folder.parent / f".m.new.{live.pid}-abc123"
        busy.mkdir()
        dead = folder.parent / ".m.new.999999999-abc123"
        dead.mkdir()
        Model.load(folder).save(folder)
        assert busy.exists() and not dead.exists()
    finally:
        live.kill()
        live.wait()


def test_load_recovers_the_old_model_when_the_final_folder_is_missing(folder):
    model = Model.load(folder)
    os.replace(folder, folder.parent / ".m.old.999999999-xyz")
    loaded = Model.load(folder)
    np.testing.assert_array_equal(loaded.layers[0].weights, model.layers[0].weights)
    assert [p.name for p in folder.parent.iterdir()] == ["m"]


def test_load_of_none_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"Model.load expected a folder path \(str or pathlib.Path\), got None"):
        Model.load(None)


# --- random damage -----------------------------------------------------------------------------
def damage(data, rng):
    """One random kind of damage: flipped bytes, a cut, a duplicated or a deleted stretch."""
    data = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:
        for at in rng.integers(0, len(data), rng.integers(1, 8)):
            data[at] = rng.integers(256)
    elif kind == 1:
        del data[rng.integers(0, len(data)):]
    elif kind == 2:
        a = rng.integers(0, len(data))
        data[a:a] = data[a:a + rng.integers(1, 64)] * int(rng.integers(1, 4))
    else:
        a = rng.integers(0, len(data))
        del data[a:a + rng.integers(1, 64)]
    return bytes(data)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_randomly_damaged_folders_load_or_raise_only_model_file_error(tmp_path, kind):
    trials = int(os.environ.get("NNLIB_FUZZ_TRIALS", 300))
    model = build_model(hidden=16, seed=0) if kind == "mlp" else small_cnn()
    source = model.save(tmp_path / "source")
    files = {name: (source / name).read_bytes() for name in ("model.json", "weights.npz")}
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "ModelFileError": 0}
    for trial in range(trials):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        target = ("model.json", "weights.npz")[rng.integers(2)]
        for name, data in files.items():
            (folder / name).write_bytes(damage(data, rng) if name == target else data)
        try:
            loaded = Model.load(folder)
            outcomes["loaded"] += 1  # harmless damage (say, in a date field): same model exactly
            assert repr(loaded) == repr(model)
            for a, b in zip(loaded.layers, model.layers):
                for name in a.param_names:
                    np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        except ModelFileError as err:
            assert "\n" not in str(err)
            outcomes["ModelFileError"] += 1
    assert sum(outcomes.values()) == trials  # any other exception has failed the test already
    print(trials, f"damaged folders of the {kind}:", outcomes)


def test_load_leaves_the_old_folder_of_a_live_save_alone(folder):
    # between a live save's two renames the old model waits in .m.old.<pid>-*: the save puts it
    # back itself if its second rename fails, so load must not take it
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        waiting = folder.parent / f".m.old.{live.pid}-abc123"
        os.replace(folder, waiting)
        with pytest.raises(ModelFileError, match="model.json is missing"):
            Model.load(folder)
        assert (waiting / "model.json").is_file()
    finally:
        live.kill()
        live.wait()
