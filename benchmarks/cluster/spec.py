"""Which cluster this process belongs to: from TF_CONFIG or from Slurm's SLURM_* variables, through
TensorFlow's own cluster resolvers. Nothing here discovers hosts or talks to them.

Bad input is refused before anything starts (no TensorFlow server, no port, no training): `BadInput`
carries the one line the command prints before it exits with status 2.

- TF_CONFIG (Kubernetes jobs, hand-made clusters): validated here as JSON first (so a typo gets a
  one-line answer instead of a traceback), then read by `TFConfigClusterResolver`.
- Slurm: `SlurmClusterResolver` reads SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_STEP_NODELIST and
  SLURM_STEP_TASKS_PER_NODE (TensorFlow 2.21, tensorflow/python/distribute/cluster_resolver/
  slurm_cluster_resolver.py). It packs the tasks onto the nodes in sorted host-name order, and gives the
  k-th task of a node the port `port_base + k` (TensorFlow's default port_base: 8888). On a node without
  GPUs it cannot be built as such (tensorflow/tensorflow#56894: with `gpus_per_node=0` it fails with
  `range() arg 3 must not be zero`, and without it, it runs `nvidia-smi`): on CPU-only jobs its cluster
  spec is therefore taken with one pretend GPU slot per task and `auto_set_gpu=False`, and handed to
  MultiWorkerMirroredStrategy in a `SimpleClusterResolver` that says "no accelerators".
"""

from __future__ import annotations

import errno
import json
import os
import socket
from dataclasses import dataclass, field

JOBS = ("chief", "worker")          # the task types a MultiWorkerMirroredStrategy cluster has
SLURM_VARS = ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_STEP_NODELIST", "SLURM_STEP_TASKS_PER_NODE")
DEFAULT_PORT_BASE = 8888            # SlurmClusterResolver's default
PORT_IN_USE = "is already in use"   # part of the one-line message; the loopback launcher retries on it


class BadInput(Exception):
    """Input that can never work: the message is the one line shown to the user (exit status 2)."""


@dataclass(frozen=True)
class Cluster:
    """The cluster as this process resolved it (plain data, comparable between workers and paths)."""

    source: str = field(compare=False)  # "tfconfig" or "slurm": how, not what
    jobs: dict                         # {"worker": ["host:port", ...], "chief": [...]}
    task_type: str
    task_index: int
    gpus_per_task: int = 0

    @property
    def chief(self) -> tuple[str, int]:
        return ("chief", 0) if self.jobs.get("chief") else ("worker", 0)

    @property
    def is_chief(self) -> bool:
        return (self.task_type, self.task_index) == self.chief

    @property
    def num_workers(self) -> int:
        return sum(len(self.jobs.get(job, ())) for job in JOBS)

    @property
    def address(self) -> str:
        return self.jobs[self.task_type][self.task_index]

    @property
    def task(self) -> str:
        return f"{self.task_type} {self.task_index}"

    def tasks(self) -> list[tuple[str, int, str]]:
        """(type, index, address) of every task, chief first."""
        return [(job, i, addr) for job in JOBS for i, addr in enumerate(self.jobs.get(job, ()))]

    def describe(self, task_type: str, index: int) -> str:
        return f"{task_type} {index} ({self.jobs[task_type][index]})"

    def as_dict(self) -> dict:
        return {"source": self.source, "jobs": self.jobs, "task_type": self.task_type,
                "task_index": self.task_index, "chief": list(self.chief), "num_workers": self.num_workers}


def _port_of(address: str, where: str) -> int:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInput(f"{where}: address {address!r} is not host:port")
    return int(port)


def _validate_jobs(jobs: dict, where: str) -> None:
    if not isinstance(jobs, dict) or not jobs:
        raise BadInput(f"{where}: 'cluster' must be a non-empty object of job name -> list of host:port")
    for job, addresses in jobs.items():
        if job not in JOBS:
            raise BadInput(f"{where}: job {job!r} has no place in a MultiWorkerMirroredStrategy cluster "
                           f"(only {' and '.join(JOBS)})")
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise BadInput(f"{where}: cluster[{job!r}] must be a list of host:port strings")
        for address in addresses:
            _port_of(address, where)
    if "chief" in jobs and len(jobs["chief"]) != 1:
        raise BadInput(f"{where}: chief missing: the 'chief' job must list exactly one address, "
                       f"it lists {len(jobs['chief'])}")
    if not jobs.get("chief") and not jobs.get("worker"):
        raise BadInput(f"{where}: chief missing: the cluster lists no chief and no worker")
    seen: dict[str, str] = {}
    for job in JOBS:
        for i, address in enumerate(jobs.get(job, ())):
            if address in seen:
                raise BadInput(f"{where}: {job} {i} and {seen[address]} share the address {address}")
            seen[address] = f"{job} {i}"


