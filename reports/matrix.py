"""`python -m reports matrix`: the version matrix, the conformance reports of several environments side
by side.

    python -m reports matrix [--out-dir DIR] [--publish DIR] [--allow-missing] [NAME=]REPORT ...

Each REPORT is a conformance.json written by `pytest suite --report-dir ...` (or the folder holding it);
NAME is the environment's column (default: the report's folder name, e.g. tfguide-reports/matrix/tf2.15 ->
tf2.15). Without REPORT arguments every tfguide-reports/matrix/*/conformance.json is merged. An install.json
beside a report (written by the nox matrix: what `pip install -e .` changed in that environment, and
`pip check`'s verdict) is shown with its environment. Writes DIR/matrix.md and DIR/matrix.json (DIR
defaults to tfguide-reports/ under the current directory): the environments free of failures, known defects and
security findings (or the least costly) and what the others cost, then one row per recipe of the catalogue, in
catalogue order, one column per environment, one symbol per cell, and a grid of known defects and advisories ×
environments.
`--publish DIR` also writes DIR/compatibility.md, the published table (full runs only: a partial report is
refused there).

Exit status: 0 when the matrix is written (whatever the statuses in it), 2 for bad input, said in one
line naming the file and what is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from tabulate import tabulate

from reports import DEFAULT_REPORT_DIR, render
from tfguide import atomic, catalogue, contracts, text
from tfguide.provenance import report_provenance

STATUSES, VERDICTS = catalogue.STATUSES, catalogue.VERDICTS
# Cells that no conformance report produces: the environment left no report at all (--allow-missing),
# or its report was written with another catalogue that lacked the recipe.
NO_REPORT = "no report"
ABSENT = "absent"
REQUIRED_RECIPE_KEYS = ("id", "status", "api_state", "sentence")
API_STATES = (*catalogue.STATES, None)
PUBLISHED_NAME = "compatibility.md"
# matrix.json's contract (docs/contracts.md, "matrix.json"). 2: `schema_version`, `provenance` (the merge's), per
# environment `provenance` (its run's), per recipe `title`, per cell `skips`, and `defects` (each defect once,
# with its state in every environment). A matrix.json without `schema_version` is 1.
SCHEMA_VERSION = 2
# The conformance.json versions this merge reads (suite/support/conformance.py writes SCHEMA_VERSION).
CONFORMANCE_SCHEMAS = (1, 2)


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
    if path.is_dir() and (path / "conformance.json").exists():
        path = path / "conformance.json"
    elif path.is_dir() and not path.name.endswith(".json"):
        path = path / "conformance.json"  # its absence is reported when it is read
    return name or path.resolve().parent.name, path


def discover(matrix_dir: Path) -> list[tuple[str, Path]]:
    return [(p.parent.name, p) for p in sorted(matrix_dir.glob("*/conformance.json"))]


def _read_json(path: Path, what: str, kind: str | None = None) -> object:
    """The JSON in `path` (with `kind`, a report of that kind: tfguide/contracts.py load); MatrixError naming the
    file and what is wrong with it otherwise."""
    missing = f"write it with `pytest suite --report-dir {path.parent}`"
    try:
        return contracts.load(path, kind, missing) if kind else contracts.read_json(path, what, missing)
    except contracts.ContractError as exc:
        raise MatrixError(str(exc)) from None


def _expect(ok: bool, path: Path, what: str, message: str) -> None:
    if not ok:
        raise MatrixError(f"{path}: not {what}: {message}")


def load_report(path: Path) -> dict:
    """Read and check one conformance.json; MatrixError says what is wrong with it."""
    what = contracts.KINDS["conformance"][0]
    report = _read_json(path, what, "conformance")
    env = report["environment"]
    for key in ("tensorflow", "python", "numpy"):
        _expect(isinstance(env.get(key, ""), str), path, what, f"environment.{key} is not a string")
    _expect(isinstance(env.get("keras", {}), dict), path, what, "environment.keras is not an object")
    _expect(isinstance(report.get("run", {}), dict), path, what, "`run` is not an object")
    version = report.get("schema_version", 1)
    _expect(version in CONFORMANCE_SCHEMAS, path, what, f"schema_version {version!r}: this suite reads "
            f"{', '.join(map(str, CONFORMANCE_SCHEMAS))} (a newer suite wrote it?)")
    _expect(isinstance(report.get("provenance") or {}, dict), path, what, "`provenance` is not an object")
    seen = set()
    for index, row in enumerate(report["recipes"]):
        where = f"recipes[{index}]"
        _expect(isinstance(row, dict), path, what, f"{where} is not an object")
        lacking = [k for k in REQUIRED_RECIPE_KEYS if k not in row]
        _expect(not lacking, path, what, f"{where} lacks {', '.join(lacking)}")
        _expect(isinstance(row["id"], str) and row["id"], path, what, f"{where}.id is not a recipe id (a string)")
        _expect(isinstance(row["status"], str) and row["status"] in STATUSES, path, what,
                f"recipe {row['id']!r} has status {row['status']!r}, expected one of {', '.join(STATUSES)}")
        _expect(row["api_state"] in API_STATES, path, what,
                f"recipe {row['id']!r} has api_state {row['api_state']!r}, expected one of "
                f"{', '.join(catalogue.STATES)}")
        _expect(isinstance(row["sentence"], str), path, what, f"recipe {row['id']!r}: sentence is not a string")
        for key in ("failures", "known_defects", "skips"):
            _expect(isinstance(row.get(key, []), list), path, what, f"recipe {row['id']!r}: {key} is not a list")
        _expect(all(isinstance(f, str) for f in row.get("failures", [])), path, what,
                f"recipe {row['id']!r}: failures are not strings")
        _expect(all(isinstance(d, (str, dict)) for d in row.get("known_defects", [])), path, what,
                f"recipe {row['id']!r}: known_defects are not objects")
        _expect(row["id"] not in seen, path, what, f"recipe {row['id']!r} appears twice")
        seen.add(row["id"])
    _expect(bool(seen), path, what, "`recipes` is empty")
    advisories = report.get("advisories", [])
    _expect(isinstance(advisories, list), path, what, "`advisories` is not a list")
    for index, row in enumerate(advisories):
        _expect(isinstance(row, dict) and isinstance(row.get("id"), str) and row.get("verdict") in VERDICTS,
                path, what, f"advisories[{index}] is not an object with an `id` and a `verdict` among "
                            f"{', '.join(VERDICTS)}")
    return report


INSTALL_KEYS = ("tensorflow_command", "suite_install_changed", "pip_check", "problems")


def load_install(path: Path) -> dict | None:
    """install.json beside a report (the nox matrix writes it), or None when there is none."""
    if not path.exists():
        return None
    what = "an install record"
    record = _read_json(path, what)
    _expect(isinstance(record, dict), path, what, f"a JSON {type(record).__name__}, expected an object")
    lacking = [k for k in INSTALL_KEYS if k not in record]
    _expect(not lacking, path, what, f"lacks {', '.join(lacking)}")
    changed = record["suite_install_changed"]
    _expect(isinstance(changed, dict) and all(isinstance(changed.get(k, []), list)
                                              for k in ("added", "removed", "changed")),
            path, what, "suite_install_changed is not an object of lists")
    _expect(isinstance(record["pip_check"], dict) and isinstance(record["pip_check"].get("clean"), bool),
            path, what, "pip_check lacks its `clean` verdict")
    _expect(isinstance(record["problems"], list), path, what, "problems is not a list")
    return record


def _defects(row: dict) -> list[dict]:
    # Reports written before defects were catalogued hold plain strings. Catalogue order, whatever order
    # the specs (under xdist) happened to finish in, so that the published table is the same every run.
    order = {did: index for index, did in enumerate(catalogue.defects())}
    found = [d if isinstance(d, dict) else {"id": None, "sentence": d, "upstream": "", "security": False}
             for d in row.get("known_defects") or []]
    return sorted(found, key=lambda d: (order.get(d.get("id"), len(order)), d["sentence"]))


def merge(sources: list[tuple[str, Path]], allow_missing: bool = False,
          recipes: dict[str, catalogue.Recipe] | None = None, provenance: dict | None = None) -> dict:
    """The matrix as matrix.json holds it; `provenance` is the merge's own (the command records it)."""
    recipes = catalogue.load() if recipes is None else recipes
    names = [name for name, _ in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MatrixError(f"environment name(s) given twice: {', '.join(twice)} (use NAME=PATH to tell them apart)")
    if not sources:
        raise MatrixError("no reports to merge: give [NAME=]PATH arguments, or run the environments first "
                          "(`nox`), which write tfguide-reports/matrix/<environment>/conformance.json")

    environments, rows_by_env, reports_by_env = [], {}, {}
    for name, path in sources:
        install = load_install(path.parent / "install.json")
        try:
            report = load_report(path)
        except MatrixError as exc:
            if not (allow_missing and not path.exists()):
                raise
            environments.append({"name": name, "environment": None, "source": str(path), "error": str(exc),
                                 "install": install, "run": None})
            rows_by_env[name] = reports_by_env[name] = None
            continue
        environments.append({"name": name, "environment": report["environment"], "source": str(path),
                             "install": install, "run": report.get("run"), "provenance": report.get("provenance")})
        rows_by_env[name] = {row["id"]: row for row in report["recipes"]}
        reports_by_env[name] = report

    # Catalogue order first; a report from another catalogue may name recipes this one lacks.
    order = {rid: (recipe.section, recipe.title) for rid, recipe in recipes.items()}
    for rows in rows_by_env.values():
        for rid, row in (rows or {}).items():
            order.setdefault(rid, (row.get("section", ""), row.get("title", "")))

    merged = []
    for rid, (section, title) in order.items():
        cells = {}
        for name, rows in rows_by_env.items():
            if rows is None:
                cells[name] = {"status": NO_REPORT, "api_state": None, "known_defects": [], "skips": [],
                               "sentence": "This environment wrote no conformance report.", "failures": []}
            elif rid not in rows:
                cells[name] = {"status": ABSENT, "api_state": None, "known_defects": [], "skips": [],
                               "sentence": "This environment's report has no row for this recipe "
                                           "(it was written with another catalogue).", "failures": []}
            else:
                row = rows[rid]
                cells[name] = {"status": row["status"], "api_state": row["api_state"],
                               "sentence": row["sentence"], "failures": list(row.get("failures") or []),
                               "known_defects": _defects(row), "skips": list(row.get("skips") or [])}
        merged.append({"id": rid, "section": section, "title": title, "cells": cells})
    return {"schema_version": SCHEMA_VERSION, "provenance": provenance, "environments": environments,
            "recipes": merged, "defects": _merge_defects(merged, [e["name"] for e in environments]),
            "advisories": _merge_advisories(reports_by_env)}


# A report written before the suite verified advisories (or a run that did not reach a defect's recipes):
# its cells say so instead of guessing.
NO_DATA = "not verified"
# How a defect's row reads in an environment: seen there; not seen although its recipes ran to a verdict;
# not decidable because one of its recipes failed otherwise; not verified (not run, no report).
DEFECT_STATES = ("present", "absent", "undetermined", NO_DATA)
_RAN = ("pass", "known defect", "vulnerable")


def _merge_defects(recipes: list[dict], names: list[str]) -> list[dict]:
    """One row per defect any environment showed (catalogue order, then the rest as found), the recipes it
    touched and its state in every environment: each defect's sentence is then said once."""
    catalogued = catalogue.defects()
    rows: dict[str, dict] = {}
    for recipe in recipes:
        for name, cell in recipe["cells"].items():
            for d in cell["known_defects"]:
                known = catalogued.get(d.get("id"))
                row = rows.setdefault(d.get("id") or d["sentence"], {
                    "id": d.get("id"), "sentence": known.sentence if known else d["sentence"],
                    "upstream": known.upstream if known else d.get("upstream", ""),
                    "security": bool(known and known.security), "recipes": [], "cells": {}})
                row["security"] |= bool(d.get("security"))  # as any report or the catalogue says
                row["recipes"] += [] if recipe["id"] in row["recipes"] else [recipe["id"]]
                row["cells"][name] = "present"
    by_id = {recipe["id"]: recipe for recipe in recipes}
    for row in rows.values():
        for name in names:
            statuses = [by_id[rid]["cells"][name]["status"] for rid in row["recipes"]]
            row["cells"].setdefault(name, "absent" if all(s in _RAN for s in statuses) else
                                    "undetermined" if "fail" in statuses else NO_DATA)
        row["cells"] = {name: row["cells"][name] for name in names}
    order = {did: index for index, did in enumerate(catalogued)}
    return sorted(rows.values(), key=lambda r: order.get(r["id"], len(order)))


def _merge_advisories(reports_by_env: dict[str, dict | None]) -> list[dict]:
    """One row per advisory (catalogue order, then any a report names that this catalogue lacks), one
    verdict per environment, with what the advisory is as the newest report describes it."""
    advisories = catalogue.advisories()
    rows: dict[str, dict] = {aid: {"id": a.id, "aliases": list(a.aliases), "format": a.format,
                                   "payload": a.payload, "fixed": a.fixed, "upstream": a.upstream,
                                   "sentence": a.sentence, "cells": {}}
                             for aid, a in advisories.items()}
    for report in reports_by_env.values():
        for found in (report or {}).get("advisories", []):
            rows.setdefault(found["id"], {key: found.get(key, "") for key in
                                          ("id", "aliases", "format", "payload", "fixed", "upstream", "sentence")}
                            | {"cells": {}})
    for row in rows.values():
        for name, report in reports_by_env.items():
            found = {a["id"]: a for a in (report or {}).get("advisories", [])}
            if report is None:
                row["cells"][name] = {"verdict": NO_REPORT, "detail": ""}
            elif row["id"] in found:
                row["cells"][name] = {"verdict": found[row["id"]]["verdict"],
                                      "detail": found[row["id"]].get("detail", "")}
                if row["id"] in advisories:  # the verdict against this catalogue's fix record (reports of any age)
                    env = report.get("environment") or {}
                    check = advisories[row["id"]].version_check(
                        found[row["id"]]["verdict"], catalogue.installed_packages(env), env.get("python"))
                    row["cells"][name].update(disagreement=check.disagreement, version_note=check.note)
            else:
                row["cells"][name] = {"verdict": NO_DATA, "detail": "this environment's report does not verify it"}
    return list(rows.values())


def _versions(env: dict | None) -> list[str]:
    if env is None:
        return ["-", "-", "-", "-"]
    keras = env.get("keras") or {}
    tf = env.get("tensorflow", "?")
    dist = env.get("tensorflow_distribution")
    return [f"{tf} ({dist})" if dist else tf, f"{keras.get('name', '?')} {keras.get('version', '?')}",
            env.get("numpy", "?"), env.get("python", "?")]


# -- one symbol per cell ------------------------------------------------------------------------------
# ✓ ✗ ⚠ 🔒 as in conformance.md (reports/render.py); "–" there is nothing to verify there (skipped, no spec,
# not applicable), "?" it was not verified (not run, no report, a report from before the check existed).
NOT_VERIFIED = "?"
_UNVERIFIED_STATUSES = ("not run", ABSENT, NO_REPORT)
DEFECT_SYMBOL = dict(zip(DEFECT_STATES, ("⚠", "✓", "✗", NOT_VERIFIED)))
ADVISORY_SYMBOL = {"vulnerable": "🔒", "refused": "✓", "not applicable": render.NO_VERDICT, "undetermined": "✗",
                   "not run": NOT_VERIFIED, NO_DATA: NOT_VERIFIED, NO_REPORT: NOT_VERIFIED}


def cell_symbol(cell: dict) -> str:
    """A recipe's cell: the most severe of what happened there (a security defect is a security finding)."""
    if cell["status"] == "known defect" and any(d.get("security") for d in cell["known_defects"]):
        return "🔒"
    return NOT_VERIFIED if cell["status"] in _UNVERIFIED_STATUSES else render.symbol(cell["status"])


def legend() -> str:
    return ("Symbols: ✓ pass (for a defect: not seen; for an advisory: its crafted file was refused); ⚠ known "
            "defect (the specs fail only the way a defect catalogued in `tfguide/catalogue.toml` does); 🔒 a "
            "security finding (an advisory's crafted file took effect, or a security defect); ✗ fail (for a "
            "defect or advisory: its specs failed otherwise, so it is undetermined); – nothing to verify there "
            "(every spec skipped, no spec, or the format does not exist); ? not verified (not run, no report, or "
            "a report from before the check existed).")


# -- the answer first ---------------------------------------------------------------------------------

def _names(matrix: dict) -> list[str]:
    return [e["name"] for e in matrix["environments"]]


SHOWN_FINDINGS = 3  # advisories named in the headline per environment; the grid has them all


def cost(matrix: dict, env: dict) -> tuple[tuple, str]:
    """What choosing this environment costs you: (how bad, for ranking: failures first, then security findings,
    known defects, unverified recipes; in a few words, "" when nothing). Environments whose few words are the
    same are named together: the grids below tell them apart."""
    name = env["name"]
    if env["environment"] is None:
        return (1, 0, 0, len(matrix["recipes"])), "no report"
    cells = {r["id"]: r["cells"][name] for r in matrix["recipes"]}
    failing = [rid for rid, c in cells.items() if c["status"] == "fail"]
    defects = [d for d in matrix.get("defects", []) if d["cells"][name] == "present"]
    findings = [a["id"] for a in matrix.get("advisories", []) if a["cells"][name]["verdict"] == "vulnerable"]
    findings += [d["id"] or d["sentence"] for d in defects if d["security"]]
    defects = [d for d in defects if not d["security"]]
    unverified = sum(c["status"] in _UNVERIFIED_STATUSES for c in cells.values())
    partial = " (a partial run)" if (env.get("run") or {}).get("partial") else ""
    parts = []
    if failing:
        parts.append(f"✗ {', '.join(failing)} fail{'s' if len(failing) == 1 else ''}")
    if findings:
        shown = [render.link(f) if " " not in f else "a security defect" for f in findings[:SHOWN_FINDINGS]]
        more = len(findings) - SHOWN_FINDINGS
        parts.append("🔒 " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    if defects:
        touched = list(dict.fromkeys(rid for d in defects for rid in d["recipes"]))
        where = ", ".join(touched) if len(touched) <= 2 else f"{len(touched)} recipes"
        parts.append(f"⚠ {len(defects)} known defect{'s' if len(defects) > 1 else ''} ({where})")
    if unverified or partial:
        parts.append(f"? {unverified} recipes not verified{partial}")
    return (len(failing) + bool(partial), len(findings), len(defects), unverified), " + ".join(parts)


def headline(matrix: dict) -> list[str]:
    """Which environments cost nothing (or, when none, the least), what each other one costs, best first, and
    where the runs came from."""
    envs = matrix["environments"]
    groups: dict[str, tuple[tuple, str, list[str]]] = {}  # environments that cost the same, said together
    for e in envs:
        rank, what = cost(matrix, e)
        groups.setdefault(what, (rank, what, []))[2].append(e["name"])
    ranked = sorted(groups.values(), key=lambda group: group[0])
    free = [names for _, what, names in ranked if not what]
    others = [(what, names) for _, what, names in ranked if what]
    if free:
        first = (f"**Free of failures, known defects and security findings: {', '.join(free[0])}** "
                 f"({len(free[0])} of {len(envs)} environments).")
    else:
        (best, names), *others = others
        first = (f"**None of the {len(envs)} environments is free of failures, known defects and security "
                 f"findings.** The least costly: {', '.join(names)}: {best}.")
    lines = [first]
    if others:
        lines.append("What each other environment costs you: "
                     + "; ".join(f"{', '.join(names)}: {what}" for what, names in others) + ".")
    return [*lines, runs_line(matrix)]


def runs_line(matrix: dict) -> str:
    """When, and from which commit of the suite, the environments' reports were written (from the reports)."""
    recorded = [e for e in matrix["environments"] if e.get("provenance")]
    unrecorded = [e["name"] for e in matrix["environments"] if e["environment"] is not None and not e.get("provenance")]
    parts = []
    if recorded:
        days = sorted({(e["provenance"].get("date") or "?")[:10] for e in recorded})
        commits = list(dict.fromkeys(render.commit_text(e["provenance"]) for e in recorded))
        parts.append(f"Runs of {days[0]}{f' to {days[-1]}' if len(days) > 1 else ''} (UTC) "
                     + (commits[0] if len(commits) == 1 else
                        f"from {len(commits)} checkouts of the suite (see [provenance](#provenance))"))
    if unrecorded:
        parts.append(f"no date or suite commit recorded for {', '.join(unrecorded)} (reports from before they were)")
    line = "; ".join(parts) or "no report records its date or suite commit"
    return line[:1].upper() + line[1:] + "."


# -- tables -------------------------------------------------------------------------------------------

def fold_constant_columns(headers: list[str], rows: list[list], say=lambda header, value: f"{header} {value}"
                          ) -> tuple[list[str], list[str], list[list]]:
    """Columns (but the first) whose every row holds the same value leave the table for one phrase before it,
    `say(header, value)`: a column that says the same thing fifteen times says nothing."""
    constant = [i for i in range(1, len(headers)) if len(rows) > 1 and len({str(r[i]) for r in rows}) == 1]
    kept = [i for i in range(len(headers)) if i not in constant]
    return ([say(headers[i], rows[0][i]) for i in constant], [headers[i] for i in kept],
            [[r[i] for i in kept] for r in rows])


def _table(headers: list[str], rows: list[list], fold: str = "", say=None) -> list[str]:
    """A Markdown table; with `fold` (what a row is), its constant columns said once before it."""
    phrases = []
    if fold:
        phrases, headers, rows = fold_constant_columns(headers, rows, *([say] if say else []))
    line = f"In every {fold}: {'; '.join(phrases)}." if phrases else ""
    if len(headers) == 1:  # every column but the names folded: the line says it all
        return [line, ""]
    return [*([line, ""] if line else []),
            tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True), ""]


def environments_table(matrix: dict) -> list[str]:
    symbols = ["✓", "⚠", "🔒", "✗", render.NO_VERDICT, NOT_VERIFIED]
    rows = []
    for e in matrix["environments"]:
        counts = Counter(cell_symbol(r["cells"][e["name"]]) for r in matrix["recipes"])
        rows.append([e["name"], *_versions(e["environment"]), *(counts[s] for s in symbols)])
    return _table(["environment", "TensorFlow", "tf.keras", "numpy", "Python", *symbols], rows, "environment",
                  lambda header, value: (f"no {header} cell" if value == 0 else f"{value} {header} cells")
                  if header in symbols else f"{header} {value}")


def api_summary(recipe: dict, names: list[str]) -> str:
    """The guide's API state across environments, said once per recipe: the usual state, then where it differs."""
    states = {name: recipe["cells"][name]["api_state"] for name in names if recipe["cells"][name]["api_state"]}
    if not states:
        return "-"
    usual = Counter(states.values()).most_common(1)[0][0]
    others: dict[str, list[str]] = {}
    for name, state in states.items():
        if state != usual:
            others.setdefault(state, []).append(name)
    return text.cell("; ".join([usual, *(f"{state} on {', '.join(where)}" for state, where in others.items())]))


def recipes_grid(matrix: dict) -> list[str]:
    names = _names(matrix)
    rows = [[r["id"], text.cell(r.get("title", "")), r["section"], api_summary(r, names),
             *(cell_symbol(r["cells"][n]) for n in names)] for r in matrix["recipes"]]
    return _table(["recipe", "title", "§", "API", *names], rows)


def findings_grid(matrix: dict) -> list[str]:
    """Known defects and advisories × environments, then each of them once: what it does, its upstream."""
    names = _names(matrix)
    defects, advisories = matrix.get("defects", []), matrix.get("advisories", [])
    if not defects and not advisories:
        return []
    rows = [[render.link(d["id"]) if d["id"] else f"defect {i + 1}", ", ".join(d["recipes"]),
             *(("🔒" if d["security"] and d["cells"][n] == "present" else DEFECT_SYMBOL[d["cells"][n]])
               for n in names)] for i, d in enumerate(defects)]
    rows += [[render.link(a["id"]), f"{a['format']} file", *(ADVISORY_SYMBOL.get(a["cells"][n]["verdict"], "?")
                                                            for n in names)] for a in advisories]
    parts = ["## Known defects and security advisories × environments", "",
             "A defect is recognised by what its specs observe, never by version; each advisory's crafted file "
             "(harmless: a marker file or a canary read back) was loaded with the default safe mode, in a "
             "sandboxed process.", "", *_table(["defect or advisory", "where", *names], rows)]
    for i, d in enumerate(defects):
        line = render.defect_line(d, anchored=True) if d["id"] else f"**defect {i + 1}**: {d['sentence']}"
        parts.append(f"- {line}")  # its recipes are in its row of the grid
    for a in advisories:
        parts.append(f"- {render.advisory_line(a)}")
        effects: dict[str, list[str]] = {}
        for name in names:
            if a["cells"][name]["verdict"] == "vulnerable":
                effects.setdefault(a["cells"][name]["detail"], []).append(name)
        if len(effects) == 1:  # where is in the grid's row
            parts.append(f"  - what it did where it reproduced: {next(iter(effects))}")
        else:
            parts += [f"  - on {', '.join(envs)}: {effect}" for effect, envs in effects.items()]
    parts.append("")
    disagree = [(a["id"], n, a["cells"][n]) for a in advisories for n in names if a["cells"][n].get("disagreement")]
    if disagree:  # a vendor's backport, a build from another branch, or a fix record to correct
        parts += ["Behaviour and version disagree (the verdict is the behaviour's; the version is set against the "
                  "releases `tfguide/catalogue.toml` records as fixed):", "",
                  *[f"- {render.link(aid)} on {name}: {cell['disagreement']}: {cell['version_note']}."
                    for aid, name, cell in disagree], ""]
    return parts


def _grouped(pairs: list[tuple], recipes: list[str]) -> list[tuple]:
    """(what, recipe, environment) triples -> (what, recipes, environments), each `what` said once."""
    by_what: dict = {}
    for what, rid, name in pairs:
        by_what.setdefault(what, {}).setdefault(rid, []).append(name)
    out = []
    for what, envs_by_recipe in by_what.items():
        by_envs: dict[tuple[str, ...], list[str]] = {}
        for rid, envs in envs_by_recipe.items():
            by_envs.setdefault(tuple(envs), []).append(rid)
        for envs, rids in by_envs.items():
            rest = [r for r in recipes if r not in rids]
            which = ", ".join(rids) if len(rids) <= len(recipes) // 2 else (
                f"every recipe but {', '.join(rest)}" if rest else "every recipe")
            out.append((what, which, ", ".join(envs)))
    return out


