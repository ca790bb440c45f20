"""benchmarks.md and the plots, drawn from benchmarks.json: `python -m reports benchmarks DIR`.

benchmarks/report.py writes DIR/benchmarks.json (its contract: benchmarks/benchmarks.schema.json), with every
figure already derived, and then starts this command; this module only reads the JSON and renders it: the
Markdown with tabulate and, when matplotlib is installed (the `plots` extra), two PNG plots. A report that
holds only a cluster run's rows renders as its cluster section (reports/cluster.py).

Exit status: 0, or 2 when DIR/benchmarks.json cannot be read (one line naming the file).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from tabulate import tabulate

from reports import cluster as cluster_section
from tfguide.environment import header_lines

NO_MATPLOTLIB = "no plots: matplotlib is not installed (pip install -e '.[plots]')"


# -- Markdown -----------------------------------------------------------------------------------------

def _pct(v):
    return "-" if v is None else f"{100 * v:.1f} %"


def _fmt_ci(ci, fmt="{:.2f}"):
    if not ci or ci[0] is None:
        return "no interval"
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


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


def _run_lines(report: dict) -> list[str]:
    """What kind of run, from which commit, measured how; the summary of the rows' precision."""
    plan, prov, s = report["plan"], report.get("provenance", {}), report["summary"]
    kind = "quick smoke run (`--quick`: small data, few rounds: not a measurement to quote)" if plan["quick"] else "full run"
    wall = f", {report['wall_s'] / 60:.1f} min" if report.get("wall_s") else ""
    parts = [f"**{kind}**{wall}; commit `{prov.get('git_commit', '?')}`"
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
    return parts + [f"- {n}" for n in report["notes"]] + ([""] if report["notes"] else [])


def _limit_lines(lim: dict) -> list[str]:
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
    parts = ["## Limits (measured in this run)", "",
             tabulate(lrows, headers=["limit", "value", "method"], tablefmt="github", disable_numparse=True), "",
             "Percentages: tf.data rows use the copy bandwidth, training rows the measured matmul peak (MFU), "
             "save/load rows the file-system bandwidth; every limit is the best value of the run.", ""]
    if lim.get("history"):
        parts += ["Re-measured before each section (best of a few repetitions of the best configuration):", "",
                  tabulate([[h["when"], _f(h["copy_bytes_per_s"] / 1e9, "{:.2f}"),
                             _f(h["matmul_flop_per_s"].get(lim["primary_device"], {}).get("float32", 0) / 1e9, "{:.1f}")]
                            for h in lim["history"]], headers=["when", "copy GB/s", "matmul GFLOP/s"],
                           tablefmt="github", disable_numparse=True), ""]
    return parts


def _target_lines(targets: list[dict]) -> list[str]:
    if not targets:
        return []
    return ["## Targets", "",
            tabulate([[t["target"], "met" if t["met"] else "**not met**",
                       _f(t["value"], "{:.2f}") + (" " + _fmt_ci(t.get("value_ci95")) if t.get("value_ci95") else ""),
                       t["evidence"]] for t in targets],
                     headers=["target", "result", "value [95 %]", "evidence"], tablefmt="github",
                     disable_numparse=True), ""]


def _tuning_lines(ladders: list[dict]) -> list[str]:
    if not ladders:
        return []
    parts = ["## What each tuning gave", ""]
    for lad in ladders:
        rungs = " → ".join(f"{g['label']}: {_f(g['value'], '{:.3f}' if lad['unit'] == 'ms/step' else '{:.1f}')} "
                           f"({'×' + _f(g['x_guide'], '{:.2f}') if g.get('x_guide') else '-'} guide"
                           + (f", input wait {_pct(g['input_wait_share'])}"
                              if g.get("input_wait_share") is not None else "")
                           + ")" for g in lad["rungs"])
        parts.append(f"- **{lad['ladder']}** ({lad['unit']}): {rungs}")
    return parts + [""]


def _data_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    return ["## tf.data throughput", "",
            "Steady state: an epoch after its first batch (`first batch ms`: `iter()` + the first batch). "
            "`% copy BW` = delivered bytes/s over the copy bandwidth; `× guide`: the median per-round ratio to the "
            "guide's "
            "pipeline at the same batch size and consumer, with its 95 % interval. `(no copy)`: the bytes are "
            "delivered without being copied. `slowest stage`: the stage of the pipeline's ladder that costs the "
            "most per example. `cores / MiB`: process CPU time over wall time, and the rounds' peak memory.", "",
            data_table(rows), "",
            "### Stage ladders (graph consumer; cost per example added by each stage)", "",
            *_ladder_lines(rows), ""]


def _training_lines(rows: list[dict]) -> list[str]:
    train = [r for r in rows if not r.get("distributed")]
    dist = [r for r in rows if r.get("distributed")]
    parts = []
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
    return parts


def _io_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    return ["## Saving and loading", "", "One round = one save (or load) of the recipe's model; MB/s over the "
            "file system's bandwidth measured in the same rounds (page cache: Keras does not fsync).", "",
            io_table(rows), ""]


def _selfcheck_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    return ["## Harness self-check (tf.data performance guide's artificial dataset)", "",
            "30 ms to open a file, 15 ms per read, 10 ms per training step, 30 ms per map, 3 samples, 2 epochs; "
            "expected times are closed-form (benchmarks/bench_harness_selfcheck.py).", "",
            tabulate([[r["name"], r["pipeline"], _f(r["expected_s"] * 1e3, "{:.1f}"),
                       _f(r["measured_s"] * 1e3, "{:.1f}"),
                       _f(r["measured_over_expected"], "{:.3f}"), _f(r["generator_startup_s"] * 1e3, "{:.1f}"),
                       _f(r["corrected_over_expected"], "{:.3f}"), _f(r["cv"], "{:.1%}")]
                      for r in rows],
                     headers=["pipeline", "code", "expected ms", "measured ms", "measured/expected",
                              "start-up ms/epoch", "measured/(expected + start-up)", "CV"],
                     tablefmt="github", disable_numparse=True), ""]


def _run_detail_lines(report: dict, plots: list[str], plots_note: str | None) -> list[str]:
    """What was not measured, how each group spent its budget, failed checks, the plots."""
    parts = []
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
    return parts


def markdown(report: dict, plots: list[str] = (), plots_note: str | None = None) -> str:
    if "plan" not in report:  # only a cluster run's rows (python -m benchmarks.cluster before pytest benchmarks)
        return "# Benchmarks\n\n" + "\n".join(cluster_section.markdown(report.get("cluster")))
    parts = ["# Benchmarks: the guide's tf.data and training work against this machine's limits", ""]
    if report["environment"]:
        parts += ["```", *header_lines(report["environment"]), "```", ""]
    parts += _run_lines(report) + _limit_lines(report["limits"]) + _target_lines(report["targets"])
    parts += _tuning_lines(report.get("ladders")) + _data_lines(report["data"])
    parts += _training_lines(report["training"]) + _io_lines(report.get("io"))
    parts += _selfcheck_lines(report["selfcheck"]) + _run_detail_lines(report, plots, plots_note)
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


def write(report_dir: Path) -> list[Path]:
    """DIR/benchmarks.md and the plots, from DIR/benchmarks.json."""
    report_dir = Path(report_dir)
    report = json.loads((report_dir / "benchmarks.json").read_text(encoding="utf-8"))
    pngs, note = plots(report, report_dir) if "plan" in report else ([], None)
    (report_dir / "benchmarks.md").write_text(markdown(report, pngs, note))
    return [report_dir / "benchmarks.md", *(report_dir / p for p in pngs)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m reports benchmarks DIR  (renders DIR/benchmarks.json into benchmarks.md and plots)",
              file=sys.stderr)
        return 0 if argv in (["-h"], ["--help"]) else 2
    try:
        written = write(Path(argv[0]))
    except (OSError, ValueError) as exc:  # ValueError: not JSON
        print(f"python -m reports benchmarks: {argv[0]}/benchmarks.json: {exc}", file=sys.stderr)
        return 2
    print("\n".join(map(str, written)))
    return 0
