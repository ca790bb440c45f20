"""Interleaved A/B: the same benchmarks under two interpreters, their processes taking turns round by round.

    python -m benchmarks.ab --a PYTHON_A --b PYTHON_B [--quick] [--budget MINUTES] [--recipes ID,...]
                            [--slow-b PATTERN[=FRACTION]] [--fail-if-slower PCT] [DIR]

PYTHON_A and PYTHON_B are the interpreters of two environments (this TensorFlow and the next, say), each with
this checkout's requirements; the same interpreter twice is an A/A. A *pair* is two fresh processes, one per side,
each measuring every per-pass group once (`pytest benchmarks --bench-child-pass K --quick`, benchmarks/passes.py),
started together and taking turns (benchmarks/baton.py): only the process holding the baton works, and it hands
the baton over before each round of a unit, so that A's round r of a row and B's round r of that row are taken
one right after the other - who goes first alternating from round to round - while the other process waits. The
passes use the quick run's sizes (a comparison needs the same work on both sides, not the largest) and the
warm-ups of a later pass (no first epoch to its end); every row keeps its rounds until its group's share of the
pair's time is spent, and a ladder's stages, which no comparison uses, are not measured (Plan.paired).

Why turns. The speed of a shared machine drifts over seconds (how far on the reference machine:
docs/measurements.md, "How the machine's speed moves"). Two runs,
or two passes minutes apart, carry that drift into their ratio; two rounds a few milliseconds apart share it.
For each row, round r of pair K gives r_Kr = B's rate / A's rate; the row's B/A is the median of all its r_Kr,
with the interval every row has (benchmarks/stats.py rate_interval: the order statistics of the ratios, widened
to the spread of the pairs' medians where that is wider - each process's own luck - pooled over the rows of a
group, which share their processes), the rows judged together by Holm's step-down procedure so that all m
intervals hold together with 95 % (tfguide/intervals.py holm: judged at 95 % each, an A/A of 49 rows would call two
or three of them changed). Where a row's rounds fall into separated speeds on either side (benchmarks/modes.py),
only the rounds whose two sides were in the same mode give a ratio (like_with_like). Rounds one side measured with
the machine slowed (benchmarks/machine_speed.py) are kept: taken one right after the other, the two sides' rounds are
slowed alike or, when the machine changed speed between them, give a ratio far out on either side, which the median
and its order-statistic interval ride out - leaving such pairs out cost a third of the rounds and widened the
intervals by a quarter (docs/measurements.md). The verdict is `slower` or
`faster` when that interval excludes 1, `same` otherwise; the smallest change the run detects is the one it reports 8
times in 10 for the median row (about 1.3 times its half-width: tfguide/intervals.py). What is left is each round's
own noise (the ratio of two rounds taken one after the other still varies: docs/measurements.md, "How the machine's
speed moves"): the interval narrows with the square root of the rounds a row gets. A row's rates on each side
(a/, b/) are measured right after the other process's round: only their ratio is the comparison.

The budget (default: the full run's, 15 minutes; --quick: 3 minutes and only the recipe QUICK_RECIPES names) covers
every process. It is shared among --pairs pairs (default 4: PAIRS), each given an equal part of what is left when
it starts, but no more pairs than can each measure at least as long as a pair's start has cost (and at least 2:
the pairs' spread needs two). Pairs start A first and B first in turn; each pair's processes get the pair's time
as their deadline and share it among their groups as a run does (benchmarks/budget.py). --slow-b slows B's
matching rows by a known fraction (benchmarks/slowdown.py), to check that a change is seen.

Writes DIR (default tfguide-reports/ab/ under the current directory): a/benchmarks.json and b/benchmarks.json
(each side's passes pooled, a report like any other), passes/ (every pass's rounds) and ab.json (the paired rows; its contract is
tfguide/schemas/ab.schema.json); then prints it with `python -m reports compare DIR/ab.json`, whose exit status it
returns (--fail-if-slower as compare's). Exit 2 when an interpreter cannot run the benchmarks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks import budget as budget_mod
from benchmarks import baton, declaration, modes, passes, slowdown
from benchmarks.machine import process_age_s
from benchmarks.stats import pass_log_medians, pooled_sd, rate_interval
from tfguide import atomic, launcher
from tfguide.contracts import SCHEMAS
from tfguide.outputs import DEFAULT_REPORT_DIR
from tfguide.intervals import FAMILY_CONFIDENCE, detectable_change, family_confidence, holm

SCHEMA_PATH = SCHEMAS / "ab.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$id"]
# Four pairs unless fewer fit: a pair's start (two processes' imports, limits and set-ups) costs little of a
# 15-minute budget (45-60 s here), and the pairs' spread - each process's own luck, which widens every row's
# interval - is estimated from the pairs. A pair is planned only when it can measure at least as long as its start.
PAIRS, MIN_PAIRS = 4, 2
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


def _round_rates(state: dict, key: str) -> dict[int, float]:
    return {r["round"]: r["rate"] for r in state["rounds"].get(key, [])
            if isinstance(r.get("rate"), (int, float)) and r["rate"] > 0 and math.isfinite(r["rate"])}


def _round_seconds(state: dict, key: str) -> float:
    return sum(r.get("s") or 0.0 for r in state["rounds"].get(key, []))


def like_with_like(pairs_rates: list[tuple[dict[int, float], dict[int, float]]]) -> tuple[list[float], list[int], dict]:
    """The round ratios B/A of one row over every pair, compared like with like (benchmarks/modes.py): where either
    side's rounds fall into separated speeds, only the rounds whose two sides were in the same mode (by rank: the
    fastest with the fastest; with different mode counts, each side's headline mode) give a ratio - a round of A's
    fast mode against one of B's slow mode measures the runtime's state, not the change. Returns the ratios, each
    ratio's pair and how the modes were compared."""
    sides = {}
    for s, side in enumerate("ab"):
        rates = [v for pr in pairs_rates for _, v in sorted(pr[s].items())]
        owners = [k for k, pr in enumerate(pairs_rates) for _ in pr[s]]
        sides[side] = modes.describe(rates, owners)   # one mode below modes.MIN_ROUNDS
    count = {side: d["count"] for side, d in sides.items()}
    same_count = count["a"] == count["b"]

    def mode(side: str, rate: float) -> int:
        d = sides[side]
        if d["count"] == 1:
            return 0
        k = modes.mode_of(rate, d["bounds"])
        return k if same_count else (0 if k == modes.headline(d["shares"]) else -1)

    values, owners, kept, total = [], [], 0, 0
    for k, (a, b) in enumerate(pairs_rates):
        for r in sorted(a.keys() & b.keys()):
            total += 1
            ma, mb = mode("a", a[r]), mode("b", b[r])
            if ma == mb and ma >= 0:
                values.append(b[r] / a[r])
                owners.append(k)
                kept += 1
    info = {"modes_a": count["a"], "modes_b": count["b"], "rounds_paired": total, "rounds_same_mode": kept,
            "compared": ("all rounds" if count["a"] == count["b"] == 1 else
                         "rounds in the same mode on both sides" if same_count else
                         "each side's headline mode (their mode counts differ)")}
    for side, d in sides.items():
        if d["count"] > 1:
            info[f"mode_rates_{side}"] = d["medians"]
            info[f"mode_shares_{side}"] = d["shares"]
    return values, owners, info


