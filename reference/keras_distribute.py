"""Guide §1.9: distributed Keras training.

The guide wraps `tf.contrib.distribute.MirroredStrategy()` in `tf.estimator.RunConfig(train_distribute=...)`
and converts the model with `tf.keras.estimator.model_to_estimator`. tf.contrib is gone since TF 2.0,
tf.estimator (with RunConfig) since TF 2.16, and Keras 3 has no model_to_estimator. Today's form:

    strategy = tf.distribute.MirroredStrategy()      # every GPU (or the devices you list)
    with strategy.scope():
        model = build_and_compile()                  # variables become MirroredVariables
    model.fit(x, y, batch_size=GLOBAL_BATCH)         # each replica gets GLOBAL_BATCH / replicas rows

The work below must run in a FRESH process: logical CPU devices (used when there is no GPU) can only be
configured before TensorFlow initialises its runtime, and MultiWorkerMirroredStrategy reads TF_CONFIG and
starts a gRPC server once per process. `python -m reference.keras_distribute mirrored PROBLEM_JSON` and
`... worker PROBLEM_JSON` print one JSON object on stdout; `run_mirrored` / `run_two_workers` launch them.
Without arguments the module runs both on a small problem and prints the weights.

A "problem" is one step of SGD on a linear layer with mean squared error:
{"x": [[...]] (global batch x features), "y": [[...]], "kernel": [[...]], "bias": [...], "learning_rate": lr}.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGICAL_CPUS = 2
COLLECTIVE_TIMEOUT_SECONDS = 60   # a worker whose peer died fails instead of hanging
PROCESS_TIMEOUT_SECONDS = 180     # generous: each process imports TensorFlow on a possibly busy machine


# --- the work, inside a fresh process ----------------------------------------------------------------

def configure_devices(tf) -> list[str]:
    """Every GPU if there are any; else split the CPU into LOGICAL_CPUS devices (before TF initialises)."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * LOGICAL_CPUS)
        return [device.name for device in tf.config.list_logical_devices("CPU")]
    return [device.name for device in tf.config.list_logical_devices("GPU")]


def _tf_variable(tf, weight):
    # Keras 2 weights are tf.Variables; a Keras 3 Variable wraps the tf.Variable (MirroredVariable) in .value.
    return weight if isinstance(weight, tf.Variable) else weight.value


def fit_one_step(tf, problem: dict, strategy=None):
    """Build and compile inside strategy.scope() (the default strategy when None), then fit one batch."""
    import numpy as np

    keras = tf.keras
    x, y = np.asarray(problem["x"], np.float32), np.asarray(problem["y"], np.float32)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = keras.Sequential([keras.Input(shape=(x.shape[1],)), keras.layers.Dense(y.shape[1])])
        model.set_weights([np.asarray(problem["kernel"], np.float32), np.asarray(problem["bias"], np.float32)])
        model.compile(optimizer=keras.optimizers.SGD(problem["learning_rate"]), loss="mse")
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return model


def custom_loop_one_step(tf, problem: dict, strategy) -> tuple:
    """One step of the tf.distribute custom training loop: per-replica gradients of the loss averaged over
    the GLOBAL batch, summed across replicas (all-reduce), applied to the mirrored variables.

    Keras 3's fit does not run under MultiWorkerMirroredStrategy (keras-team/keras#20585), so the
    multi-worker recipe uses this loop, which is plain tf.distribute on every TF/Keras version."""
    import numpy as np

    x, y = np.asarray(problem["x"], np.float32), np.asarray(problem["y"], np.float32)
    global_batch = len(x)
    with strategy.scope():
        kernel = tf.Variable(np.asarray(problem["kernel"], np.float32))
        bias = tf.Variable(np.asarray(problem["bias"], np.float32))
    dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch))

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            per_example = tf.reduce_mean(tf.square(tf.matmul(xb, kernel) + bias - yb), axis=-1)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, [kernel, bias])
        grads = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)
        kernel.assign_sub(problem["learning_rate"] * grads[0])
        bias.assign_sub(problem["learning_rate"] * grads[1])
        return tf.shape(xb)[0]

    @tf.function
    def train_step(batch):
        return strategy.run(replica_step, args=batch)

    rows = [train_step(batch) for batch in dataset]
    local_rows = [int(r) for step in rows for r in strategy.experimental_local_results(step)]
    return kernel, bias, local_rows


