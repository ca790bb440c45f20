"""The conformance plugin itself: recipe marks enforced at collection, one row per catalogue id,
statuses and sentences derived from the specs' outcomes, the same under xdist."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest

from tfguide import catalogue, contracts

CONFTEST = """
import importlib.util
import sys
from pathlib import Path

from tfguide import environment

# The plugin lives in the real suite (suite/support/conformance.py); the mini suite's own `suite` package, first
# on sys.path here, hides that one, so the plugin is loaded from its file.
_spec = importlib.util.spec_from_file_location("tfguide_conformance_plugin", "@ROOT@/suite/support/conformance.py")
_plugin = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_plugin)
ConformancePlugin = _plugin.ConformancePlugin

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


ROOT = Path(__file__).resolve().parents[1]
CONFTEST = CONFTEST.replace("@ROOT@", ROOT.as_posix())


@pytest.fixture
def mini_suite(pytester, monkeypatch):
    # The mini suite runs in a subprocess elsewhere: it must import this checkout's reports/ and tfguide/,
    # not a copy installed into the environment (`pip install -e` of another checkout).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
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
    assert contracts.errors(report, "conformance") == []
    by_id = rows(report)
    assert list(by_id) == list(catalogue.load())
    assert by_id["keras.fit"]["status"] == "fail"
    assert (by_id["keras.fit"]["passed"], by_id["keras.fit"]["failed"]) == (1, 1)
    assert by_id["keras.fit"]["failures"] == ["test_fit_broken: ValueError: iterations were 7, expected 8"]
    assert by_id["keras.fit"]["sentence"] == "Broken: 1 spec failed in a way no catalogued defect explains."
    assert by_id["keras.save_weights"]["api_state"] == "renamed"
    assert ".weights.h5" in by_id["keras.save_weights"]["api_sentence"]
    assert by_id["keras.save_weights"]["status"] == "known defect"
    # Known defects have their own count: `skipped` is what was skipped, nothing else.
    assert [by_id["keras.save_weights"][k] for k in ("passed", "known_defect_specs", "skipped")] == [1, 1, 0]
    assert by_id["keras.save_weights"]["known_defects"] == [
        {"id": None, "sentence": "Keras 9: h5 reload drops the optimizer", "upstream": "", "security": False}]
    assert by_id["keras.distribute"]["status"] == "skip"
    assert by_id["keras.distribute"]["skips"] == ["no GPU on this machine"]
    assert by_id["keras.distribute"]["sentence"] == "Not verified here: every spec was skipped."
    assert by_id["keras.layers"]["status"] == "not run"
    assert by_id["data.csv"]["status"] == "missing"
    assert report["summary"] == {"pass": 0, "known defect": 1, "vulnerable": 0, "fail": 1, "skip": 1, "not run": 1,
                                 "missing": 21}
    assert report["run"]["partial"] and report["run"]["why"] == ["1 spec(s) deselected (-k/-m)"]
    markdown = (pytester.path / "out" / "conformance-partial.md").read_text()
    assert markdown.splitlines()[2].startswith("**Verdict (partial run: 1 spec(s) deselected (-k/-m)): broken.**")
    assert "| keras.fit " in markdown and "✗ **FAIL**" in markdown
    assert "- ⚠ Keras 9: h5 reload drops the optimizer" in markdown
    assert "- – Skipped: no GPU on this machine." in markdown


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
        assert (row["known_defect_specs"], row["skipped"]) == (1, 0)
        assert defect.sentence not in row["sentence"]  # the cell is short; the defect is in the details
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
    assert row["status"] == "vulnerable" and row["vulnerable_specs"] == 1
    assert row["sentence"] == "Unsafe with files from others: CVE-2025-9905 reproduces here."
    markdown = (pytester.path / "out" / "conformance.md").read_text()
    answer = markdown.split("```")[0]
    assert (f"**Security: 1 of {len(catalogue.advisories())} model-loading advisories reproduce here: CVE-2025-9905**"
            in answer)
    # The one thing to do is the advisory's own advice.
    sentence = catalogue.advisories()["CVE-2025-9905"].sentence
    assert f"Next: {sentence[:1].lower()}{sentence[1:]}" in answer
    # (column widths depend on the catalogue's advisories: match the cells, not the padding)
    assert re.search(r"\| \[CVE-2025-9905\]\(#cve-2025-9905\) +\| \.h5 +\| 🔒 \*\*vulnerable\*\* ", markdown)
    assert re.search(r"\| \[CVE-2024-3660\]\(#cve-2024-3660\) +\| \.keras +\| ✓ refused ", markdown)
    # The installed version against the catalogue's fix record, per advisory, beside the verdict (never deciding
    # it): on Keras >= 3.12 a reproduced CVE-2025-9905 is past its recorded fix, and the report says so.
    env = report["environment"]
    packages = catalogue.installed_packages(env)
    for a in report["advisories"]:
        expected = catalogue.advisories()[a["id"]].version_check(a["verdict"], packages, env["python"])
        assert a["version_check"] == expected.as_dict()
    check = next(a for a in report["advisories"] if a["id"] == "CVE-2025-9905")["version_check"]
    assert (check["disagreement"] == catalogue.PAST_FIX_BUT_VULNERABLE) == (check["says"] == "fixed")
    assert ("### Behaviour and version disagree" in markdown) == (check["says"] == "fixed")