def paired_rows(states: dict[str, list[dict]]) -> tuple[list[dict], float]:
    """Per row present on both sides: its rounds' ratios B/A over every pair (like with like), their median and its
    interval (the pairs' spread pooled over the rows of the row's group: see the module docstring), the rows judged
    together by Holm's step-down procedure (tfguide/intervals.py holm); and the level the first step takes."""
    meta_a, meta_b = states["a"][0]["meta"], states["b"][0]["meta"]
    links = states["a"][0]["links"]
    ratios: dict[str, tuple[list[float], list[int], dict]] = {}
    for key in meta_a:
        if key not in meta_b:
            continue
        pairs_rates = [(_round_rates(sa, key), _round_rates(sb, key)) for sa, sb in zip(states["a"], states["b"])]
        values, pairs, info = like_with_like(pairs_rates)
        info["measured_s"] = sum(_round_seconds(sa, key) + _round_seconds(sb, key)
                                 for sa, sb in zip(states["a"], states["b"]))
        if values:
            ratios[key] = (values, pairs, info)
    by_group: dict[str, list[list[float]]] = {}
    for key, (values, pairs, _) in ratios.items():
        by_group.setdefault(links.get(key, {}).get("group"), []).append(pass_log_medians(values, pairs))
    pooled = {group: pooled_sd(logs) for group, logs in by_group.items()}
    keys = list(ratios)

    def interval(i: int, level: float) -> dict:
        values, pairs, _ = ratios[keys[i]]
        group = links.get(keys[i], {}).get("group")
        return rate_interval(values, pairs, min_rounds_per_pass=2, pooled=pooled[group], confidence=level)

    def excludes_one(i: int, level: float) -> bool:
        low, high = interval(i, level)["ci"]
        return low is not None and (low > 1 or high < 1)

    levels = holm(len(keys), excludes_one)
    rows = []
    for i, key in enumerate(keys):
        values, pairs, info = ratios[key]
        meta, group = meta_a[key], links.get(key, {}).get("group")
        got = interval(i, levels[i])
        low, high = got["ci"]
        verdict = ("no interval" if low is None else "faster" if low > 1 else "slower" if high < 1 else "same")
        per_pair = [statistics.median([v for v, p in zip(values, pairs) if p == k]) for k in sorted(set(pairs))]
        rows.append({"section": meta.get("section"), "name": key, "recipe": meta.get("recipe"), "group": group,
                     "slowed_b": meta_b[key].get("slowed_by", 0.0), "pairs": len(per_pair), "rounds": len(values),
                     "pair_ratios": per_pair, "ratio": got["median"], "low": low, "high": high,
                     "half_width": got["half_width"], "interval_width_from": got["width_from"],
                     "confidence": levels[i], "verdict": verdict, **info})
    return rows, family_confidence(len(keys))


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


