"""data.iterators (guide §2): one-shot and initializable iterators, get_next(), re-initialisation.

The guide's TF 1 code runs for real in graph mode through tf.compat.v1 (tf.Graph + Session); the TF 2
idiom is iterating the dataset. Each graph-mode spec builds its own graph, so no state leaks."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data_iterators import drain, one_shot_graph_values
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.iterators")

v1 = tf.compat.v1


def _squares(n):
    return [np.int64(i * i) for i in range(n)]


def test_one_shot_iterator_sess_run_yields_each_element_in_order():
    got = one_shot_graph_values(lambda: tf.data.Dataset.range(5).map(lambda x: x * x), 5)
    assert [int(v) for v in got] == [0, 1, 4, 9, 16]


def test_one_shot_iterator_end_raises_out_of_range_error_and_keeps_raising():
    with tf.Graph().as_default():
        next_element = v1.data.make_one_shot_iterator(tf.data.Dataset.range(2)).get_next()
        with v1.Session() as sess:
            assert [sess.run(next_element) for _ in range(2)] == [0, 1]
            for _ in range(2):
                with pytest.raises(tf.errors.OutOfRangeError):
                    sess.run(next_element)


def test_initializable_iterator_read_before_initializer_raises_failed_precondition():
    with tf.Graph().as_default():
        iterator = v1.data.make_initializable_iterator(tf.data.Dataset.range(3))
        next_element = iterator.get_next()
        with v1.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
                sess.run(next_element)
            sess.run(iterator.initializer)
            assert drain(sess, next_element) == [0, 1, 2]


def test_reinitialising_with_another_feed_gives_the_new_data():
    with tf.Graph().as_default():
        max_value = v1.placeholder(tf.int64, shape=[])
        iterator = v1.data.make_initializable_iterator(tf.data.Dataset.range(max_value).map(lambda x: x * x))
        next_element = iterator.get_next()
        with v1.Session() as sess:
            sess.run(iterator.initializer, feed_dict={max_value: 3})
            assert drain(sess, next_element) == _squares(3)
            sess.run(iterator.initializer, feed_dict={max_value: 6})
            assert drain(sess, next_element) == _squares(6)


def test_reinitialising_midway_restarts_from_the_first_element():
    with tf.Graph().as_default():
        data = v1.placeholder(tf.int32, shape=[None])
        iterator = v1.data.make_initializable_iterator(tf.data.Dataset.from_tensor_slices(data))
        next_element = iterator.get_next()
        with v1.Session() as sess:
            sess.run(iterator.initializer, feed_dict={data: [10, 11, 12]})
            assert sess.run(next_element) == 10
            sess.run(iterator.initializer, feed_dict={data: [20, 21]})
            assert drain(sess, next_element) == [20, 21]


def test_reinitializable_iterator_switches_between_training_and_validation_datasets():
    # The guide: "iterate over training and validation data several times in the same program".
    with tf.Graph().as_default():
        training = tf.data.Dataset.range(4)
        validation = tf.data.Dataset.range(100, 102)
        iterator = v1.data.Iterator.from_structure(v1.data.get_output_types(training),
                                                   v1.data.get_output_shapes(training))
        next_element = iterator.get_next()
        init_training, init_validation = iterator.make_initializer(training), iterator.make_initializer(validation)
        with v1.Session() as sess:
            seen = []
            for _ in range(2):
                sess.run(init_training)
                seen.append(drain(sess, next_element))
                sess.run(init_validation)
                seen.append(drain(sess, next_element))
    assert seen == [[0, 1, 2, 3], [100, 101]] * 2


def test_make_initializable_iterator_in_eager_mode_raises_runtime_error():
    with pytest.raises(RuntimeError, match="not supported in eager mode"):
        v1.data.make_initializable_iterator(tf.data.Dataset.range(3))


def test_guides_dataset_method_make_one_shot_iterator_is_gone_attribute_error():
    with pytest.raises(AttributeError, match="make_one_shot_iterator"):
        tf.data.Dataset.range(3).make_one_shot_iterator()


def test_eager_iteration_replaces_the_one_shot_iterator():
    assert_dataset_produces(tf.data.Dataset.range(5).map(lambda x: x * x), _squares(5),
                            element_spec=tf.TensorSpec(shape=(), dtype=tf.int64))


def test_eager_iter_next_raises_stop_iteration_at_the_end():
    iterator = iter(tf.data.Dataset.range(2))
    assert [int(next(iterator)), int(next(iterator))] == [0, 1]
    with pytest.raises(StopIteration):
        next(iterator)
