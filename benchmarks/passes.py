"""Passes in processes of their own: start one, and merge what it measured.

`pytest benchmarks` (the parent) measures the rows measured once and pass 1, then starts, for each later pass,
`python -m pytest benchmarks --bench-child-pass K --bench-child-out FILE --bench-child-deadline T` - the same
modules, their per-pass tests only, in a new process that must be done by T (time.time()) - which writes its
rounds, groups and limit measurements to FILE when it ends. The parent pools them with its own: the report's
rows hold the rounds of every pass's process, and its limits are the best of all. `python -m benchmarks.ab`
starts the same processes with two interpreters, two at a time taking turns (run_children, benchmarks/baton.py),
and keeps each side's passes apart.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.watchdog import process_deadline_s
from tfguide import launcher

HAND_OVER_S = 30.0   # past the child's own watchdog: it ends itself, with its message, before we kill it


def dump(recorder, path: Path) -> None:
    from benchmarks.limits import public

    lim = public(recorder.limits)
    budget = recorder.budget
    state = {"rounds": recorder.rounds, "links": recorder.links,
             "meta": {k: v for k, v in recorder.meta.items() if v is not None}, "groups": recorder.groups,
             "skipped": recorder.skipped,
             "measured_s": sum(g["measured_s"] for g in recorder.groups),
             "budget": budget.describe() if budget is not None else None,
             "environment": recorder.environment, "threads": recorder.threads, "limits_full": lim,
             "limits": {"copy_bytes_per_s": lim["copy_bandwidth"]["best_bytes_per_s"],
                        "matmul_flop_per_s": {dev: {dt: v["best_flop_per_s"] for dt, v in by.items()}
                                              for dev, by in lim["matmul_peak"].items()},
                        "history": lim.get("history", [])}}
    from tfguide import atomic

    atomic.write_text(path, json.dumps(state, default=float))


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
        lim["history"].append({**entry, "when": f"{entry['when']} [another process]"})
    copy = lim["copy_bandwidth"]
    copy["best_bytes_per_s"] = max(copy["best_bytes_per_s"], state["limits"]["copy_bytes_per_s"])
    for dev, by in state["limits"]["matmul_flop_per_s"].items():
        for dtype, value in by.items():
            peak = lim["matmul_peak"].get(dev, {}).get(dtype)
            if peak is not None:
                peak["best_flop_per_s"] = max(peak["best_flop_per_s"], value)


def command(python: str, pass_index: int, out: Path, deadline: float, *, quick: bool,
            paths: tuple[str, ...] = ("benchmarks",)) -> list[str]:
    """The command line of one pass's process: `python` (any interpreter with this checkout's requirements),
    the per-pass tests of `paths`, done by `deadline` (time.time())."""
    return [python, "-m", "pytest", *paths, "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
            "--bench-child-pass", str(pass_index), "--bench-child-out", str(out),
            "--bench-child-deadline", f"{deadline:.3f}", *(["--quick"] if quick else [])]


def run_child(cmd: list[str], name: str, out: Path, progress, seconds: float, env: dict | None = None,
              limit_s: float | None = None) -> dict:
    """Run one pass's process (command()) that was given `seconds`; relay its progress; return its state with
    `wall_s`. Its own watchdog ends it when it hangs (a message naming the row); the launcher kills it
    HAND_OVER_S later (or at `limit_s`) if even that fails."""
    (state,) = run_children([launcher.Task(cmd, env=env or {}, name=name)], [out], progress, seconds, limit_s)
    return state


def run_children(tasks: list, outs: list[Path], progress, seconds: float, limit_s: float | None = None,
                 grace_s: float = HAND_OVER_S) -> list[dict]:
    """run_child for processes started together (the two sides of an A/B pair): the first one's progress is
    relayed; when one fails, the others get `grace_s` to end by themselves. Their states, in order; or
    RuntimeError with the output of the one that failed by itself."""
    name = "+".join(t.name for t in tasks)

    def relay(line: str) -> None:
        if "[bench]" in line:
            progress(f"  {name}: [bench]" + line.split("[bench]", 1)[1])

    limit = process_deadline_s(seconds) + HAND_OVER_S if limit_s is None else limit_s
    t0 = time.monotonic()
    result = launcher.run(tasks, limit, relay=relay, grace_s=grace_s)
    wall = time.monotonic() - t0
    ended = list(zip(tasks, result.processes, outs))
    failed = [e for e in ended if e[1].returncode != 0 or not e[2].exists()]
    if failed:   # the one that failed by itself, not one killed after it
        task, child, _ = next((e for e in failed if not e[1].killed), failed[0])
        tail = (child.stdout + child.stderr).splitlines()[-40:]
        if child.killed:
            tail.append(f"(killed: {task.name} " + (f"took longer than {limit:.0f} s)" if result.timed_out
                                                    else "after the other process failed)"))
        raise RuntimeError(f"{task.name} ended with status {child.returncode}:\n" + "\n".join(tail))
    states = []
    for _, _, out in ended:
        state = json.loads(out.read_text())
        state["wall_s"] = wall
        states.append(state)
    return states
