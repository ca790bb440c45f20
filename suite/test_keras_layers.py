"""Guide §1.1: layer arguments: activation, kernel/bias regularizers, kernel/bias initializers."""

from __future__ import annotations

import numpy as np
import pytest

from reference import keras_layers as reference
from suite.support.helpers import assert_loss_not_a_plain_mean_of_batches, keras, tf

pytestmark = pytest.mark.recipe("keras.layers")

RNG = np.random.default_rng(20191001)
X = RNG.normal(size=(8, 16)).astype(np.float32)
W = RNG.normal(size=(16, 64)).astype(np.float32)
B = RNG.normal(size=64).astype(np.float32)


def built(layer, fan_in: int = 16, weights=None):
    layer.build((None, fan_in))
    if weights is not None:
        layer.set_weights(weights)
    return layer


def test_activation_by_name_and_by_callable_give_identical_outputs():
    layers = reference.guide_layers()
    by_name = built(layers["sigmoid_by_name"], weights=[W, B])
    by_callable = built(layers["sigmoid_by_callable"], weights=[W, B])
    out_name, out_callable = by_name(X).numpy(), by_callable(X).numpy()
    np.testing.assert_array_equal(out_name, out_callable)
    np.testing.assert_allclose(out_name, 1 / (1 + np.exp(-(X.astype(np.float64) @ W + B))), rtol=1e-5, atol=1e-6)


def test_default_activation_is_linear():
    layer = built(keras.layers.Dense(64), weights=[W, B])
    want = X.astype(np.float64) @ W + B
    assert (want < 0).any() and (want > 1).any()  # so relu, sigmoid or tanh could not pass
    np.testing.assert_allclose(layer(X).numpy(), want, rtol=1e-5, atol=1e-5)


def test_l1_kernel_regularizer_loss_is_001_times_sum_abs_kernel():
    layer = built(reference.guide_layers()["l1_kernel"], weights=[W, B])
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.01 * np.abs(W.astype(np.float64)).sum(), rtol=1e-6)


def test_l2_bias_regularizer_loss_is_001_times_sum_squared_bias_without_half():
    layer = built(reference.guide_layers()["l2_bias"], weights=[W, B])
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.01 * np.square(B.astype(np.float64)).sum(), rtol=1e-6)


def test_default_layer_applies_no_regularization():
    # The guide: "by default, no regularization is applied"; the regularized layers above each add one loss.
    layer = built(keras.layers.Dense(64), weights=[W, B])
    layer(X)
    assert layer.losses == []
    assert layer.kernel_regularizer is None and layer.bias_regularizer is None


def test_orthogonal_kernel_has_orthonormal_columns():
    # fan_in 100 > 64 units: the 100x64 kernel has 64 orthonormal columns, W^T W = I.
    kernel = built(reference.guide_layers()["orthogonal_kernel"], fan_in=100).kernel.numpy()
    assert kernel.shape == (100, 64)
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(64), rtol=0, atol=1e-5)
    # A random rotation, not a padded identity (which is orthonormal too).
    assert np.count_nonzero(kernel) == kernel.size and np.abs(kernel).max() < 0.9


def test_constant_bias_initializer_gives_exactly_2():
    bias = built(reference.guide_layers()["constant_bias"]).bias.numpy()
    assert bias.dtype == np.float32
    np.testing.assert_array_equal(bias, np.full(64, 2.0, dtype=np.float32))


def test_default_kernel_is_glorot_uniform():
    fan_in, fan_out = 512, 128  # unequal, so LeCun (fan_in only) and Glorot bounds differ
    kernel = built(keras.layers.Dense(fan_out), fan_in=fan_in).kernel.numpy().ravel().astype(np.float64)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(kernel).max() <= limit * (1 + 1e-6)
    assert np.abs(kernel).max() >= 0.98 * limit  # the support reaches the bound
    # 65,536 draws of U(-limit, limit): mean 0, variance limit^2/3, equal mass in equal-width bins.
    assert abs(kernel.mean()) < 0.01 * limit
    np.testing.assert_allclose(kernel.var(), limit ** 2 / 3, rtol=0.03)
    counts, _ = np.histogram(kernel, bins=8, range=(-limit, limit))
    np.testing.assert_allclose(counts / kernel.size, np.full(8, 1 / 8), rtol=0, atol=0.01)


