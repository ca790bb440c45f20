"""The cluster benchmark's input side (benchmarks/cluster/spec.py, failures.py) and its report section
(reports/cluster.py): bad input refused with one line and exit 2 before anything starts; the Slurm and
TF_CONFIG paths building the same cluster through TensorFlow's own resolvers; TensorFlow's failure messages
(as TensorFlow 2.21 writes them, observed on loopback) read into the task that is missing.

The project's own tooling, not the guide: `pytest tests`. The runs of real workers are in
test_cluster_loopback.py and test_cluster_faults.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import report as bench_report
from benchmarks.cluster import failures, loopback, spec
from benchmarks.cluster import report as cluster_report
from benchmarks.cluster.spec import BadInput
from reports import cluster as section
from tfguide import contracts

ROOT = Path(__file__).resolve().parents[1]
PORTS = [47001, 47002, 47003, 47004]


def tf_config(cluster: dict, task_type: str = "worker", index: int = 0) -> str:
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


# -- TF_CONFIG validation -------------------------------------------------------------------------------

BAD_TF_CONFIGS = {
    "malformed JSON": ('{"cluster": {"worker": ["127.0.0.1:47001"]}, "task": {"type": "worker" "index": 0}}',
                       "TF_CONFIG is not valid JSON: Expecting ',' delimiter at line 1 column 72"),
    "task index outside the cluster": (tf_config({"worker": ["127.0.0.1:47001", "127.0.0.1:47002"]}, index=2),
                                       "TF_CONFIG: task index 2 is outside the cluster: job 'worker' has 2 task(s), "
                                       "indices 0..1"),
    "chief missing (task is the chief)": (tf_config({"worker": ["127.0.0.1:47001"]}, "chief"),
                                          "TF_CONFIG: task type 'chief' is not in the cluster (chief missing); its "
                                          "jobs are worker x1"),
    "chief missing (empty chief job)": (tf_config({"chief": [], "worker": ["127.0.0.1:47001"]}),
                                        "TF_CONFIG: chief missing: the 'chief' job must list exactly one address, "
                                        "it lists 0"),
    "parameter servers": (tf_config({"worker": ["127.0.0.1:47001"], "ps": ["127.0.0.1:47002"]}),
                          "TF_CONFIG: job 'ps' has no place in a MultiWorkerMirroredStrategy cluster (only chief and "
                          "worker)"),
    "address without a port": (tf_config({"worker": ["127.0.0.1"]}),
                               "TF_CONFIG: address '127.0.0.1' is not host:port"),
    "two tasks on one address": (tf_config({"worker": ["127.0.0.1:47001", "127.0.0.1:47001"]}),
                                 "TF_CONFIG: worker 1 and worker 0 share the address 127.0.0.1:47001"),
}


@pytest.mark.parametrize("case", list(BAD_TF_CONFIGS))
def test_bad_tf_config_is_refused_with_one_exact_line(case):
    text, message = BAD_TF_CONFIGS[case]
    with pytest.raises(BadInput) as info:
        spec.parse_tf_config(text)
    assert str(info.value) == message


def test_a_valid_tf_config_names_its_task_and_the_chief():
    cluster = spec.parse_tf_config(tf_config({"chief": ["a:1"], "worker": ["b:2", "c:3"]}, "worker", 1))
    assert (cluster.task_type, cluster.task_index, cluster.address) == ("worker", 1, "c:3")
    assert cluster.chief == ("chief", 0) and not cluster.is_chief and cluster.num_workers == 3
    assert cluster.tasks() == [("chief", 0, "a:1"), ("worker", 0, "b:2"), ("worker", 1, "c:3")]
    assert spec.parse_tf_config(tf_config({"worker": ["b:2", "c:3"]})).chief == ("worker", 0)


def run_worker(env: dict, tmp_path: Path, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    clean = {k: v for k, v in os.environ.items() if k != "TF_CONFIG" and not k.startswith("SLURM_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "benchmarks.cluster", "--report-dir", str(tmp_path / "reports"),
                           *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - t0


@pytest.mark.parametrize("case", ["malformed JSON", "task index outside the cluster", "chief missing (task is the chief)",
                                  "chief missing (empty chief job)"])
def test_the_command_refuses_bad_tf_config_with_exit_2_one_line_and_nothing_started(case, tmp_path):
    text, message = BAD_TF_CONFIGS[case]
    done, _ = run_worker({"TF_CONFIG": text}, tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"python -m benchmarks.cluster: bad input: {message}\n"
    assert done.stdout == ""
    assert not (tmp_path / "reports").exists()   # no log, no run directory, no report: nothing started


def test_the_command_refuses_to_run_without_a_cluster(tmp_path):
    done, _ = run_worker({}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["python -m benchmarks.cluster: bad input: no cluster: set TF_CONFIG (see "
                                        "docs/cluster.md) or start one task per host with Slurm's "
                                        "srun"]


def test_bad_options_are_one_line_and_exit_2(tmp_path):
    done, _ = run_worker({"TF_CONFIG": tf_config({"worker": ["127.0.0.1:47001"]})}, tmp_path, "--rounds", "3")
    assert (done.returncode, done.stderr) == (2, "python -m benchmarks.cluster: bad input: --rounds must be at least "
                                                 "6 (the benchmarks' method)\n")
    launcher = subprocess.run([sys.executable, "-m", "benchmarks.cluster.loopback", "--workers", "0"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert (launcher.returncode, launcher.stderr) == (2, "python -m benchmarks.cluster.loopback: bad input: --workers "
                                                         "must be at least 1\n")


def test_slurm_without_a_job_step_is_refused():
    with pytest.raises(BadInput, match=r"^Slurm: SLURM_STEP_NUM_TASKS, SLURM_STEP_NODELIST, SLURM_STEP_TASKS_PER_NODE "
                                       r"not set: start one task per worker with srun"):
        spec.slurm_resolver(None, environ={"SLURM_PROCID": "0"})


# -- Slurm and TF_CONFIG build the same cluster ------------------------------------------------------------

def _resolve(tf, monkeypatch, env: dict, source: str, port_base: int = spec.DEFAULT_PORT_BASE):
    for name in ["TF_CONFIG", *spec.SLURM_VARS]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resolver, cluster = spec.resolve(tf, "auto", port_base)
    assert cluster.source == source
    return resolver, cluster


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_slurm_and_tf_config_paths_build_the_same_cluster_spec_for_every_task(n, monkeypatch):
    tf = pytest.importorskip("tensorflow")
    for rank in range(n):
        slurm_resolver, slurm = _resolve(tf, monkeypatch, loopback.slurm_env(n, rank), "slurm", PORTS[0])
        tfc_resolver, tfc = _resolve(tf, monkeypatch, loopback.tf_config_env(PORTS[:n], rank), "tfconfig")
        assert slurm.jobs == tfc.jobs == {"worker": [f"127.0.0.1:{p}" for p in PORTS[:n]]}
        assert (slurm.task_type, slurm.task_index) == (tfc.task_type, tfc.task_index) == ("worker", rank)
        assert slurm_resolver.cluster_spec().as_cluster_def() == tfc_resolver.cluster_spec().as_cluster_def()
        assert slurm_resolver.num_accelerators() == {}    # CPU-only: no GPU slots for MultiWorkerMirroredStrategy


def test_a_two_node_slurm_step_packs_tasks_per_node_with_consecutive_ports(monkeypatch):
    # srun -N2 -n4: tasks 0,1 on node01 and 2,3 on node02; SlurmClusterResolver gives a node's k-th task port_base+k
    tf = pytest.importorskip("tensorflow")
    env = {"SLURM_PROCID": "3", "SLURM_STEP_NUM_TASKS": "4", "SLURM_STEP_NODELIST": "node[01-02]",
           "SLURM_STEP_TASKS_PER_NODE": "2(x2)"}
    _, slurm = _resolve(tf, monkeypatch, env, "slurm")
    hosts = ["node01:8888", "node01:8889", "node02:8888", "node02:8889"]
    _, tfc = _resolve(tf, monkeypatch, {"TF_CONFIG": tf_config({"worker": hosts}, index=3)}, "tfconfig")
    assert slurm == tfc
    assert slurm.address == "node02:8889" and slurm.chief == ("worker", 0)


def test_slurm_task_outside_the_step_is_refused(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    env = dict(loopback.slurm_env(2, 0), SLURM_PROCID="2")
    with pytest.raises(BadInput, match=r"^Slurm: task index 2 \(SLURM_PROCID\) is outside the cluster: the step has "
                                       r"2 task\(s\)$"):
        spec.slurm_resolver(tf, environ=env)


# -- TensorFlow's failure messages -> the missing task ------------------------------------------------------

CLUSTER3 = spec.Cluster("tfconfig", {"worker": ["127.0.0.1:47001", "127.0.0.1:47002", "127.0.0.1:47003"]}, "worker", 0)
# Verbatim from TensorFlow 2.21 on loopback (a worker SIGKILLed, SIGSTOPped, never started; see failures.py).
CONNECTION_RESET = ("Collective ops is aborted by: Collective ops is aborted by: recvmsg:Connection reset by peer\n"
                    "Additional GRPC error information from remote target /job:worker/replica:0/task:1 while calling "
                    "/tensorflow.WorkerService/RecvBuf:")
HEARTBEATS = ("Collective ops is aborted by: Error reported from /job:worker/task:2: The following tasks are unhealthy "
              "(stopped sending heartbeats):\n/job:worker/replica:0/task:2\nThe tasks have crashed. Check the task logs "
              "for an earlier error, or scheduler events (e.g. preemption, eviction) to debug further.")
LEADER_HEARTBEAT = ("Collective ops is aborted by: Deadline Exceeded\n\nRPC: /tensorflow.CoordinationService/Heartbeat\n"
                    "The error could be from a previous operation. Restart your program to reset.")
BARRIER = ("Barrier timed out. Id: [Init]Wait_for_all_tasks_to_register::0. This usually happens because a task "
           "triggered the barrier too early or too slowly. Please look at the task logs (both timed out and first "
           "task) to debug further.\n# of tasks that reached the barrier: 1/3.\nThe first task at the barrier: "
           "/job:worker/replica:0/task:0. Some timed out task names:\n/job:worker/replica:0/task:2\n")
REGISTER = ("Deadline Exceeded\nAdditional GRPC error information from remote target /job:worker/replica:0/task:0 "
            "while calling /tensorflow.CoordinationService/RegisterTask:\n:UNKNOWN:Error received from peer  "
            "{grpc_status:4, grpc_message:\"Deadline Exceeded\"}\n\nRPC: /tensorflow.CoordinationService/RegisterTask")


def test_a_dead_peer_is_named_from_the_aborted_collective():
    assert failures.missing_tasks(CONNECTION_RESET, CLUSTER3) == [("worker", 1)]
    assert str(failures.run_error(RuntimeError(CONNECTION_RESET), CLUSTER3, "training")) == (
        "worker 1 (127.0.0.1:47002) is missing (its connection was reset) during training; worker 0 stopped")


def test_a_hung_peer_is_named_from_the_heartbeat_report():
    assert str(failures.run_error(RuntimeError(HEARTBEATS), CLUSTER3, "training")) == (
        "worker 2 (127.0.0.1:47003) is missing (it stopped sending heartbeats) during training; worker 0 stopped")


def test_a_hung_chief_is_named_as_the_coordination_service_host():
    worker1 = spec.Cluster("tfconfig", CLUSTER3.jobs, "worker", 1)
    assert failures.missing_tasks(LEADER_HEARTBEAT, worker1) == [("worker", 0)]
    assert failures.missing_tasks(LEADER_HEARTBEAT, CLUSTER3) == []   # the chief never blames itself


def test_startup_errors_are_bad_input_naming_the_unreachable_task_or_the_taken_port():
    assert str(failures.startup_error(RuntimeError(BARRIER), CLUSTER3, 30)) == (
        "unreachable peer: worker 2 (127.0.0.1:47003) did not join the cluster within 30 s (it did not register in "
        "time); nothing was trained")
    worker1 = spec.Cluster("tfconfig", CLUSTER3.jobs, "worker", 1)
    assert str(failures.startup_error(RuntimeError(REGISTER), worker1, 30)) == (
        "unreachable peer: worker 0 (127.0.0.1:47001) did not join the cluster within 30 s (no answer before the "
        "deadline); nothing was trained")
    taken = failures.startup_error(RuntimeError("Could not start gRPC server"), worker1, 30)
    assert isinstance(taken, BadInput) and str(taken) == (
        "port 47002 of worker 1 (127.0.0.1:47002) is already in use on this host (TensorFlow could not start its gRPC "
        "server); nothing was trained")
    other = RuntimeError("something else")
    assert failures.startup_error(other, worker1, 30) is other and failures.run_error(other, worker1, "x") is other


# -- the report section -------------------------------------------------------------------------------------

def _row(name: str, workers: int, eps: float, **extra) -> dict:
    """A cluster row as benchmarks/cluster/report.py builds it, with every column the schema requires."""
    row = {"name": name, "workers": workers, "replicas": workers, "replicas_per_worker": 1, "per_replica_batch": 128,
           "global_batch": 128 * workers, "examples_per_s": eps, "examples_per_s_ci95": [eps - 10, eps + 10],
           "examples_per_s_pi95": [eps - 20, eps + 20], "ci_half_width": 10 / eps, "examples_per_s_iqr": 10.0,
           "cv": 0.01, "cv_flag": False, "scaling_efficiency": 0.5, "pct_of_limit": 50.0, "limit": "N x one worker",
           "allreduce_share": 0.4, "allreduce_share_min": 0.3, "allreduce_share_max": 0.5,
           "allreduce_busbw_gbit_per_s": 1.0, "ms_per_step_p50": 5.0, "ms_per_step_p95": 6.0, "accuracy": 0.8,
           "hosts": ["127.0.0.1"], "hosts_shared": workers > 1, "timing": {"rounds": 6},
           "tasks": [f"worker {i}" for i in range(workers)], "checks": {"same_cluster": True, "same_weights": True,
                                                                         "closed_form_max_abs_error": 1e-7}}
    row.update(extra)
    row["config"] = {k: row.get(k) for k in cluster_report.CONFIG_KEYS}
    return row


def test_rows_merge_by_name_into_cluster_json_its_only_file_and_render_into_benchmarks_md(tmp_path):
    cluster_report.merge_into(tmp_path, [_row("cluster/1-workers-x1/b128", 1, 100.0)], {"tensorflow": "2.21.0"})
    cluster_report.merge_into(tmp_path, [_row("cluster/2-workers-x1/b128", 2, 150.0)], {"tensorflow": "2.21.0"})
    cluster_report.merge_into(tmp_path, [_row("cluster/2-workers-x1/b128", 2, 160.0)], {"tensorflow": "2.21.0"})
    rows = json.loads((tmp_path / "cluster.json").read_text())["cluster"]
    assert [(r["name"], r["examples_per_s"]) for r in rows] == [("cluster/1-workers-x1/b128", 100.0),
                                                               ("cluster/2-workers-x1/b128", 160.0)]
    assert contracts.errors(json.loads((tmp_path / "cluster.json").read_text()), "cluster") == []
    assert not (tmp_path / "benchmarks.json").exists()   # pytest benchmarks' file: one writer per file
    md = (tmp_path / "benchmarks.md").read_text()
    assert md.startswith("# Benchmarks\n\n" + section.BEGIN)
    assert md.count(section.BEGIN) == 1 and md.count(section.END) == 1
    assert "160 ± 10" in md and "150 ± 10" not in md and section.SHARED_NOTE in md


def test_rows_of_an_older_version_are_kept_apart_in_cluster_json_and_not_shown(tmp_path):
    old = {k: v for k, v in _row("cluster/4-workers-x1/b128", 4, 90.0).items() if k != "examples_per_s_pi95"}
    (tmp_path / "cluster.json").write_text(json.dumps({"schema": "tfguide-cluster/1", "cluster": [old]}))
    cluster_report.merge_into(tmp_path, [_row("cluster/2-workers-x1/b128", 2, 150.0)], {})
    own = json.loads((tmp_path / "cluster.json").read_text())
    assert [r["name"] for r in own["cluster"]] == ["cluster/2-workers-x1/b128"]
    assert [r["name"] for r in own["older_rows"]] == ["cluster/4-workers-x1/b128"]
    assert "cluster rows cluster/4-workers-x1/b128 were written by an older version" in own["notes"][0]
    assert "cluster/4-workers" not in (tmp_path / "benchmarks.md").read_text()
    # a later run of that size replaces the old row
    cluster_report.merge_into(tmp_path, [_row("cluster/4-workers-x1/b128", 4, 95.0)], {})
    own = json.loads((tmp_path / "cluster.json").read_text())
    assert [r["name"] for r in own["cluster"]] == ["cluster/2-workers-x1/b128", "cluster/4-workers-x1/b128"]
    assert "older_rows" not in own


def test_merging_into_an_unreadable_cluster_json_refuses_and_keeps_it(tmp_path):
    (tmp_path / "cluster.json").write_text('{"cluster": [{"name": "cluster/2-workers-x1/b128", ')  # cut short
    with pytest.raises(cluster_report.Unreadable, match=r"cluster\.json: not a cluster report: not JSON"):
        cluster_report.merge_into(tmp_path, [_row("cluster/1-workers-x1/b128", 1, 100.0)], {})
    assert (tmp_path / "cluster.json").read_text().endswith('b128", ')
    assert not (tmp_path / "benchmarks.md").exists()


def test_compare_divides_cluster_rows_of_the_same_configuration_and_refuses_others(tmp_path, capsys):
    from reports import compare

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    cluster_report.merge_into(a, [_row("cluster/2-workers-x1/b128", 2, 100.0)], {})
    cluster_report.merge_into(b, [_row("cluster/2-workers-x1/b128", 2, 250.0)], {})
    cluster_report.merge_into(c, [_row("cluster/2-workers-x1/b128", 2, 250.0, device_type="GPU")], {})
    assert compare.main([str(a / "cluster.json"), str(b / "cluster.json")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^faster +2\.500 +\[[\d.]+, [\d.]+\] +95 % +cluster +cluster/2-workers-x1/b128 +100 ±10\.0% +250 "
                     r"±4\.0%",
                     out, re.M), out
    assert compare.main([str(a / "cluster.json"), str(c / "cluster.json")]) == 1
    assert "refused: cluster cluster/2-workers-x1/b128: configuration differs (device_type: None vs 'GPU')" in (
        capsys.readouterr().err)


def test_a_pytest_benchmarks_report_leaves_cluster_json_alone_and_the_render_shows_both(tmp_path):
    from benchmarks.harness import Plan, Recorder
    from benchmarks.stats import summarise

    cluster_report.merge_into(tmp_path, [_row("cluster/2-workers-x1/b128", 2, 150.0)], {})
    timing = summarise([1.0] * 5)
    peak = {"best_flop_per_s": 1e11, "median_flop_per_s": 1e11, "cv": 0.0, "method": "test", "timing": timing}
    recorder = Recorder(plan=Plan.for_run(True), progress=lambda line: None)
    recorder.limits = {"copy_bandwidth": {"best_bytes_per_s": 1e10, "median_bytes_per_s": 1e10, "cv": 0.0,
                                          "method": "test", "timing": timing},
                       "matmul_peak": {"/device:CPU:0": {"float32": peak}}, "primary_device": "/device:CPU:0"}
    cluster_json = (tmp_path / "cluster.json").read_bytes()
    bench_report.write(bench_report.build(recorder, {}), tmp_path)
    assert json.loads((tmp_path / "benchmarks.json").read_text())["cluster"] == []   # no carried-over rows
    assert (tmp_path / "cluster.json").read_bytes() == cluster_json
    md = (tmp_path / "benchmarks.md").read_text()
    assert md.startswith("# Benchmarks: the guide's") and md.count(section.BEGIN) == 1 and "150 ± 10" in md
    # a later cluster run replaces its row, and the render keeps the rest of the report
    bench_json = (tmp_path / "benchmarks.json").read_bytes()
    cluster_report.merge_into(tmp_path, [_row("cluster/2-workers-x1/b128", 2, 170.0)], {})
    assert (tmp_path / "benchmarks.json").read_bytes() == bench_json
    md = (tmp_path / "benchmarks.md").read_text()
    assert md.startswith("# Benchmarks: the guide's") and md.count(section.BEGIN) == 1
    assert "170 ± 10" in md and "150 ± 10" not in md
