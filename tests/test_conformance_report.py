"""The conformance plugin itself: recipe marks enforced at collection, one row per catalogue id,
statuses and sentences derived from the specs' outcomes, the same under xdist."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from tfguide import catalogue

CONFTEST = """
from pathlib import Path
from reports.conformance import ConformancePlugin
from tfguide import environment

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

    def run(*args, paths=("suite",)):
        for old in (pytester.path / "out").glob("conformance*"):
            old.unlink()
        result = pytester.runpytest_subprocess(*paths, "--report-dir", str(pytester.path / "out"),
                                               "-p", "no:cacheprovider", *args)
        written = sorted((pytester.path / "out").glob("conformance*.json"))
        assert len(written) <= 1, written
        return result, json.loads(written[0].read_text()) if written else None

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
    assert by_id["keras.save_weights"]["api_state"] == "renamed"
    assert ".weights.h5" in by_id["keras.save_weights"]["sentence"]
    assert by_id["keras.save_weights"]["status"] == "known defect"
    assert by_id["keras.save_weights"]["known_defects"] == [
        {"id": None, "sentence": "Keras 9: h5 reload drops the optimizer", "upstream": "", "security": False}]
    assert by_id["keras.distribute"]["status"] == "skip"
    assert by_id["keras.distribute"]["sentence"] == "Not verified here: no GPU on this machine"
    assert by_id["keras.layers"]["status"] == "not run"
    assert by_id["data.csv"]["status"] == "missing"
    assert report["summary"] == {"pass": 0, "known defect": 1, "vulnerable": 0, "fail": 1, "skip": 1, "not run": 1,
                                 "missing": 21}
    assert report["run"]["partial"] and report["run"]["why"] == ["1 spec(s) deselected (-k/-m)"]
    markdown = (pytester.path / "out" / "conformance-partial.md").read_text()
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


SAVE_MODEL_SPECS = """
import pytest

pytestmark = pytest.mark.recipe("keras.save_model")

@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_training_continued_after_reload_equals_uninterrupted_training(ext):
    if ext == ".h5":
        raise ValueError(MESSAGE)

def test_lambda_layer_in_default_safe_mode():
    pass
"""


@pytest.mark.parametrize("message, status", [
    ("Unknown variable: <Variable path=adam/m_0>", "known defect"),
    ("shapes (3, 4) and (4, 3) are incompatible", "fail"),
], ids=["recognised", "another-failure"])
def test_a_catalogued_defect_is_recognised_by_its_exception_and_message(mini_suite, message, status):
    write, run = mini_suite
    write("test_keras_save_model.py", f"MESSAGE = {message!r}\n" + SAVE_MODEL_SPECS)
    result, report = run("-n", "2")

    row = rows(report)["keras.save_model"]
    assert row["status"] == status
    if status == "known defect":
        result.assert_outcomes(passed=2, xfailed=1)
        defect = catalogue.defects()["keras-h5-reload-loses-optimizer-state"]
        assert row["known_defects"] == [{"id": defect.id, "sentence": defect.sentence, "upstream": defect.upstream,
                                         "security": False}]
        assert defect.sentence in row["sentence"]
    else:
        result.assert_outcomes(passed=2, failed=1)
        assert row["failures"] == [f"test_training_continued_after_reload_equals_uninterrupted_training[.h5]: "
                                   f"ValueError: {message}"]


def test_the_same_exception_in_another_spec_is_a_failure(mini_suite):
    write, run = mini_suite
    write("test_keras_save_model.py", """
        import pytest

        @pytest.mark.recipe("keras.save_model")
        def test_something_else():
            raise ValueError("Unknown variable")
    """)
    _, report = run()
    assert rows(report)["keras.save_model"]["status"] == "fail"


