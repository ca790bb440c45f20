"""Guide §1: the Fashion-MNIST quickstart, written for the installed TensorFlow.

    python -m reference.keras_quickstart

The guide's `keras.layers.Flatten(input_shape=(28, 28))` still builds the same model, but Keras 3 warns
about it and prefers an explicit `keras.Input(shape=(28, 28))` as the first layer, which every Keras
version accepts. `load_data()` downloads the four files into ~/.keras/datasets/fashion-mnist/ (Keras 3:
$KERAS_HOME/datasets/fashion-mnist/ when KERAS_HOME is set) unless they are already there.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

keras = tf.keras

CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']


def scale_pixels(images):
    """Step 2: pixel values 0..255 to [0, 1] (float64, as `train_images / 255.0` gives)."""
    return images / 255.0


def load_data():
    """The guide's steps 1 and 2: load, then scale pixels to [0, 1]."""
    (train_images, train_labels), (test_images, test_labels) = keras.datasets.fashion_mnist.load_data()
    return (scale_pixels(train_images), train_labels), (scale_pixels(test_images), test_labels)


def build_model() -> keras.Model:
    """Step 3: Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax), compiled as the guide does."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation=tf.nn.relu),
        keras.layers.Dense(10, activation=tf.nn.softmax),
    ])
    model.compile(optimizer='adam',
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model


def fit(model, train, epochs: int = 5, verbose=0, **kwargs):
    """Step 4: `model.fit(train_images, train_labels, epochs=5)` (extra keyword arguments go to fit)."""
    return model.fit(*train, epochs=epochs, verbose=verbose, **kwargs)


def train_and_evaluate(model, train, test, epochs: int = 5, verbose=0):
    """Steps 4-6: fit, evaluate, predict. Returns (history, test_loss, test_acc, predictions)."""
    history = fit(model, train, epochs=epochs, verbose=verbose)
    test_loss, test_acc = model.evaluate(*test, verbose=verbose)
    predictions = model.predict(test[0], verbose=verbose)
    return history, test_loss, test_acc, predictions


def main() -> None:
    train, test = load_data()
    model = build_model()
    model.summary()
    _, _, test_acc, predictions = train_and_evaluate(model, train, test, epochs=5, verbose=2)
    print('Test accuracy:', test_acc)
    print('predictions[0]:', predictions[0])
    print('predicted class:', CLASS_NAMES[int(np.argmax(predictions[0]))],
          '| true class:', CLASS_NAMES[int(test[1][0])])


if __name__ == "__main__":
    main()
