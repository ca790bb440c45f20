"""The interleaved A/B (benchmarks/ab.py): the order of the passes, the paired ratios, the planner, the deliberate
slow-down (benchmarks/slowdown.py), and whole A/A and A/B runs against a stand-in interpreter
(tests/fakes/bench_python.py) whose passes drift together in a pair: no TensorFlow, seconds per run."""

from __future__ import annotations

import json
import os
import math
import stat
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from benchmarks import ab, baton, slowdown
from benchmarks.rounds import Clock, Group, Unit
from tfguide import schema

FAKE = Path(__file__).resolve().parent / "fakes" / "bench_python.py"


def _take_turns(server, rounds: list[list[str]], log: list[str]) -> None:
    """Each list of `rounds` is one process's units in its order: join, then a turn before each."""
    def side(name, keys):
        client = baton._Client(server.path)
        assert client.wait("")
        for key in keys:
            assert client.wait(key)
            log.append(f"{name} {key}")
            time.sleep(0.002)

    threads = [threading.Thread(target=side, args=("AB"[i], keys)) for i, keys in enumerate(rounds)]
    threads[0].start()
    time.sleep(0.05)   # A joins first
    threads[1].start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)


def test_the_two_processes_take_turns_and_who_goes_first_alternates_round_by_round():
    keys = ["x", "y", "x", "y", "x", "y"]   # three rounds of two units
    log: list[str] = []
    with baton.Server() as server:
        _take_turns(server, [keys, keys], log)
        grants = server.grants
    assert log == ["A x", "B x", "A y", "B y", "B x", "A x", "B y", "A y", "A x", "B x", "A y", "B y"]
    assert grants == 2 + 12


def test_a_process_that_ends_frees_the_baton_and_the_other_goes_on_alone():
    log: list[str] = []
    with baton.Server() as server:
        _take_turns(server, [["x"], ["x", "y", "z"]], log)
    assert log == ["A x", "B x", "B y", "B z"]


def test_without_a_baton_or_with_its_server_gone_a_process_works_alone(monkeypatch, tmp_path):
    monkeypatch.delenv(baton.ENV, raising=False)
    baton.join()
    assert not baton.active()
    baton.turn("x")   # returns at once
    monkeypatch.setenv(baton.ENV, str(tmp_path / "no-such-socket"))
    baton.join()
    assert not baton.active()


def _state(rates_by_row: dict[str, list[float]], k: int) -> dict:
    return {"rounds": {key: [{"pass": k, "round": i, "rate": r} for i, r in enumerate(rates)]
                       for key, rates in rates_by_row.items()},
            "meta": {key: {"section": "data", "recipe": "data.numpy"} for key in rates_by_row},
            "links": {key: {"group": "data.numpy"} for key in rates_by_row}}


def test_a_drift_that_hits_both_rounds_of_a_turn_cancels_in_the_ratio():
    drift = [1.0, 0.7, 1.3, 0.9, 1.1, 0.8]   # the machine's speed in each round: +-30 %
    a = [_state({"x": [100 * d for d in drift], "y": [50 * d for d in drift]}, k) for k in range(2)]
    b = [_state({"x": [100 * d for d in drift], "y": [45 * d for d in drift]}, k) for k in range(2)]
    rows = {r["name"]: r for r in ab.paired_rows({"a": a, "b": b})[0]}
    assert rows["x"]["verdict"] == "same" and rows["x"]["ratio"] == pytest.approx(1.0)
    assert rows["y"]["verdict"] == "slower" and rows["y"]["ratio"] == pytest.approx(0.9)
    assert rows["y"]["pairs"] == 2 and rows["y"]["rounds"] == 12 and rows["y"]["half_width"] == pytest.approx(0.0)
    assert rows["y"]["pair_ratios"] == pytest.approx([0.9, 0.9])
    unpaired = [_state({"y": [45 * d for d in reversed(drift)]}, k) for k in range(2)]
    spread = ab.paired_rows({"a": a, "b": unpaired})[0][0]
    assert spread["half_width"] > 0.1   # rounds not taken side by side keep the drift in the interval


def test_rounds_pair_by_index_and_a_round_one_side_lacks_is_left_out():
    a = [_state({"x": [100.0, 200.0, 300.0]}, 0)]
    b = [_state({"x": [110.0, 220.0]}, 0)]
    def ratios():
        return ab.like_with_like([(ab._round_rates(a[0], "x"), ab._round_rates(b[0], "x"))])[0]

    assert ratios() == pytest.approx([1.1, 1.1])
    a[0]["rounds"]["x"][0]["rate"] = float("nan")   # a round without a rate is no evidence
    assert ratios() == pytest.approx([1.1])