def test_a_narrower_path_writes_a_partial_report_and_leaves_the_full_one(pytester, mini_suite):
    write, run = mini_suite
    write("test_data_batch.py", "import pytest\n@pytest.mark.recipe('data.batch')\ndef test_b():\n    pass\n")
    write("test_keras_fit.py", "import pytest\n@pytest.mark.recipe('keras.fit')\ndef test_f():\n    pass\n")
    result, full = run()
    assert full["run"] == {"partial": False, "why": [], "specs_run": 2}
    full_text = (pytester.path / "out" / "conformance.json").read_text()

    result = pytester.runpytest_subprocess("suite/test_data_batch.py", "--report-dir", str(pytester.path / "out"),
                                           "-p", "no:cacheprovider")

    assert (pytester.path / "out" / "conformance.json").read_text() == full_text
    partial = json.loads((pytester.path / "out" / "conformance-partial.json").read_text())
    by_id = rows(partial)
    assert by_id["data.batch"]["status"] == "pass"
    assert by_id["keras.fit"]["status"] == "not run"  # its module exists but was not collected
    assert by_id["data.csv"]["status"] == "missing"  # no module names it
    assert partial["run"]["why"] == ["1 recipe(s) not collected (a narrower path)"]
    result.stdout.fnmatch_lines([
        "*1 pass, 1 not run, 23 missing -> */out/conformance-partial.md and */out/conformance-partial.json",
        "partial run (1 recipe(s) not collected (a narrower path)): written to conformance-partial.md/.json; "
        "the full report */out/conformance.md is left as it was."])
    assert "(partial run)" in (pytester.path / "out" / "conformance-partial.md").read_text()


def test_a_run_stopped_by_x_is_partial(mini_suite):
    write, run = mini_suite
    write("test_keras_fit.py", """
        import pytest

        @pytest.mark.recipe("keras.fit")
        def test_first():
            raise AssertionError("broken")

        @pytest.mark.recipe("keras.fit")
        def test_second():
            pass
    """)
    _, report = run("-x")
    assert report["run"]["partial"] and report["run"]["why"] == [
        "1 spec(s) did not finish (-x, --maxfail or an interrupted run)"]


def test_every_catalogued_defect_names_specs_that_exist():
    import fnmatch
    import re
    from pathlib import Path

    suite = Path(__file__).resolve().parents[1] / "suite"
    defined = {m: set(re.findall(r"^def (test_\w+)", (suite / m).read_text(), re.M))
               for m in (p.name for p in suite.glob("test_*.py"))}
    for defect in catalogue.defects().values():
        modules = [f"test_{rid.replace('.', '_')}.py" for rid in defect.recipes]
        for pattern in defect.specs:
            name = pattern.split("[", 1)[0]
            assert any(fnmatch.fnmatchcase(f, name) for m in modules for f in defined.get(m, ())), (
                defect.id, pattern)
        assert defect.sentence and defect.raises and defect.match


@pytest.mark.parametrize("tf, keras, module, inside, why", [
    ("2.12.1", "2.12.0", "keras.api._v2.keras", True, []),
    ("2.15.1", "2.15.0", "keras.api._v2.keras", True, []),
    ("2.16.1", "3.3.3", "keras._tf_keras.keras", True, []),
    ("2.17.1", "3.9.2", "keras._tf_keras.keras", True, []),  # a pair the matrix does not have
    ("2.21.0", "2.21.0", "tf_keras", True, []),
    ("2.11.0", "2.11.0", "keras.api._v2.keras", False, ["TensorFlow 2.11.0 is outside 2.12-2.21"]),
    ("2.22.0.dev20261101", "3.16.0", "keras._tf_keras.keras", False, ["TensorFlow 2.22.0.dev20261101 is outside 2.12-2.21"]),
    ("2.21.0", "3.16.0", "keras._tf_keras.keras", False, ["Keras 3.16.0 is outside 3.0-3.15"]),
    ("2.20.0", "2.19.0", "tf_keras", False, ["tf_keras 2.19.0 does not match TensorFlow 2.20.0"]),
    ("2.14.1", "2.15.0", "keras.api._v2.keras", False, ["Keras 2.15.0 is not the Keras 2 of TensorFlow 2.14.1"]),
], ids=["2.12", "2.15", "2.16+3.3", "2.17+3.9", "tf_keras", "too-old", "nightly", "newer-keras", "tf_keras-mismatch",
        "keras2-mismatch"])