def test_a_note_left_by_a_skipped_spec_replaces_its_skip_reason(mini_suite):
    write, run = mini_suite
    write("test_keras_quickstart.py", """
        import pytest

        @pytest.mark.recipe("keras.quickstart")
        def test_runs():
            pass

        @pytest.mark.recipe("keras.quickstart")
        def test_real_data(request):
            request.node.user_properties.append(("recipe_note", "Real data not checked: put it in ~/data."))
            pytest.skip("the real data is not cached here: put a.gz and b.gz in ~/data (run load_data() once)")
    """)
    _, report = run()
    row = rows(report)["keras.quickstart"]
    assert (row["status"], row["skipped"]) == ("pass", 1)
    assert row["skips"] == ["Real data not checked: put it in ~/data."] and row["notes"] == []


def test_the_report_says_when_from_which_commit_and_by_which_command_it_was_made(pytester, mini_suite):
    import re

    write, run = mini_suite
    write("test_keras_fit.py", "import pytest\n@pytest.mark.recipe('keras.fit')\ndef test_f():\n    pass\n")
    _, report = run()
    assert report["schema_version"] == 2
    prov = report["provenance"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prov["date"])
    assert re.fullmatch(r"[0-9a-f]{40}", prov["git_commit"]) or prov["git_commit"] == "not a git checkout"
    assert prov["git_dirty"] in (True, False, None)
    assert "--report-dir" in prov["command_line"]
    markdown = (pytester.path / "out" / "conformance.md").read_text()
    assert f"Run {prov['date'][:10]} " in markdown.split("```")[0]


# -- the Markdown, from reports made up here (no pytest run) ---------------------------------------------

def answer_lines(markdown: str) -> list[str]:
    """The lines between the title and the first block (the fingerprint or a table)."""
    lines = []
    for line in markdown.splitlines()[1:]:
        if line.startswith(("```", "|")):
            return lines
        lines += [line] if line else []
    return lines


def report_of(statuses: dict[str, str], advisories: list[dict] = (), partial: bool = False) -> dict:
    """A conformance.json in which every catalogue recipe passes, except `statuses`."""
    recipes = []
    for rid, recipe in catalogue.load().items():
        status = statuses.get(rid, "pass")
        recipes.append({"id": rid, "section": recipe.section, "title": recipe.title, "status": status,
                        "passed": 1, "failed": int(status == "fail"), "known_defect_specs": 0,
                        "vulnerable_specs": 0, "skipped": 0, "api_state": "current",
                        "api_sentence": "Works as the guide writes it.", "sentence": "Works as the guide writes it.",
                        "failures": ["test_x: boom"] if status == "fail" else [],
                        "known_defects": [{"id": "d", "sentence": "It breaks.", "upstream": "cause: f.py, g",
                                           "security": False}] if status == "known defect" else [],
                        "advisories": ["CVE-1"] if status == "vulnerable" else [], "skips": [], "notes": []})
    return {"schema_version": 2, "provenance": {"date": "2026-01-02T03:04:05Z", "git_commit": "a" * 40,
                                                "git_dirty": False, "command_line": ["/venv/bin/python3",
                                                                                     "/venv/bin/pytest", "suite"]},
            "environment": {}, "run": {"partial": partial, "why": ["2 spec(s) deselected (-k/-m)"] if partial else []},
            "summary": {}, "recipes": recipes, "advisories": list(advisories)}


ADVISORY = {"id": "CVE-1", "aliases": [], "recipe": "keras.save_model", "format": ".h5", "verdict": "vulnerable",
            "detail": "the marker file was created", "payload": "runs code", "fixed": "3.12",
            "upstream": "https://example.invalid", "sentence": "Opening an untrusted '.h5' file runs its code."}


N = len(catalogue.load())  # a new recipe changes no literal here


