"""Guide §1.2: compile with tf.train.AdamOptimizer / RMSPropOptimizer(0.01); mse + mae; categorical CE +
categorical_accuracy. The TF1 optimizers left the TF 2 API; keras.optimizers.Adam / RMSprop replace them.
The text names more than the code runs: GradientDescentOptimizer (keras.optimizers.SGD), binary_crossentropy,
and losses and metrics given by name as well as by callable; each has its closed-form spec here too."""

from __future__ import annotations

import numpy as np
import pytest

from reference import keras_compile as reference
from suite.helpers import KERAS_VERSION, assert_loss_not_a_plain_mean_of_batches, keras, tf

pytestmark = pytest.mark.recipe("keras.compile")

LR = 0.01
GUIDE_TF_TRAIN_OPTIMIZERS = ["AdamOptimizer", "RMSPropOptimizer", "GradientDescentOptimizer"]

RNG = np.random.default_rng(7)
X = RNG.normal(size=(10, 3)).astype(np.float32)
W = RNG.normal(size=(3, 2)).astype(np.float32)
B = RNG.normal(size=2).astype(np.float32)
Y_REG = RNG.normal(size=(10, 2)).astype(np.float32)
# One-hot targets of 3 classes for the classifier, whose kernel/bias are W3/B3.
W3 = RNG.normal(size=(3, 3)).astype(np.float32)
B3 = RNG.normal(size=3).astype(np.float32)
Y_CLS = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, size=10)]


def dense(units: int, weights, activation=None) -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation=activation)])
    model.layers[-1].set_weights(weights)
    return model


def forward(weights) -> np.ndarray:
    return X.astype(np.float64) @ weights[0] + weights[1]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def mse_gradients() -> list[np.ndarray]:
    # d/dW of mean over batch and units of (XW + b - y)^2.
    residual = forward([W, B]) - Y_REG
    scale = 2.0 / residual.size
    return [scale * X.T @ residual, scale * residual.sum(axis=0)]


def softmax_ce_gradients() -> list[np.ndarray]:
    # d/dlogits of the batch-mean categorical cross-entropy of softmax(logits) is (p - y) / n.
    delta = (softmax(forward([W3, B3])) - Y_CLS) / len(X)
    return [X.T @ delta, delta.sum(axis=0)]