def test_the_spread_of_the_pairs_widens_the_interval_pooled_over_the_group():
    # Each pair's processes drew their own luck: 0.95, 1.05 - the rounds agree within a pair, not across pairs.
    luck = [0.95, 1.05]
    a = [_state({"x": [100.0] * 10, "y": [50.0] * 10}, k) for k in range(2)]
    b = [_state({"x": [100.0 * lk] * 10, "y": [50.0 * lk] * 10}, k) for k, lk in enumerate(luck)]
    rows = {r["name"]: r for r in ab.paired_rows({"a": a, "b": b})[0]}
    assert rows["x"]["interval_width_from"] == "spread of the pass medians"
    assert rows["x"]["verdict"] == "same" and rows["x"]["low"] < 0.95 and rows["x"]["high"] > 1.05


def test_the_rows_are_judged_together_so_an_aa_of_many_rows_rarely_calls_one_changed():
    """Simulated A/As of 20 rows (4 pairs of 25 rounds, each round's ratio log-normal with 25 % noise): judged at
    95 % each, some row is called changed in 40 of 100 runs (fewer than 1 - 0.95^20 = 64 %: a row's interval is
    the wider of two); judged together (Holm, starting at 99.75 %: the level paired_rows returns), in 1."""
    rng = np.random.default_rng(18)
    runs, any_changed, any_changed_alone = 100, 0, 0
    for _ in range(runs):
        rows = [f"r{i}" for i in range(20)]
        a, b = [], []
        for k in range(4):
            a.append(_state({n: [100.0] * 25 for n in rows}, k))
            b.append(_state({n: list(100.0 * np.exp(0.25 * rng.standard_normal(25))) for n in rows}, k))
        judged, confidence = ab.paired_rows({"a": a, "b": b})
        assert confidence == pytest.approx(1 - 0.05 / 20)
        any_changed += any(r["verdict"] != "same" for r in judged)
        with mock.patch.object(ab, "holm", lambda count, excludes_one: [0.95] * count):
            any_changed_alone += any(r["verdict"] != "same" for r in ab.paired_rows({"a": a, "b": b})[0])
    assert any_changed <= 5 and any_changed_alone >= 30, (any_changed, any_changed_alone)


def test_the_planner_shares_the_budget_among_its_pairs_and_plans_fewer_when_a_start_costs_too_much():
    now = [0.0]
    planner = ab.Planner(600.0, clock=lambda: now[0])
    reserve = 600 - planner.left()
    assert planner.pairs_left(0) == 4 and planner.pair_seconds(4) == pytest.approx((600 - reserve) / 4)
    now[0] = 150.0   # pair 1: 150 s, of which its sides measured 100 s at most: a start of 50 s
    planner.pair_done(150.0, {"a": {"groups": [{"measured_s": 60.0}, {"measured_s": 40.0}]},
                              "b": {"groups": [{"measured_s": 90.0}]}})
    assert planner.starts == [50.0]
    assert planner.pairs_left(1) == 3 and planner.pair_seconds(3) == pytest.approx((450 - reserve) / 3)
    planner.starts.append(150.0)   # a machine on which a start costs 150 s: 450 s hold one pair of 300 s
    assert planner.pairs_left(1) == 1
    now[0] = 590.0                 # nothing left: no pair beyond the two the spread needs
    assert planner.pairs_left(1) == 1 and planner.pairs_left(2) == 0


def test_the_slow_down_takes_its_fraction_off_the_throughput():
    assert slowdown.parse("data.numpy=0.2, numpy/guide/*") == [("data.numpy", 0.2), ("numpy/guide/*", 0.1)]
    with pytest.raises(ValueError, match="between 0 and 1"):
        slowdown.parse("x=1.5")
    clock = Clock()
    clock.parts["wall_s"] = 0.09          # the repetition's own work
    slowdown.stall(clock, 0.09, 0.10)     # + 0.01 s: 10 % less throughput
    assert clock.seconds == pytest.approx(0.10, abs=0.004)


def test_only_the_units_the_variable_names_are_slowed_and_their_rows_say_so(monkeypatch):
    monkeypatch.setenv(slowdown.ENV, "numpy/guide/*=0.1")
    units = [Unit(key="numpy/guide/b32/graph", run=None, row={"name": "g"}), Unit(key="numpy/cache/b32/graph", run=None)]
    slowdown.mark(Group("data.numpy", "data", units, 1.0), units)
    assert [u.slowed_by for u in units] == [0.1, 0.0] and units[0].row["slowed_by"] == 0.1


@pytest.fixture
def fake_python(tmp_path) -> str:
    """An executable that runs the stand-in with this interpreter."""
    path = tmp_path / "python-fake"
    path.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE} \"$@\"\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def _ab(capsys, *args) -> tuple[int, str, str]:
    status = ab.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a duet needs two usable cores")
