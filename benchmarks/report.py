"""benchmarks.json: the rows of a `pytest benchmarks` session with every figure derived from them, written once.

The contract is tfguide/schemas/benchmarks.schema.json (its `$id` is the version written as `schema`): `environment`,
`provenance` (with the date), `threads`, `method`, `plan`, `budget` (the run's time against its budget:
benchmarks/budget.py), `wall_s`, `groups`; `limits` (copy bandwidth and matmul peak, each the best over its sweep
and its re-measurements before every section (`history`); the theoretical peak, shown beside, never a denominator;
the file-system bandwidths of the best page-cache probes; `details`); the rows of `data`, `training`, `io`
(`cluster` stays empty: a cluster run writes its rows into cluster.json), each with its interval (Recorder.row) and
the figures derived here: MB/s, % of its limit (+ interval) and which limit, achieved FLOP/s, ms per step, the
unpaired speed-up against the guide's row of another group, E_N, and for the quickstart model's training rows
whether they reached the guide's quality; `time_to_quality` (benchmarks/quality.py); `selfcheck`, `skipped`,
`targets` (with their three-valued verdict) and `ladders` (declared by each recipe's benchmark module:
benchmarks/declaration.py); `recipes` and `headline` (benchmarks/summary.py); `summary`, `notes`, and `checks`
(problems(): the schema, and no row beyond its limit by more than its noise).

Written whole or not at all (tfguide/atomic.py), beside its exports for continuous-benchmarking services
(benchmarks/export.py).
reports/ renders it (`python -m reports benchmarks DIR`: benchmarks.md and the plots) and never computes a
figure; this module never imports reports/ and starts that command as a process of its own instead.
`python -m reports compare` requires a row's configuration to be identical before it divides two rows.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path

from benchmarks import budget as budget_mod
from benchmarks import declaration, export, summary
from benchmarks.quality import quality_target
from benchmarks.stats import scaling_efficiency
from tfguide import atomic, contracts, launcher, schema
from tfguide.intervals import ratio_ci_from_intervals

SCHEMA_PATH = contracts.BENCHMARKS_SCHEMA   # the contract, in the core
SCHEMA = contracts.schema("benchmarks")["$id"]
TABLES = ("data", "training", "io")
DATA_CONFIG_KEYS = ("source", "variant", "batch_size", "consumer", "examples_per_epoch", "bytes_per_example",
                    "pipeline", "data")
TRAINING_CONFIG_KEYS = ("model", "config", "global_batch", "replicas", "devices", "examples_per_epoch",
                        "steps_per_execution", "jit_compile", "input", "strategy", "data", "api")
IO_CONFIG_KEYS = ("model", "op", "format", "hidden", "params")
RENDER_TIMEOUT_S = 300.0   # the Markdown and the plots (matplotlib's first import builds its font cache)


def _scale(ci, factor):
    if not ci or ci[0] is None or ci[1] is None:
        return [None, None]
    return [ci[0] * factor, ci[1] * factor]


# -- what each row's figures mean against its limit ------------------------------------------------------

def _finish_data(rows: list[dict], copy_bw: float) -> None:
    for r in rows:
        bpe = r["bytes_per_example"]
        r["mb_per_s"] = r["examples_per_s"] * bpe / 1e6
        r["mb_per_s_ci95"] = _scale(r["examples_per_s_ci95"], bpe / 1e6)
        r["pct_of_limit"] = 100.0 * r["examples_per_s"] * bpe / copy_bw
        r["pct_of_limit_ci95"] = _scale(r["examples_per_s_ci95"], 100.0 * bpe / copy_bw)
        r["limit"] = "copy_bandwidth (best of the run)"
        r["config"] = {k: r.get(k) for k in DATA_CONFIG_KEYS}


def _model_sweeps(limits: dict) -> dict:
    """Per device: each matmul set's best over its runs with and without XLA."""
    sweeps: dict = {}
    for dev, by in limits["details"]["matmul_peak"].items():
        for s in by.get("float32", {}).get("sweep", []):
            if "best_flop_per_s" in s:
                best = sweeps.setdefault(dev, {})
                best[s["set"]] = max(best.get(s["set"], 0.0), s["best_flop_per_s"])
    return sweeps