def one_step(model, y) -> tuple[float, list[np.ndarray]]:
    """One optimizer step on the whole batch: the loss fit reports for it (taken before the step, at the
    weights the model had) and how much the step moved each weight."""
    before = [w.astype(np.float64) for w in model.get_weights()]
    history = model.fit(X, y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    return history.history["loss"][0], [after - b for after, b in zip(model.get_weights(), before)]


def one_step_delta(model, y) -> list[np.ndarray]:
    """How much one optimizer step on the whole batch moved each weight."""
    return one_step(model, y)[1]


# First-step updates in closed form (moments start at 0, or TF1 RMSProp's mean square at 1).
def keras_adam_step(g):
    m, v = 0.1 * g, 0.001 * g ** 2
    return -LR * np.sqrt(1 - 0.999) / (1 - 0.9) * m / (np.sqrt(v) + 1e-7)


def keras_rmsprop_step(g):
    return -LR * g / np.sqrt(0.1 * g ** 2 + 1e-7)


def tf1_adam_step(g):
    m, v = 0.1 * g, 0.001 * g ** 2
    return -LR * np.sqrt(1 - 0.999) / (1 - 0.9) * m / (np.sqrt(v) + 1e-8)


def tf1_rmsprop_step(g):
    return -LR * g / np.sqrt(0.9 * 1.0 + 0.1 * g ** 2 + 1e-10)


def test_tf_train_optimizers_are_gone_with_attribute_error():
    for name in GUIDE_TF_TRAIN_OPTIMIZERS:
        with pytest.raises(AttributeError):
            getattr(tf.train, name)
        assert hasattr(tf.compat.v1.train, name), name  # moved to compat.v1, not lost


def refused_by_compile(tf1_optimizer, tf1_step):
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        dense(2, [W, B]).compile(optimizer=tf1_optimizer, loss="mse", metrics=["mae"])


def wrapped_and_stepping_by_the_tf1_rule(tf1_optimizer, tf1_step):
    model = dense(2, [W, B])
    model.compile(optimizer=tf1_optimizer, loss="mse", metrics=["mae"])
    assert type(model.optimizer).__name__ == "TFOptimizer"
    assert model.optimizer.optimizer is tf1_optimizer
    for got, g in zip(one_step_delta(model, Y_REG), mse_gradients()):
        np.testing.assert_allclose(got, tf1_step(g), rtol=1e-3, atol=1e-6)


# What compile() does with a tf.compat.v1.train optimizer, by Keras major version: Keras 3
# (keras/src/optimizers/__init__.py get()) only knows Keras optimizers; Keras 2 wraps a TF1 optimizer in
# optimizer_v1.TFOptimizer, which then applies the TF1 update rule.
TF1_OPTIMIZER_IN_COMPILE = {3: refused_by_compile, 2: wrapped_and_stepping_by_the_tf1_rule}[KERAS_VERSION[0]]


@pytest.mark.parametrize("expected", [TF1_OPTIMIZER_IN_COMPILE], ids=lambda check: check.__name__)
@pytest.mark.parametrize("name, tf1_step", [("AdamOptimizer", tf1_adam_step),
                                            ("RMSPropOptimizer", tf1_rmsprop_step)])
def test_compile_refuses_tf_compat_v1_optimizer_on_keras3_and_wraps_it_on_keras2(name, tf1_step, expected):
    expected(getattr(tf.compat.v1.train, name)(LR), tf1_step)


def test_adam_replacement_has_learning_rate_001_and_takes_adam_steps():
    model = reference.compile_for_regression(dense(2, [W, B]))
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert np.float32(np.asarray(model.optimizer.learning_rate)) == np.float32(LR)
    for got, g in zip(one_step_delta(model, Y_REG), mse_gradients()):
        np.testing.assert_allclose(got, keras_adam_step(g), rtol=1e-3, atol=1e-6)


def test_rmsprop_replacement_has_learning_rate_001_and_takes_rmsprop_steps():
    model = reference.compile_for_classification(dense(3, [W3, B3], activation="softmax"))
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert np.float32(np.asarray(model.optimizer.learning_rate)) == np.float32(LR)
    for got, g in zip(one_step_delta(model, Y_CLS), softmax_ce_gradients()):
        np.testing.assert_allclose(got, keras_rmsprop_step(g), rtol=1e-3, atol=1e-6)


# --- every step of Adam and RMSprop, against their documented update rules ---------------------------
#
# The rules and defaults as each Keras documents and implements them. They do not differ between the
# versions the matrix runs, so they are one rule here, not data by version: read in the source of keras
# 2.12.0 (keras/optimizers/), 2.15.0 (keras/src/optimizers/), tf_keras 2.21.0 (tf_keras/src/optimizers/),
# Keras 3.0.0 (git tag v3.0.0, keras/optimizers/) and 3.15.1 (keras/src/optimizers/), and these specs
# pass on TF 2.12.1, 2.15.1, 2.16.2 and 2.21.0 (Keras 3.15.1 and tf_keras 2.21.0):
# - Adam: m <- m + (1 - beta_1)(g - m); v <- v + (1 - beta_2)(g^2 - v);
#   w <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon). The docstring: epsilon
#   is "epsilon hat" of Kingma & Ba (the formula before their section 2.1), added OUTSIDE the root and
#   not bias-corrected (tf_keras >= 2.16 adds an opt-in adaptive_epsilon=False that keeps it so).
# - RMSprop: v <- rho v + (1 - rho) g^2; w <- w - lr g / sqrt(v + epsilon): epsilon INSIDE the root.
# The TF1 optimizers differ (tested above): AdamOptimizer's epsilon is 1e-8, RMSPropOptimizer starts its
# mean square at 1.0 and uses epsilon 1e-10.
ADAM_DEFAULTS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
RMSPROP_DEFAULTS = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7}
# One row of gradients per step: sizes from 1e-6 (where epsilon dominates) to 4, both signs, a sign
# change in every column and a zero, so momentum, beta_1, beta_2, rho and epsilon all shape the path.
STEP_GRADIENTS = np.array([
    [0.5, -2.0, 1e-6, 3.0],
    [-3.0, 0.1, 1e-6, 2.0],
    [1.0, 1.0, -2e-6, -4.0],
    [0.25, -0.5, 0.0, 1e-3],
    [-0.75, 4.0, 5e-6, -0.5],
], dtype=np.float32)


def gradient_is_the_target(y_true, y_pred):
    """Loss sum(y_true * y_pred): on the input 1.0, the kernel's gradient is exactly y_true."""
    return tf.reduce_sum(y_true * y_pred, axis=-1)


