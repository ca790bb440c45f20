"""Unit tests of the version-matrix merge (reports/matrix.py) on small synthetic conformance reports.

The project's own tooling, not the guide: run with `pytest tests` (not part of `pytest suite`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports import __main__ as reports_cli
from reports import catalogue, matrix

CATALOGUE_IDS = list(catalogue.load())

ENV_215 = {"python": "3.11.7", "tensorflow": "2.15.1", "tensorflow_distribution": "tensorflow-cpu",
           "keras": {"name": "Keras 2", "version": "2.15.0", "module": "keras.api._v2.keras"}}
ENV_221 = {"python": "3.11.9", "tensorflow": "2.21.0", "tensorflow_distribution": "tensorflow",
           "keras": {"name": "Keras 3", "version": "3.15.1", "module": "keras._tf_keras.keras"}}


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
    """The cells of the one Markdown table row whose first cell is `first`."""
    [line] = [ln for ln in md.splitlines() if ln.startswith(f"| {first} ")]
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
    assert len(CATALOGUE_IDS) == 25
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


def test_matrix_md_has_versions_header_status_cells_and_failure_list(two_envs, tmp_path, capsys):
    run(["--out-dir", str(tmp_path / "out"), *map(str, two_envs)], capsys)
    md = (tmp_path / "out" / "matrix.md").read_text()
    lines = md.splitlines()

    assert md_row(md, "tf2.15") == ["tf2.15", "2.15.1 (tensorflow-cpu)", "Keras 2 2.15.0", "3.11.7", "24 pass, 1 fail"]
    assert md_row(md, "tf2.21") == ["tf2.21", "2.21.0 (tensorflow)", "Keras 3 3.15.1", "3.11.9", "24 pass, 1 missing"]
    assert md_row(md, "recipe") == ["recipe", "§", "tf2.15", "tf2.21"]
    assert md_row(md, "estimator.dnn_classifier") == ["estimator.dnn_classifier", "3.3-3.6", "pass (current)",
                                               "pass (removed)"]
    assert md_row(md, "keras.fit") == ["keras.fit", "1.3", "**fail** (current)", "pass (current)"]
    assert md_row(md, "data.csv") == ["data.csv", "2.1.4", "pass (current)", "missing (renamed)"]
    table = [ln for ln in lines if ln.startswith("| ") and ln.split("|")[1].strip() in CATALOGUE_IDS]
    assert [ln.split("|")[1].strip() for ln in table] == CATALOGUE_IDS
    failures = lines[lines.index("## Failures") + 2:]
    assert failures[0] == "- `keras.fit` on tf2.15: test_steps: assert 29 == 30"
    assert failures[1] == ""


def test_matrix_md_has_no_failures_section_when_nothing_fails(tmp_path, capsys):
    src = write(tmp_path / "tf2.21" / "conformance.json", make_report(ENV_221))
    run(["--out-dir", str(tmp_path / "out"), str(src)], capsys)

    assert "## Failures" not in (tmp_path / "out" / "matrix.md").read_text()


def test_name_given_as_name_equals_path_and_folder_accepted_for_the_file(two_envs, tmp_path, capsys):
    old, new = two_envs
    code, out, _ = run(["--out-dir", str(tmp_path / "out"), f"legacy={old.parent}", f"modern={new}"], capsys)

    assert code == 0
    assert "25 recipes x 2 environments" in out
    merged = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert [e["name"] for e in merged["environments"]] == ["legacy", "modern"]
    assert set(merged["recipes"][0]["cells"]) == {"legacy", "modern"}


def test_without_arguments_merges_every_report_under_the_matrix_folder(two_envs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(matrix, "DEFAULT_REPORT_DIR", tmp_path / "in")
    (tmp_path / "in" / "matrix").mkdir()
    for src in two_envs:  # reports/matrix/<env>/conformance.json is where the nox sessions write
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
    assert md_row(md, "tf2.16") == ["tf2.16", "-", "-", "-", "25 no report"]
    assert f"- tf2.16: no report ({gone}: no such file" in md


def test_allow_missing_still_refuses_a_report_that_exists_but_is_broken(tmp_path, capsys):
    bad = write(tmp_path / "tf2.21" / "conformance.json", "{not json")
    code, _, err = run(["--allow-missing", "--out-dir", str(tmp_path / "out"), str(bad)], capsys)

    assert code == 2
    assert "not a conformance report: not JSON" in err


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a conformance report: not JSON"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe", "not a conformance report: not text"),
    ([1, 2], "not a conformance report: expected an object with `environment` and `recipes`"),
    ({"benchmarks": [], "machine_info": {}}, "found keys ['benchmarks', 'machine_info']"),
    ({"environment": {}, "recipes": [{"id": "keras.fit", "status": "pass"}]},
     "recipes[0] lacks api_state, sentence"),
    ({"environment": {}, "recipes": [{"id": "keras.fit", "status": "passed", "api_state": "current",
                                      "sentence": "ok"}]}, "has status 'passed', expected one of"),
    (make_report(ENV_221, ids=["keras.fit", "keras.fit"]), "recipe 'keras.fit' appears twice"),
], ids=["not-json", "binary", "json-list", "benchmark-report", "row-lacks-keys", "unknown-status", "duplicate-id"])
def test_bad_report_is_refused_with_a_clear_error(tmp_path, capsys, content, message):
    bad = write(tmp_path / "env" / "conformance.json", content)
    code, _, err = run(["--out-dir", str(tmp_path / "out"), str(bad)], capsys)

    assert code == 2
    assert err.startswith(f"python -m reports matrix: error: {bad}: ")
    assert message in err
    assert not (tmp_path / "out").exists()


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


def test_usage_error_returns_status_2_instead_of_exiting(capsys):
    assert matrix.main(["--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
