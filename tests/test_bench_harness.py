"""The benchmarks' measuring loop (benchmarks/rounds.py) and the recorder that turns rounds into rows
(benchmarks/harness.py), on fake units with scripted round rates: no TensorFlow, no real timing."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from benchmarks import rounds
from benchmarks.harness import INPUT_BOUND_HIGH, INPUT_BOUND_MODERATE, Plan, Recorder
from benchmarks.rounds import Clock, Group, Unit, measure_group


class FakeClock(Clock):
    pass


def scripted(rates, calls: list, key: str, others=None):
    """A unit run of 100 items at `rate` items/s (100/rate seconds): it sets the clock directly; `others`: the
    cores other processes used meanwhile."""
    it = iter(rates)
    others_it = iter(others) if others is not None else None

    def run(clock):
        rate = next(it)
        calls.append(key)
        clock.parts["wall_s"] += 100.0 / rate
        clock.parts["cpu_s"] += 50.0 / rate
        clock.parts["others_cpu_s"] += (next(others_it) if others_it else 0.0) * 100.0 / rate
        return 100.0

    return run


def _plan(**kw):
    base = dict(quick=False, passes=1, min_rounds_per_pass=6, max_rounds_per_pass=30, min_round_s=0.0)
    base.update(kw)
    return Plan(**base)


def test_units_are_measured_round_robin_with_rotation(quiet):
    calls: list = []
    units = [Unit(key=k, run=scripted(itertools.repeat(100.0), calls, k), row={"name": k, "section": "data"})
             for k in "ABC"]
    rec = Recorder(plan=_plan(min_rounds_per_pass=3, max_rounds_per_pass=3), progress=lambda s: None)
    measure_group(Group("g", "data", units, budget_s=1e9), rec, rec.plan)
    assert calls[:3] == ["A", "B", "C"]  # warm-up, in order
    assert calls[3:] == ["A", "B", "C", "B", "C", "A", "C", "A", "B"]  # then rotated rounds


def test_a_pass_of_an_ab_takes_a_turn_before_every_round_keeps_every_row_and_skips_the_stages(quiet, monkeypatch):
    calls: list = []
    turns: list = []
    monkeypatch.setattr(rounds.baton, "turn", turns.append)
    units = [Unit(key="guide", run=scripted(itertools.repeat(100.0), calls, "guide"),
                  row={"name": "guide", "section": "data"}),
             Unit(key="steady", run=scripted(itertools.repeat(200.0), calls, "steady"),
                  row={"name": "steady", "section": "data"}, twin="twin"),
             Unit(key="twin", run=scripted(itertools.repeat(300.0), calls, "twin")),     # a row's twin: kept
             Unit(key="stage[source]", run=scripted(itertools.repeat(400.0), calls, "stage[source]"))]
    rec = Recorder(plan=_plan(paired=True, max_rounds_per_pass=9), progress=lambda s: None)
    measure_group(Group("g", "data", units, budget_s=1e9), rec, rec.plan)
    assert "stage[source]" not in calls and "stage[source]" not in rec.rounds
    # every unit to the cap, although "steady" is precise after its minimum: the other side pairs by round index
    assert {k: len(rec.rounds[k]) for k in ("guide", "steady", "twin")} == {"guide": 9, "steady": 9, "twin": 9}
    assert turns == calls[3:] and len(turns) == 27   # a turn before each round (not before the warm-ups)


def test_a_precise_unit_leaves_the_rotation_unless_another_needs_it(quiet):
    calls: list = []
    noisy = itertools.cycle([50.0, 100.0, 150.0, 75.0, 125.0])
    units = [Unit(key="guide", run=scripted(itertools.repeat(100.0), calls, "guide"),
                  row={"name": "guide", "section": "data"}),
             Unit(key="steady", run=scripted(itertools.repeat(200.0), calls, "steady"),
                  row={"name": "steady", "section": "data"}),
             Unit(key="noisy", run=scripted(noisy, calls, "noisy"), row={"name": "noisy", "section": "data"},
                  baseline="guide")]
    rec = Recorder(plan=_plan(), progress=lambda s: None)
    measure_group(Group("g", "data", units, budget_s=1e9), rec, rec.plan)
    counts = {k: len(rec.rounds[k]) for k in ("guide", "steady", "noisy")}
    assert counts["steady"] == 6                       # precise after the minimum: it leaves
    assert counts["noisy"] == rec.plan.max_rounds_per_pass  # never precise: to the cap
    assert counts["guide"] == counts["noisy"]           # kept as long as the noisy row needs its baseline
    group = rec.groups[-1]
    assert group["budget_spent"] and group["unfinished"] == ["guide", "noisy"]
    row = rec.row("noisy")
    assert row["precise"] is False and row["precision"].startswith("not met")


def test_rows_get_median_interval_paired_ratio_and_resources(quiet):
    calls: list = []
    guide_rates = [100.0, 110.0, 90.0, 100.0, 105.0, 95.0]
    tuned_rates = [300.0, 330.0, 270.0, 300.0, 315.0, 285.0]  # exactly 3x the guide in every round
    units = [Unit(key="guide", run=scripted([100.0] + guide_rates, calls, "g"),
                  row={"name": "guide", "section": "data", "is_guide": True}),
             Unit(key="tuned", run=scripted([300.0] + tuned_rates, calls, "t"),
                  row={"name": "tuned", "section": "data"}, baseline="guide")]
    rec = Recorder(plan=_plan(min_rounds_per_pass=6, max_rounds_per_pass=6), progress=lambda s: None)
    measure_group(Group("g", "data", units, budget_s=1e9), rec, rec.plan)
    row = rec.row("tuned")
    assert row["examples_per_s"] == pytest.approx(300.0)
    assert row["examples_per_s_ci95"] == [270.0, 330.0]  # n = 6: [min, max]
    assert row["speedup_vs_guide"] == pytest.approx(3.0) and row["speedup_vs_guide_ci95"] == [pytest.approx(3.0)] * 2
    assert row["cores_used"] == pytest.approx(0.5) and row["peak_rss_bytes"] == 123 * 2**20
    assert row["rounds"] == 6 and row["rounds_interfered"] == 0 and not row["under_interference"]
    assert rec.row("guide")["speedup_vs_guide"] == 1.0


def test_interfered_rounds_are_set_aside_when_enough_clean_ones_remain(quiet):
    calls: list = []
    rates = [100.0] + [100.0] * 6 + [10.0] * 3           # three slow rounds while others used 1.5 cores
    others = [0.0] + [0.0] * 6 + [1.5] * 3
    unit = Unit(key="r", run=scripted(rates, calls, "r", others), row={"name": "r", "section": "data"})
    rec = Recorder(plan=_plan(min_rounds_per_pass=9, max_rounds_per_pass=9), progress=lambda s: None)
    measure_group(Group("g", "data", [unit], budget_s=1e9), rec, rec.plan)
    row = rec.row("r")
    assert row["rounds_recorded"] == 9 and row["rounds_interfered"] == 3
    assert row["rounds"] == 6 and row["examples_per_s"] == pytest.approx(100.0)
    assert row["statistic_over"] == "clean rounds" and not row["under_interference"]


def test_a_row_with_too_few_clean_rounds_uses_all_and_says_so(quiet):
    calls: list = []
    unit = Unit(key="r", run=scripted([100.0] * 7, calls, "r", [1.0] * 7), row={"name": "r", "section": "data"})
    rec = Recorder(plan=_plan(min_rounds_per_pass=6, max_rounds_per_pass=6), progress=lambda s: None)
    measure_group(Group("g", "data", [unit], budget_s=1e9), rec, rec.plan)
    row = rec.row("r")
    assert row["rounds"] == 6 and row["under_interference"] and row["statistic_over"].startswith("all rounds")


def test_twin_gives_input_wait_share_and_the_profiler_thresholds(quiet):
    calls: list = []
    real = [75.0] * 7
    twin = [100.0] * 7   # the same step without waiting for input: a quarter of the real step is waiting
    units = [Unit(key="fit", run=scripted(real, calls, "f"), row={"name": "fit", "section": "training"},
                  twin="fit twin"),
             Unit(key="fit twin", run=scripted(twin, calls, "t"))]
    rec = Recorder(plan=_plan(min_rounds_per_pass=6, max_rounds_per_pass=6), progress=lambda s: None)
    measure_group(Group("g", "training", units, budget_s=1e9), rec, rec.plan)
    row = rec.row("fit")
    assert row["input_wait_share"] == pytest.approx(0.25) and row["input_bound"] == "highly"
    assert rec.row("fit twin") is None  # a twin is not a row
    assert (INPUT_BOUND_MODERATE, INPUT_BOUND_HIGH) == (0.05, 0.20)


def test_ladder_names_the_stage_with_the_largest_cost_per_example(quiet):
    calls: list = []
    units = [Unit(key="src", run=scripted([1000.0] * 7, calls, "s")),                 # 1 us per example
             Unit(key="src+map", run=scripted([200.0] * 7, calls, "m")),              # + 4 us
             Unit(key="row", run=scripted([180.0] * 7, calls, "r"),                   # + 0.56 us
                  row={"name": "row", "section": "data",
                       "ladder_keys": [("source", "src"), ("+ map", "src+map"), ("+ batch", "row")]})]
    rec = Recorder(plan=_plan(min_rounds_per_pass=6, max_rounds_per_pass=6), progress=lambda s: None)
    measure_group(Group("g", "data", units, budget_s=1e9), rec, rec.plan)
    row = rec.row("row")
    costs = [s["cost_us_per_example"] for s in row["ladder"]]
    assert costs == [pytest.approx(1000.0), pytest.approx(4000.0), pytest.approx(1e6 / 180 - 5000.0)]
    assert row["slowest_stage"] == "+ map"


def test_a_round_shorter_than_the_minimum_gives_the_next_ones_more_repetitions(quiet):
    # the warm-up fills a cache (0.2 s: 100 items at 500/s); every later repetition serves it in 10 ms (10,000/s)
    calls: list = []
    unit = Unit(key="r", run=scripted(itertools.chain([500.0], itertools.repeat(10_000.0)), calls, "r"),
                row={"name": "r", "section": "data"})
    rec = Recorder(plan=_plan(min_rounds_per_pass=4, max_rounds_per_pass=4, min_round_s=0.1), progress=lambda s: None)
    measure_group(Group("g", "data", [unit], budget_s=1e9), rec, rec.plan)
    assert [r["repeats"] for r in rec.rounds["r"]] == [1, 10, 10, 10]
    assert [r["s"] for r in rec.rounds["r"]] == pytest.approx([0.01, 0.1, 0.1, 0.1])
    assert rec.row("r")["examples_per_s"] == pytest.approx(10_000.0)


def test_a_group_measured_once_takes_the_rounds_an_interval_needs(quiet):
    calls: list = []
    unit = Unit(key="r", run=scripted(itertools.cycle([50.0, 100.0, 150.0]), calls, "r"),
                row={"name": "r", "section": "training"})
    rec = Recorder(plan=_plan(min_rounds_per_pass=2, max_rounds_per_pass=2), progress=lambda s: None)
    measure_group(Group("g", "training", [unit], budget_s=0.0), rec, rec.plan, once=True)
    assert len(rec.rounds["r"]) == 6 and rec.groups[-1]["pass"] == "once"


def test_passes_pool_their_rounds_and_their_spread_widens_the_interval(quiet):
    calls: list = []
    rec = Recorder(plan=_plan(passes=4, min_rounds_per_pass=5, max_rounds_per_pass=5), progress=lambda s: None)
    pass_rates = (100.0, 104.0, 98.0, 102.0)
    for p, rate in enumerate(pass_rates):
        rec.pass_index = p
        unit = Unit(key="r", run=scripted(itertools.repeat(rate), calls, "r"), row={"name": "r", "section": "data"})
        measure_group(Group("g", "data", [unit], budget_s=1e9), rec, rec.plan)
    row = rec.row("r")
    assert row["passes"] == 4 and row["rounds"] == 20 and row["examples_per_s"] == 101.0
    # order statistics of the 20 rounds alone: [100, 102]; the passes' medians say the machine moved more
    logs = [math.log(r) for r in pass_rates]
    mean, sd = sum(logs) / 4, statistics.stdev(logs)
    ci = [math.exp(mean - 3.18245 * sd / 2), math.exp(mean + 3.18245 * sd / 2)]
    pi = [math.exp(mean - 3.18245 * sd * math.sqrt(0.5)), math.exp(mean + 3.18245 * sd * math.sqrt(0.5))]
    assert row["examples_per_s_ci95"] == pytest.approx(ci) and row["examples_per_s_pi95"] == pytest.approx(pi)
    assert row["interval_width_from"] == "spread of the pass medians" and row["pass_medians_sd"] == pytest.approx(sd)
    assert ci[0] < 100.0 and ci[1] > 102.0


def test_passes_that_agree_keep_the_order_statistic_interval(quiet):
    calls: list = []
    rec = Recorder(plan=_plan(passes=2, min_rounds_per_pass=5, max_rounds_per_pass=5), progress=lambda s: None)
    for p in (0, 1):
        rec.pass_index = p
        unit = Unit(key="r", run=scripted(itertools.cycle([100.0, 110.0]), calls, "r"),
                    row={"name": "r", "section": "data"})
        measure_group(Group("g", "data", [unit], budget_s=1e9), rec, rec.plan)
    row = rec.row("r")
    assert row["passes"] == 2 and row["rounds"] == 10
    assert row["examples_per_s_ci95"] == pytest.approx([100.0, 110.0])
    assert row["interval_width_from"] == "order statistics of the rounds"
    assert row["pass_medians_sd"] == 0.0


def test_the_rows_of_a_group_share_their_pass_spread(quiet):
    """Two passes give one row one degree of freedom (t = 12.7); the group's rows pool theirs (benchmarks/stats.py):
    a row that moved keeps its own spread with the pooled t, a row that did not gets the group's spread."""
    calls: list = []
    rec = Recorder(plan=_plan(passes=2, min_rounds_per_pass=5, max_rounds_per_pass=5), progress=lambda s: None)
    rates = {"steady": (100.0, 100.0), "moved": (100.0, 110.0)}
    for p in (0, 1):
        rec.pass_index = p
        units = [Unit(key=k, run=scripted(itertools.repeat(r[p]), calls, k), row={"name": k, "section": "data"})
                 for k, r in rates.items()]
        measure_group(Group("g", "data", units, budget_s=1e9), rec, rec.plan)
    own = statistics.stdev([math.log(100.0), math.log(110.0)])
    pooled = math.sqrt(own ** 2 / 2)            # two degrees of freedom, one of them with no spread
    moved, steady = rec.row("moved"), rec.row("steady")
    center = math.exp((math.log(100.0) + math.log(110.0)) / 2)
    assert moved["pass_medians_sd"] == pytest.approx(own)
    assert moved["examples_per_s_ci95"][1] == pytest.approx(
        center * math.exp(4.303 * own / math.sqrt(2)), rel=1e-3)      # t(2), not t(1) = 12.706
    assert steady["pass_medians_sd"] == pytest.approx(pooled)
    assert steady["examples_per_s_ci95"] == pytest.approx(
        [100.0 * math.exp(-4.303 * pooled / math.sqrt(2)), 100.0 * math.exp(4.303 * pooled / math.sqrt(2))], rel=1e-3)
    assert steady["interval_width_from"] == "spread of the pass medians"