def test_default_bias_is_zeros():
    bias = built(keras.layers.Dense(64, activation="relu")).bias.numpy()
    np.testing.assert_array_equal(bias, np.zeros(64, dtype=np.float32))


# --- the penalties inside the loss that fit minimises and evaluate reports ------------------------------

W2 = (RNG.normal(size=(64, 64)) / 8).astype(np.float32)
B2 = RNG.normal(size=64).astype(np.float32)
Y = RNG.normal(size=(8, 64)).astype(np.float32)
PENALTY_LR = 0.01


def regularized_model() -> keras.Model:
    """The guide's l1_kernel layer followed by its l2_bias layer, with known weights, mse loss, SGD."""
    layers = reference.guide_layers()
    model = keras.Sequential([keras.Input((16,)), layers["l1_kernel"], layers["l2_bias"]])
    model.set_weights([W, B, W2, B2])
    model.compile(optimizer=keras.optimizers.SGD(PENALTY_LR), loss="mse")
    return model


def mse_and_gradients():
    """The data loss at the known weights, and its gradients for W, B, W2, B2 (two linear layers)."""
    x, w1, b1, w2, b2 = (a.astype(np.float64) for a in (X, W, B, W2, B2))
    hidden = x @ w1 + b1
    error = hidden @ w2 + b2 - Y
    d_out = 2.0 * error / error.size
    d_hidden = d_out @ w2.T
    return np.mean(error ** 2), [x.T @ d_hidden, d_hidden.sum(axis=0), hidden.T @ d_out, d_out.sum(axis=0)]


def penalty_and_gradients():
    """0.01 * sum|W| (l1 on the first kernel) + 0.01 * sum(B2^2) (l2 on the second bias), and its gradients."""
    w1, b2 = W.astype(np.float64), B2.astype(np.float64)
    penalty = 0.01 * np.abs(w1).sum() + 0.01 * np.square(b2).sum()
    return penalty, [0.01 * np.sign(w1), np.zeros(64), np.zeros((64, 64)), 0.02 * b2]


def test_evaluate_reports_the_data_loss_plus_both_penalties_exactly():
    mse, _ = mse_and_gradients()
    penalty, _ = penalty_and_gradients()
    assert penalty > 0.1 * mse  # the penalty is a large part of the loss, far above the tolerance
    # Batches of 3, 3, 2: the penalty is added to every batch's loss, so it stays exactly in the mean.
    loss = regularized_model().evaluate(X, Y, batch_size=3, verbose=0)
    x, w1, b1, w2, b2 = (a.astype(np.float64) for a in (X, W, B, W2, B2))
    per_sample = np.mean(((x @ w1 + b1) @ w2 + b2 - Y) ** 2, axis=1) + penalty
    assert_loss_not_a_plain_mean_of_batches(loss, per_sample, [3, 3, 2])
    np.testing.assert_allclose(loss, mse + penalty, rtol=1e-5)


def test_fit_reports_and_minimises_the_data_loss_plus_both_penalties():
    model = regularized_model()
    mse, data_gradients = mse_and_gradients()
    penalty, penalty_gradients = penalty_and_gradients()

    history = model.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)

    # The loss of the one step is taken before it; the step follows the gradient of loss + penalty.
    np.testing.assert_allclose(history.history["loss"], [mse + penalty], rtol=1e-5)
    for index, (got, start, data_g, penalty_g) in enumerate(zip(model.get_weights(), [W, B, W2, B2],
                                                                  data_gradients, penalty_gradients)):
        want = start.astype(np.float64) - PENALTY_LR * (data_g + penalty_g)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"weight {index} after the step")


