"""The measuring loop every benchmark shares: units measured round-robin, adaptively, in passes.

A *unit* is one thing that is timed: a report row (the guide's pipeline at batch 32, a tuned `fit`),
a stage of a tf.data ladder, a training configuration's compute-only twin, a limit probe. A *group*
is the set of units compared with each other (the variants of one recipe). Per pass:

1. every unit runs one warm-up round (not recorded); its duration sets how many repetitions (epochs,
   calls) one round holds, so that no round is shorter than `plan.min_round_s` (0.1 s, calibrated as pyperf
   calibrates its values: a round of milliseconds measures a few dozen thread hand-offs and timer ticks); a round
   that still came out shorter (the warm-up's first-time work: a cache filled, a function traced) gives the next
   ones more repetitions;
2. rounds are then taken round-robin, A B C, B C A, C A B, ... (rotated so that no unit always runs
   right after the same neighbour): drift of the machine (clock, other processes, thermal state) hits
   every unit alike, and ratios between units are taken from the same round (stats.py);
3. after `plan.min_rounds_per_pass` rounds, a unit whose median interval is within
   `plan.target_half_width` (5 %) leaves the rotation, unless another unit still needs it as its
   baseline or twin; the group stops when no unit is left or its share of the run's budget is spent (the
   share is computed when its rounds begin, its warm-up done: benchmarks/budget.py). A row that could not
   reach the target within its share says so in the report. Once the process is behind its budget, a group
   stops after BEHIND_ROUNDS rounds whatever its minimum (its rows then have a median and no interval).

In a pass of `python -m benchmarks.ab` (plan.paired), the process takes turns with the other side's
(benchmarks/baton.py): before each round of a unit it hands over the baton, so that the two sides' round r of a
row are measured one right after the other; every row then measures until its group's share is spent, and the
units that are no row's (a ladder's stages) are left out.

A full run makes several passes through every group (4: Plan.passes), each in its own process minutes after
the one before, with pipelines, iterators, arrays and models' inputs built again for each pass (the group's
`prepare`), and pools the rounds of all passes: luck that holds for a whole pass (where an array landed in
memory, which pool thread got which core, what the machine's neighbours were doing that minute) varies
between the passes, so it shows in the interval (stats.pass_interval) instead of silently shifting the
median.

A row whose rounds fall into separated speeds (on a small VM, tf.data's rounds jump between two speeds 2x apart:
docs/benchmark-noise.md) reports each mode - its median, interval and share of the rounds, and how often
consecutive rounds switched - and its figure is the fastest mode holding a fifth of the rounds, never a median
between the modes (benchmarks/modes.py); the pass spread and the adaptive stop use that mode's rounds.

Around every round the machine is sampled (benchmarks/machine.py): cores used by this process and by
others, hypervisor steal, load average and the round's peak resident memory; and its own speed is probed right
before and after the round (benchmarks/machine_speed.py: a fixed pure-Python loop, outside the round's time). Rounds
taken while other processes used more than a quarter of a core are marked as under interference, rounds whose
probe ran below 0.8 of the run's full speed as slowed; a row's statistics use its clean rounds (neither) when it
has enough of them (MIN_ROUNDS_FOR_INTERVAL), and otherwise say which others they include (harness._select).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Callable

from benchmarks import baton, machine, machine_speed, slowdown
from benchmarks.budget import BEHIND_ROUNDS
from benchmarks.stats import MIN_ROUNDS_FOR_INTERVAL
from benchmarks.watchdog import WARMUP_LIMIT_S, round_limit_s


class Clock:
    """Handed to a unit's round function: `with clock.timed():` around the part that counts, so that
    setup (building an iterator, its first batch) stays out of the round's time."""

    def __init__(self):
        self.parts = {"wall_s": 0.0, "cpu_s": 0.0, "others_cpu_s": 0.0, "steal_s": 0.0}
        self.readable = True
        self.extra: dict = {}
        self._start = None

    def start(self) -> None:
        self._start = machine.Sample.starting()

    def stop(self) -> None:
        delta = machine.Sample.now().since(self._start)
        self._start = None
        for key in ("wall_s", "cpu_s"):
            self.parts[key] += delta[key]
        if delta["others_cpu_s"] is None:
            self.readable = False
        else:
            self.parts["others_cpu_s"] += delta["others_cpu_s"]
            self.parts["steal_s"] += delta["steal_s"]

    @contextlib.contextmanager
    def timed(self):
        self.start()
        try:
            yield
        finally:
            self.stop()

    def add(self, key: str, value: float) -> None:
        """Accumulate a measured part of the round (e.g. seconds spent waiting for input)."""
        self.extra[key] = self.extra.get(key, 0.0) + value

    @property
    def seconds(self) -> float:
        return self.parts["wall_s"]


@dataclass
class Unit:
    key: str                                  # unique name; a report row's name when `row` is set
    run: Callable[[Clock], float]             # one repetition; returns the items it processed (timed parts)
    row: dict | None = None                   # the row's fields (recipe, section, configuration, ...)
    baseline: str | None = None               # key of the unit its "x guide" ratio is taken against
    twin: str | None = None                   # key of its compute-only twin (input wait share)
    repeats: int = 1
    max_repeats: int = 64
    slowed_by: float = 0.0                    # a deliberate slow-down for tests of the A/B (benchmarks/slowdown.py)


@dataclass
class Group:
    name: str                                 # e.g. "data.numpy"
    section: str                              # data / training / io
    units: list[Unit]
    budget_s: float                           # its declared budget: its weight in the run's (benchmarks/budget.py)


