"""What makes a report readable in a minute, as checks: every table cell short, no sentence said twice.

Used by the tests of each report (tests/test_conformance_report.py, tests/test_matrix.py) on the reports
rendered from the golden fixtures."""

from __future__ import annotations

import re

from tfguide.text import CELL_LIMIT, sentences

LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
ANCHOR = re.compile(r'<a id="[^"]*"></a>')
# Shorter sentences are stock phrases ("Works as the guide writes it.") that rows may share; a "sentence" of
# fewer than four words is a name or a list of names (a defect's id in its grid row and its description), and
# text that does not end like a sentence is a table's value (an API state per environment, pip check's verdict).
SHORTEST_CHECKED = 40
SENTENCE_END = (".", "!", "?", "…")


def visible(markdown: str) -> str:
    """Text as GitHub shows it: links as their text, anchors and emphasis gone."""
    return LINK.sub(r"\1", ANCHOR.sub("", markdown)).replace("**", "").replace("\\|", "|")


MORE = re.compile(r"\s*\[more\]\(#[^)]*\)\s*$")
# What a library raised, quoted ("ValueError: Requested the deserialization of ..."): data, as a code block is,
# and the same refusal may be what several advisories' loads met.
RAISED = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning): .*")  # the link from a cell to its details is not its sentence


def table_cells(markdown: str) -> list[tuple[int, str]]:
    """(line number, visible text) of every cell of every table body row."""
    cells = []
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("|") and not re.fullmatch(r"\|[-|: ]+\|", line):
            cells += [(number, visible(MORE.sub("", c)).strip()) for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
    return cells


def long_cells(markdown: str, limit: int = CELL_LIMIT) -> list[str]:
    return [f"line {n}: {len(c)} characters: {c}" for n, c in table_cells(markdown) if len(c) > limit]


def repeated_sentences(markdown: str) -> dict[str, int]:
    """Every sentence of at least SHORTEST_CHECKED characters that the report says more than once, alone or
    inside a longer one (code blocks left out: the environment's fingerprint is data, not prose)."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    units = []
    for line in prose.splitlines():
        if re.fullmatch(r"\|[-|: ]+\|", line):
            continue
        if line.startswith("|"):
            units += [visible(c).strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        else:
            units.append(visible(line).strip())
    units = [RAISED.sub("", u) for u in units]
    said = "\n".join(units)
    found = {s.strip(" …") for unit in units for s in sentences(unit.strip(" ")) if s.endswith(SENTENCE_END)}
    counts = {s: said.count(s) for s in found if len(s) >= SHORTEST_CHECKED and s.count(" ") >= 3}
    return {s: n for s, n in counts.items() if n > 1}
