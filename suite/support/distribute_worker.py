"""One process of the keras.distribute specs: `python -m suite.support.distribute_worker mirrored|worker PROBLEM_JSON`
runs the recipe (reference/keras_distribute.py) in this fresh process and prints one JSON object: what the
specs check (replicas, devices, the variables' classes and components, the weights after one step).

suite/test_keras_distribute.py starts one `mirrored` process and two `worker` processes (a
MultiWorkerMirroredStrategy cluster on 127.0.0.1, TF_CONFIG from the spec) with tfguide/launcher.py.
"""

from __future__ import annotations

import json
import os
import sys

from reference import keras_distribute as recipe


def _variable_report(tf, strategy, variable) -> dict:
    components = strategy.experimental_local_results(variable)
    return {"class": type(variable).__name__,
            "distributed": isinstance(variable, tf.distribute.DistributedValues),
            "component_devices": [c.device for c in components],
            "component_values": [c.numpy().tolist() for c in components]}


def mirrored_report(problem: dict) -> dict:
    import tensorflow as tf

    strategy, devices = recipe.mirrored_strategy(tf)
    model = recipe.fit_one_step(tf, problem, strategy)
    one_device = recipe.fit_one_step(tf, problem)
    kernel, bias, _ = recipe.custom_loop_one_step(tf, problem, tf.distribute.get_strategy())
    return {
        "gpus": bool(tf.config.list_physical_devices("GPU")),
        "devices": devices,
        "num_replicas_in_sync": strategy.num_replicas_in_sync,
        "worker_devices": list(strategy.extended.worker_devices),
        "variables": [_variable_report(tf, strategy, recipe.keras_variable(tf, w)) for w in model.weights],
        "iterations": int(model.optimizer.iterations.numpy()),
        "mirrored_weights": [w.tolist() for w in model.get_weights()],
        "one_device_weights": [w.tolist() for w in one_device.get_weights()],
        "one_worker_custom_loop_weights": [kernel.numpy().tolist(), bias.numpy().tolist()],
    }


def worker_report(problem: dict) -> dict:
    import tensorflow as tf

    strategy = recipe.multi_worker_strategy(tf)
    kernel, bias, local_rows = recipe.custom_loop_one_step(tf, problem, strategy)
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


def main(mode: str, problem_json: str) -> None:
    report = {"mirrored": mirrored_report, "worker": worker_report}[mode](json.loads(problem_json))
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    # The result is out; TensorFlow's teardown of its collective/gRPC runtime takes seconds and is not
    # part of the recipe. The kernel closes every socket of the process when it exits.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
