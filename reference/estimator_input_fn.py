"""Guide §3.1: the Estimator input functions (iris_data.train_input_fn / eval_input_fn).

The pipeline is plain tf.data and unchanged in TF 2: Estimators (TF <= 2.15) and Keras' fit/evaluate/
predict (every version) consume the same (features dict, labels) batches.
"""

from __future__ import annotations

import tensorflow as tf

from reference import iris


def train_input_fn(features, labels, batch_size):
    """An input function for training"""
    # Convert the inputs to a Dataset.
    dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))

    # Shuffle, repeat, and batch the examples.
    return dataset.shuffle(1000).repeat().batch(batch_size)


def eval_input_fn(features, labels=None, batch_size=None):
    """An input function for evaluation or prediction"""
    features = dict(features)
    inputs = features if labels is None else (features, labels)
    dataset = tf.data.Dataset.from_tensor_slices(inputs)
    assert batch_size is not None, "batch_size must not be None"
    return dataset.batch(batch_size)


def main() -> None:
    (train_x, train_y), _ = iris.load_data()
    features, labels = next(iter(train_input_fn(train_x, train_y, batch_size=4)))
    for name, column in features.items():
        print(f"{name:>12}: {column.numpy()}")
    print(f"{'labels':>12}: {labels.numpy()}")


if __name__ == "__main__":
    main()
