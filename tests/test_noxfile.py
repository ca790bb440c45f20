"""The matrix's environments as noxfile.py declares them (the issue names the four; nox must be importable)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

nox = pytest.importorskip("nox")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def noxfile():
    spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_sessions_run_the_four_environments_then_the_merge(noxfile):
    assert nox.options.sessions == ["tf2.15", "tf2.16", "tf2.21", "tf2.21-tf_keras", "matrix"]


def test_each_environment_pins_its_tensorflow(noxfile):
    pins = {name: spec["install"] + spec.get("no_deps", []) for name, spec in noxfile.ENVIRONMENTS.items()}
    assert pins == {
        "tf2.15": ["tensorflow-cpu==2.15.1"],
        "tf2.16": ["tensorflow-cpu==2.16.2"],
        "tf2.21": ["tensorflow-cpu==2.21.0"],
        "tf2.21-tf_keras": ["tensorflow-cpu==2.21.0", "tf-keras==2.21.0"],
    }


def test_only_the_tf_keras_environment_sets_legacy_keras(noxfile):
    legacy = {name: spec["env"]["TF_USE_LEGACY_KERAS"] for name, spec in noxfile.ENVIRONMENTS.items()}
    assert legacy == {"tf2.15": None, "tf2.16": None, "tf2.21": None, "tf2.21-tf_keras": "1"}
