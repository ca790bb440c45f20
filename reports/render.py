"""The conformance report as Markdown and as the terminal's summary (tabulate).

conformance.md opens with the answer (a verdict, the security findings, the one thing to do next, where the
report came from), then one row per recipe whose last cell is one short sentence, then a section per recipe
for everything else, linked from that cell. Nothing is said twice: a line that several recipes share is
written once, under the first of them. The symbols are the matrix's too (reports/matrix.py).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tabulate import tabulate

from tfguide import text
from tfguide.environment import header_lines
from tfguide.provenance import NOT_A_CHECKOUT

SYMBOL = {"pass": "✓", "fail": "✗", "known defect": "⚠", "vulnerable": "🔒", "not run": "?"}
NO_VERDICT = "–"  # any other status: nothing verifiable there (skip) or no spec (missing)
STATUS_MARK = {"pass": "✓ pass", "known defect": "⚠ known defect", "vulnerable": "🔒 **vulnerable**",
               "fail": "✗ **FAIL**", "skip": "– skip", "not run": "? not run", "missing": "– missing"}
VERDICT_MARK = {"vulnerable": "🔒 **vulnerable**", "refused": "✓ refused", "not applicable": "– n/a",
                "undetermined": "✗ **undetermined**", "not run": "? not run"}
STATES_LEGEND = ("API: `current` works as the guide writes it; `renamed` the guide's spelling moved or fails and "
                 "a documented replacement exists; `removed` the API is gone and different code replaces it.")


def symbol(status: str) -> str:
    return SYMBOL.get(status, NO_VERDICT)


def anchor(name: str) -> str:
    """The id a Markdown link reaches a section by (recipe, defect and advisory ids are already slugs)."""
    return name.lower()


def link(name: str) -> str:
    return f"[{name}](#{anchor(name)})"


def target(name: str) -> str:
    return f'<a id="{anchor(name)}"></a>'


def upstream_text(upstream: str) -> str:
    """A defect's upstream issue or PR, or the cause in the source where none exists."""
    if not upstream:
        return "Upstream: not named."
    if upstream.startswith("cause:"):
        return "Cause: " + upstream.removeprefix("cause:").strip() + "."
    return f"Upstream: {upstream}."


def defect_line(defect: dict, anchored: bool = False) -> str:
    """One known defect, once: its id (an anchor where others link to it), what it does to you, then its
    upstream issue or the cause in the source (an xfail mark's reason has neither)."""
    name = defect.get("id")
    head = (target(name) if anchored else "") + f"**{name}**: " if name else ""
    security = "**SECURITY** " if defect.get("security") else ""
    where = f" {upstream_text(defect.get('upstream', ''))}" if name else ""
    return f"{head}{security}{text.squash(defect['sentence'])}{where}"


def provenance_line(prov: dict | None) -> str:
    """When, from which checkout of the suite, by which command; from the report, never from the clock."""
    if not prov:
        return "Run date, suite commit and command: not recorded (a report written before they were)."
    return f"Run {date_text(prov.get('date'))} {commit_text(prov)}, by `{command_text(prov.get('command_line'))}`."


def commit_text(prov: dict) -> str:
    """`at suite commit <12 digits> (clean)` / `... with uncommitted changes`, or `from a suite that is not a git
    checkout`."""
    commit = prov.get("git_commit") or "?"
    if commit == NOT_A_CHECKOUT:
        return f"from a suite that is {commit}"
    dirty = {True: " with uncommitted changes", False: " (clean)"}.get(prov.get("git_dirty"), "")
    return f"at suite commit `{commit[:12]}`{dirty}"


def date_text(date: str | None) -> str:
    return date.replace("T", " ").replace("Z", " UTC") if date else "(date not recorded)"


def command_text(argv: list[str] | None) -> str:
    """The command line as typed: programs by name only (`python3 /venv/bin/pytest suite` -> `pytest suite`)."""
    if not argv:
        return "?"
    if len(argv) > 1 and not argv[1].startswith("-"):  # the interpreter ran a script: the script is the command
        argv = argv[1:]
    return shlex.join([Path(argv[0]).name, *argv[1:]])