def parse_tf_config(text: str) -> Cluster:
    """TF_CONFIG as TFConfigClusterResolver reads it, validated for a MultiWorkerMirroredStrategy job."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"TF_CONFIG is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(config, dict):
        raise BadInput("TF_CONFIG must be a JSON object with 'cluster' and 'task'")
    jobs, task = config.get("cluster"), config.get("task")
    _validate_jobs(jobs, "TF_CONFIG")
    if not isinstance(task, dict) or "type" not in task:
        raise BadInput("TF_CONFIG: 'task' must be an object with 'type' and 'index'")
    task_type, index = task["type"], task.get("index", 0)
    if task_type not in jobs or not jobs[task_type]:
        chief = " (chief missing)" if task_type == "chief" else ""
        raise BadInput(f"TF_CONFIG: task type {task_type!r} is not in the cluster{chief}; its jobs are "
                       + ", ".join(f"{j} x{len(a)}" for j, a in jobs.items()))
    if isinstance(index, bool) or not isinstance(index, int):
        raise BadInput(f"TF_CONFIG: task index {index!r} is not an integer")
    if not 0 <= index < len(jobs[task_type]):
        raise BadInput(f"TF_CONFIG: task index {index} is outside the cluster: job {task_type!r} has "
                       f"{len(jobs[task_type])} task(s), indices 0..{len(jobs[task_type]) - 1}")
    return Cluster("tfconfig", {j: list(jobs[j]) for j in JOBS if j in jobs}, task_type, index)


def _slurm_env(environ) -> dict:
    missing = [name for name in SLURM_VARS if not environ.get(name)]
    if missing:
        raise BadInput(f"Slurm: {', '.join(missing)} not set: start one task per worker with srun "
                       "(the SLURM_STEP_* variables exist inside a job step only)")
    for name in ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS"):
        if not environ[name].isdigit():
            raise BadInput(f"Slurm: {name}={environ[name]!r} is not a number")
    return {name: environ[name] for name in SLURM_VARS}


def slurm_resolver(tf, port_base: int = DEFAULT_PORT_BASE, gpus_per_task: int = 0, environ=None):
    """SlurmClusterResolver for this task (see the module docstring for CPU-only jobs)."""
    env = _slurm_env(os.environ if environ is None else environ)
    from tensorflow.python.distribute.cluster_resolver import slurm_cluster_resolver as slurm

    try:
        hosts = slurm.expand_hostlist(env["SLURM_STEP_NODELIST"])
        per_node = slurm.expand_tasks_per_node(env["SLURM_STEP_TASKS_PER_NODE"])
    except (ValueError, IndexError) as exc:
        raise BadInput(f"Slurm: cannot read the node list {env['SLURM_STEP_NODELIST']!r} / tasks per node "
                       f"{env['SLURM_STEP_TASKS_PER_NODE']!r}: {exc}") from None
    rank, ntasks = int(env["SLURM_PROCID"]), int(env["SLURM_STEP_NUM_TASKS"])
    if len(per_node) != len(hosts) or sum(per_node) != ntasks:
        raise BadInput(f"Slurm: SLURM_STEP_TASKS_PER_NODE={env['SLURM_STEP_TASKS_PER_NODE']!r} over nodes "
                       f"{hosts} does not add up to SLURM_STEP_NUM_TASKS={ntasks}")
    if rank >= ntasks:
        raise BadInput(f"Slurm: task index {rank} (SLURM_PROCID) is outside the cluster: the step has "
                       f"{ntasks} task(s)")
    Resolver = tf.distribute.cluster_resolver.SlurmClusterResolver
    if gpus_per_task:
        try:
            return Resolver(port_base=port_base, gpus_per_task=gpus_per_task, auto_set_gpu=True)
        except (RuntimeError, OSError) as exc:
            raise BadInput(f"Slurm: {gpus_per_task} GPU(s) per task do not fit this node: {exc}") from None
    most = max(per_node)
    resolver = Resolver(port_base=port_base, gpus_per_node=most, gpus_per_task=1, auto_set_gpu=False)
    spec = resolver.cluster_spec()
    task_type, task_id = resolver.get_task_info()
    return tf.distribute.cluster_resolver.SimpleClusterResolver(
        spec, task_type=task_type, task_id=task_id, num_accelerators={}, rpc_layer="grpc")


def tfconfig_resolver(tf):
    return tf.distribute.cluster_resolver.TFConfigClusterResolver()


def cluster_of(resolver, source: str, gpus_per_task: int = 0) -> Cluster:
    """The plain-data view of a TensorFlow cluster resolver."""
    spec = resolver.cluster_spec().as_dict()
    jobs = {job: list(spec[job]) for job in JOBS if job in spec}
    cluster = Cluster(source, jobs, resolver.task_type, int(resolver.task_id), gpus_per_task)
    _validate_jobs(jobs, source)
    return cluster


def detect_source(environ=None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get("TF_CONFIG", "").strip():
        return "tfconfig"
    if environ.get("SLURM_PROCID"):
        return "slurm"
    raise BadInput("no cluster: set TF_CONFIG (see docs/cluster.md) or start one task per "
                   "host with Slurm's srun")


def resolve(tf, source: str = "auto", port_base: int = DEFAULT_PORT_BASE, gpus_per_task: int = 0,
            environ=None):
    """(TensorFlow ClusterResolver, Cluster) for this process."""
    environ = os.environ if environ is None else environ
    source = detect_source(environ) if source == "auto" else source
    if source == "tfconfig":
        if not environ.get("TF_CONFIG", "").strip():
            raise BadInput("TF_CONFIG is not set")
        parse_tf_config(environ["TF_CONFIG"])          # one-line refusal instead of a resolver traceback
        resolver = tfconfig_resolver(tf)
    elif source == "slurm":
        resolver = slurm_resolver(tf, port_base, gpus_per_task, environ)
    else:
        raise BadInput(f"unknown cluster source {source!r} (auto, tfconfig or slurm)")
    return resolver, cluster_of(resolver, source, gpus_per_task)


def check_port_free(cluster: Cluster) -> None:
    """TensorFlow's gRPC server listens on 0.0.0.0:<port of this task>: refuse before starting it when
    another process listens there. SO_REUSEADDR so that connections of a previous run still in TIME_WAIT
    do not count as "in use" (they do not stop the server either)."""
    port = _port_of(cluster.address, "cluster")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise BadInput(f"port {port} of {cluster.task} ({cluster.address}) {PORT_IN_USE} on this host "
                               f"({os.strerror(exc.errno)}); nothing was started") from None
            raise