@pytest.mark.parametrize("statuses, advisories, partial, verdict, next_step", [
    ({}, [], False, f"**Verdict: usable.** {N} of {N} recipes pass.", "Next: nothing; renamed and removed"),
    ({"keras.fit": "known defect"}, [], False, f"**Verdict: usable with known defects.** {N - 1} of {N} recipes "
     "pass; 1 has known defects.", "Next: before you rely on [keras.fit](#keras.fit), read its known defects"),
    ({"keras.save_model": "vulnerable"}, [ADVISORY], False, f"**Verdict: usable with known defects.** {N - 1} of "
     f"{N} recipes pass; 1 reproduces a security advisory ([keras.save_model](#keras.save_model)).",
     "Next: opening an untrusted '.h5' file runs its code."),
    ({"data.batch": "fail", "keras.fit": "known defect"}, [ADVISORY], True,
     f"**Verdict (partial run: 2 spec(s) deselected (-k/-m)): broken.** {N - 2} of {N} recipes pass; 1 fails "
     "([data.batch](#data.batch)); 1 has known defects.", "Next: read why [data.batch](#data.batch) fails"),
], ids=["usable", "known-defects", "vulnerable", "broken"])
def test_the_report_opens_with_the_verdict_the_security_findings_and_the_next_step(
        statuses, advisories, partial, verdict, next_step):
    from reports import render

    markdown = render.conformance_markdown(report_of(statuses, advisories, partial))
    answer = answer_lines(markdown)
    assert len(answer) <= 5
    assert answer[0] == verdict
    assert answer[-2].startswith(next_step)
    assert answer[-1] == "Run 2026-01-02 03:04:05 UTC at suite commit `aaaaaaaaaaaa` (clean), by `pytest suite`."
    if advisories:
        assert answer[1].startswith("**Security: 1 of 1 model-loading advisories reproduce here: CVE-1**")


def test_a_report_written_before_provenance_says_so():
    from reports import render

    assert render.provenance_line(None) == ("Run date, suite commit and command: not recorded (a report written "
                                            "before they were).")
    assert render.provenance_line({"date": "2026-01-02T03:04:05Z", "git_commit": "not a git checkout",
                                   "git_dirty": None, "command_line": ["python", "-m", "pytest", "suite"]}) == (
        "Run 2026-01-02 03:04:05 UTC from a suite that is not a git checkout, by `python -m pytest suite`.")


@pytest.mark.parametrize("sentence, cell, rest", [
    ("Works as the guide writes it.", "Works as the guide writes it.", ""),
    ("A" * 60 + " is gone. " + "B" * 100 + ".", "A" * 60 + " is gone.", "B" * 100 + "."),
    ("tf.x is gone: use tf.y (AttributeError); " + "z" * 120 + ".", "tf.x is gone: use tf.y (AttributeError)…",
     "z" * 120 + "."),
    ("Use f (e.g. f('a; b')); " + "w " * 70, "Use f (e.g. f('a; b'))…", ("w " * 70).strip()),
    ("word " * 40, ("word " * 27).strip() + "…", ("word " * 13).strip()),
], ids=["fits", "at-a-full-stop", "at-a-clause", "never-inside-brackets", "between-words"])
def test_a_cell_takes_the_lead_of_a_sentence_and_leaves_the_rest_for_the_details(sentence, cell, rest):
    from tfguide import text

    assert text.lead(sentence) == (cell, rest)
    assert len(text.lead(sentence)[0]) <= text.CELL_LIMIT


def test_the_golden_conformance_report_has_short_cells_and_says_nothing_twice():
    """Rendered from tests/golden/fixtures/conformance.json, a real run."""
    from tests import golden
    from tests.golden import readable

    fixture = json.loads((golden.FIXTURES / "conformance.json").read_text())
    markdown = golden.conformance_md()
    assert readable.long_cells(markdown) == []
    assert readable.repeated_sentences(markdown) == {}
    assert all(len(r["sentence"]) <= readable.CELL_LIMIT for r in fixture["recipes"])
    assert all(f"| {r['title']}" in markdown.replace("\\|", "|") for r in fixture["recipes"])
    assert len(answer_lines(markdown)) <= 5


def test_the_readability_checks_catch_a_long_cell_and_a_sentence_said_twice():
    from tests.golden import readable

    sentence = "A model reloaded from '.h5' cannot continue training."
    markdown = (f"| recipe | what it means for you |\n|---|---|\n| keras.save_model | {'x' * 141} |\n\n"
                f"{sentence}\n\n- ⚠ **[d](#d)**: {sentence} Upstream: u.\n")
    assert readable.long_cells(markdown) == [f"line 3: 141 characters: {'x' * 141}"]
    assert readable.repeated_sentences(markdown) == {sentence: 2}
