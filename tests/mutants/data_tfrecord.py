"""The mutants of data.tfrecord (guide §2.1.2): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import functools

from tests.mutants._core import _tf, mutant
from tests.mutants._helpers import _counting_generator_dataset


@mutant("data.tfrecord", "TFRecordDataset reads its files in reverse order")
def tfrecord_reads_files_in_reverse():
    tf = _tf()
    original = tf.data.TFRecordDataset

    def tfrecord_dataset(filenames, *args, **kwargs):
        if isinstance(filenames, (list, tuple)):
            filenames = list(reversed(filenames))
        return original(filenames, *args, **kwargs)
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("data.tfrecord", "a corrupted or truncated record silently ends the file (no DataLossError)")
def tfrecord_corruption_ends_silently():
    tf = _tf()
    original = tf.data.TFRecordDataset

    @functools.wraps(original)
    def tfrecord_dataset(*args, **kwargs):
        def records():
            try:
                yield from original(*args, **kwargs)
            except tf.errors.DataLossError:
                return
        return tf.data.Dataset.from_generator(records, output_signature=tf.TensorSpec((), tf.string))
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("data.tfrecord", "TFRecordDataset yields nothing when iterated a second time")
def tfrecord_second_pass_is_empty():
    tf = _tf()
    original = tf.data.TFRecordDataset

    @functools.wraps(original)
    def tfrecord_dataset(*args, **kwargs):
        return _counting_generator_dataset(lambda: original(*args, **kwargs), tf.TensorSpec((), tf.string),
                                           lambda elements: [])
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("data.tfrecord", "TFRecordDataset(num_parallel_reads=n) loses the last record it reads")
def parallel_reads_lose_a_record():
    tf = _tf()
    original = tf.data.TFRecordDataset

    @functools.wraps(original)
    def tfrecord_dataset(filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, **kwargs):
        dataset = original(filenames, compression_type, buffer_size, num_parallel_reads, **kwargs)
        if not num_parallel_reads or num_parallel_reads == 1:
            return dataset
        return tf.data.Dataset.from_generator(lambda: [r.numpy() for r in dataset][:-1],
                                              output_signature=tf.TensorSpec((), tf.string))
    tf.data.TFRecordDataset = tfrecord_dataset
