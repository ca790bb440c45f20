"""What a report a person reads must not do: a table cell longer than a sentence, or a sentence said twice.

Used by the tests that render the benchmark report and the comparison from fixtures. A table cell is what lies
between two unescaped `|` of a table row; a sentence is a stretch of prose (a paragraph, a list item, a cell)
ending with `.`, `;`, `?` or `!` or the end of its line, of at least MIN_WORDS words once Markdown's marks and
code spans are removed (shorter ones - a row's name, a number with its unit - repeat in tables by nature; code
names a row or a stage, it is not said). Code blocks are left out.
"""

from __future__ import annotations

import re
from collections import Counter

MIN_WORDS = 6


def _prose_lines(markdown: str) -> list[str]:
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def table_cells(markdown: str) -> list[str]:
    cells = []
    for line in _prose_lines(markdown):
        if line.startswith("|") and not re.fullmatch(r"[|\-: ]+", line):
            cells += [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
    return cells


def long_cells(markdown: str, limit: int) -> list[str]:
    return [c for c in table_cells(markdown) if len(c) > limit]


def sentences(markdown: str) -> list[str]:
    out = []
    for line in _prose_lines(markdown):
        pieces = table_cells(line) if line.startswith("|") else [line]
        for piece in pieces:
            text = re.sub(r"`[^`]*`", " ", piece)
            text = re.sub(r"[*_#>]|^\s*[-\d.]+\s", " ", text)
            for sentence in re.split(r"(?<=[.;?!])\s+", text):
                words = sentence.split()
                if len(words) >= MIN_WORDS:
                    out.append(" ".join(words).lower().rstrip(".;?!"))
    return out


def repeated_sentences(markdown: str) -> list[str]:
    return [s for s, n in Counter(sentences(markdown)).items() if n > 1]
