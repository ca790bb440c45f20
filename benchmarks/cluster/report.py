"""The chief's row for this cluster size, from its own timings and every worker's gathered figures, merged into
REPORT_DIR/cluster.json (rows of the same name are replaced, other rows stay) - this command's only file; `pytest
benchmarks` writes benchmarks.json, and `python -m reports benchmarks` renders both into benchmarks.md.

A row per cluster configuration (name `cluster/<N>-workers-x<R>/b<per-replica batch>`): `workers`, `replicas`
(in sync, all workers), `replicas_per_worker`, `per_replica_batch`, `global_batch`, `examples_per_s` (the median
of the measured rounds' rates, with the same interval method as every other row: benchmarks/stats.py
rate_interval), `examples_per_s_iqr`, `cv`, `cv_flag`, `scaling_efficiency` (E_N, stats.scaling_efficiency:
examples_per_s over the sum of the workers' one-worker baselines at the same per-replica batch, measured in the
same run), `pct_of_limit` (100 x E_N: a cluster's limit is N times one worker), `allreduce_share` (mean over
workers; `allreduce_share_min`/`_max` beside it), timing details, the hosts, and `config` - what
`python -m reports compare` requires to be equal before it divides two rows.
"""

from __future__ import annotations

import ipaddress
import statistics
from pathlib import Path

from benchmarks import report as bench_report
from benchmarks.stats import rate_interval, scaling_efficiency, spread, summarise
from tfguide import contracts, schema

MODEL = "quickstart"
SCHEMA = "tfguide-cluster/2"
CV_FLAG = 0.05
CONFIG_KEYS = ("model", "workers", "replicas_per_worker", "per_replica_batch", "global_batch", "device_type",
               "steps_per_round", "rounds", "train_examples", "data", "api", "strategy")


def row_name(workers: int, replicas_per_worker: int, per_replica_batch: int) -> str:
    return f"cluster/{workers}-workers-x{replicas_per_worker}/b{per_replica_batch}"


def _host(address: str) -> str:
    return address.rpartition(":")[0].strip("[]")


def _shared(hosts: list[str]) -> bool:
    """Several workers on one host (the same name, or loopback addresses, which are all this machine)."""
    def key(h):
        try:
            return "loopback" if ipaddress.ip_address(h).is_loopback else h
        except ValueError:
            return "loopback" if h == "localhost" else h
    return len({key(h) for h in hosts}) < len(hosts)


def rate_row(name: str, examples: int, seconds: list[float], **fields) -> dict:
    """A throughput row from round times: the rounds' rates (examples per round / its time) with the interval
    every row has (one pass: rate_interval), their IQR and CV, and the round times themselves (`timing`)."""
    rates = [examples / s for s in seconds if s > 0]
    interval = rate_interval(rates, [0] * len(rates))
    s = spread(rates)
    row = {"name": name, "examples_per_s": interval["median"], "examples_per_s_ci95": interval["ci"],
           "examples_per_s_pi95": interval["pi95"], "ci_half_width": interval["half_width"],
           "interval_width_from": interval["width_from"], "examples_per_s_iqr": s["iqr"],
           "examples_per_round": examples, "cv": s["cv"], "cv_flag": s["cv"] > CV_FLAG, "timing": summarise(seconds)}
    row.update(fields)
    return row