def _against_matmul_peak(r: dict, limits: dict, sweeps: dict) -> None:
    device = r.get("limit_device") or limits["primary_device"]
    sweep = sweeps.get(device, {})  # the row's own device: a GPU's sweep is no ceiling for a CPU row
    devices = max(1, r.get("peak_devices") or 1)
    peak = limits["matmul_peak_flop_per_s"][device]["float32"] * devices
    flops = r.get("flops_per_example") or r.get("flops_per_example_inference")
    if flops:
        r["achieved_flop_per_s"] = r["examples_per_s"] * flops
        r["achieved_flop_per_s_ci95"] = _scale(r["examples_per_s_ci95"], flops)
        r["pct_of_limit"] = 100.0 * r["achieved_flop_per_s"] / peak
        r["pct_of_limit_ci95"] = _scale(r["examples_per_s_ci95"], 100.0 * flops / peak)
        r["limit"] = (f"matmul peak {device} float32 (measured, best over the sweep)"
                      + (f" x{r['peak_devices']}" if devices > 1 else ""))
    else:
        r["pct_of_limit"], r["pct_of_limit_ci95"], r["limit"] = None, [None, None], "none (no FLOP count)"
    theo = limits.get("theoretical_flop_per_s")
    r["pct_of_theoretical"] = 100.0 * r["achieved_flop_per_s"] / theo if (flops and theo) else None
    b = r.get("global_batch")
    if r.get("model") == "quickstart" and b and (r.get("replicas") or 1) == 1:
        ceiling = sweep.get(f"quickstart training b{b}")
        r["model_matmuls_pct_of_peak"] = 100.0 * ceiling / peak if ceiling else None


def _step_times(r: dict) -> None:
    b = r.get("global_batch")
    if r["examples_per_s"] and b:
        r["ms_per_step_p50"] = 1e3 * b / r["examples_per_s"]
        rates = sorted(x for x in r["timing"]["rates"] if x)
        slow = rates[max(0, int(math.floor(0.05 * (len(rates) - 1))))] if rates else None
        r["ms_per_step_p95"] = 1e3 * b / slow if slow else None
    else:
        r["ms_per_step_p50"] = r["ms_per_step_p95"] = None


def _unpaired_speedup(r: dict, guide: dict) -> None:
    """Against the guide's row of another group: ratio of medians, interval from both intervals."""
    res = ratio_ci_from_intervals(guide["examples_per_s"], tuple(guide["examples_per_s_ci95"]),
                                  r["examples_per_s"], tuple(r["examples_per_s_ci95"]))
    if res is None:
        r["speedup_vs_guide"], r["speedup_vs_guide_ci95"] = r["examples_per_s"] / guide["examples_per_s"], [None, None]
    else:
        r["speedup_vs_guide"], r["speedup_vs_guide_ci95"] = res[0], [res[1], res[2]]
    r["speedup_method"] = "unpaired (measured in another group): ratio of medians, interval from both intervals"
    r["baseline"] = guide["name"]


def _finish_training(rows: list[dict], limits: dict) -> None:
    by_name = {r["name"]: r for r in rows}
    guides = {r["model"]: r for r in rows if r.get("is_guide")}
    sweeps = _model_sweeps(limits)
    for r in rows:
        _against_matmul_peak(r, limits, sweeps)
        _step_times(r)
        if r.get("speedup_vs_guide") is None and r.get("model") in guides and not r.get("is_guide"):
            _unpaired_speedup(r, guides[r["model"]])
        if r.get("scaling_efficiency_vs") in by_name:  # N replicas against N times the one-device row
            base = by_name[r["scaling_efficiency_vs"]]
            r["scaling_efficiency"] = scaling_efficiency(r["examples_per_s"],
                                                         [base["examples_per_s"]] * r["replicas"])
        r.setdefault("accuracy", None)
        # a training figure counts only when its model learned what the guide's learns (benchmarks/quality.py)
        r["quality_target"] = quality_target(r.get("data")) if r.get("model") == "quickstart" else None
        r["reached_quality"] = (None if r["quality_target"] is None or r["accuracy"] is None
                                else r["accuracy"] >= r["quality_target"])
        r.setdefault("input_wait_share", None)
        r.setdefault("input_bound", None)
        r["config_detail"] = {k: r.get(k) for k in TRAINING_CONFIG_KEYS}


def _finish_io(rows: list[dict], limits: dict) -> None:
    for r in rows:
        size = r["file_bytes"]
        r["mb_per_s"] = r["examples_per_s"] * size / 1e6
        r["mb_per_s_ci95"] = _scale(r["examples_per_s_ci95"], size / 1e6)
        key = "fs_write_bytes_per_s" if r["op"] == "save" else "fs_read_bytes_per_s"
        lim = limits.get(key)
        r["pct_of_limit"] = 100.0 * r["examples_per_s"] * size / lim if lim else None
        r["pct_of_limit_ci95"] = _scale(r["examples_per_s_ci95"], 100.0 * size / lim) if lim else [None, None]
        r["limit"] = f"file-system {'write' if r['op'] == 'save' else 'read'} bandwidth (page cache, best probe)"
        r["config_detail"] = {k: r.get(k) for k in IO_CONFIG_KEYS}


