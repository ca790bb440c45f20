"""Mutants that disarm the model-loading security fixes catalogued after the first 21 advisories (issue 27).

Registered into tests.mutants.CATALOGUE by `@mutant` on import (tests/mutants.py imports this module).
"""

from __future__ import annotations

from tests.mutants import NotApplicable, _advisory, _keras3_src, _tar_extraction_unfiltered, _unsafe_from_config


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
