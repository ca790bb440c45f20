"""benchmarks.json in the formats continuous-benchmarking services ingest, each figure with its 95 % interval.

- github-action-benchmark, tool `customBiggerIsBetter` (benchmarks-github.json): a list of {name, unit, value,
  range, extra}, one per throughput row; `range` is the interval's half-width ("± x", the action shows it
  beside the value), `extra` the interval itself, the rounds and passes.
- Bencher Metric Format (benchmarks-bencher.json): {row name: {measure: {value, lower_value, upper_value}}},
  `throughput` (Bencher's own measure: operations per second) for every row, and `time-to-quality` (seconds)
  for the time-to-quality rows; the lower and upper values are the interval's ends.

These replace pytest-benchmark, which the project declared but never used: its model (time one callable
repeatedly in one process, mean and standard deviation) holds neither the passes in fresh processes nor the
intervals these rows carry, and `pytest-benchmark compare` would compare means without them.
"""

from __future__ import annotations

import json
from pathlib import Path

from tfguide import atomic

TABLES = ("data", "training", "io", "cluster")
GITHUB, BENCHER = "benchmarks-github.json", "benchmarks-bencher.json"


def _rows(report: dict):
    for table in TABLES:
        for r in report.get(table, []):
            yield table, r


def github(report: dict) -> list[dict]:
    out = []
    for table, r in _rows(report):
        lo, hi = (r.get("examples_per_s_ci95") or [None, None])[:2]
        half = (hi - lo) / 2 if lo is not None and hi is not None else None
        out.append({"name": f"{table}/{r['name']}", "unit": f"{r.get('unit', 'examples')}/s",
                    "value": r["examples_per_s"], "range": f"± {half:.6g}" if half is not None else "",
                    "extra": (f"95 % interval [{lo:.6g}, {hi:.6g}]; " if half is not None else "no interval; ")
                             + f"{r.get('rounds')} rounds in {r.get('passes', 1)} pass(es)"})
    return out


def bencher(report: dict) -> dict:
    out: dict = {}
    for table, r in _rows(report):
        lo, hi = (r.get("examples_per_s_ci95") or [None, None])[:2]
        out[f"{table}/{r['name']}"] = {"throughput": _metric(r["examples_per_s"], lo, hi)}
    for r in report.get("time_to_quality", []):
        lo, hi = (r.get("seconds_ci95") or [None, None])[:2]
        out[f"time_to_quality/{r['name']}"] = {"time-to-quality": _metric(r["seconds"], lo, hi)}
    return out


def _metric(value, lo, hi) -> dict:
    metric = {"value": value}
    if lo is not None and hi is not None:
        metric.update(lower_value=lo, upper_value=hi)
    return metric


def write(report: dict, report_dir: Path) -> list[Path]:
    report_dir = Path(report_dir)
    return [atomic.write_text(report_dir / GITHUB, json.dumps(github(report), indent=1) + "\n"),
            atomic.write_text(report_dir / BENCHER, json.dumps(bencher(report), indent=1) + "\n")]
