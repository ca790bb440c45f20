"""Guide §1.2: compile with tf.train.AdamOptimizer / RMSPropOptimizer(0.01); mse + mae; categorical CE +
categorical_accuracy. The TF1 optimizers left the TF 2 API; keras.optimizers.Adam / RMSprop replace them.
The text names more than the code runs: GradientDescentOptimizer (keras.optimizers.SGD), binary_crossentropy,
and losses and metrics given by name as well as by callable; each has its closed-form spec here too."""

from __future__ import annotations

import numpy as np
import pytest

from reference import keras_compile as reference
from suite.support.helpers import KERAS_VERSION, assert_loss_not_a_plain_mean_of_batches, keras, tf

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


# --- every form of each loss, metric and optimizer the guide names (issue 28) ------------------------------
#
# "Loss functions are given by name or as a callable from tf.keras.losses": the forms are the string names
# (the guide's 'mse', the function's own name), the function, and the Loss class (instance), called directly
# or given to compile. Inside a model whose last layer is a softmax or sigmoid, Keras recovers the logits
# from the output and computes the loss from them (its backend ignores from_logits=False when the output
# carries _keras_logits), so a loss wrong on plain probabilities passes every spec that goes through such a
# model: here the loss is called on explicit probability arrays, and compiled into a model whose output is
# its input (a Dense with identity kernel, no activation), and both its value and its gradient are checked
# against the closed form. The crossentropies also with from_logits=True on explicit logits.
#
# The closed forms, as Keras 2 (keras/backend.py), tf_keras and Keras 3 (keras/src/backend/tensorflow/nn.py)
# document and implement them alike (probabilities within [0.05, 0.9], far from the 1e-7 clipping):
# - mean_squared_error: mean((y - p)^2, axis=-1); d/dp = 2 (p - y) / d.
# - categorical_crossentropy on probabilities: p is scaled to sum to 1 over the last axis, then
#   -sum(y log p); d/dp_k = -y_k / p_k + 1 / sum(p) (the rows here sum to 1 up to float32 rounding).
#   From logits z: -sum(y log softmax(z)); d/dz = softmax(z) - y.
# - sparse_categorical_crossentropy: the same with the one-hot of the integer label.
# - binary_crossentropy: mean(-(y log p + (1 - y) log(1 - p)), axis=-1); d/dp = (p - y) / (p (1 - p) d).
#   From logits: the same of sigmoid(z); d/dz = (sigmoid(z) - y) / d.
# A Loss instance reduces by the mean over the batch ("sum_over_batch_size"), the functions return one value
# per sample; compile reports the mean over the samples.
FORMS_RNG = np.random.default_rng(28)
N_FORMS, CLASSES = 6, 3


def _probabilities(shape) -> np.ndarray:
    p = FORMS_RNG.uniform(0.1, 1.0, size=shape)
    return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)


P_CAT = _probabilities((N_FORMS, CLASSES))
assert 0.05 < P_CAT.min() and P_CAT.max() < 0.9
LABELS_CAT = np.array([0, 1, 2, 2, 1, 0], np.int64)
Y_CAT = np.eye(CLASSES, dtype=np.float32)[LABELS_CAT]
Z_CAT = FORMS_RNG.normal(size=(N_FORMS, CLASSES)).astype(np.float32)
P_BIN = FORMS_RNG.uniform(0.05, 0.9, size=(N_FORMS, 2)).astype(np.float32)
Y_BIN_FORMS = np.array([[1, 0], [0, 0], [1, 1], [0, 1], [1, 0], [0, 1]], np.float32)
Z_BIN = FORMS_RNG.normal(size=(N_FORMS, 2)).astype(np.float32)
P_REG = FORMS_RNG.uniform(0.05, 0.9, size=(N_FORMS, 2)).astype(np.float32)
Y_REG_FORMS = FORMS_RNG.normal(size=(N_FORMS, 2)).astype(np.float32)


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def mse_closed_form(y, p):
    y, p = _f64(y, p)
    return np.mean((y - p) ** 2, axis=-1), 2 * (p - y) / p.shape[-1]


def categorical_closed_form(y, p):
    y, p = _f64(y, p)
    s = p.sum(axis=-1, keepdims=True)
    return -np.sum(y * np.log(p / s), axis=-1), -y / p + 1 / s


def categorical_logits_closed_form(y, z):
    y, z = _f64(y, z)
    return -np.sum(y * np.log(softmax(z)), axis=-1), softmax(z) - y


