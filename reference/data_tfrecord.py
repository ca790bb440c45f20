"""§2.1.2 Consuming TFRecord data: tf.data.TFRecordDataset(filenames), one serialized record per element."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tensorflow as tf


def _names(filenames) -> list:
    # Paths become strings; a string tensor (a file name inside Dataset.interleave) stays a tensor.
    return [f if tf.is_tensor(f) else str(f) for f in filenames]


def dataset(filenames, compression_type=None, **kwargs) -> tf.data.Dataset:
    return tf.data.TFRecordDataset(_names(filenames), compression_type=compression_type, **kwargs)


def write_examples(path, examples, compression_type=None) -> None:
    options = tf.io.TFRecordOptions(compression_type=compression_type) if compression_type else None
    with tf.io.TFRecordWriter(str(path), options=options) as writer:
        for example in examples:
            writer.write(example.SerializeToString())


def _example(i: int) -> tf.train.Example:
    return tf.train.Example(features=tf.train.Features(feature={
        "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        filenames = [Path(tmp, "file1.tfrecord"), Path(tmp, "file2.tfrecord")]
        write_examples(filenames[0], [_example(i) for i in range(2)])
        write_examples(filenames[1], [_example(i) for i in range(2, 4)])
        for record in dataset(filenames):
            print(tf.train.Example.FromString(record.numpy()).features.feature["id"].int64_list.value[0],
                  record.numpy())


if __name__ == "__main__":
    main()
