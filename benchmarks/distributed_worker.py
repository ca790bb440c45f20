"""One training process for bench_keras_distribute.py: `python -m benchmarks.distributed_worker --mode ...`.

Modes: `single` (one CPU device, no strategy, `fit`), `single-loop` (the same with the custom loop that
`mwms` uses, as its baseline), `logical` (the recipe's `reference.keras_distribute.configure_devices`: N
logical CPU devices, which must be configured before TensorFlow initialises - hence a fresh process - and
MirroredStrategy), `gpus` (MirroredStrategy over the first N GPUs), `mwms` (one MultiWorkerMirroredStrategy
worker; TF_CONFIG comes from the parent; the recipe's communication options; a custom training loop,
because Keras 3's `fit` does not support this strategy: keras-team/keras#20585).

Every mode trains the recipe's model, `reference.keras_quickstart.build_model()`, built and compiled inside
`strategy.scope()` as reference.keras_distribute shows. Each epoch after the first is a round. Prints one line
`RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["single", "single-loop", "logical", "gpus", "mwms"], required=True)
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--batch", type=int, required=True, help="global batch")
    ap.add_argument("--examples", type=int, required=True)
    ap.add_argument("--test-examples", type=int, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import numpy as np
    import tensorflow as tf

    from benchmarks.datasets import fashion_mnist
    from benchmarks.machine import fix_threads
    from benchmarks.models import dense_kernels, training_flops_per_example
    from benchmarks.training import SEED, epoch_rounds, run_custom_loop, shuffled_gather_input
    from reference import keras_distribute
    from reference.keras_quickstart import build_model, scale_pixels

    threads = fix_threads(tf)
    strategy, options = None, None
    if args.mode == "logical":
        devices = keras_distribute.configure_devices(tf)[: args.replicas]
        strategy = tf.distribute.MirroredStrategy(devices)
    elif args.mode == "gpus":
        gpus = tf.config.list_logical_devices("GPU")[: args.replicas]
        strategy = tf.distribute.MirroredStrategy([g.name for g in gpus])
    elif args.mode == "mwms":
        communication = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING,
            timeout_seconds=keras_distribute.COLLECTIVE_TIMEOUT_SECONDS)
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=communication)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    images = fashion_mnist(args.examples, args.test_examples)
    tf.keras.utils.set_random_seed(SEED)
    scope_strategy = strategy or tf.distribute.get_strategy()
    with scope_strategy.scope():
        model = build_model()
    t0 = time.perf_counter()
    if args.mode in ("mwms", "single-loop"):
        rounds, marks = run_custom_loop(tf, tf.keras, model=model, x_train=images.x_train, y_train=images.y_train,
                                        batch=args.batch, epochs=args.epochs, strategy=scope_strategy,
                                        dataset_options=options)
        devices = list(scope_strategy.extended.worker_devices) if args.mode == "mwms" else ["/device:CPU:0"]
        api = "custom loop"
    else:
        steps = args.examples // args.batch
        ds = shuffled_gather_input(tf, (images.x_train / np.float32(255.0)).astype(np.float32),
                                   images.y_train.astype(np.int32), args.batch)
        if options is not None:
            ds = ds.with_options(options)
        timer = epoch_rounds(tf.keras, args.batch, steps)
        model.fit(ds, epochs=args.epochs, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        rounds, marks = timer.rounds, timer.epoch_marks
        devices = list(strategy.extended.worker_devices) if strategy else ["/device:CPU:0"]
        api = "fit"
    compile_s = (marks[0]["second"] or time.perf_counter()) - t0
    # model(...) directly: Keras 3's evaluate does not run under MultiWorkerMirroredStrategy either
    probabilities = model(scale_pixels(images.x_test).astype(np.float32), training=False)
    accuracy = float(np.mean(np.argmax(np.asarray(probabilities), axis=1) == images.y_test))
    result = {"rounds": rounds[1:],  # the first epoch traces and warms up
              "replicas": scope_strategy.num_replicas_in_sync, "devices": devices, "data": images.kind,
              "accuracy": float(accuracy), "accuracy_after": f"{args.epochs} epochs of {args.examples:,} examples",
              "compile_and_first_step_s": compile_s, "api": api, "threads": threads,
              "params": int(model.count_params()),
              "flops_per_example": training_flops_per_example(dense_kernels(model))}
    print("RESULT " + json.dumps(result), flush=True)
    if args.mode == "mwms":
        # Out of the collective runtime at once: its teardown takes seconds and is not the recipe's work.
        sys.stdout.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
