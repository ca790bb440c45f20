"""Small shared helpers for the specs: the Keras under test, and dataset assertions."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from reports.environment import keras_flavour

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


def _to_numpy(value):
    # np.asarray: a scalar string tensor's .numpy() is plain `bytes`, which has no dtype.
    return tf.nest.map_structure(lambda t: np.asarray(t.numpy() if hasattr(t, "numpy") else t), value)


def assert_dataset_produces(dataset: tf.data.Dataset, expected_output: list, expected_error=None,
                            exact_dtypes: bool = True) -> None:
    """Assert `dataset` yields exactly `expected_output`, in order, and then ends (or raises).

    Like tf.data's own kernel tests: every element is compared (structure, values and, by default,
    dtypes), and the end of the sequence is checked too: with `expected_error=(ExcType, regex)` the
    next element must raise that error, otherwise the iterator must be exhausted.
    """
    import re

    iterator = iter(dataset)
    for index, want in enumerate(expected_output):
        try:
            got = _to_numpy(next(iterator))
        except StopIteration:
            raise AssertionError(f"dataset ended after {index} elements; expected {len(expected_output)}")
        tf.nest.assert_same_structure(want, got)
        for w, g in zip(tf.nest.flatten(want), tf.nest.flatten(got)):
            w = np.asarray(w)
            if exact_dtypes and w.dtype != object:
                assert g.dtype == w.dtype, f"element {index}: dtype {g.dtype}, expected {w.dtype}"
            np.testing.assert_array_equal(g, w, err_msg=f"element {index}")
    if expected_error is not None:
        exc_type, pattern = expected_error
        try:
            extra = next(iterator)
        except exc_type as exc:
            assert re.search(pattern, str(exc)), f"{exc_type.__name__} message {str(exc)!r} lacks {pattern!r}"
            return
        except StopIteration:
            raise AssertionError(f"dataset ended; expected {exc_type.__name__} after "
                                 f"{len(expected_output)} elements")
        raise AssertionError(f"expected {exc_type.__name__}, got another element: {extra}")
    try:
        extra = next(iterator)
    except StopIteration:
        return
    raise AssertionError(f"dataset did not end after {len(expected_output)} elements; next: {_to_numpy(extra)}")
