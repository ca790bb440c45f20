"""One training process for bench_keras_distribute.py: `python -m benchmarks.distributed_worker --mode ...`.

Modes: `single` (one CPU device, no strategy, `fit`), `single-loop` (the same with the custom loop that
`mwms` uses, as its baseline), `logical` (N logical CPU devices + MirroredStrategy: they
must be configured before TensorFlow initialises, hence a fresh process), `gpus` (MirroredStrategy over
the first N GPUs), `mwms` (one MultiWorkerMirroredStrategy worker; TF_CONFIG comes from the parent; a custom
training loop, because Keras 3's `fit` does not support this strategy: keras-team/keras#20585).
Prints one line `RESULT {json}` with the timings of benchmarks/training.py.run_fit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["single", "single-loop", "logical", "gpus", "mwms"], required=True)
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--batch", type=int, required=True, help="global batch")
    ap.add_argument("--examples", type=int, required=True)
    ap.add_argument("--test-examples", type=int, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--spe", type=int, required=True)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import tensorflow as tf

    from benchmarks.datasets import fashion_mnist
    from benchmarks.training import run_custom_loop, run_fit

    strategy, options = None, None
    if args.mode == "logical":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.replicas)
        strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(args.replicas)])
    elif args.mode == "gpus":
        gpus = tf.config.list_logical_devices("GPU")[: args.replicas]
        strategy = tf.distribute.MirroredStrategy([g.name for g in gpus])
    elif args.mode == "mwms":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    images = fashion_mnist(args.examples, args.test_examples)
    if args.mode in ("mwms", "single-loop"):
        strategy = strategy or tf.distribute.get_strategy()
        res = run_custom_loop(tf, tf.keras, x_train=images.x_train, y_train=images.y_train, x_test=images.x_test,
                              y_test=images.y_test, batch=args.batch, epochs=args.epochs, warmup=args.warmup,
                              strategy=strategy, dataset_options=options)
        res["replicas"] = strategy.num_replicas_in_sync
        res["devices"] = list(strategy.extended.worker_devices) if args.mode == "mwms" else ["/device:CPU:0"]
        res["data"] = images.kind
        print("RESULT " + json.dumps(res), flush=True)
        return 0
    res = run_fit(tf, tf.keras, model_name="quickstart", x_train=images.x_train, y_train=images.y_train,
                  x_test=images.x_test, y_test=images.y_test, batch=args.batch, epochs=args.epochs,
                  warmup=args.warmup, steps_per_execution=args.spe, jit_compile=False, input_kind="tf.data",
                  strategy=strategy, dataset_options=options)
    res["replicas"] = strategy.num_replicas_in_sync if strategy else 1
    res["devices"] = list(strategy.extended.worker_devices) if strategy else ["/device:CPU:0"]
    res["data"] = images.kind
    print("RESULT " + json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
