"""python -m benchmarks.noise: each cause is measured in fresh processes and summarised into modes and spreads."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import noise


def _rounds(rates, handoffs=1800):
    return [{"rate": r, "s": 0.3, "cpu": 0.9, "handoffs": handoffs} for r in rates]


def test_a_cause_is_summarised_into_its_modes_and_the_spread_within_and_between_processes():
    # three processes of a row whose rounds jump between two speeds 2x apart (what pinning tf.data showed)
    procs = [_rounds([96e3] * 6 + [199e3] * 4), _rounds([199e3] * 7 + [96e3] * 3), _rounds([96e3] * 10)]
    s = noise.summarise(procs)
    assert s["modes"] == 2 and [round(m) for m in s["mode_rates"]] == [96000, 199000]
    assert s["mode_shares"] == pytest.approx([19 / 30, 11 / 30])
    assert s["switches"] == 2 and s["processes"] == 3 and s["rounds"] == 30
    assert s["process_medians"] == [96e3, 199e3, 96e3]
    # log standard deviation of the three medians: ln(199/96) sqrt(1/3)
    assert s["between_cv"] == pytest.approx(math.log(199 / 96) / math.sqrt(3))
    assert s["handoffs_per_round"] == 1800


def test_steady_rounds_are_one_mode_with_no_spread():
    s = noise.summarise([_rounds([100.0] * 8, handoffs=1), _rounds([100.0] * 8, handoffs=1)])
    assert s["modes"] == 1 and s["within_cv"] == 0.0 and s["between_cv"] == 0.0 and s["handoffs_per_round"] == 1


def test_bad_arguments_are_refused_with_the_known_causes(capsys):
    with pytest.raises(SystemExit) as exc:
        noise.parse_args(["--causes", "baseline,cosmic-rays"])
    assert exc.value.code == 2 and "unknown cause(s) cosmic-rays; known: baseline, pinned" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        noise.parse_args(["--rounds", "1"])
    assert noise.parse_args(["--quick"]).causes == list(noise.QUICK_CAUSES)


def test_one_cause_runs_in_a_fresh_process_and_writes_its_table(tmp_path):
    """A real child process (TensorFlow, the guide's three rows and the Python control) with tf.data's autotuning off: 2 short rounds."""
    doc = noise.run(["autotune-off"], processes=1, rounds=2, round_s=0.0, out=tmp_path, say=lambda line: None)
    row = doc["results"]["autotune-off"]["data"]
    assert row["rounds"] == 2 and row["median"] > 0
    # one thread serves the pipeline: about one hand-off per round, not one per batch (1,875 an epoch)
    assert row["handoffs_per_round"] < 100
    assert json.loads((tmp_path / "noise.json").read_text())["schema"] == "tfguide-noise/2"
    probes = [r[k] for r in doc["results"]["autotune-off"].values() for k in ("slowed_share",)]
    assert all(0.0 <= p <= 1.0 for p in probes) and doc["probe_reference_per_s"] > 0
    assert "| autotune-off | data |" in (tmp_path / "noise.md").read_text()


def test_rounds_the_machine_ran_slowed_are_counted_and_left_out_of_the_full_speed_spreads():
    # two processes of the pure-Python control: its rate follows the machine's speed exactly (0.6 when slowed)
    full, slow = {"probe_before": 40e6, "probe_after": 40e6}, {"probe_before": 24e6, "probe_after": 40e6}
    procs = [[{**r, **probe} for r, probe in zip(_rounds([100.0, 60.0, 100.0, 60.0]), [full, slow, full, slow])],
             [{**r, **probe} for r, probe in zip(_rounds([100.0, 100.0, 60.0, 100.0]), [full, full, slow, full])]]
    s = noise.summarise(procs, ref=40e6)
    assert s["slowed_share"] == pytest.approx(3 / 8)
    assert s["within_cv_full_speed"] == 0.0 and s["between_cv_full_speed"] == 0.0
    assert s["within_cv"] > 0.2             # all rounds: the machine's two speeds are the spread
    unprobed = noise.summarise([_rounds([100.0] * 3)])
    assert unprobed["slowed_share"] == 0.0 and unprobed["within_cv_full_speed"] == 0.0
