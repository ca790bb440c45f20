"""A fork server for loading crafted model files: each load runs in a fresh child process, bounded in time
and, where asked, in address space, so that whatever a crafted file does (change Keras' process-wide
state, allocate without bound, hang) ends with the child and never reaches the specs that run after it.

Why a fork server rather than a new interpreter per load: importing TensorFlow takes 5-20 s on a 2-core
machine, a fork of an interpreter that has imported it (and run no TensorFlow operation, so no runtime
threads exist yet) takes well under a second. tests/run_mutants.py forks the same way.

    with Sandbox.start() as sandbox:                       # one per pytest process (suite/conftest.py)
        result = sandbox.run("suite.support.untrusted:probe_load", {"path": ...}, timeout=60)

`run` returns a `Result`: `status` is "returned" (the probe's JSON-able return value is `value`),
"raised" (`error` = {"type", "types", "message"}: the exception escaped the probe), "timeout" (the child
was killed at the deadline), "memory" (it died of the address-space limit: MemoryError, or killed) or
"died" (it ended any other way: `exit`); `output` is the tail of what the child printed.

The server is `python -m suite.support.sandbox` with this protocol on its stdin/stdout, one JSON object a line:
request {"probe": "module:function", "kwargs": {...}, "timeout": s, "memory_headroom": bytes|null,
"workdir": dir}; reply {"status", "value", "error", "exit", "output", "seconds"}.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY = "sandbox ready"
START_TIMEOUT = 300.0     # importing TensorFlow on a slow, busy machine (observed 17 s here under load)
OUTPUT_TAIL = 2000        # characters of a child's output kept for the report
# What the server imports before the first fork: TensorFlow with the Keras tf.keras resolves to, and the
# probes of the advisory specs.
PRELOAD = ("tensorflow", "suite.support.untrusted", "suite.support.untrusted_hdf5")


@dataclass
class Result:
    status: str
    value: object = None
    error: dict | None = None
    exit: int | None = None
    output: str = ""
    seconds: float = 0.0

    def error_line(self) -> str:
        """`Type: message`, on one line, of what escaped the probe."""
        if not self.error:
            return ""
        message = " ".join(str(self.error.get("message", "")).split())
        return f"{self.error['type']}: {message}" if message else self.error["type"]

    def raised(self, *names: str) -> bool:
        return bool(self.error) and bool(set(names) & set(self.error.get("types", [])))


class SandboxError(RuntimeError):
    """The fork server itself failed (did not start, or stopped answering)."""


class Sandbox:
    def __init__(self, process: subprocess.Popen):
        self.process = process
        self._ready = False

    @classmethod
    def start(cls, preload: tuple[str, ...] = PRELOAD, env: dict | None = None,
              timeout: float = START_TIMEOUT) -> "Sandbox":
        """Start the server and wait until it has imported `preload` (once, before the first fork)."""
        return cls.spawn(preload, env).ready(timeout)

    @classmethod
    def spawn(cls, preload: tuple[str, ...] = PRELOAD, env: dict | None = None) -> "Sandbox":
        """Start the server without waiting: its imports overlap with whatever the caller does next.

        The one process tfguide/launcher.py does not start, because the sandbox is spoken to over pipes
        while the launcher's workers run to completion with their output in files; it is started the
        launcher's way all the same (its environment, its own session so that a kill reaches its children)."""
        from tfguide import launcher

        process = subprocess.Popen(launcher.python("-m", "suite.support.sandbox", *preload), cwd=ROOT,
                                   env=launcher.child_env(env),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, bufsize=1, start_new_session=True)
        return cls(process)

    def ready(self, timeout: float = START_TIMEOUT) -> "Sandbox":
        if self._ready:
            return self
        try:
            line = self._read_line(timeout)
        except SandboxError:
            self.close()
            raise
        if line.strip() != READY:
            self.close()
            raise SandboxError(f"the sandbox did not start: {line.strip() or 'it exited'}")
        self._ready = True
        return self

    def _read_line(self, timeout: float) -> str:
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                raise SandboxError(f"the sandbox did not answer within {timeout:.0f} s")
        return self.process.stdout.readline()

    def run(self, probe: str, kwargs: dict, workdir: Path, timeout: float = 120.0,
            memory_headroom: int | None = None) -> Result:
        """Run `probe` (module:function) with `kwargs` in a fresh child; `workdir` holds its output."""
        self.ready()
        request = {"probe": probe, "kwargs": kwargs, "timeout": timeout, "memory_headroom": memory_headroom,
                   "workdir": str(workdir)}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise SandboxError("the sandbox has stopped") from None
        line = self._read_line(timeout + 30.0)  # the server enforces `timeout`; this bounds the server
        if not line:
            raise SandboxError("the sandbox stopped while running a probe")
        return Result(**json.loads(line))

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- the server (python -m suite.support.sandbox) -------------------------------------------------------------

