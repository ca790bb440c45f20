"""Guide §3.2: one `tf.feature_column.numeric_column` per feature, and its Keras equivalent.

`tf.feature_column` still exists on TF 2.21 but every function in it is deprecated in favour of Keras
preprocessing layers / `keras.utils.FeatureSpace`. Both sides take the same dict of feature columns and
concatenate the numeric features into one float matrix, ordered by feature NAME (not by dict order):
the feature-column input layer sorts its columns by name, FeatureSpace sorts its features by name.
"""

from __future__ import annotations

import tensorflow as tf

from reference import iris

keras = tf.keras


def numeric_feature_columns(keys):
    """The guide's loop: one numeric column per feature key (what the Estimators consume)."""
    my_feature_columns = []
    for key in keys:
        my_feature_columns.append(tf.feature_column.numeric_column(key=key))
    return my_feature_columns


def numeric_feature_space(keys) -> keras.utils.FeatureSpace:
    """The Keras equivalent of numeric_column: a pass-through float feature per key, concatenated.

    Call `.adapt(dataset_of_feature_dicts)` before use (FeatureSpace refuses to run un-adapted).
    """
    return keras.utils.FeatureSpace(
        features={key: keras.utils.FeatureSpace.float() for key in keys}, output_mode="concat")


def numeric_inputs(keys):
    """Functional-model inputs for a dict of numeric features, and their concatenation sorted by name.

    This is the model-building form of `numeric_feature_space(keys)`: the same columns in the same order
    (sorted by name, as the feature-column input layer orders them), as layers of the model itself.
    """
    inputs = {key: keras.Input(shape=(1,), name=key) for key in keys}
    return inputs, keras.layers.Concatenate(name="numeric_features")([inputs[key] for key in sorted(keys)])


def main() -> None:
    (train_x, _), _ = iris.load_data()
    columns = numeric_feature_columns(train_x.keys())
    print("feature columns:", [column.key for column in columns])
    space = numeric_feature_space(train_x.keys())
    space.adapt(tf.data.Dataset.from_tensor_slices(train_x).batch(32))
    first_rows = {key: column[:3] for key, column in train_x.items()}
    print("FeatureSpace columns (sorted by name):", sorted(train_x))
    print(space(first_rows).numpy())


if __name__ == "__main__":
    main()
