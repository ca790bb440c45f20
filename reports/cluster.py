"""The `cluster` section of benchmarks.md: the rows `python -m benchmarks.cluster` measured (benchmarks/cluster/
report.py writes them into cluster.json, with every figure; reports/benchmarks.py reads that file beside
benchmarks.json), as a table and their checks, between markers so that the section can be found in the file.

No TensorFlow here: `python -m reports` must work anywhere.
"""

from __future__ import annotations

import math

from tabulate import tabulate

from reports.marks import mark_exceptions

BEGIN = "<!-- cluster section: written by python -m benchmarks.cluster -->"
END = "<!-- end of cluster section -->"

METHOD = (
    "Each worker trains the guide's quickstart model with the recipe's MultiWorkerMirroredStrategy custom loop "
    "(Keras 3's `fit` does not support this strategy: keras-team/keras#20585) on the recipes' tf.data path. "
    "Rounds of a fixed number of steps: one compile round, warm-up rounds, then at least 5 measured rounds; "
    "examples/s is the global examples of a round over the median round time (IQR and CV beside it). **E_N** = cluster examples/s ÷ the sum of the workers' one-worker examples/s: every worker also "
    "trains a second copy of the model alone (its own device(s), the same per-replica batch, the same steps, no "
    "communication); its rounds alternate with the cluster's, so load changes hit both alike, and start "
    "together on every worker (a barrier, not timed), so workers sharing a host share it in the baseline as "
    "they do in the cluster run. **All-reduce share**: after the measured rounds, a round of steps "
    "split in two halves, each ended by a host sync: the local gradients, then the all-reduce Keras's "
    "optimizer performs (a SUM of the same gradient tensors over every replica); per step, all-reduce time ÷ "
    "(local + all-reduce time), median over the round, per worker (the table shows the mean over workers, and "
    "min-max). It includes waiting for the slowest worker, which is time a worker spends in the all-reduce; "
    "the worker with the shortest all-reduce waited least, so its time is closest to the transfer alone "
    "(`allreduce_busbw` uses it: bytes x 2(N-1)/N ÷ time, as in nccl-tests).")

SHARED_NOTE = (
    "Rows marked *shared* ran several workers on one host (for example the loopback run on 127.0.0.1): the "
    "workers share its cores, so the cluster is not faster than one worker there; E_N and the all-reduce "
    "share show the method (what synchronisation and the all-reduce cost on top of the same per-worker work "
    "under the same sharing), not a speed-up.")

COMPARABLE = (
    "Comparable across clusters: examples/s of rows with the same name and configuration (`python -m "
    "reports compare`), E_N and the all-reduce share (dimensionless: how much of N workers' capacity the "
    "synchronous step keeps), `allreduce_busbw` (the interconnect). Not comparable: rows with a different "
    "per-replica batch, replicas per worker or device type, and E_N of a shared host against separate hosts.")


def _f(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def _yes(flag) -> str:
    return "-" if flag is None else "yes" if flag else "**no**"


def table(rows: list[dict], cv_marks: dict) -> str:
    body = []
    for r in rows:
        share = r.get("allreduce_share")
        spread = (f" ({_f(r.get('allreduce_share_min'), '{:.0%}')}–{_f(r.get('allreduce_share_max'), '{:.0%}')})"
                  if share is not None and r.get("workers", 1) > 1 else "")
        body.append([
            r["name"] + (" *shared*" if r.get("hosts_shared") else ""), r["workers"], r["replicas_per_worker"],
            r["global_batch"], f"{r['examples_per_s']:,.0f} ± {r.get('examples_per_s_iqr', 0):,.0f}",
            _f(r.get("cv"), "{:.1%}") + (" " + cv_marks[r["name"]] if r["name"] in cv_marks else ""),
            _f(r.get("baseline_examples_per_s_per_worker"), "{:,.0f}"), _f(r.get("scaling_efficiency"), "{:.3f}"),
            _f(share, "{:.1%}") + spread, _f(r.get("ms_per_step_p50"), "{:.2f}"),
            _f(r.get("allreduce_busbw_gbit_per_s"), "{:.2f}"), _f(r.get("accuracy"), "{:.4f}"),
            r.get("source", "-")])
    return tabulate(body, headers=["row", "workers", "replicas/worker", "global batch", "examples/s (± IQR)", "CV",
                                   "one worker ex/s", "E_N", "all-reduce share (min–max)", "ms/step p50",
                                   "all-reduce busbw Gbit/s", "accuracy", "cluster from"],
                    tablefmt="github", disable_numparse=True)


def markdown(rows: list[dict] | None) -> list[str]:
    """The section's Markdown lines (empty without rows), between markers so a later run can replace it."""
    if not rows:
        return []
    cv_marks, legend = mark_exceptions(rows, lambda r: r.get("cv_flag"), "⚠", "vary by more than 5 % between rounds (CV)",
                                       "steadier")
    lines = [BEGIN, "## Cluster: MultiWorkerMirroredStrategy (`python -m benchmarks.cluster`)", "",
             table(rows, cv_marks), ""] + ([legend, ""] if legend else [])
    hosts = {tuple(r.get("hosts", ())) for r in rows}
    lines += [f"Hosts: {', '.join(sorted({h for hs in hosts for h in hs})) or '-'}. Method: {METHOD}", ""]
    if any(r.get("hosts_shared") for r in rows):
        lines += [SHARED_NOTE, ""]
    lines += ["Checks of each row: every worker resolved the same cluster, the weights are identical on every worker "
              "after training, and one step of the recipe's loop matches SGD's closed form.", "",
              tabulate([[r["name"], ", ".join(r.get("tasks", [])), _yes(r.get("checks", {}).get("same_cluster")),
                         _yes(r.get("checks", {}).get("same_weights")),
                         _f(r.get("checks", {}).get("closed_form_max_abs_error"), "{:.1e}"),
                         _f(r.get("compile_round_s"), "{:.2f}"), f"{r.get('allreduce_bytes', 0):,}",
                         _f(r.get("allreduce_ms_p50"), "{:.3f}")] for r in rows],
                       headers=["row", "tasks", "same cluster", "same weights", "closed-form max error",
                                "compile round s", "all-reduce bytes", "all-reduce ms p50"],
                       tablefmt="github", disable_numparse=True)]
    lines += ["", COMPARABLE, END, ""]
    return lines