def binary_closed_form(y, p):
    y, p = _f64(y, p)
    d = p.shape[-1]
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1), (p - y) / (p * (1 - p) * d)


def binary_logits_closed_form(y, z):
    y, z = _f64(y, z)
    value, _ = binary_closed_form(y, sigmoid(z))
    return value, (sigmoid(z) - y) / z.shape[-1]


# (loss, logits): the targets, the explicit outputs and the closed form.
LOSS_CASES = {
    ("mse", False): (Y_REG_FORMS, P_REG, mse_closed_form),
    ("categorical_crossentropy", False): (Y_CAT, P_CAT, categorical_closed_form),
    ("categorical_crossentropy", True): (Y_CAT, Z_CAT, categorical_logits_closed_form),
    ("sparse_categorical_crossentropy", False): (LABELS_CAT, P_CAT,
                                                 lambda y, p: categorical_closed_form(Y_CAT, p)),
    ("sparse_categorical_crossentropy", True): (LABELS_CAT, Z_CAT,
                                                lambda y, z: categorical_logits_closed_form(Y_CAT, z)),
    ("binary_crossentropy", False): (Y_BIN_FORMS, P_BIN, binary_closed_form),
    ("binary_crossentropy", True): (Y_BIN_FORMS, Z_BIN, binary_logits_closed_form),
}
# Each loss by each of its forms: the names Keras documents for it (keras.losses.get resolves them; compile
# takes them), the function of tf.keras.losses and its Loss class. The function of mean squared error is
# exported as tf.keras.losses.mse (and mean absolute error's as tf.keras.metrics.mae) by Keras 2, tf_keras and
# the tf.keras of Keras 3 (keras/api/_tf_keras, read in 3.15.1), whose plain keras.losses exports the long name
# instead; whichever of the two this tf.keras exports is the function (the long name always resolves by get()).
MSE_FUNCTION = getattr(keras.losses, "mse", None) or keras.losses.mean_squared_error
MAE_FUNCTION = getattr(keras.metrics, "mae", None) or keras.metrics.mean_absolute_error
LOSS_FORMS = {
    "mse": ["mse", "mean_squared_error", "function", "class"],
    "categorical_crossentropy": ["categorical_crossentropy", "function", "class"],
    "sparse_categorical_crossentropy": ["sparse_categorical_crossentropy", "function", "class"],
    "binary_crossentropy": ["binary_crossentropy", "function", "class"],
}
LOSS_OBJECTS = {
    "mse": (lambda: MSE_FUNCTION, keras.losses.MeanSquaredError),
    "categorical_crossentropy": (lambda: keras.losses.categorical_crossentropy,
                                 keras.losses.CategoricalCrossentropy),
    "sparse_categorical_crossentropy": (lambda: keras.losses.sparse_categorical_crossentropy,
                                        keras.losses.SparseCategoricalCrossentropy),
    "binary_crossentropy": (lambda: keras.losses.binary_crossentropy, keras.losses.BinaryCrossentropy),
}
LOSS_FORM_PARAMS = [pytest.param(loss, form, logits, id=f"{loss}-{form}{'-from_logits' if logits else ''}")
                    for (loss, logits) in LOSS_CASES for form in LOSS_FORMS[loss]]


def loss_in_form(loss: str, form: str, logits: bool):
    """(the loss object in this form, whether it reduces to the batch mean itself)."""
    function, cls = LOSS_OBJECTS[loss]
    if form == "class":
        return (cls(from_logits=True) if logits else cls()), True
    fn = function() if form == "function" else keras.losses.get(form)
    if logits:
        return (lambda y, p: fn(y, p, from_logits=True)), False
    return fn, False


@pytest.mark.parametrize("loss, form, logits", LOSS_FORM_PARAMS)
def test_each_loss_in_each_form_called_directly_on_explicit_arrays_gives_the_closed_form_and_its_gradient(
        loss, form, logits):
    y, outputs, closed_form = LOSS_CASES[(loss, logits)]
    per_sample, gradient = closed_form(y, outputs)
    fn, reduces = loss_in_form(loss, form, logits)
    variable = tf.Variable(outputs)
    with tf.GradientTape() as tape:
        value = fn(tf.constant(y), variable)
        total = value if reduces else tf.reduce_sum(value)
    got_gradient = tape.gradient(total, variable).numpy()
    assert value.dtype == tf.float32 and got_gradient.dtype == np.float32
    if reduces:
        assert tuple(value.shape) == ()
        np.testing.assert_allclose(value.numpy(), per_sample.mean(), rtol=1e-5)
        np.testing.assert_allclose(got_gradient, gradient / N_FORMS, rtol=1e-4, atol=1e-7)
    else:
        assert tuple(value.shape) == (N_FORMS,)
        np.testing.assert_allclose(value.numpy(), per_sample, rtol=1e-5)
        np.testing.assert_allclose(got_gradient, gradient, rtol=1e-4, atol=1e-7)


