"""Passes 2..P of a full run, each in a fresh process: start it, and merge what it measured.

`pytest benchmarks` (the parent) measures pass 1 and the rows measured once, then starts
`python -m pytest benchmarks --bench-child-pass K --bench-child-out FILE` - the same tests, pass K+1 only, in a
new process - which writes its rounds, groups and limit measurements to FILE when it ends. The parent pools
them with its own: the report's rows hold the rounds of P processes, and its limits are the best of all.
"""

from __future__ import annotations

import json
from pathlib import Path

from tfguide import launcher


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
    cmd = command or launcher.python("-m", "pytest", "benchmarks", "-q", "-p", "no:randomly", "--bench-child-pass",
                                     str(pass_index), "--bench-child-out", str(out),
                                     *(["--quick"] if plan.quick else []))
    progress(f"[bench] pass {pass_index + 1}/{plan.passes}: a fresh process ({' '.join(cmd[1:])})")

    def relay(line: str) -> None:
        if "[bench]" in line:
            progress("  [bench]" + line.split("[bench]", 1)[1])

    result = launcher.run([launcher.Task(cmd, name=f"pass-{pass_index + 1}")], timeout_s, relay=relay)
    (child,) = result.processes
    if child.returncode != 0 or not out.exists():
        tail = (child.stdout + child.stderr).splitlines()[-40:]
        if result.timed_out:
            tail.append(f"(killed: pass {pass_index + 1} took longer than {timeout_s:.0f} s)")
        raise RuntimeError(f"pass {pass_index + 1} ended with status {child.returncode}:\n" + "\n".join(tail))
    return json.loads(out.read_text())
