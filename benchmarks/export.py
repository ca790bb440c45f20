"""benchmarks.json in the formats continuous-benchmarking services ingest, each figure with its 95 % interval.

- github-action-benchmark, tool `customBiggerIsBetter` (benchmarks-github.json): a list of {name, unit, value,
  range, extra}, one per throughput row; `range` is the interval's half-width ("± x", the action shows it
  beside the value), `extra` the interval itself, the rounds and passes.
- Bencher Metric Format (benchmarks-bencher.json): {row name: {measure: {value, lower_value, upper_value}}},
  `throughput` (Bencher's own measure: operations per second) for every row, and `time-to-quality` (seconds)
  for the time-to-quality rows; the lower and upper values are the interval's ends.
- pytest-benchmark's JSON (`pytest_benchmark_doc`): one benchmark per row, its stats computed by pytest-benchmark's
  own `Stats` from the row's real rounds, each round's time divided by the examples it processed (seconds per
  example: pytest-benchmark's `ops` is then examples/s, and a quick run's rows stay comparable with a full run's,
  whose epochs are longer); the project's figure, interval, % of limit and configuration in `extra_info`.
  `pytest benchmarks` hands these rows to pytest-benchmark's own session (benchmarks/conftest.py), which saves
  them (`--benchmark-autosave`, on by default there), compares them (`--benchmark-compare`,
  `--benchmark-compare-fail`) and writes `--benchmark-json`; `python -m benchmarks.export REPORT.json` saves an
  existing report the same way.

pytest-benchmark's statistics describe the rounds (min, mean, standard deviation, median): they know nothing of
the passes in fresh processes, the modes or the intervals, and `pytest-benchmark compare` or
`--benchmark-compare-fail=median:5%` compares two numbers without their noise. Where they disagree with
`python -m reports compare`, the latter's interval-based verdict is the one to trust (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
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


# -- pytest-benchmark --------------------------------------------------------------------------------------

PROJECT = "tfguide-conformance"
# One pytest-benchmark "iteration" is one of what a row's rate counts (examples; files for save/load rows, per
# their `unit`): a round's time is divided by how many it held. Every fullname is "benchmarks.json::<table>/<row>".
SOURCE = "benchmarks.json"


def _round_times(table: str, r: dict) -> tuple[list[float], int | None]:
    """The row's rounds as seconds per example (each round's time over the examples it processed), and the median
    examples per round (pytest-benchmark's `iterations`). Every recorded round, whichever the report's figure used
    (clean rounds only, the headline mode): pytest-benchmark's statistics are of the rounds as they were."""
    timing = r.get("timing") or {}
    if table == "cluster":  # a cluster row's timing: per-round seconds of `examples_per_round` examples each
        n = r.get("examples_per_round")
        return ([s / n for s in timing.get("round_s") or [] if s and n] if n else []), n
    data, items = [], []
    for rate, seconds in zip(timing.get("rates") or [], timing.get("seconds") or []):
        if rate and seconds and rate > 0 and seconds > 0:
            n = rate * seconds            # the examples this round processed
            data.append(seconds / n)
            items.append(n)
    return data, (int(round(statistics.median(items))) if items else None)


def _row_extra(table: str, r: dict) -> dict:
    """The project's own figures, which pytest-benchmark's statistics cannot say."""
    keys = ("recipe", "unit", "examples_per_s", "examples_per_s_ci95", "examples_per_s_pi95", "ci_half_width",
            "precision", "pct_of_limit", "pct_of_limit_ci95", "limit", "speedup_vs_guide", "speedup_vs_guide_ci95",
            "rounds", "rounds_recorded", "rounds_interfered", "passes", "statistic_over", "mode_switches")
    extra = {"table": table, "time_unit": "seconds per " + (r.get("unit") or "example").rstrip("s"),
             **{k: r[k] for k in keys if k in r}}
    if r.get("modes"):
        extra["modes"] = len(r["modes"])
        extra["figure"] = "the fastest mode holding a fifth of the rounds (benchmarks/modes.py), not their median"
    config = r.get("config") if isinstance(r.get("config"), dict) else r.get("config_detail")
    if isinstance(config, dict):
        extra["config"] = config
    return extra


def _entry(group: str | None, name: str, data: list[float], iterations: int | None, extra: dict,
           include_data: bool = True) -> dict:
    from pytest_benchmark.stats import Stats

    stats = Stats()
    for d in data:
        stats.update(d)
    out = stats.as_dict()
    if include_data:
        out["data"] = list(data)
    out["iterations"] = iterations or 1
    return {"group": group, "name": name, "fullname": f"{SOURCE}::{name}", "params": None, "param": None,
            "extra_info": extra, "options": {"source": "the rounds of `pytest benchmarks` (benchmarks/rounds.py)"},
            "stats": out}


def pytest_benchmark_entries(report: dict, include_data: bool = True) -> list[dict]:
    """Every row of the report as a benchmark of pytest-benchmark's JSON (rows without rounds left out); the
    time-to-quality rows with one round per trial (seconds to the target, lower is better)."""
    out = []
    for table, r in _rows(report):
        data, iterations = _round_times(table, r)
        if data:
            name = r["name"] if r["name"].startswith(f"{table}/") else f"{table}/{r['name']}"
            out.append(_entry(r.get("recipe") or table, name, data, iterations,
                              _row_extra(table, r), include_data))
    for r in report.get("time_to_quality", []):
        trials = [s for s in r.get("trial_seconds") or [] if s]
        if trials:
            extra = {"table": "time_to_quality", "time_unit": "seconds to the quality target per trial",
                     **{k: r.get(k) for k in ("recipe", "seconds", "seconds_ci95", "target_accuracy", "reached",
                                              "trials", "speedup_vs_guide", "speedup_vs_guide_ci95")}}
            out.append(_entry("time_to_quality", f"time_to_quality/{r['name']}", trials, 1, extra, include_data))
    return out


def into_session(bs, report: dict) -> int:
    """The report's rows appended to pytest-benchmark's session `bs` (config._benchmarksession) as its own records
    (pytest_benchmark.stats.Metadata, as its `benchmark` fixture makes them): at the session's end it saves them
    (--benchmark-save/-autosave/-json), compares them (--benchmark-compare, --benchmark-compare-fail) and tables
    them as it does its own. How many."""
    from types import SimpleNamespace

    from pytest_benchmark.stats import Metadata

    entries = pytest_benchmark_entries(report)
    for e in entries:
        fixture = SimpleNamespace(name=e["name"], fullname=e["fullname"], group=e["group"], param=None, params=None,
                                  extra_info=e["extra_info"], cprofile_stats=None, has_error=False)
        record = Metadata(fixture, iterations=e["stats"]["iterations"], options=e["options"])
        record.stats.data.extend(e["stats"]["data"])
        bs.benchmarks.append(record)
    return len(entries)


def machine_info(report: dict) -> dict:
    """pytest-benchmark's machine_info from the report's environment (when no pytest session supplies its own)."""
    env = report.get("environment") or {}
    cpu = env.get("cpu") or {}
    return {"node": None, "processor": cpu.get("model"), "machine": None, "python_implementation": "CPython",
            "python_version": env.get("python"), "system": "Linux" if "Linux" in str(env.get("platform")) else None,
            "release": env.get("platform"), "cpu": {"brand_raw": cpu.get("model"), "count": cpu.get("cores")},
            "tensorflow": env.get("tensorflow"), "keras": (env.get("keras") or {}).get("version")}


def commit_info(report: dict) -> dict:
    """pytest-benchmark's commit_info from the report's provenance: the checkout's commit, not the cwd's."""
    prov = report.get("provenance") or {}
    return {"id": prov.get("git_commit") or "unknown", "time": None, "author_time": None,
            "dirty": bool(prov.get("git_dirty")), "project": PROJECT, "branch": prov.get("git_branch", "(unknown)")}


def pytest_benchmark_doc(report: dict, micro: list[dict] = (), include_data: bool = True) -> dict:
    """A whole pytest-benchmark JSON file: the report's rows (and `micro`, benchmarks already in that format)."""
    from pytest_benchmark import __version__

    return {"machine_info": machine_info(report), "commit_info": commit_info(report),
            "benchmarks": [*micro, *pytest_benchmark_entries(report, include_data)],
            "datetime": _iso_date(report), "version": __version__}


def _iso_date(report: dict) -> str | None:
    """The run's date as pytest-benchmark writes it (ISO 8601, UTC); benchmarks.json has `...Z`, older reports
    `YYYY-mm-dd HH:MM UTC`."""
    date = (report.get("provenance") or {}).get("date")
    if not date:
        return None
    if date.endswith(" UTC"):
        return date[:-4].replace(" ", "T") + ":00+00:00"
    return date[:-1] + "+00:00" if date.endswith("Z") else date


def autosave_tag(report: dict, when: str) -> str:
    """`--benchmark-autosave`'s name: `<commit>_<YYYYmmdd_HHMMSS>[_uncommitted-changes]` (pytest-benchmark's
    get_tag, from the report's checkout instead of the current directory's)."""
    info = commit_info(report)
    return "_".join([info["id"], when] + (["uncommitted-changes"] if info["dirty"] else []))


def save_pytest_benchmark(doc: dict, storage: Path, name: str) -> Path:
    """Save `doc` as pytest-benchmark's FileStorage does: `<storage>/<machine id>/NNNN_<name>.json`, NNNN one more
    than the highest there."""
    from pytest_benchmark.utils import get_machine_id

    folder = Path(storage) / get_machine_id()
    folder.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[:4]) for p in folder.glob("[0-9][0-9][0-9][0-9]_*.json")]
    return atomic.write_text(folder / f"{max(numbers, default=0) + 1:04d}_{name}.json", json.dumps(doc, indent=4) + "\n")


def main(argv=None) -> int:
    """python -m benchmarks.export REPORT.json [--storage DIR] [--save NAME]: a benchmarks.json into pytest-benchmark's
    storage, named as --benchmark-autosave names a run (or NNNN_NAME.json)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.export", description=main.__doc__.split(":", 1)[1])
    ap.add_argument("report", type=Path)
    ap.add_argument("--storage", type=Path, default=Path(".benchmarks"),
                    help="pytest-benchmark's storage folder (default: .benchmarks in the current directory, where "
                         "pytest-benchmark and its `list`/`compare` look by default)")
    ap.add_argument("--save", metavar="NAME", help="NNNN_NAME.json instead of the autosave name")
    args = ap.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        if not isinstance(report, dict) or "provenance" not in report:
            raise ValueError("not a benchmarks.json (no provenance)")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"{args.report}: {exc}", file=sys.stderr)
        return 2
    from pytest_benchmark.utils import get_current_time

    name = args.save or autosave_tag(report, get_current_time())
    print(save_pytest_benchmark(pytest_benchmark_doc(report), args.storage, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