def passthrough_model(width: int) -> keras.Model:
    """A model whose output is its input: one Dense with identity kernel, no bias, no activation."""
    model = keras.Sequential([keras.Input((width,)), keras.layers.Dense(width, use_bias=False)])
    model.layers[-1].set_weights([np.eye(width, dtype=np.float32)])
    return model


# Compiled: every form on plain outputs, and the Loss classes with from_logits=True on logits (a string or
# function cannot carry from_logits into compile).
COMPILED_LOSS_FORM_PARAMS = [param for param in LOSS_FORM_PARAMS
                             if not param.values[2] or param.values[1] == "class"]


@pytest.mark.parametrize("loss, form, logits", COMPILED_LOSS_FORM_PARAMS)
def test_each_loss_in_each_form_compiled_reports_the_closed_form_of_plain_outputs_and_steps_down_its_gradient(
        loss, form, logits):
    y, outputs, closed_form = LOSS_CASES[(loss, logits)]
    per_sample, gradient = closed_form(y, outputs)
    given = loss_in_form(loss, form, logits)[0] if form in ("function", "class") else form   # a string as such
    model = passthrough_model(outputs.shape[1])
    model.compile(optimizer=keras.optimizers.SGD(STEP_LR), loss=given)

    reported, steps = one_step_on(model, outputs, y)

    np.testing.assert_allclose(reported, per_sample.mean(), rtol=1e-5)
    # The output is x @ K with x = outputs: d(mean loss)/dK = x^T (d/doutputs) / n.
    np.testing.assert_allclose(steps[0], -STEP_LR * outputs.T.astype(np.float64) @ gradient / N_FORMS,
                               rtol=1e-4, atol=1e-6)


def one_step_on(model, x, y) -> tuple[float, list[np.ndarray]]:
    """one_step on other data: the loss fit reports for one step on the whole batch, and the weights' moves."""
    before = [w.astype(np.float64) for w in model.get_weights()]
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return history.history["loss"][0], [after - b for after, b in zip(model.get_weights(), before)]


# "metrics: string names or callables from tf.keras.metrics". 'accuracy' by name is Keras's shorthand: the
# binary, categorical or sparse categorical accuracy, chosen by the shapes of targets and outputs (Keras 2
# compile_utils.get_metric_function, Keras 3 trainers/compile_utils.get_metric, alike): one output ->
# binary (threshold 0.5), integer labels of one dimension fewer -> sparse, otherwise categorical.
P_ONE = FORMS_RNG.uniform(0.05, 0.95, size=(N_FORMS, 1)).astype(np.float32)
Y_ONE = np.array([[1], [0], [1], [1], [0], [0]], np.float32)


def mae_closed_form():
    return np.mean(np.abs(np.asarray(Y_REG_FORMS, np.float64) - P_REG))


def hits(y_labels, p):
    return np.mean(np.argmax(p, axis=-1) == y_labels)


