"""Worker processes started with a deadline, their output relayed, and nothing left behind.

The distribute specs (suite/test_keras_distribute.py), the distribute benchmark, the benchmark passes and the
cluster loopback all start processes that must end, bounded in time, whatever happens in them; this is the one
place that does it:

- every process starts in its own session, so it leads its own process group, and a kill reaches whatever it
  started too (`os.killpg`, SIGKILL);
- its stdout and stderr go to files, never pipes: a process blocked on a full pipe that nobody reads yet would
  stall its peers (a collective waits for every worker);
- `wait` polls every process against ONE deadline, relays the first process's new output lines as they come
  (also while it prints nothing, the deadline still holds), and, once a process has failed, gives the others
  `grace_s` to stop by themselves (a worker whose peer died would otherwise wait for it) before killing them;
- `free_ports(n)` hands out n distinct ports the kernel reports free (all n bound at once, then released);
  `leftovers` checks afterwards that no process is alive and no port of theirs still listens.

Standard library only: the reports and the specs import it without TensorFlow.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.05
# Variables that tell a process it belongs to a cluster: a child gets only those its launcher gives it.
CLUSTER_VARIABLES = ("TF_CONFIG", "SLURM_")


# -- ports ----------------------------------------------------------------------------------------------

def free_ports(n: int, *, consecutive: bool = False, host: str = "127.0.0.1", attempts: int = 200) -> list[int]:
    """n distinct ports the kernel reports free right now: all n are bound together (so none is handed out
    twice), then released for the caller's processes to bind. `consecutive`: n ports in a row from a
    kernel-chosen first one (what Slurm's port base implies). Another process can still take one between
    the release and the bind; the process that binds it then says so, and the caller may retry."""
    for _ in range(attempts):
        socks: list[socket.socket] = []
        try:
            first = socket.socket()
            socks.append(first)
            first.bind((host, 0))
            base = first.getsockname()[1]
            if consecutive and base + n > 65535:
                continue
            for i in range(1, n):
                sock = socket.socket()
                socks.append(sock)
                sock.bind((host, base + i if consecutive else 0))
            return [s.getsockname()[1] for s in socks]
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {n} free {'consecutive ' if consecutive else ''}ports found on {host}")


def listening_ports() -> set[int]:
    """Every TCP port some process of this machine listens on (/proc/net/tcp and tcp6, state 0A)."""
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- processes ------------------------------------------------------------------------------------------

def child_env(extra: dict | None = None) -> dict[str, str]:
    """This process's environment without cluster variables, with the checkout importable and TensorFlow's
    C++ start-up chatter off (unless the caller's environment says otherwise), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLUSTER_VARIABLES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return {**env, **(extra or {})}


def python(*args: str) -> list[str]:
    """A command line running this interpreter."""
    return [sys.executable, *args]


@dataclass
class Task:
    """One process to start: its command line, the variables it gets on top of child_env(), a name for its
    output files and messages."""

    argv: list[str]
    env: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class Ended:
    """One process after `wait`: how it ended and everything it wrote."""

    name: str
    pid: int
    returncode: int
    stdout: str
    stderr: str
    killed: bool            # by the deadline or after a peer's failure, not by itself

    def tail(self, chars: int = 3000) -> str:
        return f"{self.name} exited with {self.returncode}:\n{(self.stdout + self.stderr)[-chars:]}"


@dataclass
class Result:
    processes: list[Ended]
    elapsed_s: float
    first_failure_s: float | None          # from the start to the first process that failed
    stopped_after_failure_s: float | None  # from that failure to the end of the last process
    timed_out: bool

    @property
    def ok(self) -> bool:
        return all(p.returncode == 0 for p in self.processes)

    @property
    def killed(self) -> list[int]:
        return [i for i, p in enumerate(self.processes) if p.killed]

    def failure(self) -> str:
        """What went wrong, for an error message: the deadline, or the first failed process's output."""
        if self.timed_out:
            return f"processes still running after {self.elapsed_s:.0f} s were killed: " + ", ".join(
                p.name for p in self.processes if p.killed)
        # the one that failed by itself, not one killed after it
        failed = next((p for p in self.processes if p.returncode != 0 and not p.killed),
                      next((p for p in self.processes if p.returncode != 0), None))
        return failed.tail() if failed else "every process ended with status 0"


class Launch:
    """Processes started together; `wait` ends them all. Use `run` unless something must happen between
    the start and the wait (a test that kills one worker mid-run, say)."""

    def __init__(self, tasks: list[Task], *, log_dir: Path | None = None, cwd: Path = ROOT):
        # Without a log_dir the output files live in a temporary folder that wait() removes.
        self._tmp = None if log_dir is not None else tempfile.TemporaryDirectory(prefix="tfguide-launch-")
        self.log_dir = Path(log_dir if log_dir is not None else self._tmp.name)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.names = [t.name or f"process-{i}" for i, t in enumerate(tasks)]
        self.processes: list[subprocess.Popen] = []
        self._files: list[tuple] = []
        self.started = time.monotonic()
        try:
            for task, name in zip(tasks, self.names):
                out = open(self.stdout_path(len(self.processes)), "w+")  # noqa: SIM115 - closed in wait()
                err = open(self.log_dir / f"{name}.stderr", "w+")  # noqa: SIM115
                try:
                    process = subprocess.Popen(task.argv, cwd=cwd, env=child_env(task.env), stdout=out, stderr=err,
                                               start_new_session=True)
                except BaseException:
                    out.close()
                    err.close()
                    raise
                self._files.append((out, err))
                self.processes.append(process)
        except BaseException:  # the ones already started end here, with their files
            self.wait(0.0)
            raise

    def stdout_path(self, index: int) -> Path:
        return self.log_dir / f"{self.names[index]}.stdout"

    def kill(self) -> list[int]:
        """Kill every process still running, with its process group, and reap all; the indices killed."""
        killed = []
        for index, process in enumerate(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                killed.append(index)
            process.wait()
        return killed

    def wait(self, deadline_s: float, *, grace_s: float | None = None,
             relay: Callable[[str], None] | None = None) -> Result:
        """Wait until every process has ended, or `deadline_s` after the start, or `grace_s` after the first
        failure (None: the deadline only); then kill what still runs. `relay` gets the first process's
        stdout, line by line, as it is written."""
        first_failure = None
        relayed = 0
        try:
            while True:
                codes = [p.poll() for p in self.processes]
                now = time.monotonic()
                if relay is not None:
                    relayed = self._relay(relay, relayed)
                if first_failure is None and any(c not in (None, 0) for c in codes):
                    first_failure = now
                if None not in codes:
                    break
                if now > self.started + deadline_s or (
                        first_failure is not None and grace_s is not None and now > first_failure + grace_s):
                    break
                time.sleep(POLL_S)
            end = time.monotonic()
        finally:
            killed = set(self.kill())
        if relay is not None:
            self._relay(relay, relayed, final=True)
        ended = []
        for index, (process, (out, err)) in enumerate(zip(self.processes, self._files)):
            texts = []
            for file in (out, err):
                file.flush()
                file.seek(0)
                texts.append(file.read())
                file.close()
            ended.append(Ended(self.names[index], process.pid, process.returncode, *texts, killed=index in killed))
        if self._tmp is not None:
            self._tmp.cleanup()
        return Result(ended, elapsed_s=end - self.started,
                      first_failure_s=None if first_failure is None else first_failure - self.started,
                      stopped_after_failure_s=None if first_failure is None else end - first_failure,
                      timed_out=bool(killed) and end - self.started > deadline_s)

    def _relay(self, relay, done: int, final: bool = False) -> int:
        """Hand `relay` the complete lines the first process wrote after byte `done`; the new offset."""
        if not self._files:
            return done
        self._files[0][0].flush()
        with open(self.stdout_path(0), "rb") as out:
            out.seek(done)
            new = out.read()
        complete = new if final else new[:new.rfind(b"\n") + 1]
        for line in complete.decode(errors="replace").splitlines():
            relay(line)
        return done + len(complete)


def run(tasks: list[Task], deadline_s: float, *, grace_s: float | None = None,
        relay: Callable[[str], None] | None = None, log_dir: Path | None = None, cwd: Path = ROOT) -> Result:
    """Start the tasks together and wait for them (Launch.wait)."""
    return Launch(tasks, log_dir=log_dir, cwd=cwd).wait(deadline_s, grace_s=grace_s, relay=relay)
