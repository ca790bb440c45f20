"""§2.3 Batching tensors with padding: padded_batch(4, padded_shapes=[None]).

The guide's input (from the TensorFlow guide it follows): element x of range(100) is a vector of x
copies of x; each batch is padded with 0 to its longest element.
"""

from __future__ import annotations

import tensorflow as tf


def variable_length_dataset(count: int = 100) -> tf.data.Dataset:
    return tf.data.Dataset.range(count).map(lambda x: tf.fill([tf.cast(x, tf.int32)], x))


def padded_dataset(count: int = 100, batch_size: int = 4, **kwargs) -> tf.data.Dataset:
    kwargs.setdefault("padded_shapes", [None])
    return variable_length_dataset(count).padded_batch(batch_size, **kwargs)


def main() -> None:
    for batch in padded_dataset().take(2):
        print(batch.numpy().tolist())


if __name__ == "__main__":
    main()