METRIC_CASES = {
    # id: (the metric in that form, the loss compiled beside it, targets, outputs, closed form)
    "mae-by_name": (lambda: "mae", "mse", Y_REG_FORMS, P_REG, mae_closed_form),
    "mean_absolute_error-by_name": (lambda: "mean_absolute_error", "mse", Y_REG_FORMS, P_REG, mae_closed_form),
    "mae-function": (lambda: MAE_FUNCTION, "mse", Y_REG_FORMS, P_REG, mae_closed_form),
    "mae-class": (lambda: keras.metrics.MeanAbsoluteError(), "mse", Y_REG_FORMS, P_REG, mae_closed_form),
    "categorical_accuracy-by_name": (lambda: "categorical_accuracy", "categorical_crossentropy", Y_CAT, P_CAT,
                                     lambda: hits(LABELS_CAT, P_CAT)),
    "categorical_accuracy-function": (lambda: keras.metrics.categorical_accuracy, "categorical_crossentropy",
                                      Y_CAT, P_CAT, lambda: hits(LABELS_CAT, P_CAT)),
    "categorical_accuracy-class": (lambda: keras.metrics.CategoricalAccuracy(), "categorical_crossentropy",
                                   Y_CAT, P_CAT, lambda: hits(LABELS_CAT, P_CAT)),
    "accuracy-categorical_targets": (lambda: "accuracy", "categorical_crossentropy", Y_CAT, P_CAT,
                                     lambda: hits(LABELS_CAT, P_CAT)),
    "accuracy-sparse_targets": (lambda: "accuracy", "sparse_categorical_crossentropy", LABELS_CAT, P_CAT,
                                lambda: hits(LABELS_CAT, P_CAT)),
    "accuracy-one_output": (lambda: "accuracy", "binary_crossentropy", Y_ONE, P_ONE,
                            lambda: np.mean((P_ONE > 0.5) == Y_ONE)),
}


@pytest.mark.parametrize("case", list(METRIC_CASES))
def test_each_metric_by_name_and_as_callable_reports_its_closed_form_of_plain_outputs(case):
    make, loss, y, outputs, closed_form = METRIC_CASES[case]
    expected = closed_form()
    assert 0 < expected < 1
    model = passthrough_model(outputs.shape[1])
    model.compile(optimizer="sgd", loss=loss, metrics=[make()])
    # Two batches (4 and 2 samples): the metric is the mean over every sample.
    _, metric = model.evaluate(outputs, y, batch_size=4, verbose=0)
    np.testing.assert_allclose(metric, expected, rtol=1e-6, atol=1e-7)


# Optimizers by name ('adam', 'rmsprop', 'sgd' resolve to the Keras class with every argument at its
# default) and as instances with the arguments left out: the defaults each Keras documents (the class
# signatures; alike in Keras 2.12-2.15, tf_keras and Keras 3.0-3.15): Adam and RMSprop learning_rate 0.001,
# SGD 0.01; the other defaults as above (ADAM_DEFAULTS, RMSPROP_DEFAULTS; SGD momentum 0).
OPTIMIZER_FORMS = {
    "adam-by_name": (lambda: "adam", "Adam", 0.001),
    "Adam-instance_with_defaults": (lambda: keras.optimizers.Adam(), "Adam", 0.001),
    "rmsprop-by_name": (lambda: "rmsprop", "RMSprop", 0.001),
    "RMSprop-instance_with_defaults": (lambda: keras.optimizers.RMSprop(), "RMSprop", 0.001),
    "sgd-by_name": (lambda: "sgd", "SGD", 0.01),
    "SGD-instance_with_defaults": (lambda: keras.optimizers.SGD(), "SGD", 0.01),
}


def sgd_path(gradients, lr) -> np.ndarray:
    return -lr * np.cumsum(gradients.astype(np.float64), axis=0)


@pytest.mark.parametrize("form", list(OPTIMIZER_FORMS))
def test_each_optimizer_by_name_and_as_instance_with_defaults_left_out_steps_by_its_documented_defaults(form):
    make, class_name, lr = OPTIMIZER_FORMS[form]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(STEP_GRADIENTS.shape[1], use_bias=False,
                                                                    kernel_initializer="zeros")])
    model.compile(optimizer=make(), loss=gradient_is_the_target)
    assert isinstance(model.optimizer, getattr(keras.optimizers, class_name)), type(model.optimizer)
    assert np.float32(np.asarray(model.optimizer.learning_rate)) == np.float32(lr)
    after = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            after.append(np.array(model.layers[0].get_weights()[0][0], dtype=np.float64))

    model.fit(np.ones((len(STEP_GRADIENTS), 1), np.float32), STEP_GRADIENTS, batch_size=1, epochs=1,
              shuffle=False, verbose=0, callbacks=[Record()])
    want = {"Adam": lambda: adam_path(STEP_GRADIENTS, lr, **ADAM_DEFAULTS),
            "RMSprop": lambda: rmsprop_path(STEP_GRADIENTS, lr, **RMSPROP_DEFAULTS),
            "SGD": lambda: sgd_path(STEP_GRADIENTS, lr)}[class_name]()
    np.testing.assert_allclose(np.array(after), want, rtol=PATH_RTOL, atol=PATH_ATOL)
