"""§2.1.1 Consuming NumPy arrays: Dataset.from_tensor_slices((features, labels)), and the
placeholder-fed variant (tf.compat.v1 placeholders in graph mode, fed when the iterator is initialised).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from reference.data_iterators import drain


def from_arrays(features: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((features, labels))


def placeholder_fed_elements(features: np.ndarray, labels: np.ndarray) -> list:
    """The guide's placeholder recipe, run for real: the arrays never become graph constants."""
    with tf.Graph().as_default():
        features_placeholder = tf.compat.v1.placeholder(features.dtype, features.shape)
        labels_placeholder = tf.compat.v1.placeholder(labels.dtype, labels.shape)
        dataset = tf.data.Dataset.from_tensor_slices((features_placeholder, labels_placeholder))
        iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
        next_element = iterator.get_next()
        with tf.compat.v1.Session() as sess:
            sess.run(iterator.initializer, feed_dict={features_placeholder: features,
                                                      labels_placeholder: labels})
            return drain(sess, next_element)


def main() -> None:
    features = np.arange(12, dtype=np.float32).reshape(4, 3)
    labels = np.array([0, 1, 0, 1], dtype=np.int64)
    print(from_arrays(features, labels).element_spec)
    for f, l in from_arrays(features, labels):
        print(f.numpy(), l.numpy())
    print("placeholder-fed:", placeholder_fed_elements(features, labels))


if __name__ == "__main__":
    main()
