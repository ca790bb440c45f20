"""Markdown and terminal rendering of reports (tabulate)."""

from __future__ import annotations

from tabulate import tabulate

from tfguide.environment import header_lines

STATUS_MARK = {"pass": "pass", "known defect": "known defect", "vulnerable": "**vulnerable**", "fail": "**FAIL**",
               "skip": "skip", "not run": "not run", "missing": "missing"}


def defect_line(defect: dict) -> str:
    """One known defect as the reports show it: security ones say so first."""
    head = "SECURITY: " if defect.get("security") else ""
    tail = f" ({defect['upstream']})" if defect.get("upstream") else ""
    return f"{head}{defect['sentence']}{tail}" + (f" [{defect['id']}]" if defect.get("id") else "")


def conformance_table(report: dict, tablefmt: str = "github", wide: bool = True) -> str:
    headers = ["recipe", "§", "status", "passed", "failed", "skipped", "API on this TF"]
    rows = []
    for r in report["recipes"]:
        status = STATUS_MARK[r["status"]] if tablefmt == "github" else r["status"]
        row = [r["id"], r["section"], status, r["passed"], r["failed"], r["skipped"], r["api_state"]]
        if wide:
            row.append(r["sentence"].replace("|", "\\|"))
        rows.append(row)
    if wide:
        headers.append("what it means for you")
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def conformance_markdown(report: dict) -> str:
    env = report["environment"]
    counts = ", ".join(f"{n} {s}" for s, n in report["summary"].items() if n)
    title = "# Conformance to the TensorFlow 2 guide"
    run = report.get("run") or {}
    if run.get("partial"):
        title += " (partial run)"
    parts = [title, ""]
    if run.get("partial"):
        parts += [f"A narrower run: {'; '.join(run['why'])}. Recipes it did not run are `not run`.", ""]
    if env:
        parts += ["```", *header_lines(env), "```", ""]
    parts += [f"**{counts}** (one row per recipe of the guide; ids are defined in `reports/catalogue.toml`).", "",
              conformance_table(report), ""]
    failing = [r for r in report["recipes"] if r["failures"]]
    if failing:
        parts += ["## Failures", ""]
        for r in failing:
            parts.append(f"- `{r['id']}`")
            parts += [f"  - {line}" for line in r["failures"]]
        parts.append("")
    known = [r for r in report["recipes"] if r.get("known_defects")]
    if known:
        parts += ["## Known defects of this version", "",
                  "Specs that failed exactly the way a defect in `reports/catalogue.toml` describes (its exception "
                  "and message). A version without the defect passes these specs.", ""]
        for r in known:
            parts.append(f"- `{r['id']}`")
            parts += [f"  - {defect_line(d)}" for d in r["known_defects"]]
        parts.append("")
    parts += ["States: `current` works as the guide writes it; `renamed` the guide's spelling moved or fails and "
              "a documented replacement exists; `removed` the API is gone and different code replaces it. "
              "Statuses: `known defect` the specs fail only the way a catalogued defect does; `missing` no spec "
              "covers the recipe; `not run` its specs were not run in this run.", ""]
    return "\n".join(parts)