# -- limits -----------------------------------------------------------------------------------------

def _fs_limits(recorder) -> dict:
    from benchmarks import fsio

    out = {}
    for kind in ("write", "read"):
        best, where = None, None
        for key, rounds in recorder.rounds.items():
            if fsio.is_probe(key, kind):
                for r in rounds:
                    if r["rate"] and (best is None or r["rate"] > best):
                        best, where = r["rate"], key
        out[kind] = (best, where)
    return out


def limits_of(recorder) -> dict:
    from benchmarks import limits as limits_mod
    from benchmarks import machine

    lim = limits_mod.public(recorder.limits)
    fs = _fs_limits(recorder)
    theo = dict(lim.get("theoretical_cpu", {}))
    best_cpu = max((by.get("float32", {}).get("best_flop_per_s", 0.0) for dev, by in lim["matmul_peak"].items()
                    if "CPU" in dev), default=0.0)
    theo["implied_mhz"] = machine.implied_mhz(best_cpu, theo)
    return {
        "copy_bandwidth_bytes_per_s": lim["copy_bandwidth"]["best_bytes_per_s"],
        "matmul_peak_flop_per_s": {dev: {dt: v["best_flop_per_s"] for dt, v in by.items()}
                                   for dev, by in lim["matmul_peak"].items()},
        "theoretical_flop_per_s": theo.get("flop_per_s"), "theoretical": theo,
        "fs_write_bytes_per_s": fs["write"][0], "fs_read_bytes_per_s": fs["read"][0],
        "fs_probes": {"write": fs["write"][1], "read": fs["read"][1],
                      "method": "best page-cache probe round (open().write()/read(), no fsync), at the rows' file "
                                "sizes and 64 MiB, measured round-robin with the save/load rows"},
        "primary_device": lim["primary_device"], "history": lim.get("history", []),
        "details": {"copy_bandwidth": lim["copy_bandwidth"], "matmul_peak": lim["matmul_peak"]},
    }


# -- the report -------------------------------------------------------------------------------------

def _budget(recorder, wall_s: float | None) -> dict:
    """The run's time against its budget: how many passes it made, and the later passes the budget left out."""
    made = sorted({g["pass"] for g in recorder.groups if g["pass"] != "once"})
    left_out = [s["name"] for s in recorder.skipped if s["section"] == "passes"]
    budget = recorder.budget
    return {"budget_s": budget.total_s if budget is not None else None, "wall_s": wall_s,
            "passes_planned": recorder.plan.passes, "passes_made": len(made), "passes_left_out": left_out,
            "method": budget_mod.__doc__.split("\n\n")[1].strip() if budget is not None else "no budget"}


def _summary(rows: list[dict], groups: list[dict]) -> dict:
    hws = [r["ci_half_width"] for r in rows if r.get("ci_half_width") is not None]
    sds = [r["pass_medians_sd"] for r in rows if r.get("pass_medians_sd") is not None]
    return {"rows": len(rows), "precise_rows": sum(1 for r in rows if r.get("precise")),
            "rows_under_interference": sum(1 for r in rows if r.get("under_interference")),
            "rows_with_interfered_rounds": sum(1 for r in rows if r.get("rounds_interfered")),
            "median_half_width": statistics.median(hws) if hws else None,
            "rows_width_from_passes": sum(1 for r in rows if r.get("interval_width_from") == "spread of the pass medians"),
            "median_pass_medians_sd": statistics.median(sds) if sds else None,
            "groups_out_of_budget": sum(1 for g in groups if g["budget_spent"])}


def targets_and_ladders(report: dict, declared: list | None = None) -> tuple[list[dict], list[dict]]:
    """What every recipe's declaration holds its rows to, with a three-valued verdict (declaration.verdict), and
    what each tuning gave (declaration order)."""
    declared = declaration.all_benchmarks() if declared is None else declared
    targets = []
    for b in declared:
        for target in b.targets:
            t = target.evaluate(report, target.threshold)
            if t is not None:
                targets.append({"key": target.key, "recipe": b.recipe, "threshold": target.threshold,
                                "verdict": declaration.verdict(t.get("value_ci95"), target.threshold), **t})
    ladders = [lad for b in declared for ladder in b.ladders for lad in ladder.build(report)]
    return targets, ladders


