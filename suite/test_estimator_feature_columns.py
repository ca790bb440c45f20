"""estimator.feature_columns (guide §3.2): `tf.feature_column.numeric_column(key=key)` per feature.

tf.feature_column is still present on TF 2.21 but deprecated in favour of Keras preprocessing layers /
keras.utils.FeatureSpace. Both consume the same dict of feature columns and produce one float matrix
whose columns are the features sorted by NAME (the feature-column input layer sorts its columns by name;
FeatureSpace sorts its features by name)."""

from __future__ import annotations

import numpy as np
import pytest

from reference import iris
from reference.estimator_feature_columns import (
    numeric_feature_columns,
    numeric_feature_space,
    numeric_inputs,
)
from suite.support.helpers import KERAS3, keras, tf

pytestmark = pytest.mark.recipe("estimator.feature_columns")

FEATURES = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth"]
# The deprecation notice TensorFlow attaches to every tf.feature_column function (TF 2.15 to 2.21).
DEPRECATION_NOTICE = ["THIS FUNCTION IS DEPRECATED",
                      ("Use Keras preprocessing layers instead, either directly or via the "
                       "`tf.keras.utils.FeatureSpace` utility.")]


@pytest.fixture(scope="module")
def features():
    (train_x, _), _ = iris.load_data()
    return train_x


def _sorted_matrix(features: dict) -> np.ndarray:
    """The documented output: the numeric features as float32 columns, sorted by feature name."""
    assert sorted(features) == ["PetalLength", "PetalWidth", "SepalLength", "SepalWidth"]
    return np.stack([np.asarray(features[name], dtype=np.float32) for name in sorted(features)], axis=1)


def test_numeric_column_is_present_and_documented_as_deprecated_for_keras_preprocessing(recipe_note):
    doc = tf.feature_column.numeric_column.__doc__
    for fragment in DEPRECATION_NOTICE:
        assert fragment in doc
    recipe_note("tf.feature_column is present and marked deprecated on this TF.")


def test_numeric_column_describes_a_float32_scalar_feature_under_its_key():
    columns = numeric_feature_columns(FEATURES)
    assert [column.key for column in columns] == FEATURES
    for column in columns:
        assert column.shape == (1,)
        assert column.dtype == tf.float32
        assert column.default_value is None
        assert column.normalizer_fn is None


def test_feature_column_input_layer_concatenates_the_columns_sorted_by_name(features):
    # The graph-mode input layer is what Estimators build from feature columns; it still runs on TF 2.21.
    columns = numeric_feature_columns(features.keys())
    with tf.Graph().as_default():
        tensor = tf.compat.v1.feature_column.input_layer({k: tf.constant(v) for k, v in features.items()}, columns)
        with tf.compat.v1.Session() as session:
            got = session.run(tensor)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, _sorted_matrix(features))


def gone_from_keras(features):
    with pytest.raises(AttributeError, match="has no attribute 'DenseFeatures'"):
        _ = keras.layers.DenseFeatures


def concatenates_the_columns_sorted_by_name(features):
    layer = keras.layers.DenseFeatures(numeric_feature_columns(features.keys()))
    np.testing.assert_array_equal(layer(features).numpy(), _sorted_matrix(features))


# keras.layers.DenseFeatures (the Keras 2 layer that consumed feature columns) is gone from Keras 3.
DENSE_FEATURES = gone_from_keras if KERAS3 else concatenates_the_columns_sorted_by_name


@pytest.mark.parametrize("expected", [DENSE_FEATURES], ids=lambda check: check.__name__)
def test_keras_dense_features_layer_exists_only_in_keras_2(features, expected):
    expected(features)


def test_feature_space_consumes_the_same_dict_as_float_columns_sorted_by_name(features):
    space = numeric_feature_space(features.keys())
    space.adapt(tf.data.Dataset.from_tensor_slices(features).batch(64))
    got = np.asarray(space(features))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, _sorted_matrix(features))


def test_feature_space_maps_a_train_input_fn_style_dataset_batch_by_batch(features):
    space = numeric_feature_space(features.keys())
    dataset = tf.data.Dataset.from_tensor_slices(features).batch(50)
    space.adapt(dataset)
    got = np.concatenate([np.asarray(batch) for batch in dataset.map(space)])
    np.testing.assert_array_equal(got, _sorted_matrix(features))


def test_keras_input_model_concatenates_the_same_dict_in_the_same_order(features):
    inputs, concatenated = numeric_inputs(features.keys())
    model = keras.Model(inputs, concatenated)
    got = model.predict({name: column[:, None] for name, column in features.items()}, verbose=0)
    np.testing.assert_array_equal(got, _sorted_matrix(features))
