"""Small shared helpers for the specs: the Keras under test, and dataset assertions."""

from __future__ import annotations

import re

import numpy as np
import tensorflow as tf

from tfguide.environment import keras_flavour

# The guide imports Keras as `from tensorflow import keras`: test exactly what that resolves to
# (Keras 3 on TF >= 2.16, tf_keras with TF_USE_LEGACY_KERAS=1, keras 2.x on TF <= 2.15).
keras = tf.keras
KERAS_VERSION = tuple(int(p) for p in keras_flavour(tf)["version"].split(".")[:2])
KERAS3 = KERAS_VERSION[0] >= 3
TF_VERSION = tuple(int(p) for p in tf.__version__.split(".")[:2])

SEED = 1234

# Where a '.weights.h5' file keeps each layer's variables (<group>/<layer name>/vars/<index>). Keras
# 2.12-2.14's saving_lib walks the model's attributes and files the layers under the attribute it meets,
# `_layer_checkpoint_dependencies`; keras-team/keras bd465a78e6 ("Fixed saved file namespace", Sep 2023,
# first released in 2.15) skips that attribute, so from Keras 2.15 on (Keras 3 and tf_keras too) the group
# is `layers`. Observed in the matrix: 2.12.0, 2.13.1, 2.14.0 the former; 2.15.0 and every later the latter.
WEIGHTS_H5_LAYERS_GROUP = "_layer_checkpoint_dependencies" if KERAS_VERSION < (2, 15) else "layers"


def assert_loss_not_a_plain_mean_of_batches(reported: float, per_sample, batch_sizes) -> None:
    """Name the wrong value a known defect gives (keras-team/keras#19363, Keras 3.0-3.1): the loss that
    fit/evaluate report is the plain mean of the batches' mean losses, not weighted by batch size, so an
    uneven last batch counts as much as a full one. Raises AssertionError saying so, when it is that."""
    per_sample = np.asarray(per_sample, np.float64)
    bounds = np.cumsum([0, *batch_sizes])
    plain = np.mean([per_sample[a:b].mean() for a, b in zip(bounds[:-1], bounds[1:])])
    if not np.isclose(reported, per_sample.mean(), rtol=1e-5) and np.isclose(reported, plain, rtol=1e-5):
        raise AssertionError(f"the reported loss {reported:.6f} is the unweighted mean of the batch losses "
                             f"({plain:.6f}), not the mean over all samples ({per_sample.mean():.6f})")


def _produced(value) -> tuple[tf.DType, tuple, np.ndarray]:
    """(dtype, static shape, value) of one produced component, read off the tensor itself."""
    if not hasattr(value, "numpy") or not hasattr(value, "dtype"):
        raise AssertionError(f"the dataset produced a {type(value).__name__}, not a tensor: {value!r}")
    dtype = tf.as_dtype(value.dtype)
    numpy = value.numpy()
    # A scalar string tensor's .numpy() is plain `bytes`; object arrays keep trailing NUL bytes intact.
    array = np.array(numpy, dtype=object) if dtype == tf.string else np.asarray(numpy)
    return dtype, tuple(value.shape), array


def _stated(value) -> tuple[tf.DType, tuple, np.ndarray]:
    """(dtype, shape, value) that a spec states for one component. The dtype must be stated: NumPy
    scalars and arrays carry one, bytes and str mean tf.string. A bare Python int, float or bool is
    refused: it states no dtype (is 3 an int32 or an int64?)."""
    if isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic):
        raise TypeError(f"expected value {value!r} states no dtype: write e.g. np.int64({value!r})")
    if isinstance(value, (bytes, str)) or (isinstance(value, np.ndarray) and value.dtype.kind in "SUO"):
        array = np.array(value, dtype=object)
        encode = np.vectorize(lambda s: s.encode() if isinstance(s, str) else s, otypes=[object])
        return tf.string, array.shape, (encode(array) if array.size else array)
    array = np.asarray(value)
    return tf.as_dtype(array.dtype), array.shape, array


def _same_values(got: np.ndarray, want: np.ndarray) -> bool:
    """Exact equality of two arrays of one shape and dtype: floats bit for bit up to NaN payloads (so
    -0.0 is not 0.0, and NaN equals NaN), strings byte for byte."""
    if got.dtype == object or want.dtype == object:
        return got.ravel().tolist() == want.ravel().tolist()
    if got.dtype.kind in "fc":
        return bool(np.array_equal(got, want, equal_nan=True)
                    and np.array_equal(np.signbit(np.real(got)), np.signbit(np.real(want))))
    return bool(np.array_equal(got, want))


