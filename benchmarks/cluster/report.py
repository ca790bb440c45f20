"""The chief's row for this cluster size, from its own timings and every worker's gathered figures; written
with reports/cluster.py into cluster.json and the `cluster` section of benchmarks.json / benchmarks.md."""

from __future__ import annotations

import ipaddress
import statistics

from benchmarks.harness import rate_row
from reports import cluster as section

MODEL = "quickstart"


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


def build_row(args, cluster, result: dict, images) -> dict:
    workers = cluster.num_workers
    per_worker = result["replicas_per_worker"]
    b = args.per_replica_batch
    global_batch = b * result["replicas"]
    train, gathered = result["train"], result["gathered"]
    addresses = [addr for _, _, addr in cluster.tasks()]
    hosts = [_host(a) for a in addresses]
    baselines = [g["baseline_examples_per_s"] for g in gathered]
    shares = [g["allreduce_share"] for g in gathered]
    least_wait = min(g["allreduce_ms_p50"] for g in gathered)
    row = rate_row(
        row_name(workers, per_worker, b), args.steps * global_batch, None, train["round_s"],
        section="cluster", model=MODEL, workers=workers, replicas=result["replicas"],
        replicas_per_worker=per_worker, per_replica_batch=b, global_batch=global_batch,
        device_type=result["device_type"], steps_per_round=args.steps, rounds=args.rounds,
        warmup_rounds=args.warmup, train_examples=len(images.x_train), data=images.kind, api="custom loop",
        strategy="MultiWorkerMirroredStrategy", source=cluster.source, tasks=[f"{t} {i} ({a})" for t, i, a in
                                                                              cluster.tasks()],
        hosts=sorted(set(hosts)), hosts_shared=_shared(hosts),
        ms_per_step_p50=train["ms_per_step_p50"], ms_per_step_p95=train["ms_per_step_p95"],
        compile_round_s=train["compile_round_s"], compile_and_first_step_s=train["compile_and_first_step_s"],
        accuracy=result.get("accuracy"), timer="own (per-round perf_counter on the chief; steps stamped as they start)")
    baseline_sum = sum(baselines)
    row.update({
        "baseline_examples_per_s_per_worker": statistics.fmean(baselines),
        "baseline_examples_per_s": baselines,
        "scaling_efficiency": row["examples_per_s"] / baseline_sum if baseline_sum else None,
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
    row["config"] = {k: row.get(k) for k in section.CONFIG_KEYS}
    return row


def write(args, cluster, result: dict, images) -> list:
    from tfguide.environment import fingerprint

    row = build_row(args, cluster, result, images)
    notes = [images.source]
    if row["hosts_shared"]:
        notes.append(section.SHARED_NOTE)
    return section.write(args.report_dir, [row], fingerprint(run_matmul=False), notes)
