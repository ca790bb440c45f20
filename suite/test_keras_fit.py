"""Guide §1.3: fit with epochs, batch_size and validation_data; Dataset.batch(32).repeat() with
steps_per_epoch=30."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import keras_fit as reference
from suite.support.helpers import assert_loss_not_a_plain_mean_of_batches, keras, tf

pytestmark = pytest.mark.recipe("keras.fit")

RNG = np.random.default_rng(13)
N, DIM = 70, 8
X = RNG.normal(size=(N, DIM)).astype(np.float32)
Y = (X @ RNG.normal(size=(DIM, 1))).astype(np.float32)
X_VAL = RNG.normal(size=(20, DIM)).astype(np.float32)
Y_VAL = (X_VAL @ RNG.normal(size=(DIM, 1))).astype(np.float32)


class SamplesSeen(keras.metrics.Metric):
    """Samples seen so far in the epoch: the difference between two batches is the batch size."""

    def __init__(self, name="samples_seen", **kwargs):
        # dtype given: Keras 3.0-3.1 leave a Metric's dtype None unless it is (3.2 defaults it to floatx,
        # keras-team/keras 748197cce4), and this metric only counts samples.
        super().__init__(name=name, dtype="float32", **kwargs)
        self.seen = self.add_weight(name="seen", shape=(), initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.seen.assign_add(tf.cast(tf.shape(y_true)[0], self.dtype))

    def result(self):
        return tf.identity(self.seen)


class BatchSizes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.per_epoch: list[list[int]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append([])
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        seen = int(round(float(logs["samples_seen"])))
        self.per_epoch[-1].append(seen - self._seen)
        self._seen = seen


def counting_model() -> keras.Model:
    model = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[SamplesSeen()])
    return model


def test_fit_runs_ceil_n_over_batch_size_steps_with_a_smaller_last_batch():
    epochs, batch_size = 3, 32
    model, sizes = counting_model(), BatchSizes()
    model.fit(X, Y, epochs=epochs, batch_size=batch_size, callbacks=[sizes], verbose=0)
    assert sizes.per_epoch == [[32, 32, 6]] * epochs
    assert int(model.optimizer.iterations.numpy()) == epochs * math.ceil(N / batch_size)


def test_repeated_dataset_runs_exactly_steps_per_epoch_steps_each_epoch():
    epochs = 2
    model, sizes = counting_model(), BatchSizes()
    reference.fit_dataset(model, X, Y, epochs=epochs, steps_per_epoch=30, callbacks=[sizes], verbose=0)
    assert [len(epoch) for epoch in sizes.per_epoch] == [30] * epochs
    # batch(32) over 70 samples, repeated: 32, 32, 6, 32, 32, 6, ...
    assert sizes.per_epoch[0] == ([32, 32, 6] * 10)
    assert int(model.optimizer.iterations.numpy()) == 30 * epochs


def test_validation_metrics_are_reported_every_epoch_in_inference_mode():
    epochs = 2
    model = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    seen = []

    class AtEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            inference = model(X_VAL, training=False).numpy().astype(np.float64)
            training = model(X_VAL, training=True).numpy().astype(np.float64)
            seen.append({"val_loss": logs["val_loss"], "val_mae": logs["val_mae"],
                         "mse": np.mean((inference - Y_VAL) ** 2), "mae": np.mean(np.abs(inference - Y_VAL)),
                         "training_mse": np.mean((training - Y_VAL) ** 2),
                         "dropout_effect": np.abs(training - inference).max()})

    history = reference.fit_numpy(model, X, Y, X_VAL, Y_VAL, epochs=epochs, batch_size=32,
                                  callbacks=[AtEpochEnd()], verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(values) == epochs for values in history.history.values())
    assert len(seen) == epochs
    for epoch, at_end in enumerate(seen):
        np.testing.assert_allclose(at_end["val_loss"], at_end["mse"], rtol=1e-5, err_msg=f"epoch {epoch}")
        np.testing.assert_allclose(at_end["val_mae"], at_end["mae"], rtol=1e-5, err_msg=f"epoch {epoch}")
        # Guard: with dropout active the same data gives another loss, far outside the tolerance above.
        assert at_end["dropout_effect"] > 1e-2, f"epoch {epoch}"
        assert not np.isclose(at_end["training_mse"], at_end["mse"], rtol=1e-4), f"epoch {epoch}"
    np.testing.assert_allclose(history.history["val_loss"], [s["val_loss"] for s in seen], rtol=1e-6)


# --- learning: every SGD step of a multi-epoch fit, in closed form -------------------------------------

SGD_LR, SGD_EPOCHS, SGD_BATCH = 0.1, 3, 4
SGD_X = RNG.normal(size=(10, 3)).astype(np.float32)   # batches of 4, 4, 2 rows every epoch
SGD_Y = RNG.normal(size=(10, 2)).astype(np.float32)
SGD_KERNEL = RNG.normal(size=(3, 2)).astype(np.float32)
SGD_BIAS = RNG.normal(size=2).astype(np.float32)


def sgd_fit_by_hand():
    """Plain SGD on the mean squared error of each batch, in order (shuffle=False), for SGD_EPOCHS epochs.

    Returns the (kernel, bias) after every step, and per epoch the (size, loss) of each batch, the loss
    taken before the batch's step."""
    x, y = SGD_X.astype(np.float64), SGD_Y.astype(np.float64)
    kernel, bias = SGD_KERNEL.astype(np.float64), SGD_BIAS.astype(np.float64)
    steps, batches = [], []
    for _ in range(SGD_EPOCHS):
        batches.append([])
        for start in range(0, len(x), SGD_BATCH):
            xb, yb = x[start:start + SGD_BATCH], y[start:start + SGD_BATCH]
            error = xb @ kernel + bias - yb
            batches[-1].append((len(xb), np.mean(error ** 2)))
            scale = 2.0 / error.size
            kernel, bias = kernel - SGD_LR * scale * xb.T @ error, bias - SGD_LR * scale * error.sum(axis=0)
            steps.append((kernel, bias))
    return steps, batches


