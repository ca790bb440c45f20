"""Guide §1.8, configuration only: to_json / model_from_json, and the removed to_yaml."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from reference.keras_config_json import build_model
from suite.support.helpers import KERAS3, keras

pytestmark = pytest.mark.recipe("keras.config_json")

# to_yaml / model_from_yaml: gone from Keras 3; Keras 2 (since TF 2.6) keeps stubs that refuse.
YAML_REMOVED = {
    3: {"to_yaml": (AttributeError, re.escape("has no attribute 'to_yaml'")),
        "model_from_yaml": (AttributeError, re.escape("has no attribute 'model_from_yaml'"))},
    2: {"to_yaml": (RuntimeError, re.escape(
            "Method `model.to_yaml()` has been removed due to security risk of arbitrary code "
            "execution. Please use `model.to_json()` instead.")),
        "model_from_yaml": (RuntimeError, re.escape(
            "Method `model_from_yaml()` has been removed due to security risk of arbitrary code "
            "execution. Please use `Model.to_json()` and `model_from_json()` instead."))},
}[3 if KERAS3 else 2]

GUIDE_LAYERS = [(64, "relu"), (64, "relu"), (10, "softmax")]  # guide §1.5
X = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(2, 32)


def dense_configs(json_string: str):
    layers = json.loads(json_string)["config"]["layers"]
    return [(layer["config"]["units"], layer["config"]["activation"])
            for layer in layers if layer["class_name"] == "Dense"]


@pytest.fixture
def model_and_fresh():
    model = build_model()
    # Known non-initial values, so "fresh weights" cannot be mistaken for copied ones.
    model.set_weights([np.full_like(w, 0.5) for w in model.get_weights()])
    return model, keras.models.model_from_json(model.to_json())


def test_json_describes_the_guide_architecture():
    assert dense_configs(build_model().to_json()) == GUIDE_LAYERS


def test_model_from_json_rebuilds_the_same_architecture(model_and_fresh):
    model, fresh = model_and_fresh

    assert fresh is not model
    assert json.loads(fresh.to_json()) == json.loads(model.to_json())
    assert [type(layer) for layer in fresh.layers] == [type(layer) for layer in model.layers]
    assert fresh.count_params() == model.count_params() == 32 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10


def test_model_from_json_gives_freshly_initialised_weights(model_and_fresh):
    model, fresh = model_and_fresh

    for layer in fresh.layers[-3:]:
        kernel, bias = (w.numpy() for w in layer.weights)
        fan_in, fan_out = kernel.shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))  # Glorot-uniform default
        assert not np.any(kernel == 0.5)
        assert np.all(np.abs(kernel) <= limit) and kernel.std() > limit / 4
        np.testing.assert_array_equal(bias, np.zeros_like(bias))  # zeros default


def test_rebuilt_model_given_the_weights_predicts_identically(model_and_fresh):
    model, fresh = model_and_fresh

    fresh.set_weights(model.get_weights())

    np.testing.assert_array_equal(fresh(X, training=False).numpy(), model(X, training=False).numpy())


def test_to_yaml_is_removed():
    exc_type, message = YAML_REMOVED["to_yaml"]

    with pytest.raises(exc_type, match=message):
        build_model().to_yaml()


def test_model_from_yaml_is_removed():
    exc_type, message = YAML_REMOVED["model_from_yaml"]

    with pytest.raises(exc_type, match=message):
        keras.models.model_from_yaml("class_name: Sequential")