# --- the same loop for a compiled Keras model (the guide's quickstart model on a cluster) ---------------

def replica_gradients(tf, model, x, y, global_batch: int):
    """Inside one replica: the model's compiled loss per example, averaged over the GLOBAL batch (so the
    sum of the replicas' gradients is the gradient of the whole batch's mean loss), and its gradients."""
    loss_fn = tf.keras.losses.get(model.loss)
    with tf.GradientTape() as tape:
        per_example = loss_fn(y, model(x, training=True))
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
    return loss, tape.gradient(loss, model.trainable_variables)


def distributed_train_step(tf, strategy, model, global_batch: int):
    """The custom training loop's step for a model built and compiled inside `strategy.scope()`:
    `train_step(batch)` runs `replica_gradients` on every replica, then the compiled optimizer's
    `apply_gradients`, which, called in a replica context, all-reduces (sums) the gradients over every
    replica of every worker before it updates the mirrored variables. Under the default strategy (one
    device, no cluster) it is the plain training step."""
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)

    def replica_step(x, y):
        loss, grads = replica_gradients(tf, model, x, y, global_batch)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(batch):
        return strategy.run(replica_step, args=batch)

    return train_step


def _variable_report(tf, strategy, variable) -> dict:
    components = strategy.experimental_local_results(variable)
    return {"class": type(variable).__name__,
            "distributed": isinstance(variable, tf.distribute.DistributedValues),
            "component_devices": [c.device for c in components],
            "component_values": [c.numpy().tolist() for c in components]}


def mirrored_report(problem: dict) -> dict:
    import tensorflow as tf

    devices = configure_devices(tf)
    gpus = bool(tf.config.list_physical_devices("GPU"))
    # MirroredStrategy() mirrors over every GPU; without GPUs it would take only CPU:0, so list the CPUs.
    strategy = tf.distribute.MirroredStrategy() if gpus else tf.distribute.MirroredStrategy(devices)
    model = fit_one_step(tf, problem, strategy)
    one_device = fit_one_step(tf, problem)
    kernel, bias, _ = custom_loop_one_step(tf, problem, tf.distribute.get_strategy())
    return {
        "gpus": gpus,
        "devices": devices,
        "num_replicas_in_sync": strategy.num_replicas_in_sync,
        "worker_devices": list(strategy.extended.worker_devices),
        "variables": [_variable_report(tf, strategy, _tf_variable(tf, w)) for w in model.weights],
        "iterations": int(model.optimizer.iterations.numpy()),
        "mirrored_weights": [w.tolist() for w in model.get_weights()],
        "one_device_weights": [w.tolist() for w in one_device.get_weights()],
        "one_worker_custom_loop_weights": [kernel.numpy().tolist(), bias.numpy().tolist()],
    }


def worker_report(problem: dict) -> dict:
    import tensorflow as tf

    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=COLLECTIVE_TIMEOUT_SECONDS)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    kernel, bias, local_rows = custom_loop_one_step(tf, problem, strategy)
    # A last collective: no worker leaves while its peer still needs it.
    reached_end = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(1)), axis=None)
    return {
        "task_index": json.loads(os.environ["TF_CONFIG"])["task"]["index"],
        "num_replicas_in_sync": strategy.num_replicas_in_sync,
        "local_batch_rows": local_rows,
        "replicas_at_end": int(reached_end),
        "variable": _variable_report(tf, strategy, kernel),
        "weights": [kernel.numpy().tolist(), bias.numpy().tolist()],
    }


def _main_subprocess(mode: str, problem_json: str) -> None:
    report = {"mirrored": mirrored_report, "worker": worker_report}[mode](json.loads(problem_json))
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    # The result is out; TensorFlow's teardown of its collective/gRPC runtime takes seconds and is not
    # part of the recipe. The kernel closes every socket of the process when it exits.
    os._exit(0)


# --- the guide's own path, where it still exists (TF <= 2.15, Keras 2) -------------------------------

