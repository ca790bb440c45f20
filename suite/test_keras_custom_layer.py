"""Guide §1.6: custom layers (subclass `Layer`, implement `build`, `call`, `get_config`)."""

from __future__ import annotations

import numpy as np
import pytest

from reference.keras_custom_layer import PACKAGE, MyLayer
from suite.support.helpers import KERAS3, KERAS_VERSION, keras, tf

pytestmark = pytest.mark.recipe("keras.custom_layer")

# Loading a saved model whose custom class is neither registered nor passed in custom_objects:
# TypeError on both. Keras 3 names the missing class; Keras 2 leaves the class name unresolved (a str)
# and Sequential then refuses it as "not an instance of class Layer".
# Keras 2.12 (observed in the matrix; 2.13.1 already raises TypeError) reports the unknown class as
# ValueError "Unknown layer". A Keras 3 before 3.9 that loads the class anyway, by importing the module
# the file names, is the catalogued security defect CVE-2025-1550.
UNREGISTERED_LOAD_ERROR = {
    3: (TypeError, "Could not locate class 'PlainLayer'"),
    2: (TypeError, "must be an instance of class Layer. Received: layer=PlainLayer"),
    2.12: (ValueError, "Unknown layer: 'PlainLayer'"),
}[3 if KERAS3 else 2 if KERAS_VERSION >= (2, 13) else 2.12]

X = np.arange(12, dtype="float32").reshape(4, 3) / 10.0


class PlainLayer(MyLayer):
    """The same layer, deliberately never registered (what a user who forgot to register has)."""


def _model(layer_cls=MyLayer) -> keras.Model:
    return keras.Sequential([keras.Input(shape=(3,)), layer_cls(2)])


def test_weights_are_created_on_first_call_not_at_construction():
    layer = MyLayer(4)
    assert layer.weights == [] and not layer.built

    out = layer(tf.constant(X))

    assert layer.built
    assert [tuple(w.shape) for w in layer.weights] == [(3, 4)]
    np.testing.assert_allclose(out.numpy(), X @ layer.kernel.numpy(), rtol=1e-6)


def test_trainable_weights_are_counted_and_follow_the_trainable_flag():
    layer = MyLayer(4)
    layer(tf.constant(X))
    assert len(layer.trainable_weights) == 1 and layer.non_trainable_weights == []
    assert layer.count_params() == 3 * 4

    layer.trainable = False

    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 1


def test_get_config_from_config_round_trip_rebuilds_an_equivalent_layer():
    layer = MyLayer(4, name="custom")
    layer(tf.constant(X))
    config = layer.get_config()
    assert config["output_dim"] == 4 and config["name"] == "custom"

    clone = MyLayer.from_config(config)

    assert type(clone) is MyLayer and clone.get_config() == config
    assert clone.weights == []  # the config carries the architecture, not the weights
    clone(tf.constant(X))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(tf.constant(X)).numpy(), layer(tf.constant(X)).numpy())


def test_registered_class_is_known_by_its_package_name():
    assert keras.utils.get_registered_name(MyLayer) == f"{PACKAGE}>MyLayer"
    assert keras.utils.get_registered_object(f"{PACKAGE}>MyLayer") is MyLayer


def test_keras_file_round_trip_with_registered_class_predicts_identically(tmp_path):
    model = _model()
    path = str(tmp_path / "custom.keras")
    model.save(path)

    loaded = keras.models.load_model(path)

    assert type(loaded.layers[0]) is MyLayer
    np.testing.assert_array_equal(loaded(X, training=False).numpy(), model(X, training=False).numpy())


def test_loading_unregistered_custom_class_raises_type_error(tmp_path):
    path = str(tmp_path / "plain.keras")
    _model(PlainLayer).save(path)
    exc_type, fragment = UNREGISTERED_LOAD_ERROR

    with pytest.raises(exc_type, match=fragment):
        keras.models.load_model(path)


def test_unregistered_class_loads_when_passed_in_custom_objects(tmp_path):
    model = _model(PlainLayer)
    path = str(tmp_path / "plain.keras")
    model.save(path)

    loaded = keras.models.load_model(path, custom_objects={"PlainLayer": PlainLayer})

    assert type(loaded.layers[0]) is PlainLayer
    np.testing.assert_array_equal(loaded(X, training=False).numpy(), model(X, training=False).numpy())