def other_cells(matrix: dict) -> list[str]:
    """Failures, then every cell without a verdict, each distinct reason once with where it applies."""
    recipes = [r["id"] for r in matrix["recipes"]]
    failures, unverified = [], []
    for r in matrix["recipes"]:
        for name, c in r["cells"].items():
            if c["status"] == "fail":
                failures += [(line, r["id"], name) for line in c["failures"] or [c["sentence"]]]
            elif cell_symbol(c) in (render.NO_VERDICT, NOT_VERIFIED) and c["status"] != "pass":
                reasons = c.get("skips") if c["status"] == "skip" and c.get("skips") else [c["sentence"]]
                unverified += [((cell_symbol(c), c["status"], reason), r["id"], name) for reason in reasons]
    broken = [e for e in matrix["environments"] if e["environment"] is None]
    parts = []
    if failures or broken:
        parts += ["## Failures", ""]
        parts += [f"- {e['name']}: no report ({e['error']})" for e in broken]
        parts += [f"- ✗ {which} on {envs}: {what}" for what, which, envs in _grouped(failures, recipes)]
        parts.append("")
    if unverified:
        parts += ["## Cells without a verdict", ""]
        parts += [f"- {mark} {status} — {which} on {envs}: {reason}"
                  for (mark, status, reason), which, envs in _grouped(unverified, recipes)]
        parts.append("")
    return parts


