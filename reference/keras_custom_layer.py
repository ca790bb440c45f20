"""Guide §1.6: a custom layer, subclassing `Layer` with `build`, `call` and `get_config`.

`build` creates the weights the first time the layer sees an input (so their shape can follow the
input); `get_config` returns the constructor arguments so the layer can be rebuilt from its config
and reloaded from a saved model. To reload a saved model without passing `custom_objects`, the class
must be registered with `keras.utils.register_keras_serializable` (the same function as Keras 3's
`keras.saving.register_keras_serializable`; `tf.keras` has no `saving` module under Keras 3).

Run alone: `python -m reference.keras_custom_layer`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf

keras = tf.keras

# Registered under this package, the class is saved as "tfguide>MyLayer" and found again by load_model.
PACKAGE = "tfguide"


@keras.utils.register_keras_serializable(package=PACKAGE)
class MyLayer(keras.layers.Layer):
    """The guide's layer: `inputs @ kernel`, with a kernel of shape (input features, output_dim)."""

    def __init__(self, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.output_dim = output_dim

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), self.output_dim),
                                      initializer="uniform", trainable=True)
        super().build(input_shape)

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config["output_dim"] = self.output_dim
        return config


def build_model(input_dim: int = 32, output_dim: int = 10) -> keras.Model:
    """The guide's model: MyLayer followed by a softmax, compiled as in the guide."""
    model = keras.Sequential([keras.Input(shape=(input_dim,)), MyLayer(output_dim),
                              keras.layers.Activation("softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(0.001), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    keras.utils.set_random_seed(0)
    layer = MyLayer(10)
    print("weights before the first call:", len(layer.weights))
    layer(np.zeros((1, 32), "float32"))
    print("weights after the first call:", [tuple(w.shape) for w in layer.weights])
    print("config:", {k: v for k, v in layer.get_config().items() if k in ("name", "output_dim")})

    rng = np.random.default_rng(0)
    data = rng.random((1000, 32)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, 10, 1000), 10)
    model = build_model()
    history = model.fit(data, labels, batch_size=32, epochs=5, verbose=0)
    print("trainable weights:", len(model.trainable_weights), "loss per epoch:",
          [round(v, 4) for v in history.history["loss"]])

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "custom.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)
        same = np.array_equal(model.predict(data[:8], verbose=0), reloaded.predict(data[:8], verbose=0))
        print("reloaded layer class:", type(reloaded.layers[0]).__name__, "identical predictions:", same)


if __name__ == "__main__":
    main()
