"""`python -m reports matrix`: the version matrix, the conformance reports of several environments side
by side.

    python -m reports matrix [--out-dir DIR] [--publish DIR] [--allow-missing] [NAME=]REPORT ...

Each REPORT is a conformance.json written by `pytest suite --report-dir ...` (or the folder holding it);
NAME is the environment's column (default: the report's folder name, e.g. reports/matrix/tf2.15 ->
tf2.15). Without REPORT arguments every reports/matrix/*/conformance.json is merged. An install.json
beside a report (written by the nox matrix: what `pip install -e .` changed in that environment, and
`pip check`'s verdict) is shown with its environment. Writes DIR/matrix.md and DIR/matrix.json (DIR
defaults to reports/): one row per recipe of the catalogue, in catalogue order, one column per
environment, each cell the recipe's status and its API state on that version. `--publish DIR` also
writes DIR/compatibility.md, the published table (full runs only: a partial report is refused there).

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

from reports import DEFAULT_REPORT_DIR
from tfguide import catalogue

STATUSES, VERDICTS = catalogue.STATUSES, catalogue.VERDICTS
# Cells that no conformance report produces: the environment left no report at all (--allow-missing),
# or its report was written with another catalogue that lacked the recipe.
NO_REPORT = "no report"
ABSENT = "absent"
REQUIRED_RECIPE_KEYS = ("id", "status", "api_state", "sentence")
API_STATES = (*catalogue.STATES, None)
PUBLISHED_NAME = "compatibility.md"


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


def _read_json(path: Path, what: str) -> object:
    """The JSON in `path`; MatrixError naming the file and what is wrong with it otherwise."""
    if path.is_dir():
        raise MatrixError(f"{path}: is a directory, expected {what} (a file)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MatrixError(f"{path}: no such file (write it with `pytest suite --report-dir {path.parent}`)")
    except UnicodeDecodeError:
        raise MatrixError(f"{path}: not {what}: not text (binary content)")
    except OSError as exc:
        raise MatrixError(f"{path}: cannot read it: {exc.strerror or exc}")
    if "\x00" in text:
        raise MatrixError(f"{path}: not {what}: not text (binary content)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MatrixError(f"{path}: not {what}: not JSON ({exc})")
    except RecursionError:
        raise MatrixError(f"{path}: not {what}: JSON nested too deeply")


def _expect(ok: bool, path: Path, what: str, message: str) -> None:
    if not ok:
        raise MatrixError(f"{path}: not {what}: {message}")


def load_report(path: Path) -> dict:
    """Read and check one conformance.json; MatrixError says what is wrong with it."""
    what = "a conformance report"
    report = _read_json(path, what)
    if not isinstance(report, dict) or not isinstance(report.get("recipes"), list) \
            or not isinstance(report.get("environment"), dict):
        keys = f"keys {sorted(report)}" if isinstance(report, dict) else f"a JSON {type(report).__name__}"
        raise MatrixError(f"{path}: not {what}: expected an object with `environment` and `recipes` "
                          f"(as `pytest suite` writes conformance.json), found {keys}")
    env = report["environment"]
    for key in ("tensorflow", "python", "numpy"):
        _expect(isinstance(env.get(key, ""), str), path, what, f"environment.{key} is not a string")
    _expect(isinstance(env.get("keras", {}), dict), path, what, "environment.keras is not an object")
    _expect(isinstance(report.get("run", {}), dict), path, what, "`run` is not an object")
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
        for key in ("failures", "known_defects"):
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
                             "install": install, "run": report.get("run")})
        rows_by_env[name] = {row["id"]: row for row in report["recipes"]}
        reports_by_env[name] = report

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
                cells[name] = {"status": NO_REPORT, "api_state": None, "known_defects": [],
                               "sentence": "This environment wrote no conformance report.", "failures": []}
            elif rid not in rows:
                cells[name] = {"status": ABSENT, "api_state": None, "known_defects": [],
                               "sentence": "This environment's report has no row for this recipe "
                                           "(it was written with another catalogue).", "failures": []}
            else:
                row = rows[rid]
                cells[name] = {"status": row["status"], "api_state": row["api_state"],
                               "sentence": row["sentence"], "failures": list(row.get("failures") or []),
                               "known_defects": _defects(row)}
        merged.append({"id": rid, "section": section, "cells": cells})
    return {"environments": environments, "recipes": merged, "advisories": _merge_advisories(reports_by_env)}


# A report written before the suite verified advisories has none: its cells say so instead of guessing.
NO_DATA = "not verified"


def _merge_advisories(reports_by_env: dict[str, dict | None]) -> list[dict]:
    """One row per advisory (catalogue order, then any a report names that this catalogue lacks), one
    verdict per environment, with what the advisory is as the newest report describes it."""
    rows: dict[str, dict] = {aid: {"id": a.id, "aliases": list(a.aliases), "format": a.format,
                                   "payload": a.payload, "fixed": a.fixed, "upstream": a.upstream,
                                   "sentence": a.sentence, "cells": {}}
                             for aid, a in catalogue.advisories().items()}
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


def _counts(matrix: dict, name: str) -> Counter:
    return Counter(recipe["cells"][name]["status"] for recipe in matrix["recipes"])


def _summary(matrix: dict, name: str) -> str:
    counts = _counts(matrix, name)
    order = [*STATUSES, ABSENT, NO_REPORT]
    return ", ".join(f"{counts[s]} {s}" for s in sorted(counts, key=order.index))


def _cell(cell: dict) -> str:
    status = f"**{cell['status']}**" if cell["status"] in ("fail", "vulnerable") else cell["status"]
    if any(d.get("security") for d in cell.get("known_defects", [])):
        status += " ⚠ security"
    return f"{status} ({cell['api_state']})" if cell["api_state"] else status


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


VERDICT_CELL = {"vulnerable": "**vulnerable**", "refused": "refused", "not applicable": "n/a",
                "undetermined": "**undetermined**", "not run": "not run", NO_DATA: NO_DATA, "no report": "no report"}


def advisory_grid(matrix: dict) -> list[str]:
    """The advisory × environment grid, then each advisory once: what its crafted file does, the fix, and
    where it reproduced with what effect (environments that saw the same effect grouped)."""
    advisories = matrix.get("advisories") or []
    if not advisories:
        return []
    names = [e["name"] for e in matrix["environments"]]
    grid = tabulate([[f"[{a['id']}](#{a['id'].lower()})", a["format"],
                      *(VERDICT_CELL.get(a["cells"][n]["verdict"], a["cells"][n]["verdict"]) for n in names)]
                     for a in advisories], headers=["advisory", "file", *names], tablefmt="github",
                    disable_numparse=True)
    parts = ["## Security advisories × environments", "",
             "Each advisory's crafted file (harmless: a marker file or a canary read back) was loaded in every "
             "environment with the default safe mode, in a sandboxed process: `vulnerable` it took effect, "
             "`refused` it did not, `n/a` the API or format does not exist there.", "", grid, ""]
    for a in advisories:
        aliases = f" ({', '.join(a['aliases'])})" if a.get("aliases") else ""
        parts.append(f'- <a id="{a["id"].lower()}"></a>**{a["id"]}**{aliases}: a crafted `{a["format"]}` file '
                     f'{a["payload"]}. Fixed: {a["fixed"]}. {a["upstream"]}')
        effects: dict[str, list[str]] = {}
        for name in names:
            if a["cells"][name]["verdict"] == "vulnerable":
                effects.setdefault(a["cells"][name]["detail"], []).append(name)
        parts += [f"  - vulnerable on {', '.join(envs)}: {effect}" for effect, envs in effects.items()]
    parts.append("")
    return parts


def _table(matrix: dict) -> str:
    names = [e["name"] for e in matrix["environments"]]
    return tabulate([[r["id"], r["section"], *(_cell(r["cells"][n]) for n in names)] for r in matrix["recipes"]],
                    headers=["recipe", "§", *names], tablefmt="github", disable_numparse=True)


def non_pass_cells(matrix: dict) -> list[tuple[str, str, str, list[str]]]:
    """(recipe, status, sentence, environments) for every cell that is not `pass`, the environments that
    share one sentence grouped: the same defect reads the same on every version that has it."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for recipe in matrix["recipes"]:
        for name, cell in recipe["cells"].items():
            status = cell["status"]
            if status == "pass":
                continue
            if status == "fail":
                sentences = cell["failures"] or [cell["sentence"]]
            elif status == "known defect":
                from reports.render import defect_line

                sentences = [defect_line(d) for d in cell["known_defects"]]
            else:
                sentences = [cell["sentence"]]
            for sentence in sentences:
                groups.setdefault((recipe["id"], status, sentence), []).append(name)
    return [(rid, status, sentence, envs) for (rid, status, sentence), envs in groups.items()]


