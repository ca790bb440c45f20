"""The run's wall-time budget (benchmarks/budget.py) and the watchdog that ends a hung process with a message naming
what it was doing (benchmarks/watchdog.py), on a fake clock: no TensorFlow, no real waiting."""

from __future__ import annotations

import contextlib
import io

import pytest

from benchmarks import budget as budget_mod
from benchmarks.budget import Budget
from benchmarks.watchdog import EXIT_HUNG, Watchdog, process_deadline_s, round_limit_s


class FakeClock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _budget(clock, total=900.0, later=3, **kw) -> Budget:
    weights = {"a": 10.0, "b": 30.0, "once": 20.0}
    return Budget(total_s=total, weights=weights, started=0.0, clock=clock, repeated=frozenset({"a", "b"}),
                  reserve_s=30.0, later_passes=later, **kw)


def _run_group(b: Budget, clock: FakeClock, group: str, setup_s: float, measured_s: float) -> None:
    b.item_started = clock.now
    clock.now += setup_s + measured_s
    b.group_done(group, measured_s)


def test_the_shares_end_everything_at_the_deadline_less_the_reserve():
    clock = FakeClock(60.0)          # a minute gone: interpreter, TensorFlow, limits
    b = _budget(clock)
    b.ready()
    # before any group: the prior set-up ratio (1.5) for the groups still to come (a, b); each later pass costs the
    # process's start (60 s) and its groups' set-up at the later prior (0.6 x 40) besides measuring
    free = 900 - 60 - 30 - 1.5 * (10 + 30) - 3 * (60 + 0.6 * 40)
    assert b.passes_that_fit() == 3
    assert b.scale(current="once") == pytest.approx(free / (20 + 10 + 30 + 3 * 40))
    assert b.allot("once") == pytest.approx(20 * b.scale(current="once"))


def test_a_group_that_overruns_leaves_less_to_the_others_and_the_set_up_seen_replaces_the_prior():
    clock = FakeClock(60.0)
    b = _budget(clock)
    b.ready()
    before = b.allot("b")
    _run_group(b, clock, "once", setup_s=100.0, measured_s=200.0)   # far more than its share
    assert b.setup_ratio() == pytest.approx(100.0 / 20.0)
    assert b.allot("b") < before


def test_later_passes_that_no_longer_fit_are_dropped_and_their_time_goes_to_what_is_left():
    clock = FakeClock(60.0)
    b = _budget(clock)
    b.ready()
    for g in ("once", "a", "b"):
        _run_group(b, clock, g, setup_s=20.0, measured_s=40.0)
    assert b.passes_that_fit() == 3
    clock.now = 700.0                  # 200 s left, 30 of them for the report: not three passes of ~100 s
    fit = b.passes_that_fit()
    assert 0 < fit < 3
    assert b.scale(later=fit) >= budget_mod.MIN_MEASURING_SCALE
    seconds = b.next_pass_deadline_s()
    assert 0 < seconds <= b.left() - b.reserve_s
    b.later_pass_done(wall_s=120.0, measured_s=30.0)
    assert b.later_pass_overhead() == pytest.approx(90.0)    # what the pass run showed, no longer the prior
    clock.now = 880.0
    assert b.passes_that_fit() == 0


def test_a_budget_too_small_for_anything_gives_no_measuring_time_never_a_negative_one():
    clock = FakeClock(1000.0)
    b = _budget(clock, total=900.0)
    assert b.allot("a") == 0.0 and b.passes_that_fit() == 0


def test_deadlines_follow_the_budget():
    assert process_deadline_s(180.0) == pytest.approx(180 * 1.5 + 120)
    assert round_limit_s(None) == 120.0 and round_limit_s(30.0) == 600.0


def _watchdog(clock, deadline=100.0):
    out, ended = io.StringIO(), []

    @contextlib.contextmanager
    def terminal():
        yield out

    out.fileno = lambda: 2  # faulthandler writes the stacks to a real descriptor: stderr
    return Watchdog(deadline, terminal, clock=clock, exit=ended.append), out, ended


def test_a_round_past_its_limit_ends_the_process_naming_the_row():
    clock = FakeClock(0.0)
    dog, out, ended = _watchdog(clock)
    dog.item = "benchmarks/recipes/data_numpy.py::test_numpy_pipelines"
    with dog.activity("round 3 of numpy/guide/b256/graph (group data.numpy, pass 2)", 120.0):
        clock.now = 50.0
        assert dog.overdue() is None
        clock.now = 121.0
        why = dog.overdue()
        assert why.startswith("round 3 of numpy/guide/b256/graph (group data.numpy, pass 2) has run for 121 s")
        assert "test_numpy_pipelines" in why
        dog.fire(why)
    assert ended == [EXIT_HUNG]
    assert out.getvalue().startswith("[bench] HUNG: round 3 of numpy/guide/b256/graph")


def test_the_process_deadline_holds_between_activities_too():
    clock = FakeClock(0.0)
    dog, _, _ = _watchdog(clock, deadline=100.0)
    dog.item = "benchmarks/recipes/keras_fit.py::test_fit_calls"
    clock.now = 101.0
    assert dog.overdue() == ("the process is past its deadline while in "
                             "benchmarks/recipes/keras_fit.py::test_fit_calls (no round)")


def test_a_process_is_behind_once_the_set_up_to_come_and_the_report_no_longer_fit():
    clock = FakeClock(60.0)
    b = _budget(clock, later=0)
    b.ready()
    _run_group(b, clock, "once", setup_s=100.0, measured_s=20.0)     # set-up: 5 s per declared second
    # left 900 - 180 = 720; the report's 30 s and a's and b's set-up (5 x 40 = 200 s) fit: not behind
    assert not b.behind(current="a") and not b.exhausted()
    clock.now = 900 - 30 - 5 * 30 + 1            # a is under way; b's set-up (150 s) and the report no longer fit
    assert b.behind(current="a")
    assert b.scale(current="a") == 0.0
    assert not b.exhausted()
    clock.now = 900 - 30                          # only the report's reserve is left: a group's turn is not taken
    assert b.exhausted()


def test_a_group_stops_after_three_rounds_once_the_process_is_behind():
    from benchmarks.harness import Plan
    from benchmarks.rounds import Group, Unit, measure_group

    class Recorder:
        pass_index = 0

        def __init__(self, behind):
            self.rounds, self.is_behind, self.done = {}, behind, None

        @contextlib.contextmanager
        def activity(self, what, limit_s):
            yield

        def declare(self, group, units):
            pass

        def allot(self, group, declared_s):
            return 0.0

        def behind(self, group):
            return self.is_behind

        def add_round(self, key, pass_index, r, result):
            self.rounds.setdefault(key, []).append(result)

        def precise_enough(self, key):
            return False

        def group_done(self, group, pass_index, **kw):
            self.done = kw

    plan = Plan.for_run(True)
    for behind, rounds in ((True, budget_mod.BEHIND_ROUNDS), (False, plan.min_rounds_per_pass)):
        rec = Recorder(behind)
        measure_group(Group("g", "data", [Unit("u", lambda clock: 1.0, max_repeats=1)], 1.0), rec, plan)
        assert len(rec.rounds["u"]) == rounds and rec.done["rounds"] == rounds and rec.done["budget_spent"]
