"""The machine's speed probe (benchmarks/machine_speed.py) and what the harness, the A/B and the report do with the
rounds it finds slowed: scripted probes and rates, no TensorFlow, no real timing (but for the probe's own test)."""

from __future__ import annotations

import itertools
import math

import pytest

from benchmarks import ab, machine_speed
from benchmarks.harness import Plan, Recorder
from benchmarks.rounds import Group, Unit, measure_group
from reports import benchmarks as rendering

FULL, SLOW = 40e6, 24e6          # the reference machine's two speeds: 0.6 apart


def test_the_probe_times_a_real_loop(real_machine_probe):
    rates = [machine_speed.probe() for _ in range(3)]
    assert all(math.isfinite(r) and r > 1e5 for r in rates)   # 40,000 additions take well under 0.4 s anywhere


def test_the_reference_is_the_run_s_full_speed_and_a_round_is_slowed_by_its_slower_probe():
    probes = [SLOW] * 11 + [FULL] * 9                   # the machine at full speed for under half the run
    assert machine_speed.reference(probes) == FULL      # the 90 % quantile: rank round(0.9 * 19) = 17 of 0..19
    assert machine_speed.reference([]) is None and machine_speed.reference([0.0, math.inf]) is None
    assert not machine_speed.slowed({"probe_before": FULL, "probe_after": 0.81 * FULL}, FULL)
    assert machine_speed.slowed({"probe_before": FULL, "probe_after": 0.79 * FULL}, FULL)
    assert machine_speed.slowed({"probe_before": 0.6 * FULL, "probe_after": FULL}, FULL)
    assert not machine_speed.slowed({"rate": 1.0}, FULL)          # a round measured elsewhere carries no probe
    assert not machine_speed.slowed({"probe_before": SLOW}, None)
    # a machine that never ran faster is its own reference: nothing is slowed
    assert not machine_speed.slowed({"probe_before": SLOW, "probe_after": SLOW}, machine_speed.reference([SLOW] * 9))


def test_the_report_says_how_much_of_the_run_was_slowed():
    rounds = [{"probe_before": FULL, "probe_after": FULL}] * 6 + [{"probe_before": FULL, "probe_after": SLOW}] * 4
    got = machine_speed.describe(rounds + [{"rate": 1.0}])
    assert got["reference_per_s"] == FULL and got["rounds"] == 10 and got["rounds_slowed"] == 4
    assert got["slowed_share"] == pytest.approx(0.4) and got["slowed_speed"] == pytest.approx(0.6)
    assert machine_speed.describe([{"rate": 1.0}]) is None
    line = rendering.machine_speed_lines(got)[0]
    assert "slowed around 4 of 10 rounds (40%), at 60% of its full speed (median)" in line
    assert rendering.machine_speed_lines(None) == []


def _measured(monkeypatch, rates: list[float], speeds: list[float], rounds: int):
    """One row of scripted rates (after a warm-up), each round probed at speeds[i] before and after."""
    probes = itertools.chain.from_iterable((s, s) for s in speeds)
    monkeypatch.setattr(machine_speed, "probe", lambda: next(probes))
    it = iter([100.0] + rates)

    def run(clock):
        clock.parts["wall_s"] += 100.0 / next(it)
        return 100.0

    unit = Unit(key="r", run=run, row={"name": "r", "section": "data"})
    plan = Plan(quick=False, passes=1, min_rounds_per_pass=rounds, max_rounds_per_pass=rounds, min_round_s=0.0)
    rec = Recorder(plan=plan, progress=lambda s: None)
    measure_group(Group("g", "data", [unit], budget_s=1e9), rec, plan)
    return rec


def test_rounds_the_machine_ran_slowed_are_set_aside_when_enough_full_speed_ones_remain(quiet, monkeypatch):
    # the work runs at 0.6 of its speed whenever the machine does: 6 rounds at full speed, 4 slowed
    speeds = [FULL, SLOW, FULL, SLOW, FULL, FULL, SLOW, FULL, SLOW, FULL]
    rates = [100.0 if s == FULL else 60.0 for s in speeds]
    rec = _measured(monkeypatch, rates, speeds, 10)
    row = rec.row("r")
    assert row["rounds_recorded"] == 10 and row["rounds_slowed"] == 4 and row["rounds"] == 6
    assert row["examples_per_s"] == 100.0 and row["examples_per_s_ci95"] == [100.0, 100.0]
    assert row["statistic_over"] == "clean rounds" and row["rounds_interfered"] == 0
    assert row["timing"]["slowed"] == [s == SLOW for s in speeds]     # every round kept, and which were slowed
    assert rec.machine_speed()["rounds_slowed"] == 4


def test_a_row_with_too_few_full_speed_rounds_keeps_the_slowed_ones_and_says_so(quiet, monkeypatch):
    speeds = [FULL] * 4 + [SLOW] * 5      # 4 at full speed: fewer than the 6 an interval needs
    rates = [100.0] * 4 + [60.0] * 5
    row = _measured(monkeypatch, rates, speeds, 9).row("r")
    assert row["rounds"] == 9 and row["rounds_slowed"] == 5 and row["examples_per_s"] == 60.0
    assert row["statistic_over"] == ("rounds without interference (too few at the machine's full speed: slowed ones "
                                     "included)")


def test_an_ab_keeps_the_rounds_one_side_measured_slowed_and_its_median_rides_them_out():
    # B is 10 % slower; rounds 1 and 4 caught only A's side slowed (0.6): ratios of 1.5 that the median passes over
    def state(rates, slow_rounds):
        rounds = [{"pass": 0, "round": i, "rate": r, "probe_before": SLOW if i in slow_rounds else FULL,
                   "probe_after": FULL} for i, r in enumerate(rates)]
        return {"rounds": {"x": rounds}, "meta": {"x": {"section": "data", "recipe": "data.numpy"}},
                "links": {"x": {"group": "data.numpy"}}}

    a = [state([100, 60, 60, 100, 60, 100, 100, 100, 100, 100], {1, 2, 4})]
    b = [state([90, 90, 54, 90, 90, 90, 90, 90, 90, 90], {2})]
    (row,), _ = ab.paired_rows({"a": a, "b": b})
    assert row["rounds_paired"] == 10 and row["rounds"] == 10 and "rounds_machine_differs" not in row
    assert row["ratio"] == pytest.approx(0.9)