def _rotate(seq: list, r: int) -> list:
    if not seq:
        return seq
    k = r % len(seq)
    return seq[k:] + seq[:k]


def round_result(clock: Clock, items: float, load: float | None, repeats: int = 1) -> dict:
    """A round's record from its clock (call right after the round, for the peak memory to be its own)."""
    wall = clock.seconds
    inter = machine.interference(clock.parts) if clock.readable else {
        "others_cores": None, "steal_share": None, "interfered": False}
    return {"s": wall, "items": items, "rate": items / wall if wall > 0 else math.nan,
            "cores_used": clock.parts["cpu_s"] / wall if wall > 0 else None, **inter,
            "peak_rss_bytes": machine.peak_rss_bytes(), "load_average": load,
            "repeats": repeats, **{f"extra_{k}": v for k, v in clock.extra.items()}}


def run_round(unit: Unit) -> dict:
    """One recorded round of `unit`: its repetitions, and the machine around them."""
    machine.reset_peak_rss()
    load = machine.load_average()
    probe_before = machine_speed.probe()
    clock = Clock()
    items = 0.0
    for _ in range(unit.repeats):
        before = clock.seconds
        items += float(unit.run(clock))
        if unit.slowed_by:
            slowdown.stall(clock, clock.seconds - before, unit.slowed_by)
    result = round_result(clock, items, load, unit.repeats)
    return {**result, "probe_before": probe_before, "probe_after": machine_speed.probe()}


def _resize(unit: Unit, round_s: float, min_round_s: float) -> None:
    """After a round shorter than the minimum, more repetitions for the next ones (never fewer): a warm-up that
    filled a cache or traced a function sized the round on first-time work that later rounds no longer do."""
    if round_s < 0.8 * min_round_s and unit.repeats < unit.max_repeats:   # within a fifth of it: noise, not size
        once = max(round_s / unit.repeats, 1e-6)
        unit.repeats = max(unit.repeats, min(unit.max_repeats, math.ceil(min_round_s / once)))


def measure_group(group: Group, recorder, plan, prepare: Callable[[], None] | None = None, *,
                  once: bool = False) -> None:
    """Measure every unit of `group` in the current pass of `recorder` (see the module docstring). A group
    measured `once` (before pass 1) takes at least the rounds a 95 % interval needs on its own."""
    pass_index = 0 if once else recorder.pass_index
    min_rounds = MIN_ROUNDS_FOR_INTERVAL if once else plan.min_rounds_per_pass
    where = f"group {group.name}, " + ("measured once" if once else f"pass {pass_index + 1}")
    if prepare is not None:
        with recorder.activity(f"preparing {where}", WARMUP_LIMIT_S):
            prepare()
    units = group.units
    if plan.paired:   # an A/B compares rows: the ladders' stages are a run's business, and rounds are what pairs need
        needed = {dep for u in units if u.row is not None for dep in (u.baseline, u.twin) if dep}
        units = [u for u in units if u.row is not None or u.key in needed]
    slowdown.mark(group, units)
    recorder.declare(group, units)
    started = time.perf_counter()
    took: dict[str, float] = {}   # a unit's last round (or warm-up) time: the limit of its next round
    for unit in units:  # warm-up round: traces, caches, first allocations; then the repetitions a round needs
        with recorder.activity(f"the warm-up of {unit.key} ({where})", WARMUP_LIMIT_S):
            clock = Clock()
            unit.repeats = 1
            unit.run(clock)
            if unit.max_repeats > 1 and clock.seconds < plan.min_round_s:
                clock = Clock()  # the warm-up was slow with first-time work: size the round on a warm repetition
                unit.run(clock)
                unit.repeats = max(1, min(unit.max_repeats, math.ceil(plan.min_round_s / max(clock.seconds, 1e-6))))
        took[unit.key] = clock.seconds * unit.repeats
    warmup_s = time.perf_counter() - started
    budget_s = recorder.allot(group.name, group.budget_s)
    needed_by = {}
    for u in units:
        for dep in (u.baseline, u.twin):
            if dep:
                needed_by.setdefault(dep, set()).add(u.key)
    active = list(units)
    r = 0
    t0 = time.perf_counter()
    budget_spent = False
    while active:
        for unit in _rotate(active, r):
            baton.turn(unit.key)   # in an A/B pair, the other side's round of this unit comes right before or after
            with recorder.activity(f"round {r + 1} of {unit.key} ({where})", round_limit_s(took[unit.key])):
                result = run_round(unit)
            took[unit.key] = result["s"]
            recorder.add_round(unit.key, pass_index, r, result)
            _resize(unit, result["s"], plan.min_round_s)
        r += 1
        elapsed = time.perf_counter() - t0
        if r >= min_rounds and not plan.paired:
            precise = {u.key for u in active if recorder.precise_enough(u.key)}
            still = {u.key for u in active if u.key not in precise}
            active = [u for u in active if u.key in still or (needed_by.get(u.key, set()) & still)]
        if not active:
            break
        if r >= min_rounds and (elapsed >= budget_s or r >= plan.max_rounds_per_pass):
            budget_spent = True
            break
        if BEHIND_ROUNDS <= r < min_rounds and recorder.behind(group.name):
            budget_spent = True
            break
    recorder.group_done(group, pass_index, once=once, rounds=r, seconds=time.perf_counter() - t0, warmup_s=warmup_s,
                        budget_s=budget_s, budget_spent=budget_spent, unfinished=[u.key for u in active])

