"""The cluster benchmark run for real on loopback, started exactly as a cluster starts it
(benchmarks/cluster/loopback.py): two workers from TF_CONFIG, and, at the same time, a one-worker job from
the SLURM_* variables of a one-task step with twice the per-replica batch, i.e. the same global batch.

Checked: every worker resolved the same cluster; the recipe's one-step check equals SGD's closed form; the
two workers end with identical weights, equal (within float32 rounding) to the one-worker run on the same
global batch; the chief's row in cluster.json / benchmarks.md with its arithmetic; no
process and no listening port left behind. No timing is asserted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
from pathlib import Path

import numpy as np
import pytest

from benchmarks import report as bench_report
from benchmarks.cluster import loopback
from benchmarks.cluster import report as cluster_report
from reports import cluster as section
from tfguide import schema

ARGS = ["--quick", "--steps", "10", "--save-weights", "--heartbeat-timeout", "10", "--connect-timeout", "120"]
PER_REPLICA = 64
TIMEOUT_S, GRACE_S = 240.0, 30.0


def _launch_both(base: Path) -> dict:
    for attempt in range(loopback.PORT_ATTEMPTS):
        dirs = {name: base / f"{name}-{attempt}" for name in ("two", "one")}
        two = loopback.start(2, "tfconfig", dirs["two"], ARGS + ["--per-replica-batch", str(PER_REPLICA)])
        try:
            one = loopback.start(1, "slurm", dirs["one"], ARGS + ["--per-replica-batch", str(2 * PER_REPLICA)])
        except BaseException:
            loopback.kill(two)
            raise
        outcomes = {"two": loopback.wait(two, TIMEOUT_S, GRACE_S), "one": loopback.wait(one, TIMEOUT_S, GRACE_S)}
        # another process took a chosen port between the choice and TensorFlow's bind: new ports, new run
        if not any(loopback.PORT_IN_USE in m for o in outcomes.values() for m in o.messages):
            break
    return {name: {**dataclasses.asdict(o), "report_dir": str(dirs[name]), "leftovers": loopback.leftovers(o)}
            for name, o in outcomes.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Once per test run, also under pytest-xdist (the other workers wait for the first one's result)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id:
        return _launch_both(tmp_path_factory.mktemp("cluster"))
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent
    result = shared / f"cluster-loopback-{run_id}.json"
    with open(result.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            result.write_text(json.dumps(_launch_both(shared / f"cluster-loopback-{run_id}")))
        return json.loads(result.read_text())


def _workers(run: dict, n: int) -> list[dict]:
    run_dir = Path(run["report_dir"]) / "cluster-runs" / f"{n}-workers"
    return [json.loads((run_dir / f"worker-{i}.json").read_text()) for i in range(n)]


def _weights(run: dict, n: int, i: int) -> list[np.ndarray]:
    with np.load(Path(run["report_dir"]) / "cluster-runs" / f"{n}-workers" / f"worker-{i}.weights.npz") as npz:
        return [npz[k] for k in npz.files]


def test_every_worker_ends_by_itself_with_status_0_and_leaves_no_process_or_port(runs):
    for run in runs.values():
        assert run["returncodes"] == [0] * len(run["pids"]), run["messages"]
        assert run["watchdog_killed"] == [] and run["leftovers"] == []
        assert run["messages"] == [""] * len(run["pids"])    # nothing on the terminal's stderr


def test_every_worker_saw_the_same_cluster(runs):
    two = _workers(runs["two"], 2)
    addresses = [f"127.0.0.1:{p}" for p in runs["two"]["ports"]]
    for index, worker in enumerate(two):
        assert worker["cluster"] == {"source": "tfconfig", "jobs": {"worker": addresses}, "task_type": "worker",
                                     "task_index": index, "chief": ["worker", 0], "num_workers": 2}
        assert worker["replicas"] == 2 and worker["replicas_per_worker"] == 1 and worker["device_type"] == "CPU"
        assert worker["replicas_at_end"] == 2                     # the final all-reduce spans both workers
        assert [g["worker"] for g in worker["gathered"]] == [0, 1]
        assert {g["spec_hash"] for g in worker["gathered"]} == {float(two[0]["spec_hash"])}
    (one,) = _workers(runs["one"], 1)
    assert one["cluster"]["source"] == "slurm"
    assert one["cluster"]["jobs"] == {"worker": [f"127.0.0.1:{runs['one']['ports'][0]}"]}


def test_the_recipe_step_on_the_cluster_is_sgd_in_closed_form(runs):
    for worker in _workers(runs["two"], 2) + _workers(runs["one"], 1):
        check = worker["closed_form_check"]
        p = {k: np.asarray(v, np.float64) for k, v in check["problem"].items() if k != "learning_rate"}
        error = p["x"] @ p["kernel"] + p["bias"] - p["y"]
        scale = 2.0 / error.size
        want = [p["kernel"] - 0.1 * scale * p["x"].T @ error, p["bias"] - 0.1 * scale * error.sum(axis=0)]
        for got, exact in zip(check["weights"], want):
            np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-6)
        # each replica took its share of the global batch (4 rows per replica)
        assert check["local_rows"] == [4] * (worker["replicas"] // worker["cluster"]["num_workers"])


def test_two_workers_end_with_the_weights_of_one_worker_on_the_same_global_batch(runs):
    two = [_weights(runs["two"], 2, i) for i in range(2)]
    one = _weights(runs["one"], 1, 0)
    for w0, w1 in zip(*two):
        np.testing.assert_array_equal(w0, w1)                  # mirrored: bit for bit on both workers
    for got, want in zip(two[0], one):
        # the same global batches in the same order; only the float32 summation order differs
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6)
        assert not np.allclose(got, 0.0)
    workers = _workers(runs["two"], 2)
    assert workers[0]["weights_sum"] == workers[1]["weights_sum"]


def test_the_chief_writes_the_row_into_cluster_json_and_md(runs):
    report_dir = Path(runs["two"]["report_dir"])
    rows = json.loads((report_dir / "cluster.json").read_text())["cluster"]
    assert not (report_dir / "benchmarks.json").exists()   # pytest benchmarks' file: one writer per file
    (row,) = rows
    assert row["name"] == f"cluster/2-workers-x1/b{PER_REPLICA}"
    assert (row["workers"], row["replicas"], row["replicas_per_worker"], row["global_batch"]) == (2, 2, 1, 2 * PER_REPLICA)
    # the median of the rounds' rates, as every row of the benchmarks (benchmarks/stats.py rate_interval)
    assert row["examples_per_s"] == pytest.approx(statistics.median(10 * 2 * PER_REPLICA / s
                                                                    for s in row["timing"]["round_s"]))
    assert row["scaling_efficiency"] == pytest.approx(row["examples_per_s"] / sum(row["baseline_examples_per_s"]))
    assert row["pct_of_limit"] == pytest.approx(100 * row["scaling_efficiency"])
    shares = row["allreduce_share_per_worker"]
    assert shares == [w["allreduce"]["allreduce_share"] for w in _workers(runs["two"], 2)]   # gathered as measured
    assert all(0 < share < 1 for share in shares) and row["allreduce_share"] == pytest.approx(sum(shares) / 2)
    assert row["cv"] >= 0 and row["timing"]["rounds"] == 6
    low, high = row["examples_per_s_ci95"]  # six rounds: the smallest and largest rate bound the median
    assert low < row["examples_per_s"] < high
    assert row["checks"]["same_cluster"] is True and row["checks"]["same_weights"] is True
    assert row["checks"]["closed_form_max_abs_error"] < 1e-5
    assert row["hosts"] == ["127.0.0.1"] and row["hosts_shared"] is True
    assert row["config"] == {k: row[k] for k in cluster_report.CONFIG_KEYS}
    assert schema.errors(row, schema.load(bench_report.SCHEMA_PATH), "cluster_row") == []
    md = (report_dir / "benchmarks.md").read_text()
    assert row["name"] + " *shared*" in md and section.SHARED_NOTE in md and "not a speed-up" in md
