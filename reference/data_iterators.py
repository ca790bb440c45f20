"""§2 Iterators: one-shot and initializable iterators, get_next(), re-initialisation.

TF 1 code (make_one_shot_iterator, make_initializable_iterator, Iterator.initializer, sess.run) still
runs through tf.compat.v1 inside a tf.Graph; in TF 2 a dataset is iterated with `for` or iter().
"""

from __future__ import annotations

import tensorflow as tf


def one_shot_graph_values(make_dataset, steps: int) -> list:
    """Build `make_dataset()` in a fresh graph and sess.run its one-shot iterator `steps` times."""
    with tf.Graph().as_default():
        next_element = tf.compat.v1.data.make_one_shot_iterator(make_dataset()).get_next()
        with tf.compat.v1.Session() as sess:
            return [sess.run(next_element) for _ in range(steps)]


def drain(sess, next_element, feed_dict=None) -> list:
    """sess.run(next_element) until the documented end of sequence, OutOfRangeError."""
    values = []
    while True:
        try:
            values.append(sess.run(next_element, feed_dict=feed_dict))
        except tf.errors.OutOfRangeError:
            return values


def main() -> None:
    print("one-shot (graph):", one_shot_graph_values(lambda: tf.data.Dataset.range(5), 5))

    with tf.Graph().as_default():
        max_value = tf.compat.v1.placeholder(tf.int64, shape=[])
        iterator = tf.compat.v1.data.make_initializable_iterator(tf.data.Dataset.range(max_value))
        next_element = iterator.get_next()
        with tf.compat.v1.Session() as sess:
            for feed in (3, 5):
                sess.run(iterator.initializer, feed_dict={max_value: feed})
                print(f"initializable, max_value={feed} (graph):", drain(sess, next_element))

    print("TF 2 (eager):", [int(x) for x in tf.data.Dataset.range(5)])


if __name__ == "__main__":
    main()
