"""Guide §1.7: callbacks passed to `fit`: EarlyStopping, TensorBoard, ModelCheckpoint,
LearningRateScheduler (and BackupAndRestore, the fault-tolerance callback added since).

The guide's recipe:

    callbacks = [EarlyStopping(patience=2, monitor='val_loss'), TensorBoard(log_dir='./logs')]
    model.fit(data, labels, batch_size=32, epochs=5, callbacks=callbacks,
              validation_data=(val_data, val_labels))

Since TF 2.21 TensorBoard is no longer installed with TensorFlow: the TensorBoard callback needs
`pip install tensorboard`.

`one_weight_model` is a model whose losses are known in closed form, so the epoch at which a
callback acts can be predicted: y = w·x with w starting at 0, one sample x=1, y=1, plain SGD.
Each epoch is one step w <- w - lr·2(w - 1), so w_k = 1 - (1 - 2·lr)^k; with lr = 0.25 the
weights are 0.5, 0.75, 0.875, ... and a validation target of 0.8 makes val_loss fall then rise.

Run alone: `python -m reference.keras_callbacks`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf

keras = tf.keras

TRAIN = (np.ones((1, 1), "float32"), np.ones((1, 1), "float32"))
VALIDATION = (np.ones((1, 1), "float32"), np.full((1, 1), 0.8, "float32"))


def one_weight_model(learning_rate: float = 0.25) -> keras.Model:
    model = keras.Sequential([keras.Input(shape=(1,)),
                              keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def fit_one_weight(model: keras.Model, epochs: int, callbacks: list,
                   validation: bool = True) -> keras.callbacks.History:
    return model.fit(*TRAIN, validation_data=VALIDATION if validation else None, epochs=epochs,
                     batch_size=1, shuffle=False, verbose=0, callbacks=callbacks)


def guide_recipe(log_dir: str, epochs: int = 5) -> keras.callbacks.History:
    """The guide's fit with EarlyStopping(patience=2, monitor='val_loss') and TensorBoard(log_dir)."""
    rng = np.random.default_rng(0)
    data, val_data = rng.random((1000, 32), dtype=np.float32), rng.random((100, 32), dtype=np.float32)
    labels = keras.utils.to_categorical(rng.integers(0, 10, 1000), 10)
    val_labels = keras.utils.to_categorical(rng.integers(0, 10, 100), 10)
    model = keras.Sequential([keras.Input(shape=(32,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = [keras.callbacks.EarlyStopping(patience=2, monitor="val_loss"),
                 keras.callbacks.TensorBoard(log_dir=log_dir)]
    return model.fit(data, labels, batch_size=32, epochs=epochs, callbacks=callbacks,
                     validation_data=(val_data, val_labels), verbose=0)


def main() -> None:
    keras.utils.set_random_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        history = guide_recipe(os.path.join(tmp, "logs"))
        print("epochs run:", len(history.history["loss"]),
              "val_loss:", [round(v, 4) for v in history.history["val_loss"]])
        print("TensorBoard log dirs:", sorted(os.listdir(os.path.join(tmp, "logs"))))

        model = one_weight_model()
        stopper = keras.callbacks.EarlyStopping(patience=2, monitor="val_loss", restore_best_weights=True)
        checkpoint = keras.callbacks.ModelCheckpoint(os.path.join(tmp, "ckpt-{epoch:02d}.weights.h5"),
                                                     monitor="val_loss", save_best_only=True,
                                                     save_weights_only=True)
        history = fit_one_weight(model, 10, [stopper, checkpoint])
        print("one-weight model val_loss:", [round(v, 6) for v in history.history["val_loss"]],
              "stopped at epoch", stopper.stopped_epoch, "restored w =", float(model.get_weights()[0][0, 0]))
        print("checkpoints:", sorted(f for f in os.listdir(tmp) if f.startswith("ckpt")))


if __name__ == "__main__":
    main()
