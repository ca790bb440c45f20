"""Time to quality: seconds from a fresh model to the guide's quality on held-out data.

Speed without quality is not speed: a configuration that trains twice as many examples a second but needs three
times as many of them to learn is slower. MLPerf Training's headline is therefore the time to a quality target.
Here the target is what the guide's own configuration reaches on the same data: for the quickstart model 0.80
held-out accuracy on the learnable synthetic stand-in (0.85 on the real Fashion-MNIST, when it is cached:
`quality_target`); for the Estimators' Keras equivalents on iris the 0.9 test accuracy the recipes' specs hold
them to.

A trial builds and compiles a fresh model (its own seed) and trains it the configuration's own way. The clock
starts just before the first training call, so tracing and compiling count (a user waits for them), and stops at
the first check that finds the held-out accuracy at the target. Checks come every CHECK_EXAMPLES training
examples whatever the batch size (a configuration that checked less often would look slower or faster for it);
the checks themselves are not timed. A trial that does not get there within its limit is reported as not
reached, and the row says how many did.

Trials run round-robin over the configurations, as rounds do (benchmarks/rounds.py), so that the machine's drift
hits all of them, until the share of the budget is spent (at least `min_trials` each). A row is the median
trial time with the interval every row has (benchmarks/stats.py rate_interval, each trial a pass of its own); the
ratio to the guide is the median of per-trial-index ratios (trial i of each configuration ran in the same turn).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from benchmarks.stats import rate_interval

TARGETS = {"synthetic": 0.80, "fashion-mnist": 0.85}
CHECK_EXAMPLES = 2048


def quality_target(data_kind: str | None) -> float | None:
    """The held-out accuracy the quickstart model must reach on this data for its training figures to count."""
    kind = (data_kind or "").split("-seed")[0]
    return TARGETS.get(kind)


@dataclass
class Trial:
    seconds: float          # training time to the target (or to the limit, when not reached)
    reached: bool
    examples: int           # training examples seen until then
    accuracy: float         # the held-out accuracy at the last check


def accuracy_probe(tf, model, x_test, y_test) -> Callable[[], float]:
    """Held-out accuracy of `model` now, as one compiled call (what `evaluate` would say, without its set-up);
    `x_test` an array or a dict of feature columns."""
    x = tf.nest.map_structure(lambda v: tf.constant(v, tf.float32), x_test)
    y = tf.constant(y_test, tf.int64)

    @tf.function
    def accuracy():
        predicted = tf.argmax(model(x, training=False), axis=-1)
        return tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32))

    return lambda: float(accuracy())


class Stopwatch:
    """Training time with the checks taken out: start(), then check(examples) at each check point."""

    def __init__(self, probe: Callable[[], float], target: float, limit_examples: int):
        self.probe, self.target, self.limit_examples = probe, target, limit_examples
        self.t0 = self.checking = 0.0
        self.result: Trial | None = None

    def start(self) -> None:
        self.t0, self.checking = time.perf_counter(), 0.0

    def check(self, examples: int) -> bool:
        """True when training should stop: the target is reached or the limit passed."""
        stopped = time.perf_counter()
        trained = stopped - self.t0 - self.checking   # the checks before this one taken out
        accuracy = self.probe()
        self.checking += time.perf_counter() - stopped
        reached = accuracy >= self.target
        if reached or examples >= self.limit_examples:
            self.result = Trial(trained, reached, examples, accuracy)
            return True
        return False

    def finish(self, examples: int) -> Trial:
        """Training ended between two checks (its data or its limit ran out): one last check decides."""
        self.check(examples)
        if self.result is None or not self.result.reached:
            self.result = Trial(self.result.seconds if self.result else time.perf_counter() - self.t0 - self.checking,
                                False, examples, self.result.accuracy if self.result else self.probe())
        return self.result


def keras_callback(keras, watch: Stopwatch, batch: int, check_steps: int):
    """A callback checking after every `check_steps` steps (a multiple of the model's steps per execution), counted
    over the epochs (Keras numbers the steps of each epoch from 0)."""

    class _Check(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = self.before = self.checks = 0

        def on_train_batch_end(self, step, logs=None):
            self.steps = self.before + step + 1
            if self.steps // check_steps > self.checks:
                self.checks = self.steps // check_steps
                if watch.check(self.steps * batch):
                    self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            self.before = self.steps

    return _Check()


def check_steps(batch: int) -> int:
    return max(1, CHECK_EXAMPLES // batch)


TRIAL_LIMIT_S = 600.0   # the watchdog's limit for one trial


def run_trials(configs: dict[str, Callable[[int], Trial]], recorder, group: str, declared_s: float, *,
               min_trials: int, max_trials: int) -> dict[str, list[Trial]]:
    """Trials of every configuration, round-robin (trial i of each in turn i, seed i), until the group's share
    of the budget is spent and each has `min_trials`; `configs[name](turn)` runs one trial."""
    trials: dict[str, list[Trial]] = {name: [] for name in configs}
    allot_s = recorder.allot(group, declared_s)
    t0 = time.perf_counter()
    for turn in range(max_trials):
        if turn >= min_trials and time.perf_counter() - t0 >= allot_s:
            break
        for name, trial in configs.items():
            with recorder.activity(f"time-to-quality trial {turn + 1} of {name}", TRIAL_LIMIT_S):
                result = trial(turn)
            trials[name].append(result)
            recorder.progress(f"[bench] quality {name} trial {turn + 1}: "
                              + (f"{result.seconds:.2f} s to {result.accuracy:.3f}" if result.reached else
                                 f"not reached in {result.seconds:.1f} s ({result.accuracy:.3f} after "
                                 f"{result.examples:,} examples)"))
    recorder.spent(group, time.perf_counter() - t0)
    return trials


def row(name: str, trials: list[Trial], guide: list[Trial] | None, **fields) -> dict:
    """A time-to-quality row: median seconds with its interval, how many trials reached the target, the median
    examples and the ratio to the guide's configuration (per trial index)."""
    seconds = [t.seconds for t in trials]
    interval = rate_interval(seconds, list(range(len(seconds))), min_rounds_per_pass=1)
    out = {"name": name, "trials": len(trials), "reached": sum(t.reached for t in trials),
           "seconds": interval["median"], "seconds_ci95": interval["ci"], "ci_half_width": interval["half_width"],
           "interval_width_from": interval["width_from"], "trial_seconds": seconds,
           "examples_to_quality": sorted(t.examples for t in trials)[len(trials) // 2],
           "accuracy_reached": sorted(t.accuracy for t in trials)[len(trials) // 2], **fields}
    if guide is not None and guide is not trials:
        ratios = [g.seconds / t.seconds for g, t in zip(guide, trials) if t.seconds > 0]
        ratio = rate_interval(ratios, list(range(len(ratios))), min_rounds_per_pass=1) if ratios else None
        out["speedup_vs_guide"] = ratio["median"] if ratio else None
        out["speedup_vs_guide_ci95"] = ratio["ci"] if ratio else [None, None]
    else:
        out["speedup_vs_guide"], out["speedup_vs_guide_ci95"] = (1.0, [1.0, 1.0]) if guide is trials else (None,
                                                                                                          [None, None])
    return out
