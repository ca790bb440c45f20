"""Guide §1.8, weights only: `model.save_weights('./weights/my_model')` / `model.load_weights(...)`.

Keras 3 (TF >= 2.16) refuses the guide's path with ValueError: a weights file must end in
'.weights.h5' (HDF5). Keras 2 (TF <= 2.15, or tf_keras) writes a TensorFlow checkpoint for a path
without extension (my_model.index + my_model.data-00000-of-00001 + checkpoint), and HDF5 for '.h5'.
'./weights/my_model.weights.h5' works on both.

Run alone: `python -m reference.keras_save_weights`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf

keras = tf.keras

GUIDE_PATH = os.path.join("weights", "my_model")
PORTABLE_PATH = os.path.join("weights", "my_model.weights.h5")  # accepted by Keras 2 and Keras 3


def build_model(hidden: int = 64, input_dim: int = 32) -> keras.Model:
    """The guide's §1 model (two Dense(64, relu) and a softmax over 10 classes)."""
    return keras.Sequential([keras.Input(shape=(input_dim,)), keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def main() -> None:
    keras.utils.set_random_seed(0)
    data = np.random.default_rng(0).random((4, 32), dtype=np.float32)
    model = build_model()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            model.save_weights(os.path.join(tmp, GUIDE_PATH))
            print("guide path saved:", sorted(os.listdir(os.path.join(tmp, "weights"))))
        except ValueError as exc:
            print("guide path refused:", exc)
        path = os.path.join(tmp, PORTABLE_PATH)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.save_weights(path)
        fresh = build_model()
        fresh.load_weights(path)
        print("saved to", PORTABLE_PATH, "- a fresh model predicts identically after load_weights:",
              np.array_equal(fresh.predict(data, verbose=0), model.predict(data, verbose=0)))


if __name__ == "__main__":
    main()