def to_markdown(matrix: dict) -> str:
    header = tabulate([[e["name"], *_versions(e["environment"]), _summary(matrix, e["name"])]
                       for e in matrix["environments"]],
                      headers=["environment", "TensorFlow", "tf.keras", "numpy", "Python", "recipes"],
                      tablefmt="github", disable_numparse=True)
    parts = ["# Conformance to the TensorFlow 2 guide, across versions", "", header, "",
             "One row per recipe of the guide (ids are defined in `reports/catalogue.toml`), one column per "
             "environment; each cell is the recipe's status there and, in brackets, the state of the guide's API "
             "on that version. Each environment's own report, with the sentence for every cell, is "
             "`reports/matrix/<environment>/conformance.md`.", "", _table(matrix), ""]
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
    known = [(rid, status, sentence, envs) for rid, status, sentence, envs in non_pass_cells(matrix)
             if status == "known defect"]
    if known:
        parts += ["## Known defects", ""]
        parts += [f"- `{rid}` on {', '.join(envs)}: {sentence}" for rid, _, sentence, envs in known]
        parts.append("")
    parts += advisory_grid(matrix)
    parts += [_legend(), ""]
    return "\n".join(parts)


def _legend() -> str:
    return ("States: `current` works as the guide writes it; `renamed` the guide's spelling moved or fails and a "
            "documented replacement exists; `removed` the API is gone and different code replaces it. "
            "Statuses: `known defect` the specs fail only the way a defect catalogued in "
            "`reports/catalogue.toml` does (⚠ security: a security problem); `vulnerable` a security "
            "advisory's crafted file took effect there (see the advisories); `missing` no spec covers the "
            f"recipe; `not run` its specs were not run; `{NO_REPORT}` the environment wrote no report.")