def test_multi_epoch_sgd_fit_takes_every_step_of_the_closed_form_and_reports_the_epoch_mean_loss():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([SGD_KERNEL, SGD_BIAS])
    model.compile(optimizer=keras.optimizers.SGD(SGD_LR), loss="mse")
    after = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            after.append([w.astype(np.float64) for w in model.get_weights()])

    history = model.fit(SGD_X, SGD_Y, batch_size=SGD_BATCH, epochs=SGD_EPOCHS, shuffle=False, verbose=0,
                        callbacks=[Record()])
    steps, batches = sgd_fit_by_hand()
    # fit's documented epoch loss: the mean over the epoch's batches, weighted by their sizes.
    epoch_losses = [sum(n * loss for n, loss in epoch) / len(SGD_X) for epoch in batches]

    assert len(after) == len(steps) == SGD_EPOCHS * 3
    for index, ((kernel, bias), (want_kernel, want_bias)) in enumerate(zip(after, steps)):
        np.testing.assert_allclose(kernel, want_kernel, rtol=1e-5, atol=1e-6, err_msg=f"kernel after step {index}")
        np.testing.assert_allclose(bias, want_bias, rtol=1e-5, atol=1e-6, err_msg=f"bias after step {index}")
    # Guards: the loss falls every epoch, and the epoch mean is neither the last batch's loss nor the
    # unweighted mean of the batch losses (the short batch of 2 weighs half as much).
    assert epoch_losses[0] > epoch_losses[1] > epoch_losses[2]
    for epoch, want in zip(batches, epoch_losses):
        assert abs(epoch[-1][1] - want) > 1e-3 * want
        assert abs(np.mean([loss for _, loss in epoch]) - want) > 1e-3 * want
    for reported, epoch in zip(history.history["loss"], batches):  # a known defect's wrong value: name it
        sizes, losses = zip(*epoch)
        assert_loss_not_a_plain_mean_of_batches(reported, np.repeat(losses, sizes), sizes)
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=1e-5)


