"""keras.distribute: the recipe's model trained on one CPU device, on logical CPU replicas, on GPUs, and on two
local MultiWorkerMirroredStrategy workers (guide §1.9; `tf.distribute` replaces `tf.contrib.distribute`).

Every configuration runs in a fresh process (benchmarks/distributed_worker.py: the recipe's
`reference.keras_distribute.configure_devices` and communication options, `reference.keras_quickstart`'s
model built in `strategy.scope()`), so logical devices can be configured before TensorFlow starts and the
rows are comparable with each other. Each epoch after the first is a round (at least 6: a 95 % interval).
Scaling efficiency E_N = throughput_N / (N x throughput_1). Logical CPU replicas and two workers on one
machine share the same cores: those rows are labelled functional (the strategy works and what it costs),
not a speed-up. Subprocesses are bounded by a timeout and killed with their process group whatever happens.
These rows are measured once, after the first pass.

steps_per_execution is 1 in every row here: with MirroredStrategy, Keras 3.15's multi-step loop fails
(`INVALID_ARGUMENT: You must feed a value for placeholder tensor 'while/cond/Placeholder'` from
`multi_step_on_iterator`), so the single-device row uses 1 as well to stay comparable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.declaration import Benchmark, sized
from reference import keras_distribute  # noqa: F401 - the recipe whose functions the workers run
from tfguide import launcher

SLOT = "once"  # when it runs (benchmarks/conftest.py)
RECIPE = "keras.distribute"
BENCHMARK = Benchmark(recipe=RECIPE)  # no budget: each row is one worker process's epochs, measured once
GLOBAL_BATCH = 256
STEPS_PER_EXECUTION = 1  # see the module docstring
# 8 epochs: 1 compiling, 1 warm-up, 6 measured (a 95 % interval); a worker process's deadline
SIZES = {"full": {"examples": 10_000, "epochs": 8, "timeout_s": 300.0},
         "quick": {"examples": 2_000, "epochs": 8, "timeout_s": 150.0}}
WORKER_GRACE_S = 30.0     # a worker whose peer failed gets this long to stop by itself before it is killed


def _run(plan, tmp_path: Path, mode: str, replicas: int, tf_configs: list[dict] | None = None) -> dict:
    """One process (or one per TF_CONFIG) with a deadline (tfguide/launcher.py); worker 0's result."""
    size = sized(SIZES, plan)
    cmd = launcher.python("-m", "benchmarks.distributed_worker", "--mode", mode, "--replicas", str(replicas),
                          "--batch", str(GLOBAL_BATCH), "--examples", str(size.examples),
                          "--test-examples", str(plan.test_examples), "--epochs", str(size.epochs))
    tasks = [launcher.Task(cmd, env={"TF_CONFIG": json.dumps(tfc)} if tfc else {}, name=f"{mode}-{i}")
             for i, tfc in enumerate(tf_configs or [None])]
    result = launcher.run(tasks, size.timeout_s, grace_s=WORKER_GRACE_S, log_dir=tmp_path)
    if result.timed_out:
        pytest.fail(f"{mode}: worker did not finish within {size.timeout_s:.0f} s (logs: {tmp_path})")
    assert result.ok, f"{mode} failed:\n" + "\n---\n".join(p.tail() for p in result.processes)
    line = next(ln for ln in result.processes[0].stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _row(plan, recorder, res: dict, *, name: str, strategy: str | None, functional: bool, baseline: dict | None,
         peak_devices: int = 1, limit_device: str | None = None) -> dict:
    row = {"name": name, "recipe": RECIPE, "section": "training", "distributed": True, "model": "quickstart",
           "config": name.split("/", 1)[1], "global_batch": GLOBAL_BATCH,
           "per_replica_batch": GLOBAL_BATCH // res["replicas"], "replicas": res["replicas"], "devices": res["devices"],
           "steps_per_execution": STEPS_PER_EXECUTION, "jit_compile": False, "input": "tf.data", "strategy": strategy,
           "functional": functional, "examples_per_epoch": sized(SIZES, plan).examples,
           "epochs": sized(SIZES, plan).epochs,
           "data": res["data"], "peak_devices": peak_devices, "limit_device": limit_device, "api": res["api"],
           "unit": "examples", "is_guide": False, "worker_threads": res["threads"],
           **{k: res[k] for k in ("compile_and_first_step_s", "accuracy", "accuracy_after", "flops_per_example",
                                  "params")}}
    if baseline is not None:  # E_N is computed in the report from both rows
        row["scaling_efficiency_vs"] = baseline["name"]
    recorder.add_external("training", "keras.distribute", row, res["rounds"])
    return recorder.row(name)


@pytest.fixture(scope="module")
def single_cpu(plan, recorder, tmp_path_factory):
    res = _run(plan, tmp_path_factory.mktemp("single"), "single", 1)
    return _row(plan, recorder, res, name="distribute/cpu-1-device", strategy=None, functional=False, baseline=None)


@pytest.fixture(scope="module")
def single_cpu_loop(plan, recorder, tmp_path_factory):
    res = _run(plan, tmp_path_factory.mktemp("single-loop"), "single-loop", 1)
    return _row(plan, recorder, res, name="distribute/cpu-1-device-custom-loop", strategy=None, functional=False,
                baseline=None)


def test_single_cpu_device(single_cpu):
    assert single_cpu["replicas"] == 1


def test_single_cpu_device_custom_loop(plan, request):
    if plan.quick:
        pytest.skip("--quick: the smoke run starts the single-device and the two-worker processes only")
    assert request.getfixturevalue("single_cpu_loop")["replicas"] == 1


def test_logical_cpu_replicas(plan, recorder, single_cpu, tmp_path):
    if plan.quick:
        pytest.skip("--quick: the smoke run starts the single-device and the two-worker processes only")
    res = _run(plan, tmp_path, "logical", 2)
    assert res["replicas"] == 2
    _row(plan, recorder, res, name="distribute/cpu-2-logical-replicas", strategy="MirroredStrategy",
         functional=True, baseline=single_cpu)


def test_gpus_mirrored(tf, plan, recorder, tmp_path):
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        reason = "no GPU visible to TensorFlow on this machine (scaling efficiency over GPUs needs at least one)"
        recorder.skip("training", "distribute/gpu-mirrored-1..N", reason)
        pytest.skip(reason)
    baseline = None
    for n in range(1, len(gpus) + 1):
        res = _run(plan, tmp_path, "gpus", n)
        row = _row(plan, recorder, res, name=f"distribute/gpu-{n}-mirrored", strategy="MirroredStrategy",
                   functional=False, baseline=baseline, peak_devices=n,
                   limit_device=tf.config.list_logical_devices("GPU")[0].name)
        baseline = baseline or row


def test_two_local_multiworker_workers(plan, recorder, request, tmp_path):
    baseline = None if plan.quick else request.getfixturevalue("single_cpu_loop")
    ports = launcher.free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    configs = [{"cluster": cluster, "task": {"type": "worker", "index": i}} for i in range(2)]
    res = _run(plan, tmp_path, "mwms", 1, configs)
    assert res["replicas"] == 2
    _row(plan, recorder, res, name="distribute/2-local-multiworker-workers", strategy="MultiWorkerMirroredStrategy",
         functional=True, baseline=baseline)