# -- the answer first ---------------------------------------------------------------------------------

def advisory_headline(advisories: list[dict]) -> str:
    """Does loading files from others reproduce any advisory here? (What to do about it is the next line.)"""
    if not advisories:
        return ""
    vulnerable = [a["id"] for a in advisories if a["verdict"] == "vulnerable"]
    counts = {v: sum(a["verdict"] == v for a in advisories) for v in VERDICT_MARK}
    rest = ", ".join(f"{n} {v}" for v, n in counts.items() if n and v != "vulnerable")
    if vulnerable:
        return (f"**Security: {len(vulnerable)} of {len(advisories)} model-loading advisories reproduce here: "
                f"{', '.join(vulnerable)}** ({rest}).")
    return f"Security: none of {len(advisories)} model-loading advisories reproduces here ({rest})."


def _ids(rows: list[dict], links: dict[str, str]) -> str:
    """Recipe ids, each linked to the section that holds its details (where it has any)."""
    return ", ".join(f"[{r['id']}](#{anchor(links[r['id']])})" if r["id"] in links else f"`{r['id']}`"
                     for r in rows)


def verdict_line(report: dict, links: dict[str, str]) -> str:
    """usable / usable with known defects / broken, and the counts behind it."""
    rows = report["recipes"]
    by = {s: [r for r in rows if r["status"] == s] for s in STATUS_MARK}
    verdict = ("broken" if by["fail"] else
               "usable with known defects" if by["known defect"] or by["vulnerable"] else "usable")
    parts = [f"{len(by['pass'])} of {len(rows)} recipes pass"]
    if by["fail"]:
        parts.append(f"{len(by['fail'])} fail{'s' if len(by['fail']) == 1 else ''} ({_ids(by['fail'], links)})")
    if by["vulnerable"]:
        parts.append(f"{len(by['vulnerable'])} reproduce{'s' if len(by['vulnerable']) == 1 else ''} a security "
                     f"advisory ({_ids(by['vulnerable'], links)})")
    if by["known defect"]:
        parts.append(f"{len(by['known defect'])} ha{'s' if len(by['known defect']) == 1 else 've'} known defects")
    parts += [f"{len(by[s])} {s}" for s in ("skip", "not run", "missing") if by[s]]
    run = report.get("run") or {}
    scope = f" (partial run: {'; '.join(run['why'])})" if run.get("partial") else ""
    return f"**Verdict{scope}: {verdict}.** " + "; ".join(parts) + "."


def next_line(report: dict, links: dict[str, str]) -> str:
    """The one thing to do next, most urgent first."""
    rows = report["recipes"]
    failing = [r for r in rows if r["status"] == "fail"]
    vulnerable = [a for a in report.get("advisories") or [] if a["verdict"] == "vulnerable"]
    defective = [r for r in rows if r["status"] == "known defect"]
    unverified = [r for r in rows if r.get("skips") or r["status"] == "skip"]
    if failing:
        return (f"Next: read why {_ids(failing, links)} fail{'s' if len(failing) == 1 else ''} (no catalogued defect "
                "explains it) and report it with this file attached.")
    if vulnerable:
        first = vulnerable[0]["sentence"]
        return f"Next: {first[:1].lower()}{first[1:]}"
    if (report.get("run") or {}).get("partial"):
        return "Next: run the whole suite (`pytest suite`) for a verdict on every recipe."
    if defective:
        return (f"Next: before you rely on {_ids(defective, links)}, read {'its' if len(defective) == 1 else 'their'} "
                "known defects: each says how to avoid it.")
    if unverified:
        return f"Next: nothing is required; what could not be verified here is under {_ids(unverified, links)}."
    return "Next: nothing; renamed and removed APIs name their replacement in the table."


def security_defects_line(report: dict) -> str:
    """Reports written before advisories were verified carried security problems as known defects."""
    found = [(r["id"], d["id"] or "unnamed") for r in report["recipes"] for d in r.get("known_defects") or []
             if d.get("security")]
    if not found:
        return ""
    return "**Security defects: " + ", ".join(f"{did} ({rid})" for rid, did in found) + ".**"


