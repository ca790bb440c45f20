"""data.text (guide §2.1.3): TextLineDataset(filenames), one element per line across the files, in order."""

from __future__ import annotations

import gzip

import pytest

from reference.data_text import dataset
from suite.support.data_files import write_bytes
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.text")



def _files(tmp_path, *contents: bytes):
    return [write_bytes(tmp_path / f"file{i + 1}.txt", data) for i, data in enumerate(contents)]


def test_one_element_per_line_across_files_in_file_order(tmp_path):
    paths = _files(tmp_path, b"alpha\nbeta\n", b"gamma\n", b"delta\nepsilon\n")
    assert_dataset_produces(dataset(paths), [b"alpha", b"beta", b"gamma", b"delta", b"epsilon"],
                            element_spec=tf.TensorSpec(shape=(), dtype=tf.string))


def test_each_element_is_a_scalar_string(tmp_path):
    assert dataset(_files(tmp_path, b"x\n")).element_spec == tf.TensorSpec(shape=(), dtype=tf.string)


def test_crlf_line_endings_are_stripped_like_lf(tmp_path):
    paths = _files(tmp_path, b"one\r\ntwo\r\nthree\nfour\r\n")
    assert_dataset_produces(dataset(paths), [b"one", b"two", b"three", b"four"])


def test_empty_lines_are_kept_as_empty_strings(tmp_path):
    paths = _files(tmp_path, b"a\n\n\nb\r\n\r\nc\n")
    assert_dataset_produces(dataset(paths), [b"a", b"", b"", b"b", b"", b"c"])


def test_last_line_without_final_newline_is_delivered(tmp_path):
    paths = _files(tmp_path, b"first\nno newline at the end", b"next file\n")
    assert_dataset_produces(dataset(paths), [b"first", b"no newline at the end", b"next file"])


def test_final_newline_adds_no_empty_element(tmp_path):
    assert_dataset_produces(dataset(_files(tmp_path, b"only\n")), [b"only"])


def test_file_of_only_newlines_yields_one_empty_string_per_line(tmp_path):
    assert_dataset_produces(dataset(_files(tmp_path, b"\n\r\n\n")), [b"", b"", b""])


def test_empty_file_contributes_no_element(tmp_path):
    paths = _files(tmp_path, b"a\n", b"", b"b\n")
    assert_dataset_produces(dataset(paths), [b"a", b"b"])


def test_utf8_text_and_spaces_come_back_as_the_same_bytes(tmp_path):
    lines = ["  两个空格开头", "tab\tinside ", "ünïcödé"]
    paths = _files(tmp_path, "\n".join(lines).encode("utf-8"))
    assert_dataset_produces(dataset(paths), [line.encode("utf-8") for line in lines])


def test_gzip_text_file_reads_with_compression_type_gzip(tmp_path):
    paths = _files(tmp_path, gzip.compress(b"zipped 1\r\n\nzipped 2"))
    assert_dataset_produces(dataset(paths, compression_type="GZIP"), [b"zipped 1", b"", b"zipped 2"])


def test_missing_file_raises_not_found_after_the_earlier_files_lines(tmp_path):
    paths = _files(tmp_path, b"kept 1\nkept 2") + [tmp_path / "missing.txt"]
    assert_dataset_produces(dataset(paths), [b"kept 1", b"kept 2"],
                            expected_error=(tf.errors.NotFoundError, "missing.txt"))


def test_directory_as_filename_raises_failed_precondition(tmp_path):
    paths = _files(tmp_path, b"kept\n") + [tmp_path]
    assert_dataset_produces(dataset(paths), [b"kept"],
                            expected_error=(tf.errors.FailedPreconditionError, "Is a directory"))
