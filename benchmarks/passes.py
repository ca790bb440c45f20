"""Passes 2..P of a full run, each in a fresh process: start it, and merge what it measured.

`pytest benchmarks` (the parent) measures pass 1 and the rows measured once, then starts
`python -m pytest benchmarks --bench-child-pass K --bench-child-out FILE` - the same tests, pass K+1 only, in a
new process - which writes its rounds, groups and limit measurements to FILE when it ends. The parent pools
them with its own: the report's rows hold the rounds of P processes, and its limits are the best of all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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


def run_child(plan, pass_index: int, out: Path, progress, timeout_s: float) -> dict:
    """Run pass `pass_index` of every group in a new pytest process; relay its progress; return its state."""
    cmd = [sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:randomly",
           "--bench-child-pass", str(pass_index), "--bench-child-out", str(out)] + (["--quick"] if plan.quick else [])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    progress(f"[bench] pass {pass_index + 1}/{plan.passes}: a fresh process ({' '.join(cmd[1:])})")
    t0 = time.perf_counter()
    tail: list[str] = []
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail = (tail + [line])[-40:]
            if "[bench]" in line:
                progress("  [bench]" + line.split("[bench]", 1)[1])
            if time.perf_counter() - t0 > timeout_s:
                break
        proc.wait(timeout=max(1.0, timeout_s - (time.perf_counter() - t0)))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"pass {pass_index + 1} ended with status {proc.returncode}:\n" + "\n".join(tail))
    return json.loads(out.read_text())