def headline(report: dict, links: dict[str, str]) -> list[str]:
    """At most five lines: the verdict, the security findings, the next step, where the report came from.
    `links`: the section holding each recipe's details (detail_sections)."""
    lines = [verdict_line(report, links), advisory_headline(report.get("advisories") or []),
             security_defects_line(report), next_line(report, links), provenance_line(report.get("provenance"))]
    return [line for line in lines if line]


# -- the table and the details ------------------------------------------------------------------------

def cell_sentence(row: dict) -> str:
    # conformance.json's `sentence` fits a cell since schema 2; a schema-1 report's is cut here.
    return text.lead(row["sentence"])[0]


def _api_details(row: dict) -> str:
    """The part of the API sentence that the cell does not already say."""
    full, cell = text.squash(row.get("api_sentence") or row["sentence"]), cell_sentence(row)
    head, rest = text.lead(full)
    if head == cell:
        return ("…" + rest) if rest and head.endswith("…") else rest
    return "" if full == cell else full


def recipe_details(row: dict, advisories: dict[str, dict]) -> list[str]:
    """Everything the report says about a recipe beyond its row, one line each."""
    api = _api_details(row)  # first: it continues the cell
    lines = [api] if api else []
    lines += [f"✗ {text.squash(f)}" for f in row.get("failures") or []]
    lines += [f"🔒 {link(aid) if aid in advisories else aid} reproduces here: its crafted file took effect."
              for aid in row.get("advisories") or []]
    lines += [f"⚠ {defect_line(d)}" for d in row.get("known_defects") or []]
    lines += [f"– Skipped: {_stop(s)}" for s in row.get("skips") or []]
    lines += [f"Observed: {_stop(n)}" for n in row.get("notes") or []]
    return lines


def _stop(sentence: str) -> str:
    sentence = text.squash(sentence)
    return sentence if sentence.endswith((".", "!", "?", "…")) else sentence + "."


def detail_sections(recipes: list[dict], details: dict[str, list[str]]) -> tuple[list[str], dict[str, str]]:
    """One section per recipe with details; a line several recipes share is written once, under the first,
    naming the others. Returns the Markdown and, per recipe, the anchor its cell links to."""
    owners: dict[str, list[str]] = {}
    for r in recipes:
        for line in details.get(r["id"], []):
            owners.setdefault(line, []).append(r["id"])
    parts, links = [], {}
    for r in recipes:
        own = [line for line in details.get(r["id"], []) if owners[line][0] == r["id"]]
        if not own:
            shared = next((owners[line][0] for line in details.get(r["id"], [])), None)
            if shared:
                links[r["id"]] = shared
            continue
        links[r["id"]] = r["id"]
        parts += [f"### {target(r['id'])}{r['id']}", ""]
        for line in own:
            others = owners[line][1:]
            parts.append(f"- {line}" + (f" (Also {', '.join(f'`{o}`' for o in others)}.)" if others else ""))
        parts.append("")
    return parts, links


def _count(row: dict, key: str):
    return row.get(key, "?")  # a report written before the count existed (schema 1)


