"""`python -m reports matrix`: the version matrix, the conformance reports of several environments side
by side.

    python -m reports matrix [--out-dir DIR] [--allow-missing] [NAME=]REPORT ...

Each REPORT is a conformance.json written by `pytest suite --report-dir ...` (or the folder holding it);
NAME is the environment's column (default: the report's folder name, e.g. reports/matrix/tf2.15 ->
tf2.15). Without REPORT arguments every reports/matrix/*/conformance.json is merged. Writes DIR/matrix.md
and DIR/matrix.json (DIR defaults to reports/): one row per recipe of the catalogue, in catalogue order,
one column per environment, each cell the recipe's status and its API state on that version.

Exit status: 0 when the matrix is written (whatever the statuses in it), 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from tabulate import tabulate

from reports import DEFAULT_REPORT_DIR, catalogue

STATUSES = ("pass", "fail", "skip", "not run", "missing")
# Cells that no conformance report produces: the environment left no report at all (--allow-missing),
# or its report was written with another catalogue that lacked the recipe.
NO_REPORT = "no report"
ABSENT = "absent"
REQUIRED_RECIPE_KEYS = ("id", "status", "api_state", "sentence")


class MatrixError(Exception):
    """Bad input: said once, plainly, and the command exits with status 2."""


def parse_source(arg: str) -> tuple[str, Path]:
    """`NAME=PATH` or `PATH` -> (name, path to conformance.json)."""
    name, sep, rest = arg.partition("=")
    if not (sep and name and "/" not in name):  # a plain path, which may itself contain "="
        name, rest = "", arg
    if not rest:
        raise MatrixError(f"{arg!r}: expected NAME=PATH or PATH (a conformance.json or its folder)")
    path = Path(rest)
    if path.is_dir():
        path = path / "conformance.json"
    return name or path.resolve().parent.name, path


def discover(matrix_dir: Path) -> list[tuple[str, Path]]:
    return [(p.parent.name, p) for p in sorted(matrix_dir.glob("*/conformance.json"))]


def load_report(path: Path) -> dict:
    """Read and check one conformance.json; MatrixError says what is wrong with it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise MatrixError(f"{path}: no such file (write it with `pytest suite --report-dir {path.parent}`)")
    except UnicodeDecodeError:
        raise MatrixError(f"{path}: not a conformance report: not text")
    except OSError as exc:
        raise MatrixError(f"{path}: cannot read it: {exc.strerror or exc}")
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MatrixError(f"{path}: not a conformance report: not JSON ({exc})")
    what = "not a conformance report"
    if not isinstance(report, dict) or not isinstance(report.get("recipes"), list) \
            or not isinstance(report.get("environment"), dict):
        keys = f"keys {sorted(report)}" if isinstance(report, dict) else f"a JSON {type(report).__name__}"
        raise MatrixError(f"{path}: {what}: expected an object with `environment` and `recipes` "
                          f"(as `pytest suite` writes conformance.json), found {keys}")
    seen = set()
    for index, row in enumerate(report["recipes"]):
        if not isinstance(row, dict):
            raise MatrixError(f"{path}: {what}: recipes[{index}] is not an object")
        lacking = [k for k in REQUIRED_RECIPE_KEYS if k not in row]
        if lacking:
            raise MatrixError(f"{path}: {what}: recipes[{index}] lacks {', '.join(lacking)}")
        if row["status"] not in STATUSES:
            raise MatrixError(f"{path}: {what}: recipe {row['id']!r} has status {row['status']!r}, "
                              f"expected one of {', '.join(STATUSES)}")
        if row["id"] in seen:
            raise MatrixError(f"{path}: {what}: recipe {row['id']!r} appears twice")
        seen.add(row["id"])
    return report


