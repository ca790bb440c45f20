"""data.csv (guide §2.1.4): tf.contrib.data.CsvDataset(filenames, [tf.float32] * 8), now
tf.data.experimental.CsvDataset with the same arguments. Files hold the guide's eight float columns
after a header line; expected floats are NumPy's parse of the same text."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data_csv import RECORD_DEFAULTS, dataset
from suite.support.data_files import CSV_HEADER, CSV_ROWS_A, CSV_ROWS_B, expected_float_rows, write_bytes, write_csv
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.csv")

ROW = ["1", "2", "3", "4", "5", "6", "7", "8"]


def _invalid(pattern):
    return tf.errors.InvalidArgumentError, pattern


def _no_header_file(tmp_path, *rows):
    return [write_csv(tmp_path / "data.csv", list(rows), header=None)]


def test_eight_float_columns_parse_exactly_across_files_with_header(tmp_path):
    paths = [write_csv(tmp_path / "file1.csv", CSV_ROWS_A), write_csv(tmp_path / "file2.csv", CSV_ROWS_B)]
    assert RECORD_DEFAULTS == [tf.float32] * 8
    expected = expected_float_rows(CSV_ROWS_A + CSV_ROWS_B)
    # The rows hold "0" and "-0": the comparison is bit for bit, so a parser that loses the sign fails.
    assert {bool(np.signbit(v)) for row in expected for v in row if v == 0} == {False, True}
    assert_dataset_produces(dataset(paths, header=True), expected,
                            element_spec=(tf.TensorSpec(shape=(), dtype=tf.float32),) * 8)


def test_eight_column_file_with_quoted_values_and_empty_optional_fields(tmp_path):
    # Six required float columns, two optional ones with defaults.
    path = write_bytes(tmp_path / "mixed.csv", (CSV_HEADER + '\n"1.5",2,3,4,5,"6e-1",,\n0,0,0,0,0,0,"-7",\n').encode())
    defaults = [tf.float32] * 6 + [[0.5], [-1.0]]
    expected = [tuple(np.float32(v) for v in ("1.5", "2", "3", "4", "5", "6e-1", "0.5", "-1")),
                tuple(np.float32(v) for v in ("0",) * 6 + ("-7", "-1"))]
    assert_dataset_produces(dataset([path], record_defaults=defaults, header=True), expected)


def test_crlf_endings_and_a_missing_final_newline_parse_the_same(tmp_path):
    paths = [write_csv(tmp_path / "crlf.csv", CSV_ROWS_B, newline="\r\n", final_newline=False)]
    assert_dataset_produces(dataset(paths, header=True), expected_float_rows(CSV_ROWS_B))


def test_each_element_is_a_tuple_of_eight_float32_scalars(tmp_path):
    spec = dataset([write_csv(tmp_path / "a.csv", CSV_ROWS_A)], header=True).element_spec
    assert spec == (tf.TensorSpec(shape=(), dtype=tf.float32),) * 8


def test_guides_tf_contrib_spelling_is_gone_attribute_error():
    with pytest.raises(AttributeError, match="contrib"):
        tf.contrib.data.CsvDataset(["unused.csv"], [tf.float32] * 8)


def test_header_line_without_header_true_raises_invalid_argument(tmp_path):
    paths = [write_csv(tmp_path / "file1.csv", CSV_ROWS_A)]
    assert_dataset_produces(dataset(paths), [],
                            expected_error=_invalid("Field 0 in record is not a valid float: sepal_length"))


def test_missing_required_field_raises_invalid_argument_after_the_good_rows(tmp_path):
    paths = _no_header_file(tmp_path, ROW, ROW, ["1", "2", "3", "", "5", "6", "7", "8"])
    assert_dataset_produces(dataset(paths), expected_float_rows([ROW, ROW]),
                            expected_error=_invalid("Field 3 is required but missing"))


def test_row_with_too_few_fields_raises_invalid_argument(tmp_path):
    paths = _no_header_file(tmp_path, ROW, ROW[:7])
    assert_dataset_produces(dataset(paths), expected_float_rows([ROW]),
                            expected_error=_invalid("Expect 8 fields but have 7"))


def test_row_with_too_many_fields_raises_invalid_argument(tmp_path):
    paths = _no_header_file(tmp_path, ROW, ROW + ["9"])
    assert_dataset_produces(dataset(paths), expected_float_rows([ROW]),
                            expected_error=_invalid("Expect 8 fields but have more"))


def test_blank_line_is_a_record_with_a_missing_field(tmp_path):
    path = write_bytes(tmp_path / "blank.csv", b"1,2\n\n3,4\n")
    assert_dataset_produces(dataset([path], record_defaults=[tf.float32] * 2), expected_float_rows([["1", "2"]]),
                            expected_error=_invalid("Field 0 is required but missing"))


def test_float_text_in_an_int32_column_raises_invalid_argument(tmp_path):
    path = write_bytes(tmp_path / "ints.csv", b"1,2\n1.5,2\n")
    assert_dataset_produces(dataset([path], record_defaults=[tf.int32] * 2),
                            [(np.int32(1), np.int32(2))],
                            expected_error=_invalid("Field 0 in record is not a valid int32: 1.5"))


def test_unterminated_quoted_field_raises_invalid_argument(tmp_path):
    path = write_bytes(tmp_path / "quote.csv", b'a,b\n1,"never closed\n2,x\n')
    assert_dataset_produces(dataset([path], record_defaults=[tf.string] * 2), [(b"a", b"b")],
                            expected_error=_invalid("without closing quoted field"))


def test_missing_file_raises_not_found_after_the_earlier_files_rows(tmp_path):
    paths = [write_csv(tmp_path / "file1.csv", CSV_ROWS_A), tmp_path / "missing.csv"]
    assert_dataset_produces(dataset(paths, header=True), expected_float_rows(CSV_ROWS_A),
                            expected_error=(tf.errors.NotFoundError, "missing.csv"))


def test_defaults_fill_empty_optional_fields(tmp_path):
    path = write_bytes(tmp_path / "optional.csv", b"1.5,,,\n,2.5,3,x\n")
    defaults = [[-1.0], [-2.0], [7], ["none"]]
    expected = [(np.float32(1.5), np.float32(-2.0), np.int32(7), b"none"),
                (np.float32(-1.0), np.float32(2.5), np.int32(3), b"x")]
    assert_dataset_produces(dataset([path], record_defaults=defaults), expected)
    assert [s.dtype for s in dataset([path], record_defaults=defaults).element_spec] == [
        tf.float32, tf.float32, tf.int32, tf.string]


def test_na_value_counts_as_missing_and_takes_the_default(tmp_path):
    path = write_bytes(tmp_path / "na.csv", b"NA,1\n2,NA\n")
    assert_dataset_produces(dataset([path], record_defaults=[[5.0], [6.0]], na_value="NA"),
                            [(np.float32(5), np.float32(1)), (np.float32(2), np.float32(6))])


def test_quoted_fields_keep_delimiters_and_unescape_doubled_quotes(tmp_path):
    path = write_bytes(tmp_path / "quoted.csv", b'"1,5",plain,"say ""hi"""\n')
    assert_dataset_produces(dataset([path], record_defaults=[tf.string] * 3),
                            [(b"1,5", b"plain", b'say "hi"')])


