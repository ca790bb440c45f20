"""Patches that the mutants of several recipes share (a shuffle buffer resized, a model class, a loss's gradient,
a default changed, the advisory mutants' decorators and the HDF5 checks they let through).

The advisory mutants (`_advisory`: suite/test_keras_advisories.py; `_hdf5_advisory`: its HDF5 and weight-file
sibling) each disarm one protection an advisory's fix added, the way the releases before the fix behaved. The
crafted files are loaded in the sandbox's child processes, so every advisory mutant is applied there too.
"""

from __future__ import annotations

import inspect
from typing import Callable

from tests.mutants._core import _keras, _keras3_src, _tf, _wrap, mutant


def _shuffle_with_buffer(resize: Callable) -> None:
    """Dataset.shuffle(buffer_size) runs with a buffer of resize(dataset, buffer_size) elements instead."""
    def make(orig):
        def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
            return orig(self, resize(self, buffer_size), seed, reshuffle_each_iteration, name=name)
        return shuffle
    _wrap(_tf().data.Dataset, "shuffle", make)


def _right_value_gradient_of(relabel: Callable):
    """Make a cross-entropy whose value is right but whose gradient is that of the labels relabel(target):
    what a broken gradient registration gives, invisible to any check of the value alone."""
    tf = _tf()

    def make(orig):
        def crossentropy(target, output, *args, **kwargs):
            right = orig(target, output, *args, **kwargs)
            other = orig(relabel(target), output, *args, **kwargs)
            return tf.stop_gradient(right) + other - tf.stop_gradient(other)
        return crossentropy
    return make


def _model_class():
    return _keras().Model


def _counting_generator_dataset(make_dataset, element_spec, change_after_first_pass):
    """A dataset that yields make_dataset()'s elements on its first pass and change(elements) on later
    ones: a reader that behaves differently when iterated again."""
    tf = _tf()
    try:
        elements = [e.numpy() for e in make_dataset()]
    except tf.errors.OpError:  # a file that fails to read fails as before: only clean files change
        return make_dataset()
    passes = []

    def generate():
        passes.append(1)
        yield from (elements if len(passes) == 1 else change_after_first_pass(elements))
    return tf.data.Dataset.from_generator(generate, output_signature=element_spec)


ADVISORY_SPECS = "suite/test_keras_advisories.py"


def _advisory(breaks: str, spec: str, recipe: str = "keras.save_model"):
    """A mutant run against the one spec that reproduces its advisory: another advisory spec of the module
    may report `vulnerable` on the unmutated build (one with no fix released yet) and must not count."""
    return mutant(recipe, breaks, subprocess=True, module=f"{ADVISORY_SPECS}::{spec}")


def _unsafe_from_config(cls) -> None:
    """cls.from_config treats a missing safe_mode argument as safe_mode=False (as before the fixes)."""
    original = cls.from_config  # bound to cls

    def from_config(klass, config, custom_objects=None, safe_mode=None):
        return original(config, custom_objects=custom_objects, safe_mode=False if safe_mode is None else safe_mode)
    cls.from_config = classmethod(from_config)


ADVISORY_HDF5_SPECS = "suite/test_keras_advisories_hdf5.py"


def _hdf5_advisory(breaks: str, spec: str, recipe: str):
    """A mutant run against the one spec that reproduces its advisory (as the advisory mutants above)."""
    return mutant(recipe, breaks, subprocess=True, module=f"{ADVISORY_HDF5_SPECS}::{spec}")


def _h5_checks():
    """saving_lib, where the HDF5 checks live, and legacy_h5_format, which imported them by name."""
    src = _keras3_src()
    from keras.src.legacy.saving import legacy_h5_format

    return src.saving.saving_lib, legacy_h5_format


def _let_through(refusal: str) -> None:
    """safe_get_h5_dataset returns the dataset where it would refuse it with `refusal` in its message."""
    lib, legacy = _h5_checks()

    def make(orig):
        def get(group, name):
            try:
                return orig(group, name)
            except ValueError as exc:
                if refusal not in str(exc):
                    raise
                return group[name]
        return get
    _wrap(lib, "safe_get_h5_dataset", make)
    legacy.safe_get_h5_dataset = lib.safe_get_h5_dataset


def _default_changed(cls, **defaults) -> None:
    """cls(...) takes `defaults` for the arguments left out (those given are kept)."""
    def make(orig):
        signature = inspect.signature(orig)

        def init(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            for name, value in defaults.items():
                bound.arguments.setdefault(name, value)
            orig(*bound.args, **bound.kwargs)
        return init
    _wrap(cls, "__init__", make)


def _batches(dataset):
    tf = _tf()
    if not isinstance(dataset, tf.data.Dataset):
        return None
    count = int(dataset.cardinality().numpy())
    return count if count > 1 else None
