"""The conformance plugin itself: recipe marks enforced at collection, one row per catalogue id,
statuses and sentences derived from the specs' outcomes, the same under xdist."""

from __future__ import annotations

import json
import textwrap

import pytest

from reports import catalogue

CONFTEST = """
from pathlib import Path
from reports.conformance import ConformancePlugin
from reports import environment

def pytest_addoption(parser):
    parser.addoption("--report-dir")

def pytest_configure(config):
    config.addinivalue_line("markers", "recipe(id): recipe id")
    config.pluginmanager.register(ConformancePlugin(config, Path(__file__).parent / "suite"))

# The real fingerprint imports TensorFlow; these tests are about the report's logic.
FAKE = {"python": "3.11.7", "tensorflow": "2.21.0", "tensorflow_distribution": "tensorflow",
        "keras": {"name": "Keras 3", "version": "3.15.1", "module": "keras", "legacy_env": ""},
        "numpy": "2.4.6", "cpu": {"model": "test CPU", "cores": 2, "usable_cores": 2}, "memory_gib": 1.0,
        "gpus": [], "cuda_build": {"is_cuda_build": False, "cuda_version": None, "cudnn_version": None}}
environment.for_config = lambda config: FAKE
"""


@pytest.fixture
def mini_suite(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.mkdir("suite")
    (pytester.path / "suite" / "__init__.py").write_text("")

    def write(name: str, body: str):
        (pytester.path / "suite" / name).write_text(textwrap.dedent(body))

    def run(*args):
        result = pytester.runpytest_subprocess("suite", "--report-dir", str(pytester.path / "out"),
                                               "-p", "no:cacheprovider", *args)
        path = pytester.path / "out" / "conformance.json"
        return result, json.loads(path.read_text()) if path.exists() else None

    return write, run


def rows(report):
    return {r["id"]: r for r in report["recipes"]}


@pytest.mark.parametrize("source, message", [
    ("def test_unmarked():\n    pass\n",
     "*test_unmarked: every spec needs exactly one @pytest.mark.recipe*"),
    ("import pytest\n@pytest.mark.recipe('keras.nonexistent')\ndef test_x():\n    pass\n",
     "*unknown recipe id 'keras.nonexistent'*"),
    ("import pytest\npytestmark = pytest.mark.recipe('keras.fit')\n"
     "@pytest.mark.recipe('keras.layers')\ndef test_x():\n    pass\n",
     "*every spec needs exactly one @pytest.mark.recipe* (found 2)*"),
], ids=["unmarked", "unknown-id", "two-marks"])
def test_bad_recipe_mark_is_a_collection_error(mini_suite, source, message):
    write, run = mini_suite
    write("test_a.py", source)
    result, _ = run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_report_has_one_row_per_catalogue_id_with_statuses(pytester, mini_suite, workers):
    write, run = mini_suite
    write("test_a.py", """
        import pytest

        @pytest.mark.recipe("keras.fit")
        def test_fit_ok():
            pass

        @pytest.mark.recipe("keras.fit")
        def test_fit_broken():
            raise ValueError("iterations were 7, expected 8")

        @pytest.mark.recipe("keras.save_weights")
        def test_saved():
            pass

        @pytest.mark.recipe("keras.save_weights")
        @pytest.mark.xfail(raises=ValueError, strict=True, reason="Keras 9: h5 reload drops the optimizer")
        def test_known_defect():
            raise ValueError("Unknown variable")

        @pytest.mark.recipe("keras.distribute")
        def test_gpu():
            pytest.skip("no GPU on this machine")

        @pytest.mark.recipe("keras.layers")
        def test_deselected():
            pass
    """)
    result, report = run("-k", "not deselected", *workers)
    # xdist's controller does not count deselections; the report's "not run" row must still show it.
    result.assert_outcomes(passed=2, failed=1, skipped=1, xfailed=1, deselected=0 if workers else 1)
    by_id = rows(report)
    assert list(by_id) == list(catalogue.load())
    assert by_id["keras.fit"]["status"] == "fail"
    assert (by_id["keras.fit"]["passed"], by_id["keras.fit"]["failed"]) == (1, 1)
    assert by_id["keras.fit"]["sentence"] == "Broken: test_fit_broken: ValueError: iterations were 7, expected 8"
    assert by_id["keras.save_weights"]["status"] == "pass"
    assert by_id["keras.save_weights"]["api_state"] == "renamed"
    assert ".weights.h5" in by_id["keras.save_weights"]["sentence"]
    assert by_id["keras.save_weights"]["known_defects"] == ["Keras 9: h5 reload drops the optimizer"]
    assert by_id["keras.distribute"]["status"] == "skip"
    assert by_id["keras.distribute"]["sentence"] == "Not verified here: no GPU on this machine"
    assert by_id["keras.layers"]["status"] == "not run"
    assert by_id["data.csv"]["status"] == "missing"
    assert report["summary"] == {"pass": 1, "fail": 1, "skip": 1, "not run": 1, "missing": 21}
    markdown = (pytester.path / "out" / "conformance.md").read_text()
    assert "| keras.fit " in markdown and "**FAIL**" in markdown
    assert "  - Keras 9: h5 reload drops the optimizer" in markdown


def test_api_state_follows_the_versions():
    recipe = catalogue.load()["estimator.dnn_classifier"]
    assert recipe.api_state({"tf": "2.15.1", "keras": "2.15.0"}).state == "current"
    assert recipe.api_state({"tf": "2.16.2", "keras": "3.15.1"}).state == "removed"
    assert recipe.api_state({"tf": "2.22.0.dev20261101", "keras": "3.16.0"}).state == "removed"
    weights = catalogue.load()["keras.save_weights"]
    assert weights.api_state({"tf": "2.21.0", "keras": "2.21.0"}).state == "current"
    assert weights.api_state({"tf": "2.21.0", "keras": "3.15.1"}).state == "renamed"
