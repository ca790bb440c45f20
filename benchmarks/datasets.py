"""The data the benchmarks use: Fashion-MNIST itself when it is in a Keras cache, otherwise a seeded
synthetic stand-in of the same shape (28x28 uint8 images, labels 0..9) that is learnable, so accuracy
after training means something; plus the guide's file formats written from it (TFRecord, CSV, text, JPEG).

Nothing is downloaded: the benchmarks run offline. The real files are found where the quickstart specs
look for them ($KERAS_HOME, ~/.keras or /tmp/.keras: tfguide/fashion_mnist.py) and read through
the real `keras.datasets.fashion_mnist.load_data()`, with its cache pointed at them and its downloader
replaced by one that fails, exactly as the specs do.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tfguide import fashion_mnist as fashion_mnist_files
# The synthetic stand-in lives in tfguide/ (the quickstart specs use it too); these names stay importable here.
from tfguide.fashion_mnist import SEED, Images, synthetic_fashion_mnist  # noqa: F401


def find_real_fashion_mnist() -> Path | None:
    """The directory holding the four real Fashion-MNIST files, or None."""
    return fashion_mnist_files.find_real_dataset()


def data_note() -> str:
    found = find_real_fashion_mnist()
    if found is not None:
        return f"Images: Fashion-MNIST, read by keras.datasets.fashion_mnist.load_data() from {found}."
    where = ", ".join(str(p) for p in fashion_mnist_files.real_dataset_candidates())
    return ("Images: synthetic Fashion-MNIST-shaped data (28x28 uint8, labels 0..9, seeded, learnable), because the "
            f"real dataset is in none of {where} and the benchmarks never download. Accuracy figures are on its "
            "held-out part; throughput does not depend on the pixel values.")


_LOADED: dict = {}


def load_real_fashion_mnist(directory: Path):
    """keras.datasets.fashion_mnist.load_data() reading the files in `directory` (never the network)."""
    import pytest

    key = str(Path(directory).resolve())
    if key not in _LOADED:
        with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as tmp:
            fashion_mnist_files.link_into(fashion_mnist_files.private_cache(mp, Path(tmp)), Path(directory))
            _LOADED[key] = fashion_mnist_files.tf_keras().datasets.fashion_mnist.load_data()
    return _LOADED[key]


def fashion_mnist(n_train: int, n_test: int) -> Images:
    """The first n_train / n_test examples of Fashion-MNIST if it is cached, else the synthetic stand-in."""
    found = find_real_fashion_mnist()
    if found is not None:
        (x, y), (xt, yt) = load_real_fashion_mnist(found)
        return Images(x[:n_train], y[:n_train], xt[:n_test], yt[:n_test], kind="fashion-mnist",
                      source=f"Fashion-MNIST (keras.datasets.fashion_mnist.load_data() from {found})")
    return synthetic_fashion_mnist(n_train, n_test)


# -- the guide's file formats ---------------------------------------------------------------------

def write_tfrecords(tf, directory: Path, images: np.ndarray, labels: np.ndarray, files: int) -> list[str]:
    """Serialized tf.train.Example records (raw image bytes, an int64 label) split over `files` files, written
    by the recipe's own writer (reference.data_tfrecord.write_examples)."""
    from reference.data_tfrecord import write_examples

    names = []
    for f, part in enumerate(np.array_split(np.arange(len(images)), files)):
        name = str(directory / f"part-{f:02d}.tfrecord")
        write_examples(name, (tf.train.Example(features=tf.train.Features(feature={
            "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[images[i].tobytes()])),
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(labels[i])])),
        })) for i in part))
        names.append(name)
    return names


def write_csv(directory: Path, rows: int, files: int, seed: int = SEED) -> tuple[list[str], int]:
    """The guide's CSV: eight float columns, no header. Returns the names and the total bytes of text."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, 8)).astype(np.float32)
    names, total = [], 0
    for f, part in enumerate(np.array_split(values, files)):
        name = directory / f"part-{f:02d}.csv"
        text = "\n".join(",".join(f"{v:.6f}" for v in row) for row in part) + "\n"
        name.write_text(text)
        names.append(str(name))
        total += len(text.encode())
    return names, total


def write_text(directory: Path, lines: int, files: int, seed: int = SEED) -> tuple[list[str], int]:
    """Text lines of 40..120 printable characters. Returns the names and the total bytes of the lines."""
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.", dtype=np.uint8)
    names, total = [], 0
    for f, count in enumerate(np.array_split(np.arange(lines), files)):
        out = []
        for _ in count:
            line = alphabet[rng.integers(0, len(alphabet), size=int(rng.integers(40, 121)))].tobytes().decode()
            out.append(line)
            total += len(line)
        name = directory / f"part-{f:02d}.txt"
        name.write_text("\n".join(out) + "\n")
        names.append(str(name))
    return names, total


def write_jpegs(tf, directory: Path, images: np.ndarray, size: int = 64) -> list[str]:
    """Grayscale JPEGs, upscaled to size x size so the guide's resize to 28x28 has work to do."""
    names = []
    up = tf.cast(tf.image.resize(images[..., None], [size, size]), tf.uint8).numpy()
    for i, img in enumerate(up):
        name = str(directory / f"img-{i:05d}.jpg")
        tf.io.write_file(name, tf.io.encode_jpeg(img, quality=90))
        names.append(name)
    return names
