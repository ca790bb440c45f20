"""`python -m benchmarks.cluster.loopback`: the cluster benchmark on this machine, started the way a cluster
starts it, for N = 1..4 workers: N processes of `python -m benchmarks.cluster` on 127.0.0.1, each told
only its TF_CONFIG (`--via tfconfig`, as a Kubernetes job sets it) or the SLURM_* variables of an N-task
job step on one node (`--via slurm`, as `srun` sets them). Nothing else is shared: each worker resolves
the cluster itself, and the chief of each size merges its row into the report.

Each worker runs on the CPU (GPUs hidden), one replica on its own CPU device. The workers share this
machine's cores, so the report's E_N shows the method, not a speed-up (the report says so).

Ports: each size gets fresh ports (bound to port 0 by the kernel, released, then used by TensorFlow;
for Slurm, N consecutive ones from port_base). If another process takes one in between, the worker
refuses with "already in use" and the launcher retries with new ports (up to 3 times).

Bounded in time: a watchdog kills (SIGKILL, whole process group) every worker still running after
--timeout, and, once one worker has failed, every worker still running --grace seconds later; it says so.
TensorFlow normally ends them first (benchmarks/cluster/failures.py); the watchdog is the backstop.
Afterwards the launcher checks that no worker process is left and no port of the cluster still listens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cluster.spec import PORT_IN_USE, SLURM_VARS, BadInput
from tfguide import contracts, launcher
from tfguide.outputs import DEFAULT_REPORT_DIR

ROOT = launcher.ROOT
PORT_ATTEMPTS = 3
EXIT_BAD_INPUT = 2


# -- environments ------------------------------------------------------------------------------------------

def worker_env(cluster_env: dict) -> dict:
    """What a worker gets on top of tfguide.launcher.child_env() (which drops any cluster variables of this
    process): its own TF_CONFIG or SLURM_* variables, and no GPU (each worker its own CPU device)."""
    return {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "1"),
            **cluster_env}


def worker_command(report_dir: Path, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "benchmarks.cluster", "--report-dir", str(report_dir), *args]


def tf_config_env(ports: list[int], index: int) -> dict:
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}


def slurm_env(n: int, rank: int, node: str = "127.0.0.1") -> dict:
    """What srun sets for task `rank` of an n-task step on one node (the variables SlurmClusterResolver
    reads, plus the usual companions)."""
    env = {"SLURM_PROCID": str(rank), "SLURM_STEP_NUM_TASKS": str(n), "SLURM_STEP_NODELIST": node,
           "SLURM_STEP_TASKS_PER_NODE": str(n), "SLURM_LOCALID": str(rank), "SLURM_NODEID": "0",
           "SLURM_NTASKS": str(n), "SLURM_JOB_NODELIST": node, "SLURM_STEP_NUM_NODES": "1"}
    assert set(SLURM_VARS) <= set(env)
    return env


# -- one cluster size ----------------------------------------------------------------------------------------

@dataclass
class Launch:
    n: int
    via: str
    ports: list[int]
    run_dir: Path
    workers: launcher.Launch          # the processes, started


@dataclass
class Outcome:
    returncodes: list
    messages: list            # each worker's terminal stderr (its one line, if any)
    elapsed_s: float
    first_failure_s: float | None
    stopped_after_failure_s: float | None   # from the first failure to the last worker's end
    watchdog_killed: list     # task indices the watchdog had to kill
    ports: list
    pids: list


def start(n: int, via: str, report_dir: Path, worker_args: list[str], ports: list[int] | None = None) -> Launch:
    """Start the n workers (each in its own process group) and return at once."""
    ports = ports or launcher.free_ports(n, consecutive=via == "slurm", host="0.0.0.0")
    run_dir = Path(report_dir) / "cluster-runs" / f"{n}-workers"
    extra = ["--port-base", str(ports[0])] if via == "slurm" else []
    tasks = [launcher.Task(worker_command(report_dir, ["--run-dir", str(run_dir), *extra, *worker_args]),
                           env=worker_env(tf_config_env(ports, rank) if via == "tfconfig" else slurm_env(n, rank)),
                           name=f"worker-{rank}") for rank in range(n)]
    return Launch(n, via, ports, run_dir, launcher.Launch(tasks, log_dir=run_dir))


def kill(launch: Launch) -> list[int]:
    return launch.workers.kill()


def wait(launch: Launch, timeout: float, grace: float, echo=None) -> Outcome:
    """Wait for every worker; the watchdog (module docstring) bounds it. `echo` gets the chief's new lines."""
    result = launch.workers.wait(timeout, grace_s=grace, relay=echo)
    return Outcome(
        returncodes=[p.returncode for p in result.processes], messages=[p.stderr.strip() for p in result.processes],
        elapsed_s=result.elapsed_s, first_failure_s=result.first_failure_s,
        stopped_after_failure_s=result.stopped_after_failure_s, watchdog_killed=result.killed, ports=launch.ports,
        pids=[p.pid for p in result.processes])


