"""§2.2 Dataset.map(_parse_function): read a JPEG, decode it and resize it to 28x28.

tf.read_file and tf.image.resize_images are gone in TF 2: tf.io.read_file and tf.image.resize
(bilinear by default) replace them; decode_jpeg is unchanged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf


def _parse_function(filename, label):
    image_string = tf.io.read_file(filename)
    image_decoded = tf.io.decode_jpeg(image_string)
    image_resized = tf.image.resize(image_decoded, [28, 28])
    return image_resized, label


def dataset(filenames, labels, num_parallel_calls=None) -> tf.data.Dataset:
    filenames = tf.constant([str(f) for f in filenames])
    labels = tf.constant(labels)
    return tf.data.Dataset.from_tensor_slices((filenames, labels)).map(
        _parse_function, num_parallel_calls=num_parallel_calls)


def main() -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (h, w) in enumerate([(40, 30), (10, 12)]):
            path = Path(tmp, f"image{i + 1}.jpg")
            pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            path.write_bytes(tf.io.encode_jpeg(pixels).numpy())
            paths.append(path)
        for image, label in dataset(paths, [0, 37]):
            print(image.shape, image.dtype.name, "label", int(label))


if __name__ == "__main__":
    main()