def test_clock_times_only_its_timed_parts():
    clock = Clock()
    with clock.timed():
        sum(range(1000))
    first = clock.seconds
    assert first > 0
    clock.add("first_batch_s", 0.25)
    clock.add("first_batch_s", 0.25)
    assert clock.extra == {"first_batch_s": 0.5} and clock.seconds == first


def test_quick_and_full_plans():
    full, quick = Plan.for_run(False), Plan.for_run(True)
    assert full.passes == 4 and full.passes * full.min_rounds_per_pass >= 10  # a prediction interval needs 10
    assert quick.passes == 1 and quick.min_rounds_per_pass >= 6               # an interval of the median needs 6
    assert set(quick.budgets) == set(full.budgets)
    assert rounds.MIN_ROUNDS_FOR_INTERVAL == 6


def test_the_second_process_rounds_are_pooled_and_its_limits_count(tmp_path):
    from benchmarks import passes

    def limits(copy, peak):
        return {"copy_bandwidth": {"best_bytes_per_s": copy, "_best": (None, 1)},
                "matmul_peak": {"/device:CPU:0": {"float32": {"best_flop_per_s": peak, "_best": ("s", False)}}},
                "primary_device": "/device:CPU:0",
                "history": [{"when": "start", "copy_bytes_per_s": copy, "matmul_flop_per_s": {}}]}

    parent = Recorder(plan=_plan(passes=2), progress=lambda s: None)
    parent.limits = limits(10e9, 100e9)
    child = Recorder(plan=_plan(passes=2), progress=lambda s: None, pass_index=1)
    child.limits = limits(12e9, 90e9)
    for rec, p, rate in ((parent, 0, 100.0), (child, 1, 104.0)):
        unit = Unit(key="r", run=None, row={"name": "r", "section": "data"})
        rec.declare(Group("g", "data", [unit], 1.0), [unit])
        for i in range(5):
            rec.add_round("r", p, i, {"s": 1.0, "items": rate, "rate": rate + i, "interfered": False})
    child.skip("training", "x", "why")
    passes.dump(child, tmp_path / "state.json")
    passes.merge(parent, __import__("json").loads((tmp_path / "state.json").read_text()))
    row = parent.row("r")
    assert row["rounds"] == 10 and row["passes"] == 2
    assert parent.limits["copy_bandwidth"]["best_bytes_per_s"] == 12e9           # the best of both processes
    assert parent.limits["matmul_peak"]["/device:CPU:0"]["float32"]["best_flop_per_s"] == 100e9
    assert parent.limits["history"][-1]["when"] == "start [another process]"
    assert parent.skipped == [{"section": "training", "name": "x", "reason": "why", "recipe": None}]


