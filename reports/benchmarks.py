"""The benchmark report: benchmarks.json (the contract below), benchmarks.md (tabulate) and, with matplotlib, PNG plots.

JSON contract (`schema: tfguide-benchmarks/2`):
- `environment` (tfguide/environment.py's fingerprint), `provenance` (`git_commit` or "not a git checkout",
  `git_dirty`, `pip_freeze` (every installed package), `command_line`), `threads` (the fixed thread
  configuration), `method` (how rows are measured), `plan`, `wall_s` (the run's wall time), `groups` (per
  group and pass: rounds, seconds, whether the budget ran out);
- `limits`: `copy_bandwidth_bytes_per_s` and `matmul_peak_flop_per_s` ({device: {dtype: FLOP/s}}), each the best
  over its sweep and over its re-measurements before every section (`history`); `theoretical_flop_per_s` (from
  what the CPU declares, shown beside, never a denominator); `fs_write_bytes_per_s` / `fs_read_bytes_per_s`
  (best page-cache probe); `primary_device`; `details` (every sweep);
- `data`, `training`, `io`: rows. Every row has `name`, `recipe`, `examples_per_s` (the median of its rounds;
  for io rows: files per second), `examples_per_s_ci95` [low, high] (95 % interval of the median: the
  distribution-free order-statistic interval of all rounds, each side widened to Student's t interval over the
  passes' medians where that is wider), `examples_per_s_pi95` (the same for another run's median),
  `interval_width_from` (which of the two set the width), `pass_medians_sd` (spread of the passes' log
  medians; none for rows measured once), `ci_half_width`, `precision` ("met" or why not), `cv`, `rounds`, `rounds_interfered`,
  `under_interference`, `others_cores_median`, `load_average`, `cores_used` (process CPU time / wall time),
  `peak_rss_bytes`, `pct_of_limit` (+ `_ci95`) and `limit` (which limit the percentage uses),
  `speedup_vs_guide` (+ `_ci95`: the median of per-round ratios to the guide's row measured in the same rounds),
  and `timing` (every round's rate). tf.data rows add `batch_size`, `consumer`, `mb_per_s`,
  `time_to_first_batch_s`, `copies_every_byte`, `ladder` (each stage's rate and cost per example) and
  `slowest_stage`; `config` is their configuration. Training rows add `global_batch`, `replicas`, `devices`,
  `accuracy`, `ms_per_step_p50`/`p95`, `compile_and_first_step_s`, `input_wait_share` (+ `_ci95`),
  `input_bound` (no / moderately / highly: the TF Profiler's 5 % and 20 % thresholds), `achieved_flop_per_s`,
  `model_matmuls_pct_of_peak`; io rows `op`, `file_bytes`, `mb_per_s`. Training and io rows carry their
  configuration in `config_detail` (`config` is the tuning's name there).
- `selfcheck`, `skipped` (with reasons), `targets` (each `met`, its value and evidence), `ladders` (what each
  tuning gave), `summary` (rows, how many reached +-5 %, how many were measured under interference, the median
  half-width, how many intervals the spread between passes set and the median spread), `checks` (problems(): every column present, no row beyond its limit by more than its noise),
  `plots` (file names, or why there are none), `notes`; `cluster`: the rows of `python -m benchmarks.cluster`
  (reports/cluster.py), carried over from the report directory.
`python -m reports compare` requires a row's configuration to be identical before it divides two rows.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from tabulate import tabulate

from reports import cluster as cluster_section
from tfguide.environment import header_lines

SCHEMA = "tfguide-benchmarks/2"
NO_MATPLOTLIB = "no plots: matplotlib is not installed (pip install -e '.[plots]')"
DATA_CONFIG_KEYS = ("source", "variant", "batch_size", "consumer", "examples_per_epoch", "bytes_per_example",
                    "pipeline", "data")
TRAINING_CONFIG_KEYS = ("model", "config", "global_batch", "replicas", "devices", "examples_per_epoch",
                        "steps_per_execution", "jit_compile", "input", "strategy", "data", "api")
IO_CONFIG_KEYS = ("model", "op", "format", "hidden", "params")
TARGETS = {"training_speedup_b32": 3.5, "training_mfu_pct": 60.0, "in_memory_pct_of_copy": 75.0}
COMMON_COLUMNS = ("name", "recipe", "examples_per_s", "examples_per_s_ci95", "ci_half_width", "precision", "cv",
                  "rounds", "rounds_interfered", "under_interference", "cores_used", "peak_rss_bytes",
                  "pct_of_limit", "limit", "speedup_vs_guide", "speedup_vs_guide_ci95")
SECTION_COLUMNS = {
    "data": ("batch_size", "consumer", "mb_per_s", "time_to_first_batch_s", "copies_every_byte", "ladder",
             "slowest_stage", "config"),
    "training": ("global_batch", "replicas", "devices", "accuracy", "ms_per_step_p50", "input_wait_share",
                 "input_bound", "config_detail"),
    "io": ("op", "file_bytes", "mb_per_s", "config_detail"),
}
SECTIONS = ("data", "training", "io")


def _scale(ci, factor):
    if not ci or ci[0] is None or ci[1] is None:
        return [None, None]
    return [ci[0] * factor, ci[1] * factor]


# -- rows ---------------------------------------------------------------------------------------------

def _finish_data(rows: list[dict], copy_bw: float) -> None:
    for r in rows:
        bpe = r["bytes_per_example"]
        r["mb_per_s"] = r["examples_per_s"] * bpe / 1e6
        r["mb_per_s_ci95"] = _scale(r["examples_per_s_ci95"], bpe / 1e6)
        r["pct_of_limit"] = 100.0 * r["examples_per_s"] * bpe / copy_bw
        r["pct_of_limit_ci95"] = _scale(r["examples_per_s_ci95"], 100.0 * bpe / copy_bw)
        r["limit"] = "copy_bandwidth (best of the run)"
        r["config"] = {k: r.get(k) for k in DATA_CONFIG_KEYS}


def _ratio_unpaired(row: dict, guide: dict) -> tuple:
    from reports.compare import ratio_ci_from_intervals

    res = ratio_ci_from_intervals(guide["examples_per_s"], tuple(guide["examples_per_s_ci95"]),
                                  row["examples_per_s"], tuple(row["examples_per_s_ci95"]))
    if res is None:
        return row["examples_per_s"] / guide["examples_per_s"], [None, None]
    return res[0], [res[1], res[2]]


def _finish_training(rows: list[dict], limits: dict) -> None:
    by_name = {r["name"]: r for r in rows}
    guides = {r["model"]: r for r in rows if r.get("is_guide")}
    sweeps: dict = {}  # per device: each matmul set's best over its runs with and without XLA
    for dev, by in limits["details"]["matmul_peak"].items():
        for s in by.get("float32", {}).get("sweep", []):
            if "best_flop_per_s" in s:
                best = sweeps.setdefault(dev, {})
                best[s["set"]] = max(best.get(s["set"], 0.0), s["best_flop_per_s"])
    for r in rows:
        device = r.get("limit_device") or limits["primary_device"]
        sweep = sweeps.get(device, {})  # the row's own device: a GPU's sweep is no ceiling for a CPU row
        peak = limits["matmul_peak_flop_per_s"][device]["float32"] * max(1, r.get("peak_devices") or 1)
        flops = r.get("flops_per_example") or r.get("flops_per_example_inference")
        if flops:
            r["achieved_flop_per_s"] = r["examples_per_s"] * flops
            r["achieved_flop_per_s_ci95"] = _scale(r["examples_per_s_ci95"], flops)
            r["pct_of_limit"] = 100.0 * r["achieved_flop_per_s"] / peak
            r["pct_of_limit_ci95"] = _scale(r["examples_per_s_ci95"], 100.0 * flops / peak)
            r["limit"] = (f"matmul peak {device} float32 (measured, best over the sweep)"
                          + (f" x{r['peak_devices']}" if (r.get("peak_devices") or 1) > 1 else ""))
        else:
            r["pct_of_limit"], r["pct_of_limit_ci95"], r["limit"] = None, [None, None], "none (no FLOP count)"
        theo = limits.get("theoretical_flop_per_s")
        r["pct_of_theoretical"] = 100.0 * r["achieved_flop_per_s"] / theo if (flops and theo) else None
        b = r.get("global_batch")
        if r["examples_per_s"] and b:
            r["ms_per_step_p50"] = 1e3 * b / r["examples_per_s"]
            rates = sorted(x for x in r["timing"]["rates"] if x)
            slow = rates[max(0, int(math.floor(0.05 * (len(rates) - 1))))] if rates else None
            r["ms_per_step_p95"] = 1e3 * b / slow if slow else None
        else:
            r["ms_per_step_p50"] = r["ms_per_step_p95"] = None
        if r.get("model") == "quickstart" and b and (r.get("replicas") or 1) == 1:
            ceiling = sweep.get(f"quickstart training b{b}")
            r["model_matmuls_pct_of_peak"] = 100.0 * ceiling / peak if ceiling else None
        if r.get("speedup_vs_guide") is None and r.get("model") in guides and not r.get("is_guide"):
            ratio, ci = _ratio_unpaired(r, guides[r["model"]])
            r["speedup_vs_guide"], r["speedup_vs_guide_ci95"] = ratio, ci
            r["speedup_method"] = "unpaired (measured in another group): ratio of medians, interval from both intervals"
        if r.get("scaling_efficiency_vs") in by_name:
            base = by_name[r["scaling_efficiency_vs"]]
            r["scaling_efficiency"] = r["examples_per_s"] / (r["replicas"] * base["examples_per_s"])
        r.setdefault("accuracy", None)
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


# -- targets and ladders ------------------------------------------------------------------------------

def _fmt_ci(ci, fmt="{:.2f}"):
    if not ci or ci[0] is None:
        return "no interval"
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def ladders(report: dict) -> list[dict]:
    """What each tuning gave: consecutive configurations of the same work, each against the one before."""
    out = []
    train = {r["name"]: r for r in report["training"]}
    steps = [("quickstart/guide/b32", "the guide's fit"), ("quickstart/spe/b32", "+ steps_per_execution"),
             ("quickstart/spe+xla/b32", "+ XLA (jit_compile)"), ("quickstart/spe+xla+tfdata/b32", "+ tf.data input"),
             ("quickstart/xla-loop/b32", "custom loop: all steps of a call in one XLA function")]
    rungs = [(label, train[n]) for n, label in steps if n in train]
    if len(rungs) > 1:
        out.append({"ladder": "quickstart training at batch 32 (same arithmetic)", "unit": "ms/step",
                    "rungs": [{"label": lab, "row": r["name"], "value": r["ms_per_step_p50"],
                               "x_guide": r.get("speedup_vs_guide"), "x_guide_ci95": r.get("speedup_vs_guide_ci95"),
                               "input_wait_share": r.get("input_wait_share"), "pct_of_peak": r.get("pct_of_limit")}
                              for lab, r in rungs]})
    for b in sorted({r["global_batch"] for r in report["training"] if r.get("model") == "quickstart"
                     and r["global_batch"] > 32 and not r.get("distributed")}):
        steps = [(f"quickstart/spe+tfdata/b{b}", "fit, steps_per_execution, tf.data input"),
                 (f"quickstart/spe+xla+tfdata/b{b}", "+ XLA"),
                 (f"quickstart/xla-loop/b{b}", "custom loop in one XLA function (optimizer fused into the step)")]
        rungs = [(label, train[n]) for n, label in steps if n in train]
        if rungs:
            out.append({"ladder": f"quickstart training at batch {b}", "unit": "% of matmul peak",
                        "rungs": [{"label": lab, "row": r["name"], "value": r["pct_of_limit"],
                                   "x_guide": r.get("speedup_vs_guide"), "x_guide_ci95": r.get("speedup_vs_guide_ci95"),
                                   "input_wait_share": r.get("input_wait_share"),
                                   "model_matmuls_pct_of_peak": r.get("model_matmuls_pct_of_peak")}
                                  for lab, r in rungs]})
    data = {r["name"]: r for r in report["data"]}
    for b in sorted({r["batch_size"] for r in report["data"] if r["source"] == "numpy"}):
        names = [("guide", "the guide's from_tensor_slices(...).batch(n)"), ("prefetch", "+ prefetch"),
                 ("parallel_batch", "+ parallel batch"),
                 ("chunked", "from_arrays over chunks of examples, batched in parallel (every byte still copied)"),
                 ("gather", "batch-before-map: gather whole batches"),
                 ("shuffled_gather", "+ shuffle every epoch (the training input)")]
        rungs = [(label, data[f"numpy/{v}/b{b}/graph"]) for v, label in names if f"numpy/{v}/b{b}/graph" in data]
        if len(rungs) > 1:
            out.append({"ladder": f"in-memory tf.data at batch {b} (graph consumer)", "unit": "% of copy bandwidth",
                        "rungs": [{"label": lab, "row": r["name"], "value": r["pct_of_limit"],
                                   "x_guide": r.get("speedup_vs_guide"), "x_guide_ci95": r.get("speedup_vs_guide_ci95"),
                                   "slowest_stage": r.get("slowest_stage")} for lab, r in rungs]})
    return out


def _targets(report: dict) -> list[dict]:
    out = []
    limits = report["limits"]
    peak = limits["matmul_peak_flop_per_s"][limits["primary_device"]]["float32"]
    quick = [r for r in report["training"] if r.get("model") == "quickstart" and r.get("replicas") == 1
             and not r.get("distributed")]
    guide = next((r for r in quick if r.get("is_guide")), None)
    same = [r for r in quick if r["global_batch"] == 32 and not r.get("is_guide")]
    if guide and same:
        best = max(same, key=lambda r: r["speedup_vs_guide"] or 0)
        fits = [r for r in same if r.get("api") == "fit"]
        best_fit = max(fits, key=lambda r: r["speedup_vs_guide"] or 0) if fits else None
        compute_ms = 32 * best["flops_per_example"] / peak * 1e3
        ev = [f"guide {guide['examples_per_s']:,.0f} ex/s ({guide['ms_per_step_p50']:.3f} ms/step, input wait "
              f"{_pct(guide.get('input_wait_share'))}, accuracy {_f(guide.get('accuracy'), '{:.4f}')})",
              f"best: {best['name']} ({best.get('api')}) {best['speedup_vs_guide']:.2f}x "
              f"{_fmt_ci(best.get('speedup_vs_guide_ci95'))}, {best['ms_per_step_p50']:.3f} ms/step, accuracy "
              f"{_f(best.get('accuracy'), '{:.4f}')}"]
        if best_fit is not None and best_fit is not best:
            ev.append(f"best with fit: {best_fit['name']} {best_fit['speedup_vs_guide']:.2f}x "
                      f"{_fmt_ci(best_fit.get('speedup_vs_guide_ci95'))}")
        ev.append(f"the step's matmuls need {compute_ms:.3f} ms at the measured peak: "
                  f"{best['ms_per_step_p50'] - compute_ms:.3f} ms of the best step is overhead")
        out.append({"target": "batch 32, same arithmetic: >= 3.5x the guide's training throughput",
                    "met": best["speedup_vs_guide"] >= TARGETS["training_speedup_b32"], "value": best["speedup_vs_guide"],
                    "value_ci95": best.get("speedup_vs_guide_ci95"), "row": best["name"], "evidence": "; ".join(ev)})
    with_flops = [r for r in quick if r.get("pct_of_limit") is not None]
    if with_flops:
        best = max(with_flops, key=lambda r: r["pct_of_limit"])
        ceilings = sorted({(r["global_batch"], r["model_matmuls_pct_of_peak"]) for r in with_flops
                           if r.get("model_matmuls_pct_of_peak")})
        ev = [f"best {best['pct_of_limit']:.1f} % {_fmt_ci(best.get('pct_of_limit_ci95'), '{:.1f}')} of the measured "
              f"peak {peak / 1e9:.1f} GFLOP/s (best over the sweep, set '{_best_set(limits)}') in {best['name']} "
              f"(accuracy {_f(best.get('accuracy'), '{:.4f}')} after {best.get('accuracy_after', '-')}); "
              f"input wait {_pct(best.get('input_wait_share'))}"]
        if limits.get("theoretical_flop_per_s"):
            ev.append(f"{100 * best['achieved_flop_per_s'] / limits['theoretical_flop_per_s']:.1f} % of the theoretical "
                      f"{limits['theoretical_flop_per_s'] / 1e9:.1f} GFLOP/s the CPU declares")
        if ceilings:
            ev.append("the model's own matmuls alone reach " + ", ".join(f"{c:.0f} % at batch {b}" for b, c in ceilings)
                      + " of the peak")
        out.append({"target": "any batch size: >= 60 % of the measured matmul peak (quickstart model)",
                    "met": best["pct_of_limit"] >= TARGETS["training_mfu_pct"], "value": best["pct_of_limit"],
                    "value_ci95": best.get("pct_of_limit_ci95"), "row": best["name"], "evidence": "; ".join(ev)})
    mem = [r for r in report["data"] if r["source"] == "numpy"]
    if mem:
        copying = [r for r in mem if r.get("copies_every_byte")]
        best_copy = max(copying, key=lambda r: r["pct_of_limit"]) if copying else None
        best_any = max(mem, key=lambda r: r["pct_of_limit"])
        value = best_copy["pct_of_limit"] if best_copy else best_any["pct_of_limit"]
        cb = limits["copy_bandwidth_bytes_per_s"]
        ev = []
        if best_copy:
            per_batch_us = best_copy["batch_size"] / best_copy["examples_per_s"] * 1e6
            copy_us = best_copy["batch_size"] * best_copy["bytes_per_example"] / cb * 1e6
            ev.append(f"best pipeline that copies every byte: {best_copy['name']} {best_copy['mb_per_s']:,.0f} MB/s "
                      f"({best_copy['pct_of_limit']:.1f} % {_fmt_ci(best_copy.get('pct_of_limit_ci95'), '{:.1f}')}): "
                      f"{per_batch_us:.1f} us per batch, of which the copy itself needs {copy_us:.1f} us; slowest "
                      f"stage: {best_copy.get('slowest_stage')}")
        ev.append(f"limit: {cb / 1e9:.2f} GB/s ({limits['details']['copy_bandwidth'].get('best_config')})")
        if best_any is not best_copy:
            ev.append(f"{best_any['name']} reaches {best_any['pct_of_limit']:.1f} % without copying the bytes")
        out.append({"target": "best in-memory tf.data pipeline: >= 75 % of the measured copy bandwidth",
                    "met": value >= TARGETS["in_memory_pct_of_copy"], "value": value,
                    "value_ci95": (best_copy or best_any).get("pct_of_limit_ci95"),
                    "row": (best_copy or best_any)["name"], "evidence": "; ".join(ev)})
    return out


def _best_set(limits: dict) -> str:
    return limits["details"]["matmul_peak"][limits["primary_device"]]["float32"].get("best_set", "?")


def _pct(v):
    return "-" if v is None else f"{100 * v:.1f} %"


# -- the report ---------------------------------------------------------------------------------------

def build(recorder, env: dict, wall_s: float | None = None) -> dict:
    """The report as a JSON-able dict, from the Recorder of a benchmark session."""
    from benchmarks import limits as limits_mod
    from benchmarks import machine
    from benchmarks.rounds import __doc__ as rounds_doc

    lim = limits_mod.public(recorder.limits)
    fs = _fs_limits(recorder)
    theo = dict(lim.get("theoretical_cpu", {}))
    best_cpu = max((by.get("float32", {}).get("best_flop_per_s", 0.0) for dev, by in lim["matmul_peak"].items()
                    if "CPU" in dev), default=0.0)
    theo["implied_mhz"] = machine.implied_mhz(best_cpu, theo)
    limits = {
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
    sections = {s: recorder.rows(s) for s in SECTIONS}
    _finish_data(sections["data"], limits["copy_bandwidth_bytes_per_s"])
    _finish_training(sections["training"], limits)
    _finish_io(sections["io"], limits)
    plan = recorder.plan
    rows = [r for s in SECTIONS for r in sections[s]]
    hws = [r["ci_half_width"] for r in rows if r.get("ci_half_width") is not None]
    sds = [r["pass_medians_sd"] for r in rows if r.get("pass_medians_sd") is not None]
    report = {"schema": SCHEMA, "environment": env, "provenance": machine.provenance(Path(__file__).resolve().parents[1]),
              "threads": dict(recorder.threads), "plan": plan.describe(), "wall_s": wall_s,
              "method": (rounds_doc or "").strip(), "peak_rss_method": machine.peak_rss_method(),
              "interference_rule": f"others > {machine.OTHERS_LIMIT} cores or steal > {machine.STEAL_LIMIT:.0%} "
                                   "of the CPUs during a round",
              "limits": limits, **sections,
              "selfcheck": [dict(r) for r in recorder.selfcheck], "skipped": list(recorder.skipped),
              "groups": list(recorder.groups), "notes": list(recorder.notes),
              "summary": {"rows": len(rows), "precise_rows": sum(1 for r in rows if r.get("precise")),
                          "rows_under_interference": sum(1 for r in rows if r.get("under_interference")),
                          "rows_with_interfered_rounds": sum(1 for r in rows if r.get("rounds_interfered")),
                          "median_half_width": statistics.median(hws) if hws else None,
                          "rows_width_from_passes": sum(1 for r in rows
                                                        if r.get("interval_width_from") == "spread of the pass medians"),
                          "median_pass_medians_sd": statistics.median(sds) if sds else None,
                          "groups_out_of_budget": sum(1 for g in recorder.groups if g["budget_spent"])}}
    report["targets"] = _targets(report)
    report["ladders"] = ladders(report)
    report["checks"] = problems(report)
    return report


def problems(report: dict) -> list[str]:
    """What is wrong with a written report: a missing column, or a row beyond its limit by more than its noise
    (the whole 95 % interval above the limit). Empty when the report is sound."""
    out = []
    for section in SECTIONS:
        for r in report.get(section, []):
            missing = [c for c in COMMON_COLUMNS + SECTION_COLUMNS[section] if c not in r]
            no_fit = r.get("api") in ("predict", "evaluate") or r.get("recipe", "").startswith("estimator.")
            if section == "training" and no_fit:
                missing = [c for c in missing if c not in ("input_wait_share", "input_bound", "accuracy")]
            if missing:
                out.append(f"{section} {r.get('name')}: missing column(s) {', '.join(missing)}")
            low = (r.get("pct_of_limit_ci95") or [None])[0]
            value = low if low is not None else r.get("pct_of_limit")
            binding = section != "data" or r.get("copies_every_byte")
            if binding and value is not None and value > 100.0:
                out.append(f"{section} {r['name']}: {r['pct_of_limit']:.1f} % of {r['limit']}, interval from "
                           f"{value:.1f} %: the row exceeds its limit beyond its own noise, so the limit is wrong")
    return out


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


# -- Markdown -----------------------------------------------------------------------------------------

def _f(v, fmt="{:,.0f}"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def _rate(r):
    """examples/s and its interval as +-%, with the marks the tables use."""
    hw = r.get("ci_half_width")
    text = _f(r["examples_per_s"]) + (f" ±{hw:.1%}" if hw is not None else " (no interval)")
    if not r.get("precise"):
        text += " †"
    if r.get("under_interference"):
        text += " ‡"
    return text


def _ratio(r):
    v = r.get("speedup_vs_guide")
    if v is None:
        return "-"
    ci = r.get("speedup_vs_guide_ci95") or [None, None]
    return f"{v:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci[0] is not None and ci[0] != ci[1] else "")


def _res(r):
    return f"{_f(r.get('cores_used'), '{:.2f}')} / {_f((r.get('peak_rss_bytes') or 0) / 2**20, '{:,.0f}')}"


def data_table(rows: list[dict]) -> str:
    headers = ["source", "variant", "batch", "consumer", "examples/s ±95 %", "MB/s", "% copy BW", "× guide",
               "slowest stage", "first batch ms", "rounds (interf.)", "cores / MiB"]
    body = [[r["source"], r["variant"] + ("" if r.get("copies_every_byte", True) else " (no copy)"), r["batch_size"],
             r["consumer"], _rate(r), _f(r["mb_per_s"]), _f(r["pct_of_limit"], "{:.1f}"), _ratio(r),
             (r.get("slowest_stage") or "-").replace("|", "\\|"), _f((r.get("time_to_first_batch_s") or 0) * 1e3, "{:.1f}"),
             f"{r['rounds']} ({r['rounds_interfered']})", _res(r)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def training_table(rows: list[dict]) -> str:
    headers = ["model", "config", "API", "batch", "replicas", "examples/s ±95 %", "ms/step", "MFU %", "× guide",
               "input wait", "input-bound", "accuracy", "compile s", "rounds (interf.)", "cores / MiB"]
    body = [[r.get("model"), r["config"] + (" (functional)" if r.get("functional") else ""), r.get("api", "fit"),
             r.get("global_batch"), r.get("replicas"), _rate(r), _f(r.get("ms_per_step_p50"), "{:.3f}"),
             _f(r.get("pct_of_limit"), "{:.1f}"), _ratio(r), _pct(r.get("input_wait_share")), r.get("input_bound") or "-",
             _f(r.get("accuracy"), "{:.4f}"), _f(r.get("compile_and_first_step_s"), "{:.2f}"),
             f"{r['rounds']} ({r['rounds_interfered']})", _res(r)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def io_table(rows: list[dict]) -> str:
    headers = ["recipe", "op", "model", "file MB", "files/s ±95 %", "MB/s", "% of FS limit", "rounds (interf.)",
               "cores / MiB"]
    body = [[r["recipe"], r["op"], r["model"], _f(r["file_bytes"] / 1e6, "{:.3f}"), _rate(r), _f(r["mb_per_s"], "{:,.1f}"),
             _f(r["pct_of_limit"], "{:.1f}"), f"{r['rounds']} ({r['rounds_interfered']})", _res(r)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def _ladder_lines(rows: list[dict]) -> list[str]:
    """The full ladders (rows at the ladder batch size, and the Python-loop rows)."""
    lines = []
    for r in rows:
        if not r.get("ladder") or r.get("ladder_kind") != "every stage":
            continue
        stages = " → ".join(f"{s['stage']} {_f(s['examples_per_s'])}/s"
                            + (f" ({s['cost_us_per_example']:+.2f} µs)" if s["cost_us_per_example"] is not None else "")
                            for s in r["ladder"])
        lines.append(f"- `{r['name']}`: {stages}; slowest: **{r.get('slowest_stage')}**".replace("|", "\\|"))
    return lines


def markdown(report: dict, plots: list[str] = (), plots_note: str | None = None) -> str:
    env, lim, plan = report["environment"], report["limits"], report["plan"]
    parts = ["# Benchmarks: the guide's tf.data and training work against this machine's limits", ""]
    if env:
        parts += ["```", *header_lines(env), "```", ""]
    prov = report.get("provenance", {})
    kind = "quick smoke run (`--quick`: small data, few rounds: not a measurement to quote)" if plan["quick"] else "full run"
    s = report["summary"]
    wall = f", {report['wall_s'] / 60:.1f} min" if report.get("wall_s") else ""
    parts += [f"**{kind}**{wall}; commit `{prov.get('git_commit', '?')}`"
              + (" (with uncommitted changes)" if prov.get("git_dirty") else "")
              + f"; command `{' '.join(prov.get('command_line', []))}`.", "",
              f"Method: {plan['passes']} pass(es) per group; per pass a warm-up round, then rounds round-robin "
              f"(A B C, B C A, ...) until each row's 95 % interval of the median is within ±"
              f"{plan['target_half_width']:.0%} or the group's budget is spent; {plan['interval']}. "
              f"Ratios (× guide, input wait) are medians of per-round ratios within the same rounds. Rounds are "
              f"marked as under interference when {report['interference_rule']}; a row uses its clean rounds when "
              f"it has at least {plan['min_rounds_for_interval']}. Threads: intra-op "
              f"{report['threads'].get('intra_op_parallelism_threads')}, inter-op "
              f"{report['threads'].get('inter_op_parallelism_threads')}, tf.data "
              f"{report['threads'].get('tf_data_private_threadpool')}, oneDNN "
              f"{report['threads'].get('TF_ENABLE_ONEDNN_OPTS')}. Peak memory: {report.get('peak_rss_method')}. "
              "No timing is asserted.", "",
              f"**{s['rows']} rows: {s['precise_rows']} within ±5 %; median half-width "
              f"{_f(s['median_half_width'], '{:.1%}')}; {s['rows_with_interfered_rounds']} with rounds under "
              f"interference, {s['rows_under_interference']} measured mostly under it (‡).** † = the interval is "
              "wider than ±5 % (budget spent). Compare two runs with `python -m reports compare A.json B.json`.", ""]
    if s.get("median_pass_medians_sd") is not None:
        parts += [f"Drift between passes: the passes' medians of a row differ by {s['median_pass_medians_sd']:.1%} "
                  f"(median standard deviation); for {s['rows_width_from_passes']} of {s['rows']} rows that spread, "
                  "not the rounds of a pass, sets the interval's width: this machine's speed moves over minutes "
                  "more than rounds seconds apart show.", ""]
    parts += [f"- {n}" for n in report["notes"]] + ([""] if report["notes"] else [])
    parts += ["## Limits (measured in this run)", ""]
    cb = lim["details"]["copy_bandwidth"]
    lrows = [["copy bandwidth", _f(lim["copy_bandwidth_bytes_per_s"] / 1e9, "{:.2f}") + " GB/s",
              f"{cb['method']}; best: {cb.get('best_config')}"]]
    for dev, by in lim["details"]["matmul_peak"].items():
        for dt, v in by.items():
            lrows.append([f"matmul peak {dev} {dt} (measured)", _f(lim["matmul_peak_flop_per_s"][dev][dt] / 1e9, "{:.1f}")
                          + " GFLOP/s", f"{v['method']}; best: {v.get('best_set')}"])
    theo = lim.get("theoretical") or {}
    implied = theo.get("implied_mhz")
    note = ("an upper bound shown beside; no percentage uses it" if theo.get("upper_bound") else
            "at the nominal clock: turbo may exceed it, so it is shown beside and no percentage uses it"
            + (f"; the measured peak implies {implied:,.0f} MHz" if implied else ""))
    lrows.append(["float32 peak the CPU declares (theoretical)",
                  _f((lim.get("theoretical_flop_per_s") or 0) / 1e9, "{:.1f}") + " GFLOP/s"
                  if lim.get("theoretical_flop_per_s") else "not readable", f"{theo.get('formula', '-')} ({note})"])
    for kind_, key in (("write", "fs_write_bytes_per_s"), ("read", "fs_read_bytes_per_s")):
        lrows.append([f"file-system {kind_} bandwidth", _f((lim.get(key) or 0) / 1e9, "{:.2f}") + " GB/s" if lim.get(key)
                      else "not measured", lim["fs_probes"]["method"]])
    parts += [tabulate(lrows, headers=["limit", "value", "method"], tablefmt="github", disable_numparse=True), "",
              "Percentages: tf.data rows use the copy bandwidth, training rows the measured matmul peak (MFU), "
              "save/load rows the file-system bandwidth; every limit is the best value of the run.", ""]
    if lim.get("history"):
        parts += ["Re-measured before each section (best of a few repetitions of the best configuration):", "",
                  tabulate([[h["when"], _f(h["copy_bytes_per_s"] / 1e9, "{:.2f}"),
                             _f(h["matmul_flop_per_s"].get(lim["primary_device"], {}).get("float32", 0) / 1e9, "{:.1f}")]
                            for h in lim["history"]], headers=["when", "copy GB/s", "matmul GFLOP/s"],
                           tablefmt="github", disable_numparse=True), ""]
    if report["targets"]:
        parts += ["## Targets", ""]
        parts += [tabulate([[t["target"], "met" if t["met"] else "**not met**",
                             _f(t["value"], "{:.2f}") + (" " + _fmt_ci(t.get("value_ci95")) if t.get("value_ci95") else ""),
                             t["evidence"]] for t in report["targets"]],
                           headers=["target", "result", "value [95 %]", "evidence"], tablefmt="github",
                           disable_numparse=True), ""]
    if report.get("ladders"):
        parts += ["## What each tuning gave", ""]
        for lad in report["ladders"]:
            rungs = " → ".join(f"{g['label']}: {_f(g['value'], '{:.3f}' if lad['unit'] == 'ms/step' else '{:.1f}')} "
                               f"({'×' + _f(g['x_guide'], '{:.2f}') if g.get('x_guide') else '-'} guide"
                               + (f", input wait {_pct(g['input_wait_share'])}"
                                  if g.get("input_wait_share") is not None else "")
                               + ")" for g in lad["rungs"])
            parts.append(f"- **{lad['ladder']}** ({lad['unit']}): {rungs}")
        parts.append("")
    if report["data"]:
        parts += ["## tf.data throughput", "",
                  "Steady state: an epoch after its first batch (`first batch ms`: `iter()` + the first batch). "
                  "`% copy BW` = delivered bytes/s over the copy bandwidth; `× guide`: the median per-round ratio to the "
                  "guide's "
                  "pipeline at the same batch size and consumer, with its 95 % interval. `(no copy)`: the bytes are "
                  "delivered without being copied. `slowest stage`: the stage of the pipeline's ladder that costs the "
                  "most per example. `cores / MiB`: process CPU time over wall time, and the rounds' peak memory.", "",
                  data_table(report["data"]), "",
                  "### Stage ladders (graph consumer; cost per example added by each stage)", ""]
        parts += _ladder_lines(report["data"]) + [""]
    train = [r for r in report["training"] if not r.get("distributed")]
    dist = [r for r in report["training"] if r.get("distributed")]
    if train:
        parts += ["## Training, evaluation and prediction", "",
                  "Fit rows: one round = one `fit` call of a fixed number of steps, timed from its second execution "
                  "to the end of the epoch. `input wait`: 1 − rate / rate of the compute-only twin (same compiled "
                  "step on a batch already in memory), median over the same rounds; `input-bound` uses the TF "
                  "Profiler's thresholds (5 % moderately, 20 % highly). MFU = the model's matmul FLOPs × examples/s "
                  "over the measured peak. Accuracy: held-out images after the warm-up epoch (the same for every "
                  "configuration). Estimator rows: `× guide` is the Estimator over its Keras equivalent, measured in "
                  "the same rounds.", "", training_table(train), ""]
    if dist:
        parts += ["## CPU, replicas and workers", "",
                  "Each row runs in a fresh process; each epoch after the first is a round. `functional` rows share "
                  "the same cores: they show that the strategy works, not a speed-up.", "", training_table(dist), ""]
        eff = [r for r in dist if r.get("scaling_efficiency") is not None]
        parts += [f"- {r['name']}: E_N = {r['scaling_efficiency']:.2f}" + (" (functional)" if r.get("functional") else "")
                  for r in eff] + ([""] if eff else [])
    if report.get("io"):
        parts += ["## Saving and loading", "", "One round = one save (or load) of the recipe's model; MB/s over the "
                  "file system's bandwidth measured in the same rounds (page cache: Keras does not fsync).", "",
                  io_table(report["io"]), ""]
    if report["selfcheck"]:
        parts += ["## Harness self-check (tf.data performance guide's artificial dataset)", "",
                  "30 ms to open a file, 15 ms per read, 10 ms per training step, 30 ms per map, 3 samples, 2 epochs; "
                  "expected times are closed-form (benchmarks/bench_harness_selfcheck.py).", "",
                  tabulate([[r["name"], r["pipeline"], _f(r["expected_s"] * 1e3, "{:.1f}"),
                             _f(r["measured_s"] * 1e3, "{:.1f}"),
                             _f(r["measured_over_expected"], "{:.3f}"), _f(r["generator_startup_s"] * 1e3, "{:.1f}"),
                             _f(r["corrected_over_expected"], "{:.3f}"), _f(r["cv"], "{:.1%}")]
                            for r in report["selfcheck"]],
                           headers=["pipeline", "code", "expected ms", "measured ms", "measured/expected",
                                    "start-up ms/epoch", "measured/(expected + start-up)", "CV"],
                           tablefmt="github", disable_numparse=True), ""]
    if report["skipped"]:
        parts += ["## Not measured here", ""]
        parts += [f"- {s['section']} {s['name']}: {s['reason']}" for s in report["skipped"]] + [""]
    if report.get("groups"):
        parts += ["## Groups", "", tabulate([[g["group"], g["pass"], g["units"], g["rounds"], _f(g["measured_s"], "{:.1f}"),
                                              _f(g["warmup_s"], "{:.1f}"), _f(g["budget_s"], "{:.0f}"),
                                              "spent" if g["budget_spent"] else "-"] for g in report["groups"]],
                                             headers=["group", "pass", "units", "rounds", "measured s", "warm-up s",
                                                      "budget s", "budget"], tablefmt="github", disable_numparse=True), ""]
    if report.get("checks"):
        parts += ["## Report checks FAILED", ""] + [f"- {c}" for c in report["checks"]] + [""]
    if plots:
        parts += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    elif plots_note:
        parts += ["## Plots", "", plots_note, ""]
    parts += cluster_section.markdown(report.get("cluster"))  # rows of python -m benchmarks.cluster, if any
    return "\n".join(parts)


# -- plots (optional: matplotlib is an extra) ---------------------------------------------------------

def _below(r):  # error bar: from the percentage down to its interval's low end
    return max(0.0, r["pct_of_limit"] - (r["pct_of_limit_ci95"][0] or r["pct_of_limit"]))


def _above(r):
    return max(0.0, (r["pct_of_limit_ci95"][1] or r["pct_of_limit"]) - r["pct_of_limit"])


def plots(report: dict, out: Path) -> tuple[list[str], str | None]:
    """PNG files written, or ([], why not)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], NO_MATPLOTLIB
    written = []
    data = [r for r in report["data"] if r["consumer"] == "graph"]
    if data:
        sources = list(dict.fromkeys(r["source"] for r in data))
        fig, axes = plt.subplots(1, len(sources), figsize=(3.6 * len(sources), 4.5), squeeze=False)
        for ax, src in zip(axes[0], sources):
            rows = [r for r in data if r["source"] == src]
            variants = list(dict.fromkeys(r["variant"] for r in rows))
            batches = sorted({r["batch_size"] for r in rows})
            width = 0.8 / len(batches)
            for i, b in enumerate(batches):
                sel = [next((r for r in rows if r["variant"] == v and r["batch_size"] == b), None) for v in variants]
                ys = [r["pct_of_limit"] if r else 0 for r in sel]
                err = [[_below(r) if r else 0 for r in sel], [_above(r) if r else 0 for r in sel]]
                ax.bar([j + i * width for j in range(len(variants))], ys, width, yerr=err, label=f"batch {b}")
            ax.set_xticks([j + width * (len(batches) - 1) / 2 for j in range(len(variants))], variants, rotation=45,
                          ha="right", fontsize=7)
            ax.set_title(src)
            ax.set_ylabel("% of copy bandwidth (log; bars: 95 % interval)")
            ax.set_yscale("log")
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "benchmarks_data.png", dpi=100)
        plt.close(fig)
        written.append("benchmarks_data.png")
    train = [r for r in report["training"] if not r.get("distributed") and r.get("pct_of_limit") is not None]
    if train:
        fig, ax = plt.subplots(figsize=(8, max(3.5, 0.25 * len(train))))
        ys = range(len(train))
        ax.barh(list(ys), [r["pct_of_limit"] for r in train],
                xerr=[[_below(r) for r in train], [_above(r) for r in train]])
        ax.set_yticks(list(ys), [r["name"] for r in train], fontsize=7)
        ax.invert_yaxis()
        ax.axvline(60, color="grey", ls="--", lw=0.8)
        ax.set_xlabel("% of the measured matmul peak (bars: 95 % interval)")
        fig.tight_layout()
        fig.savefig(out / "benchmarks_training.png", dpi=100)
        plt.close(fig)
        written.append("benchmarks_training.png")
    return written, None


def _jsonable(obj):
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return obj


def write(report: dict, report_dir: Path) -> list[Path]:
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    cluster_section.carry_over(report, report_dir)  # a cluster run's rows survive a new pytest benchmarks report
    pngs, note = plots(report, report_dir)
    report["plots"] = pngs or note
    (report_dir / "benchmarks.json").write_text(json.dumps(_jsonable(report), indent=1) + "\n")
    (report_dir / "benchmarks.md").write_text(markdown(report, pngs, note))
    return [report_dir / "benchmarks.md", report_dir / "benchmarks.json", *(report_dir / p for p in pngs)]
