"""data.batch (guide §2.3): zip(range(100), range(0, -100, -1)).batch(4), and the shuffle / repeat / zip
the guide builds its pipelines from (`dataset.batch(32).repeat()`, `shuffle(1000).repeat().batch(n)`)."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data_batch import batched_dataset, zipped_dataset
from reference.data_iterators import one_shot_graph_values
from suite.support.helpers import SEED, TF_VERSION, assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.batch")

# Dataset.zip(a, b), Python-style: TF 2.13's docstring and signature `zip(*args, datasets=None, name=None)`
# added it; TF 2.12's `zip(datasets, name=None)` reads the second dataset as `name` and fails with
# AttributeError (observed in the matrix on 2.12.1; every release from 2.13 accepts it).
ZIP_SEPARATE_ARGUMENTS_ERROR = None if TF_VERSION >= (2, 13) else (AttributeError, "isidentifier")

# Copied from the guide's comments, not from TensorFlow's output.
GUIDE_FIRST_THREE = [
    ([0, 1, 2, 3], [0, -1, -2, -3]),
    ([4, 5, 6, 7], [-4, -5, -6, -7]),
    ([8, 9, 10, 11], [-8, -9, -10, -11]),
]


# A batch of int64 scalars whose size is not known statically (the last batch may be short).
INT64_VECTOR = tf.TensorSpec(shape=(None,), dtype=tf.int64)
INT64_SCALAR = tf.TensorSpec(shape=(), dtype=tf.int64)


def _int64(values):
    return np.asarray(values, dtype=np.int64)


def _batches(count: int, n: int, drop_remainder: bool = False) -> list:
    """Consecutive slices of (range(count), -range(count)), n at a time."""
    stop = count - count % n if drop_remainder else count
    return [(_int64(np.arange(i, min(i + n, stop))), _int64(-np.arange(i, min(i + n, stop))))
            for i in range(0, stop, n)]


def test_first_three_batches_are_the_guides():
    got = [tuple(t.numpy().tolist() for t in batch) for batch in batched_dataset().take(3)]
    assert got == [tuple(b) for b in GUIDE_FIRST_THREE]


def test_batch_4_of_100_zipped_elements_yields_25_consecutive_batches_then_ends():
    assert_dataset_produces(batched_dataset(), _batches(100, 4), element_spec=(INT64_VECTOR, INT64_VECTOR))


def test_guides_one_shot_iterator_and_sess_run_print_the_guides_batches_in_graph_mode():
    got = one_shot_graph_values(batched_dataset, 3)
    assert [tuple(t.tolist() for t in batch) for batch in got] == [tuple(b) for b in GUIDE_FIRST_THREE]


@pytest.mark.parametrize("count, n", [(10, 4), (100, 7), (5, 8)])
def test_last_batch_holds_count_mod_n_elements(count, n):
    dataset = tf.data.Dataset.zip((tf.data.Dataset.range(count), tf.data.Dataset.range(0, -count, -1))).batch(n)
    expected = _batches(count, n)
    assert len(expected[-1][0]) == (count % n or n)
    assert_dataset_produces(dataset, expected)


@pytest.mark.parametrize("count, n", [(10, 4), (100, 7), (5, 8)])
def test_drop_remainder_drops_the_partial_last_batch(count, n):
    dataset = tf.data.Dataset.zip((tf.data.Dataset.range(count), tf.data.Dataset.range(0, -count, -1)))
    fixed = tf.TensorSpec(shape=(n,), dtype=tf.int64)
    assert_dataset_produces(dataset.batch(n, drop_remainder=True), _batches(count, n, drop_remainder=True),
                            element_spec=(fixed, fixed))


def test_static_batch_dimension_is_none_without_drop_remainder_and_n_with_it():
    assert [s.shape.as_list() for s in batched_dataset().element_spec] == [[None], [None]]
    assert [s.shape.as_list() for s in batched_dataset(drop_remainder=True).element_spec] == [[4], [4]]


def test_batch_size_zero_raises_invalid_argument_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Batch size must be greater than zero"):
        tf.data.Dataset.range(10).batch(0)


def test_batching_elements_of_different_shapes_raises_invalid_argument_after_the_uniform_batch():
    # Elements 0..2 have shape [1], 3..5 shape [2]: the first batch stacks, the second cannot (tf.stack's rule).
    dataset = tf.data.Dataset.range(6).map(lambda x: tf.fill([1 + tf.cast(x, tf.int32) // 3], x)).batch(2)
    assert_dataset_produces(dataset, [_int64([[0], [1]])],
                            expected_error=(tf.errors.InvalidArgumentError, r"Cannot add tensor to the batch"))


def test_zip_stops_at_the_shortest_input():
    dataset = tf.data.Dataset.zip((tf.data.Dataset.range(100), tf.data.Dataset.range(0, -3, -1)))
    assert_dataset_produces(dataset, [(np.int64(i), np.int64(-i)) for i in range(3)],
                            element_spec=(INT64_SCALAR, INT64_SCALAR))


def test_zip_takes_datasets_as_separate_arguments_too():
    if ZIP_SEPARATE_ARGUMENTS_ERROR is not None:
        exc_type, fragment = ZIP_SEPARATE_ARGUMENTS_ERROR
        with pytest.raises(exc_type, match=fragment):
            tf.data.Dataset.zip(tf.data.Dataset.range(3), tf.data.Dataset.range(0, -5, -1))
        return
    dataset = tf.data.Dataset.zip(tf.data.Dataset.range(3), tf.data.Dataset.range(0, -5, -1))
    assert_dataset_produces(dataset, [(np.int64(i), np.int64(-i)) for i in range(3)],
                            element_spec=(INT64_SCALAR, INT64_SCALAR))


def test_repeat_without_count_is_endless_and_cycles_through_the_data():
    dataset = tf.data.Dataset.range(7).repeat()
    assert dataset.cardinality().numpy() == tf.data.INFINITE_CARDINALITY
    # Far more elements than the data holds, gathered into one batch so the spec stays fast.
    assert_dataset_produces(dataset.take(100_000).batch(100_000), [np.arange(100_000, dtype=np.int64) % 7])


def test_batch_then_repeat_repeats_every_batch_including_the_short_last_one():
    # The guide's dataset.batch(32).repeat(): each epoch ends with its short batch.
    dataset = tf.data.Dataset.range(5).batch(2).repeat().take(7)
    expected = [_int64(b) for b in ([0, 1], [2, 3], [4], [0, 1], [2, 3], [4], [0, 1])]
    assert_dataset_produces(dataset, expected)


def test_seeded_shuffle_is_reproducible_and_keeps_the_multiset():
    data = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9], dtype=np.int64)

    def order():
        dataset = tf.data.Dataset.from_tensor_slices(data).shuffle(len(data), seed=SEED)
        return [int(x) for x in dataset]

    first = order()
    assert first == order()
    assert sorted(first) == sorted(data.tolist())
    assert first != data.tolist()


def test_shuffle_then_repeat_reshuffles_each_epoch_over_the_same_elements():
    dataset = tf.data.Dataset.range(20).shuffle(20, seed=SEED).repeat(2)
    got = [int(x) for x in dataset]
    first, second = got[:20], got[20:]
    assert sorted(first) == sorted(second) == list(range(20))
    assert first != second


def test_shuffle_with_buffer_size_one_keeps_the_order():
    assert_dataset_produces(zipped_dataset().take(6).shuffle(1, seed=SEED),
                            [(np.int64(i), np.int64(-i)) for i in range(6)])


# --- shuffle's buffer: how far an element can move ----------------------------------------------------------
#
# shuffle(b) fills a buffer with the next b elements and yields one of them chosen at random, refilling the
# freed slot from the input (the Dataset.shuffle docstring). So output position i holds an element drawn
# from the first i + b of the input: never one more than b - 1 places ahead of its turn, and with a buffer
# as large as the data any element can come first. The bounds are exact; that an element goes that far is
# near certain for these sizes (the newest element of the buffer is picked with probability 1/b at each of
# the count - b steps: missed with probability (1 - 1/b)^(count - b) < 1e-8), and fixed by the seed.

def seeded_shuffle_order(count: int, buffer_size: int) -> np.ndarray:
    return np.fromiter(tf.data.Dataset.range(count).shuffle(buffer_size, seed=SEED).as_numpy_iterator(), np.int64)


@pytest.mark.parametrize("count, buffer_size", [(1000, 10), (2000, 100)])
def test_shuffle_yields_at_position_i_an_element_below_i_plus_buffer_size_and_reaches_that_bound(count, buffer_size):
    order = seeded_shuffle_order(count, buffer_size)
    assert sorted(order.tolist()) == list(range(count))
    assert (order - np.arange(count)).max() == buffer_size - 1


def test_shuffle_with_a_buffer_of_the_whole_data_reaches_its_far_end_early():
    # A buffer of all 1000 elements: the first 200 outputs hold one of the last 100 elements (missed with
    # probability 0.9^200 < 1e-9), which a buffer of 700 or fewer could not yet have read.
    order = seeded_shuffle_order(1000, 1000)
    assert sorted(order.tolist()) == list(range(1000))
    assert order[:200].max() >= 900
