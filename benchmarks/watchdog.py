"""A benchmark process that hangs ends, with a message naming what it was measuring.

Every process of `pytest benchmarks` (the run, a later pass, a pass of `python -m benchmarks.ab`) has a
deadline: its budget x DEADLINE_FACTOR + DEADLINE_SLACK_S, well past where the budget plans to end, so that
it only fires on a hang or a machine far slower than the plan. Every warm-up and every round has its own
deadline too, from how long that unit took before, so that a hung round is caught in minutes, not at the
run's end. A thread checks both every second. When one passes it writes to the terminal which activity (the
row, its group and pass) ran for how long, then the Python stacks of every thread, and ends the process with
status EXIT_HUNG: `os._exit`, because a thread stuck in TensorFlow's C++ cannot be interrupted. The processes
the run started are bounded by their own, shorter deadlines (tfguide/launcher.py), and end with it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import threading
import time
from typing import Callable, ContextManager, TextIO

EXIT_HUNG = 3
DEADLINE_FACTOR = 1.5
DEADLINE_SLACK_S = 120.0
ROUND_FLOOR_S = 120.0       # no round, however fast it was before, is called hung sooner
ROUND_FACTOR = 20.0         # ... nor before it has taken this many times as long as it took before
WARMUP_LIMIT_S = 600.0      # a warm-up (traces, compiles, a first epoch) of one unit
POLL_S = 1.0


def process_deadline_s(budget_s: float) -> float:
    return budget_s * DEADLINE_FACTOR + DEADLINE_SLACK_S


def round_limit_s(previous_s: float | None) -> float:
    return max(ROUND_FLOOR_S, ROUND_FACTOR * (previous_s or 0.0))


class Watchdog:
    """Start it once per process; `activity(what, limit_s)` around each piece of work."""

    def __init__(self, deadline: float, terminal: Callable[[], ContextManager[TextIO]], *,
                 clock: Callable[[], float] = time.monotonic, exit: Callable[[int], None] = os._exit):
        self.deadline = deadline          # clock() value at which the process is over its time
        self.terminal = terminal          # a context giving a file that reaches the user's terminal
        self.clock = clock
        self.exit = exit
        self.current: tuple[str, float, float] | None = None   # (what, since, limit_s)
        self.item = "the run's start"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Watchdog":
        self._thread = threading.Thread(target=self._watch, name="benchmarks-watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @contextlib.contextmanager
    def activity(self, what: str, limit_s: float):
        outer = self.current
        self.current = (what, self.clock(), limit_s)
        try:
            yield
        finally:
            self.current = outer

    def overdue(self) -> str | None:
        """Why the process must end now, or None."""
        now = self.clock()
        current = self.current
        if current is not None and now - current[1] > current[2]:
            return (f"{current[0]} has run for {now - current[1]:.0f} s, past its limit of {current[2]:.0f} s "
                    f"(in {self.item})")
        if now > self.deadline:
            doing = f"{current[0]}, for {now - current[1]:.0f} s" if current else "no round"
            return f"the process is past its deadline while in {self.item} ({doing})"
        return None

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            why = self.overdue()
            if why is not None:
                self.fire(why)
                return

    def fire(self, why: str) -> None:
        with self.terminal() as out:
            out.write(f"[bench] HUNG: {why}. Ending the process (status {EXIT_HUNG}); the Python stacks follow.\n")
            out.flush()
            faulthandler.dump_traceback(file=out, all_threads=True)
            out.flush()
        self.exit(EXIT_HUNG)
