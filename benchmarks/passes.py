"""Passes 2..P of a full run, each in a fresh process: start it, and merge what it measured.

`pytest benchmarks` (the parent) measures pass 1 and the rows measured once, then starts
`python -m pytest benchmarks --bench-child-pass K --bench-child-out FILE` - the same tests, pass K+1 only, in a
new process - which writes its rounds, groups and limit measurements to FILE when it ends. The parent pools
them with its own: the report's rows hold the rounds of P processes, and its limits are the best of all.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dump(recorder, path: Path) -> None:
    from benchmarks.limits import public

    lim = public(recorder.limits)
    state = {"rounds": recorder.rounds, "links": recorder.links,
             "meta": {k: v for k, v in recorder.meta.items() if v is not None}, "groups": recorder.groups,
             "skipped": recorder.skipped,
             "limits": {"copy_bytes_per_s": lim["copy_bandwidth"]["best_bytes_per_s"],
                        "matmul_flop_per_s": {dev: {dt: v["best_flop_per_s"] for dt, v in by.items()}
                                              for dev, by in lim["matmul_peak"].items()},
                        "history": lim.get("history", [])}}
    path.write_text(json.dumps(state, default=float))


def merge(recorder, state: dict) -> None:
    for key, rounds in state["rounds"].items():
        recorder.rounds.setdefault(key, []).extend(rounds)
        if key not in recorder.links:
            recorder.links[key] = state["links"][key]
            recorder.meta[key] = state["meta"].get(key)
    recorder.groups.extend(state["groups"])
    known = {(s["section"], s["name"]) for s in recorder.skipped}
    recorder.skipped.extend(s for s in state["skipped"] if (s["section"], s["name"]) not in known)
    lim = recorder.limits
    for entry in state["limits"]["history"]:
        lim["history"].append({**entry, "when": f"{entry['when']} [second process]"})
    copy = lim["copy_bandwidth"]
    copy["best_bytes_per_s"] = max(copy["best_bytes_per_s"], state["limits"]["copy_bytes_per_s"])
    for dev, by in state["limits"]["matmul_flop_per_s"].items():
        for dtype, value in by.items():
            peak = lim["matmul_peak"].get(dev, {}).get(dtype)
            if peak is not None:
                peak["best_flop_per_s"] = max(peak["best_flop_per_s"], value)


def run_child(plan, pass_index: int, out: Path, progress, timeout_s: float, command: list[str] | None = None) -> dict:
    """Run pass `pass_index` of every group in a new pytest process (or `command`, for tests); relay its
    progress; return its state. The process is killed when it takes longer than `timeout_s`."""
    cmd = command or ([sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:randomly",
                       "--bench-child-pass", str(pass_index), "--bench-child-out", str(out)]
                      + (["--quick"] if plan.quick else []))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    progress(f"[bench] pass {pass_index + 1}/{plan.passes}: a fresh process ({' '.join(cmd[1:])})")
    tail: collections.deque = collections.deque(maxlen=40)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)

    def relay():  # in a thread, so that the deadline holds even while the child prints nothing
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if "[bench]" in line:
                progress("  [bench]" + line.split("[bench]", 1)[1])

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        tail.append(f"(killed: pass {pass_index + 1} took longer than {timeout_s:.0f} s)")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
        reader.join(timeout=5)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"pass {pass_index + 1} ended with status {proc.returncode}:\n" + "\n".join(tail))
    return json.loads(out.read_text())