def element_mismatch(got_element, want_element) -> str | None:
    """Why a produced element differs from the stated one, or None: the structure, then each
    component's dtype, shape (exactly: a scalar is not a vector of one) and value."""
    try:
        tf.nest.assert_same_structure(want_element, got_element)
    except (ValueError, TypeError) as exc:
        return f"structure differs from the expected one: {exc}"
    for index, (got, want) in enumerate(zip(tf.nest.flatten(got_element), tf.nest.flatten(want_element))):
        got_dtype, got_shape, got_value = _produced(got)
        want_dtype, want_shape, want_value = _stated(want)
        where = f"component {index}"
        if got_dtype != want_dtype:
            return f"{where}: dtype {got_dtype.name}, expected {want_dtype.name}"
        if got_shape != want_shape:
            return f"{where}: shape {got_shape}, expected {want_shape}"
        if not _same_values(got_value, want_value):
            return f"{where}: value {got_value!r}, expected {want_value!r}"
    return None


def _check_against_element_spec(dataset: tf.data.Dataset, element, index: int) -> None:
    """Every element agrees with the dataset's own element_spec: same dtype, compatible shape."""
    for spec, got in zip(tf.nest.flatten(dataset.element_spec), tf.nest.flatten(element)):
        assert got.dtype == spec.dtype, f"element {index}: dtype {got.dtype!r} but element_spec says {spec!r}"
        assert spec.shape.is_compatible_with(got.shape), (
            f"element {index}: shape {tuple(got.shape)} but element_spec says {spec!r}")


def _one_pass(dataset, expected_output: list, expected_error, ordered: bool, pass_index: int) -> None:
    label = f"pass {pass_index + 1}"
    iterator = iter(dataset)
    produced = []
    for index in range(len(expected_output)):
        try:
            element = next(iterator)
        except StopIteration:
            raise AssertionError(f"{label}: dataset ended after {index} elements; expected "
                                 f"{len(expected_output)}") from None
        _check_against_element_spec(dataset, element, index)
        if ordered:
            why = element_mismatch(element, expected_output[index])
            assert why is None, f"{label}, element {index}: {why}"
        produced.append(element)
    if not ordered:
        unmatched = list(range(len(expected_output)))
        for index, element in enumerate(produced):
            match = next((j for j in unmatched if element_mismatch(element, expected_output[j]) is None), None)
            assert match is not None, (f"{label}: produced element {index} is none of the expected ones "
                                       f"still unmatched: {tf.nest.map_structure(lambda t: t.numpy(), element)}")
            unmatched.remove(match)
    if expected_error is not None:
        exc_type, pattern = expected_error
        try:
            extra = next(iterator)
        except exc_type as exc:
            assert re.search(pattern, str(exc)), f"{label}: {exc_type.__name__} message {str(exc)!r} lacks {pattern!r}"
            return  # after an error tf.data may go on with the next element: nothing more is stated
        except StopIteration:
            raise AssertionError(f"{label}: dataset ended; expected {exc_type.__name__} after "
                                 f"{len(expected_output)} elements") from None
        raise AssertionError(f"{label}: expected {exc_type.__name__}, got another element: {extra}")
    # The end, twice: an exhausted iterator stays exhausted.
    for attempt in ("end", "end again"):
        try:
            extra = next(iterator)
        except StopIteration:
            continue
        raise AssertionError(f"{label}: dataset did not {'end' if attempt == 'end' else 'stay ended'} after "
                             f"{len(expected_output)} elements; next: {extra}")


def assert_dataset_produces(dataset: tf.data.Dataset, expected_output: list, expected_error=None, *,
                            element_spec=None, ordered: bool = True, passes: int = 2) -> None:
    """Assert `dataset` yields exactly `expected_output`, then ends (or raises), on every pass.

    Like tf.data's own kernel tests (`DatasetTestBase.assertDatasetProduces`), and stricter:
    - each element has the expected structure, and each component exactly the expected dtype, shape
      and value (no broadcasting: a scalar is not a vector of one; floats bit for bit, so -0.0 is not
      0.0). Expected values state their dtype: NumPy scalars/arrays, or bytes/str for tf.string;
    - every element agrees with `dataset.element_spec`, and with `element_spec=` that spec is exactly
      the one given (what the spec module states, e.g. an unknown batch dimension);
    - `passes` (2) full iterations with fresh iterators, each checked the same way;
    - after the last element the iterator is exhausted, and stays so on a second call; or, with
      `expected_error=(ExcType, regex)`, the next element raises that error;
    - `ordered=False`: the elements are compared as a multiset (parallel pipelines that promise no order).
    """
    if element_spec is not None:
        assert dataset.element_spec == element_spec, (
            f"element_spec {dataset.element_spec!r}, expected {element_spec!r}")
    for pass_index in range(passes):
        _one_pass(dataset, expected_output, expected_error, ordered, pass_index)
