"""Guide §1.8, weights only: save_weights / load_weights."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from reference.keras_save_weights import GUIDE_PATH, PORTABLE_PATH
from suite.support.helpers import KERAS3, SEED, WEIGHTS_H5_LAYERS_GROUP, keras

pytestmark = pytest.mark.recipe("keras.save_weights")

# The guide's path './weights/my_model' (no extension): Keras 3 refuses it; Keras 2 writes a
# TensorFlow checkpoint (an index, one data shard and the `checkpoint` bookkeeping file).
GUIDE_PATH_OUTCOME = {
    3: {"error": (ValueError, r"must end in `\.weights\.h5`")},
    2: {"files": ["checkpoint", "my_model.data-00000-of-00001", "my_model.index"]},
}[3 if KERAS3 else 2]
# Loading weights saved from another architecture: ValueError on both (Keras 3 collects every layer's
# failure into one message; Keras 2 stops at the first shape mismatch).
MISMATCH_ERROR = {
    3: (ValueError, r"could not be loaded[\s\S]*variable\.assign"),
    2: (ValueError, "Shape mismatch"),
}[3 if KERAS3 else 2]
# h5py refuses a file shorter than the end-of-file address its superblock records.
TRUNCATED_ERROR = (OSError, "truncated file")

X = np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(4, 3)


def small_model(seed: int, hidden: int = 5) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(2)])


def copies(model):
    return [np.array(w, copy=True) for w in model.get_weights()]


def assert_weights_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def saved(model, tmp_path, relpath=PORTABLE_PATH) -> str:
    path = tmp_path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(path))
    return str(path)


def test_guide_path_without_extension(tmp_path):
    model = small_model(SEED)
    path = tmp_path / GUIDE_PATH
    path.parent.mkdir(parents=True)

    if "error" in GUIDE_PATH_OUTCOME:
        exc_type, fragment = GUIDE_PATH_OUTCOME["error"]
        with pytest.raises(exc_type, match=fragment):
            model.save_weights(str(path))
        assert os.listdir(path.parent) == []
    else:
        model.save_weights(str(path))
        assert sorted(os.listdir(path.parent)) == GUIDE_PATH_OUTCOME["files"]
        fresh = small_model(SEED + 1)
        fresh.load_weights(str(path))
        assert_weights_equal(fresh.get_weights(), model.get_weights())


def test_weights_h5_file_holds_each_variable_bit_for_bit(tmp_path):
    model = small_model(SEED)
    path = saved(model, tmp_path)

    # Read the file with h5py, not Keras: <layers group>/<layer key>/vars/<index in layer.weights>, one
    # group per layer. From Keras 2.15 the key is the layer's name; Keras 2.12-2.14 key the layers by the
    # attribute walk (observed: 'dense', 'dense_2' for layers named 'dense_1', 'dense_2'), so there each
    # layer's variables must be found, bit for bit, in a group of their own.
    with h5py.File(path, "r") as fh:
        group = fh[WEIGHTS_H5_LAYERS_GROUP]
        stored = {key: [group[key]["vars"][str(i)][()] for i in range(len(group[key]["vars"]))] for key in group}
    if WEIGHTS_H5_LAYERS_GROUP == "layers":
        assert sorted(stored) == sorted(layer.name for layer in model.layers)
    for layer in model.layers:
        values = [v.numpy() for v in layer.weights]
        matches = [key for key, arrays in stored.items() if len(arrays) == len(values) and all(
            a.dtype == v.dtype and a.shape == v.shape and np.array_equal(a, v) for a, v in zip(arrays, values))]
        assert matches == ([layer.name] if WEIGHTS_H5_LAYERS_GROUP == "layers" else matches[:1]) and matches, (
            f"no group of {sorted(stored)} holds the variables of layer {layer.name} bit for bit")
        del stored[matches[0]]
    assert stored == {}, f"groups for no layer: {sorted(stored)}"


def test_load_weights_restores_every_weight_bit_for_bit(tmp_path):
    model = small_model(SEED)
    original = copies(model)
    path = saved(model, tmp_path)
    model.set_weights([np.zeros_like(w) for w in original])

    model.load_weights(path)

    assert_weights_equal(model.get_weights(), original)


def test_fresh_model_of_same_architecture_predicts_identically_after_loading(tmp_path):
    model = small_model(SEED)
    path = saved(model, tmp_path)
    fresh = small_model(SEED + 1)
    assert not np.array_equal(fresh(X, training=False).numpy(), model(X, training=False).numpy())

    fresh.load_weights(path)

    np.testing.assert_array_equal(fresh(X, training=False).numpy(), model(X, training=False).numpy())


def test_weights_of_another_architecture_are_refused_and_model_left_untouched(tmp_path):
    path = saved(small_model(SEED, hidden=5), tmp_path)
    other = small_model(SEED + 1, hidden=4)  # every kernel has another shape
    before = copies(other)
    exc_type, fragment = MISMATCH_ERROR

    with pytest.raises(exc_type, match=fragment):
        other.load_weights(path)

    assert_weights_equal(other.get_weights(), before)


def test_truncated_weights_file_is_refused_and_model_left_untouched(tmp_path):
    path = saved(small_model(SEED), tmp_path)
    with open(path, "rb") as fh:
        content = fh.read()
    with open(path, "wb") as fh:
        fh.write(content[: len(content) // 2])
    model = small_model(SEED + 1)
    before = copies(model)
    exc_type, fragment = TRUNCATED_ERROR

    with pytest.raises(exc_type, match=fragment):
        model.load_weights(path)

    assert_weights_equal(model.get_weights(), before)