def weights_after_each_step(optimizer) -> np.ndarray:
    """fit one epoch, batch 1, over STEP_GRADIENTS as targets: the kernel after every step."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(STEP_GRADIENTS.shape[1], use_bias=False,
                                                                    kernel_initializer="zeros")])
    model.compile(optimizer=optimizer, loss=gradient_is_the_target)
    after = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            after.append(np.array(model.layers[0].get_weights()[0][0], dtype=np.float64))

    x = np.ones((len(STEP_GRADIENTS), 1), np.float32)
    model.fit(x, STEP_GRADIENTS, batch_size=1, epochs=1, shuffle=False, verbose=0, callbacks=[Record()])
    return np.array(after)


def adam_path(gradients, lr, beta_1, beta_2, epsilon) -> np.ndarray:
    w = m = v = np.zeros(gradients.shape[1])
    path = []
    for t, g in enumerate(gradients.astype(np.float64), start=1):
        m = m + (1 - beta_1) * (g - m)
        v = v + (1 - beta_2) * (g * g - v)
        w = w - lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t) * m / (np.sqrt(v) + epsilon)
        path.append(w)
    return np.array(path)


def rmsprop_path(gradients, lr, rho, momentum, epsilon) -> np.ndarray:
    assert momentum == 0.0  # the guide's RMSprop: no momentum term
    w = v = np.zeros(gradients.shape[1])
    path = []
    for g in gradients.astype(np.float64):
        v = rho * v + (1 - rho) * g * g
        w = w - lr * g / np.sqrt(v + epsilon)
        path.append(w)
    return np.array(path)


# float32 arithmetic against the float64 rule; the path moves by about LR per step.
PATH_RTOL, PATH_ATOL = 1e-5, 1e-7


def test_adam_takes_every_step_by_its_documented_rule_and_defaults():
    got = weights_after_each_step(keras.optimizers.Adam(LR))
    want = adam_path(STEP_GRADIENTS, LR, **ADAM_DEFAULTS)
    # Guard: the steps differ from sign(g)-sized first steps, so beta_1/beta_2 and epsilon are visible.
    assert np.abs(np.diff(want, axis=0, prepend=0) + LR * np.sign(STEP_GRADIENTS)).max() > 100 * PATH_ATOL
    np.testing.assert_allclose(got, want, rtol=PATH_RTOL, atol=PATH_ATOL)


def test_rmsprop_takes_every_step_by_its_documented_rule_and_defaults():
    got = weights_after_each_step(keras.optimizers.RMSprop(LR))
    want = rmsprop_path(STEP_GRADIENTS, LR, **RMSPROP_DEFAULTS)
    np.testing.assert_allclose(got, want, rtol=PATH_RTOL, atol=PATH_ATOL)


def test_mse_loss_and_mae_metric_are_reported_in_closed_form():
    model = reference.compile_for_regression(dense(2, [W, B]))
    # batch_size 4 over 10 samples: batches of 4, 4, 2, so the result must weight batches by size.
    result = model.evaluate(X, Y_REG, batch_size=4, verbose=0, return_dict=True)
    residual = forward([W, B]) - Y_REG
    assert sorted(result) == ["loss", "mae"]
    assert_loss_not_a_plain_mean_of_batches(result["loss"], np.mean(residual ** 2, axis=1), [4, 4, 2])
    np.testing.assert_allclose(result["loss"], np.mean(residual ** 2), rtol=1e-5)
    np.testing.assert_allclose(result["mae"], np.mean(np.abs(residual)), rtol=1e-5)


def assert_categorical_closed_form(result: dict, batch_sizes: list[int]) -> None:
    """evaluate's categorical cross-entropy and categorical_accuracy of the softmax classifier W3/B3."""
    p = softmax(forward([W3, B3]))
    accuracy = np.mean(p.argmax(axis=1) == Y_CLS.argmax(axis=1))
    assert 0 < accuracy < 1  # the data leaves both right and wrong predictions
    assert sorted(result) == ["categorical_accuracy", "loss"]
    assert_loss_not_a_plain_mean_of_batches(result["loss"], -np.sum(Y_CLS * np.log(p), axis=1), batch_sizes)
    np.testing.assert_allclose(result["loss"], -np.mean(np.sum(Y_CLS * np.log(p), axis=1)), rtol=1e-5)
    np.testing.assert_allclose(result["categorical_accuracy"], accuracy, rtol=0, atol=1e-7)