def conformance_table(report: dict, links: dict[str, str] | None = None, tablefmt: str = "github") -> str:
    """One row per recipe. With `links` (Markdown), the title and the sentence, which links to the details."""
    markdown = links is not None
    vulnerable = any(r.get("vulnerable_specs") for r in report["recipes"])
    headers = ["recipe", "§", "status", "passed", "failed", "known defect", *(["vulnerable"] if vulnerable else []),
               "skipped", "API"]
    rows = []
    for r in report["recipes"]:
        status = STATUS_MARK[r["status"]] if markdown else f"{symbol(r['status'])} {r['status']}"
        row = [r["id"], r["section"], status, r["passed"], r["failed"], _count(r, "known_defect_specs"),
               *([_count(r, "vulnerable_specs")] if vulnerable else []), r["skipped"], r["api_state"]]
        if markdown:
            sentence = text.cell(cell_sentence(r))
            more = f" [more](#{anchor(links[r['id']])})" if r["id"] in links else ""
            row[1:1] = [text.cell(r.get("title", ""))]
            row.append(sentence + more)
        rows.append(row)
    if markdown:
        headers[1:1] = ["title"]
        headers.append("what it means for you")
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def advisories_markdown(advisories: list[dict]) -> list[str]:
    """The advisories section: one short row per advisory, then what each is, in the catalogue's words."""
    if not advisories:
        return []
    rows, said = [], {}
    for a in advisories:
        detail = text.cell(text.lead(a["detail"])[0])
        if detail in said:  # two crafted files refused with the same message: say it once
            detail = f"the same as {link(said[detail])}"
        else:
            said[detail] = a["id"]
        rows.append([link(a["id"]), a["format"], VERDICT_MARK[a["verdict"]], detail])
    parts = ["## Security advisories: loading files from others", "",
             "Each advisory's crafted file (harmless: a marker file or a canary read back) was loaded here with "
             "the default safe mode, in a sandboxed process; the verdict is what it did.", "",
             tabulate(rows, headers=["advisory", "file", "verdict", "what happened here"], tablefmt="github",
                      disable_numparse=True), ""]
    parts += [f"- {advisory_line(a)}" for a in advisories]
    parts.append("")
    return parts + version_disagreements(advisories)


def version_disagreements(advisories: list[dict]) -> list[str]:
    """Where the verdict (behaviour) and the installed version (the catalogue's fix record) disagree: a vendor's
    backport, a build from another branch, or a record to correct. Reports without `version_check` (written before
    it existed) and agreements say nothing."""
    found = [a for a in advisories if (a.get("version_check") or {}).get("disagreement")]
    if not found:
        return []
    return ["### Behaviour and version disagree", "",
            "The verdict is what the crafted file did here; the installed version, set against the releases "
            "`tfguide/catalogue.toml` records as fixed, says otherwise:", "",
            *[f"- {link(a['id'])}: {a['version_check']['disagreement']}: {a['version_check']['note']}."
              for a in found], ""]


def advisory_line(a: dict) -> str:
    aliases = f" ({', '.join(a['aliases'])})" if a.get("aliases") else ""
    return (f'{target(a["id"])}**{a["id"]}**{aliases}: a crafted `{a["format"]}` file {a["payload"]}. '
            f'Fixed: {a["fixed"]}. {a["upstream"]}')


def legend() -> str:
    return ("Symbols: ✓ pass, ⚠ known defect (the specs fail only the way a defect catalogued in "
            "`tfguide/catalogue.toml` does), 🔒 vulnerable (a security advisory's crafted file took effect), "
            "✗ fail, – nothing verifiable here (every spec skipped) or no spec (`missing`), ? not run. "
            + STATES_LEGEND)


def conformance_markdown(report: dict) -> str:
    run = report.get("run") or {}
    title = "# Conformance to the TensorFlow 2 guide" + (" (partial run)" if run.get("partial") else "")
    advisories = {a["id"]: a for a in report.get("advisories") or []}
    details = {r["id"]: recipe_details(r, advisories) for r in report["recipes"]}
    sections, links = detail_sections(report["recipes"], details)
    parts = [title, ""]
    for line in headline(report, links):
        parts += [line, ""]
    if report["environment"]:
        parts += ["```", *header_lines(report["environment"]), "```", ""]
    parts += [conformance_table(report, links), "", legend(), ""]
    if sections:
        parts += ["## Details", "", *sections]
    parts += advisories_markdown(report.get("advisories") or [])
    return "\n".join(parts)


def plain(markdown: str) -> str:
    """A Markdown line as terminal text: links become their text, emphasis goes."""
    return re.sub(r"\[([^\]]+)\]\(#[^)]*\)", r"\1", markdown).replace("**", "")


def terminal_summary(report: dict) -> list[str]:
    """What the terminal shows after the run: the answer (its provenance is in the files), then the table
    without its prose."""
    links = {r["id"]: r["id"] for r in report["recipes"]}  # plain text: no link survives anyway
    return [*(plain(line) for line in headline(report, links)[:-1]), "",
            conformance_table(report, tablefmt="simple")]
