"""The mutants of estimator.feature_columns (guide §3.2): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import functools

from tests.mutants._core import _tf, mutant


@mutant("estimator.feature_columns", "the feature-column input layer keeps the columns in given order, "
        "not sorted by name")
def input_layer_unsorted():
    tf = _tf()
    original = tf.compat.v1.feature_column.input_layer

    @functools.wraps(original)
    def input_layer(features, feature_columns, *args, **kwargs):
        # Prefix keys so that name order equals the given order, then undo the renaming.
        columns = list(feature_columns)
        renamed = {f"{i:03d}{c.key}": tf.convert_to_tensor(features[c.key]) for i, c in enumerate(columns)}
        new_columns = [tf.feature_column.numeric_column(f"{i:03d}{c.key}") for i, c in enumerate(columns)]
        return original(renamed, new_columns, *args, **kwargs)
    tf.compat.v1.feature_column.input_layer = input_layer


@mutant("estimator.feature_columns", "numeric_column defaults missing values to 0.0 instead of None")
def numeric_column_has_a_default_value():
    tf = _tf()
    original = tf.feature_column.numeric_column

    @functools.wraps(original)  # keeps the deprecation notice the spec reads
    def numeric_column(key, shape=(1,), default_value=None, *args, **kwargs):
        return original(key, shape, 0.0 if default_value is None else default_value, *args, **kwargs)
    tf.feature_column.numeric_column = numeric_column
