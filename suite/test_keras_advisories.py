"""Guide §1.8 reloads saved models; loading a file someone else wrote is where Keras has had most of its
security advisories. Each spec here builds the crafted file an advisory describes (suite/untrusted.py:
harmless, its only possible effect a marker file in tmp_path or a canary read back), loads it the way the
guide does (load_model, default safe mode) in a fresh sandboxed process, and reports what happened:

- `refused`: the payload did not take effect (the exception and its message are the detail), and a
  control shows that the same crafted file does take effect where that is allowed (safe_mode=False, or
  the mechanism exercised directly), so the refusal is this build's and not a broken reproduction;
- `vulnerable`: the payload took effect (the marker file exists, the canary was read back);
- `not applicable`: the API or file format the advisory is about does not exist here (the reason says why).

The verdict comes only from what the crafted file does on this build, never from a version number; the
advisories, their evidence and their fixes are data in reports/catalogue.toml ([[advisory]]).
"""

from __future__ import annotations

import pytest

from suite.helpers import keras
from suite.untrusted import (canary_module, edit_keras_config, layer_configs, marker_lambda_model, save,
                             save_without_side_effects)

pytestmark = pytest.mark.recipe("keras.save_model")


def _lambda_file(tmp_path, ext: str):
    marker = tmp_path / "lambda-ran"
    return save_without_side_effects(marker_lambda_model(marker), tmp_path / f"lambda{ext}", marker), marker


def _ran(marker):
    return lambda seen: "load_model ran the Lambda layer's bytecode: it created its marker file" if seen["marker"] else None


def test_lambda_bytecode_in_a_keras_file_does_not_run_in_safe_mode(tmp_path, advisory):
    path, marker = _lambda_file(tmp_path, ".keras")
    result = advisory.load("probe_load", path=str(path), marker=str(marker), control=True, call=True)
    advisory.judge("CVE-2024-3660", result, _ran(marker))


def test_lambda_bytecode_in_an_h5_file_does_not_run_in_safe_mode(tmp_path, advisory):
    path, marker = _lambda_file(tmp_path, ".h5")
    result = advisory.load("probe_load", path=str(path), marker=str(marker), control=True, call=True)
    advisory.judge("CVE-2025-9905", result, _ran(marker))


def test_a_keras_file_cannot_make_load_model_import_a_module_it_names(tmp_path, advisory):
    marker = tmp_path / "module-imported"
    modules = tmp_path / "modules"
    module = canary_module(modules, marker)
    path = tmp_path / "names_a_module.keras"
    save(keras.Sequential([keras.Input(shape=(3,)), keras.layers.Activation("linear", name="canary")]), path)

    def name_the_module(config):
        layer = layer_configs(config)[-1]
        layer.update({"module": module, "class_name": "Canary", "registered_name": None,
                      "config": {"name": "canary", "trainable": True}})

    edit_keras_config(path, name_the_module)
    result = advisory.load("probe_load", path=str(path), marker=str(marker), sys_path=[str(modules)])
    imported = (lambda seen: f"load_model imported the module {module} that config.json names (its top-level "
                             f"code ran)" if seen["marker"] else None)
    control = advisory.load("probe_import", module=module, sys_path=[str(modules)], marker=str(marker))
    assert control.status == "returned" and control.value["main"]["marker"], (
        f"control: importing {module} directly should create the marker: {control.value or control.error_line()}")
    marker.unlink()
    advisory.judge("CVE-2025-1550", result, imported, control=False, inert=f"{module} was not imported")
