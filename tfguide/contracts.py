"""The reports' JSON, read one way: `load(path, kind)` gives the object a report of that kind is, or ContractError
with one line naming the file and what is wrong with it (what the commands print before they exit 2).

Kinds and their writers: `conformance` (conformance.json, suite/support/conformance.py), `matrix` (matrix.json,
reports/matrix.py), `benchmarks` (benchmarks.json, benchmarks/report.py), `cluster` (cluster.json,
benchmarks/cluster/report.py). Each is an object with its own rows; what the fields mean and how versions change:
docs/contracts.md. Each kind's contract is a JSON Schema (`schema(kind)`, checked by `errors(report, kind)` with
tfguide/schema.py): tfguide/schemas/<kind>.schema.json, and for cluster.json the rows of the benchmark contract
(`cluster_row` of benchmarks.schema.json) under the cluster report's own few fields. Its `$id`, tfguide-<kind>/<N>,
names the version N, which goes up when a field is renamed or removed or changes its meaning, never for an added one.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from tfguide import schema as validator

SCHEMAS = Path(__file__).resolve().parent / "schemas"
BENCHMARKS_SCHEMA = SCHEMAS / "benchmarks.schema.json"

# kind: (what a file of that kind is called in a message, the lists of rows it must hold, the objects it must hold)
KINDS = {
    "conformance": ("a conformance report", ("recipes",), ("environment",)),
    "matrix": ("a matrix report", ("environments", "recipes"), ()),
    "benchmarks": ("a benchmarks.json report", (), ()),
    "cluster": ("a cluster report", ("cluster",), ()),
}
WRITER = {"conformance": "`pytest suite` writes conformance.json", "matrix": "`python -m reports matrix` writes it",
          "benchmarks": "`pytest benchmarks` writes it", "cluster": "`python -m benchmarks.cluster` writes it"}


@functools.cache
def schema(kind: str) -> dict:
    """The JSON Schema of a kind of report (KINDS), loaded and checked once."""
    if kind != "cluster":
        return validator.load(SCHEMAS / f"{kind}.schema.json")
    rows = validator.load(BENCHMARKS_SCHEMA)["$defs"]
    return validator.load_dict({
        "$id": "tfguide-cluster/2", "title": "cluster.json: the rows python -m benchmarks.cluster measured",
        "type": "object", "required": ["schema", "environment", "cluster", "notes"],
        "properties": {"schema": {"const": "tfguide-cluster/2"}, "environment": {"type": "object"},
                       "cluster": {"type": "array", "items": {"$ref": "#/$defs/cluster_row"}},
                       "notes": {"type": "array", "items": {"type": "string"}}, "older_rows": {"type": "array"}},
        "$defs": rows}, "cluster.json")


def errors(report, kind: str) -> list[str]:
    """Every way `report` breaks its kind's contract ("<path>: <what>"; none: it conforms)."""
    return validator.errors(report, schema(kind))


class ContractError(ValueError):
    """A report file that is not what its kind says; str() is one line naming the file."""


def read_json(path: Path, what: str, missing: str = "") -> object:
    """The JSON in `path`; ContractError naming the file and what is wrong with it otherwise (`missing`: what to
    say when there is no such file)."""
    path = Path(path)
    if path.is_dir():
        raise ContractError(f"{path}: is a directory, expected {what} (a file)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{path}: no such file" + (f" ({missing})" if missing else "")) from None
    except UnicodeDecodeError:
        raise ContractError(f"{path}: not {what}: not text (binary content)") from None
    except OSError as exc:
        raise ContractError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if "\x00" in text:
        raise ContractError(f"{path}: not {what}: not text (binary content)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not {what}: not JSON ({exc})") from None
    except RecursionError:
        raise ContractError(f"{path}: not {what}: JSON nested too deeply") from None


def load(path: Path, kind: str, missing: str = "") -> dict:
    """The report in `path`, an object holding the rows its `kind` has (KINDS); ContractError otherwise."""
    what, lists, objects = KINDS[kind]
    report = read_json(path, what, missing)
    if not isinstance(report, dict) or any(not isinstance(report.get(k), list) for k in lists) \
            or any(not isinstance(report.get(k), dict) for k in objects):
        need = " and ".join(f"`{k}`" for k in sorted(objects + lists))
        keys = f"keys {sorted(report)}" if isinstance(report, dict) else f"a JSON {type(report).__name__}"
        raise ContractError(f"{path}: not {what}: expected an object" + (f" with {need}" if need else "")
                            + f" (as {WRITER[kind]}), found {keys}")
    return report