def merge(sources: list[tuple[str, Path]], allow_missing: bool = False,
          recipes: dict[str, catalogue.Recipe] | None = None) -> dict:
    """The matrix as matrix.json holds it."""
    recipes = catalogue.load() if recipes is None else recipes
    names = [name for name, _ in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MatrixError(f"environment name(s) given twice: {', '.join(twice)} (use NAME=PATH to tell them apart)")
    if not sources:
        raise MatrixError("no reports to merge: give [NAME=]PATH arguments, or run the environments first "
                          "(`nox`), which write reports/matrix/<environment>/conformance.json")

    environments, rows_by_env = [], {}
    for name, path in sources:
        try:
            report = load_report(path)
        except MatrixError as exc:
            if not (allow_missing and not path.exists()):
                raise
            environments.append({"name": name, "environment": None, "source": str(path), "error": str(exc)})
            rows_by_env[name] = None
            continue
        environments.append({"name": name, "environment": report["environment"], "source": str(path)})
        rows_by_env[name] = {row["id"]: row for row in report["recipes"]}

    # Catalogue order first; a report from another catalogue may name recipes this one lacks.
    order = {rid: recipe.section for rid, recipe in recipes.items()}
    for rows in rows_by_env.values():
        for rid, row in (rows or {}).items():
            order.setdefault(rid, row.get("section", ""))

    merged = []
    for rid, section in order.items():
        cells = {}
        for name, rows in rows_by_env.items():
            if rows is None:
                cells[name] = {"status": NO_REPORT, "api_state": None,
                               "sentence": "This environment wrote no conformance report.", "failures": []}
            elif rid not in rows:
                cells[name] = {"status": ABSENT, "api_state": None,
                               "sentence": "This environment's report has no row for this recipe "
                                           "(it was written with another catalogue).", "failures": []}
            else:
                row = rows[rid]
                cells[name] = {"status": row["status"], "api_state": row["api_state"],
                               "sentence": row["sentence"], "failures": list(row.get("failures") or [])}
        merged.append({"id": rid, "section": section, "cells": cells})
    return {"environments": environments, "recipes": merged}


def _versions(env: dict | None) -> list[str]:
    if env is None:
        return ["-", "-", "-"]
    keras = env.get("keras") or {}
    tf = env.get("tensorflow", "?")
    dist = env.get("tensorflow_distribution")
    return [f"{tf} ({dist})" if dist else tf, f"{keras.get('name', '?')} {keras.get('version', '?')}",
            env.get("python", "?")]


def _summary(matrix: dict, name: str) -> str:
    counts = Counter(recipe["cells"][name]["status"] for recipe in matrix["recipes"])
    order = [*STATUSES, ABSENT, NO_REPORT]
    return ", ".join(f"{counts[s]} {s}" for s in sorted(counts, key=order.index))


def _cell(cell: dict) -> str:
    status = "**fail**" if cell["status"] == "fail" else cell["status"]
    return f"{status} ({cell['api_state']})" if cell["api_state"] else status


def to_markdown(matrix: dict) -> str:
    names = [e["name"] for e in matrix["environments"]]
    header = tabulate([[e["name"], *_versions(e["environment"]), _summary(matrix, e["name"])]
                       for e in matrix["environments"]],
                      headers=["environment", "TensorFlow", "tf.keras", "Python", "recipes"],
                      tablefmt="github", disable_numparse=True)
    table = tabulate([[r["id"], r["section"], *(_cell(r["cells"][n]) for n in names)] for r in matrix["recipes"]],
                     headers=["recipe", "§", *names], tablefmt="github", disable_numparse=True)
    parts = ["# Conformance to the TensorFlow 2 guide, across versions", "", header, "",
             "One row per recipe of the guide (ids are defined in `reports/catalogue.toml`), one column per "
             "environment; each cell is the recipe's status there and, in brackets, the state of the guide's API "
             "on that version. Each environment's own report, with the sentence for every cell, is "
             "`reports/matrix/<environment>/conformance.md`.", "", table, ""]
    failures = [(r["id"], name, cell) for r in matrix["recipes"] for name, cell in r["cells"].items()
                if cell["status"] == "fail"]
    broken = [e for e in matrix["environments"] if e["environment"] is None]
    if failures or broken:
        parts += ["## Failures", ""]
        parts += [f"- {e['name']}: no report ({e['error']})" for e in broken]
        for rid, name, cell in failures:
            detail = "; ".join(cell["failures"]) or cell["sentence"]
            parts.append(f"- `{rid}` on {name}: {detail}")
        parts.append("")
    parts += ["States: `current` works as the guide writes it; `renamed` the guide's spelling moved or fails and a "
              "documented replacement exists; `removed` the API is gone and different code replaces it. "
              "Statuses: `missing` no spec covers the recipe; `not run` its specs were deselected; "
              f"`{NO_REPORT}` the environment wrote no report.", ""]
    return "\n".join(parts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reports matrix",
        description="Merge per-environment conformance reports into matrix.md and matrix.json.")
    parser.add_argument("reports", nargs="*", metavar="[NAME=]REPORT",
                        help="a conformance.json (or its folder); NAME defaults to the folder's name. "
                             "Default: every reports/matrix/*/conformance.json")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_REPORT_DIR,
                        help="where matrix.md and matrix.json are written (default: reports/)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="a REPORT that does not exist becomes a 'no report' column instead of an error")
    return parser


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return int(exc.code or 0)
    try:
        sources = [parse_source(a) for a in args.reports] or discover(DEFAULT_REPORT_DIR / "matrix")
        matrix = merge(sources, allow_missing=args.allow_missing)
    except MatrixError as exc:
        print(f"python -m reports matrix: error: {exc}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "matrix.json").write_text(json.dumps(matrix, indent=2) + "\n")
    (args.out_dir / "matrix.md").write_text(to_markdown(matrix))
    print(f"{len(matrix['recipes'])} recipes x {len(matrix['environments'])} environments -> "
          f"{args.out_dir / 'matrix.md'} and {args.out_dir / 'matrix.json'}")
    return 0