def to_published(matrix: dict) -> str:
    """reports/published/compatibility.md: the side-by-side table people read before choosing versions."""
    from tfguide.environment import SUPPORT_STATEMENT

    envs = matrix["environments"]
    rows = []
    for e in envs:
        counts = _counts(matrix, e["name"])
        shown = ("pass", "known defect", "vulnerable", "fail", "skip")
        other = sum(n for s, n in counts.items() if s not in shown)
        rows.append([e["name"], *_versions(e["environment"]), *(counts[s] for s in shown), other])
    summary = tabulate(rows, headers=["environment", "TensorFlow", "tf.keras", "numpy", "Python", "pass",
                                      "known defect", "vulnerable", "fail", "skip", "other"],
                       tablefmt="github", disable_numparse=True)
    parts = ["# TensorFlow guide compatibility: every recipe on every verified TensorFlow / Keras", "",
             "Generated by `nox` (the version matrix in `noxfile.py`, then `python -m reports matrix --publish "
             "reports/published`) from `pytest suite` run in each environment: do not edit by hand.", "",
             f"Declared support range: {SUPPORT_STATEMENT}. An environment outside it still runs the suite; its "
             "report says it is outside the verified range.", "", "## Summary", "", summary, "",
             "## Recipes × environments", "",
             "Each cell: the recipe's status there and, in brackets, the state of the guide's API on that version.",
             "", _table(matrix), "", _legend(), "", *advisory_grid(matrix)]
    cells = non_pass_cells(matrix)
    if cells:
        parts += ["## Every cell that is not `pass`", "",
                  "One line per recipe and sentence, with the environments it applies to.", ""]
        parts += [f"- `{rid}` — {status} on {', '.join(envs)}: {sentence}" for rid, status, sentence, envs in cells]
        parts.append("")
    installs = [e for e in envs if e.get("install")]
    if installs:
        parts += ["## Installing the suite into each environment", "",
                  "Each environment was made as README tells a person who already has TensorFlow: TensorFlow "
                  "(and its Keras or tf_keras) in one pip command, then the suite in a second step. The table "
                  "says which already-installed packages that second step changed (packages it added are the "
                  "suite's own dependencies) and `pip check`'s verdict afterwards.", ""]
        parts.append(tabulate([[e["name"], e["install"]["tensorflow_command"],
                                f"`{e['install'].get('suite_command', 'pip install -e .')}`",
                                *install_summary(e["install"])] for e in installs],
                              headers=["environment", "first command", "second step", "what it changed",
                                       "`pip check`"], tablefmt="github", disable_numparse=True))
        parts.append("")
    return "\n".join(parts)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other error of this command (not usage + error)
        raise MatrixError(f"{message} (see `python -m reports matrix --help`)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m reports matrix",
        description="Merge per-environment conformance reports into matrix.md and matrix.json.")
    parser.add_argument("reports", nargs="*", metavar="[NAME=]REPORT",
                        help="a conformance.json (or its folder); NAME defaults to the folder's name. "
                             "Default: every reports/matrix/*/conformance.json")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_REPORT_DIR,
                        help="where matrix.md and matrix.json are written (default: reports/)")
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
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
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
        matrix = merge(sources, allow_missing=args.allow_missing)
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
