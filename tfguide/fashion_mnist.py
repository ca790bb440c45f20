"""Fashion-MNIST without the network, for the quickstart specs (suite/) and the benchmarks (benchmarks/): the real
IDX files in a private Keras cache, or a seeded synthetic stand-in of the same shape.

`keras.datasets.fashion_mnist.load_data()` calls `get_file(name, origin=URL, cache_subdir=
"datasets/fashion-mnist")` and downloads only when the file is not already in the cache. The specs run
the real loader against a cache that belongs to the test alone, so nothing is read from or written to
the user's ~/.keras and a missing file fails loudly instead of downloading. Where the cache is depends
on the Keras behind `tf.keras`:

- Keras 3 (`keras/src/utils/file_utils.py`): `cache_dir=None` means `backend.config.keras_home()`, which
  returns the module global `_KERAS_DIR`, computed ONCE at import from `$KERAS_HOME` (or ~/.keras).
  Setting the environment variable afterwards changes nothing: the global itself is redirected.
- Keras 2 (keras 2.15 and tf_keras, `src/utils/data_utils.py`): `cache_dir=None` means
  `os.path.join(os.path.expanduser("~"), ".keras")`, evaluated at every call and blind to $KERAS_HOME:
  $HOME is redirected.

When the real files are in none of the places a user's Keras keeps them, `synthetic_fashion_mnist` makes
learnable stand-in images (28x28 uint8, labels 0..9), so that accuracy after training still means something.
"""

from __future__ import annotations

import gzip
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The loader's file names, in the order load_data() reads them.
FILES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}
CACHE_SUBDIR = Path("datasets") / "fashion-mnist"

IDX_UBYTE = 0x08  # IDX type code of unsigned bytes; magic = 0x0000 0800 | ndim (2049 labels, 2051 images)


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise a uint8 array in the IDX format of (Fashion-)MNIST: magic, big-endian int32 dims, data."""
    assert array.dtype == np.uint8
    magic = struct.pack(">I", (IDX_UBYTE << 8) | array.ndim)
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return magic + dims + array.tobytes(order="C")


def sample_arrays(seed: int, n_train: int, n_test: int) -> dict[str, np.ndarray]:
    """Random but reproducible images and labels with the real dataset's dtypes and per-sample shapes."""
    rng = np.random.default_rng(seed)
    return {
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
    }


def write_dataset(directory: Path, arrays: dict[str, np.ndarray]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        with gzip.open(directory / name, "wb") as handle:
            handle.write(idx_bytes(arrays[key]))


def tf_keras():
    """The Keras behind `tf.keras` (imported on first use: this module is imported without TensorFlow)."""
    import tensorflow as tf

    return tf.keras


def _is_keras3() -> bool:
    import tensorflow as tf

    from tfguide.environment import keras_flavour

    return int(keras_flavour(tf)["version"].split(".")[0]) >= 3


def _get_file_module(keras):
    loader_module = sys.modules[keras.datasets.fashion_mnist.load_data.__module__]
    return sys.modules[loader_module.get_file.__module__]


def private_cache(monkeypatch, root: Path) -> Path:
    """Make load_data()'s cache live under `root` for this test; return the directory it reads from.

    Also replaces the downloader with one that fails, so a file missing from the cache is an error
    rather than a network access.
    """
    get_file_module = _get_file_module(tf_keras())
    if _is_keras3():
        cache_base = root / "keras_home"
        monkeypatch.setattr(get_file_module.config, "_KERAS_DIR", str(cache_base))
    else:
        home = root / "home"
        cache_base = home / ".keras"
        monkeypatch.setenv("HOME", str(home))
    cache_base.mkdir(parents=True, exist_ok=True)

    def no_network(url, *args, **kwargs):
        raise AssertionError(f"keras.datasets tried to download {url}: the private cache was not used")

    monkeypatch.setattr(get_file_module, "urlretrieve", no_network)
    return cache_base / CACHE_SUBDIR


def real_dataset_candidates() -> list[Path]:
    """Where a user's downloaded Fashion-MNIST may already be: $KERAS_HOME (Keras 3 reads it), ~/.keras
    (every version), and /tmp/.keras (where get_file falls back when the home cache is read-only)."""
    candidates = []
    if os.environ.get("KERAS_HOME"):
        candidates.append(Path(os.environ["KERAS_HOME"]).expanduser() / CACHE_SUBDIR)
    candidates.append(Path.home() / ".keras" / CACHE_SUBDIR)
    candidates.append(Path("/tmp") / ".keras" / CACHE_SUBDIR)
    return candidates


def find_real_dataset() -> Path | None:
    for directory in real_dataset_candidates():
        if all((directory / name).is_file() for name in FILES.values()):
            return directory
    return None


def link_into(cache_dir: Path, source_dir: Path) -> None:
    """Expose the real files in the private cache without copying 30 MB."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        (cache_dir / name).symlink_to(source_dir / name)


# -- the synthetic stand-in -------------------------------------------------------------------------------

SEED = 1234
MIX, SHIFT, NOISE = 0.4, 3, 0.35  # chosen so that accuracy is informative (not 1.0)


@dataclass(frozen=True)
class Images:
    x_train: np.ndarray  # uint8 (n, 28, 28)
    y_train: np.ndarray  # uint8 (n,)
    x_test: np.ndarray
    y_test: np.ndarray
    kind: str  # a short stable label, part of a row's configuration ("fashion-mnist", "synthetic-seed1234")
    source: str  # what the report says about the data


def synthetic_fashion_mnist(n_train: int, n_test: int, seed: int = SEED) -> Images:
    """Ten smooth class templates, each example a randomly shifted, scaled, noisy copy of its class's one.

    A least-squares linear classifier reaches about 81 % on it and the quickstart model about 92 % after 7
    epochs of 60,000 examples (the real data: about 88 %): enough to show that a tuned configuration
    learns what the guide's configuration learns.
    """
    rng = np.random.default_rng(seed)
    coarse = MIX * rng.random((1, 7, 7)) + (1 - MIX) * rng.random((10, 7, 7))  # a shared shape + each class's own
    templates = np.kron(coarse, np.ones((4, 4)))  # 28x28 blocky "garments"

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, size=n)
        scale = rng.uniform(0.3, 1.0, size=(n, 1, 1))
        imgs = templates[labels] * scale
        shift = rng.integers(-SHIFT, SHIFT + 1, size=(n, 2))
        for sy in range(-SHIFT, SHIFT + 1):
            for sx in range(-SHIFT, SHIFT + 1):
                sel = (shift[:, 0] == sy) & (shift[:, 1] == sx)
                imgs[sel] = np.roll(imgs[sel], (sy, sx), axis=(1, 2))
        imgs = imgs + rng.normal(0.0, NOISE, size=imgs.shape)
        return (np.clip(imgs, 0, 1) * 255).astype(np.uint8), labels.astype(np.uint8)

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return Images(x_train, y_train, x_test, y_test, kind=f"synthetic-seed{seed}",
                  source=f"synthetic Fashion-MNIST-shaped data (seed {seed}; the real dataset is not cached)")