def test_a_silent_child_pass_is_killed_at_its_deadline(tmp_path):
    import sys
    import time

    from benchmarks import passes

    lines: list = []
    hang = [sys.executable, "-c", "import sys, time; print('[bench] started', flush=True); time.sleep(60)"]
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"(?s)pass 2 ended with status -9:.*\[bench\] started.*longer than 2 s"):
        passes.run_child(hang, "pass 2", tmp_path / "never.json", lines.append, 1.0, limit_s=2.0)
    assert time.perf_counter() - t0 < 15
    assert lines[-1] == "  pass 2: [bench] started"


def test_when_one_process_of_a_pair_fails_the_other_is_ended_and_the_error_names_the_one_that_failed(tmp_path):
    import sys
    import time

    from benchmarks import passes
    from tfguide import launcher

    waits = launcher.Task([sys.executable, "-c", "import time; print('[bench] waiting', flush=True); time.sleep(60)"],
                          name="A1")
    fails = launcher.Task([sys.executable, "-c", "import sys; sys.exit('B cannot import its TensorFlow')"], name="B1")
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"(?s)^B1 ended with status 1:.*B cannot import its TensorFlow") as caught:
        passes.run_children([waits, fails], [tmp_path / "a.json", tmp_path / "b.json"], lambda line: None, 30.0,
                            grace_s=1.0)
    assert time.perf_counter() - t0 < 15 and "A1" not in str(caught.value)
