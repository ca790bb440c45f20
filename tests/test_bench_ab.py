"""The interleaved A/B (benchmarks/ab.py): the order of the passes, the paired ratios, the planner, the deliberate
slow-down (benchmarks/slowdown.py), and whole A/A and A/B runs against a stand-in interpreter
(tests/fakes/bench_python.py) whose passes drift together in a pair: no TensorFlow, seconds per run."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from benchmarks import ab, slowdown
from benchmarks.rounds import Clock, Group, Unit
from tfguide import schema

FAKE = Path(__file__).resolve().parent / "fakes" / "bench_python.py"


def test_pairs_alternate_and_each_pair_runs_in_the_other_order():
    assert ab.order(3) == [(0, "a"), (0, "b"), (1, "b"), (1, "a"), (2, "a"), (2, "b")]


def _state(rates_by_row: dict[str, list[float]], k: int) -> dict:
    return {"rounds": {key: [{"pass": k, "round": i, "rate": r} for i, r in enumerate(rates)]
                       for key, rates in rates_by_row.items()},
            "meta": {key: {"section": "data", "recipe": "data.numpy"} for key in rates_by_row},
            "links": {key: {"group": "data.numpy"} for key in rates_by_row}}


def test_a_drift_that_hits_both_passes_of_a_pair_cancels_in_the_ratio():
    drift = [1.0, 0.7, 1.3, 0.9, 1.1, 0.8]   # the machine's speed in each pair: +-30 %
    a = [_state({"x": [100 * d] * 5, "y": [50 * d] * 5}, k) for k, d in enumerate(drift)]
    b = [_state({"x": [100 * d] * 5, "y": [45 * d] * 5}, k) for k, d in enumerate(drift)]
    rows = {r["name"]: r for r in ab.paired_rows({"a": a, "b": b})}
    assert rows["x"]["verdict"] == "same" and rows["x"]["ratio"] == pytest.approx(1.0)
    assert rows["y"]["verdict"] == "slower" and rows["y"]["ratio"] == pytest.approx(0.9)
    assert rows["y"]["pairs"] == 6 and rows["y"]["half_width"] == pytest.approx(0.0)
    unpaired = [_state({"y": [45 * d] * 5}, k) for k, d in enumerate(reversed(drift))]
    spread = ab.paired_rows({"a": a, "b": unpaired})[0]
    assert spread["half_width"] > 0.1   # without pairing, the drift is in the interval


def test_the_planner_runs_as_many_pairs_as_fit_and_never_fewer_than_two():
    now = [0.0]
    planner = ab.Planner(600.0, clock=lambda: now[0])
    assert planner.pairs_left(0) == 2 and planner.pass_seconds(2) == pytest.approx(600 / 6 / 2)
    planner.pass_walls += [40.0, 40.0]
    now[0] = 80.0
    assert planner.pairs_left(1) == int((600 - 80 - 20) // 80)
    now[0] = 590.0
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


def test_an_aa_finds_every_row_the_same_and_writes_both_sides_and_the_pairs(tmp_path, fake_python, capsys):
    status, out, err = _ab(capsys, "--a", fake_python, "--b", fake_python, "--budget", "1", "--max-pairs", "4",
                           str(tmp_path / "aa"))
    assert status == 0, out + err
    report = json.loads((tmp_path / "aa" / "ab.json").read_text())
    assert schema.errors(report, schema.load(ab.SCHEMA_PATH)) == []
    assert report["pairs"] == 4 and report["order"] == ["A", "B", "B", "A", "A", "B", "B", "A"]
    assert {r["verdict"] for r in report["rows"]} == {"same"}
    assert (tmp_path / "aa" / "a" / "benchmarks.json").exists() and (tmp_path / "aa" / "b" / "benchmarks.json").exists()
    assert "4 row(s) compared: 0 slower, 0 faster, 4 same; the smallest change it detects 8 times in 10" in out


def test_a_slowed_b_is_seen_in_its_rows_only_and_fails_the_threshold(tmp_path, fake_python, capsys):
    status, out, err = _ab(capsys, "--a", fake_python, "--b", fake_python, "--budget", "1", "--max-pairs", "4",
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
