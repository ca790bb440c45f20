"""Guide §1.5: Input(32) -> Dense(64, relu) -> Dense(64, relu) -> Dense(10, softmax), Model(inputs, outputs)."""

from __future__ import annotations

import numpy as np
import pytest

from reference import keras_functional as reference

pytestmark = pytest.mark.recipe("keras.functional")

# (32*64 + 64) + (64*64 + 64) + (64*10 + 10)
PARAMS = 6_922
WEIGHT_SHAPES = [(32, 64), (64,), (64, 64), (64,), (64, 10), (10,)]
X = np.random.default_rng(5).normal(size=(16, 32)).astype(np.float32)


def forward(weights, x):
    h = x.astype(np.float64)
    for i, (kernel, bias) in enumerate(zip(weights[::2], weights[1::2])):
        h = h @ kernel + bias
        h = np.maximum(h, 0) if i < 2 else np.exp(h - h.max(axis=1, keepdims=True))
    return h / h.sum(axis=1, keepdims=True)


def test_functional_model_output_shape_is_none_by_10():
    model = reference.build_functional()
    assert tuple(model.output_shape) == (None, 10)
    assert tuple(model(X[:3]).shape) == (3, 10)


def test_functional_model_has_6922_parameters():
    model = reference.build_functional()
    assert model.count_params() == PARAMS
    assert [tuple(w.shape) for w in model.trainable_weights] == WEIGHT_SHAPES


def test_functional_and_sequential_models_give_the_same_outputs_for_the_same_weights():
    functional, sequential = reference.build_functional(), reference.build_sequential()
    # Not the fresh weights: their biases are all zero, so a Dense that dropped its bias would pass.
    rng = np.random.default_rng(6)
    weights = [(rng.normal(size=shape) / np.sqrt(shape[0] if len(shape) == 2 else 1)).astype(np.float32)
               for shape in WEIGHT_SHAPES]
    assert all(np.all(bias != 0) for bias in weights[1::2])
    functional.set_weights(weights)
    sequential.set_weights(weights)
    got_functional, got_sequential = functional(X).numpy(), sequential(X).numpy()
    np.testing.assert_array_equal(got_functional, got_sequential)
    np.testing.assert_allclose(got_functional, forward(weights, X), rtol=1e-5, atol=1e-7)
