"""Guide §1.4: evaluate(x, y, batch_size=32), evaluate(dataset, steps=30), predict(x, batch_size=32)."""

from __future__ import annotations

import numpy as np
import pytest

from reference import keras_evaluate_predict as reference
from suite.helpers import assert_loss_not_a_plain_mean_of_batches, keras, tf

pytestmark = pytest.mark.recipe("keras.evaluate_predict")

RNG = np.random.default_rng(29)
DIM, UNITS = 4, 2
W = RNG.normal(size=(DIM, UNITS)).astype(np.float32)
B = RNG.normal(size=UNITS).astype(np.float32)


def data(n: int):
    x = RNG.normal(size=(n, DIM)).astype(np.float32)
    return x, RNG.normal(size=(n, UNITS)).astype(np.float32)


X70, Y70 = data(70)     # batches of 32, 32, 6
X100, Y100 = data(100)  # batches of 32, 32, 32, 4
HIDDEN_W, HIDDEN_B = RNG.normal(size=(DIM, 16)).astype(np.float32), RNG.normal(size=16).astype(np.float32)
OUT_W, OUT_B = RNG.normal(size=(16, 3)).astype(np.float32), RNG.normal(size=3).astype(np.float32)


def linear_model() -> keras.Model:
    model = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(UNITS)])
    model.layers[-1].set_weights([W, B])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def residual(x, y):
    return x.astype(np.float64) @ W + B - y


class BatchCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.count = 0

    def on_test_batch_end(self, batch, logs=None):
        self.count += 1


def test_evaluate_numpy_equals_loss_and_metric_computed_by_hand():
    result = reference.evaluate_numpy(linear_model(), X70, Y70)
    r = residual(X70, Y70)
    assert_loss_not_a_plain_mean_of_batches(result[0], np.mean(r ** 2, axis=1), [32, 32, 6])
    np.testing.assert_allclose(result, [np.mean(r ** 2), np.mean(np.abs(r))], rtol=1e-5)


def test_evaluate_dataset_with_steps_30_consumes_exactly_30_batches():
    dataset = tf.data.Dataset.from_tensor_slices((X100, Y100)).batch(32).repeat()
    batches = BatchCounter()
    result = reference.evaluate_dataset(linear_model(), dataset, callbacks=[batches])
    assert batches.count == 30
    # 30 batches of the repeated 32, 32, 32, 4 cycle: seven whole passes, then samples 0..63.
    # (29 or 31 batches would average other samples.)
    r = np.concatenate([residual(X100, Y100)] * 7 + [residual(X100[:64], Y100[:64])])
    assert_loss_not_a_plain_mean_of_batches(result[0], np.mean(r ** 2, axis=1), [32, 32, 32, 4] * 7 + [32, 32])
    np.testing.assert_allclose(result, [np.mean(r ** 2), np.mean(np.abs(r))], rtol=1e-5)


def test_predict_equals_model_called_in_inference_mode_in_order():
    model = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3)])
    model.set_weights([HIDDEN_W, HIDDEN_B, OUT_W, OUT_B])
    result = reference.predict(model, X70)
    np.testing.assert_allclose(result, model(X70, training=False).numpy(), rtol=1e-5, atol=1e-6)
    # Row i is the prediction for sample i, without dropout.
    by_hand = np.maximum(X70.astype(np.float64) @ HIDDEN_W + HIDDEN_B, 0) @ OUT_W + OUT_B
    np.testing.assert_allclose(result, by_hand, rtol=1e-4, atol=1e-5)
    assert len(np.unique(result.round(3), axis=0)) == len(X70)  # every row distinct: order matters


CLS_W, CLS_B = RNG.normal(size=(DIM, 3)).astype(np.float32), RNG.normal(size=3).astype(np.float32)
LABELS70 = RNG.integers(0, 3, size=70).astype(np.int64)


def test_evaluate_loss_and_accuracy_are_means_over_every_sample_including_the_short_last_batch():
    model = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(3, activation="softmax")])
    model.set_weights([CLS_W, CLS_B])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    loss, accuracy = reference.evaluate_numpy(model, X70, LABELS70)   # batches of 32, 32, 6

    logits = X70.astype(np.float64) @ CLS_W + CLS_B
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    per_sample_loss = -np.log(p[np.arange(70), LABELS70])
    per_sample_hit = (p.argmax(axis=1) == LABELS70).astype(np.float64)
    # Guards: the mean of the three batch means, and the last batch alone, give other numbers.
    for values in (per_sample_loss, per_sample_hit):
        batch_means = [values[i:i + 32].mean() for i in (0, 32, 64)]
        assert abs(np.mean(batch_means) - values.mean()) > 1e-3 and abs(batch_means[-1] - values.mean()) > 1e-3
    assert_loss_not_a_plain_mean_of_batches(loss, per_sample_loss, [32, 32, 6])
    np.testing.assert_allclose(loss, per_sample_loss.mean(), rtol=1e-5)
    np.testing.assert_allclose(accuracy, per_sample_hit.mean(), rtol=0, atol=1e-6)
