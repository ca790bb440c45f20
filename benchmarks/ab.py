"""Interleaved A/B: the same benchmarks under two interpreters, passes alternating, paired row by row.

    python -m benchmarks.ab --a PYTHON_A --b PYTHON_B [--quick] [--budget MINUTES] [--recipes ID,...]
                            [--slow-b PATTERN[=FRACTION]] [--fail-if-slower PCT] [DIR]

PYTHON_A and PYTHON_B are the interpreters of two environments (this TensorFlow and the next, say), each with
this checkout's requirements; the same interpreter twice is an A/A. Each pass is a fresh process of one side
measuring every per-pass group once (`pytest benchmarks --bench-child-pass K --quick`, benchmarks/passes.py), in
the order A B, B A, A B, ...: pair K is A's and B's pass K, run back to back, and each pair's order is the reverse
of the one before, so that drift of the machine over a pair cancels over the pairs instead of always favouring
the side that runs second. The passes use the quick run's sizes (a comparison needs the same work on both sides,
not the largest; short passes make more pairs) and the warm-ups of a later pass (no first epoch to its end).

Why pairs. Two separate runs can only resolve large changes on a machine whose speed drifts over minutes: each
run's intervals must hold that drift. A pair's two passes are minutes apart, not a run apart, so most of the
drift hits both; what is left - each process's own luck, the drift within a pair - is in the spread of the
pairs' ratios. For each row, pair K gives r_K = B's median in pass K / A's median in pass K; the row's B/A is
the median of the r_K with the interval every row has (benchmarks/stats.py rate_interval, each pair a pass of
one round: Student's t over the log ratios, and the order statistics once there are 6 pairs). The verdict is
`slower` or `faster` when that interval excludes 1, `same` otherwise; the smallest change the run detects is
the one it reports 8 times in 10 for the median row (about 1.4 times its half-width: tfguide/intervals.py).

The budget (default: the full run's, 15 minutes; --quick: 3 minutes and only the recipe QUICK_RECIPES names) covers
every process. The first pair is given a
sixth of it; from then on as many pairs as still fit are planned (at least 2: one pair has no interval), each
pass's process gets an equal share as its deadline, and shares it among its groups as a run does
(benchmarks/budget.py). --slow-b slows B's matching rows by a known fraction (benchmarks/slowdown.py), to check
that a change is seen.

Writes DIR (default reports/ab/): a/benchmarks.json and b/benchmarks.json (each side's passes pooled, a report
like any other), passes/ (every pass's rounds) and ab.json (the paired rows; its contract is
benchmarks/ab.schema.json); then prints it with `python -m reports compare DIR/ab.json`, whose exit status it
returns (--fail-if-slower as compare's). Exit 2 when an interpreter cannot run the benchmarks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks import budget as budget_mod
from benchmarks import declaration, passes, slowdown
from benchmarks.stats import rate_interval
from tfguide import atomic, launcher
from tfguide.intervals import detectable_change

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = Path(__file__).resolve().parent / "ab.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$id"]
FIRST_PAIR_SHARE = 1 / 6     # of the budget, for the first pair, before any pass has shown what it costs
MIN_PAIRS, MAX_PAIRS = 2, 12
# The quick A/A of CI: one recipe whose passes are short (ten rows), so that three pairs fit in its minutes.
QUICK_RECIPES = ("data.numpy",)
PROBE_S = 120.0              # importing TensorFlow in an interpreter, to check it can run the benchmarks
PROBE = ("import json, sys, tensorflow as tf, pytest, numpy; "
         "print(json.dumps({'python_version': sys.version.split()[0], 'tensorflow': tf.__version__, "
         "'numpy': numpy.__version__}))")


class BadSide(Exception):
    """An interpreter that cannot run the benchmarks; str() says which and why."""


def probe(side: str, python: str) -> dict:
    try:
        result = launcher.run([launcher.Task([python, "-c", PROBE], name=f"probe-{side}")], PROBE_S)
    except OSError as exc:
        raise BadSide(f"--{side} {python}: cannot start it ({exc.strerror or exc})") from None
    (proc,) = result.processes
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise BadSide(f"--{side} {python}: cannot import TensorFlow and pytest ({last})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def order(pairs: int) -> list[tuple[int, str]]:
    """(pair, side) in the order they run: A B, B A, A B, ..."""
    out = []
    for k in range(pairs):
        out += [(k, "a"), (k, "b")] if k % 2 == 0 else [(k, "b"), (k, "a")]
    return out


def pass_medians(state: dict) -> dict[str, float]:
    """Each row's median rate in one pass's process."""
    out = {}
    for key, rounds in state["rounds"].items():
        rates = [r["rate"] for r in rounds if r.get("rate")]
        if key in state["meta"] and rates:
            out[key] = statistics.median(rates)
    return out


def paired_rows(states: dict[str, list[dict]]) -> list[dict]:
    """Per row present on both sides: the pairs' ratios B/A and the row's median ratio with its interval."""
    medians = {side: [pass_medians(s) for s in states[side]] for side in "ab"}
    meta_a, meta_b = states["a"][0]["meta"], states["b"][0]["meta"]
    rows = []
    for key, meta in meta_a.items():
        if key not in meta_b:
            continue
        ratios = [mb[key] / ma[key] for ma, mb in zip(medians["a"], medians["b"]) if key in ma and key in mb]
        if not ratios:
            continue
        interval = rate_interval(ratios, list(range(len(ratios))), min_rounds_per_pass=1)
        low, high = interval["ci95"]
        verdict = ("no interval" if low is None else "faster" if low > 1 else "slower" if high < 1 else "same")
        rows.append({"section": meta.get("section"), "name": key, "recipe": meta.get("recipe"),
                     "group": states["a"][0]["links"].get(key, {}).get("group"),
                     "slowed_b": meta_b[key].get("slowed_by", 0.0), "pairs": len(ratios), "pair_ratios": ratios,
                     "ratio": interval["median"], "low": low, "high": high, "half_width": interval["half_width"],
                     "interval_width_from": interval["width_from"], "verdict": verdict})
    return rows


def _with_side_figures(rows: list[dict], reports: dict[str, dict]) -> list[dict]:
    """Each row's pooled median and interval on both sides (from the sides' reports), and its % of limit."""
    by_side = {side: {r["name"]: r for t in ("data", "training", "io") for r in rep.get(t, [])}
               for side, rep in reports.items()}
    for row in rows:
        for side in "ab":
            r = by_side[side].get(row["name"], {})
            row[side] = r.get("examples_per_s")
            row[f"ci_{side}"] = r.get("examples_per_s_ci95")
            row[f"hw_{side}"] = r.get("ci_half_width")
            row[f"pct_{side}"] = r.get("pct_of_limit")
    return rows


def side_report(states: list[dict], wall_s: float) -> dict:
    """One side's passes pooled into a report like any run's (benchmarks/report.py)."""
    from benchmarks import report
    from benchmarks.harness import Plan, Recorder

    rec = Recorder(plan=Plan.for_run(True, child=True), progress=lambda line: None)
    rec.limits = {**json.loads(json.dumps(states[0]["limits_full"])), "history": []}  # merge() adds every pass's
    rec.threads = states[0].get("threads", {})
    rec.notes.append(f"{len(states)} passes of python -m benchmarks.ab, each a process of its own, pooled")
    for state in states:
        passes.merge(rec, state)
    return report.build(rec, states[0].get("environment") or {}, wall_s=wall_s)


def summary(rows: list[dict]) -> dict:
    """The verdicts, the median half-width and the smallest change the run detects 8 times in 10 (for the
    median row: tfguide/intervals.py)."""
    widths = sorted(r["half_width"] for r in rows if r["half_width"] is not None)
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("slower", "faster", "same", "no interval")}
    median = statistics.median(widths) if widths else None
    return {"rows": len(rows), **counts, "median_half_width": median,
            "smallest_detectable_change": detectable_change(median)}


class Planner:
    """How many pairs still fit, and each pass's seconds (see the module docstring)."""

    def __init__(self, total_s: float, clock=time.monotonic, max_pairs: int = MAX_PAIRS):
        self.total_s, self.clock, self.started, self.max_pairs = total_s, clock, clock(), max_pairs
        self.pass_walls: list[float] = []

    def left(self) -> float:
        return self.total_s - (self.clock() - self.started) - budget_mod.REPORT_RESERVE_S[True]

    def pairs_left(self, done: int) -> int:
        """Pairs still to run after `done`: as many as fit at the cost passes have shown, between the minimum
        and the maximum; at least one more until there are MIN_PAIRS."""
        if not self.pass_walls:
            return MIN_PAIRS - done
        cost = 2 * max(self.pass_walls)
        fit = int(max(0.0, self.left()) // cost)
        return max(MIN_PAIRS - done, min(self.max_pairs - done, fit))

    def pass_seconds(self, pairs_left: int) -> float:
        if not self.pass_walls:
            return self.total_s * FIRST_PAIR_SHARE / 2
        return max(1.0, self.left()) / (2 * max(1, pairs_left))


def run(args) -> int:
    sides = {"a": args.a, "b": args.b}
    env = {side: probe(side, python) for side, python in sides.items()}
    paths = tuple(f"benchmarks/{declaration.module_name(r)}.py" for r in args.recipes) or ("benchmarks",)
    total = 60.0 * (args.budget or budget_mod.DEFAULT_MINUTES[args.quick])
    planner = Planner(total, max_pairs=args.max_pairs)
    out_dir = args.dir
    (out_dir / "passes").mkdir(parents=True, exist_ok=True)
    # set for both sides: a slow-down in the caller's environment must not reach A
    extra = {"a": {slowdown.ENV: ""}, "b": {slowdown.ENV: args.slow_b or ""}}
    states: dict[str, list[dict]] = {"a": [], "b": []}
    ran: list[str] = []
    pair = 0
    while True:
        left = planner.pairs_left(pair)
        if left <= 0:
            break
        seconds = planner.pass_seconds(left)
        for k, side in order(pair + 1)[-2:]:
            out = out_dir / "passes" / f"{side}-{k + 1}.json"
            # pass index k + 1: the warm-ups of a later pass, not pass 1's epoch to its end
            cmd = passes.command(sides[side], k + 1, out, time.time() + seconds, quick=True, paths=paths)
            say(f"pair {k + 1} ({left} to go, {seconds / 60:.1f} min a pass, {max(0.0, planner.left()) / 60:.1f} min "
                f"left): {side.upper()} ({sides[side]})")
            state = passes.run_child(cmd, f"{side.upper()}{k + 1}", out, say, seconds, env=extra[side])
            planner.pass_walls.append(state["wall_s"])
            states[side].append(state)
            ran.append(side.upper())
        pair += 1
    wall = planner.clock() - planner.started
    reports = {side: side_report(states[side], wall) for side in "ab"}
    from benchmarks import report

    for side in "ab":
        report.write_json(reports[side], out_dir / side)
    rows = _with_side_figures(paired_rows(states), reports)
    ab = {"schema": SCHEMA, "a": {"python": sides["a"], **env["a"], "report": f"{out_dir / 'a' / 'benchmarks.json'}"},
          "b": {"python": sides["b"], **env["b"], "report": f"{out_dir / 'b' / 'benchmarks.json'}",
                "slowed": args.slow_b or None},
          "order": ran, "pairs": pair, "quick": args.quick, "recipes": list(args.recipes) or "all",
          "budget_s": total, "wall_s": wall, "method": __doc__.split("\n\n")[2].strip(), "rows": rows,
          "summary": summary(rows), "provenance": reports["a"]["provenance"]}
    path = atomic.write_text(out_dir / "ab.json", json.dumps(report.jsonable(ab), indent=1) + "\n")
    say(f"wrote {path} ({wall / 60:.1f} min of the {total / 60:.1f}-min budget)")
    compare = [sys.executable, "-m", "reports", "compare", str(path)]
    if args.fail_if_slower is not None:
        compare += ["--fail-if-slower", f"{args.fail_if_slower:g}"]
    result = launcher.run([launcher.Task(compare, name="compare")], 120.0)
    (proc,) = result.processes
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode if not result.timed_out else 1


def say(line: str) -> None:
    print(f"[ab] {line}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=ROOT / "reports" / "ab", help="where the reports go")
    ap.add_argument("--a", required=True, metavar="PYTHON", help="interpreter of environment A (the baseline)")
    ap.add_argument("--b", required=True, metavar="PYTHON", help="interpreter of environment B")
    ap.add_argument("--quick", action="store_true",
                    help=f"a 3-minute budget and, unless --recipes says otherwise, only {', '.join(QUICK_RECIPES)}")
    ap.add_argument("--budget", type=float, metavar="MINUTES", help="every process included (default 15; quick 3)")
    ap.add_argument("--recipes", default=None, metavar="ID,...", help="only these recipes' benchmarks")
    ap.add_argument("--slow-b", default=None, metavar="PATTERN[=FRACTION]",
                    help=f"slow B's matching groups or rows down (default fraction {slowdown.DEFAULT_FRACTION})")
    ap.add_argument("--max-pairs", type=int, default=MAX_PAIRS, metavar="N",
                    help=f"at most N pairs, even when more fit (default {MAX_PAIRS}; at least {MIN_PAIRS})")
    ap.add_argument("--fail-if-slower", type=float, default=None, metavar="PCT",
                    help="exit 1 when a row is slower by more than PCT %% with 95 %% confidence")
    args = ap.parse_args(argv)
    if args.budget is not None and args.budget <= 0:
        ap.error("--budget takes a positive number of minutes")
    if args.max_pairs < MIN_PAIRS:
        ap.error(f"--max-pairs takes at least {MIN_PAIRS}: one pair has no interval")
    recipes = args.recipes.split(",") if args.recipes else (list(QUICK_RECIPES) if args.quick else [])
    try:
        for r in recipes:
            declaration.load(r.strip())
        slowdown.parse(args.slow_b)
    except (declaration.DeclarationError, ModuleNotFoundError, ValueError) as exc:
        ap.error(str(exc))
    args.recipes = [r.strip() for r in recipes]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except BadSide as exc:
        print(f"python -m benchmarks.ab: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # a pass failed or hung: its own message names the row
        print(f"python -m benchmarks.ab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