def test_categorical_crossentropy_and_accuracy_are_reported_in_closed_form():
    model = reference.compile_for_classification(dense(3, [W3, B3], activation="softmax"))
    result = model.evaluate(X, Y_CLS, batch_size=4, verbose=0, return_dict=True)
    assert_categorical_closed_form(result, [4, 4, 2])


# --- what the guide's text names beside its code ----------------------------------------------------------
#
# "loss: ... mean squared error (mse), categorical_crossentropy and binary_crossentropy. Loss functions are
# given by name or as a callable from tf.keras.losses"; "metrics: string names or callables from
# tf.keras.metrics"; "tf.train.GradientDescentOptimizer". The specs below take the loss over one batch, or
# two equal ones (5 and 5): an uneven last batch would meet the catalogued defect of Keras 3.0-3.1 (the loss
# averaged over batches unweighted), which the specs above already name; here the loss itself is under test.
EVEN_BATCH = 5
# A plain SGD step moves each weight by -rate * gradient: a large rate keeps the step far above the float32
# rounding of the weights, so the gradient is read to ~1e-6.
STEP_LR = 0.5
BIN_RNG = np.random.default_rng(8)
W_BIN = (BIN_RNG.normal(size=(3, 2)) / 2).astype(np.float32)   # logits within about ±3
B_BIN = BIN_RNG.normal(size=2).astype(np.float32)
Y_BIN = BIN_RNG.integers(0, 2, size=(10, 2)).astype(np.float32)   # two independent binary labels per sample


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def binary_crossentropy_closed_form() -> tuple[np.ndarray, list[np.ndarray]]:
    """Per-sample binary cross-entropy of sigmoid(X W + b), the mean over its outputs (Keras's documented
    `mean(-(y log p + (1 - y) log(1 - p)), axis=-1)`), and the gradients of its batch mean for W and b: through
    the sigmoid, d/dlogits = (p - y) / (samples * outputs)."""
    p = sigmoid(forward([W_BIN, B_BIN]))
    assert 0.01 < p.min() and p.max() < 0.99  # far from Keras's 1e-7 clipping, so no clip enters the value
    per_sample = -np.mean(Y_BIN * np.log(p) + (1 - Y_BIN) * np.log(1 - p), axis=1)
    delta = (p - Y_BIN) / Y_BIN.size
    return per_sample, [X.T @ delta, delta.sum(axis=0)]


@pytest.mark.parametrize("loss", ["binary_crossentropy", keras.losses.binary_crossentropy],
                         ids=["by_name", "by_callable"])
def test_binary_crossentropy_reports_its_closed_form_and_steps_down_its_gradient(loss):
    model = dense(2, [W_BIN, B_BIN], activation="sigmoid")
    model.compile(optimizer=keras.optimizers.SGD(STEP_LR), loss=loss)
    per_sample, gradients = binary_crossentropy_closed_form()

    reported, steps = one_step(model, Y_BIN)   # one batch of all 10 samples: no uneven batch

    np.testing.assert_allclose(reported, per_sample.mean(), rtol=1e-5)
    for index, (got, g) in enumerate(zip(steps, gradients)):
        np.testing.assert_allclose(got, -STEP_LR * g, rtol=1e-4, atol=1e-6, err_msg=f"weight {index}")


def test_categorical_crossentropy_and_categorical_accuracy_by_name_are_the_same_closed_form():
    model = dense(3, [W3, B3], activation="softmax")
    model.compile(optimizer=keras.optimizers.RMSprop(LR), loss="categorical_crossentropy",
                  metrics=["categorical_accuracy"])
    result = model.evaluate(X, Y_CLS, batch_size=EVEN_BATCH, verbose=0, return_dict=True)
    assert_categorical_closed_form(result, [EVEN_BATCH, EVEN_BATCH])


def test_sgd_replacement_of_gradient_descent_optimizer_steps_by_rate_times_gradient():
    # tf.train.GradientDescentOptimizer(0.01) became keras.optimizers.SGD(0.01): w <- w - lr * g, with
    # momentum 0 by default, so every step depends on its own gradient only.
    optimizer = keras.optimizers.SGD(LR)
    assert np.float32(np.asarray(optimizer.learning_rate)) == np.float32(LR)
    got = weights_after_each_step(optimizer)
    want = -LR * np.cumsum(STEP_GRADIENTS.astype(np.float64), axis=0)
    np.testing.assert_allclose(got, want, rtol=PATH_RTOL, atol=PATH_ATOL)
