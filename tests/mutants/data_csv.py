"""The mutants of data.csv (guide §2.1.4): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _tf, mutant


@mutant("data.csv", "CsvDataset(header=True) parses the header line as a record")
def csv_ignores_header():
    tf = _tf()
    original = tf.data.experimental.CsvDataset

    def csv_dataset(*args, **kwargs):
        kwargs["header"] = False
        return original(*args, **kwargs)
    tf.data.experimental.CsvDataset = csv_dataset


@mutant("data.csv", "CsvDataset fills empty optional fields with zeros instead of the given defaults")
def csv_ignores_defaults():
    tf = _tf()
    original = tf.data.experimental.CsvDataset

    def zero_default(default):
        if isinstance(default, tf.dtypes.DType):
            return default
        value = tf.convert_to_tensor(default)
        return tf.zeros_like(value)

    def csv_dataset(filenames, record_defaults, *args, **kwargs):
        return original(filenames, [zero_default(d) for d in record_defaults], *args, **kwargs)
    tf.data.experimental.CsvDataset = csv_dataset


@mutant("data.csv", "CsvDataset parses '-0' as +0.0 (the sign of zero is lost)")
def csv_loses_the_sign_of_zero():
    tf = _tf()
    original = tf.data.experimental.CsvDataset

    def positive_zero(t):
        return t + tf.zeros_like(t) if t.dtype.is_floating else t   # -0.0 + 0.0 == +0.0, all else unchanged

    def csv_dataset(*args, **kwargs):
        return original(*args, **kwargs).map(lambda *fields: tuple(positive_zero(f) for f in fields))
    tf.data.experimental.CsvDataset = csv_dataset
