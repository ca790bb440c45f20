"""Unit tests of the version-matrix merge (reports/matrix.py) on small synthetic conformance reports.

The project's own tooling, not the guide: run with `pytest tests` (not part of `pytest suite`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports import __main__ as reports_cli
from reports import matrix
from tfguide import catalogue

CATALOGUE_IDS = list(catalogue.load())

ENV_215 = {"python": "3.11.7", "tensorflow": "2.15.1", "tensorflow_distribution": "tensorflow-cpu",
           "keras": {"name": "Keras 2", "version": "2.15.0", "module": "keras.api._v2.keras"}, "numpy": "1.26.4"}
ENV_221 = {"python": "3.11.9", "tensorflow": "2.21.0", "tensorflow_distribution": "tensorflow",
           "keras": {"name": "Keras 3", "version": "3.15.1", "module": "keras._tf_keras.keras"}, "numpy": "2.4.6"}
# Ids the catalogue does not have: the matrix then says the reports' sentences (for a catalogued id, the
# catalogue's current one).
DEFECT = {"id": "h5-reload-loses-optimizer-state", "sentence": "A model reloaded from '.h5' cannot continue "
          "training.", "upstream": "https://example.invalid/1", "security": False}
SECURITY = {"id": "keras-lambda-loads-in-safe-mode", "sentence": "load_model runs a Lambda's code.",
            "upstream": "CVE-2024-3660", "security": True}


def make_report(env: dict, overrides: dict[str, dict] | None = None, ids: list[str] | None = None) -> dict:
    """A conformance report in which every recipe passes with API state `current`, except `overrides`."""
    overrides = overrides or {}
    rows = []
    for rid in CATALOGUE_IDS if ids is None else ids:
        row = {"id": rid, "section": "x", "title": rid, "status": "pass", "passed": 1, "failed": 0,
               "skipped": 0, "api_state": "current", "sentence": f"{rid} works.", "failures": [], "notes": []}
        row.update(overrides.get(rid, {}))
        rows.append(row)
    return {"environment": env, "summary": {}, "recipes": rows}


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture
def two_envs(tmp_path):
    old = write(tmp_path / "in" / "tf2.15" / "conformance.json", make_report(ENV_215, {
        "estimator.dnn_classifier": {"api_state": "current", "sentence": "The real DNNClassifier ran."},
        "keras.fit": {"status": "fail", "passed": 2, "failed": 1, "sentence": "Broken: test_steps: assert 29 == 30",
                      "failures": ["test_steps: assert 29 == 30"]},
    }))
    new = write(tmp_path / "in" / "tf2.21" / "conformance.json", make_report(ENV_221, {
        "estimator.dnn_classifier": {"api_state": "removed", "sentence": "tf.estimator was removed in TF 2.16."},
        "data.csv": {"status": "missing", "api_state": "renamed", "sentence": "No spec covers this recipe yet."},
    }))
    return old, new


def md_row(md: str, first: str) -> list[str]:
    """The cells of the first Markdown table row whose first cell is `first`."""
    line = next(ln for ln in md.splitlines() if ln.startswith(f"| {first} "))
    return [c.strip() for c in line.strip("|").split("|")]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = matrix.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_matrix_has_one_row_per_catalogue_recipe_in_catalogue_order(two_envs, tmp_path, capsys):
    code, _, _ = run(["--out-dir", str(tmp_path / "out"), *map(str, two_envs)], capsys)

    assert code == 0
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert [r["id"] for r in merged["recipes"]] == CATALOGUE_IDS
    assert [r["section"] for r in merged["recipes"]] == [catalogue.load()[rid].section for rid in CATALOGUE_IDS]


def test_matrix_json_cells_carry_each_environments_status_state_and_sentence(two_envs, tmp_path, capsys):
    run(["--out-dir", str(tmp_path / "out"), *map(str, two_envs)], capsys)
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())

    assert [(e["name"], e["environment"]) for e in merged["environments"]] == [("tf2.15", ENV_215), ("tf2.21", ENV_221)]
    rows = {r["id"]: r["cells"] for r in merged["recipes"]}
    dnn = rows["estimator.dnn_classifier"]
    assert {env: (c["status"], c["api_state"], c["sentence"]) for env, c in dnn.items()} == {
        "tf2.15": ("pass", "current", "The real DNNClassifier ran."),
        "tf2.21": ("pass", "removed", "tf.estimator was removed in TF 2.16."),
    }
    assert (rows["keras.fit"]["tf2.15"]["status"], rows["keras.fit"]["tf2.15"]["failures"]) == (
        "fail", ["test_steps: assert 29 == 30"])
    assert (rows["data.csv"]["tf2.21"]["status"], rows["data.csv"]["tf2.21"]["api_state"]) == ("missing", "renamed")


def test_matrix_md_has_versions_header_one_symbol_per_cell_and_failure_list(two_envs, tmp_path, capsys):
    run(["--out-dir", str(tmp_path / "out"), *map(str, two_envs)], capsys)
    md = (tmp_path / "out" / "matrix.md").read_text()
    lines = md.splitlines()

    # Columns that hold the same value in every environment are said once, above the table.
    assert f"In every environment: {len(CATALOGUE_IDS) - 1} ✓ cells; no ⚠ cell; no 🔒 cell; no ? cell." in lines
    assert md_row(md, "environment") == ["environment", "TensorFlow", "tf.keras", "numpy", "Python", "✗", "–"]
    assert md_row(md, "tf2.15") == ["tf2.15", "2.15.1 (tensorflow-cpu)", "Keras 2 2.15.0", "1.26.4", "3.11.7",
                                    "1", "0"]
    assert md_row(md, "tf2.21") == ["tf2.21", "2.21.0 (tensorflow)", "Keras 3 3.15.1", "2.4.6", "3.11.9",
                                    "0", "1"]
    assert md_row(md, "recipe") == ["recipe", "title", "§", "API", "tf2.15", "tf2.21"]
    # The API state is said once per recipe: the usual one, then where it differs.
    dnn = catalogue.load()["estimator.dnn_classifier"]
    assert md_row(md, "estimator.dnn_classifier") == ["estimator.dnn_classifier", dnn.title, "3.3-3.6",
                                                      "current; removed on tf2.21", "✓", "✓"]
    assert md_row(md, "keras.fit")[3:] == ["current", "✗", "✓"]
    assert md_row(md, "data.csv")[3:] == ["current; renamed on tf2.21", "✓", "–"]
    table = [ln for ln in lines if ln.startswith("| ") and ln.split("|")[1].strip() in CATALOGUE_IDS]
    assert [ln.split("|")[1].strip() for ln in table] == CATALOGUE_IDS
    failures = lines[lines.index("## Failures") + 2:]
    assert failures[0] == "- ✗ keras.fit on tf2.15: test_steps: assert 29 == 30"
    assert failures[1] == ""
    unverified = lines[lines.index("## Cells without a verdict") + 2:]
    assert unverified[0] == "- – missing — data.csv on tf2.21: No spec covers this recipe yet."


def test_matrix_md_has_no_failures_section_when_nothing_fails(tmp_path, capsys):
    src = write(tmp_path / "tf2.21" / "conformance.json", make_report(ENV_221))
    run(["--out-dir", str(tmp_path / "out"), str(src)], capsys)

    assert "## Failures" not in (tmp_path / "out" / "matrix.md").read_text()


def test_name_given_as_name_equals_path_and_folder_accepted_for_the_file(two_envs, tmp_path, capsys):
    old, new = two_envs
    code, out, _ = run(["--out-dir", str(tmp_path / "out"), f"legacy={old.parent}", f"modern={new}"], capsys)

    assert code == 0
    assert f"{len(CATALOGUE_IDS)} recipes x 2 environments" in out
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert [e["name"] for e in merged["environments"]] == ["legacy", "modern"]
    assert set(merged["recipes"][0]["cells"]) == {"legacy", "modern"}


def test_without_arguments_merges_every_report_under_the_matrix_folder(two_envs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(matrix, "DEFAULT_REPORT_DIR", tmp_path / "in")
    (tmp_path / "in" / "matrix").mkdir()
    for src in two_envs:  # tfguide-reports/matrix/<env>/conformance.json is where the nox sessions write
        write(tmp_path / "in" / "matrix" / src.parent.name / "conformance.json", src.read_text())

    code, _, _ = run([], capsys)

    assert code == 0
    merged = json.loads((tmp_path / "in" / "matrix.json").read_text())
    assert [e["name"] for e in merged["environments"]] == ["tf2.15", "tf2.21"]
    assert (tmp_path / "in" / "matrix.md").exists()


def test_missing_report_is_an_error_naming_the_file(two_envs, tmp_path, capsys):
    gone = tmp_path / "in" / "tf2.16" / "conformance.json"
    code, _, err = run(["--out-dir", str(tmp_path / "out"), str(two_envs[0]), f"tf2.16={gone}"], capsys)

    assert code == 2
    assert f"{gone}: no such file" in err
    assert not (tmp_path / "out").exists()


def test_allow_missing_turns_a_missing_report_into_a_no_report_column(two_envs, tmp_path, capsys):
    gone = tmp_path / "in" / "tf2.16" / "conformance.json"
    code, _, _ = run(["--allow-missing", "--out-dir", str(tmp_path / "out"), str(two_envs[0]), f"tf2.16={gone}"],
                     capsys)

    assert code == 0
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert merged["environments"][1]["name"] == "tf2.16"
    assert merged["environments"][1]["environment"] is None
    assert {r["cells"]["tf2.16"]["status"] for r in merged["recipes"]} == {"no report"}
    md = (tmp_path / "out" / "matrix.md").read_text()
    assert md_row(md, "tf2.16") == ["tf2.16", "-", "-", "-", "-", "0", "0", str(len(CATALOGUE_IDS))]
    assert f"- tf2.16: no report ({gone}: no such file" in md


def test_allow_missing_still_refuses_a_report_that_exists_but_is_broken(tmp_path, capsys):
    bad = write(tmp_path / "tf2.21" / "conformance.json", "{not json")
    code, _, err = run(["--allow-missing", "--out-dir", str(tmp_path / "out"), str(bad)], capsys)

    assert code == 2
    assert "not a conformance report: not JSON" in err


def _row(**fields) -> dict:
    row = {"id": "keras.fit", "status": "pass", "api_state": "current", "sentence": "ok"}
    row.update(fields)
    return row


def _report(*rows, **fields) -> dict:
    report = {"environment": dict(ENV_221), "recipes": list(rows) or [_row()]}
    report.update(fields)
    return report


NESTED = "[" * 100_000 + "]" * 100_000


# Every malformed input: exit 2 and one line naming the file and what is wrong, never a traceback.
@pytest.mark.parametrize("content, message", [
    ("{not json", "not a conformance report: not JSON"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe", "not a conformance report: not text (binary content)"),
    (b"\x00\x00\x00\x00", "not a conformance report: not text (binary content)"),
    ("", "not a conformance report: not JSON"),
    (NESTED, "not a conformance report: JSON nested too deeply"),
    ([1, 2], "not a conformance report: expected an object with `environment` and `recipes`"),
    ('"conformance"', "found a JSON str"),
    ("null", "found a JSON NoneType"),
    ({"benchmarks": [], "machine_info": {}}, "found keys ['benchmarks', 'machine_info']"),
    ({"environment": {}, "recipes": {"keras.fit": "pass"}}, "expected an object with `environment` and `recipes`"),
    ({"environment": [], "recipes": []}, "expected an object with `environment` and `recipes`"),
    (_report(_row(), environment={"tensorflow": 2.21}), "environment.tensorflow is not a string"),
    (_report(_row(), environment={"keras": "3.15.1"}), "environment.keras is not an object"),
    (_report(run=[]), "`run` is not an object"),
    ({"environment": {}, "recipes": []}, "`recipes` is empty"),
    (_report("keras.fit"), "recipes[0] is not an object"),
    (_report({"id": "keras.fit", "status": "pass"}), "recipes[0] lacks api_state, sentence"),
    (_report({"status": "pass", "api_state": "current", "sentence": "ok"}), "recipes[0] lacks id"),
    (_report({"id": "keras.fit", "api_state": "current", "sentence": "ok"}), "recipes[0] lacks status"),
    (_report(_row(id=["keras.fit"])), "recipes[0].id is not a recipe id (a string)"),
    (_report(_row(id="")), "recipes[0].id is not a recipe id (a string)"),
    (_report(_row(status="passed")), "has status 'passed', expected one of"),
    (_report(_row(status=["pass"])), "has status ['pass'], expected one of"),
    (_report(_row(api_state="gone")), "has api_state 'gone', expected one of current, renamed, removed"),
    (_report(_row(sentence=None)), "recipe 'keras.fit': sentence is not a string"),
    (_report(_row(failures="boom")), "recipe 'keras.fit': failures is not a list"),
    (_report(_row(failures=[{"x": 1}])), "recipe 'keras.fit': failures are not strings"),
    (_report(_row(known_defects=[1])), "recipe 'keras.fit': known_defects are not objects"),
    (make_report(ENV_221, ids=["keras.fit", "keras.fit"]), "recipe 'keras.fit' appears twice"),
], ids=["not-json", "binary", "nul-bytes", "empty-file", "nested-too-deep", "json-list", "json-string",
        "json-null", "benchmark-report", "recipes-not-a-list", "environment-not-an-object", "tf-version-a-number",
        "keras-not-an-object", "run-not-an-object", "no-recipes", "row-not-an-object", "row-lacks-keys",
        "row-without-id", "row-without-status", "id-a-list", "id-empty", "unknown-status", "status-a-list",
        "unknown-api-state", "sentence-not-a-string", "failures-not-a-list", "failure-not-a-string",
        "defect-a-number", "duplicate-id"])
def test_bad_report_is_refused_with_one_line_naming_the_file(tmp_path, capsys, content, message):
    bad = write(tmp_path / "env" / "conformance.json", content)
    code, out, err = run(["--out-dir", str(tmp_path / "out"), str(bad)], capsys)

    assert code == 2
    assert err.startswith(f"python -m reports matrix: error: {bad}: ")
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""
    assert not (tmp_path / "out").exists()


def test_a_directory_where_the_report_file_is_expected_is_refused(tmp_path, capsys):
    folder = tmp_path / "env" / "conformance.json"
    folder.mkdir(parents=True)
    code, _, err = run(["--out-dir", str(tmp_path / "out"), f"env={folder}"], capsys)

    assert code == 2
    assert err == f"python -m reports matrix: error: {folder}: is a directory, expected a conformance report (a file)\n"


def test_a_folder_without_a_report_names_the_file_it_looked_for(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run(["--out-dir", str(tmp_path / "out"), str(tmp_path / "empty")], capsys)

    assert code == 2
    assert err.startswith(f"python -m reports matrix: error: {tmp_path / 'empty' / 'conformance.json'}: no such file")


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe\x00garbage", "not an install record: not text (binary content)"),
    ("[]", "not an install record: a JSON list, expected an object"),
    ({"pip_check": {"clean": True}}, "not an install record: lacks tensorflow_command, suite_install_changed, problems"),
    ({"tensorflow_command": "pip install tensorflow-cpu", "suite_install_changed": [], "pip_check": {"clean": True},
      "problems": []}, "suite_install_changed is not an object of lists"),
    ({"tensorflow_command": "x", "suite_install_changed": {}, "pip_check": {}, "problems": []},
     "pip_check lacks its `clean` verdict"),
], ids=["binary", "json-list", "lacks-keys", "changes-not-an-object", "no-pip-check-verdict"])
def test_bad_install_record_beside_a_report_is_refused(tmp_path, capsys, content, message):
    write(tmp_path / "env" / "conformance.json", make_report(ENV_221))
    bad = write(tmp_path / "env" / "install.json", content)
    code, _, err = run(["--out-dir", str(tmp_path / "out"), str(tmp_path / "env")], capsys)

    assert code == 2
    assert err.startswith(f"python -m reports matrix: error: {bad}: ") and message in err
    assert err.count("\n") == 1


def test_an_out_dir_that_is_a_file_is_refused_in_one_line(two_envs, tmp_path, capsys):
    blocker = write(tmp_path / "out", "a file")
    code, _, err = run(["--out-dir", str(blocker), *map(str, two_envs)], capsys)

    assert code == 2
    assert err == (f"python -m reports matrix: error: {blocker}: is a file, expected a directory to write "
                   "matrix.json, matrix.md into\n")


def test_same_environment_name_twice_is_refused(two_envs, tmp_path, capsys):
    code, _, err = run(["--out-dir", str(tmp_path / "out"), f"a={two_envs[0]}", f"a={two_envs[1]}"], capsys)

    assert code == 2
    assert "environment name(s) given twice: a" in err


def test_no_reports_at_all_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(matrix, "DEFAULT_REPORT_DIR", tmp_path)
    code, _, err = run([], capsys)

    assert code == 2
    assert "no reports to merge" in err


def test_recipes_outside_the_catalogue_follow_it_and_gaps_are_marked_absent(tmp_path, capsys):
    ids = [rid for rid in CATALOGUE_IDS if rid != "keras.layers"] + ["future.recipe"]
    src = write(tmp_path / "tf3.0" / "conformance.json", make_report(ENV_221, ids=ids))
    run(["--out-dir", str(tmp_path / "out"), str(src)], capsys)
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())

    assert [r["id"] for r in merged["recipes"]] == CATALOGUE_IDS + ["future.recipe"]
    layers = next(r for r in merged["recipes"] if r["id"] == "keras.layers")
    assert (layers["cells"]["tf3.0"]["status"], layers["cells"]["tf3.0"]["api_state"]) == ("absent", None)


def test_python_m_reports_dispatches_matrix(two_envs, tmp_path, capsys):
    code = reports_cli.main(["matrix", "--out-dir", str(tmp_path / "out"), *map(str, two_envs)])

    assert code == 0
    assert (tmp_path / "out" / "matrix.md").exists()


def test_usage_error_returns_status_2_in_one_line_instead_of_exiting(capsys):
    assert matrix.main(["--no-such-option"]) == 2
    assert capsys.readouterr().err == ("python -m reports matrix: error: unrecognized arguments: --no-such-option "
                                       "(see `python -m reports matrix --help`)\n")


INSTALL_CLEAN = {"tensorflow_command": "pip install tensorflow-cpu==2.21.0 keras==3.15.1",
                 "suite_install_changed": {"added": ["pytest==9.2.0"], "removed": [], "changed": []},
                 "pip_check": {"clean": True, "problems": [], "excused": [], "output": "No broken requirements found."},
                 "problems": []}
INSTALL_BROKEN = {"tensorflow_command": "pip install tensorflow-cpu==2.13.1",
                  "suite_install_changed": {"added": [], "removed": [], "changed": ["numpy 1.24.3 -> 2.4.6"]},
                  "pip_check": {"clean": False, "problems": ["tensorflow-cpu 2.13.1 has requirement numpy<=1.24.3, "
                                                             "but you have numpy 2.4.6."], "excused": []},
                  "problems": ["the suite's install changed numpy 1.24.3 -> 2.4.6, which the installed "
                               "TensorFlow/Keras requires"]}


@pytest.fixture
def published(tmp_path, capsys):
    """Three environments: a known defect on two of them (the same sentence), a security defect, a failure."""
    a = write(tmp_path / "in" / "tf2.21-keras3.15" / "conformance.json", make_report(ENV_221, {
        "keras.save_model": {"status": "known defect", "known_defects": [DEFECT]}}))
    write(a.parent / "install.json", INSTALL_CLEAN)
    b = write(tmp_path / "in" / "tf2.16-keras3.15" / "conformance.json", make_report(
        dict(ENV_221, tensorflow="2.16.2", numpy="1.26.4"), {
            "keras.save_model": {"status": "known defect", "known_defects": [DEFECT]}}))
    c = write(tmp_path / "in" / "tf2.12" / "conformance.json", make_report(
        dict(ENV_215, tensorflow="2.12.1", numpy="1.24.3"), {
            "keras.save_model": {"status": "known defect", "known_defects": [SECURITY]},
            "data.batch": {"status": "fail", "failures": ["test_zip: AttributeError: no attribute 'isidentifier'"]}}))
    write(c.parent / "install.json", INSTALL_BROKEN)
    code, out, _ = run(["--out-dir", str(tmp_path / "out"), "--publish", str(tmp_path / "pub"), str(a), str(b), str(c)],
                       capsys)
    assert code == 0 and str(tmp_path / "pub" / "compatibility.md") in out
    return (tmp_path / "pub" / "compatibility.md").read_text()


def test_published_summary_counts_each_environments_symbols_with_exact_versions(published):
    assert md_row(published, "environment") == ["environment", "TensorFlow", "tf.keras", "numpy", "Python", "✓",
                                                "⚠", "🔒", "✗"]
    assert md_row(published, "tf2.21-keras3.15") == ["tf2.21-keras3.15", "2.21.0 (tensorflow)", "Keras 3 3.15.1",
                                                     "2.4.6", "3.11.9", str(len(CATALOGUE_IDS) - 1), "1", "0", "0"]
    assert md_row(published, "tf2.12") == ["tf2.12", "2.12.1 (tensorflow-cpu)", "Keras 2 2.15.0", "1.24.3", "3.11.7",
                                           str(len(CATALOGUE_IDS) - 2), "0", "1", "1"]
    assert "Declared support range: TensorFlow 2.12-2.21" in published


def test_published_opens_with_what_each_environment_costs(published):
    lines = [ln for ln in published.splitlines()[1:8] if ln]
    # None is free: the least costly first; environments that cost the same are named together; a security
    # defect is a security finding.
    assert lines[0] == ("**None of the 3 environments is free of failures, known defects and security findings.** The "
                        "least costly: tf2.21-keras3.15, tf2.16-keras3.15: ⚠ 1 known defect (keras.save_model).")
    assert lines[1] == ("What each other environment costs you: tf2.12: ✗ data.batch fails + 🔒 "
                        "[keras-lambda-loads-in-safe-mode](#keras-lambda-loads-in-safe-mode).")
    assert lines[2] == ("No date or suite commit recorded for tf2.21-keras3.15, tf2.16-keras3.15, tf2.12 (reports from "
                        "before they were).")


def test_published_grid_has_one_symbol_per_cell_and_marks_security_defects(published):
    assert md_row(published, "recipe") == ["recipe", "title", "§", "API", "tf2.21-keras3.15", "tf2.16-keras3.15",
                                           "tf2.12"]
    assert md_row(published, "keras.save_model")[3:] == ["current", "⚠", "⚠", "🔒"]
    assert md_row(published, "data.batch")[-1] == "✗"


def test_published_says_each_defect_once_with_a_row_of_environments(published):
    link = f"[{DEFECT['id']}](#{DEFECT['id']})"
    assert md_row(published, link) == [link, "keras.save_model", "⚠", "⚠", "✓"]
    security = f"[{SECURITY['id']}](#{SECURITY['id']})"
    assert md_row(published, security) == [security, "keras.save_model", "✓", "✓", "🔒"]
    assert published.count(DEFECT["sentence"]) == 1 and published.count(SECURITY["sentence"]) == 1
    assert (f'- <a id="{DEFECT["id"]}"></a>**{DEFECT["id"]}**: {DEFECT["sentence"]} Upstream: '
            f'{DEFECT["upstream"]}.') in published.splitlines()
    assert "- ✗ data.batch on tf2.12: test_zip: AttributeError: no attribute 'isidentifier'" in published.splitlines()


def test_published_says_what_the_suites_install_changed_and_pip_checks_verdict(published):
    lines = [ln for ln in published.splitlines() if ln.startswith("| tf2.12 ") and "pip install" in ln]
    assert len(lines) == 1
    assert "numpy 1.24.3 -> 2.4.6" in lines[0] and "NOT clean" in lines[0] and "BROKEN" in lines[0]
    [clean] = [ln for ln in published.splitlines() if ln.startswith("| tf2.21-keras3.15 ") and "pip install" in ln]
    assert [c.strip() for c in clean.strip("|").split("|")][2:] == ["nothing it had", "clean"]
    assert "In every install: second step: `pip install -e .`." in published.splitlines()


def test_publish_refuses_a_partial_run(tmp_path, capsys):
    src = write(tmp_path / "env" / "conformance.json",
                dict(make_report(ENV_221), run={"partial": True, "why": ["3 spec(s) deselected (-k/-m)"]}))
    code, _, err = run(["--out-dir", str(tmp_path / "out"), "--publish", str(tmp_path / "pub"), str(src)], capsys)

    assert code == 2
    assert "a partial run" in err and err.count("\n") == 1
    assert not (tmp_path / "pub").exists()


def test_matrix_md_shows_each_defect_once_in_the_grid_of_findings(published, tmp_path):
    md = (tmp_path / "out" / "matrix.md").read_text()
    assert md.count(DEFECT["sentence"]) == 1
    assert md_row(md, f"[{DEFECT['id']}](#{DEFECT['id']})")[2:] == ["⚠", "⚠", "✓"]


def test_free_environments_come_first_and_the_runs_provenance_is_said(tmp_path, capsys):
    clean = make_report(ENV_221)
    clean["provenance"] = {"date": "2026-01-02T03:04:05Z", "git_commit": "b" * 40, "git_dirty": False,
                           "command_line": ["/v/bin/python", "/v/bin/pytest", "suite", "-n", "2"]}
    defective = dict(clean, recipes=make_report(ENV_215, {
        "keras.fit": {"status": "known defect", "known_defects": [DEFECT]}})["recipes"], environment=ENV_215)
    a = write(tmp_path / "tf2.21" / "conformance.json", clean)
    b = write(tmp_path / "tf2.15" / "conformance.json", defective)
    code, _, _ = run(["--out-dir", str(tmp_path / "out"), str(a), str(b)], capsys)
    assert code == 0
    md = (tmp_path / "out" / "matrix.md").read_text()
    lines = [ln for ln in md.splitlines()[1:7] if ln]
    assert lines[:3] == ["**Free of failures, known defects and security findings: tf2.21** (1 of 2 environments).",
                         "What each other environment costs you: tf2.15: ⚠ 1 known defect (keras.fit).",
                         "Runs of 2026-01-02 (UTC) at suite commit `bbbbbbbbbbbb` (clean)."]
    # The provenance section adds what the headline does not say: the time and the command of each run.
    assert "In every run: run at 2026-01-02 03:04:05 UTC; command `pytest suite -n 2`." in md.splitlines()
    assert md.count("bbbbbbbbbbbb") == 1


def test_matrix_json_has_a_schema_version_provenance_and_each_defect_once(published, tmp_path):
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert merged["schema_version"] == matrix.SCHEMA_VERSION == 2
    assert set(merged["provenance"]) == {"date", "git_commit", "git_dirty", "command_line"}
    assert isinstance(merged["provenance"]["command_line"], list)
    assert [e["provenance"] for e in merged["environments"]] == [None, None, None]
    [row] = [d for d in merged["defects"] if d["id"] == DEFECT["id"]]
    assert (row["recipes"], row["cells"]) == (["keras.save_model"], {
        "tf2.21-keras3.15": "present", "tf2.16-keras3.15": "present", "tf2.12": "absent"})


def test_a_report_of_a_newer_schema_is_refused_in_one_line(tmp_path, capsys):
    from suite.support import conformance

    assert conformance.SCHEMA_VERSION in matrix.CONFORMANCE_SCHEMAS
    src = write(tmp_path / "env" / "conformance.json", dict(make_report(ENV_221), schema_version=99))
    code, _, err = run(["--out-dir", str(tmp_path / "out"), str(src)], capsys)
    assert code == 2 and "schema_version 99: this suite reads 1, 2" in err and err.count("\n") == 1


def test_the_golden_compatibility_and_matrix_reports_have_short_cells_and_say_nothing_twice():
    """Rendered from tests/golden/fixtures/matrix/ (real runs in four environments, one a partial mutant run)."""
    from tests import golden
    from tests.golden import readable

    for markdown in (golden.compatibility_md(), golden.matrix_md()):
        assert readable.long_cells(markdown) == []
        assert readable.repeated_sentences(markdown) == {}
        answer = [ln for ln in markdown.splitlines()[1:] if ln][:3]
        assert answer[0].startswith("**None of the 4 environments is free of failures, known defects and security "
                                    "findings.** The least costly: tf2.21-keras3.15: 🔒 [KERAS-23654](#keras-23654) + "
                                    "⚠ 3 known defects")
        assert answer[2].startswith("Runs of ")


def test_the_headline_names_a_few_advisories_per_environment_and_counts_the_rest(tmp_path, capsys):
    report = make_report(ENV_221)
    report["advisories"] = [{"id": f"ADV-{i}", "verdict": "vulnerable", "detail": "it ran", "format": ".h5"}
                            for i in range(1, 6)]
    src = write(tmp_path / "tf2.21" / "conformance.json", report)
    code, _, _ = run(["--out-dir", str(tmp_path / "out"), str(src)], capsys)
    assert code == 0
    md = (tmp_path / "out" / "matrix.md").read_text()
    assert (" The least costly: tf2.21: 🔒 [ADV-1](#adv-1), [ADV-2](#adv-2), [ADV-3](#adv-3) and 2 more."
            in md.splitlines()[2])
    assert md_row(md, "[ADV-5](#adv-5)")[2:] == ["🔒"]
