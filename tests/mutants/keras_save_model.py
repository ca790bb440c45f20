"""The mutants of keras.save_model (guide §1.8): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import NotApplicable, _keras, _keras3_src, _tf, _wrap, mutant
from tests.mutants._helpers import _advisory, _hdf5_advisory, _let_through, _model_class, _unsafe_from_config


@mutant("keras.save_model", "load_model restores the weights but loses the optimizer state")
def load_model_loses_optimizer_state():
    keras = _keras()

    def make(orig):
        def load_model(*args, **kwargs):
            model = orig(*args, **kwargs)
            optimizer = getattr(model, "optimizer", None)
            for variable in getattr(optimizer, "variables", []) or []:
                variable.assign(_tf().zeros(variable.shape, variable.dtype))
            return model
        return load_model
    _wrap(keras.models, "load_model", make)
    if hasattr(keras, "saving") and hasattr(keras.saving, "load_model"):
        keras.saving.load_model = keras.models.load_model


@mutant("keras.save_model", "load_model perturbs the last weight by one float32 ulp")
def load_model_perturbs_weights():
    import numpy as np
    keras = _keras()

    def make(orig):
        def load_model(*args, **kwargs):
            model = orig(*args, **kwargs)
            weights = model.get_weights()
            if weights:
                weights[-1] = np.nextafter(weights[-1], np.inf).astype(weights[-1].dtype)
                model.set_weights(weights)
            return model
        return load_model
    _wrap(keras.models, "load_model", make)


@mutant("keras.save_model", "model.save('my_model') without extension silently writes a .keras file")
def save_accepts_bare_path():
    def make(orig):
        def save(self, filepath, *args, **kwargs):
            if not str(filepath).endswith((".keras", ".h5")):
                filepath = str(filepath) + ".keras"
            return orig(self, filepath, *args, **kwargs)
        return save
    _wrap(_model_class(), "save", make)


@mutant("keras.save_model", "a load_model that fails empties the file it could not read")
def failed_load_empties_the_file():
    keras = _keras()

    def make(orig):
        def load_model(filepath, *args, **kwargs):
            try:
                return orig(filepath, *args, **kwargs)
            except Exception:
                with open(filepath, "wb"):
                    pass
                raise
        return load_model
    _wrap(keras.models, "load_model", make)
    if hasattr(keras, "saving") and hasattr(keras.saving, "load_model"):
        keras.saving.load_model = keras.models.load_model


def _force_unsafe(owner, attr: str) -> None:
    _wrap(owner, attr, lambda orig: lambda *a, **kw: orig(*a, **{**kw, "safe_mode": False}))


@_advisory("load_model ignores safe_mode for '.keras' files (Lambda bytecode runs)",
           "test_lambda_bytecode_in_a_keras_file_does_not_run_in_safe_mode")
def keras_file_loads_ignore_safe_mode():
    src = _keras3_src()
    _force_unsafe(src.saving.saving_lib, "load_model")


@_advisory("load_model ignores safe_mode for '.h5' files (Lambda bytecode runs)",
           "test_lambda_bytecode_in_an_h5_file_does_not_run_in_safe_mode")
def h5_loads_ignore_safe_mode():
    _keras3_src()
    from keras.src.legacy.saving import legacy_h5_format

    _force_unsafe(legacy_h5_format, "load_model_from_hdf5")


def _resolve_any_module(also_keras_functions: bool = False) -> None:
    src = _keras3_src()
    import importlib

    lib = src.saving.serialization_lib

    def make(orig):
        def retrieve(name, registered_name, module, obj_type, full_config, custom_objects=None):
            try:
                return orig(name, registered_name, module, obj_type, full_config, custom_objects=custom_objects)
            except (TypeError, ValueError):
                if not module or (module.split(".")[0] == "keras" and not also_keras_functions):
                    raise
                return vars(importlib.import_module(module))[name]
        return retrieve
    _wrap(lib, "_retrieve_class_or_fn", make)


@_advisory("deserialization imports any module a config names, as before Keras 3.9",
           "test_a_keras_file_cannot_make_load_model_import_a_module_it_names")
def deserialization_imports_any_module():
    _resolve_any_module()


@_advisory("a config may name Keras' non-modeling functions (get_file), as before Keras 3.11",
           "test_a_keras_file_cannot_make_get_file_write_a_file")
def non_modeling_functions_allowed():
    src = _keras3_src()
    src.saving.serialization_lib.NON_MODELING_APIS = frozenset()


@_advisory("a config may name any function of Keras' modules (global_state, model_from_json), as before 3.11",
           "test_a_keras_file_cannot_turn_safe_mode_off")
def any_keras_function_resolves():
    src = _keras3_src()
    src.saving.serialization_lib.NON_MODELING_APIS = frozenset()
    _resolve_any_module(also_keras_functions=True)


@_advisory("StringLookup reads a vocabulary file a config names, in safe mode (as before Keras 3.12)",
           "test_a_lookup_layer_does_not_read_a_vocabulary_file_outside_the_archive")
def lookup_reads_vocabulary_files():
    _keras3_src()
    import types

    from keras.src.layers.preprocessing import index_lookup

    shim = types.SimpleNamespace(**vars(index_lookup.serialization_lib))
    shim.in_safe_mode = lambda: False
    index_lookup.serialization_lib = shim


@_advisory("TFSMLayer.from_config loads its SavedModel in safe mode (as before Keras 3.12.1 / 3.13.2)",
           "test_a_tfsm_layer_in_a_keras_file_does_not_load_an_external_savedmodel")
def tfsm_layer_ignores_safe_mode():
    _keras3_src()
    from keras.src.export.tfsm_layer import TFSMLayer

    _unsafe_from_config(TFSMLayer)


@_advisory("the asset store accepts paths that leave its directory (as before Keras 3.12.3 / 3.15)",
           "test_the_asset_store_keeps_paths_inside_its_directory")
def asset_store_allows_dotdot():
    src = _keras3_src()
    store = src.saving.saving_lib.DiskIOStore
    if not hasattr(store, "_full_path"):
        raise NotApplicable("DiskIOStore has no _full_path (the check this mutant removes)")
    store._full_path = lambda self, path: self.working_dir + "/" + path


@_hdf5_advisory("load_model unpickles the object arrays of a '.keras' file's model.weights.npz, as before 3.9",
                "test_pickled_npz_weights_in_a_keras_file_are_not_unpickled", "keras.save_model")
def npz_weights_are_unpickled():
    src = _keras3_src()

    def make(orig):
        def init(self, root_path, archive=None, mode="r"):
            orig(self, root_path, archive, mode)
            if mode == "r":
                self.contents.allow_pickle = True  # NumPy's NpzFile reads every member with this flag
        return init
    _wrap(src.saving.saving_lib.NpzIOStore, "__init__", make)


@_hdf5_advisory("the weight loaders read HDF5 external storage, as before #22057",
                "test_hdf5_external_references_in_the_weights_of_a_keras_file_are_not_read", "keras.save_model")
def h5_external_storage_is_read():
    _let_through("external Dataset")


@_hdf5_advisory("the weight loaders read a dataset of any declared size, as before #22975",
                "test_an_hdf5_shape_bomb_in_a_model_file_is_refused_before_allocating", "keras.save_model")
def h5_shape_bombs_are_allocated():
    _let_through("shape bomb")


def _saving_lib():
    return _keras3_src().saving.saving_lib


@_hdf5_advisory("load_model inflates config.json whatever it declares, as before #23010",
                "test_a_keras_file_whose_config_declares_gigabytes_is_refused_before_inflating", "keras.save_model")
def zip_members_read_unbounded():
    lib = _saving_lib()
    if not hasattr(lib, "_reject_zip_bomb"):
        raise NotApplicable("saving_lib has no _reject_zip_bomb (the check this mutant removes)")
    lib._reject_zip_bomb = lambda archive, name: None


@_hdf5_advisory("load_model allocates what an npz weight's .npy header declares, as before #23016",
                "test_npz_weights_declaring_gigabytes_are_refused_before_allocating", "keras.save_model")
def npz_members_allocated_unbounded():
    store = _saving_lib().NpzIOStore
    if not hasattr(store, "_reject_npz_bomb"):
        raise NotApplicable("NpzIOStore has no _reject_npz_bomb (the check this mutant removes)")
    store._reject_npz_bomb = lambda self, path: None


@_hdf5_advisory("load_model extracts every archive member to disk whatever it declares, as before #23101",
                "test_an_archive_member_declaring_hundreds_of_mib_is_not_extracted_to_disk", "keras.save_model")
def archive_members_extracted_unbounded():
    lib = _saving_lib()
    if not hasattr(lib, "_reject_zip_extract_bomb"):
        raise NotApplicable("saving_lib has no _reject_zip_extract_bomb (the check this mutant removes)")
    lib._reject_zip_extract_bomb = lambda archive: None
