"""Markdown and terminal rendering of reports (tabulate)."""

from __future__ import annotations

from tabulate import tabulate

from reports.environment import header_lines

STATUS_MARK = {"pass": "pass", "fail": "**FAIL**", "skip": "skip", "not run": "not run", "missing": "missing"}


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
    parts = ["# Conformance to the TensorFlow 2 guide", ""]
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
                  "Specs marked as expected failures (strict: they turn into failures once the defect is fixed).", ""]
        for r in known:
            parts.append(f"- `{r['id']}`")
            parts += [f"  - {line}" for line in r["known_defects"]]
        parts.append("")
    parts += ["States: `current` works as the guide writes it; `renamed` the guide's spelling moved or fails and "
              "a documented replacement exists; `removed` the API is gone and different code replaces it. "
              "Statuses: `missing` no spec covers the recipe; `not run` its specs were deselected.", ""]
    return "\n".join(parts)