def install_summary(install: dict | None) -> tuple[str, str]:
    """(what the suite's install changed, pip check's verdict) in a few words each."""
    if install is None:
        return "-", "-"
    changed = install["suite_install_changed"]
    touched = [*changed.get("changed", []), *(f"removed {r}" for r in changed.get("removed", []))]
    what = "nothing it had" if not touched else "; ".join(touched)
    check = install["pip_check"]
    verdict = "clean" if check["clean"] and not check.get("excused") else \
        "clean (tf-keras' `tensorflow` requirement met by tensorflow-cpu)" if check["clean"] else \
        "NOT clean: " + "; ".join(check.get("problems", []))
    if install["problems"]:
        verdict += " — BROKEN: " + "; ".join(install["problems"])
    return what, verdict


def installs(matrix: dict) -> list[str]:
    envs = [e for e in matrix["environments"] if e.get("install")]
    if not envs:
        return []
    rows = [[e["name"], e["install"]["tensorflow_command"],
             f"`{e['install'].get('suite_command', 'pip install -e .')}`", *install_summary(e["install"])]
            for e in envs]
    return ["## Installing the suite into each environment", "",
            "Each environment was made as README tells a person who already has TensorFlow: TensorFlow (and its "
            "Keras or tf_keras) in one pip command, then the suite in a second step; \"what it changed\" names the "
            "already-installed packages that second step changed (packages it added are the suite's own "
            "dependencies).", "",
            *_table(["environment", "first command", "second step", "what it changed", "`pip check`"], rows,
                    "install", lambda header, value: f"{header}: {value}")]