# --- the forms §1.3's text allows beside the guide's code (issue 28) ----------------------------------------
#
# fit takes NumPy arrays (batch_size, 32 when left out) or a tf.data.Dataset; a finite Dataset without
# steps_per_epoch is run to its end every epoch, its partial last batch included (Keras 2 and 3 document it
# alike: "If x is a tf.data.Dataset, and steps_per_epoch is None, the epoch will run until the input dataset
# is exhausted"); validation_data is a tuple of arrays or a Dataset, evaluated over every example.
def sgd_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([SGD_KERNEL, SGD_BIAS])
    model.compile(optimizer=keras.optimizers.SGD(SGD_LR), loss="mse")
    return model


def test_fit_on_a_finite_dataset_with_a_partial_last_batch_takes_every_step_of_the_closed_form_each_epoch():
    model = sgd_model()
    after = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            after.append([w.astype(np.float64) for w in model.get_weights()])

    dataset = tf.data.Dataset.from_tensor_slices((SGD_X, SGD_Y)).batch(SGD_BATCH)   # 4, 4, 2 rows
    history = model.fit(dataset, epochs=SGD_EPOCHS, verbose=0, callbacks=[Record()])
    steps, batches = sgd_fit_by_hand()

    assert len(after) == len(steps) == SGD_EPOCHS * 3
    assert int(model.optimizer.iterations.numpy()) == SGD_EPOCHS * 3
    for index, ((kernel, bias), (want_kernel, want_bias)) in enumerate(zip(after, steps)):
        np.testing.assert_allclose(kernel, want_kernel, rtol=1e-5, atol=1e-6, err_msg=f"kernel after step {index}")
        np.testing.assert_allclose(bias, want_bias, rtol=1e-5, atol=1e-6, err_msg=f"bias after step {index}")
    for reported, epoch in zip(history.history["loss"], batches):
        sizes, losses = zip(*epoch)
        assert_loss_not_a_plain_mean_of_batches(reported, np.repeat(losses, sizes), sizes)
    np.testing.assert_allclose(history.history["loss"],
                               [sum(n * loss for n, loss in epoch) / len(SGD_X) for epoch in batches], rtol=1e-5)


def test_fit_on_numpy_with_batch_size_left_out_runs_batches_of_32():
    model, sizes = counting_model(), BatchSizes()
    model.fit(X, Y, epochs=2, callbacks=[sizes], verbose=0)
    assert sizes.per_epoch == [[32, 32, 6]] * 2


def test_validation_data_as_a_finite_dataset_is_evaluated_over_every_example_each_epoch():
    model = sgd_model()
    val_x, val_y = SGD_X[:7] * 2 + 1, SGD_Y[:7] - 1   # 7 examples: batches of 3, 3, 1
    by_hand = []

    class AtEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            kernel, bias = (w.astype(np.float64) for w in model.get_weights())
            by_hand.append(np.mean((val_x.astype(np.float64) @ kernel + bias - val_y) ** 2, axis=1))

    validation = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(3)
    history = model.fit(SGD_X, SGD_Y, batch_size=SGD_BATCH, epochs=2, shuffle=False, verbose=0,
                        validation_data=validation, callbacks=[AtEpochEnd()])

    assert len(history.history["val_loss"]) == len(by_hand) == 2
    for reported, per_example in zip(history.history["val_loss"], by_hand):
        assert abs(per_example[:6].mean() - per_example.mean()) > 1e-3 * per_example.mean()   # the last one counts
        assert_loss_not_a_plain_mean_of_batches(reported, per_example, [3, 3, 1])
        np.testing.assert_allclose(reported, per_example.mean(), rtol=1e-5)