def test_a_duet_runs_both_sides_at_once_on_halves_of_the_cores_and_releases_each_round_together(
        tmp_path, fake_python, capsys, monkeypatch):
    turns = tmp_path / "turns.log"
    monkeypatch.setenv("TFGUIDE_FAKE_TURNS", str(turns))
    status, out, err = _ab(capsys, "--a", fake_python, "--b", fake_python, "--budget", "1", "--pairs", "2", "--duet",
                           str(tmp_path / "duet"))
    assert status == 0, out + err
    report = json.loads((tmp_path / "duet" / "ab.json").read_text())
    assert schema.errors(report, schema.load(ab.SCHEMA_PATH)) == [] and report["pairing"] == "duet"
    assert "running at once, each on its half of the cores" in out
    # each round of a unit is released to both sides together: the log's lines pair up, one from each side
    lines = turns.read_text().split("\n")[:2 * 2 * 4 * 8]
    assert all(sorted([lines[i][0], lines[i + 1][0]]) == ["a", "b"] and lines[i].split()[1:] == lines[i + 1].split()[1:]
               for i in range(0, len(lines), 2))
    # each side kept to its half of the cores, the halves swapped in the second pair
    cpus = sorted(os.sched_getaffinity(0))
    seen = (tmp_path / "turns.log.cpus").read_text().split("\n")[:4]
    half = len(cpus) // 2
    first, second = ",".join(map(str, cpus[:half])), ",".join(map(str, cpus[half:2 * half]))
    assert sorted(seen[:2]) == sorted([f"a {first}", f"b {second}"])
    assert sorted(seen[2:4]) == sorted([f"a {second}", f"b {first}"])


def test_an_aa_finds_every_row_the_same_and_writes_both_sides_and_the_pairs(tmp_path, fake_python, capsys,
                                                                            monkeypatch):
    turns = tmp_path / "turns.log"
    monkeypatch.setenv("TFGUIDE_FAKE_TURNS", str(turns))
    status, out, err = _ab(capsys, "--a", fake_python, "--b", fake_python, "--budget", "1", "--pairs", "4",
                           str(tmp_path / "aa"))
    assert status == 0, out + err
    report = json.loads((tmp_path / "aa" / "ab.json").read_text())
    assert schema.errors(report, schema.load(ab.SCHEMA_PATH)) == []
    assert report["pairs"] == 4 and report["turns"] == [2 + 2 * 4 * 8] * 4
    # within a pair, each unit's round r is measured by both processes one right after the other
    lines = turns.read_text().split("\n")[:2 * 4 * 8]
    assert all(lines[i].split()[1:] == lines[i + 1].split()[1:] and lines[i][0] != lines[i + 1][0]
               for i in range(0, len(lines), 2))
    assert {r["rounds"] for r in report["rows"]} == {4 * 8}
    assert {r["verdict"] for r in report["rows"]} == {"same"}
    assert (tmp_path / "aa" / "a" / "benchmarks.json").exists() and (tmp_path / "aa" / "b" / "benchmarks.json").exists()
    assert ("4 row(s) compared: 0 slower, 0 faster, 4 same; the rows judged together by Holm's step-down procedure "
            "(intervals at 98.75 %), so that all hold together with 95 %; the smallest change it detects 8 times in 10"
            ) in out
    assert all(r["confidence"] == pytest.approx(0.9875) for r in report["rows"])
    assert {r["compared"] for r in report["rows"]} == {"all rounds"}
    assert report["confidence"] == {"family": 0.95, "per_row": pytest.approx(0.9875)}


def test_a_slowed_b_is_seen_in_its_rows_only_and_fails_the_threshold(tmp_path, fake_python, capsys):
    status, out, err = _ab(capsys, "--a", fake_python, "--b", fake_python, "--budget", "1", "--pairs", "4",
                           "--slow-b", "numpy/r0/*", "--fail-if-slower", "5", str(tmp_path / "ab"))
    rows = {r["name"]: r for r in json.loads((tmp_path / "ab" / "ab.json").read_text())["rows"]}
    assert rows["numpy/r0/b256/graph"]["verdict"] == "slower"
    assert rows["numpy/r0/b256/graph"]["ratio"] == pytest.approx(0.9, abs=0.02)
    assert rows["numpy/r0/b256/graph"]["slowed_b"] == 0.1
    assert {rows[n]["verdict"] for n in rows if n != "numpy/r0/b256/graph"} == {"same"}
    assert status == 1 and "slower: data numpy/r0/b256/graph" in err
    changed = out.split("Changed (1), by B/A:")[1]
    assert "numpy/r0/b256/graph (B slowed 10%)" in changed.split("Unchanged")[0]


def test_an_interpreter_that_cannot_run_the_benchmarks_is_one_line_and_exit_2(tmp_path, capsys):
    status, out, err = _ab(capsys, "--a", str(tmp_path / "no-such-python"), "--b", sys.executable, str(tmp_path))
    assert status == 2 and err.startswith("python -m benchmarks.ab: --a ") and err.count("\n") == 1
