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
6. The all-reduce's share of a step: the cluster step split in two, each half ended by a host sync: the
   local gradients (input, forward, backward), then the very all-reduce Keras's optimizer performs (a SUM
   over every replica of the same gradient tensors). Per step, all-reduce time / (local + all-reduce
   time); its median over a round. It includes waiting for the slowest worker: that is time a worker
   spends in the all-reduce.
7. Every worker's figures travel to the chief through the strategy's own all-gather; the chief writes the
   report (benchmarks/cluster/report.py, rendered by reports/cluster.py). A final all-reduce: nobody leaves
   while a peer still needs it.

Exit status: 0 done; 2 bad input (nothing trained); 3 a task of the cluster went away (one line naming
it); 1 anything else (one line, details in this task's log).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from benchmarks.cluster import measure, runtime
from benchmarks.cluster import spec as cluster_spec
from benchmarks.cluster.failures import PeerLost, run_error, startup_error
from benchmarks.cluster.spec import BadInput, Cluster
from tfguide.outputs import DEFAULT_REPORT_DIR

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_PEER_LOST = 0, 1, 2, 3
# Full measurement and CI smoke run (--quick); every figure can be set on the command line.
DEFAULTS = {False: {"steps": 100, "examples": 60_000, "test_examples": 10_000},
            True: {"steps": 20, "examples": 8_192, "test_examples": 2_000}}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2 (argparse would print the usage too)
        raise BadInput(message)


def parse_args(argv=None) -> argparse.Namespace:
    from benchmarks.cluster.report import CV_FLAG
    from benchmarks.stats import MIN_ROUNDS_FOR_INTERVAL as MIN_ROUNDS

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
    ap.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR)
    ap.add_argument("--run-dir", type=Path, help="this run's per-task logs and results "
                                                  "(default REPORT_DIR/cluster-runs/<N>-workers)")
    ap.add_argument("--connect-timeout", type=float, default=300.0,
                    help="seconds every task has to join the cluster (the registration barrier)")
    ap.add_argument("--heartbeat-timeout", type=float, default=10.0,
                    help="seconds without heartbeats after which a task counts as gone")
    ap.add_argument("--save-weights", action="store_true", help="also write each task's final weights (.npz)")
    args = ap.parse_args(argv)
    args.report_dir = args.report_dir.resolve()   # under this process's directory, whatever its children's is
    for key, value in DEFAULTS[args.quick].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for name in ("per_replica_batch", "steps", "examples", "rounds"):
        if getattr(args, name) < 1:
            raise BadInput(f"--{name.replace('_', '-')} must be at least 1")
    if args.rounds < MIN_ROUNDS:
        raise BadInput(f"--rounds must be at least {MIN_ROUNDS} (the benchmarks' method)")
    if args.warmup < 0 or args.connect_timeout <= 0 or args.heartbeat_timeout <= 0:
        raise BadInput("--warmup must be >= 0 and the timeouts > 0")
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


# -- the whole run ---------------------------------------------------------------------------------------------

GATHERED = ("worker", "spec_hash", "baseline_examples_per_s", "step_ms_p50", "allreduce_ms_p50",
            "local_gradients_ms_p50", "allreduce_share", "weights_sum", "closed_form_max_abs_error")


def _join(tf, args):
    """Resolve the cluster, configure the coordination service with its bounds, create the strategy.
    (cluster, strategy, say): `say` prints a progress line on the chief."""
    resolver, cluster = cluster_spec.resolve(tf, args.cluster, args.port_base, args.gpus_per_task)
    cluster_spec.check_port_free(cluster)

    def say(text: str) -> None:
        if cluster.is_chief:
            print(f"[cluster] {text}", flush=True)

    say(f"{cluster.task} of {cluster.num_workers} ({cluster.source}): {json.dumps(cluster.jobs)}; waiting up "
        f"to {args.connect_timeout:g} s for every task to join")
    runtime.configure_coordination(tf, resolver, args.connect_timeout, args.heartbeat_timeout)
    try:
        strategy = runtime.make_strategy(tf, resolver)
    except tf.errors.OpError as exc:
        raise startup_error(exc, cluster, args.connect_timeout) from None
    return cluster, strategy, say


def _build(tf, args, strategy, images, result: dict) -> dict:
    """The baseline (this worker alone: its own devices, no cluster) and the cluster model, each with its
    recipe step and its input (point 4)."""
    from reference.keras_distribute import distributed_train_step

    per_worker, b, global_batch = result["replicas_per_worker"], args.per_replica_batch, result["global_batch"]
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    local_strategy = (tf.distribute.MirroredStrategy(list(strategy.extended.worker_devices)) if per_worker > 1
                      else tf.distribute.get_strategy())
    base_model = measure.build(tf, local_strategy)
    base_step = distributed_train_step(tf, local_strategy, base_model, b * per_worker)
    base_ds = measure.dataset(tf, images, b * per_worker)
    base_iter = iter(local_strategy.experimental_distribute_dataset(base_ds) if per_worker > 1 else base_ds)
    model = measure.build(tf, strategy)
    step = distributed_train_step(tf, strategy, model, global_batch)
    iterator = iter(strategy.experimental_distribute_dataset(
        measure.dataset(tf, images, global_batch).with_options(options)))
    return {"local_strategy": local_strategy, "base_step": base_step, "base_iter": base_iter, "model": model,
            "step": step, "iterator": iterator}