def test_report_header_says_whether_the_environment_is_in_the_verified_range(tf, keras, module, inside, why):
    from tfguide import environment

    env = {"tensorflow": tf, "keras": {"version": keras, "module": module}, "python": "3.11.7"}
    verdict = environment.verified_range(env)
    assert (verdict["inside"], verdict["why"]) == (inside, why)
    line = environment.range_line(env)
    assert line.startswith("Verified range: TensorFlow 2.12-2.21" if inside else "OUTSIDE the verified range (")


ADVISORY_SPECS = """
    import pytest
    from tfguide.catalogue import AdvisoryReproduced

    pytestmark = pytest.mark.recipe("keras.save_model")

    def record(request, aid, verdict, detail):
        request.node.user_properties.append(("advisory", {"id": aid, "verdict": verdict, "detail": detail}))

    def test_lambda_bytecode_in_a_keras_file_does_not_run_in_safe_mode(request):
        record(request, "CVE-2024-3660", "refused", "ValueError: Requested the deserialization of a Lambda")

    def test_lambda_bytecode_in_an_h5_file_does_not_run_in_safe_mode(request):
        record(request, "CVE-2025-9905", "vulnerable", "the marker file was created")
        raise AdvisoryReproduced("CVE-2025-9905", "the marker file was created")

    def test_a_keras_file_cannot_make_load_model_import_a_module_it_names(request):
        raise RuntimeError("the crafted archive could not be written")

    def test_not_an_advisory_spec():
        # Only the spec the catalogue names for an advisory can report it: anything else is a failure.
        raise AdvisoryReproduced("CVE-2024-3660", "claimed by the wrong spec")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_advisory_verdicts_come_from_what_their_specs_observed(mini_suite, workers):
    write, run = mini_suite
    write("test_adv.py", ADVISORY_SPECS)
    result, report = run(*workers)
    result.assert_outcomes(passed=1, failed=2, xfailed=1)
    verdicts = {a["id"]: (a["verdict"], a["detail"]) for a in report["advisories"]}
    assert verdicts["CVE-2024-3660"] == ("refused", "ValueError: Requested the deserialization of a Lambda")
    assert verdicts["CVE-2025-9905"] == ("vulnerable", "the marker file was created")
    assert verdicts["CVE-2025-1550"] == (
        "undetermined", "test_a_keras_file_cannot_make_load_model_import_a_module_it_names: "
                        "RuntimeError: the crafted archive could not be written")
    assert [a["id"] for a in report["advisories"]] == list(catalogue.advisories())
    not_run = set(catalogue.advisories()) - {"CVE-2024-3660", "CVE-2025-9905", "CVE-2025-1550"}
    assert {verdicts[aid][0] for aid in not_run} <= {"not run"}
    row = rows(report)["keras.save_model"]
    # A failing spec outranks a reproduced advisory; the advisory is still listed on the row.
    assert row["status"] == "fail" and row["advisories"] == ["CVE-2025-9905"]
    assert any("claimed by the wrong spec" in f for f in row["failures"])


def test_a_reproduced_advisory_makes_its_recipe_vulnerable_and_the_headline_says_so(pytester, mini_suite):
    write, run = mini_suite
    write("test_adv.py", ADVISORY_SPECS.split("    def test_a_keras_file")[0])
    result, report = run()
    result.assert_outcomes(passed=1, xfailed=1)
    row = rows(report)["keras.save_model"]
    assert row["status"] == "vulnerable"
    assert "Unsafe with files from others: 1 advisory reproduces here (CVE-2025-9905)." in row["sentence"]
    assert "refuses" not in row["sentence"]
    markdown = (pytester.path / "out" / "conformance.md").read_text()
    assert (f"**Security: 1 of {len(catalogue.advisories())} model-loading advisories reproduce here: CVE-2025-9905**"
            in markdown.split("| recipe")[0])
    assert re.search(r"\| \[CVE-2025-9905\]\(#cve-2025-9905\) +\| \.h5 +\| \*\*VULNERABLE\*\*", markdown)
