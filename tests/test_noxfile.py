"""The matrix's environments as noxfile.py declares them, and how it judges the suite's install into each
(nox must be importable)."""

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


def _tf_minor(spec: dict) -> str:
    [tf] = [p for p in spec["install"] if p.startswith("tensorflow-cpu==")]
    return ".".join(tf.split("==")[1].split(".")[:2])


def test_default_sessions_run_every_environment_then_the_merge(noxfile):
    assert nox.options.sessions == [*noxfile.ENVIRONMENTS, "matrix"]
    assert len(noxfile.ENVIRONMENTS) >= 15


def test_every_tensorflow_of_the_declared_range_has_a_column(noxfile):
    minors = {_tf_minor(spec) for spec in noxfile.ENVIRONMENTS.values()}
    assert minors == {f"2.{n}" for n in range(12, 22)}


def test_keras_2_columns_take_the_keras_tensorflow_brings(noxfile):
    for name in ("tf2.12", "tf2.13", "tf2.14", "tf2.15"):
        assert noxfile.ENVIRONMENTS[name]["install"] == [f"tensorflow-cpu=={ {'tf2.12': '2.12.1', 'tf2.13': '2.13.1', 'tf2.14': '2.14.1', 'tf2.15': '2.15.1'}[name] }"]


def test_each_tensorflow_from_2_16_has_the_keras_3_minor_of_its_release(noxfile):
    pairs = {name: tuple(spec["install"]) for name, spec in noxfile.ENVIRONMENTS.items()
             if any(p.startswith("keras==") for p in spec["install"])}
    assert pairs == {
        "tf2.16-keras3.0": ("tensorflow-cpu==2.16.1", "keras==3.0.5"),
        "tf2.16-keras3.3": ("tensorflow-cpu==2.16.1", "keras==3.3.3"),
        "tf2.16-keras3.15": ("tensorflow-cpu==2.16.2", "keras==3.15.1"),
        "tf2.17-keras3.4": ("tensorflow-cpu==2.17.1", "keras==3.4.1"),
        "tf2.18-keras3.6": ("tensorflow-cpu==2.18.1", "keras==3.6.0"),
        "tf2.19-keras3.9": ("tensorflow-cpu==2.19.1", "keras==3.9.2"),
        "tf2.20-keras3.11": ("tensorflow-cpu==2.20.0", "keras==3.11.3"),
        "tf2.21-keras3.13": ("tensorflow-cpu==2.21.0", "keras==3.13.2"),
        "tf2.21-keras3.15": ("tensorflow-cpu==2.21.0", "keras==3.15.1"),
    }


def test_tf_keras_goes_in_without_dependencies_and_only_there_legacy_keras_is_set(noxfile):
    legacy = {name: spec["env"]["TF_USE_LEGACY_KERAS"] for name, spec in noxfile.ENVIRONMENTS.items()}
    assert {name for name, value in legacy.items() if value == "1"} == {"tf2.16-tf_keras", "tf2.21-tf_keras"}
    assert {name for name, value in legacy.items() if value is None} == set(noxfile.ENVIRONMENTS) - {
        "tf2.16-tf_keras", "tf2.21-tf_keras"}
    assert noxfile.ENVIRONMENTS["tf2.16-tf_keras"]["no_deps"] == ["tf-keras==2.16.0"]
    assert noxfile.ENVIRONMENTS["tf2.21-tf_keras"]["no_deps"] == ["tf-keras==2.21.0"]


def test_changes_lists_what_the_second_command_added_removed_and_changed(noxfile):
    before = {"numpy": "1.24.3", "keras": "2.13.1", "old": "1.0"}
    after = {"numpy": "2.4.6", "keras": "2.13.1", "pytest": "9.2.0"}
    assert noxfile.changes(before, after) == {"added": ["pytest==9.2.0"], "removed": ["old==1.0"],
                                              "changed": ["numpy 1.24.3 -> 2.4.6"]}


def _record(noxfile, changed=(), removed=(), check="No broken requirements found.\n", code=0,
            installed=None, requires=None):
    installed = installed or {"tensorflow-cpu": "2.13.1", "numpy": "2.4.6"}
    record = {"suite_install_changed": {"added": [], "removed": list(removed), "changed": list(changed)},
              "required_by_tensorflow": {"tensorflow-cpu": "2.13.1", "numpy": "1.24.3", "keras": "2.13.1"},
              "pip_check": noxfile.pip_check_verdict(check, code, installed, requires or {})}
    return noxfile.install_problems(record)


def test_an_install_that_changes_nothing_tensorflow_needs_and_a_clean_pip_check_passes(noxfile):
    assert _record(noxfile, changed=["pytest 7.0 -> 9.2.0"]) == []


def test_changing_a_package_tensorflow_requires_fails_even_with_a_clean_pip_check(noxfile):
    assert _record(noxfile, changed=["numpy 1.24.3 -> 2.4.6"]) == [
        "the suite's install changed numpy 1.24.3 -> 2.4.6, which the installed TensorFlow/Keras requires"]
    assert _record(noxfile, removed=["keras==2.13.1"]) == [
        "the suite's install changed keras==2.13.1, which the installed TensorFlow/Keras requires"]


def test_a_pip_check_complaint_fails(noxfile):
    line = "tensorflow-cpu 2.13.1 has requirement numpy<=1.24.3, but you have numpy 2.4.6."
    assert _record(noxfile, check=line + "\n", code=1) == [f"pip check: {line}"]


def test_tf_keras_requiring_tensorflow_is_met_by_tensorflow_cpu_of_an_accepted_version(noxfile):
    line = "tf-keras 2.21.0 requires tensorflow, which is not installed."
    installed = {"tensorflow-cpu": "2.21.0", "tf-keras": "2.21.0"}
    verdict = noxfile.pip_check_verdict(line + "\n", 1, installed, {"tf-keras": ["tensorflow<2.22,>=2.21"]})
    assert verdict["clean"] and verdict["problems"] == []
    assert verdict["excused"] == [f"{line} (tensorflow-cpu 2.21.0 provides the `tensorflow` module, "
                                  "and <2.22,>=2.21 accepts it)"]
    # ... but not by a tensorflow-cpu of another version, nor when no TensorFlow build is there at all.
    wrong = noxfile.pip_check_verdict(line, 1, {"tensorflow-cpu": "2.20.0"}, {"tf-keras": ["tensorflow<2.22,>=2.21"]})
    assert not wrong["clean"] and wrong["problems"] == [line]
    assert not noxfile.pip_check_verdict(line, 1, {"tf-keras": "2.21.0"}, {})["clean"]


def test_a_failing_pip_check_without_output_is_not_clean(noxfile):
    assert noxfile.pip_check_verdict("", 1, {}, {})["problems"] == ["pip check exited with status 1"]
