"""What a cluster worker measures and checks, with the recipe's code (reference/): the closed-form step,
the guide's model and data path, timed rounds, the step split at its all-reduce, and the collectives that
carry every worker's figures to the chief. Called by worker.py inside a fresh process."""

from __future__ import annotations

import hashlib
import json
import time

from benchmarks.cluster.spec import Cluster

SEED = 1234

def _local(strategy, value):
    return strategy.experimental_local_results(value)


def _sync(tf, strategy, value) -> None:
    """Wait for a step's result on this worker (a host sync)."""
    first = tf.nest.flatten(_local(strategy, value))[0]
    first.numpy()


def closed_form_check(tf, strategy, replicas: int) -> dict:
    """One step of the recipe's multi-worker loop on a linear problem; NumPy gives the exact answer."""
    import numpy as np

    from reference.keras_distribute import custom_loop_one_step

    rng = np.random.default_rng(SEED)
    rows = 4 * replicas
    problem = {"x": rng.normal(size=(rows, 3)).tolist(), "y": rng.normal(size=(rows, 2)).tolist(),
               "kernel": rng.normal(size=(3, 2)).tolist(), "bias": rng.normal(size=(2,)).tolist(),
               "learning_rate": 0.1}
    kernel, bias, local_rows = custom_loop_one_step(tf, problem, strategy)
    x, y, k, b = (np.asarray(problem[key], np.float64) for key in ("x", "y", "kernel", "bias"))
    error = x @ k + b - y
    scale = 2.0 / error.size
    want = [k - 0.1 * scale * x.T @ error, b - 0.1 * scale * error.sum(axis=0)]
    got = [kernel.numpy().astype(np.float64), bias.numpy().astype(np.float64)]
    return {"problem": problem, "weights": [g.tolist() for g in got], "closed_form": [w.tolist() for w in want],
            "local_rows": local_rows, "max_abs_error": float(max(np.max(np.abs(g - w)) for g, w in zip(got, want)))}


def dataset(tf, images, batch: int):
    """The recipes' data path: NumPy arrays -> Dataset.from_tensor_slices, shuffled every epoch (seeded,
    so every worker and the baseline see the same order), repeated, batched, prefetched."""
    import numpy as np

    from reference.data_numpy import from_arrays

    x = (images.x_train / np.float32(255.0)).astype(np.float32)
    y = images.y_train.astype(np.int32)
    return (from_arrays(x, y).shuffle(len(x), seed=SEED, reshuffle_each_iteration=True).repeat()
            .batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


def build(tf, strategy):
    from reference.keras_quickstart import build_model

    tf.keras.utils.set_random_seed(SEED)
    with strategy.scope():
        return build_model()


def timed_round(tf, strategy, step, iterator, steps: int) -> tuple:
    """(begin, step stamps, end) of one round; in eager mode a step's call returns when the step is done."""
    stamps = []
    begin = time.perf_counter()
    for _ in range(steps):
        stamps.append(time.perf_counter())
        out = step(next(iterator))
    _sync(tf, strategy, out)
    return begin, stamps, time.perf_counter()


def round_summary(marks: list[tuple], warmup: int) -> dict:
    """Round 0 compiled (reported apart), then the warm-up rounds, then the measured ones."""
    from benchmarks.stats import quantile

    measured = marks[1 + warmup:]
    per_step = sorted(t1 - t0 for _, stamps, end in measured for t0, t1 in zip(stamps, stamps[1:] + [end]))
    begin, stamps, end = marks[0]
    return {"round_s": [end - begin for begin, _, end in measured], "compile_round_s": end - begin,
            "compile_and_first_step_s": (stamps[1] if len(stamps) > 1 else end) - begin,
            "ms_per_step_p50": 1e3 * quantile(per_step, 0.5), "ms_per_step_p95": 1e3 * quantile(per_step, 0.95),
            "steps_per_round": len(stamps)}


def allreduce_timing(tf, strategy, model, iterator, *, global_batch: int, steps: int) -> dict:
    """The step split at the all-reduce (worker.py's docstring, point 6): one round to trace, one measured.
    The share is the median over the measured steps of all-reduce time / (local + all-reduce time)."""
    import numpy as np

    from benchmarks.stats import quantile
    from reference.keras_distribute import replica_gradients

    @tf.function
    def local_gradients(batch):
        return strategy.run(lambda x, y: replica_gradients(tf, model, x, y, global_batch)[1], args=batch)

    def replica_all_reduce(grads):
        # identity: inputs of a tf.function carry no device, the all-reduce needs them on the replica's
        grads = [tf.identity(g) for g in grads]
        return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)

    @tf.function
    def all_reduce(grads):
        return strategy.run(replica_all_reduce, args=(grads,))

    local_s, reduce_s = [], []
    for measured in (False, True):
        for _ in range(steps):
            t0 = time.perf_counter()
            grads = local_gradients(next(iterator))
            _sync(tf, strategy, grads)
            t1 = time.perf_counter()
            _sync(tf, strategy, all_reduce(grads))
            t2 = time.perf_counter()
            if measured:
                local_s.append(t1 - t0)
                reduce_s.append(t2 - t1)
    nbytes = sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in model.trainable_variables)
    shares = sorted(r / (r + l) for r, l in zip(reduce_s, local_s))
    return {"allreduce_share": quantile(shares, 0.5),
            "allreduce_ms_p50": 1e3 * quantile(sorted(reduce_s), 0.5),
            "allreduce_ms_p95": 1e3 * quantile(sorted(reduce_s), 0.95),
            "local_gradients_ms_p50": 1e3 * quantile(sorted(local_s), 0.5),
            "split_step_ms_p50": 1e3 * quantile(sorted(r + l for r, l in zip(reduce_s, local_s)), 0.5),
            "allreduce_bytes": nbytes, "steps": steps}


def accuracy(model, images) -> float:
    import numpy as np

    x = (images.x_test / np.float32(255.0)).astype(np.float32)
    probs = np.asarray(model(x, training=False))
    return float(np.mean(np.argmax(probs, axis=1) == images.y_test))


def gather_rows(tf, strategy, row: list[float]):
    """Every worker's numbers, on every worker, through the strategy's own all-gather (float64)."""
    import numpy as np

    local = tf.constant([row], tf.float64)
    values = strategy.experimental_distribute_values_from_function(lambda ctx: local)
    return np.asarray(strategy.gather(values, axis=0))


def barrier(tf, strategy) -> int:
    ones = strategy.experimental_distribute_values_from_function(lambda ctx: tf.constant(1.0))
    return int(strategy.reduce(tf.distribute.ReduceOp.SUM, ones, axis=None))


def spec_hash(cluster: Cluster) -> int:
    """48 bits of a digest of the cluster every worker resolved (exact in a float64)."""
    view = {"jobs": cluster.jobs, "chief": list(cluster.chief)}
    return int(hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()[:12], 16)
