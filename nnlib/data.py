"""MNIST and the small helpers every chapter uses to feed it to a network. Introduced in chapter 01.

``load_mnist()`` looks for ``mnist.npz`` in this order: the repository's ``data/`` folder (bundled),
``$NNLIB_DATA`` (a folder or the file itself), Keras's cache ``~/.keras/datasets/``; failing those it
downloads Keras's copy into that cache and checks the sha256 that Keras pins.
"""

import hashlib
import numbers
import os
import sys
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from ._validate import class_ids, positive

BUNDLED = Path(__file__).resolve().parent.parent / "data" / "mnist.npz"
KERAS_CACHE = Path("~/.keras/datasets").expanduser()
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
KEYS = ("x_train", "y_train", "x_test", "y_test")


def find_mnist():
    """Path of the first mnist.npz found on disk (bundled, $NNLIB_DATA, Keras cache), or None."""
    candidates = [BUNDLED]
    if os.environ.get("NNLIB_DATA"):
        env = Path(os.environ["NNLIB_DATA"]).expanduser()
        candidates.append(env if env.suffix == ".npz" else env / "mnist.npz")
    candidates.append(KERAS_CACHE / "mnist.npz")
    return next((p for p in candidates if p.is_file()), None)


def download(url, dest, sha256, *, progress=True, timeout=30):
    """Download ``url`` to ``dest`` and check its sha256; ``dest`` is only ever a complete file."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _progress_bar(total, dest.name) if progress else None
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise OSError(f"could not download {url} ({getattr(err, 'reason', err)}): put mnist.npz "
                      f"in $NNLIB_DATA or {KERAS_CACHE} and try again") from None
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise OSError(f"downloaded {url} but its sha256 is {digest.hexdigest()}, expected {sha256}: "
                      "the file is damaged or not MNIST; nothing was saved")
    os.replace(partial, dest)
    return dest


def _progress_bar(total, name):
    from tqdm import tqdm
    return tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}", file=sys.stderr)


def load_mnist(*, url=KERAS_URL, sha256=KERAS_SHA256):
    """MNIST as ``(x_train, y_train), (x_test, y_test)``, exactly like
    ``keras.datasets.mnist.load_data()``: uint8 images (60000, 28, 28) and (10000, 28, 28),
    uint8 labels (60000,) and (10000,). Works offline with the bundled file.
    """
    path = find_mnist() or download(url, KERAS_CACHE / "mnist.npz", sha256)
    try:
        with np.load(path, allow_pickle=False) as f:
            x_train, y_train, x_test, y_test = (f[k] for k in KEYS)
        for images, labels, n in ((x_train, y_train, 60_000), (x_test, y_test, 10_000)):
            if images.shape != (n, 28, 28) or labels.shape != (n,) or images.dtype != np.uint8 \
                    or labels.dtype != np.uint8 or labels.max() > 9:
                raise ValueError(f"arrays of shape {images.shape} {images.dtype} and "
                                 f"{labels.shape} {labels.dtype}, expected ({n}, 28, 28) uint8 "
                                 f"and ({n},) uint8 digits 0..9")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        restore = ("restore it with `git checkout data/mnist.npz`" if path == BUNDLED
                   else "delete it so that load_mnist() downloads a fresh copy")
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise OSError(f"{path} is damaged ({reason}): {restore}; expected an .npz with keys "
                      f"{', '.join(KEYS)}") from None
    return (x_train, y_train), (x_test, y_test)


def preprocess(images, dtype=np.float32, *, keep_shape=False):
    """uint8 images (N, 28, 28) in 0..255 -> flat floats (N, 784) in [0, 1].

    ``keep_shape=True`` keeps the images' shape for convolutional layers, with a channel axis:
    (N, 28, 28) -> (N, 1, 28, 28); images that have one already, (N, C, H, W), keep it.
    Introduced in chapter 01; ``keep_shape`` in chapter 14.
    """
    images = np.asarray(images)
    if images.dtype.kind not in "uif":
        raise ValueError(f"preprocess expected pixel values 0..255, got {images.dtype}")
    if images.size:
        low, high = images.min(), images.max()
        if low < 0 or high > 255:
            raise ValueError(f"preprocess expected pixel values 0..255, got {low:g}..{high:g}")
        if images.dtype.kind == "f" and high <= 1:
            raise ValueError("preprocess expected raw pixels 0..255, but these are already in "
                             "[0, 1]: they were preprocessed once, and dividing by 255 again "
                             "would make every image almost black")
    shape = (len(images), -1)
    if keep_shape:
        if images.ndim not in (3, 4):
            raise ValueError(f"preprocess(keep_shape=True) expected images (N, H, W) or "
                             f"(N, C, H, W), got shape {images.shape}")
        shape = images.shape if images.ndim == 4 else (len(images), 1, *images.shape[1:])
    return images.reshape(shape).astype(dtype) / 255


def one_hot(labels, n_classes=10, dtype=np.float32):
    """Class ids (N,) -> one-hot rows (N, n_classes)."""
    y = class_ids(labels, n_classes, "one_hot")
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def train_val_split(x, y, val_size=10_000, *, rng=None):
    """Shuffle once with ``rng`` and hold out ``val_size`` examples:
    returns ``(x_train, y_train), (x_val, y_val)``.
    """
    if len(x) != len(y):
        raise ValueError(f"train_val_split got {len(x)} inputs but {len(y)} labels")
    if isinstance(val_size, bool) or not isinstance(val_size, numbers.Integral) \
            or not 0 < val_size < len(x):
        raise ValueError(f"val_size must be a whole number between 1 and {len(x) - 1}, "
                         f"got {val_size!r}")
    order = np.random.default_rng(rng).permutation(len(x))
    val, train = order[:val_size], order[val_size:]
    return (x[train], y[train]), (x[val], y[val])


def minibatches(x, y, batch_size, *, rng=None, shuffle=True):
    """Yield ``(x_batch, y_batch)`` pairs covering every example once, in an order drawn from
    ``rng`` (pass a ``np.random.Generator`` or a seed). The last batch may be smaller.
    """
    positive(batch_size, "batch_size", integer=True)
    if len(x) != len(y):
        raise ValueError(f"minibatches got {len(x)} inputs but {len(y)} labels")
    order = np.random.default_rng(rng).permutation(len(x)) if shuffle else np.arange(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]
