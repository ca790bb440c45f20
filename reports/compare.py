"""`python -m reports compare A.json B.json`: per-row throughput ratios between two benchmark reports.

Rows are matched by name. A ratio is only meaningful when both rows measured the same thing, so a row
whose configuration differs (batch size, consumer, examples per epoch, steps_per_execution, XLA,
input, replicas, devices, ...) is refused with the fields that differ, never divided. Exit status: 0 when
every common row was compared, 1 when some row was refused or no row is common, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabulate import tabulate

SECTIONS = ("data", "training", "cluster")  # cluster: reports/cluster.py, rows carry their `config`


def _config(section: str, row: dict) -> dict:
    # data rows carry their configuration in `config`; training rows in `config_detail` (`config` is the name
    # of the tuning there)
    return row.get("config_detail") if section == "training" else row.get("config")


def _env_line(env: dict) -> str:
    cpu = env.get("cpu", {})
    gpus = ", ".join(g.get("name", "?") for g in env.get("gpus", [])) or "no GPU"
    return (f"TensorFlow {env.get('tensorflow')}, {env.get('keras', {}).get('name')} "
            f"{env.get('keras', {}).get('version')}, {cpu.get('model')} ({cpu.get('usable_cores')} cores), {gpus}")


def compare(a: dict, b: dict) -> tuple[list[list], list[str]]:
    """(table rows, refusals) for every row name present in both reports."""
    table, refused = [], []
    for section in SECTIONS:
        rows_b = {r["name"]: r for r in b.get(section, [])}
        for ra in a.get(section, []):
            rb = rows_b.get(ra["name"])
            if rb is None:
                continue
            ca, cb = _config(section, ra), _config(section, rb)
            if ca != cb:
                keys = sorted(k for k in set(ca or {}) | set(cb or {}) if (ca or {}).get(k) != (cb or {}).get(k))
                diffs = "; ".join(f"{k}: {(ca or {}).get(k)!r} vs {(cb or {}).get(k)!r}" for k in keys)
                refused.append(f"{section} {ra['name']}: configuration differs ({diffs})")
                continue
            ratio = rb["examples_per_s"] / ra["examples_per_s"] if ra["examples_per_s"] else float("nan")
            flag = "⚠" if ra.get("cv_flag") or rb.get("cv_flag") else ""
            table.append([section, ra["name"], f"{ra['examples_per_s']:,.0f}", f"{rb['examples_per_s']:,.0f}",
                          f"{ratio:.3f}", f"{ra.get('pct_of_limit', float('nan')):.3g}",
                          f"{rb.get('pct_of_limit', float('nan')):.3g}", f"{ra['cv']:.1%} / {rb['cv']:.1%} {flag}".strip()])
    return table, refused


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m reports compare",
                                 description="Per-row throughput ratios B/A between two benchmarks.json reports.")
    ap.add_argument("a", type=Path, help="baseline benchmarks.json")
    ap.add_argument("b", type=Path, help="benchmarks.json to compare with the baseline")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    reports = []
    for path in (args.a, args.b):
        try:
            reports.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"compare: cannot read {path}: {exc}", file=sys.stderr)
            return 2
        if not isinstance(reports[-1], dict) or not any(s in reports[-1] for s in SECTIONS):
            print(f"compare: {path} is not a benchmarks.json report (no 'data' or 'training' rows)", file=sys.stderr)
            return 2
    a, b = reports
    print(f"A: {args.a} — {_env_line(a.get('environment', {}))}")
    print(f"B: {args.b} — {_env_line(b.get('environment', {}))}")
    table, refused = compare(a, b)
    if table:
        print(tabulate(table, headers=["section", "row", "A examples/s", "B examples/s", "B/A", "A % of limit",
                                       "B % of limit", "CV A / B"], tablefmt="simple", disable_numparse=True))
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    if not table and not refused:
        print("compare: no row name is common to both reports", file=sys.stderr)
        return 1
    print(f"{len(table)} row(s) compared, {len(refused)} refused")
    return 1 if refused else 0
