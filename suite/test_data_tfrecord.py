"""data.tfrecord (guide §2.1.2): TFRecordDataset(filenames) over files of serialized tf.train.Example.

Expected bytes come from protobuf's own serialisation and the documented TFRecord framing
(suite/support/data_files.py), not from TensorFlow's reader."""

from __future__ import annotations

import gzip

import pytest

from reference.data_tfrecord import dataset
from suite.support.data_files import (serialized_examples, tfrecord_frame, tfrecord_offsets, write_bytes,
                                      write_tfrecords)
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.tfrecord")

RECORDS = serialized_examples(0, 4)



@pytest.fixture
def three_files(tmp_path):
    """Three files of 3, 0 and 4 records; returns (paths, records in file order)."""
    contents = [serialized_examples(0, 3), [], serialized_examples(10, 4)]
    paths = [write_tfrecords(tmp_path / f"file{i + 1}.tfrecord", records) for i, records in enumerate(contents)]
    return paths, [r for records in contents for r in records]


def _flip_byte(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_records_of_several_files_read_back_byte_identical_in_file_order(three_files):
    paths, records = three_files
    assert_dataset_produces(dataset(paths), records, element_spec=tf.TensorSpec(shape=(), dtype=tf.string))


def test_each_element_is_a_scalar_string(three_files):
    assert dataset(three_files[0]).element_spec == tf.TensorSpec(shape=(), dtype=tf.string)


def test_file_order_is_the_order_of_the_filenames(three_files):
    paths, records = three_files
    reordered = serialized_examples(10, 4) + serialized_examples(0, 3)
    assert_dataset_produces(dataset([paths[2], paths[0]]), reordered)


def test_writer_frames_each_record_as_documented(tmp_path):
    path = write_tfrecords(tmp_path / "data.tfrecord", RECORDS)
    assert path.read_bytes() == b"".join(tfrecord_frame(r) for r in RECORDS)


def test_a_file_framed_by_hand_reads_back(tmp_path):
    path = write_bytes(tmp_path / "by_hand.tfrecord", b"".join(tfrecord_frame(r) for r in RECORDS))
    assert_dataset_produces(dataset([path]), RECORDS)


def test_records_parse_back_to_the_examples_written(three_files):
    paths, records = three_files
    parsed = [tf.train.Example.FromString(r.numpy()) for r in dataset(paths)]
    assert parsed == [tf.train.Example.FromString(r) for r in records]
    assert [e.features.feature["id"].int64_list.value[0] for e in parsed] == [0, 1, 2, 10, 11, 12, 13]


def test_gzip_files_read_back_byte_identical_with_compression_type_gzip(tmp_path):
    paths = [write_tfrecords(tmp_path / "a.tfrecord.gz", RECORDS[:2], "GZIP"),
             write_tfrecords(tmp_path / "b.tfrecord.gz", RECORDS[2:], "GZIP")]
    assert_dataset_produces(dataset(paths, compression_type="GZIP"), RECORDS)


def test_gzip_writer_output_is_real_gzip_of_the_framed_records(tmp_path):
    path = write_tfrecords(tmp_path / "a.tfrecord.gz", RECORDS, "GZIP")
    assert gzip.decompress(path.read_bytes()) == b"".join(tfrecord_frame(r) for r in RECORDS)


def test_flipped_payload_byte_raises_data_loss_after_the_records_before_it(tmp_path):
    path = write_tfrecords(tmp_path / "data.tfrecord", RECORDS)
    record_at = tfrecord_offsets(RECORDS)[2]
    data_at = record_at + 8 + 4  # after the length and its CRC
    _flip_byte(path, data_at + 5)
    # A bad data CRC is reported at the offset of the record's data, a bad header at the record's start.
    assert_dataset_produces(dataset([path]), RECORDS[:2],
                            expected_error=(tf.errors.DataLossError, rf"corrupted record at {data_at}\b"))


def test_flipped_length_byte_raises_data_loss_after_the_records_before_it(tmp_path):
    path = write_tfrecords(tmp_path / "data.tfrecord", RECORDS)
    record_at = tfrecord_offsets(RECORDS)[3]
    _flip_byte(path, record_at)  # lowest byte of record 3's length
    assert_dataset_produces(dataset([path]), RECORDS[:3],
                            expected_error=(tf.errors.DataLossError, rf"corrupted record at {record_at}\b"))


def test_file_truncated_inside_a_record_raises_data_loss_after_the_complete_records(tmp_path):
    full = b"".join(tfrecord_frame(r) for r in RECORDS)
    record_at = tfrecord_offsets(RECORDS)[3]
    path = write_bytes(tmp_path / "truncated.tfrecord", full[:record_at + 12 + 3])
    assert_dataset_produces(dataset([path]), RECORDS[:3],
                            expected_error=(tf.errors.DataLossError, rf"truncated record at {record_at}\b"))


def test_truncated_gzip_file_raises_data_loss(tmp_path):
    data = write_tfrecords(tmp_path / "full.gz", RECORDS, "GZIP").read_bytes()
    path = write_bytes(tmp_path / "truncated.gz", data[:len(data) // 2])
    with pytest.raises(tf.errors.DataLossError, match="truncated record"):
        list(dataset([path], compression_type="GZIP"))


def test_gzip_file_read_without_compression_type_raises_data_loss(tmp_path):
    path = write_tfrecords(tmp_path / "data.tfrecord.gz", RECORDS, "GZIP")
    assert_dataset_produces(dataset([path]), [],
                            expected_error=(tf.errors.DataLossError, r"corrupted record at 0\b"))


def test_uncompressed_file_read_as_gzip_raises_data_loss(tmp_path):
    path = write_tfrecords(tmp_path / "data.tfrecord", RECORDS)
    assert_dataset_produces(dataset([path], compression_type="GZIP"), [],
                            expected_error=(tf.errors.DataLossError, "incorrect header check"))


def test_missing_file_raises_not_found_after_the_earlier_files_records(tmp_path):
    good = write_tfrecords(tmp_path / "good.tfrecord", RECORDS)
    missing = tmp_path / "missing.tfrecord"
    assert_dataset_produces(dataset([good, missing]), RECORDS,
                            expected_error=(tf.errors.NotFoundError, "missing.tfrecord"))


def test_parallel_reads_yield_every_record_of_every_file_exactly_once(three_files):
    # num_parallel_reads interleaves the files; with deterministic=False the order is not promised,
    # but the multiset is: every record once, none lost, none repeated.
    paths, records = three_files
    options = tf.data.Options()
    options.deterministic = False
    parallel = tf.data.TFRecordDataset([str(p) for p in paths], num_parallel_reads=3).with_options(options)
    assert_dataset_produces(parallel, records, ordered=False,
                            element_spec=tf.TensorSpec(shape=(), dtype=tf.string))