def summary(rows: list[dict], confidence: float) -> dict:
    """The verdicts, the median half-width and the smallest change the run detects 8 times in 10 (for the
    median row, its interval taken at `confidence`: tfguide/intervals.py)."""
    widths = sorted(r["half_width"] for r in rows if r["half_width"] is not None)
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("slower", "faster", "same", "no interval")}
    median = statistics.median(widths) if widths else None
    return {"rows": len(rows), **counts, "median_half_width": median,
            "smallest_detectable_change": detectable_change(median, confidence)}


class Planner:
    """How many pairs still fit, and each pair's seconds (see the module docstring)."""

    def __init__(self, total_s: float, clock=time.monotonic, pairs: int = PAIRS):
        self.total_s, self.clock, self.started, self.pairs = total_s, clock, clock(), pairs
        self.starts: list[float] = []    # each pair's seconds beyond measuring: starts, limits, set-ups, hand-over

    def left(self) -> float:
        return self.total_s - (self.clock() - self.started) - budget_mod.REPORT_RESERVE_S[True]

    def pairs_left(self, done: int) -> int:
        """Pairs still to run after `done`: up to the planned number, as many as can each measure at least as
        long as a pair's start has cost so far; at least one more until there are MIN_PAIRS."""
        if not self.starts:
            return max(MIN_PAIRS, self.pairs) - done
        fit = int(max(0.0, self.left()) // (2 * max(self.starts)))
        return max(MIN_PAIRS - done, min(self.pairs - done, fit))

    def pair_seconds(self, pairs_left: int) -> float:
        return max(1.0, self.left()) / max(1, pairs_left)

    def pair_done(self, wall_s: float, states: dict[str, dict]) -> None:
        """A pair's wall time and its sides' states: what it spent beyond measuring (the side that measured
        longer: each side's rounds count the other's turns too)."""
        measured = max(sum(g.get("measured_s") or 0.0 for g in st.get("groups", [])) for st in states.values())
        self.starts.append(max(0.0, wall_s - measured))


def duet_cpus(k: int) -> dict[str, str]:
    """Pair k of a duet: each side's half of the usable cores, the halves swapped from pair to pair (a core that is
    faster, or shared with the machine's interrupts, favours neither side)."""
    cpus = sorted(os.sched_getaffinity(0))
    half = len(cpus) // 2
    if half < 1:
        raise BadSide(f"--duet needs at least 2 usable cores, this process has {len(cpus)}")
    first, second = ",".join(map(str, cpus[:half])), ",".join(map(str, cpus[half:2 * half]))
    return {"a": first, "b": second} if k % 2 == 0 else {"a": second, "b": first}


def run_pair(sides: dict[str, str], k: int, seconds: float, out_dir: Path, paths: tuple[str, ...],
             extra: dict[str, dict], duet: bool = False) -> tuple[dict[str, dict], int]:
    """Pair k: A's and B's pass processes started together, taking turns (benchmarks/baton.py) or, in a duet, each
    on its half of the cores and starting each round together; each side's state (passes.run_children's) and how
    many turns the baton handed out."""
    outs = {side: out_dir / "passes" / f"{side}-{k + 1}.json" for side in "ab"}
    deadline = time.time() + seconds
    # The side started first joins first: it takes the first turn and goes first in the first round of each row.
    # It alternates from pair to pair, so that whatever that favours is the same for both sides.
    first = "ab" if k % 2 == 0 else "ba"
    if duet:
        cpus = duet_cpus(k)
        extra = {side: {**extra[side], baton.CPUS_ENV: cpus[side]} for side in "ab"}
    with baton.Server(duet=duet) as server:
        # pass index k + 1: the warm-ups of a later pass, not pass 1's epoch to its end
        tasks = [launcher.Task(passes.command(sides[side], k + 1, outs[side], deadline, quick=True, paths=paths),
                               env={**extra[side], **server.env()}, name=f"{side.upper()}{k + 1}") for side in first]
        states = passes.run_children(tasks, [outs[side] for side in first], say, seconds)
        turns = server.grants
    return dict(zip(first, states)), turns


def run(args) -> int:
    sides = {"a": args.a, "b": args.b}
    total = 60.0 * (args.budget or budget_mod.DEFAULT_MINUTES[args.quick])
    planner = Planner(total, pairs=args.pairs)
    planner.started -= process_age_s()   # the budget is the command's: its start and the probes count too
    env = {side: probe(side, python) for side, python in sides.items()}
    paths = tuple(f"benchmarks/{declaration.module_name(r)}.py" for r in args.recipes) or ("benchmarks",)
    out_dir = args.dir
    (out_dir / "passes").mkdir(parents=True, exist_ok=True)
    # set for both sides: a slow-down in the caller's environment must not reach A
    extra = {"a": {slowdown.ENV: ""}, "b": {slowdown.ENV: args.slow_b or ""}}
    states: dict[str, list[dict]] = {"a": [], "b": []}
    turns: list[int] = []
    pair = 0
    while True:
        left = planner.pairs_left(pair)
        if left <= 0:
            break
        seconds = planner.pair_seconds(left)
        say(f"pair {pair + 1} ({left} to go, {seconds / 60:.1f} min, {max(0.0, planner.left()) / 60:.1f} min left): "
            f"A ({sides['a']}) and B ({sides['b']}) " + ("at once, each on its half of the cores" if args.duet
                                                         else "taking turns"))
        t0 = planner.clock()
        pair_states, pair_turns = run_pair(sides, pair, seconds, out_dir, paths, extra, args.duet)
        planner.pair_done(planner.clock() - t0, pair_states)
        for side in "ab":
            states[side].append(pair_states[side])
        turns.append(pair_turns)
        pair += 1
    wall = planner.clock() - planner.started
    reports = {side: side_report(states[side], wall) for side in "ab"}
    from benchmarks import report

    for side in "ab":
        report.write_json(reports[side], out_dir / side)
    rows, confidence = paired_rows(states)
    rows = _with_side_figures(rows, reports)
    ab = {"schema": SCHEMA, "a": {"python": sides["a"], **env["a"], "report": f"{out_dir / 'a' / 'benchmarks.json'}"},
          "b": {"python": sides["b"], **env["b"], "report": f"{out_dir / 'b' / 'benchmarks.json'}",
                "slowed": args.slow_b or None},
          "pairs": pair, "turns": turns, "pairing": "duet" if args.duet else "turns", "quick": args.quick, "recipes": list(args.recipes) or "all",
          "budget_s": total, "wall_s": wall, "method": " ".join(p.strip() for p in __doc__.split("\n\n")[2:4]),
          "confidence": {"family": FAMILY_CONFIDENCE, "per_row": confidence},
          "rows": rows, "summary": summary(rows, confidence), "provenance": reports["a"]["provenance"]}
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
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT_REPORT_DIR / "ab",
                    help="where the reports go (default: tfguide-reports/ab/ under the current directory)")
    ap.add_argument("--a", required=True, metavar="PYTHON", help="interpreter of environment A (the baseline)")
    ap.add_argument("--b", required=True, metavar="PYTHON", help="interpreter of environment B")
    ap.add_argument("--quick", action="store_true",
                    help=f"a 3-minute budget and, unless --recipes says otherwise, only {', '.join(QUICK_RECIPES)}")
    ap.add_argument("--budget", type=float, metavar="MINUTES", help="every process included (default 15; quick 3)")
    ap.add_argument("--recipes", default=None, metavar="ID,...", help="only these recipes' benchmarks")
    ap.add_argument("--slow-b", default=None, metavar="PATTERN[=FRACTION]",
                    help=f"slow B's matching groups or rows down (default fraction {slowdown.DEFAULT_FRACTION})")
    ap.add_argument("--pairs", type=int, default=PAIRS, metavar="N",
                    help=f"pairs of processes to share the budget among (default {PAIRS}; fewer when a pair's start "
                         f"would cost more than it measures; at least {MIN_PAIRS})")
    ap.add_argument("--fail-if-slower", type=float, default=None, metavar="PCT",
                    help="exit 1 when a row is slower by more than PCT %% (every row's interval taken so that all hold "
                         "together with 95 %% confidence)")
    ap.add_argument("--duet", action="store_true",
                    help="run A and B at the same time, each pinned to its half of the cores, starting each round "
                         "together (benchmarks/baton.py), instead of taking turns")
    args = ap.parse_args(argv)
    if args.budget is not None and args.budget <= 0:
        ap.error("--budget takes a positive number of minutes")
    if args.pairs < MIN_PAIRS:
        ap.error(f"--pairs takes at least {MIN_PAIRS}: the pairs' spread needs two")
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
