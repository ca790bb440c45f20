"""Mutants that disarm the model-loading security fixes catalogued after the first 21 advisories (issue 27).

Registered into tests.mutants.CATALOGUE by `@mutant` on import (tests/mutants.py imports this module).
"""

from __future__ import annotations

from tests.mutants import (NotApplicable, _advisory, _hdf5_advisory, _keras3_src, _tar_extraction_unfiltered,
                           _unsafe_from_config)


@_advisory("get_file extracts tar members unfiltered ('../' members and links out of the directory followed)",
           "test_get_file_extraction_writes_nothing_outside_its_directory", recipe="keras.quickstart")
def tar_extraction_unfiltered_writes_outside():
    _tar_extraction_unfiltered()


@_advisory("TorchModuleWrapper.from_config without safe_mode unpickles its module (as before Keras 3.12.3 / 3.15)",
           "test_torch_module_wrapper_from_config_does_not_unpickle_without_a_safe_mode_argument",
           recipe="keras.config_json")
def torch_module_wrapper_from_config_unscoped_is_unsafe():
    _keras3_src()
    try:
        import torch  # noqa: F401 - the spec is not applicable without it, so nothing could kill this mutant
    except ImportError as exc:
        raise NotApplicable("the torch package is not installed") from exc
    from keras.src.utils.torch_utils import TorchModuleWrapper

    _unsafe_from_config(TorchModuleWrapper)


# --- decompression bombs (suite/test_keras_advisories_hdf5.py): each removes one bound of Keras 3.15.1 ---------

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
