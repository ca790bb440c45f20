"""Guide §1.1: configuring layers (activation, regularizers, initializers), for the installed TensorFlow.

    python -m reference.keras_layers

Everything the guide writes still works unchanged; the only thing to know is that a layer's weights
exist once it is built, i.e. after its first call (or inside a model with a known input shape).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

keras = tf.keras
layers = keras.layers


def guide_layers() -> dict[str, keras.layers.Layer]:
    """The guide's five Dense(64) layers, by what they demonstrate."""
    return {
        # Create a sigmoid layer (by name, or by callable: identical).
        "sigmoid_by_name": layers.Dense(64, activation='sigmoid'),
        "sigmoid_by_callable": layers.Dense(64, activation=tf.sigmoid),
        # A linear layer with L1 regularization of factor 0.01 applied to the kernel matrix.
        "l1_kernel": layers.Dense(64, kernel_regularizer=keras.regularizers.l1(0.01)),
        # A linear layer with L2 regularization of factor 0.01 applied to the bias vector.
        "l2_bias": layers.Dense(64, bias_regularizer=keras.regularizers.l2(0.01)),
        # A linear layer with a kernel initialized to a random orthogonal matrix.
        "orthogonal_kernel": layers.Dense(64, kernel_initializer='orthogonal'),
        # A linear layer with a bias vector initialized to 2.0s.
        "constant_bias": layers.Dense(64, bias_initializer=keras.initializers.constant(2.0)),
    }


def main() -> None:
    x = np.random.default_rng(0).normal(size=(4, 64)).astype("float32")
    for name, layer in guide_layers().items():
        y = layer(x)  # builds the kernel (64, 64) and the bias (64,)
        kernel, bias = (w.numpy() for w in layer.weights)
        losses = [float(loss) for loss in layer.losses]
        print(f"{name:20s} output {tuple(y.shape)}  kernel std {kernel.std():.4f}  "
              f"bias mean {bias.mean():.2f}  regularization losses {losses}")


if __name__ == "__main__":
    main()
