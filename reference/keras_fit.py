"""Guide §1.3: fit on NumPy arrays and on a tf.data.Dataset, for the installed TensorFlow.

    python -m reference.keras_fit

Unchanged since the guide: `epochs`, `batch_size` (the last batch may be smaller), `validation_data`
(evaluated in inference mode at the end of every epoch), and for a repeated Dataset, `steps_per_epoch`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

keras = tf.keras
layers = keras.layers


def small_model(input_dim: int = 32, outputs: int = 10) -> keras.Model:
    model = keras.Sequential([keras.Input((input_dim,)),
                              layers.Dense(64, activation='relu'),
                              layers.Dense(outputs)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='mse', metrics=['mae'])
    return model


def fit_numpy(model, data, labels, val_data, val_labels, epochs=10, batch_size=32, **kwargs):
    return model.fit(data, labels, epochs=epochs, batch_size=batch_size,
                     validation_data=(val_data, val_labels), **kwargs)


def repeated_dataset(data, labels, batch_size=32) -> tf.data.Dataset:
    dataset = tf.data.Dataset.from_tensor_slices((data, labels))
    dataset = dataset.batch(batch_size)
    dataset = dataset.repeat()
    return dataset


def fit_dataset(model, data, labels, epochs=10, steps_per_epoch=30, **kwargs):
    # An endless dataset has no epoch end of its own: steps_per_epoch draws one.
    return model.fit(repeated_dataset(data, labels), epochs=epochs, steps_per_epoch=steps_per_epoch, **kwargs)


def main() -> None:
    rng = np.random.default_rng(0)
    data, labels = rng.random((1000, 32)), rng.random((1000, 10))
    val_data, val_labels = rng.random((100, 32)), rng.random((100, 10))
    print(fit_numpy(small_model(), data, labels, val_data, val_labels, verbose=2).history.keys())
    fit_dataset(small_model(), data, labels, verbose=2)


if __name__ == "__main__":
    main()
