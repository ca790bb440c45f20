"""The reports' contracts in the core (tfguide/contracts.py, tfguide/schemas/): each kind's JSON Schema, its
version in one convention (`$id` tfguide-<kind>/<N>, N the version its writer writes), the reports of real runs
conforming to it, and the one reader, `load(path, kind)`, with its one-line errors. No TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfguide import contracts

FIXTURES = Path(__file__).resolve().parent / "golden" / "fixtures"
EXPECTED = Path(__file__).resolve().parent / "golden" / "expected"


@pytest.mark.parametrize("kind", sorted(contracts.KINDS))
def test_every_kind_has_a_schema_named_by_its_version(kind):
    assert contracts.schema(kind)["$id"].startswith(f"tfguide-{kind}/")


def test_the_writers_write_the_version_their_schema_names():
    from benchmarks import report as bench_report
    from benchmarks.cluster import report as cluster_report
    from reports import matrix
    from suite.support import conformance

    version = {kind: contracts.schema(kind)["$id"] for kind in contracts.KINDS}
    assert version["conformance"] == f"tfguide-conformance/{conformance.SCHEMA_VERSION}"
    assert version["matrix"] == f"tfguide-matrix/{matrix.SCHEMA_VERSION}"
    assert version["benchmarks"] == bench_report.SCHEMA and version["cluster"] == cluster_report.SCHEMA


@pytest.mark.parametrize("path, kind", [
    (FIXTURES / "conformance.json", "conformance"),
    *[(p, "conformance") for p in sorted((FIXTURES / "matrix").glob("*/conformance.json"))],  # one of version 1
    (EXPECTED / "matrix.json", "matrix"),
    (FIXTURES / "benchmarks.json", "benchmarks"),
    (FIXTURES / "benchmarks-b.json", "benchmarks"),
], ids=lambda v: v.relative_to(FIXTURES.parent).as_posix() if isinstance(v, Path) else v)
def test_the_reports_of_real_runs_conform(path, kind):
    assert contracts.errors(contracts.load(path, kind), kind) == []


def test_a_report_that_breaks_its_contract_is_told_where():
    report = json.loads((FIXTURES / "conformance.json").read_text())
    report["recipes"][0]["status"] = "fine"
    del report["run"]
    assert contracts.errors(report, "conformance") == [
        "/: missing run", "/recipes/0/status: 'fine' is not one of ['pass', 'known defect', 'vulnerable', 'fail', "
        "'skip', 'not run', 'missing']"]


def test_load_says_in_one_line_what_is_wrong_with_the_file(tmp_path):
    cases = {"missing.json": None, "binary.json": b"\x00\x01", "text.json": b"not json", "list.json": b"[1, 2]",
             "no-rows.json": b'{"environment": {}}'}
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    said = {}
    for name in cases:
        with pytest.raises(contracts.ContractError) as exc:
            contracts.load(tmp_path / name, "conformance")
        said[name] = str(exc.value)
    assert all(s.startswith(f"{tmp_path / n}: ") and "\n" not in s for n, s in said.items())
    assert said["missing.json"].endswith("no such file")
    assert said["binary.json"].endswith("not a conformance report: not text (binary content)")
    assert "not JSON" in said["text.json"] and "found a JSON list" in said["list.json"]
    assert said["no-rows.json"].endswith("expected an object with `environment` and `recipes` (as `pytest suite` "
                                          "writes conformance.json), found keys ['environment']")
    with pytest.raises(contracts.ContractError, match="is a directory"):
        contracts.load(tmp_path, "cluster")