# --- the forms §1.1's text allows beside the guide's code (issue 28) ----------------------------------------
#
# "activation: by name of a built-in function or as a callable"; regularizers and initializers likewise by
# name, as the function of tf.keras.regularizers / initializers, or as the class (instance). By name, the
# arguments are the documented defaults (Keras 2.12-2.15, tf_keras and Keras 3 alike): 'l1' is L1(l1=0.01),
# 'l2' L2(l2=0.01); 'orthogonal' Orthogonal(gain=1.0). 'constant' by name is no form of the guide's
# constant(2.0) (a name carries no value; and Keras 3.15's initializers.get('constant') raises KeyError 'value'
# from Constant.from_config).
def _relu(z):
    return np.maximum(z, 0)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


ACTIVATION_FORMS = {
    "relu-by_name": (lambda: "relu", _relu),
    "relu-tf.nn.relu": (lambda: tf.nn.relu, _relu),
    "relu-keras.activations.relu": (lambda: keras.activations.relu, _relu),
    "softmax-by_name": (lambda: "softmax", _softmax),
    "softmax-tf.nn.softmax": (lambda: tf.nn.softmax, _softmax),
    "softmax-keras.activations.softmax": (lambda: keras.activations.softmax, _softmax),
    "sigmoid-by_name": (lambda: "sigmoid", _sigmoid),
    "sigmoid-tf.sigmoid": (lambda: tf.sigmoid, _sigmoid),
    "sigmoid-keras.activations.sigmoid": (lambda: keras.activations.sigmoid, _sigmoid),
}


@pytest.mark.parametrize("form", list(ACTIVATION_FORMS))
def test_each_activation_by_name_and_as_callable_gives_its_closed_form(form):
    make, closed_form = ACTIVATION_FORMS[form]
    z = X.astype(np.float64) @ W + B
    assert (z > 6).any() and (z < 0).any()   # relu6 or a leaky relu would differ
    layer = built(keras.layers.Dense(64, activation=make()), weights=[W, B])
    np.testing.assert_allclose(layer(X).numpy(), closed_form(z), rtol=1e-5, atol=1e-6)


REGULARIZER_FORMS = {
    # id: (Dense argument -> the regularizer in that form, the penalty in closed form)
    "l1-by_name": ({"kernel_regularizer": "l1"}, lambda: 0.01 * np.abs(W.astype(np.float64)).sum()),
    "L1-instance_with_defaults": ({"kernel_regularizer": keras.regularizers.L1()},
                                  lambda: 0.01 * np.abs(W.astype(np.float64)).sum()),
    "l2-by_name": ({"bias_regularizer": "l2"}, lambda: 0.01 * np.square(B.astype(np.float64)).sum()),
    "L2-instance_with_defaults": ({"bias_regularizer": keras.regularizers.L2()},
                                  lambda: 0.01 * np.square(B.astype(np.float64)).sum()),
    "L1-class_with_0.01": ({"kernel_regularizer": keras.regularizers.L1(0.01)},
                           lambda: 0.01 * np.abs(W.astype(np.float64)).sum()),
    "L2-class_with_0.01": ({"bias_regularizer": keras.regularizers.L2(0.01)},
                           lambda: 0.01 * np.square(B.astype(np.float64)).sum()),
}


@pytest.mark.parametrize("form", list(REGULARIZER_FORMS))
def test_each_regularizer_by_name_and_as_instance_adds_its_closed_form_penalty(form):
    argument, penalty = REGULARIZER_FORMS[form]
    layer = built(keras.layers.Dense(64, **argument), weights=[W, B])
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), penalty(), rtol=1e-6)


def test_orthogonal_initializer_as_instance_has_orthonormal_columns_like_by_name():
    kernel = built(keras.layers.Dense(64, kernel_initializer=keras.initializers.Orthogonal()), fan_in=100).kernel
    kernel = kernel.numpy()
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(64), rtol=0, atol=1e-5)
    assert np.count_nonzero(kernel) == kernel.size and np.abs(kernel).max() < 0.9


def test_constant_initializer_as_the_class_gives_exactly_its_value():
    bias = built(keras.layers.Dense(64, bias_initializer=keras.initializers.Constant(2.0))).bias.numpy()
    assert bias.dtype == np.float32
    np.testing.assert_array_equal(bias, np.full(64, 2.0, dtype=np.float32))
