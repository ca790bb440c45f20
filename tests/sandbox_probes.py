"""Probes for tests/test_sandbox.py: the sandbox's own behaviour, without TensorFlow."""

from __future__ import annotations

import os
import time


def returns(value):
    return {"echo": value, "pid": os.getpid()}


def raises(message: str):
    raise ValueError(message)


def sleeps(seconds: float):
    time.sleep(seconds)


def allocates(gib: int):
    block = bytearray(gib * 1024 ** 3)  # past the address-space limit: MemoryError
    return len(block)


def exits(code: int):
    os._exit(code)


def sets_a_global(value: str):
    os.environ["TFGUIDE_SANDBOX_PROBE"] = value
    return os.environ["TFGUIDE_SANDBOX_PROBE"]


def reads_the_global():
    return os.environ.get("TFGUIDE_SANDBOX_PROBE")


def starts_a_grandchild(pid_file: str):
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(pid_file, "w") as fh:
        fh.write(str(child.pid))
    time.sleep(600)
