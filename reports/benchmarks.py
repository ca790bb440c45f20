"""The benchmark report: benchmarks.json (the contract below), benchmarks.md (tabulate) and PNG plots.

JSON contract (`schema: tfguide-benchmarks/1`):
- `environment`: the fingerprint of reports/environment.py;
- `limits`: `copy_bandwidth_bytes_per_s` (best np.copyto), `matmul_peak_flop_per_s` ({device: {dtype: FLOP/s}}),
  `primary_device`, and `details` (method, spread);
- `data`: rows with `name`, `examples_per_s`, `pct_of_limit` (% of the copy bandwidth), `speedup_vs_guide`,
  `cv`, `batch_size`, `consumer`, plus `mb_per_s`, `time_to_first_batch_s`, `source`, `variant`, `config`;
- `training`: rows with `name`, `examples_per_s`, `pct_of_limit` (model FLOP utilisation, % of the measured
  matmul peak), `speedup_vs_guide`, `cv`, `global_batch`, `replicas`, `devices`, `accuracy`, plus
  `ms_per_step_p50`/`p95`, `compile_and_first_step_s`, `config`;
- `selfcheck`: the tf.data performance guide's artificial pipelines, `measured_s`, `expected_s`,
  `measured_over_expected`; `skipped`: benchmarks that could not run here, with the reason;
- `targets`: issue 5's targets, each with `met`, the numbers and the evidence.
Every row's `config` is what `python -m reports compare` requires to be identical before it divides two rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from tabulate import tabulate

from reports import cluster as cluster_section
from reports.environment import header_lines

SCHEMA = "tfguide-benchmarks/1"
DATA_CONFIG_KEYS = ("source", "variant", "batch_size", "consumer", "examples_per_epoch", "bytes_per_example",
                    "pipeline", "data")
TRAINING_CONFIG_KEYS = ("model", "config", "global_batch", "replicas", "devices", "examples_per_epoch", "epochs",
                        "steps_per_execution", "jit_compile", "input", "strategy", "data")
TARGETS = {"training_speedup_b32": 3.5, "training_mfu_pct": 60.0, "in_memory_pct_of_copy": 50.0}


def _guide_rows(rows: list[dict], key) -> dict:
    return {key(r): r for r in rows if r.get("variant") == "guide" or r.get("config") == "guide"}


def _finish_data(rows: list[dict], copy_bw: float) -> None:
    guides = _guide_rows(rows, lambda r: (r["source"], r["batch_size"], r["consumer"]))
    for r in rows:
        r["pct_of_limit"] = 100.0 * r["mb_per_s"] * 1e6 / copy_bw
        r["limit"] = "copy_bandwidth"
        g = guides.get((r["source"], r["batch_size"], r["consumer"]))
        r["speedup_vs_guide"] = r["examples_per_s"] / g["examples_per_s"] if g else None
        r["config"] = {k: r.get(k) for k in DATA_CONFIG_KEYS}


def _finish_training(rows: list[dict], limits: dict) -> None:
    guides = {r["model"]: r for r in rows if r.get("config") == "guide"}
    for r in rows:
        device = r.get("limit_device") or limits["primary_device"]
        peak = limits["matmul_peak_flop_per_s"][device]["float32"] * max(1, r.get("peak_devices", 1))
        r["achieved_flop_per_s"] = r["examples_per_s"] * r["flops_per_example"]
        r["pct_of_limit"] = 100.0 * r["achieved_flop_per_s"] / peak
        r["limit"] = f"matmul_peak {device} float32" + (f" x{r['peak_devices']}" if r.get("peak_devices", 1) > 1 else "")
        g = guides.get(r["model"])
        r["speedup_vs_guide"] = r["examples_per_s"] / g["examples_per_s"] if g else None
        r["config_detail"] = {k: r.get(k) for k in TRAINING_CONFIG_KEYS}
        if r.get("gemm_only_flop_per_s"):
            r["gemm_only_pct_of_limit"] = 100.0 * r["gemm_only_flop_per_s"] / peak


def _targets(report: dict) -> list[dict]:
    out = []
    limits = report["limits"]
    peak = limits["matmul_peak_flop_per_s"][limits["primary_device"]]["float32"]
    quick = [r for r in report["training"] if r["model"] == "quickstart" and r["replicas"] == 1]
    guide = next((r for r in quick if r["config"] == "guide"), None)
    same = [r for r in quick if r["global_batch"] == 32 and r["config"] != "guide"]
    if guide and same:
        best = max(same, key=lambda r: r["examples_per_s"])
        fits = [r for r in same if r.get("api", "fit") == "fit"]
        best_fit = max(fits, key=lambda r: r["examples_per_s"]) if fits else None
        compute_ms = 32 * best["flops_per_example"] / peak * 1e3

        def describe(r):
            return (f"{r['name']} ({r.get('api', 'fit')}) {r['examples_per_s']:,.0f} ex/s = "
                    f"{r['speedup_vs_guide']:.2f}x, {r['ms_per_step_p50']:.3f} ms/step p50, accuracy {r['accuracy']:.4f}")

        ev = [f"guide {guide['examples_per_s']:,.0f} ex/s ({guide['ms_per_step_p50']:.3f} ms/step p50, "
              f"accuracy {guide['accuracy']:.4f})"]
        if best_fit is not None and best_fit is not best:
            ev.append("best with fit: " + describe(best_fit))
        ev.append("best: " + describe(best))
        by_config = {r["config"]: r for r in same}
        ladder = [("guide", guide)] + [(c, by_config[c]) for c in ("spe", "spe+xla", "xla-loop") if c in by_config]
        if len(ladder) > 1:
            why = {"spe": "Python dispatch and callbacks per step", "spe+xla": "op-by-op execution (no XLA)",
                   "xla-loop": "tf.data iterator and function-call boundary per step"}
            steps_txt = [f"{ladder[0][0]} {ladder[0][1]['ms_per_step_p50']:.3f}"]
            for (_, prev), (c, r) in zip(ladder, ladder[1:]):
                steps_txt.append(f"{c} {r['ms_per_step_p50']:.3f} (-{prev['ms_per_step_p50'] - r['ms_per_step_p50']:.3f}: "
                                 f"{why[c]})")
            ev.append("ms/step p50 ladder: " + " -> ".join(steps_txt) + f" -> arithmetic at peak {compute_ms:.3f}")
        ev.append(f"the arithmetic of one step needs {compute_ms:.3f} ms at the measured peak, so "
                  f"{best['ms_per_step_p50'] - compute_ms:.3f} ms of the best step is per-step overhead"
                  + (f" ({best_fit['ms_per_step_p50'] - compute_ms:.3f} ms with fit)" if best_fit is not None
                     and best_fit is not best else ""))
        out.append({
            "target": "batch 32, same arithmetic: >= 3.5x the guide's training throughput",
            "met": best["speedup_vs_guide"] >= TARGETS["training_speedup_b32"], "value": best["speedup_vs_guide"],
            "row": best["name"], "value_with_fit": best_fit["speedup_vs_guide"] if best_fit else None,
            "evidence": "; ".join(ev)})
    if quick:
        best = max(quick, key=lambda r: r["pct_of_limit"])
        step_ms = best["global_batch"] * best["flops_per_example"] / peak * 1e3
        ceilings = sorted({(r["global_batch"], r["gemm_only_pct_of_limit"]) for r in quick
                           if r.get("gemm_only_pct_of_limit")})
        ceiling_text = ""
        if ceilings:
            ceiling_text = ("; the model's own matmuls alone (same shapes, nothing else) reach " + ", ".join(
                f"{c:.0f} % at batch {b}" for b, c in ceilings) + " of the peak")
        out.append({
            "target": "any batch size: >= 60 % of the measured matmul peak (quickstart model)",
            "met": best["pct_of_limit"] >= TARGETS["training_mfu_pct"], "value": best["pct_of_limit"],
            "row": best["name"],
            "evidence": (f"best MFU {best['pct_of_limit']:.1f} % in {best['name']} (global batch {best['global_batch']}, "
                         f"accuracy {best['accuracy']:.4f} after {best['epochs']} epochs): {best['ms_per_step_p50']:.3f} "
                         f"ms/step p50 where the step's matmuls need {step_ms:.3f} ms at peak" + ceiling_text)})
    mem = [r for r in report["data"] if r["source"] == "numpy"]
    if mem:
        copying = [r for r in mem if r.get("copies_every_byte")]
        best_copy = max(copying, key=lambda r: r["pct_of_limit"]) if copying else None
        best_any = max(mem, key=lambda r: r["pct_of_limit"])
        guide_best = max((r for r in mem if r["variant"] == "guide"), key=lambda r: r["pct_of_limit"], default=None)
        value = best_copy["pct_of_limit"] if best_copy else best_any["pct_of_limit"]
        ev = []
        if best_copy:
            per_batch_us = best_copy["batch_size"] / best_copy["examples_per_s"] * 1e6
            copy_us = best_copy["batch_size"] * best_copy["bytes_per_example"] / limits["copy_bandwidth_bytes_per_s"] * 1e6
            ev.append(f"best pipeline that copies every byte: {best_copy['name']} {best_copy['mb_per_s']:,.0f} MB/s "
                      f"({best_copy['pct_of_limit']:.1f} %): {per_batch_us:.1f} us per batch, of which the copy "
                      f"itself needs {copy_us:.1f} us at the measured bandwidth")
        if guide_best:
            ev.append(f"the guide's best: {guide_best['name']} {guide_best['pct_of_limit']:.1f} %")
        if best_any is not best_copy:
            ev.append(f"{best_any['name']} reaches {best_any['pct_of_limit']:.1f} % without copying the bytes "
                      f"({best_any['pipeline']})")
        out.append({"target": "best in-memory tf.data pipeline: >= 50 % of the measured copy bandwidth",
                    "met": value >= TARGETS["in_memory_pct_of_copy"], "value": value,
                    "row": (best_copy or best_any)["name"], "evidence": "; ".join(ev)})
    return out


def build(recorder, env: dict) -> dict:
    """The report as a JSON-able dict, from the Recorder of a benchmark session."""
    lim = recorder.limits
    limits = {
        "copy_bandwidth_bytes_per_s": lim["copy_bandwidth"]["best_bytes_per_s"],
        "matmul_peak_flop_per_s": {dev: {dt: v["best_flop_per_s"] for dt, v in by.items()}
                                   for dev, by in lim["matmul_peak"].items()},
        "primary_device": lim["primary_device"],
        "details": {"copy_bandwidth": lim["copy_bandwidth"], "matmul_peak": lim["matmul_peak"]},
    }
    data = [dict(r) for r in recorder.data]
    training = [dict(r) for r in recorder.training]
    _finish_data(data, limits["copy_bandwidth_bytes_per_s"])
    _finish_training(training, limits)
    plan = recorder.plan
    report = {"schema": SCHEMA, "environment": env, "limits": limits, "data": data, "training": training,
              "selfcheck": [dict(r) for r in recorder.selfcheck], "skipped": list(recorder.skipped),
              "plan": {"quick": plan.quick, "rounds": plan.rounds, "warmup_rounds": plan.warmup_rounds,
                       "cv_flag": 0.05},
              "notes": list(recorder.notes)}
    report["targets"] = _targets(report)
    return report


# -- Markdown ---------------------------------------------------------------------------------------

def _f(v, fmt="{:,.0f}"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def _cv(r):
    return _f(r["cv"], "{:.1%}") + (" ⚠" if r.get("cv_flag") else "")


def data_table(rows: list[dict]) -> str:
    headers = ["source", "variant", "batch", "consumer", "examples/s", "IQR", "MB/s", "% copy BW", "× guide",
               "first batch ms", "CV"]
    body = [[r["source"], r["variant"] + ("" if r.get("copies_every_byte", True) else " (no copy)"), r["batch_size"],
             r["consumer"], _f(r["examples_per_s"]), _f(r["examples_per_s_iqr"]), _f(r["mb_per_s"]),
             _f(r["pct_of_limit"], "{:.1f}"), _f(r["speedup_vs_guide"], "{:.2f}"),
             _f(r["time_to_first_batch_s"] * 1e3, "{:.1f}"), _cv(r)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def training_table(rows: list[dict]) -> str:
    headers = ["model", "config", "API", "global batch", "replicas", "examples/s", "IQR", "ms/step p50", "p95",
               "compile+1st step s", "MFU %", "× guide", "accuracy", "CV"]
    body = [[r["model"], r["config"] + (" (functional)" if r.get("functional") else ""), r.get("api", "fit"),
             r["global_batch"],
             r["replicas"], _f(r["examples_per_s"]), _f(r.get("examples_per_s_iqr")),
             _f(r.get("ms_per_step_p50"), "{:.3f}"), _f(r.get("ms_per_step_p95"), "{:.3f}"),
             _f(r.get("compile_and_first_step_s"), "{:.2f}"), _f(r["pct_of_limit"], "{:.1f}"),
             _f(r["speedup_vs_guide"], "{:.2f}"), _f(r.get("accuracy"), "{:.4f}"), _cv(r)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def markdown(report: dict, plots: list[str] = ()) -> str:
    env, lim, plan = report["environment"], report["limits"], report["plan"]
    parts = ["# Benchmarks: the guide's tf.data and training work against this machine's limits", ""]
    if env:
        parts += ["```", *header_lines(env), "```", ""]
    kind = "quick smoke run (`--quick`: small data, not a measurement to quote)" if plan["quick"] else "full run"
    parts += [f"{kind}; every row: {plan['warmup_rounds']} warm-up round(s), then {plan['rounds']} measured rounds; "
              "median and IQR of the rounds; CV = standard deviation / mean of the round times; "
              "rows with CV > 5 % are marked ⚠. No timing is asserted.", ""]
    parts += [f"- {n}" for n in report["notes"]] + ([""] if report["notes"] else [])
    parts += ["## Limits (measured in this run)", ""]
    lrows = [["copy bandwidth (np.copyto)", _f(lim["copy_bandwidth_bytes_per_s"] / 1e9, "{:.2f}") + " GB/s",
              lim["details"]["copy_bandwidth"]["method"], _f(lim["details"]["copy_bandwidth"]["cv"], "{:.1%}")]]
    for dev, by in lim["details"]["matmul_peak"].items():
        for dt, v in by.items():
            lrows.append([f"matmul peak {dev} {dt}", _f(v["best_flop_per_s"] / 1e9, "{:.1f}") + " GFLOP/s",
                          v["method"], _f(v["cv"], "{:.1%}")])
    parts += [tabulate(lrows, headers=["limit", "value", "method", "CV"], tablefmt="github", disable_numparse=True), ""]
    if report["targets"]:
        parts += ["## Targets (issue 5)", ""]
        parts += [tabulate([[t["target"], "met" if t["met"] else "**not met**", _f(t["value"], "{:.2f}"), t["evidence"]]
                            for t in report["targets"]], headers=["target", "result", "value", "evidence"],
                           tablefmt="github", disable_numparse=True), ""]
    if report["data"]:
        parts += ["## tf.data throughput", "",
                  "Steady state: the epoch after its first batch; `first batch ms` is `iter()` + the first batch. "
                  "`% copy BW` = delivered bytes/s over the np.copyto bandwidth; `× guide` compares with the guide's "
                  "pipeline at the same batch size and consumer. `(no copy)`: the bytes are delivered without being copied "
                  "(cache serves the same tensors again; aligned `from_tensor_slices` slices are views).", "",
                  data_table(report["data"]), ""]
    train = [r for r in report["training"] if r.get("section", "single") == "single"]
    dist = [r for r in report["training"] if r.get("section") == "distributed"]
    if train:
        parts += ["## Training throughput", "",
                  "One `fit` call per row: epoch 1 compiles, then warm-up epochs, then the measured epochs (one round = "
                  "one epoch). ms/step from the batch-end callbacks (per execution / steps_per_execution). MFU = "
                  "the model's matmul/conv FLOPs per example × examples/s over the measured float32 matmul peak. "
                  "Accuracy: on held-out data after the same number of epochs for every row.", "",
                  training_table(train), ""]
    if dist:
        parts += ["## CPU, replicas and workers", "",
                  "Each row runs in a fresh process (logical devices must be configured before TensorFlow starts). "
                  "`functional` rows share the same cores: they show that the strategy works, not a speed-up.", "",
                  training_table(dist), ""]
        eff = [r for r in dist if r.get("scaling_efficiency") is not None]
        if eff:
            parts += [f"- {r['name']}: E_N = {r['scaling_efficiency']:.2f}" + (" (functional)" if r.get("functional") else "")
                      for r in eff] + [""]
    if report["selfcheck"]:
        parts += ["## Harness self-check (tf.data performance guide's artificial dataset)", "",
                  "30 ms to open a file, 15 ms per read, 10 ms per training step, 30 ms per map, 3 samples, 2 epochs; "
                  "expected times are closed-form (formulas in benchmarks/bench_harness_selfcheck.py). `start-up ms`: the "
                  "measured time from `iter()` to the generator's first line, which the formulas leave out.", "",
                  tabulate([[r["name"], r["pipeline"], _f(r["expected_s"] * 1e3, "{:.1f}"), _f(r["measured_s"] * 1e3, "{:.1f}"),
                             _f(r["measured_over_expected"], "{:.3f}"), _f(r["generator_startup_s"] * 1e3, "{:.1f}"),
                             _f(r["corrected_over_expected"], "{:.3f}"), _cv(r)] for r in report["selfcheck"]],
                           headers=["pipeline", "code", "expected ms", "measured ms", "measured/expected",
                                    "start-up ms/epoch", "measured/(expected + start-up)", "CV"],
                           tablefmt="github", disable_numparse=True), ""]
    if report["skipped"]:
        parts += ["## Not measured here", ""] + [f"- {s['section']} {s['name']}: {s['reason']}" for s in report["skipped"]] + [""]
    if plots:
        parts += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    parts += cluster_section.markdown(report.get("cluster"))  # rows of python -m benchmarks.cluster, if any
    return "\n".join(parts)


# -- plots ------------------------------------------------------------------------------------------

def plots(report: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    data = report["data"]
    if data:
        sources = list(dict.fromkeys(r["source"] for r in data))
        fig, axes = plt.subplots(1, len(sources), figsize=(4.2 * len(sources), 4.5), squeeze=False)
        for ax, src in zip(axes[0], sources):
            rows = [r for r in data if r["source"] == src and r["consumer"] == "graph"] or \
                   [r for r in data if r["source"] == src]
            variants = list(dict.fromkeys(r["variant"] for r in rows))
            batches = sorted({r["batch_size"] for r in rows})
            width = 0.8 / len(batches)
            for i, b in enumerate(batches):
                ys = [next((r["pct_of_limit"] for r in rows if r["variant"] == v and r["batch_size"] == b), 0)
                      for v in variants]
                ax.bar([j + i * width for j in range(len(variants))], ys, width, label=f"batch {b}")
            ax.set_xticks([j + width * (len(batches) - 1) / 2 for j in range(len(variants))], variants, rotation=45,
                          ha="right", fontsize=7)
            ax.set_title(f"{src} ({rows[0]['consumer']} consumer)")
            ax.set_ylabel("% of np.copyto bandwidth (log)")
            ax.set_yscale("log")
            ax.axhline(50, color="grey", ls="--", lw=0.8)
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "benchmarks_data.png", dpi=100)
        plt.close(fig)
        written.append("benchmarks_data.png")
    train = [r for r in report["training"] if r.get("section", "single") == "single"]
    if train:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, max(4.5, 0.22 * len(train))),
                                       gridspec_kw={"width_ratios": [1, 1.2]})
        # Horizontal bars: one readable label per configuration, however many there are.
        ys = range(len(train))
        ax1.barh(ys, [r["examples_per_s"] for r in train],
                 xerr=[r.get("examples_per_s_iqr", 0) / 2 for r in train], color="tab:blue")
        ax1.set_yticks(list(ys), [f"{r['model']} {r['config']} b{r['global_batch']}" for r in train], fontsize=7)
        ax1.invert_yaxis()
        ax1.set_xlabel("examples/s (median, IQR bar)")
        ax1.set_title("training throughput")
        # One line per model and configuration across global batch sizes, so a line never joins two
        # different configurations at the same batch.
        for model, marker in (("quickstart", "o"), ("conv", "s")):
            for config in dict.fromkeys(r["config"] for r in train if r["model"] == model):
                sel = sorted((r for r in train if r["model"] == model and r["config"] == config),
                             key=lambda r: r["global_batch"])
                ax2.plot([r["global_batch"] for r in sel], [r["pct_of_limit"] for r in sel], marker=marker,
                         label=f"{model} {config}")
                for r in sel:
                    ax2.annotate(f"{r['accuracy']:.3f}", (r["global_batch"], r["pct_of_limit"]), fontsize=6,
                                 textcoords="offset points", xytext=(3, 3))
        ax2.set_xscale("log", base=2)
        ax2.axhline(60, color="grey", ls="--", lw=0.8)
        ax2.set_xlabel("global batch")
        ax2.set_ylabel("MFU % of measured float32 matmul peak")
        ax2.set_title("model FLOP utilisation (labels: accuracy)")
        ax2.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out / "benchmarks_training.png", dpi=100)
        plt.close(fig)
        written.append("benchmarks_training.png")
    if report["selfcheck"]:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        rows = report["selfcheck"]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r["expected_s"] * 1e3 for r in rows], 0.4, label="expected (closed form)")
        ax.bar([x + 0.2 for x in xs], [r["measured_s"] * 1e3 for r in rows], 0.4, label="measured (median)")
        ax.set_xticks(list(xs), [r["name"] for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("ms for 2 epochs")
        ax.set_title("harness self-check")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "benchmarks_selfcheck.png", dpi=100)
        plt.close(fig)
        written.append("benchmarks_selfcheck.png")
    return written


def _jsonable(obj):
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return obj


def write(report: dict, report_dir: Path) -> list[Path]:
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    cluster_section.carry_over(report, report_dir)  # a cluster run's rows survive a new pytest benchmarks report
    pngs = plots(report, report_dir)
    (report_dir / "benchmarks.json").write_text(json.dumps(_jsonable(report), indent=1) + "\n")
    (report_dir / "benchmarks.md").write_text(markdown(report, pngs))
    return [report_dir / "benchmarks.md", report_dir / "benchmarks.json", *(report_dir / p for p in pngs)]
