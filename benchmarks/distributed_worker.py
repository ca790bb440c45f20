"""One training process for benchmarks/recipes/keras_distribute.py:
`python -m benchmarks.distributed_worker --mode ...`.

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


MODES = ("single", "single-loop", "logical", "gpus", "mwms")
CUSTOM_LOOP = ("mwms", "single-loop")   # Keras 3's fit does not run under MultiWorkerMirroredStrategy


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.distributed_worker")
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--batch", type=int, required=True, help="global batch")
    ap.add_argument("--examples", type=int, required=True)
    ap.add_argument("--test-examples", type=int, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    return ap.parse_args(argv)


def strategy_for(tf, mode: str, replicas: int):
    """The mode's strategy, from the recipe (None: no strategy, the default one)."""
    from reference import keras_distribute

    if mode == "logical":
        return tf.distribute.MirroredStrategy(keras_distribute.configure_devices(tf)[:replicas])
    if mode == "gpus":
        return tf.distribute.MirroredStrategy([g.name for g in tf.config.list_logical_devices("GPU")[:replicas]])
    if mode == "mwms":
        return keras_distribute.multi_worker_strategy(tf)
    return None


def train(tf, args, model, images, strategy, options) -> tuple[list, list, list, str]:
    """Train `args.epochs` epochs, each a round: (rounds, epoch marks, devices, API)."""
    import numpy as np

    from benchmarks.training import epoch_rounds, run_custom_loop, shuffled_gather_input

    scope_strategy = strategy or tf.distribute.get_strategy()
    if args.mode in CUSTOM_LOOP:
        rounds, marks = run_custom_loop(tf, tf.keras, model=model, x_train=images.x_train, y_train=images.y_train,
                                        batch=args.batch, epochs=args.epochs, strategy=scope_strategy,
                                        dataset_options=options)
        devices = list(scope_strategy.extended.worker_devices) if args.mode == "mwms" else ["/device:CPU:0"]
        return rounds, marks, devices, "custom loop"
    steps = args.examples // args.batch
    ds = shuffled_gather_input(tf, (images.x_train / np.float32(255.0)).astype(np.float32),
                               images.y_train.astype(np.int32), args.batch)
    if options is not None:
        ds = ds.with_options(options)
    timer = epoch_rounds(tf.keras, args.batch, steps)
    model.fit(ds, epochs=args.epochs, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    devices = list(strategy.extended.worker_devices) if strategy else ["/device:CPU:0"]
    return timer.rounds, timer.epoch_marks, devices, "fit"


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import numpy as np
    import tensorflow as tf

    from benchmarks.datasets import fashion_mnist
    from benchmarks.machine import fix_threads
    from benchmarks.models import dense_kernels, training_flops_per_example
    from benchmarks.training import SEED
    from reference.keras_quickstart import build_model, scale_pixels

    threads = fix_threads(tf)
    strategy = strategy_for(tf, args.mode, args.replicas)
    options = None
    if args.mode == "mwms":
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    images = fashion_mnist(args.examples, args.test_examples)
    tf.keras.utils.set_random_seed(SEED)
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_model()
    t0 = time.perf_counter()
    rounds, marks, devices, api = train(tf, args, model, images, strategy, options)
    compile_s = (marks[0]["second"] or time.perf_counter()) - t0
    # model(...) directly: Keras 3's evaluate does not run under MultiWorkerMirroredStrategy either
    probabilities = model(scale_pixels(images.x_test).astype(np.float32), training=False)
    accuracy = float(np.mean(np.argmax(np.asarray(probabilities), axis=1) == images.y_test))
    result = {"rounds": rounds[1:],  # the first epoch traces and warms up
              "replicas": (strategy or tf.distribute.get_strategy()).num_replicas_in_sync, "devices": devices,
              "data": images.kind, "accuracy": accuracy,
              "accuracy_after": f"{args.epochs} epochs of {args.examples:,} examples",
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