def provenance_table(matrix: dict) -> list[str]:
    """Each environment's run: when, and by which command (the headline says the date and, when they share
    one, the suite commit)."""
    recorded = [e for e in matrix["environments"] if e.get("provenance")]
    if not recorded:
        return []
    commits = {render.commit_text(e["provenance"]) for e in recorded}
    rows = [[e["name"], render.date_text(e["provenance"].get("date")),
             *([render.commit_text(e["provenance"])] if len(commits) > 1 else []),
             f"`{render.command_text(e['provenance'].get('command_line'))}`"] for e in recorded]
    headers = ["environment", "run at", *(["suite"] if len(commits) > 1 else []), "command"]
    return [f"## {render.target('provenance')}Provenance", "",
            *_table(headers, rows, "run", lambda header, value: f"{header} {value}")]


def _render(matrix: dict, title: str, intro: list[str], appendix: list[str]) -> str:
    parts = [title, ""]
    for line in headline(matrix):
        parts += [line, ""]
    parts += [*intro, "## Environments", "", *environments_table(matrix), legend(), "",
              "## Recipes × environments", "", *recipes_grid(matrix), render.STATES_LEGEND, "",
              *findings_grid(matrix), *other_cells(matrix), *appendix, *provenance_table(matrix)]
    return "\n".join(parts)


