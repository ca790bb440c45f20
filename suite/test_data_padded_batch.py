"""data.padded_batch (guide §2.3): padded_batch(4, padded_shapes=[None]) on variable-length vectors.

Element x of range(count) is x copies of x (the input of the TensorFlow guide the notes follow)."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data_iterators import one_shot_graph_values
from reference.data_padded_batch import padded_dataset, variable_length_dataset
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.padded_batch")

# tf.data reports a per-batch pad size smaller than an element as DataLossError (same on TF 2.15-2.21),
# although nothing was lost: the batch is refused.
TOO_SMALL_PAD_ERROR = tf.errors.DataLossError


def _padded(count: int, n: int, pad_value: int = 0, width: int | None = None) -> list[np.ndarray]:
    """Batches of n rows; row x holds x copies of x, then pad_value up to the batch's width."""
    batches = []
    for start in range(0, count, n):
        xs = range(start, min(start + n, count))
        w = width if width is not None else max(xs)
        batches.append(np.array([[x] * x + [pad_value] * (w - x) for x in xs], dtype=np.int64).reshape(len(xs), w))
    return batches


def test_pads_with_zero_to_the_longest_element_of_each_batch():
    assert_dataset_produces(padded_dataset(count=10), _padded(10, 4),
                            element_spec=tf.TensorSpec(shape=(None, None), dtype=tf.int64))


def test_first_batch_matches_the_tensorflow_guides_example():
    # The TF guide: print(sess.run(next_element))  # ==> [[0, 0, 0], [1, 0, 0], [2, 2, 0], [3, 3, 3]]
    first = next(iter(padded_dataset()))
    assert first.numpy().tolist() == [[0, 0, 0], [1, 0, 0], [2, 2, 0], [3, 3, 3]]


def test_guides_one_shot_iterator_reads_padded_batches_in_graph_mode():
    got = one_shot_graph_values(lambda: padded_dataset(count=10), 3)
    for batch, want in zip(got, _padded(10, 4)):
        np.testing.assert_array_equal(batch, want)


def test_padding_values_are_honoured():
    dataset = padded_dataset(count=10, padding_values=tf.constant(-1, tf.int64))
    assert_dataset_produces(dataset, _padded(10, 4, pad_value=-1))


def test_explicit_larger_padded_shape_pads_every_batch_to_it():
    dataset = padded_dataset(count=10, padded_shapes=[12])
    assert dataset.element_spec.shape.as_list() == [None, 12]
    assert_dataset_produces(dataset, _padded(10, 4, width=12))


def test_static_shape_has_unknown_batch_and_length_unless_fixed():
    assert padded_dataset(count=10).element_spec.shape.as_list() == [None, None]
    assert padded_dataset(count=10, drop_remainder=True).element_spec.shape.as_list() == [4, None]


def test_components_of_a_tuple_are_padded_independently():
    dataset = variable_length_dataset(6).map(lambda v: (v, tf.size(v)))
    dataset = dataset.padded_batch(3, padded_shapes=([None], []), padding_values=(tf.constant(-7, tf.int64), 0))
    expected = [(b, np.array([sum(1 for v in row if v != -7) for row in b], dtype=np.int32))
                for b in _padded(6, 3, pad_value=-7)]
    assert_dataset_produces(dataset, expected)


def test_too_small_padded_shape_raises_after_the_batches_that_fit():
    # Batch 0 (lengths 0..3) fits in 3; batch 1 (lengths 4..7) does not.
    dataset = padded_dataset(count=10, padded_shapes=[3])
    assert_dataset_produces(dataset, _padded(4, 4, width=3),
                            expected_error=(TOO_SMALL_PAD_ERROR, "Attempted to pad to a smaller size than the input element"))


def test_padded_shape_smaller_than_a_static_dimension_raises_value_error():
    dataset = tf.data.Dataset.from_tensor_slices(np.zeros((8, 5), dtype=np.int64))
    with pytest.raises(ValueError, match=r"padded shape \(3,\) is not compatible with the shape \(5,\)"):
        dataset.padded_batch(4, padded_shapes=[3])


def test_padded_shape_of_the_wrong_rank_raises_value_error():
    with pytest.raises(ValueError, match=r"padded shape \(None, None\) is not compatible"):
        variable_length_dataset(10).padded_batch(4, padded_shapes=[None, None])


def test_padding_value_of_another_dtype_raises_type_error():
    with pytest.raises(TypeError, match="padding_values"):
        variable_length_dataset(10).padded_batch(4, padded_shapes=[None], padding_values=tf.constant(-1.0))