def guide_estimator_path(model, input_fn, model_dir, steps: int = 10):
    """The guide's three steps with tf.distribute.MirroredStrategy in place of tf.contrib's."""
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy()
    config = tf.estimator.RunConfig(train_distribute=strategy)
    keras_estimator = tf.keras.estimator.model_to_estimator(keras_model=model, config=config,
                                                           model_dir=str(model_dir))
    keras_estimator.train(input_fn=input_fn, steps=steps)
    return keras_estimator


# --- launching fresh processes -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(mode: str, problem: dict, **env) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    environment.update({"TF_CPP_MIN_LOG_LEVEL": "2", **env})
    # Files, not pipes: a process blocked on a full pipe that nobody reads yet would stall its peer.
    # They live as long as the process; stop() closes them.
    output, errors = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "reference.keras_distribute", mode, json.dumps(problem)],
                               cwd=ROOT, env=environment, stdout=output, stderr=errors, text=True)
    process.output_files = (output, errors)
    return process


def _read(file) -> str:
    file.seek(0)
    return file.read()


def collect(processes: list[subprocess.Popen], timeout: float) -> list[dict]:
    """Wait for every process (one shared deadline) and return their JSON reports. If one fails or time
    runs out, kill them all at once: a worker whose peer died would otherwise wait for it."""
    deadline = time.monotonic() + timeout
    try:
        while None in [process.poll() for process in processes]:   # polls every process
            failed = [p for p in processes if p.returncode not in (None, 0)]
            if failed or time.monotonic() > deadline:
                raise RuntimeError(_failure(failed[0]) if failed else f"processes still running after {timeout} s")
            time.sleep(0.05)
        outputs = []
        for process in processes:
            output = _read(process.output_files[0]).strip()
            if process.returncode != 0 or not output:
                raise RuntimeError(_failure(process))
            outputs.append(json.loads(output.splitlines()[-1]))
        return outputs
    finally:
        stop(processes)


def _failure(process: subprocess.Popen) -> str:
    return f"{process.args[3]} process exited with {process.returncode}:\n{_read(process.output_files[1])[-3000:]}"


def stop(processes: list[subprocess.Popen]) -> None:
    """Kill whatever still runs and reap every process, so none is left behind."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        for file in process.output_files:
            file.close()


def start_mirrored(problem: dict) -> list[subprocess.Popen]:
    return [_spawn("mirrored", problem)]


def start_two_workers(problem: dict) -> tuple[list[subprocess.Popen], list[int]]:
    """Two MultiWorkerMirroredStrategy workers on 127.0.0.1, one CPU replica each (GPUs hidden)."""
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    try:
        for index in range(2):
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            processes.append(_spawn("worker", problem, TF_CONFIG=tf_config, CUDA_VISIBLE_DEVICES="-1"))
    except BaseException:
        stop(processes)
        raise
    return processes, ports


def run_mirrored(problem: dict, timeout: float = PROCESS_TIMEOUT_SECONDS) -> dict:
    return collect(start_mirrored(problem), timeout)[0]


def run_two_workers(problem: dict, timeout: float = PROCESS_TIMEOUT_SECONDS) -> list[dict]:
    processes, _ = start_two_workers(problem)
    return collect(processes, timeout)


def demo_problem() -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(8, 3)).tolist(), "y": rng.normal(size=(8, 2)).tolist(),
            "kernel": rng.normal(size=(3, 2)).tolist(), "bias": rng.normal(size=(2,)).tolist(),
            "learning_rate": 0.1}


def main() -> None:
    problem = demo_problem()
    mirrored = run_mirrored(problem)
    print(f"MirroredStrategy over {mirrored['worker_devices']}: {mirrored['num_replicas_in_sync']} replicas")
    print(f"  variables: {[v['class'] for v in mirrored['variables']]}")
    print(f"  kernel after one step, {mirrored['num_replicas_in_sync']} replicas: {mirrored['mirrored_weights'][0]}")
    print(f"  kernel after one step, one device:  {mirrored['one_device_weights'][0]}")
    for worker in run_two_workers(problem):
        print(f"MultiWorkerMirroredStrategy worker {worker['task_index']}: "
              f"{worker['num_replicas_in_sync']} replicas, kernel {worker['weights'][0]}")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        _main_subprocess(sys.argv[1], sys.argv[2])
    else:
        main()
