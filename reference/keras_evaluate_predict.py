"""Guide §1.4: evaluate and predict on NumPy data and on a tf.data.Dataset, for the installed TensorFlow.

    python -m reference.keras_evaluate_predict

Unchanged since the guide. `evaluate(dataset, steps=30)` stops after 30 batches, which an endless
(repeated) dataset needs; `predict` runs the model in inference mode (no dropout) and keeps the order.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

keras = tf.keras
layers = keras.layers


def evaluate_numpy(model, data, labels):
    return model.evaluate(data, labels, batch_size=32, verbose=0)


def evaluate_dataset(model, dataset, **kwargs):
    return model.evaluate(dataset, steps=30, verbose=0, **kwargs)


def predict(model, data, batch_size: int = 32):
    return model.predict(data, batch_size=batch_size, verbose=0)


def build_model() -> keras.Model:
    """The model the guide evaluates and predicts with: Dense(64, relu) -> Dense(10), Adam, mse/mae."""
    model = keras.Sequential([keras.Input((32,)), layers.Dense(64, activation='relu'), layers.Dense(10)])
    model.compile(optimizer='adam', loss='mse', metrics=['mae'])
    return model


def main() -> None:
    rng = np.random.default_rng(0)
    data, labels = rng.random((1000, 32)), rng.random((1000, 10))
    model = build_model()
    dataset = tf.data.Dataset.from_tensor_slices((data, labels)).batch(32).repeat()
    print("evaluate(data, labels, batch_size=32):", evaluate_numpy(model, data, labels))
    print("evaluate(dataset, steps=30):          ", evaluate_dataset(model, dataset))
    result = predict(model, data)
    print("predict(data, batch_size=32):", result.shape)


if __name__ == "__main__":
    main()
