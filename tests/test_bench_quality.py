"""Time to quality (benchmarks/quality.py): the stopwatch that leaves the checks out, the check points counted over
epochs, the trials round-robin within their share, the rows and their intervals; and the quality a training row
must reach for its figures to count (benchmarks/report.py). Fake models and clocks: no TensorFlow."""

from __future__ import annotations

import types

import pytest

from benchmarks import quality
from benchmarks.harness import Plan, Recorder


def test_the_quality_target_depends_on_the_data():
    assert quality.quality_target("synthetic-seed0") == 0.80
    assert quality.quality_target("fashion-mnist") == 0.85
    assert quality.quality_target("uniform-seed0/32->10") is None


def test_the_stopwatch_leaves_the_checks_out_and_stops_at_the_first_check_at_the_target(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(quality.time, "perf_counter", lambda: now[0])
    accuracies = iter([0.5, 0.79, 0.81])

    def probe():
        now[0] += 10.0              # a check takes 10 s: none of it counts
        return next(accuracies)

    watch = quality.Stopwatch(probe, 0.80, limit_examples=10_000)
    watch.start()
    for examples in (1000, 2000, 3000):
        now[0] += 1.0               # 1 s of training between checks
        if watch.check(examples):
            break
    assert watch.result == quality.Trial(seconds=3.0, reached=True, examples=3000, accuracy=0.81)


def test_a_trial_that_runs_out_of_examples_is_not_reached():
    watch = quality.Stopwatch(lambda: 0.6, 0.80, limit_examples=2000)
    watch.start()
    assert watch.check(1000) is False and watch.check(2000) is True
    assert watch.result.reached is False and watch.result.examples == 2000
    assert watch.finish(2000).reached is False


class _Callback:
    def __init__(self):
        self.model = types.SimpleNamespace(stop_training=False)


def test_the_keras_check_points_are_counted_over_epochs_and_executions():
    keras = types.SimpleNamespace(callbacks=types.SimpleNamespace(Callback=_Callback))
    seen = []
    watch = types.SimpleNamespace(check=lambda examples: seen.append(examples) or False)
    cb = quality.keras_callback(keras, watch, batch=32, check_steps=64)
    for _epoch in range(2):           # 188 steps an epoch, 50 steps per execution: Keras numbers each epoch's from 0
        for end in (49, 99, 149, 187):
            cb.on_train_batch_end(end)
        cb.on_epoch_end(_epoch)
    # the steps at which a check falls due: 64 -> after 100, 128 -> 150, 192 -> 238, 256 -> 288, 320 -> 338
    assert seen == [s * 32 for s in (100, 150, 238, 288, 338)]


def test_trials_run_round_robin_within_their_share_and_the_row_has_its_interval_and_ratio():
    rec = Recorder(plan=Plan.for_run(True, budgets={"q": 3.0}), progress=lambda line: None)
    calls = []

    def config(name, seconds):
        def trial(turn):
            calls.append((name, turn))
            return quality.Trial(seconds[turn], True, 1000, 0.81)
        return trial

    done = quality.run_trials({"guide": config("guide", [4.0, 4.4, 3.6, 4.0]),
                               "tuned": config("tuned", [2.0, 2.2, 1.8, 2.0])},
                              rec, "q", declared_s=0.0, min_trials=3, max_trials=4)
    assert calls == [("guide", 0), ("tuned", 0), ("guide", 1), ("tuned", 1), ("guide", 2), ("tuned", 2)]
    row = quality.row("tuned", done["tuned"], done["guide"], target_accuracy=0.8)
    assert row["seconds"] == pytest.approx(2.0) and row["reached"] == 3 and row["trials"] == 3
    assert row["speedup_vs_guide"] == pytest.approx(2.0)
    lo, hi = row["seconds_ci95"]
    assert lo < 2.0 < hi       # three trials: Student's t over the log times
    assert quality.row("guide", done["guide"], done["guide"])["speedup_vs_guide"] == 1.0