def _describe(exc: BaseException) -> dict:
    return {"type": type(exc).__name__, "types": [c.__name__ for c in type(exc).__mro__],
            "message": str(exc)[:OUTPUT_TAIL]}


def _child(request: dict, result_path: Path, log_path: Path) -> None:
    """In the forked child: limits, then the probe; the outcome goes to result_path. Never returns."""
    code = 0
    try:
        os.setpgid(0, 0)  # its own group: a timeout also ends whatever the probe started
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        if request.get("memory_headroom"):
            # The child's current address space plus the headroom: TensorFlow maps several GiB of address
            # space before any allocation, differently on every build, so an absolute limit would not do.
            size = _vm_size()
            resource.setrlimit(resource.RLIMIT_AS, (size + int(request["memory_headroom"]), resource.RLIM_INFINITY))
        module_name, _, function = request["probe"].partition(":")
        import importlib

        probe = getattr(importlib.import_module(module_name), function)
        try:
            outcome = {"status": "returned", "value": probe(**request["kwargs"])}
        except MemoryError as exc:
            outcome = {"status": "memory", "error": _describe(exc)}
        except Exception as exc:  # the crafted file's refusal, whatever its type
            outcome = {"status": "raised", "error": _describe(exc)}
            traceback.print_exc()
        result_path.write_text(json.dumps(outcome, default=repr))
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        traceback.print_exc()
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status: cannot bound the address space on this system")


def _serve_one(request: dict) -> dict:
    workdir = Path(request["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    result_path, log_path = workdir / "sandbox-result.json", workdir / "sandbox-output.txt"
    result_path.unlink(missing_ok=True)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(request, result_path, log_path)
    status = _wait(pid, start + float(request["timeout"]))
    if status is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return {"status": "timeout", "output": _tail(log_path), "seconds": time.monotonic() - start}
    seconds = time.monotonic() - start
    output = _tail(log_path)
    if result_path.exists():
        return {**json.loads(result_path.read_text()), "output": output, "seconds": seconds}
    signalled = os.WIFSIGNALED(status)
    exit_code = -os.WTERMSIG(status) if signalled else os.WEXITSTATUS(status)
    # An allocation past RLIMIT_AS that C++ code does not survive (std::bad_alloc -> abort) ends the child
    # by a signal before it can write its result.
    memory = bool(request.get("memory_headroom")) and (signalled or "bad_alloc" in output or "MemoryError" in output)
    return {"status": "memory" if memory else "died", "exit": exit_code, "output": output, "seconds": seconds}


def _wait(pid: int, deadline: float) -> int | None:
    """The child's wait status, or None once `deadline` (time.monotonic) has passed. Woken by the child's exit
    through a pidfd where the kernel has them (Linux 5.3), instead of a 20 ms poll that delayed every one of
    a run's loads by 10 ms on average; polled elsewhere."""
    import select

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                return raw
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if pidfd is None:
                time.sleep(min(0.02, left))
            else:
                select.select([pidfd], [], [], left)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-OUTPUT_TAIL:]
    except FileNotFoundError:
        return ""


def serve(preload: list[str]) -> None:
    import importlib

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in preload:
        module = importlib.import_module(name)
        if name == "tensorflow":
            _ = module.keras.Model  # resolve tf.keras (Keras 3, tf_keras or Keras 2) and import it: once, here

    out = sys.stdout
    out.write(READY + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = _serve_one(json.loads(line))
        except Exception as exc:  # a malformed request: say so, keep serving
            reply = {"status": "died", "exit": None, "output": f"sandbox: {type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply, default=repr) + "\n")
        out.flush()
    # stdin closed (Sandbox.close): every child has been waited for and every reply flushed, so nothing is
    # left to finish. Leave without the interpreter's teardown of TensorFlow, 1.2-1.4 s that the last spec's
    # teardown waited for.
    os._exit(0)


if __name__ == "__main__":
    serve(sys.argv[1:])
