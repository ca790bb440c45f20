"""The run's wall-time budget: `pytest benchmarks --budget MINUTES` (default 15, with --quick 3).

The budget is the whole wall time of the command, from the process's start to the written report: the
TensorFlow import, the limits, data files, warm-ups and compiles, the rows measured once, every pass and the
report. Only two things in a run can give time back: how long each group measures (its rounds beyond the
minimum) and how many passes a full run makes. Everything else is spent first and measured as it happens, so
the shares are computed from what this machine has shown so far, not from a table of what it should take:

- The work of a process runs in this order: the rows measured once (worker processes, the self-check, the
  Estimators, time to quality), then every group of the pass, then (the parent of a full run) passes 2..P,
  each a process of its own. What cannot be scaled is therefore behind us when the groups share the time.
- Before a group starts measuring (its set-up and warm-up done), the time left to the process's deadline,
  less the reserve for writing the report, is shared out: what the remaining groups will spend on their own
  set-up (the set-up seconds per declared budget second so far, `setup_ratio`), what each later pass will
  cost beyond measuring (its process start, its limits and its groups' set-up: pass 2 from pass 1, then
  from the passes already run) and, for what is left, measuring time in proportion to each group's declared
  budget (`Benchmark.budgets`: a weight now, no longer seconds). The group gets its part.
- A later pass runs only when, at that moment, it and the passes after it still get at least
  `MIN_MEASURING_SCALE` of their declared measuring time; otherwise the passes that do not fit are skipped,
  and the report says so. The process of a later pass gets a deadline (its expected cost at the current
  share) and shares it out among its own groups the same way.

A group still takes its minimum rounds when its share is smaller than they take (the minimum rounds are the floor
of a row's interval) - until the process is behind: when what is left no longer covers the set-up still to come
and the report (`behind`), a group stops after BEHIND_ROUNDS rounds (a median without an interval, which the
report says), and a group whose turn comes once the time left is within the report's reserve (`exhausted`) is
not measured at all, and the report says why. That is what keeps a machine several times slower than this one,
or a budget far too small, within the budget: its rows are fewer and rougher, never late. `Budget` is plain
arithmetic on a clock: tests drive it with a fake one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

DEFAULT_MINUTES = {False: 15.0, True: 3.0}      # full run, quick run
# Building, checking and rendering the report (matplotlib in a process of its own): 3 s on the 2-core VM this was
# built on, for a full run as for a quick one; about three times that is kept back.
REPORT_RESERVE_S = {False: 12.0, True: 10.0}
CHILD_RESERVE_S = 5.0                           # a later pass's process: writing its rounds back
# Prior of set-up seconds per declared budget second, until a group of this process has shown its own: pass 1
# builds data files and trains each training configuration a full epoch; a later pass rebuilds pipelines only.
PRIOR_SETUP_RATIO = {"first": 1.5, "later": 0.6}
MIN_MEASURING_SCALE = 0.5   # a later pass that cannot measure half its declared time is not worth its overhead
BEHIND_ROUNDS = 3           # the rounds of a group once the process is behind: a median, no interval


@dataclass
class Budget:
    """The time of one process: its deadline, what it has spent on what, and the shares of what is left."""

    total_s: float                       # this process's budget, from `started`
    weights: dict[str, float]            # group -> declared budget, for the groups this process will measure
    started: float                       # clock() when the process started
    repeated: frozenset = frozenset()    # the groups each later pass measures again (not the rows measured once)
    clock: Callable[[], float] = time.monotonic
    reserve_s: float = 0.0               # kept back for the report (or the child's hand-over)
    later_passes: int = 0                # planned passes after this process's own (the parent of a full run)
    kind: str = "first"                  # "first" (pass 1, with the rows measured once) or "later"
    done: dict = field(default_factory=dict)      # group -> {"setup_s", "measured_s", "weight"}
    item_started: float | None = None             # clock() when the current pytest item began (its set-up)
    pass_costs: list = field(default_factory=list)  # later passes run: {"wall_s", "measured_s"}
    start_s: float = 0.0                 # seconds from the process's start to its limits measured (ready())

    # -- the clock -------------------------------------------------------------------------------------

    @property
    def deadline(self) -> float:
        return self.started + self.total_s

    def elapsed(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        return self.deadline - self.clock()

    # -- what has been seen so far -------------------------------------------------------------------

    def setup_ratio(self) -> float:
        """Set-up seconds (data, pipelines, warm-ups, compiles) per declared budget second, over the groups done
        in this process; the prior until there is one."""
        weight = sum(d["weight"] for d in self.done.values())
        if weight <= 0:
            return PRIOR_SETUP_RATIO[self.kind]
        return sum(d["setup_s"] for d in self.done.values()) / weight

    def group_done(self, group: str, measured_s: float) -> None:
        """A group of this process has measured for `measured_s`; the rest of its item's time was set-up."""
        start = self.item_started if self.item_started is not None else self.clock() - measured_s
        setup = max(0.0, self.clock() - start - measured_s)
        self.done[group] = {"setup_s": setup, "measured_s": measured_s, "weight": self.weights.get(group, 0.0)}

    def ready(self) -> None:
        """The process has started, imported TensorFlow and measured the limits: what every later pass's process
        will spend before its first group."""
        self.start_s = self.elapsed()

    # -- the shares ------------------------------------------------------------------------------------

    def _pending(self, exclude: str | None = None) -> list[str]:
        return [g for g in self.weights if g not in self.done and g != exclude]

    def later_pass_overhead(self) -> float:
        """What a later pass costs besides measuring: as the passes run so far did, else this process's own start
        and limits plus its groups' set-up at the later passes' prior ratio (no first-epoch warm-ups)."""
        if self.pass_costs:
            return sum(p["wall_s"] - p["measured_s"] for p in self.pass_costs) / len(self.pass_costs)
        return self.start_s + PRIOR_SETUP_RATIO["later"] * self.pass_weight()

    def pass_weight(self) -> float:
        return sum(w for g, w in self.weights.items() if g in self.repeated)

    def _scale(self, current: str | None, later: int) -> float:
        """Measuring seconds per declared budget second, so that everything still to do, with `later` passes
        after this process's own, ends at the deadline."""
        pending = self._pending(exclude=current)
        weight_here = sum(self.weights[g] for g in pending) + (self.weights.get(current, 0.0) if current else 0.0)
        setup_here = self.setup_ratio() * sum(self.weights[g] for g in pending)
        weight = weight_here + later * self.pass_weight()
        free = self.left() - self.reserve_s - setup_here - later * self.later_pass_overhead()
        return max(0.0, free / weight) if weight > 0 else 0.0

    def behind(self, current: str | None = None) -> bool:
        """Whether the time left no longer covers the report and the set-up of the groups still to come (no
        measuring time is left for `current`, nor for anything after it)."""
        pending = self._pending(exclude=current)
        return self.left() - self.reserve_s - self.setup_ratio() * sum(self.weights[g] for g in pending) <= 0

    def exhausted(self) -> bool:
        """Whether only the report's reserve is left: a group whose turn comes now is not measured."""
        return self.left() <= self.reserve_s

    def passes_that_fit(self, current: str | None = None) -> int:
        """How many of the planned later passes still fit, each (and everything before it) measuring at least
        MIN_MEASURING_SCALE of its declared time; the passes that do not fit give their time to the rest."""
        for n in range(self.later_passes, 0, -1):
            if self._scale(current, n) >= MIN_MEASURING_SCALE:
                return n
        return 0

    def scale(self, current: str | None = None, later: int | None = None) -> float:
        """Measuring seconds per declared budget second now, with the later passes that fit."""
        return self._scale(current, self.passes_that_fit(current) if later is None else later)

    def allot(self, group: str) -> float:
        """The measuring seconds `group` gets now (its set-up is behind it)."""
        return self.scale(current=group) * self.weights.get(group, 0.0)

    def next_pass_deadline_s(self) -> float:
        """The seconds the next later pass's process gets: its overhead and its measuring at the current share,
        never beyond the time left."""
        overhead = self.later_pass_overhead()
        return min(self.left() - self.reserve_s,
                   overhead + self._scale(None, max(1, self.later_passes)) * self.pass_weight() + CHILD_RESERVE_S)

    def later_pass_done(self, wall_s: float, measured_s: float) -> None:
        self.pass_costs.append({"wall_s": wall_s, "measured_s": measured_s})
        self.later_passes = max(0, self.later_passes - 1)

    def describe(self) -> dict:
        """The budget as the report states it."""
        return {"budget_s": self.total_s, "setup_ratio": self.setup_ratio(), "later_passes_left": self.later_passes,
                "pass_costs": list(self.pass_costs), "start_s": self.start_s}
