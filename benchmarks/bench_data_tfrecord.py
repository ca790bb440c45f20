"""data.tfrecord: serialized tf.train.Example records read with TFRecordDataset and parsed (guide §2.1.2).

The guide's pipeline reads the files one after another and parses one record at a time. The tuned
variants: parallel interleave over the files with a parallel parse; batch-before-map (one
`parse_example` call per batch: vectorised); and cache of the parsed batches.
"""

from __future__ import annotations

import pytest

from benchmarks import tfdata
from benchmarks.datasets import fashion_mnist, write_tfrecords

RECIPE = "data.tfrecord"
FILES = 8
VARIANTS = {
    "guide": ("TFRecordDataset(files).map(parse_one).batch(n)", True),
    "parallel": ("files.interleave(TFRecordDataset, num_parallel_calls=AUTOTUNE).map(parse_one, "
                 "num_parallel_calls=AUTOTUNE).batch(n).prefetch(AUTOTUNE)", True),
    "vectorised": ("files.interleave(TFRecordDataset, num_parallel_calls=AUTOTUNE).batch(n)"
                   ".map(parse_batch, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)", True),
    "cache": ("vectorised + .cache() after parsing; measured epochs serve the cached batches", False),
}


@pytest.fixture(scope="module")
def records(tf, plan, tmp_path_factory):
    images = fashion_mnist(plan.file_examples, 1)
    files = write_tfrecords(tf, tmp_path_factory.mktemp("tfrecord"), images.x_train, images.y_train, FILES)
    return files, len(images.x_train), images.kind


def build(tf, variant: str, files: list[str], n: int):
    AUTOTUNE = tf.data.AUTOTUNE
    spec = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}

    def parse_one(record):
        ex = tf.io.parse_single_example(record, spec)
        return tf.reshape(tf.io.decode_raw(ex["image"], tf.uint8), [28, 28]), ex["label"]

    def parse_batch(records):
        ex = tf.io.parse_example(records, spec)
        return tf.reshape(tf.io.decode_raw(ex["image"], tf.uint8), [-1, 28, 28]), ex["label"]

    if variant == "guide":
        return tf.data.TFRecordDataset(files).map(parse_one).batch(n)
    raw = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TFRecordDataset, cycle_length=FILES, num_parallel_calls=AUTOTUNE, deterministic=True)
    if variant == "parallel":
        return raw.map(parse_one, num_parallel_calls=AUTOTUNE).batch(n).prefetch(AUTOTUNE)
    ds = raw.batch(n).map(parse_batch, num_parallel_calls=AUTOTUNE)
    if variant == "cache":
        ds = ds.cache()
    return ds.prefetch(AUTOTUNE)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_tfrecord_pipeline(benchmark, tf, plan, recorder, records, variant, batch_size, consumer):
    files, examples, source = records
    what, copies = VARIANTS[variant]
    row = tfdata.measure(benchmark, tf, plan, build(tf, variant, files, batch_size), examples=examples,
                         bytes_per_example=28 * 28 + 8, name=f"tfrecord/{variant}/b{batch_size}/{consumer}",
                         consumer=consumer, recipe=RECIPE, source="tfrecord", variant=variant,
                         batch_size=batch_size, pipeline=what, copies_every_byte=copies, data=source)
    recorder.add("data", row)
