"""The fork server that loads crafted files (suite/support/sandbox.py): every probe runs in a fresh child, a
timeout or an allocation past the limit ends that child (and what it started) and nothing else, and what
one probe changes never reaches the next. The probes (tests/sandbox_probes.py) need no TensorFlow."""

from __future__ import annotations

import os
import time

import pytest

from suite.support.sandbox import Sandbox

PROBES = "tests.sandbox_probes"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox.start(preload=(PROBES,), timeout=60) as server:
        yield server


def test_a_probe_returns_its_value_from_a_child_process(sandbox, tmp_path):
    result = sandbox.run(f"{PROBES}:returns", {"value": [1, "two"]}, tmp_path)
    assert result.status == "returned"
    assert result.value["echo"] == [1, "two"]
    assert result.value["pid"] not in (os.getpid(), sandbox.process.pid)


def test_an_exception_is_reported_with_its_type_names_and_message(sandbox, tmp_path):
    result = sandbox.run(f"{PROBES}:raises", {"message": "refused: safe_mode"}, tmp_path)
    assert result.status == "raised"
    assert result.error_line() == "ValueError: refused: safe_mode"
    assert result.raised("Exception") and not result.raised("TypeError")


def test_a_child_past_its_deadline_is_killed_and_the_server_keeps_serving(sandbox, tmp_path):
    start = time.monotonic()
    result = sandbox.run(f"{PROBES}:sleeps", {"seconds": 60}, tmp_path, timeout=1.0)
    assert result.status == "timeout"
    assert time.monotonic() - start < 15
    assert sandbox.run(f"{PROBES}:returns", {"value": 1}, tmp_path / "next").status == "returned"


def test_the_timeout_also_ends_what_the_child_started(sandbox, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    result = sandbox.run(f"{PROBES}:starts_a_grandchild", {"pid_file": str(pid_file)}, tmp_path, timeout=3.0)
    assert result.status == "timeout"
    grandchild = int(pid_file.read_text())
    for _ in range(100):  # reaped by init once killed
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the grandchild {grandchild} outlived the timeout")


def test_an_allocation_past_the_headroom_ends_as_memory(sandbox, tmp_path):
    result = sandbox.run(f"{PROBES}:allocates", {"gib": 8}, tmp_path, memory_headroom=512 * 1024 ** 2)
    assert result.status == "memory", result
    assert result.error and result.error["type"] == "MemoryError"


def test_a_child_that_exits_without_a_result_is_reported_as_died(sandbox, tmp_path):
    result = sandbox.run(f"{PROBES}:exits", {"code": 7}, tmp_path)
    assert (result.status, result.exit) == ("died", 7)


def test_what_one_probe_changes_does_not_reach_the_next(sandbox, tmp_path):
    assert sandbox.run(f"{PROBES}:sets_a_global", {"value": "unsafe"}, tmp_path / "a").value == "unsafe"
    assert sandbox.run(f"{PROBES}:reads_the_global", {}, tmp_path / "b").value is None


def test_the_server_ends_when_closed(tmp_path):
    server = Sandbox.start(preload=(PROBES,), timeout=60)
    server.close()
    assert server.process.poll() is not None
