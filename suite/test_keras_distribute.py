"""keras.distribute (guide §1.9): MirroredStrategy training, and what became of the guide's
tf.contrib.distribute / RunConfig(train_distribute=...) / model_to_estimator path.

The distributed work runs in fresh processes (suite/support/distribute_worker.py runs the recipe of
reference/keras_distribute.py there; tfguide/launcher.py starts them): logical CPU devices must be configured
before TensorFlow initialises, and each MultiWorkerMirroredStrategy worker is its own process on 127.0.0.1.
Expected weights are one step of SGD on mean squared error, computed here with NumPy."""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
from dataclasses import dataclass

import numpy as np
import pytest

from reference import keras_distribute as recipe
from suite.support.helpers import KERAS3, SEED, TF_VERSION, keras, tf
from tfguide import launcher

pytestmark = pytest.mark.recipe("keras.distribute")

GPUS = len(tf.config.list_physical_devices("GPU"))
# MirroredStrategy spans every GPU; without one, the CPU is split into this many logical devices.
REPLICAS = GPUS or recipe.LOGICAL_CPUS
DEVICES = [f"GPU:{i}" for i in range(GPUS)] if GPUS else [f"CPU:{i}" for i in range(recipe.LOGICAL_CPUS)]
ROWS_PER_REPLICA = 4
LEARNING_RATE = 0.1
PROCESS_TIMEOUT_SECONDS = 180     # generous: each process imports TensorFlow on a possibly busy machine

# What each version did with the guide's API (release notes: tf.contrib removed in 2.0, tf.estimator in
# 2.16; Keras 3 has no tf.keras.estimator; tf_keras keeps a model_to_estimator that refuses to run).
CONTRIB_ERROR = (AttributeError, "module 'tensorflow' has no attribute 'contrib'")
ESTIMATOR_GONE = TF_VERSION >= (2, 16)
MODEL_TO_ESTIMATOR_ERROR = {
    "keras 3": (AttributeError, "has no attribute 'estimator'"),
    "tf_keras without tf.estimator": (NotImplementedError, "model_to_estimator function not available"),
    "keras 2 with tf.estimator": None,
}["keras 3" if KERAS3 else "tf_keras without tf.estimator" if ESTIMATOR_GONE else "keras 2 with tf.estimator"]


def sgd_step(x, y, kernel, bias, lr):
    """One SGD step on mean((x @ kernel + bias - y)^2) over every row and output of the batch."""
    error = x @ kernel + bias - y
    scale = 2.0 / error.size
    return kernel - lr * scale * x.T @ error, bias - lr * scale * error.sum(axis=0)


def short_name(device: str) -> str:
    """'/job:localhost/replica:0/task:0/device:CPU:1' -> 'CPU:1'."""
    return device.rsplit("device:", 1)[-1]


@dataclass
class Runs:
    problem: dict
    mirrored: dict
    workers: list
    processes: list   # [{"pid", "returncode"}] of the three processes
    ports: list


def launch_all(problem: dict) -> dict:
    """The mirrored process and the two workers at once (each spends seconds importing TensorFlow); if one
    fails, the others are killed at once: a worker whose peer died would otherwise wait for it."""
    ports = launcher.free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    command = launcher.python("-m", "suite.support.distribute_worker")
    tasks = [launcher.Task([*command, "mirrored", json.dumps(problem)], name="mirrored")]
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        tasks.append(launcher.Task([*command, "worker", json.dumps(problem)], name=f"worker-{index}",
                                   env={"TF_CONFIG": tf_config, "CUDA_VISIBLE_DEVICES": "-1"}))  # a CPU replica each
    result = launcher.run(tasks, PROCESS_TIMEOUT_SECONDS, grace_s=0.0)
    if not result.ok or not all(p.stdout.strip() for p in result.processes):
        raise RuntimeError(result.failure())
    reports = [json.loads(p.stdout.strip().splitlines()[-1]) for p in result.processes]
    return {"problem": problem, "mirrored": reports[0],
            "workers": sorted(reports[1:], key=lambda r: r["task_index"]),
            "processes": [{"pid": p.pid, "returncode": p.returncode} for p in result.processes],
            "ports": ports}


