"""Guide §1.8, configuration only: `json_string = model.to_json()` and
`fresh_model = tf.keras.models.model_from_json(json_string)` (the guide adds: "or YAML, model.to_yaml()").

The JSON holds the architecture only: the rebuilt model has the same layers and freshly initialised
weights. `to_yaml` / `model_from_yaml` were removed for security (YAML loading could run arbitrary
code): Keras 3 has no such attributes (AttributeError); Keras 2 keeps stubs that raise RuntimeError
(since TF 2.6). Serialise to JSON instead.

Run alone: `python -m reference.keras_config_json`.
"""

from __future__ import annotations

import json

import numpy as np
import tensorflow as tf

keras = tf.keras


def build_model() -> keras.Model:
    """The guide's §1.5 functional model: Input(32) -> Dense(64) -> Dense(64) -> Dense(10, softmax)."""
    inputs = keras.Input(shape=(32,))
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dense(64, activation="relu")(x)
    predictions = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=predictions)


def main() -> None:
    keras.utils.set_random_seed(0)
    model = build_model()
    json_string = model.to_json()
    fresh_model = keras.models.model_from_json(json_string)
    layers = json.loads(json_string)["config"]["layers"]
    print("layers in the JSON:", [layer["class_name"] for layer in layers])
    print("same JSON after the rebuild:", fresh_model.to_json() == json_string)
    print("fresh weights differ from the original:",
          not np.array_equal(fresh_model.get_weights()[0], model.get_weights()[0]))
    try:
        model.to_yaml()
    except (AttributeError, RuntimeError) as exc:
        print(f"model.to_yaml() -> {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