def to_markdown(matrix: dict) -> str:
    """matrix.md: any set of runs, partial ones included."""
    return _render(matrix, "# Conformance to the TensorFlow 2 guide, across versions",
                   ["Each environment's own report, with a sentence for every recipe, is "
                    "`tfguide-reports/matrix/<environment>/conformance.md`.", ""], [])


def to_published(matrix: dict) -> str:
    """reports/published/compatibility.md: the table people read before choosing versions."""
    from tfguide.environment import SUPPORT_STATEMENT

    return _render(matrix, "# TensorFlow guide compatibility: every recipe on every verified TensorFlow / Keras",
                   [f"Declared support range: {SUPPORT_STATEMENT}; an environment outside it still runs the suite "
                    "and its report says so. Generated by `nox` (the version matrix in `noxfile.py`, then `python "
                    "-m reports matrix --publish reports/published`) from `pytest suite` in each environment: do "
                    "not edit by hand.", ""], installs(matrix))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other error of this command (not usage + error)
        raise MatrixError(f"{message} (see `python -m reports matrix --help`)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m reports matrix",
        description="Merge per-environment conformance reports into matrix.md and matrix.json.")
    parser.add_argument("reports", nargs="*", metavar="[NAME=]REPORT",
                        help="a conformance.json (or its folder); NAME defaults to the folder's name. "
                             "Default: every tfguide-reports/matrix/*/conformance.json")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_REPORT_DIR,
                        help="where matrix.md and matrix.json are written (default: tfguide-reports/)")
    parser.add_argument("--publish", type=Path, metavar="DIR",
                        help=f"also write DIR/{PUBLISHED_NAME}, the published table (full runs only)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="a REPORT that does not exist becomes a 'no report' column instead of an error")
    return parser


def _write(directory: Path, files: dict[str, str]) -> None:
    if directory.exists() and not directory.is_dir():
        raise MatrixError(f"{directory}: is a file, expected a directory to write {', '.join(files)} into")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            atomic.write_text(directory / name, content)   # a kill mid-write leaves the previous file whole
    except OSError as exc:
        raise MatrixError(f"{directory}: cannot write {', '.join(files)}: {exc.strerror or exc}")


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except MatrixError as exc:
        print(f"python -m reports matrix: error: {exc}", file=sys.stderr)
        return 2
    try:
        sources = [parse_source(a) for a in args.reports] or discover(DEFAULT_REPORT_DIR / "matrix")
        matrix = merge(sources, allow_missing=args.allow_missing, provenance=report_provenance())
        if args.publish is not None:
            partial = [e["name"] for e in matrix["environments"] if (e.get("run") or {}).get("partial")]
            if partial:
                raise MatrixError(f"--publish: {', '.join(partial)}: a partial run (-k, -m or a narrower path); "
                                  "the published table is made from full runs of `pytest suite` only")
        _write(args.out_dir, {"matrix.json": json.dumps(matrix, indent=2) + "\n", "matrix.md": to_markdown(matrix)})
        if args.publish is not None:
            _write(args.publish, {PUBLISHED_NAME: to_published(matrix)})
    except MatrixError as exc:
        print(f"python -m reports matrix: error: {exc}", file=sys.stderr)
        return 2
    written = [args.out_dir / "matrix.md", args.out_dir / "matrix.json"]
    if args.publish is not None:
        written.append(args.publish / PUBLISHED_NAME)
    print(f"{len(matrix['recipes'])} recipes x {len(matrix['environments'])} environments -> "
          + ", ".join(map(str, written)))
    return 0
