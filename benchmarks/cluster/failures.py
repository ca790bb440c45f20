"""Turning TensorFlow's distributed-runtime errors into the one line a person needs: which task is missing.

TensorFlow already detects every failure here; this module only reads its messages (TensorFlow 2.21,
observed on loopback and in tests/test_cluster_faults.py):

- a peer process died: the next collective fails at once with `UnavailableError ... Connection reset by
  peer ... remote target /job:worker/replica:0/task:1` (every survivor of a ring names the same task,
  because the abort carries the first cause along);
- a peer hangs or its host vanished: the coordination service misses its heartbeats for
  `heartbeat_timeout_in_ms` and aborts every worker's collectives with `The following tasks are unhealthy
  (stopped sending heartbeats): /job:worker/replica:0/task:1`; if the hanging task is the service's own
  host (the chief), the others' heartbeats fail with `Deadline Exceeded ... CoordinationService/Heartbeat`;
- a peer never started: with `cluster_register_with_barrier` the registration barrier times out after
  `cluster_register_timeout_in_ms` with `Some timed out task names: /job:worker/replica:0/task:1`, and a
  worker that cannot reach the service gets `... CoordinationService/RegisterTask` with the leader named;
- the task's own port is taken: `Could not start gRPC server`.
"""

from __future__ import annotations

import re

from benchmarks.cluster.spec import PORT_IN_USE, BadInput, Cluster

_TASK = re.compile(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)")
_LISTS = ("stopped sending heartbeats", "timed out task names")


class PeerLost(Exception):
    """A task of the cluster went away during the run: the message is the one line to print (exit 3)."""


def _tasks(text: str, cluster: Cluster) -> list[tuple[str, int]]:
    found = []
    for job, index in _TASK.findall(text):
        task = (job, int(index))
        if job in cluster.jobs and int(index) < len(cluster.jobs[job]) and task not in found:
            found.append(task)
    return found


def missing_tasks(message: str, cluster: Cluster) -> list[tuple[str, int]]:
    """The tasks TensorFlow's error names as gone (never this process itself)."""
    me = (cluster.task_type, cluster.task_index)
    for marker in _LISTS:
        if marker in message:
            listed = [t for t in _tasks(message.split(marker, 1)[1], cluster) if t != me]
            if listed:
                return listed
    target = re.search(r"remote target (/job:\S+)", message)
    if target:
        named = [t for t in _tasks(target.group(1), cluster) if t != me]
        if named:
            return named
    if "CoordinationService/" in message and cluster.chief != me:
        return [cluster.chief]    # the coordination service runs on the chief
    return []


def _reason(message: str) -> str:
    for needle, reason in (("stopped sending heartbeats", "it stopped sending heartbeats"),
                           ("Connection reset", "its connection was reset"),
                           ("Connection refused", "connection refused"),
                           ("Socket closed", "its socket closed"),
                           ("timed out task names", "it did not register in time"),
                           ("Deadline Exceeded", "no answer before the deadline")):
        if needle in message:
            return reason
    first = next((line.strip() for line in message.splitlines() if line.strip()), "unknown error")
    return first[:160]


def _who(cluster: Cluster, tasks: list[tuple[str, int]]) -> str:
    return ", ".join(cluster.describe(t, i) for t, i in tasks)


def startup_error(exc: Exception, cluster: Cluster, connect_timeout_s: float) -> Exception:
    """Map an error raised while the strategy connects to the cluster: BadInput (exit 2) when the input
    can never work as given (port taken, a peer unreachable), else the error itself."""
    message = str(exc)
    if "Could not start gRPC server" in message:
        port = cluster.address.rpartition(":")[2]
        return BadInput(f"port {port} of {cluster.task} ({cluster.address}) {PORT_IN_USE} on this host "
                        "(TensorFlow could not start its gRPC server); nothing was trained")
    missing = missing_tasks(message, cluster)
    if missing or "RegisterTask" in message:
        missing = missing or [cluster.chief]
        return BadInput(f"unreachable peer: {_who(cluster, missing)} did not join the cluster within "
                        f"{connect_timeout_s:g} s ({_reason(message)}); nothing was trained")
    return exc


def run_error(exc: Exception, cluster: Cluster, phase: str) -> Exception:
    """Map an error raised by a collective during the run to PeerLost when TensorFlow names a lost task."""
    message = str(exc)
    missing = missing_tasks(message, cluster)
    if not missing:
        return exc
    verb = "is" if len(missing) == 1 else "are"
    return PeerLost(f"{_who(cluster, missing)} {verb} missing ({_reason(message)}) during {phase}; "
                    f"{cluster.task} stopped")