def leftovers(outcome: Outcome) -> list[str]:
    """What a finished run left behind: live worker processes, listening ports of the cluster."""
    left = [f"process {pid} still alive" for pid in outcome.pids if launcher.alive(pid)]
    listening = launcher.listening_ports()
    left += [f"port {port} still listening" for port in outcome.ports if port in listening]
    return left


def run_size(n: int, via: str, report_dir: Path, worker_args: list[str], timeout: float, grace: float,
             echo=print) -> Outcome:
    """One cluster size, with fresh ports, retried when a port was taken between choosing and binding."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        launch = start(n, via, report_dir, worker_args)
        outcome = wait(launch, timeout, grace, echo=lambda line: echo(f"  [N={n}] {line}") if echo else None)
        if any(PORT_IN_USE in m for m in outcome.messages) and attempt < PORT_ATTEMPTS:
            echo(f"[loopback] N={n}: a port was taken by another process meanwhile; retrying with new ports")
            continue
        return outcome
    return outcome


# -- the command -------------------------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise BadInput(message)


def parse_args(argv):
    ap = _Parser(prog="python -m benchmarks.cluster.loopback",
                 description="N = 1..4 workers of `python -m benchmarks.cluster` on 127.0.0.1, started as a cluster "
                             "starts them. Other options are passed to every worker (see python -m "
                             "benchmarks.cluster --help).")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3, 4], help="cluster sizes (default 1 2 3 4)")
    ap.add_argument("--via", choices=("tfconfig", "slurm"), default="tfconfig",
                    help="set TF_CONFIG (default) or the SLURM_* variables of a one-node job step")
    ap.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per cluster size before the watchdog")
    ap.add_argument("--grace", type=float, default=30.0,
                    help="seconds the other workers get to stop by themselves after one failed")
    args, worker_args = ap.parse_known_args(argv)
    if any(n < 1 for n in args.workers):
        raise BadInput("--workers must be at least 1")
    if args.timeout <= 0 or args.grace <= 0:
        raise BadInput("--timeout and --grace must be > 0")
    from benchmarks.cluster.worker import parse_args as worker_parse

    worker_parse(worker_args)  # refuse bad worker options here, once, before anything starts
    return args, worker_args


def main(argv=None) -> int:
    try:
        args, worker_args = parse_args(sys.argv[1:] if argv is None else argv)
    except BadInput as exc:
        print(f"python -m benchmarks.cluster.loopback: bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.report_dir = args.report_dir.resolve()   # the workers start in the checkout; the reports go under here
    status = 0
    for n in args.workers:
        print(f"[loopback] N={n}: starting {n} worker(s) on 127.0.0.1 via {args.via}", flush=True)
        outcome = run_size(n, args.via, args.report_dir, worker_args, args.timeout, args.grace)
        for rank, (code, message) in enumerate(zip(outcome.returncodes, outcome.messages)):
            if code:
                print(f"[loopback] N={n}: worker {rank} exited {code}: {message or '(no message)'}", file=sys.stderr)
        if outcome.watchdog_killed:
            print(f"[loopback] N={n}: the watchdog killed worker(s) {outcome.watchdog_killed}", file=sys.stderr)
        left = leftovers(outcome)
        if left:
            print(f"[loopback] N={n}: left behind: {'; '.join(left)}", file=sys.stderr)
        failed = next((c for c in outcome.returncodes if c), 0) or (1 if left else 0)
        print(f"[loopback] N={n}: {'done' if not failed else 'FAILED'} in {outcome.elapsed_s:.1f} s", flush=True)
        status = status or failed
    report = args.report_dir / "cluster.json"
    if report.exists():
        for r in contracts.load(report, "cluster")["cluster"]:
            if r["workers"] in args.workers:
                print(f"[loopback] {r['name']}: {r['examples_per_s']:,.0f} examples/s, E_N {r['scaling_efficiency']:.3f}"
                      + (" (workers share this host)" if r.get("hosts_shared") else ""))
        print(f"[loopback] wrote {report} and {args.report_dir / 'benchmarks.md'}")
    return status if status > 0 else 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
