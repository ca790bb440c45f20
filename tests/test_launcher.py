"""tfguide/launcher.py with real (small) processes: distinct free ports, one deadline, output relayed while it
comes, a grace after a failure, the whole process group killed, nothing left behind. No TensorFlow."""

from __future__ import annotations

import time

import pytest

from tfguide import launcher


def _py(code: str, name: str = "", **env) -> launcher.Task:
    return launcher.Task(launcher.python("-c", code), env=env, name=name)


def test_free_ports_are_distinct_and_consecutive_ones_are_in_a_row():
    ports = launcher.free_ports(20)
    assert len(set(ports)) == 20
    first, *rest = launcher.free_ports(4, consecutive=True)
    assert rest == [first + 1, first + 2, first + 3]


def test_a_process_that_ends_gives_its_output_and_status():
    result = launcher.run([_py("import os, sys; print(os.environ['X']); sys.exit(3)", name="w", X="hello")], 60)
    (ended,) = result.processes
    assert (ended.name, ended.returncode, ended.stdout, ended.killed) == ("w", 3, "hello\n", False)
    assert not result.ok and not result.timed_out and "w exited with 3" in result.failure()


def test_a_silent_process_is_killed_at_the_deadline_with_what_it_started(tmp_path):
    # the child starts a grandchild in its process group: the kill reaches both
    code = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print(p.pid, flush=True); time.sleep(60)")
    lines: list = []
    t0 = time.monotonic()
    result = launcher.run([_py(code)], 3.0, relay=lines.append, log_dir=tmp_path)
    assert time.monotonic() - t0 < 20
    assert result.timed_out and result.killed == [0] and result.processes[0].returncode == -9
    grandchild = int(lines[0])
    deadline = time.monotonic() + 5
    while launcher.alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)   # killed; the init process reaps it
    assert not launcher.alive(result.processes[0].pid)
    assert (tmp_path / "process-0.stdout").read_text() == lines[0] + "\n"   # the log stays where it was asked


def test_after_one_failure_the_others_get_the_grace_then_are_killed():
    tasks = [_py("import time; time.sleep(60)", name="waits"), _py("import sys; sys.exit(2)", name="fails")]
    t0 = time.monotonic()
    result = launcher.run(tasks, 120, grace_s=1.0)
    assert time.monotonic() - t0 < 30
    assert [p.returncode for p in result.processes] == [-9, 2] and result.killed == [0]
    assert not result.timed_out and result.stopped_after_failure_s < 20
    assert "fails exited with 2" in result.failure()


def test_lines_are_relayed_as_they_come():
    lines: list = []
    code = "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.2)\nprint('no newline', end='')"
    result = launcher.run([_py(code)], 60, relay=lines.append)
    assert result.ok and lines == ["0", "1", "2", "no newline"]


def test_a_task_that_cannot_start_ends_the_ones_already_started():
    with pytest.raises(FileNotFoundError):
        launcher.Launch([_py("import time; time.sleep(60)"), launcher.Task(["/nonexistent/program"])])


def test_the_child_environment_drops_cluster_variables_and_puts_the_checkout_first(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{}")
    monkeypatch.setenv("SLURM_PROCID", "3")
    env = launcher.child_env({"EXTRA": "1"})
    assert "TF_CONFIG" not in env and "SLURM_PROCID" not in env and env["EXTRA"] == "1"
    assert env["PYTHONPATH"].split(":")[0] == str(launcher.ROOT)
