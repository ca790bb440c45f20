"""Guide §1.2: compile, for the installed TensorFlow.

    python -m reference.keras_compile

`tf.train.AdamOptimizer` / `tf.train.RMSPropOptimizer` were removed from the TF 2 API. Their Keras
replacements take the learning rate the same way: `keras.optimizers.Adam(0.01)`,
`keras.optimizers.RMSprop(0.01)`. (`tf.compat.v1.train.AdamOptimizer` still exists, but Keras 3's
compile() refuses it; Keras 2 wraps it.)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

keras = tf.keras
layers = keras.layers


def compile_for_regression(model: keras.Model) -> keras.Model:
    # Configure a model for mean-squared error regression.
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss='mse',       # mean squared error
                  metrics=['mae'])  # mean absolute error
    return model


def compile_for_classification(model: keras.Model) -> keras.Model:
    # Configure a model for categorical classification.
    model.compile(optimizer=keras.optimizers.RMSprop(0.01),
                  loss=keras.losses.categorical_crossentropy,
                  metrics=[keras.metrics.categorical_accuracy])
    return model


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 32)).astype("float32")
    regression = compile_for_regression(keras.Sequential([keras.Input((32,)), layers.Dense(1)]))
    y = x[:, :1] * 2.0 + 1.0
    print("regression    ", regression.fit(x, y, epochs=3, verbose=0).history)
    classifier = compile_for_classification(
        keras.Sequential([keras.Input((32,)), layers.Dense(10, activation='softmax')]))
    labels = keras.utils.to_categorical(rng.integers(0, 10, size=64), 10)
    print("classification", classifier.fit(x, labels, epochs=3, verbose=0).history)
    print("learning rates", float(np.asarray(regression.optimizer.learning_rate)),
          float(np.asarray(classifier.optimizer.learning_rate)))


if __name__ == "__main__":
    main()