def test_use_quote_delim_false_keeps_quotes_as_text(tmp_path):
    path = write_bytes(tmp_path / "quoted.csv", b'"1,5",plain\n')
    assert_dataset_produces(dataset([path], record_defaults=[tf.string] * 3, use_quote_delim=False),
                            [(b'"1', b'5"', b"plain")])


def test_quoted_numbers_parse_as_floats(tmp_path):
    path = write_bytes(tmp_path / "quoted_numbers.csv", b'"0.25","-3e2"\n')
    assert_dataset_produces(dataset([path], record_defaults=[tf.float32] * 2), [(np.float32(0.25), np.float32(-300))])


def test_select_cols_parses_only_the_selected_columns(tmp_path):
    paths = [write_csv(tmp_path / "file1.csv", CSV_ROWS_A)]
    cols = [0, 2, 7]
    expected = [tuple(row[c] for c in cols) for row in expected_float_rows(CSV_ROWS_A)]
    assert_dataset_produces(dataset(paths, record_defaults=[tf.float32] * 3, header=True, select_cols=cols), expected)


def test_unsorted_select_cols_are_refused_with_invalid_argument(tmp_path):
    paths = [write_csv(tmp_path / "file1.csv", CSV_ROWS_A)]
    with pytest.raises(tf.errors.InvalidArgumentError, match="select_cols should be strictly increasing"):
        dataset(paths, record_defaults=[tf.float32] * 3, header=True, select_cols=[2, 0, 7])
