"""The mutants of data.text (guide §2.1.3): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import functools

from tests.mutants._core import _tf, mutant
from tests.mutants._helpers import _counting_generator_dataset


@mutant("data.text", "TextLineDataset keeps the '\\r' of '\\r\\n' line endings")
def text_line_keeps_carriage_return():
    tf = _tf()
    original = tf.data.TextLineDataset

    def lines_of(path):
        parts = tf.strings.split(tf.io.read_file(path), "\n")
        # Like the real reader, a final '\n' (or an empty file) adds no element.
        return tf.data.Dataset.from_tensor_slices(tf.cond(tf.equal(parts[-1], ""), lambda: parts[:-1], lambda: parts))

    def text_line_dataset(filenames, compression_type=None, *args, **kwargs):
        if compression_type:
            return original(filenames, compression_type, *args, **kwargs)
        names = tf.data.Dataset.from_tensor_slices(tf.constant([str(f) for f in tf.nest.flatten(filenames)]))
        return names.flat_map(lines_of)

    tf.data.TextLineDataset = text_line_dataset


@mutant("data.text", "TextLineDataset drops empty lines")
def text_line_drops_empty_lines():
    tf = _tf()
    original = tf.data.TextLineDataset
    tf.data.TextLineDataset = lambda *a, **kw: original(*a, **kw).filter(lambda line: tf.strings.length(line) > 0)


@mutant("data.text", "TextLineDataset reads its files in reverse order")
def text_line_reads_files_in_reverse():
    tf = _tf()
    original = tf.data.TextLineDataset

    @functools.wraps(original)
    def text_line_dataset(filenames, *args, **kwargs):
        if isinstance(filenames, (list, tuple)):
            filenames = list(reversed(filenames))
        return original(filenames, *args, **kwargs)
    tf.data.TextLineDataset = text_line_dataset


@mutant("data.text", "TextLineDataset skips the first line when iterated a second time")
def text_line_second_pass_skips_a_line():
    tf = _tf()
    original = tf.data.TextLineDataset

    @functools.wraps(original)
    def text_line_dataset(*args, **kwargs):
        return _counting_generator_dataset(lambda: original(*args, **kwargs), tf.TensorSpec((), tf.string),
                                           lambda elements: elements[1:])
    tf.data.TextLineDataset = text_line_dataset
