"""§2.3 Simple batching: zip(range(100), range(0, -100, -1)).batch(4).

The guide reads batches with make_one_shot_iterator and sess.run; in TF 2 a dataset is iterated
directly. `python -m reference.data_batch` prints the guide's first three batches.
"""

from __future__ import annotations

import tensorflow as tf


def zipped_dataset(count: int = 100) -> tf.data.Dataset:
    inc_dataset = tf.data.Dataset.range(count)
    dec_dataset = tf.data.Dataset.range(0, -count, -1)
    return tf.data.Dataset.zip((inc_dataset, dec_dataset))


def batched_dataset(batch_size: int = 4, drop_remainder: bool = False, count: int = 100, **kwargs) -> tf.data.Dataset:
    return zipped_dataset(count).batch(batch_size, drop_remainder=drop_remainder, **kwargs)


def main() -> None:
    for inc, dec in batched_dataset().take(3):
        print((inc.numpy().tolist(), dec.numpy().tolist()))


if __name__ == "__main__":
    main()