def build(recorder, env: dict, wall_s: float | None = None, declared: list | None = None) -> dict:
    """The report as a JSON-able dict, from the Recorder of a benchmark session."""
    from benchmarks import machine
    from benchmarks.rounds import __doc__ as rounds_doc
    from tfguide.provenance import provenance

    limits = limits_of(recorder)
    tables = {t: recorder.rows(t) for t in TABLES}
    _finish_data(tables["data"], limits["copy_bandwidth_bytes_per_s"])
    _finish_training(tables["training"], limits)
    _finish_io(tables["io"], limits)
    stamp = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # as tfguide.provenance dates reports
    report = {"schema": SCHEMA, "environment": env, "provenance": {**provenance(launcher.ROOT), **stamp},
              "threads": dict(recorder.threads), "plan": recorder.plan.describe(), "wall_s": wall_s,
              "method": (rounds_doc or "").strip(), "peak_rss_method": machine.peak_rss_method(),
              "interference_rule": f"others > {machine.OTHERS_LIMIT} cores or steal > {machine.STEAL_LIMIT:.0%} "
                                   "of the CPUs during a round",
              "limits": limits, **tables,
              "selfcheck": [dict(r) for r in recorder.selfcheck], "skipped": _skipped(recorder),
              "groups": list(recorder.groups), "notes": list(recorder.notes),
              "time_to_quality": [dict(r) for r in recorder.quality], "budget": _budget(recorder, wall_s),
              "summary": _summary([r for t in TABLES for r in tables[t]], recorder.groups)}
    declared = declaration.all_benchmarks() if declared is None else declared
    report["targets"], report["ladders"] = targets_and_ladders(report, declared)
    report["recipes"], report["headline"] = summary.recipes(report, declared), summary.headline(report)
    speed = recorder.machine_speed()
    if speed is not None:
        report["machine_speed"] = speed
    report["cluster"], report["checks"] = [], []
    report["checks"] = problems(jsonable(report))
    return report


def _skipped(recorder) -> list[dict]:
    """What was not measured, and why. A later pass that ran out of its time before a group (benchmarks/budget.py)
    does not make that group unmeasured when another pass measured it: the groups' table shows its passes."""
    measured = {g["group"] for g in recorder.groups}
    return [s for s in recorder.skipped if not (s.get("budget") and s["name"] in measured)]


def problems(report: dict) -> list[str]:
    """What is wrong with a report: where it breaks the schema, or a row beyond its limit by more than its noise
    (the whole 95 % interval above the limit). Empty when the report is sound."""
    out = schema.errors(report, schema.load(SCHEMA_PATH))
    for table in TABLES:
        for r in report.get(table, []):
            low = (r.get("pct_of_limit_ci95") or [None])[0]
            value = low if low is not None else r.get("pct_of_limit")
            binding = table != "data" or r.get("copies_every_byte")
            if binding and value is not None and value > 100.0:
                out.append(f"{table} {r['name']}: {r['pct_of_limit']:.1f} % of {r['limit']}, interval from "
                           f"{value:.1f} %: the row exceeds its limit beyond its own noise, so the limit is wrong")
    return out


def jsonable(obj):
    """NaN and infinities become null, numpy scalars Python numbers, tuples lists: what json.dumps can write."""
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return obj


def load(path: Path) -> dict | None:
    """The benchmarks.json in `path` (tfguide/contracts.py load), or None when it cannot be read."""
    try:
        return contracts.load(path, "benchmarks")
    except contracts.ContractError:
        return None


def write_json(report: dict, report_dir: Path, name: str = "benchmarks.json") -> Path:
    """The report, written whole or not at all (tfguide/atomic.py)."""
    return atomic.write_text(Path(report_dir) / name, json.dumps(jsonable(report), indent=1) + "\n")


def render(report_dir: Path) -> list[Path]:
    """benchmarks.md and the plots, drawn from benchmarks.json by `python -m reports benchmarks DIR` in a
    process of its own (reports/ reads what benchmarks/ wrote; neither imports the other). The files written."""
    result = launcher.run([launcher.Task(launcher.python("-m", "reports", "benchmarks", str(report_dir)),
                                         name="render")], RENDER_TIMEOUT_S)
    if not result.ok:
        raise RuntimeError(f"rendering {report_dir}/benchmarks.json failed: {result.failure()}")
    return [Path(line) for line in result.processes[0].stdout.split()]


def write(report: dict, report_dir: Path) -> list[Path]:
    """benchmarks.json, then its Markdown and plots (which also show the rows of a cluster run's cluster.json in the
    same directory: the renderer reads both files, and each has one writer)."""
    report_dir = Path(report_dir)
    json_path = write_json(report, report_dir)
    return [json_path, *export.write(report, report_dir), *render(report_dir)]
