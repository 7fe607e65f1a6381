"""load_mnist and the data helpers, on the real bundled MNIST; the download path against a real
HTTP server on 127.0.0.1."""

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

import nnlib.data as data
from nnlib import load_mnist, minibatches, one_hot, preprocess, train_val_split

REPO_MNIST = Path(__file__).resolve().parent.parent / "data" / "mnist.npz"
BUNDLED_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_bundled_file_is_the_documented_one():
    assert data.BUNDLED == REPO_MNIST
    assert hashlib.sha256(REPO_MNIST.read_bytes()).hexdigest() == BUNDLED_SHA256


def test_load_mnist_matches_keras_shapes_and_dtypes(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}


def test_load_mnist_is_the_real_mnist(mnist):
    (x_train, y_train), (_, y_test) = mnist
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                             5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert round(float(x_train.mean() / 255), 4) == 0.1307
    assert round(float(x_train.std() / 255), 4) == 0.3081


def test_preprocess_flattens_and_scales_to_float32(mnist):
    (x_train, _), _ = mnist
    x = preprocess(x_train[:5])
    assert x.shape == (5, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x[0].reshape(28, 28) * 255, x_train[0])


def test_one_hot_rows(rng):
    y = rng.integers(0, 10, 50)
    hot = one_hot(y)
    assert hot.shape == (50, 10) and hot.dtype == np.float32
    np.testing.assert_array_equal(hot.argmax(axis=1), y)
    np.testing.assert_array_equal(hot.sum(axis=1), 1)


def test_train_val_split_is_a_seeded_partition():
    x, y = np.arange(100)[:, None], np.arange(100)
    (xt, yt), (xv, yv) = train_val_split(x, y, 20, rng=5)
    assert len(xv) == 20 and len(xt) == 80
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(100))
    np.testing.assert_array_equal(xt[:, 0], yt)  # images stay with their labels
    (_, _), (_, yv2) = train_val_split(x, y, 20, rng=5)
    np.testing.assert_array_equal(yv, yv2)
    with pytest.raises(ValueError, match="val_size must be a whole number between 1 and 99"):
        train_val_split(x, y, 100)


def test_minibatches_cover_every_example_once_in_a_seeded_order():
    x, y = np.arange(10)[:, None], np.arange(10)
    batches = list(minibatches(x, y, 4, rng=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert all(np.array_equal(bx[:, 0], by) for bx, by in batches)
    again = np.concatenate([b[1] for b in minibatches(x, y, 4, rng=0)])
    np.testing.assert_array_equal(seen, again)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        next(minibatches(x, y, 0))


# --- finding and downloading the file ---------------------------------------------------------
@pytest.fixture
def no_local_copies(tmp_path, monkeypatch):
    """Pretend nnlib runs without the repository's data folder, with an empty Keras cache."""
    monkeypatch.setattr(data, "BUNDLED", tmp_path / "absent" / "mnist.npz")
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "keras")
    monkeypatch.delenv("NNLIB_DATA", raising=False)
    return tmp_path


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "mnist.npz").write_bytes(REPO_MNIST.read_bytes())

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_nnlib_data_variable_is_used_when_the_bundled_file_is_absent(no_local_copies, monkeypatch):
    folder = no_local_copies / "mine"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(REPO_MNIST.read_bytes())
    monkeypatch.setenv("NNLIB_DATA", str(folder))
    assert data.find_mnist() == folder / "mnist.npz"
    (x_train, _), _ = load_mnist(url="http://127.0.0.1:9/never-used")
    assert x_train.shape == (60000, 28, 28)


def test_download_fetches_verifies_and_caches(no_local_copies, server, capsys):
    (x_train, y_train), (x_test, _) = load_mnist(url=f"{server}/mnist.npz", sha256=BUNDLED_SHA256)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    cached = no_local_copies / "keras" / "mnist.npz"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == BUNDLED_SHA256
    assert "downloading mnist.npz" in capsys.readouterr().err  # the progress bar
    assert data.find_mnist() == cached  # the next call reads the cache


def test_download_with_a_wrong_checksum_saves_nothing(no_local_copies, server):
    with pytest.raises(OSError, match="sha256 is 06af5dfe.*expected 731c5ac6.*nothing was saved"):
        load_mnist(url=f"{server}/mnist.npz")  # Keras's pin does not match this file
    assert not any((no_local_copies / "keras").iterdir())


def test_offline_download_fails_with_one_line_saying_what_to_do(no_local_copies, server):
    with pytest.raises(OSError) as err:
        load_mnist(url=f"{server}/missing.npz")
    message = str(err.value)
    assert "\n" not in message
    assert "could not download" in message and "put mnist.npz in $NNLIB_DATA" in message
    assert not (no_local_copies / "keras" / "mnist.npz").exists()
