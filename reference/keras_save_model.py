"""Guide §1.8, the whole model: `model.save('my_model.h5')` / `tf.keras.models.load_model('my_model.h5')`.

The file holds the architecture, the weights and the optimizer state, so training can continue after
loading. '.h5' is the legacy HDF5 format (Keras 3 warns); '.keras' is the native format since Keras
2.13 and the only native one in Keras 3. A path without extension is a TensorFlow SavedModel
directory on Keras 2 and is refused on Keras 3 (ValueError), where a SavedModel for serving is
written with `model.export(dir)` and loaded with `tf.saved_model.load(dir).serve`.

Run alone: `python -m reference.keras_save_model`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf

keras = tf.keras


def build_model(hidden: int = 64) -> keras.Model:
    """The guide's §1 model, compiled (the optimizer's state is saved with it)."""
    model = keras.Sequential([keras.Input(shape=(32,)), keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    data = rng.random((256, 32), dtype=np.float32)
    labels = keras.utils.to_categorical(rng.integers(0, 10, 256), 10)
    model = build_model()
    model.fit(data, labels, batch_size=32, epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        # '.keras' first: on Keras 3.15 an '.h5' save strips the optimizer from the model's compile
        # config, so a '.keras' file written after it would reload with a fresh optimizer.
        for name in ("my_model.keras", "my_model.h5"):
            path = os.path.join(tmp, name)
            model.save(path)
            loaded = keras.models.load_model(path)
            print(f"{name}: identical predictions:",
                  np.array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0)),
                  "optimizer iterations restored:", int(loaded.optimizer.iterations.numpy()))
        export_dir = os.path.join(tmp, "saved_model")
        model.export(export_dir)
        # Keep the loaded object referenced: its variables die with it, even while `serve` is in use.
        reloaded = tf.saved_model.load(export_dir)
        served = reloaded.serve(data)
        print("SavedModel via model.export: identical predictions:",
              np.allclose(served.numpy(), model.predict(data, verbose=0), rtol=1e-6, atol=0))


if __name__ == "__main__":
    main()
