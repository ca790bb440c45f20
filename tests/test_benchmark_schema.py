"""tfguide/schemas/benchmarks.schema.json and the validator that reads it (tfguide/schema.py).

The reports a run produces are validated against the schema by the run itself (its `checks`) and in the tests
that produce them: test_benchmark_reports.py (a pytest benchmarks report), test_cluster.py (cluster rows merged
into a report), test_cluster_loopback.py (a real cluster run). Here: the schema file itself, and the validator's
keywords. No TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import report as bench_report
from tfguide import schema

FIXTURES = Path(__file__).resolve().parent / "golden" / "fixtures"
CONTRACT = schema.load(bench_report.SCHEMA_PATH)


def test_the_schema_names_its_version_once_and_the_writer_uses_it():
    assert CONTRACT["$id"] == CONTRACT["properties"]["schema"]["const"] == bench_report.SCHEMA
    assert bench_report.SCHEMA.startswith("tfguide-benchmarks/")


def test_a_report_holding_only_cluster_rows_is_valid_and_a_full_one_needs_everything():
    assert schema.errors({"schema": bench_report.SCHEMA, "environment": {}, "cluster": []}, CONTRACT) == []
    errors = schema.errors({"schema": bench_report.SCHEMA, "environment": {}, "cluster": [], "plan": {}}, CONTRACT)
    assert errors[0].startswith("/: missing provenance, threads, method")


def test_the_golden_reports_of_real_runs_conform():
    for name in ("benchmarks.json", "benchmarks-b.json"):
        assert schema.errors(json.loads((FIXTURES / name).read_text()), CONTRACT) == [], name


def test_the_ab_report_of_a_real_run_conforms():
    from benchmarks import ab

    fixture = FIXTURES / "benchmarks-ab.json"
    assert schema.errors(json.loads(fixture.read_text()), schema.load(ab.SCHEMA_PATH)) == []


SMALL = {"$defs": {"pair": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": ["number", "null"]}}},
         "type": "object", "required": ["a"],
         "properties": {"a": {"$ref": "#/$defs/pair"}, "b": {"enum": ["x", "y"]}, "c": {"type": "integer", "minimum": 1},
                        "d": {"allOf": [{"type": "object"}, {"required": ["e"]}]}},
         "additionalProperties": False,
         "if": {"required": ["b"]}, "then": {"required": ["c"]}}


@pytest.mark.parametrize("instance, errors", [
    ({"a": [1, None]}, []),
    ({"a": [1, 2, 3]}, ["/a: 3 item(s), expected at most 2"]),
    ({"a": [1, "2"]}, ["/a/1: expected number or null, found string"]),
    ({"a": [1, float("nan")]}, ["/a/1: expected number or null, found float"]),
    ({}, ["/: missing a"]),
    ({"a": [1, 2], "b": "z", "c": 2}, ["/b: 'z' is not one of ['x', 'y']"]),
    ({"a": [1, 2], "b": "x"}, ["/: missing c"]),
    ({"a": [1, 2], "c": 0}, ["/c: 0 is below the minimum 1"]),
    ({"a": [1, 2], "c": True}, ["/c: expected integer, found boolean"]),
    ({"a": [1, 2], "d": {}}, ["/d: missing e"]),
    ({"a": [1, 2], "z": 1}, ["/z: not allowed"]),
])
def test_the_validator_reports_every_violation_with_its_path(instance, errors):
    assert schema.errors(instance, schema.load_dict(SMALL)) == errors


def test_a_schema_with_a_keyword_the_validator_does_not_implement_is_refused():
    with pytest.raises(schema.SchemaError, match="oneOf"):
        schema.load_dict({"properties": {"a": {"oneOf": [{"type": "string"}]}}})
