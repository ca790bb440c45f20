"""Short text for table cells: a cell carries one sentence of at most CELL_LIMIT characters, and what does
not fit goes to the details the cell links to, never twice. Plain Python: conformance.json's `sentence` is
made with it while pytest runs."""

from __future__ import annotations

import re

CELL_LIMIT = 140  # characters of a table cell's sentence; the rest is one link away
# A sentence ends at a full stop, question or exclamation mark followed by a capital, a quote or code.
_SENTENCE_END = r"(?<=[.!?])\s+(?=[A-Z`'\"(])"
# Where a lead may end: a sentence's end, a clause's (; : ,) or before a parenthesis that closes a clause.
_CUT = re.compile(rf"{_SENTENCE_END}|(?<=[;:,])\s+|\s+(?=\([^()]*\)(?:[.,;:]|$))")


def squash(text: str) -> str:
    return " ".join(str(text).split())


def lead(text: str, limit: int = CELL_LIMIT) -> tuple[str, str]:
    """(the longest start of `text` that ends at a sentence or clause boundary and fits in `limit`, the
    rest). A start cut inside a sentence ends with "…" instead of its `;`, `:` or `,`; where no boundary
    fits, the cut falls between words."""
    text = squash(text)
    if len(text) <= limit:
        return text, ""
    cuts = [m.start() for m in _CUT.finditer(text) if m.start() < limit and _depth(text, m.start()) == 0]
    cut = cuts[-1] if cuts else text[:limit - 1].rfind(" ")
    head, rest = text[:cut], text[cut:].lstrip()
    if head.endswith((".", "!", "?")):
        return head, rest
    return head.rstrip(";:,") + "…", rest


def _depth(text: str, at: int) -> int:
    """How many brackets are open at `at`: a cut inside "(e.g. ...)" would leave one unclosed."""
    return sum(text.count(o, 0, at) - text.count(c, 0, at) for o, c in ("()", "[]"))


def sentences(text: str) -> list[str]:
    """`text` cut into sentences (at a full stop, question or exclamation mark followed by a capital)."""
    return [s for s in re.split(_SENTENCE_END, squash(text)) if s]


def cell(text: str) -> str:
    """Text as a Markdown table cell: one line, pipes escaped."""
    return squash(text).replace("|", "\\|")
