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


VERDICT_MARK = {"vulnerable": "**VULNERABLE**", "refused": "refused", "not applicable": "n/a",
                "undetermined": "**undetermined**", "not run": "not run"}
CELL_LIMIT = 140  # characters of a detail in a table cell; the whole text is in the JSON


def short(text: str, limit: int = CELL_LIMIT) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def advisory_headline(advisories: list[dict]) -> str:
    """The line a reader needs first: does loading files from others reproduce any advisory here?"""
    if not advisories:
        return ""
    vulnerable = [a["id"] for a in advisories if a["verdict"] == "vulnerable"]
    counts = {v: sum(a["verdict"] == v for a in advisories) for v in VERDICT_MARK}
    rest = ", ".join(f"{n} {v}" for v, n in counts.items() if n and v != "vulnerable")
    if vulnerable:
        return (f"**Security: {len(vulnerable)} of {len(advisories)} model-loading advisories reproduce here: "
                f"{', '.join(vulnerable)}** ({rest}); load model files only from sources you trust.")
    return f"Security: none of {len(advisories)} model-loading advisories reproduces here ({rest})."


def advisories_markdown(advisories: list[dict]) -> list[str]:
    """The advisories section: one short row per advisory, then what each is, in the catalogue's words."""
    if not advisories:
        return []
    rows = [[f"[{a['id']}](#{a['id'].lower()})", a["format"], VERDICT_MARK[a["verdict"]], short(a["detail"])]
            for a in advisories]
    parts = ["## Security advisories: loading files from others", "",
             "Each advisory's crafted file (harmless: a marker file or a canary read back) was loaded here with "
             "the default safe mode, in a sandboxed process; the verdict is what it did.", "",
             tabulate(rows, headers=["advisory", "file", "verdict", "what happened here"], tablefmt="github",
                      disable_numparse=True), ""]
    for a in advisories:
        aliases = f" ({', '.join(a['aliases'])})" if a.get("aliases") else ""
        parts.append(f'- <a id="{a["id"].lower()}"></a>**{a["id"]}**{aliases}: a crafted `{a["format"]}` file '
                     f'{a["payload"]}. Fixed: {a["fixed"]}. {a["upstream"]}'
                     + (f" **{a['sentence']}**" if a["verdict"] == "vulnerable" else ""))
    parts.append("")
    return parts


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
    headline = advisory_headline(report.get("advisories") or [])
    parts += [*([headline, ""] if headline else []),
              f"**{counts}** (one row per recipe of the guide; ids are defined in `reports/catalogue.toml`).", "",
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
    parts += advisories_markdown(report.get("advisories") or [])
    parts += ["States: `current` works as the guide writes it; `renamed` the guide's spelling moved or fails and "
              "a documented replacement exists; `removed` the API is gone and different code replaces it. "
              "Statuses: `known defect` the specs fail only the way a catalogued defect does; `vulnerable` a "
              "security advisory's crafted file took effect here (see the advisories); `missing` no spec "
              "covers the recipe; `not run` its specs were not run in this run.", ""]
    return "\n".join(parts)
