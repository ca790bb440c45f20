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


def _lambda_code_in_safe_mode(advisory, advisory_id: str, path, marker) -> None:
    result = advisory.load("probe_load", path=str(path), call=True, marker=str(marker))
    if marker.exists():
        when = "when the reloaded model was called" if result.status == "returned" and \
            not result.value["marker_after_load"] else "while load_model rebuilt the model"
        advisory.vulnerable(advisory_id, f"load_model(safe_mode=True) ran the Lambda layer's code from a "
                                         f"'{path.suffix}' file: it created its marker file {when}")
    assert result.status == "raised", (
        f"load_model neither ran the Lambda's code nor refused the file: {result.status} {result.value}")
    control = advisory.load("probe_load", path=str(path), safe_mode=False, call=True)
    assert control.status == "returned" and marker.exists(), (
        f"control: with safe_mode=False the same file should run the Lambda's code, but: {control.status} "
        f"{control.error_line()} (the reproduction does not work on this build)")
    advisory.refused(advisory_id, result.error_line())


def test_lambda_bytecode_in_a_keras_file_does_not_run_in_safe_mode(tmp_path, advisory):
    path, marker = _lambda_file(tmp_path, ".keras")
    _lambda_code_in_safe_mode(advisory, "CVE-2024-3660", path, marker)


def test_lambda_bytecode_in_an_h5_file_does_not_run_in_safe_mode(tmp_path, advisory):
    path, marker = _lambda_file(tmp_path, ".h5")
    _lambda_code_in_safe_mode(advisory, "CVE-2025-9905", path, marker)


def test_a_keras_file_cannot_make_load_model_import_a_module_it_names(tmp_path, advisory):
    marker = tmp_path / "module-imported"
    module = canary_module(tmp_path / "modules", marker)
    path = tmp_path / "names_a_module.keras"
    save(keras.Sequential([keras.Input(shape=(3,)), keras.layers.Activation("linear", name="canary")]), path)

    def name_the_module(config):
        layer = layer_configs(config)[-1]
        layer.update({"module": module, "class_name": "Canary", "registered_name": None,
                      "config": {"name": "canary", "trainable": True}})

    edit_keras_config(path, name_the_module)

    result = advisory.load("probe_load", path=str(path), sys_path=[str(tmp_path / "modules")])
    if marker.exists():
        advisory.vulnerable("CVE-2025-1550", f"load_model(safe_mode=True) imported the module {module} that the "
                                             f"file's config.json names (its top-level code ran)")
    control = advisory.load("probe_import", module=module, sys_path=[str(tmp_path / "modules")])
    assert control.status == "returned" and marker.exists(), (
        f"control: importing {module} directly should create the marker, but: {control.status} {control.error_line()}")
    advisory.refused("CVE-2025-1550", result.error_line() if result.status == "raised" else
                     f"load_model did not import {module} ({result.status}: loaded layers {result.value})")
