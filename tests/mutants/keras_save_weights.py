"""The mutants of keras.save_weights (guide §1.8): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import NotApplicable, _keras3_src, _wrap, mutant
from tests.mutants._helpers import _h5_checks, _hdf5_advisory, _let_through, _model_class


@mutant("keras.save_weights", "load_weights silently skips weights of another architecture")
def load_weights_skips_mismatch():
    def make(orig):
        def load_weights(self, *args, **kwargs):
            try:
                return orig(self, *args, **kwargs)
            except ValueError:
                return None
        return load_weights
    _wrap(_model_class(), "load_weights", make)


@mutant("keras.save_weights", "save_weights stores the weights rounded to float16")
def save_weights_rounds_to_float16():
    import numpy as np

    def make(orig):
        def save_weights(self, *args, **kwargs):
            kept = self.get_weights()
            self.set_weights([w.astype(np.float16).astype(w.dtype) for w in kept])
            try:
                return orig(self, *args, **kwargs)
            finally:
                self.set_weights(kept)
        return save_weights
    _wrap(_model_class(), "save_weights", make)


@mutant("keras.save_weights", "save_weights accepts the guide's extension-less path (appends .weights.h5)")
def save_weights_accepts_any_path():
    def make(orig):
        def save_weights(self, filepath, *args, **kwargs):
            if not str(filepath).endswith(".weights.h5"):
                filepath = str(filepath) + ".weights.h5"
            return orig(self, filepath, *args, **kwargs)
        return save_weights
    _wrap(_model_class(), "save_weights", make)


@_hdf5_advisory("the HDF5 link check sees only the last group of a path, as before #23168",
                "test_hdf5_external_references_in_a_weights_file_are_not_read", "keras.save_weights")
def h5_links_checked_on_the_last_group_only():
    lib, legacy = _h5_checks()

    def make(orig):
        def get(parent, name):
            *above, last = name.split("/")
            if above and not isinstance(parent, dict):
                parent = parent["/".join(above)]  # followed unchecked, links included
            return orig(parent, last)
        return get
    _wrap(lib, "safe_get_h5_group", make)
    legacy.safe_get_h5_group = lib.safe_get_h5_group


@_hdf5_advisory("load_weights follows a link on a legacy '.h5' file's 'model_weights' group, as before #22900",
                "test_hdf5_external_references_in_h5_weights_or_the_file_editor_are_not_read", "keras.save_weights")
def h5_model_weights_link_is_followed():
    lib, _ = _h5_checks()
    _wrap(lib, "safe_get_h5_group",
          lambda orig: lambda parent, name: parent[name] if name == "model_weights" else orig(parent, name))


@_hdf5_advisory("the weight loaders read HDF5 virtual datasets, as before #22801",
                "test_an_hdf5_virtual_dataset_in_a_weights_file_is_not_read", "keras.save_weights")
def h5_virtual_datasets_are_read():
    _let_through("virtual Dataset")


@_hdf5_advisory("KerasFileEditor reads a dataset of any declared size, as before #21880",
                "test_an_hdf5_shape_bomb_is_refused_by_the_file_editor_before_allocating", "keras.save_weights")
def file_editor_size_bound_is_skipped():
    _keras3_src()
    import types

    try:
        from keras.src.saving import file_editor
    except ImportError as exc:
        raise NotApplicable("no KerasFileEditor (Keras < 3.6)") from exc
    # The bound is local to _extract_weights_from_store; math.prod is what sizes the dataset there (alone).
    file_editor.math = types.SimpleNamespace(prod=lambda shape: 0)
