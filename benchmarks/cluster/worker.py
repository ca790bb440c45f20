"""One worker of the cluster benchmark: what `python -m benchmarks.cluster` does on each host.

1. Resolve the cluster (TF_CONFIG or Slurm, benchmarks/cluster/spec.py); refuse bad input with one line
   and exit status 2 before anything starts.
2. Configure TensorFlow's coordination service exactly as MultiWorkerMirroredStrategy would (same leader,
   same jobs), plus the bounds: every task must register within --connect-timeout (a registration
   barrier), and a task that stops sending heartbeats for --heartbeat-timeout is declared gone and every
   worker's collectives are aborted. Then create the strategy.
3. Check the cluster: one step of the recipe's custom loop (reference/keras_distribute.custom_loop_one_step)
   on a small linear problem, whose result has a closed form.
4. Build two copies of the guide's quickstart model (reference/keras_quickstart.build_model), each trained
   by the recipe's custom loop (reference/keras_distribute.distributed_train_step; Keras 3's `fit` does not
   run under MultiWorkerMirroredStrategy: keras-team/keras#20585) on the recipes' tf.data path
   (reference/data_numpy.from_arrays, shuffled, batched): the baseline, this worker alone (its own
   device(s), no cluster, the same per-replica batch), and the cluster model, built in the strategy's scope
   and fed the global batch sharded by the strategy.
5. Rounds of --steps steps, alternating: a baseline round, then a cluster round, so a change of the
   machine's load hits both alike. A barrier (not timed) starts every worker's baseline round together, so
   workers sharing a host share it in the baseline as they do in the cluster run. Round 1 compiles
   (reported apart), then the warm-up rounds, then the measured ones.
6. The all-reduce's share of a step: the same step split in two, each half ended by a host sync: the local
   gradients (input, forward, backward), then the very all-reduce Keras's optimizer performs (a SUM over
   every replica of the same gradient tensors). Its median over a round, divided by the median step time
   of the measured rounds. It includes waiting for the slowest worker: that is time a worker spends in
   the all-reduce.
7. Every worker's figures travel to the chief through the strategy's own all-gather; the chief writes the
   report (benchmarks/cluster/report.py, reports/cluster.py). A final all-reduce: nobody leaves while a
   peer still needs it.

Exit status: 0 done; 2 bad input (nothing trained); 3 a task of the cluster went away (one line naming
it); 1 anything else (one line, details in this task's log).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.cluster import spec as cluster_spec
from benchmarks.cluster.failures import PeerLost, run_error, startup_error
from benchmarks.cluster.spec import BadInput, Cluster

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_PEER_LOST = 0, 1, 2, 3
SEED = 1234
# Full measurement and CI smoke run (--quick); every figure can be set on the command line.
DEFAULTS = {False: {"steps": 100, "examples": 60_000, "test_examples": 10_000},
            True: {"steps": 20, "examples": 8_192, "test_examples": 2_000}}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2 (argparse would print the usage too)
        raise BadInput(f"{self.prog}: {message}")


def parse_args(argv=None) -> argparse.Namespace:
    from benchmarks.harness import CV_FLAG, MIN_ROUNDS

    ap = _Parser(prog="python -m benchmarks.cluster",
                 description="Run on every host of a cluster (one process per worker): the guide's model trained "
                             "with MultiWorkerMirroredStrategy; the chief writes the report.")
    ap.add_argument("--cluster", choices=("auto", "tfconfig", "slurm"), default="auto",
                    help="where the cluster comes from (auto: TF_CONFIG if set, else Slurm's SLURM_* variables)")
    ap.add_argument("--port-base", type=int, default=cluster_spec.DEFAULT_PORT_BASE,
                    help="Slurm: port of each node's first task; the k-th task of a node uses port-base + k")
    ap.add_argument("--gpus-per-task", type=int, default=0, help="Slurm: GPUs per task (0: CPU only)")
    ap.add_argument("--per-replica-batch", type=int, default=128)
    ap.add_argument("--steps", type=int, help="steps per round (default 100, --quick 20)")
    ap.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"measured rounds (at least {MIN_ROUNDS})")
    ap.add_argument("--warmup", type=int, default=1, help="warm-up rounds after the compile round")
    ap.add_argument("--examples", type=int, help="training examples in memory (default 60000, --quick 8192)")
    ap.add_argument("--quick", action="store_true", help="a smoke run (CI): fewer steps and examples")
    ap.add_argument("--report-dir", type=Path, default=Path("reports"))
    ap.add_argument("--run-dir", type=Path, help="this run's per-task logs and results "
                                                  "(default REPORT_DIR/cluster-runs/<N>-workers)")
    ap.add_argument("--connect-timeout", type=float, default=300.0,
                    help="seconds every task has to join the cluster (the registration barrier)")
    ap.add_argument("--heartbeat-timeout", type=float, default=10.0,
                    help="seconds without heartbeats after which a task counts as gone")
    ap.add_argument("--save-weights", action="store_true", help="also write each task's final weights (.npz)")
    args = ap.parse_args(argv)
    for key, value in DEFAULTS[args.quick].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for name in ("per_replica_batch", "steps", "examples", "rounds"):
        if getattr(args, name) < 1:
            raise BadInput(f"{ap.prog}: --{name.replace('_', '-')} must be at least 1")
    if args.rounds < MIN_ROUNDS:
        raise BadInput(f"{ap.prog}: --rounds must be at least {MIN_ROUNDS} (the benchmarks' method)")
    if args.warmup < 0 or args.connect_timeout <= 0 or args.heartbeat_timeout <= 0:
        raise BadInput(f"{ap.prog}: --warmup must be >= 0 and the timeouts > 0")
    args.cv_flag = CV_FLAG
    return args


# -- before TensorFlow ------------------------------------------------------------------------------

def _early_identity(source: str) -> tuple[str, int, Cluster | None]:
    """(task name for the log file, cluster size, the TF_CONFIG cluster), read without TensorFlow."""
    if source == "tfconfig":
        parsed = cluster_spec.parse_tf_config(os.environ.get("TF_CONFIG", ""))
        return f"{parsed.task_type}-{parsed.task_index}", parsed.num_workers, parsed
    env = cluster_spec._slurm_env(os.environ)
    return f"worker-{env['SLURM_PROCID']}", int(env["SLURM_STEP_NUM_TASKS"]), None


def _redirect_stderr(log: Path):
    """TensorFlow's own log (C++ and Python) goes to the task's log file; our lines keep the terminal."""
    log.parent.mkdir(parents=True, exist_ok=True)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    return terminal


# -- TensorFlow's distributed runtime -------------------------------------------------------------------

def configure_coordination(tf, resolver, connect_timeout_s: float, heartbeat_timeout_s: float) -> None:
    """What MultiWorkerMirroredStrategy configures when nothing is configured yet (collective_all_reduce_
    strategy.py, TF 2.21: service "standalone", leader = chief or worker 0, jobs chief/worker), plus the
    bounds. The strategy then keeps this configuration and relies on the service's heartbeats (it turns
    its own Python health-check thread off when the service is on)."""
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context

    try:
        from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    except ImportError:  # older TensorFlow
        from tensorflow.core.protobuf import coordination_config_pb2

    spec = resolver.cluster_spec()
    ctx = context.context()
    ctx.configure_coordination_service(
        service_type="standalone", service_leader=multi_worker_util.coordination_leader(spec),
        cluster_register_timeout_in_ms=int(connect_timeout_s * 1000),
        heartbeat_timeout_in_ms=int(heartbeat_timeout_s * 1000),
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=spec.num_tasks(job))
                          for job in ("chief", "worker") if job in spec.jobs])
    config = ctx.coordination_service
    # Without the barrier the chief would wait for a missing task up to TensorFlow's device-propagation
    # timeout (an hour); with it, registration fails after the timeout naming the tasks that never came.
    if "cluster_register_with_barrier" in config.DESCRIPTOR.fields_by_name:
        config.cluster_register_with_barrier = True


def make_strategy(tf, resolver):
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


# -- the work -----------------------------------------------------------------------------------------------

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
    from benchmarks.harness import quantile

    measured = marks[1 + warmup:]
    per_step = sorted(t1 - t0 for _, stamps, end in measured for t0, t1 in zip(stamps, stamps[1:] + [end]))
    begin, stamps, end = marks[0]
    return {"round_s": [end - begin for begin, _, end in measured], "compile_round_s": end - begin,
            "compile_and_first_step_s": (stamps[1] if len(stamps) > 1 else end) - begin,
            "ms_per_step_p50": 1e3 * quantile(per_step, 0.5), "ms_per_step_p95": 1e3 * quantile(per_step, 0.95),
            "steps_per_round": len(stamps)}


def allreduce_timing(tf, strategy, model, iterator, *, global_batch: int, steps: int) -> dict:
    """The step split at the all-reduce (module docstring, point 6): one round to trace, one measured."""
    import numpy as np

    from benchmarks.harness import quantile
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
    return {"allreduce_ms_p50": 1e3 * quantile(sorted(reduce_s), 0.5),
            "allreduce_ms_p95": 1e3 * quantile(sorted(reduce_s), 0.95),
            "local_gradients_ms_p50": 1e3 * quantile(sorted(local_s), 0.5),
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


# -- the whole run ---------------------------------------------------------------------------------------------

GATHERED = ("worker", "spec_hash", "baseline_examples_per_s", "step_ms_p50", "allreduce_ms_p50",
            "local_gradients_ms_p50", "weights_sum", "closed_form_max_abs_error")


def run(args) -> int:
    import numpy as np
    import tensorflow as tf

    from benchmarks.datasets import fashion_mnist
    from reference.keras_distribute import distributed_train_step

    resolver, cluster = cluster_spec.resolve(tf, args.cluster, args.port_base, args.gpus_per_task)
    cluster_spec.check_port_free(cluster)
    chief = cluster.is_chief

    def say(text: str) -> None:
        if chief:
            print(f"[cluster] {text}", flush=True)

    say(f"{cluster.task} of {cluster.num_workers} ({cluster.source}): {json.dumps(cluster.jobs)}; waiting up "
        f"to {args.connect_timeout:g} s for every task to join")
    configure_coordination(tf, resolver, args.connect_timeout, args.heartbeat_timeout)
    try:
        strategy = make_strategy(tf, resolver)
    except tf.errors.OpError as exc:
        raise startup_error(exc, cluster, args.connect_timeout) from None
    replicas = strategy.num_replicas_in_sync
    per_worker = replicas // cluster.num_workers
    b = args.per_replica_batch
    global_batch = b * replicas
    device_type = strategy.extended._local_device_type if hasattr(strategy.extended, "_local_device_type") else "?"
    say(f"joined: {cluster.num_workers} worker(s) x {per_worker} replica(s) ({device_type}), per-replica batch "
        f"{b}, global batch {global_batch}")
    result = {"cluster": cluster.as_dict(), "spec_hash": spec_hash(cluster), "replicas": replicas,
              "replicas_per_worker": per_worker, "worker_devices": list(strategy.extended.worker_devices),
              "device_type": device_type}
    phase = "the closed-form check"
    try:
        check = closed_form_check(tf, strategy, replicas)
        result["closed_form_check"] = check
        say(f"closed-form check (one step of the recipe's loop on a linear problem): max abs error "
            f"{check['max_abs_error']:.2e}")

        images = fashion_mnist(args.examples, args.test_examples)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA

        phase = "building the models"
        local_strategy = (tf.distribute.MirroredStrategy(list(strategy.extended.worker_devices)) if per_worker > 1
                          else tf.distribute.get_strategy())
        base_model = build(tf, local_strategy)
        base_step = distributed_train_step(tf, local_strategy, base_model, b * per_worker)
        base_ds = dataset(tf, images, b * per_worker)
        base_iter = iter(local_strategy.experimental_distribute_dataset(base_ds) if per_worker > 1 else base_ds)
        model = build(tf, strategy)
        step = distributed_train_step(tf, strategy, model, global_batch)
        iterator = iter(strategy.experimental_distribute_dataset(
            dataset(tf, images, global_batch).with_options(options)))

        phase = "training"
        # Baseline and cluster rounds alternate, so that a change of the machine's load hits both alike; a
        # barrier (not timed) starts every worker's baseline round together, so baselines overlap as the
        # workers' shares of a cluster step do.
        marks = {"baseline": [], "cluster": []}
        total = 1 + args.warmup + args.rounds
        for r in range(total):
            barrier(tf, strategy)
            marks["baseline"].append(timed_round(tf, local_strategy, base_step, base_iter, args.steps))
            marks["cluster"].append(timed_round(tf, strategy, step, iterator, args.steps))
            (b0, _, b1), (c0, _, c1) = marks["baseline"][-1], marks["cluster"][-1]
            kind = "compile" if r == 0 else "warm-up" if r <= args.warmup else "measured"
            say(f"round {r + 1}/{total} ({kind}): this worker alone {b1 - b0:.3f} s, the cluster {c1 - c0:.3f} s")
        baseline = round_summary(marks["baseline"], args.warmup)
        baseline["examples_per_s"] = args.steps * b * per_worker / float(np.median(baseline["round_s"]))
        result["baseline"] = baseline
        train = round_summary(marks["cluster"], args.warmup)
        weights = [np.asarray(w) for w in model.get_weights()]
        result["train"] = train
        result["weights_sum"] = float(sum(np.sum(w, dtype=np.float64) for w in weights))
        if args.save_weights:
            args.run_dir.mkdir(parents=True, exist_ok=True)
            np.savez(args.run_dir / f"{cluster.task_type}-{cluster.task_index}.weights.npz", *weights)

        phase = "the all-reduce timing"
        result["allreduce"] = allreduce_timing(tf, strategy, model, iterator, global_batch=global_batch,
                                               steps=args.steps)
        say(f"all-reduce of {result['allreduce']['allreduce_bytes']:,} bytes: "
            f"{result['allreduce']['allreduce_ms_p50']:.3f} ms p50, step {train['ms_per_step_p50']:.3f} ms p50")

        phase = "gathering the results"
        task_number = [t[:2] for t in cluster.tasks()].index((cluster.task_type, cluster.task_index))
        mine = [task_number, result["spec_hash"], baseline["examples_per_s"], train["ms_per_step_p50"],
                result["allreduce"]["allreduce_ms_p50"], result["allreduce"]["local_gradients_ms_p50"],
                result["weights_sum"], check["max_abs_error"]]
        rows = gather_rows(tf, strategy, mine)
        per_task = {int(r[0]): dict(zip(GATHERED, map(float, r))) for r in rows}
        result["gathered"] = [per_task[i] for i in sorted(per_task)]
        if chief:
            from benchmarks.cluster import report

            result["accuracy"] = accuracy(model, images)
            written = report.write(args, cluster, result, images)
            say("wrote " + ", ".join(str(p) for p in written))
        phase = "the final barrier"
        result["replicas_at_end"] = barrier(tf, strategy)
    except tf.errors.OpError as exc:
        raise run_error(exc, cluster, phase) from None
    finally:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        (args.run_dir / f"{cluster.task_type}-{cluster.task_index}.json").write_text(json.dumps(result, indent=1))
    return EXIT_OK


def main(argv=None) -> int:
    terminal = sys.stderr
    who = "python -m benchmarks.cluster"
    try:
        args = parse_args(argv)
        source = cluster_spec.detect_source() if args.cluster == "auto" else args.cluster
        name, workers, early = _early_identity(source)
        who = f"cluster {name.replace('-', ' ')}"
        if early is not None:
            cluster_spec.check_port_free(early)   # TF_CONFIG: before TensorFlow is even imported
        args.run_dir = args.run_dir or args.report_dir / "cluster-runs" / f"{workers}-workers"
        log = args.run_dir / f"{name}.log"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        terminal = _redirect_stderr(log)
        status = run(args)
    except BadInput as exc:
        status = EXIT_BAD_INPUT
        print(f"{who}: bad input: {exc}", file=terminal, flush=True)
    except PeerLost as exc:
        status = EXIT_PEER_LOST
        print(f"{who}: {exc}", file=terminal, flush=True)
    except KeyboardInterrupt:
        status = 130
        print(f"{who}: interrupted", file=terminal, flush=True)
    except Exception as exc:  # noqa: BLE001 - one line for the person, the traceback for the log
        import traceback

        traceback.print_exc()
        first = next((ln for ln in str(exc).splitlines() if ln.strip()), "")
        print(f"{who}: failed: {type(exc).__name__}: {first[:200]} (details in the task's log)", file=terminal,
              flush=True)
        status = EXIT_ERROR
    sys.stdout.flush()
    # TensorFlow's teardown of the gRPC server and the coordination agent waits for peers that may be gone;
    # everything is written, so leave now (the kernel closes this process's sockets and ports).
    os._exit(status)