def build_row(args, cluster, result: dict, images) -> dict:
    workers = cluster.num_workers
    per_worker = result["replicas_per_worker"]
    b = args.per_replica_batch
    global_batch = b * result["replicas"]
    train, gathered = result["train"], result["gathered"]
    hosts = [_host(addr) for _, _, addr in cluster.tasks()]
    baselines = [g["baseline_examples_per_s"] for g in gathered]
    shares = [g["allreduce_share"] for g in gathered]
    least_wait = min(g["allreduce_ms_p50"] for g in gathered)
    row = rate_row(
        row_name(workers, per_worker, b), args.steps * global_batch, train["round_s"],
        section="cluster", model=MODEL, workers=workers, replicas=result["replicas"],
        replicas_per_worker=per_worker, per_replica_batch=b, global_batch=global_batch,
        device_type=result["device_type"], steps_per_round=args.steps, rounds=args.rounds,
        warmup_rounds=args.warmup, train_examples=len(images.x_train), data=images.kind, api="custom loop",
        strategy="MultiWorkerMirroredStrategy", source=cluster.source,
        tasks=[f"{t} {i} ({a})" for t, i, a in cluster.tasks()], hosts=sorted(set(hosts)), hosts_shared=_shared(hosts),
        ms_per_step_p50=train["ms_per_step_p50"], ms_per_step_p95=train["ms_per_step_p95"],
        compile_round_s=train["compile_round_s"], compile_and_first_step_s=train["compile_and_first_step_s"],
        accuracy=result.get("accuracy"), timer="own (per-round perf_counter on the chief; steps stamped as they start)")
    row.update({
        "baseline_examples_per_s_per_worker": statistics.fmean(baselines),
        "baseline_examples_per_s": baselines,
        "scaling_efficiency": scaling_efficiency(row["examples_per_s"], baselines),
        "allreduce_share": statistics.fmean(shares),
        "allreduce_share_min": min(shares), "allreduce_share_max": max(shares),
        "allreduce_share_per_worker": shares,
        "allreduce_ms_p50": least_wait,
        "allreduce_ms_p50_per_worker": [g["allreduce_ms_p50"] for g in gathered],
        "local_gradients_ms_p50_per_worker": [g["local_gradients_ms_p50"] for g in gathered],
        "split_step_ms_p50": result["allreduce"]["split_step_ms_p50"],
        "allreduce_bytes": result["allreduce"]["allreduce_bytes"],
        "allreduce_busbw_gbit_per_s": (result["allreduce"]["allreduce_bytes"] * 8 * 2 * (workers - 1) / workers
                                       / (least_wait / 1e3) / 1e9) if workers > 1 and least_wait > 0 else None,
        "checks": {
            "same_cluster": len({g["spec_hash"] for g in gathered}) == 1,
            "same_weights": len({g["weights_sum"] for g in gathered}) == 1,
            "closed_form_max_abs_error": max(g["closed_form_max_abs_error"] for g in gathered),
        },
    })
    row["pct_of_limit"] = 100.0 * row["scaling_efficiency"] if row["scaling_efficiency"] is not None else None
    row["limit"] = "N x one worker (same per-replica batch, measured in the same run)"
    row["config"] = {k: row.get(k) for k in CONFIG_KEYS}
    return row


# -- cluster.json: this command's own file ----------------------------------------------------------------------

class Unreadable(Exception):
    """A cluster.json already in the report directory that cannot be read, so nothing can be merged into it;
    str() names the file and what is wrong."""


def load_existing(path: Path) -> dict | None:
    """The cluster report to merge into: None when there is none, the report, or Unreadable - never silently
    nothing, which would let the new file replace rows of earlier cluster sizes that are still in the old one."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return contracts.load(path, "cluster")
    except contracts.ContractError as exc:
        raise Unreadable(str(exc)) from None


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """Rows of `new` replace rows of `old` with the same name; order: by workers, then name."""
    rows = {r["name"]: r for r in old or []}
    rows.update({r["name"]: r for r in new})
    return sorted(rows.values(), key=lambda r: (r.get("workers", 0), r["name"]))


def current_rows(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(the rows that conform to this version's contract, those that do not: written by an older version)."""
    contract = schema.load(bench_report.SCHEMA_PATH)
    good = [r for r in rows if not schema.errors(r, contract, "cluster_row")]
    return good, [r for r in rows if r not in good]


def merge_into(report_dir: Path, rows: list[dict], environment: dict, notes: list[str] = ()) -> list[Path]:
    """Merge `rows` into REPORT_DIR/cluster.json - the only file this command writes - then render benchmarks.md
    (benchmarks/report.py render: the renderer reads cluster.json beside benchmarks.json). Rows an older version
    wrote, which this version's report cannot show, are kept apart under `older_rows`. The files written."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    own = load_existing(report_dir / "cluster.json") or {}
    merged, older = current_rows(merge_rows(own.get("cluster", []) + own.get("older_rows", []), rows))
    notes = set(own.get("notes", [])) | set(notes)
    if older:
        notes.add(f"cluster rows {', '.join(r.get('name', '?') for r in older)} were written by an older version "
                  "and are kept under older_rows, not shown: run python -m benchmarks.cluster again")
    own = {"schema": SCHEMA, "environment": environment, "cluster": merged, "notes": sorted(notes)}
    if older:
        own["older_rows"] = older
    return [bench_report.write_json(own, report_dir, "cluster.json"), *bench_report.render(report_dir)]


def write(args, cluster, result: dict, images) -> list[Path]:
    """This size's row, merged into the report directory (merge_into)."""
    from tfguide.environment import fingerprint

    return merge_into(args.report_dir, [build_row(args, cluster, result, images)], fingerprint(run_matmul=False),
                      [images.source])
