"""Marks that mark exceptions: a mark on most rows of a table marks nothing.

When a property holds for at most half of the rows, those rows get the mark; otherwise the rows where it does not
hold get it, and the legend says so. Used by benchmarks.md (reports/benchmarks.py) and its cluster section
(reports/cluster.py).
"""

from __future__ import annotations


def mark_exceptions(rows: list[dict], has, mark: str, meaning: str, opposite: str) -> tuple[dict, str]:
    """{row name: mark} for the rows that are the exception, and the legend: the rows where `has` holds when they
    are fewer than half, else the others (with the legend turned round)."""
    yes = [r["name"] for r in rows if has(r)]
    if not yes:
        return {}, ""
    if len(yes) <= len(rows) / 2:
        return {n: mark for n in yes}, f"{mark} {meaning}."
    no = [r["name"] for r in rows if not has(r)]
    if not no:
        return {}, f"All {len(rows)} rows {meaning}."
    return {n: mark for n in no}, f"{len(yes)} of {len(rows)} rows {meaning}; {mark} marks those that are {opposite}."
