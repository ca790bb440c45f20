"""data.map: the guide's `_parse_function` — read a JPEG file, decode it, resize it to 28x28 (guide §2.2).

The guide maps it sequentially; tuned: `num_parallel_calls=AUTOTUNE` with prefetch, and cache of the
decoded images (the tf.data performance guide's advice for expensive, deterministic preprocessing).
MB/s counts the float32 28x28x1 images and int32 labels delivered.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import tfdata
from benchmarks.datasets import fashion_mnist, write_jpegs

RECIPE = "data.map"
VARIANTS = {
    "guide": ("from_tensor_slices((filenames, labels)).map(_parse_function).batch(n)", True),
    "parallel": ("... .map(_parse_function, num_parallel_calls=AUTOTUNE).batch(n).prefetch(AUTOTUNE)", True),
    "cache": ("... .map(_parse_function, num_parallel_calls=AUTOTUNE).cache().batch(n).prefetch(AUTOTUNE)", True),
}


@pytest.fixture(scope="module")
def jpegs(tf, plan, tmp_path_factory):
    images = fashion_mnist(plan.jpeg_images, 1)
    files = write_jpegs(tf, tmp_path_factory.mktemp("jpeg"), images.x_train)
    return files, images.y_train.astype(np.int32), images.kind


def build(tf, variant: str, files: list[str], labels: np.ndarray, n: int):
    AUTOTUNE = tf.data.AUTOTUNE

    def _parse_function(filename, label):
        image_string = tf.io.read_file(filename)
        image_decoded = tf.io.decode_jpeg(image_string, channels=1)
        image_resized = tf.image.resize(image_decoded, [28, 28])
        return image_resized, label

    ds = tf.data.Dataset.from_tensor_slices((files, labels))
    if variant == "guide":
        return ds.map(_parse_function).batch(n)
    ds = ds.map(_parse_function, num_parallel_calls=AUTOTUNE)
    if variant == "cache":
        ds = ds.cache()
    return ds.batch(n).prefetch(AUTOTUNE)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_jpeg_pipeline(benchmark, tf, plan, recorder, jpegs, variant, batch_size, consumer):
    files, labels, source = jpegs
    what, copies = VARIANTS[variant]
    row = tfdata.measure(benchmark, tf, plan, build(tf, variant, files, labels, batch_size), examples=len(files),
                         bytes_per_example=28 * 28 * 4 + 4, name=f"jpeg/{variant}/b{batch_size}/{consumer}",
                         consumer=consumer, recipe=RECIPE, source="jpeg", variant=variant, batch_size=batch_size,
                         pipeline=what, copies_every_byte=copies, data=source + "/jpeg64-q90")
    recorder.add("data", row)