def once_per_test_run(tmp_path_factory, name: str, compute):
    """Under pytest-xdist, compute once for all workers (the others wait and read the JSON result)
    instead of once per worker that received one of this module's specs."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    try:
        import fcntl
    except ImportError:   # not POSIX: every worker computes its own
        run_id = None
    if not run_id:
        return compute()
    path = tmp_path_factory.getbasetemp().parent / f"{name}-{run_id}.json"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            path.write_text(json.dumps(compute()))
        return json.loads(path.read_text())


def make_problem() -> dict:
    rng = np.random.default_rng(SEED)
    rows = ROWS_PER_REPLICA * max(REPLICAS, 2)
    return {"x": rng.normal(size=(rows, 3)).tolist(), "y": rng.normal(size=(rows, 2)).tolist(),
            "kernel": rng.normal(size=(3, 2)).tolist(), "bias": rng.normal(size=(2,)).tolist(),
            "learning_rate": LEARNING_RATE}


def _compute(tmp_path_factory) -> dict:
    return once_per_test_run(tmp_path_factory, "keras_distribute", lambda: launch_all(make_problem()))


_EARLY: list = []   # the run started at collection (start_early), for the `runs` fixture to take over


def start_early(config) -> None:
    """Called by suite/conftest.py once the run is known to include this module: the three processes spend ~10 s
    importing TensorFlow, which then overlaps the specs before this module (on the core they leave idle)
    instead of stalling its first spec. A thread waits for them; they end by PROCESS_TIMEOUT_SECONDS whatever
    happens to the run (the interpreter joins the thread at exit)."""
    factory = config._tmp_path_factory
    # Made here, in the main thread: the first getbasetemp() of a process (re)creates the directory, and under
    # pytest-xdist it empties it first, so a first call from the thread could wipe the files of a spec running then.
    factory.getbasetemp()
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="keras-distribute")
    _EARLY.append(pool.submit(_compute, factory))
    pool.shutdown(wait=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return Runs(**(_EARLY.pop().result() if _EARLY else _compute(tmp_path_factory)))


def expected_weights(problem: dict):
    return sgd_step(*(np.asarray(problem[k], np.float64) for k in ("x", "y", "kernel", "bias")),
                    problem["learning_rate"])


# --- MirroredStrategy ----------------------------------------------------------------------------------

def test_mirrored_strategy_has_one_replica_per_device(runs, recipe_note):
    mirrored = runs.mirrored
    assert [short_name(d) for d in mirrored["devices"]] == DEVICES
    assert [short_name(d) for d in mirrored["worker_devices"]] == DEVICES
    assert mirrored["num_replicas_in_sync"] == len(DEVICES)
    kind = f"{GPUS} GPU(s)" if GPUS else f"{REPLICAS} logical CPU devices (no GPU here)"
    recipe_note(f"MirroredStrategy ran over {kind}; MultiWorkerMirroredStrategy over 2 worker processes.")


def test_variables_built_in_scope_are_mirrored_variables_with_one_equal_component_per_device(runs):
    mirrored = runs.mirrored
    assert len(mirrored["variables"]) == 2   # kernel and bias
    for variable in mirrored["variables"]:
        assert variable["class"] == "MirroredVariable"
        assert variable["distributed"] is True
        assert variable["component_devices"] == mirrored["worker_devices"]
        first = variable["component_values"][0]
        assert all(value == first for value in variable["component_values"]), (
            f"the components of a MirroredVariable differ across devices: {variable['component_values']}")


def summed_over_replicas(runs) -> None:
    """Name the wrong values that known defects give: the replicas' gradients summed, not averaged (each
    replica's mean loss not divided by the number of replicas, keras-team/keras#19891), i.e. one SGD step
    with the learning rate times the number of replicas; or not combined at all (each replica applies its
    own, keras-team/keras#20051), i.e. the first replica's weights took a step on its share of the batch."""
    n = runs.mirrored["num_replicas_in_sync"]
    if n < 2:
        return

    def matches(problem):
        return all(np.allclose(got, want, rtol=1e-5, atol=1e-6)
                   for got, want in zip(runs.mirrored["mirrored_weights"], expected_weights(problem)))

    if matches(dict(runs.problem, learning_rate=runs.problem["learning_rate"] * n)):
        raise AssertionError(f"the mirrored step summed the gradients of the {n} replicas instead of averaging "
                             "them over the global batch")
    share = len(runs.problem["x"]) // n
    if matches(dict(runs.problem, x=runs.problem["x"][:share], y=runs.problem["y"][:share])):
        raise AssertionError(f"the mirrored step used only the first replica's share of the batch ({share} of "
                             f"{len(runs.problem['x'])} rows): the {n} replicas' gradients were not combined")


def test_one_step_on_n_replicas_with_the_global_batch_equals_one_step_on_one_device(runs):
    assert runs.mirrored["iterations"] == 1
    summed_over_replicas(runs)
    for got, want in zip(runs.mirrored["mirrored_weights"], runs.mirrored["one_device_weights"]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_the_mirrored_step_is_sgd_on_the_mean_loss_of_the_whole_global_batch(runs):
    # Gradients averaged over the GLOBAL batch (not summed over replicas, not per-replica means alone).
    summed_over_replicas(runs)
    for got, want in zip(runs.mirrored["mirrored_weights"], expected_weights(runs.problem)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not GPUS, reason="no GPU on this machine: MirroredStrategy() was run over "
                                     f"{recipe.LOGICAL_CPUS} logical CPU devices instead")
def test_default_mirrored_strategy_spans_every_gpu(runs):
    # MirroredStrategy() without a device list: the subprocess passed none when it saw GPUs.
    assert runs.mirrored["gpus"] is True
    assert [short_name(d) for d in runs.mirrored["worker_devices"]] == [f"GPU:{index}" for index in range(GPUS)]


# --- MultiWorkerMirroredStrategy -----------------------------------------------------------------------

def test_two_worker_processes_form_one_cluster_of_two_replicas_splitting_the_global_batch(runs):
    rows = len(runs.problem["x"])
    assert [w["task_index"] for w in runs.workers] == [0, 1]
    for worker in runs.workers:
        assert worker["num_replicas_in_sync"] == 2
        assert worker["local_batch_rows"] == [rows // 2]
        assert worker["replicas_at_end"] == 2   # a final all-reduce over both workers


def test_multi_worker_variables_are_mirrored_with_one_local_component(runs):
    for worker in runs.workers:
        assert worker["variable"]["class"] == "MirroredVariable"
        assert len(worker["variable"]["component_devices"]) == 1


def test_two_workers_end_with_the_weights_of_one_worker_on_the_whole_batch(runs):
    one_worker = runs.mirrored["one_worker_custom_loop_weights"]
    closed_form = expected_weights(runs.problem)
    for worker in runs.workers:
        for got, want, exact in zip(worker["weights"], one_worker, closed_form):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-6)


def test_no_worker_process_or_port_is_left_behind(runs):
    assert len(runs.processes) == 3
    for process in runs.processes:
        assert process["returncode"] == 0
        with pytest.raises(ProcessLookupError):
            os.kill(process["pid"], 0)
    for port in runs.ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


# --- the guide's tf.contrib / RunConfig / model_to_estimator path --------------------------------------

def test_tf_contrib_distribute_is_gone_raising_attribute_error():
    exc_type, message = CONTRIB_ERROR
    with pytest.raises(exc_type, match=message):
        tf.contrib.distribute.MirroredStrategy()


def run_config_is_gone():
    with pytest.raises(AttributeError, match="module 'tensorflow' has no attribute 'estimator'"):
        _ = tf.estimator.RunConfig


def run_config_takes_the_strategy():
    strategy = tf.distribute.MirroredStrategy()
    assert tf.estimator.RunConfig(train_distribute=strategy).train_distribute is strategy


RUN_CONFIG = run_config_is_gone if ESTIMATOR_GONE else run_config_takes_the_strategy


@pytest.mark.parametrize("expected", [RUN_CONFIG], ids=lambda check: check.__name__)
def test_run_config_takes_a_tf_distribute_strategy_until_tf_2_15_and_is_gone_from_2_16(expected):
    expected()


def model_to_estimator_refuses(model, tmp_path):
    exc_type, message = MODEL_TO_ESTIMATOR_ERROR
    with pytest.raises(exc_type, match=message):
        keras.estimator.model_to_estimator(keras_model=model, model_dir=str(tmp_path))


def model_to_estimator_trains_sgd_steps(model, tmp_path):
    # TF 2.15: the guide's path (MirroredStrategy from tf.distribute) trains 10 SGD steps of batch 4.
    model.compile(optimizer=keras.optimizers.legacy.SGD(LEARNING_RATE), loss="mse")
    kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    x = np.random.default_rng(SEED).normal(size=(16, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    estimator = recipe.guide_estimator_path(
        model, lambda: tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat().batch(4), tmp_path, steps=10)
    for step in range(10):
        rows = slice(4 * (step % 4), 4 * (step % 4) + 4)
        kernel, bias = sgd_step(x[rows].astype(np.float64), y[rows], kernel, bias, LEARNING_RATE)
    prefix = "layer_with_weights-0/{}/.ATTRIBUTES/VARIABLE_VALUE"
    assert estimator.get_variable_value("estimator_global_step/.ATTRIBUTES/VARIABLE_VALUE") == 10
    np.testing.assert_allclose(estimator.get_variable_value(prefix.format("kernel")), kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(estimator.get_variable_value(prefix.format("bias")), bias, rtol=1e-5, atol=1e-6)


MODEL_TO_ESTIMATOR = model_to_estimator_refuses if MODEL_TO_ESTIMATOR_ERROR else model_to_estimator_trains_sgd_steps


@pytest.mark.parametrize("expected", [MODEL_TO_ESTIMATOR], ids=lambda check: check.__name__)
def test_model_to_estimator_trains_with_mirrored_strategy_where_it_exists(tmp_path, expected):
    expected(keras.Sequential([keras.Input(shape=(3,), name="x"), keras.layers.Dense(1)]), tmp_path)


@pytest.fixture(autouse=True)
def _seeded_fresh_keras():
    """Overrides suite/conftest.py's fixture: the distributed models live in other processes, and
    keras.backend.clear_session() costs a full gc.collect() per spec. Seeds are still set per spec."""
    keras.utils.set_random_seed(SEED)
    yield
