"""data.numpy (guide §2.1.1): Dataset.from_tensor_slices((features, labels)), and the variant fed
through tf.compat.v1 placeholders when the iterator is initialised."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data_iterators import drain
from reference.data_numpy import from_arrays, placeholder_fed_elements
from suite.support.helpers import SEED, assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.numpy")

v1 = tf.compat.v1
RNG = np.random.default_rng(SEED)
FEATURES = RNG.standard_normal((6, 3)).astype(np.float32)
LABELS = np.array([3, 0, 2, 2, 1, 0], dtype=np.int64)


def _rows(features, labels):
    return [(features[i], labels[i]) for i in range(len(labels))]


def test_elements_are_the_rows_of_features_and_labels_in_order():
    assert_dataset_produces(from_arrays(FEATURES, LABELS), _rows(FEATURES, LABELS),
                            element_spec=(tf.TensorSpec(shape=(3,), dtype=tf.float32),
                                          tf.TensorSpec(shape=(), dtype=tf.int64)))


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int8, np.uint8, np.int32, np.bool_])
def test_dtype_of_each_array_is_preserved(dtype):
    features = (np.arange(12).reshape(4, 3) % 2).astype(dtype)
    labels = np.arange(4, dtype=np.int32)
    assert_dataset_produces(from_arrays(features, labels), _rows(features, labels))


def test_element_spec_drops_the_first_dimension():
    features = np.zeros((5, 2, 7), dtype=np.float32)
    spec = from_arrays(features, LABELS[:5]).element_spec
    assert spec == (tf.TensorSpec(shape=(2, 7), dtype=tf.float32), tf.TensorSpec(shape=(), dtype=tf.int64))


def test_dict_features_keep_their_structure():
    features = {"a": FEATURES[:, 0], "b": LABELS}
    expected = [({"a": FEATURES[i, 0], "b": LABELS[i]}, LABELS[i]) for i in range(len(LABELS))]
    assert_dataset_produces(tf.data.Dataset.from_tensor_slices((features, LABELS)), expected)


def test_mismatched_first_dimensions_raise_value_error():
    with pytest.raises(ValueError, match="Dimensions 6 and 5 are not compatible"):
        from_arrays(FEATURES, LABELS[:5])


def test_guides_tf_placeholder_is_gone_attribute_error():
    with pytest.raises(AttributeError, match="placeholder"):
        tf.placeholder(FEATURES.dtype, FEATURES.shape)


def test_guides_dataset_method_make_initializable_iterator_is_gone_attribute_error():
    # The guide's `dataset.make_initializable_iterator()`: a Dataset method in TF 1 only; TF 2 keeps the
    # function tf.compat.v1.data.make_initializable_iterator(dataset), which the specs below use.
    with pytest.raises(AttributeError, match="make_initializable_iterator"):
        from_arrays(FEATURES, LABELS).make_initializable_iterator()
    assert callable(v1.data.make_initializable_iterator)


def test_placeholder_fed_variant_yields_the_fed_rows_in_order():
    got = placeholder_fed_elements(FEATURES, LABELS)
    assert len(got) == len(LABELS)
    for (f, l), (want_f, want_l) in zip(got, _rows(FEATURES, LABELS)):
        np.testing.assert_array_equal(f, want_f)
        assert f.dtype == np.float32 and l == want_l


def test_arrays_are_embedded_as_graph_constants_but_placeholders_keep_them_out():
    # The guide: from_tensor_slices(arrays) embeds them as tf.constant ops; placeholders avoid that.
    def const_payloads(make_inputs):
        with tf.Graph().as_default() as graph:
            tf.data.Dataset.from_tensor_slices(make_inputs())
        return [n.attr["value"].tensor.tensor_content for n in graph.as_graph_def().node if n.op == "Const"]

    assert FEATURES.tobytes() in const_payloads(lambda: (FEATURES, LABELS))
    def placeholders():
        return v1.placeholder(tf.float32, FEATURES.shape), v1.placeholder(tf.int64, LABELS.shape)

    assert FEATURES.tobytes() not in const_payloads(placeholders)


def test_placeholder_fed_arrays_of_different_lengths_raise_invalid_argument_at_initialisation():
    with tf.Graph().as_default():
        features = v1.placeholder(tf.float32, [None, 3])
        labels = v1.placeholder(tf.int64, [None])
        iterator = v1.data.make_initializable_iterator(tf.data.Dataset.from_tensor_slices((features, labels)))
        with v1.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="same size in the 0th dimension"):
                sess.run(iterator.initializer, feed_dict={features: FEATURES, labels: LABELS[:4]})


def test_feeding_an_array_of_the_wrong_shape_raises_value_error():
    with tf.Graph().as_default():
        features = v1.placeholder(tf.float32, FEATURES.shape)
        iterator = v1.data.make_initializable_iterator(tf.data.Dataset.from_tensor_slices(features))
        with v1.Session() as sess:
            with pytest.raises(ValueError, match=r"Cannot feed value of shape \(6, 4\)"):
                sess.run(iterator.initializer, feed_dict={features: np.zeros((6, 4), np.float32)})
            sess.run(iterator.initializer, feed_dict={features: FEATURES})
            assert len(drain(sess, iterator.get_next())) == len(FEATURES)