def _train(tf, args, strategy, built: dict, result: dict, say) -> None:
    """Rounds of --steps steps, the baseline's and the cluster's alternating (point 5)."""
    import numpy as np

    per_worker, b = result["replicas_per_worker"], args.per_replica_batch
    local_strategy, model = built["local_strategy"], built["model"]
    # Baseline and cluster rounds alternate, so that a change of the machine's load hits both alike; a
    # barrier (not timed) starts every worker's baseline round together, so baselines overlap as the
    # workers' shares of a cluster step do.
    marks = {"baseline": [], "cluster": []}
    total = 1 + args.warmup + args.rounds
    for r in range(total):
        measure.barrier(tf, strategy)
        marks["baseline"].append(measure.timed_round(tf, local_strategy, built["base_step"], built["base_iter"],
                                                     args.steps))
        marks["cluster"].append(measure.timed_round(tf, strategy, built["step"], built["iterator"], args.steps))
        (b0, _, b1), (c0, _, c1) = marks["baseline"][-1], marks["cluster"][-1]
        kind = "compile" if r == 0 else "warm-up" if r <= args.warmup else "measured"
        say(f"round {r + 1}/{total} ({kind}): this worker alone {b1 - b0:.3f} s, the cluster {c1 - c0:.3f} s")
    baseline = measure.round_summary(marks["baseline"], args.warmup)
    # the median of the rounds' rates, as for every row (benchmarks/stats.py)
    baseline["examples_per_s"] = float(np.median([args.steps * b * per_worker / s for s in baseline["round_s"]]))
    result["baseline"] = baseline
    result["train"] = measure.round_summary(marks["cluster"], args.warmup)
    weights = [np.asarray(w) for w in model.get_weights()]
    result["weights_sum"] = float(sum(np.sum(w, dtype=np.float64) for w in weights))
    if args.save_weights:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        np.savez(args.run_dir / f"{result['task']}.weights.npz", *weights)


def _gather(tf, strategy, cluster, result: dict) -> None:
    """Every worker's figures, through the strategy's own all-gather (point 7), into result["gathered"]."""
    task_number = [t[:2] for t in cluster.tasks()].index((cluster.task_type, cluster.task_index))
    ar = result["allreduce"]
    mine = [task_number, result["spec_hash"], result["baseline"]["examples_per_s"], result["train"]["ms_per_step_p50"],
            ar["allreduce_ms_p50"], ar["local_gradients_ms_p50"], ar["allreduce_share"], result["weights_sum"],
            result["closed_form_check"]["max_abs_error"]]
    rows = measure.gather_rows(tf, strategy, mine)
    per_task = {int(r[0]): dict(zip(GATHERED, map(float, r))) for r in rows}
    result["gathered"] = [per_task[i] for i in sorted(per_task)]


def run(args) -> int:
    import tensorflow as tf

    from benchmarks.datasets import fashion_mnist

    cluster, strategy, say = _join(tf, args)
    replicas = strategy.num_replicas_in_sync
    per_worker = replicas // cluster.num_workers
    device_type = strategy.extended._local_device_type if hasattr(strategy.extended, "_local_device_type") else "?"
    result = {"cluster": cluster.as_dict(), "spec_hash": measure.spec_hash(cluster), "replicas": replicas,
              "replicas_per_worker": per_worker, "global_batch": args.per_replica_batch * replicas,
              "worker_devices": list(strategy.extended.worker_devices), "device_type": device_type,
              "task": f"{cluster.task_type}-{cluster.task_index}"}
    say(f"joined: {cluster.num_workers} worker(s) x {per_worker} replica(s) ({device_type}), per-replica batch "
        f"{args.per_replica_batch}, global batch {result['global_batch']}")
    phase = "the closed-form check"
    try:
        check = measure.closed_form_check(tf, strategy, replicas)
        result["closed_form_check"] = check
        say(f"closed-form check (one step of the recipe's loop on a linear problem): max abs error "
            f"{check['max_abs_error']:.2e}")
        images = fashion_mnist(args.examples, args.test_examples)
        phase = "building the models"
        built = _build(tf, args, strategy, images, result)
        phase = "training"
        _train(tf, args, strategy, built, result, say)
        phase = "the all-reduce timing"
        model = built["model"]
        ar = result["allreduce"] = measure.allreduce_timing(tf, strategy, model, built["iterator"],
                                                             global_batch=result["global_batch"], steps=args.steps)
        say(f"the step split at its all-reduce of {ar['allreduce_bytes']:,} bytes: local gradients "
            f"{ar['local_gradients_ms_p50']:.3f} ms p50, all-reduce {ar['allreduce_ms_p50']:.3f} ms p50, share "
            f"{ar['allreduce_share']:.1%} (the whole step: {result['train']['ms_per_step_p50']:.3f} ms p50)")
        phase = "gathering the results"
        _gather(tf, strategy, cluster, result)
        if cluster.is_chief:
            from benchmarks.cluster import report

            result["accuracy"] = measure.accuracy(model, images)
            say("wrote " + ", ".join(str(p) for p in report.write(args, cluster, result, images)))
        phase = "the final barrier"
        result["replicas_at_end"] = measure.barrier(tf, strategy)
    except tf.errors.OpError as exc:
        raise run_error(exc, cluster, phase) from None
    finally:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        (args.run_dir / f"{result['task']}.json").write_text(json.dumps(result, indent=1))
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
