"""Guide §1.5: the functional API, for the installed TensorFlow.

    python -m reference.keras_functional

Unchanged since the guide, except what `keras.Input` returns: the guide calls it a placeholder tensor;
in Keras 3 it is a symbolic KerasTensor (tf_keras: a KerasTensor too) and holds no data.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

keras = tf.keras
layers = keras.layers


def build_functional() -> keras.Model:
    inputs = keras.Input(shape=(32,))  # a symbolic tensor
    x = layers.Dense(64, activation='relu')(inputs)
    x = layers.Dense(64, activation='relu')(x)
    predictions = layers.Dense(10, activation='softmax')(x)
    return keras.Model(inputs=inputs, outputs=predictions)


def build_sequential() -> keras.Model:
    """The same stack as a Sequential model."""
    return keras.Sequential([
        keras.Input(shape=(32,)),
        layers.Dense(64, activation='relu'),
        layers.Dense(64, activation='relu'),
        layers.Dense(10, activation='softmax'),
    ])


def main() -> None:
    model = build_functional()
    model.summary()
    x = np.random.default_rng(0).random((2, 32)).astype("float32")
    print(model.predict(x, verbose=0))


if __name__ == "__main__":
    main()
