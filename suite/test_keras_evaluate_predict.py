"""Guide §1.4: evaluate(x, y, batch_size=32), evaluate(dataset, steps=30), predict(x, batch_size=32)."""

from __future__ import annotations

import numpy as np
import pytest

from reference import keras_evaluate_predict as reference
from suite.support.helpers import assert_loss_not_a_plain_mean_of_batches, keras, tf

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
    """The batches of one kind of run: evaluate's (on_test_batch_end, the default) or predict's
    (on_predict_batch_end); the other kind's hook is not counted."""

    def __init__(self, kind: str = "test"):
        super().__init__()
        self.kind, self.count = kind, 0

    def on_test_batch_end(self, batch, logs=None):
        self.count += self.kind == "test"

    def on_predict_batch_end(self, batch, logs=None):
        self.count += self.kind == "predict"


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


# --- the forms §1.4's text allows: "evaluate and predict can use NumPy data and tf.data.Dataset" ------------
#
# 2 x 2 forms (NumPy / Dataset; evaluate / predict), and the Dataset finite with a partial last batch (70
# samples in batches of 32: 32, 32, 6), where an implementation can lose or repeat examples. Without
# `steps`, evaluate and predict run a finite Dataset to its end, once (Keras 2 and 3 document it alike:
# "If x is a tf.data.Dataset and steps is None, evaluate/predict will run until the dataset is exhausted");
# with NumPy data, batch_size left out is 32.
def classifier() -> keras.Model:
    model = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(3, activation="softmax")])
    model.set_weights([CLS_W, CLS_B])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def classifier_closed_form(x, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities, per-sample loss and per-sample hit of the classifier CLS_W/CLS_B."""
    logits = x.astype(np.float64) @ CLS_W + CLS_B
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p, -np.log(p[np.arange(len(x)), labels]), (p.argmax(axis=1) == labels).astype(np.float64)


@pytest.mark.parametrize("elements", ["features", "features_and_labels"])
def test_predict_on_a_finite_dataset_with_a_partial_last_batch_predicts_every_example_once_in_order(elements):
    slices = X70 if elements == "features" else (X70, LABELS70)
    dataset = tf.data.Dataset.from_tensor_slices(slices).batch(32)
    batches = BatchCounter("predict")

    result = classifier().predict(dataset, verbose=0, callbacks=[batches])

    p, _, _ = classifier_closed_form(X70, LABELS70)
    assert isinstance(result, np.ndarray) and result.dtype == np.float32 and result.shape == (70, 3)
    assert batches.count == 3
    np.testing.assert_allclose(result, p, rtol=1e-5, atol=1e-6)   # row i is sample i's, each once
    assert len(np.unique(result.round(4), axis=0)) == 70


def test_evaluate_on_a_finite_dataset_with_a_partial_last_batch_weights_every_example_once():
    # The NumPy form of the same evaluation is the spec above (evaluate_numpy, batches of 32, 32, 6).
    batches = BatchCounter()
    dataset = tf.data.Dataset.from_tensor_slices((X70, LABELS70)).batch(32)
    result = classifier().evaluate(dataset, verbose=0, callbacks=[batches])

    _, per_sample_loss, per_sample_hit = classifier_closed_form(X70, LABELS70)
    assert batches.count == 3
    # Guards: the plain mean of the three batch means, and the data without the last batch or with it twice,
    # give other numbers.
    for values in (per_sample_loss, per_sample_hit):
        assert abs(np.mean([values[i:i + 32].mean() for i in (0, 32, 64)]) - values.mean()) > 1e-3
        assert abs(values[:64].mean() - values.mean()) > 1e-3
        assert abs(np.concatenate([values, values[64:]]).mean() - values.mean()) > 1e-3
    assert_loss_not_a_plain_mean_of_batches(result[0], per_sample_loss, [32, 32, 6])
    np.testing.assert_allclose(result[0], per_sample_loss.mean(), rtol=1e-5)
    np.testing.assert_allclose(result[1], per_sample_hit.mean(), rtol=0, atol=1e-6)


def test_evaluate_and_predict_on_numpy_with_batch_size_left_out_run_batches_of_32():
    model = classifier()
    test_batches, predict_batches = BatchCounter(), BatchCounter("predict")

    loss, accuracy = model.evaluate(X70, LABELS70, verbose=0, callbacks=[test_batches])
    predicted = model.predict(X70, verbose=0, callbacks=[predict_batches])

    p, per_sample_loss, per_sample_hit = classifier_closed_form(X70, LABELS70)
    assert (test_batches.count, predict_batches.count) == (3, 3)   # ceil(70 / 32)
    assert_loss_not_a_plain_mean_of_batches(loss, per_sample_loss, [32, 32, 6])
    np.testing.assert_allclose([loss, accuracy], [per_sample_loss.mean(), per_sample_hit.mean()],
                               rtol=1e-5, atol=1e-6)
    assert predicted.dtype == np.float32 and predicted.shape == (70, 3)
    np.testing.assert_allclose(predicted, p, rtol=1e-5, atol=1e-6)
