"""The measuring method every benchmark shares: plan (quick or full), statistics, rows and progress lines.

Method (issue 5): warm-up rounds first, then at least five measured rounds; a row reports the median,
the inter-quartile range and the coefficient of variation of its rounds, and a row whose CV exceeds
5 % is flagged, never hidden. Nothing here asserts anything about time.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

CV_FLAG = 0.05
MIN_ROUNDS = 5


@dataclass(frozen=True)
class Plan:
    """How much each benchmark does. `--quick` is the CI smoke run; the full run is the measurement."""

    quick: bool
    rounds: int = MIN_ROUNDS
    warmup_rounds: int = 1
    # tf.data
    numpy_examples: int = 60_000
    numpy_batches: tuple[int, ...] = (32, 256, 2048)
    file_examples: int = 20_000
    file_batches: tuple[int, ...] = (32, 256)
    jpeg_images: int = 2_000
    consumers: tuple[str, ...] = ("python", "graph")
    file_consumers: tuple[str, ...] = ("python", "graph")
    # training
    train_examples: int = 60_000
    test_examples: int = 10_000
    steps_per_execution: int = 100
    large_batches: tuple[int, ...] = (256, 1024, 4096, 8192)
    conv_examples: int = 20_000
    distributed_examples: int = 20_000
    subprocess_timeout_s: float = 300.0

    @classmethod
    def for_run(cls, quick: bool) -> "Plan":
        if not quick:
            return cls(quick=False)
        return cls(quick=True, numpy_examples=10_000, numpy_batches=(256,), file_examples=4_000,
                   file_batches=(256,), file_consumers=("graph",), jpeg_images=300, train_examples=6_000, test_examples=2_000,
                   steps_per_execution=50, large_batches=(1024,), conv_examples=2_000,
                   distributed_examples=2_000, subprocess_timeout_s=150.0)

    @property
    def epochs(self) -> int:
        """Epochs of every training run: one that compiles, the warm-up ones, then the measured ones."""
        return 1 + self.warmup_rounds + self.rounds


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarise(seconds: list[float]) -> dict:
    """Median, IQR and CV of measured round times (seconds)."""
    values = sorted(float(s) for s in seconds)
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values) if len(values) > 1 else 0.0
    q1, q3 = quantile(values, 0.25), quantile(values, 0.75)
    return {"rounds": len(values), "median_s": quantile(values, 0.5), "q1_s": q1, "q3_s": q3,
            "iqr_s": q3 - q1, "min_s": values[0], "max_s": values[-1], "mean_s": mean,
            "cv": stdev / mean if mean > 0 else math.nan, "round_s": [float(s) for s in seconds]}


def rate_row(name: str, examples: int, bytes_per_example: float | None, seconds: list[float],
             **fields) -> dict:
    """A throughput row: examples per round over the round times, with spread and the CV flag."""
    stats = summarise(seconds)
    eps = examples / stats["median_s"]
    row = {"name": name, "examples_per_s": eps,
           # the rate's own IQR: faster rounds are the lower quartile of time
           "examples_per_s_iqr": examples / stats["q1_s"] - examples / stats["q3_s"],
           "examples_per_round": examples, "cv": stats["cv"], "cv_flag": stats["cv"] > CV_FLAG,
           "timing": stats}
    if bytes_per_example is not None:
        row["bytes_per_example"] = bytes_per_example
        row["mb_per_s"] = eps * bytes_per_example / 1e6
    row.update(fields)
    return row


class Stopwatch:
    """perf_counter intervals, so a round can time its parts (first batch, steady state) separately."""

    def __init__(self):
        self.t0 = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.t0 = now - self.t0, now
        return elapsed


@dataclass
class Recorder:
    """Collects every row of the run; the report is rendered from it at the end of the session."""

    plan: Plan
    progress: callable = print
    limits: dict = field(default_factory=dict)
    data: list = field(default_factory=list)
    training: list = field(default_factory=list)
    selfcheck: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def add(self, section: str, row: dict) -> dict:
        getattr(self, section).append(row)
        flag = "  [CV > 5 %]" if row.get("cv_flag") else ""
        extra = ""
        if "mb_per_s" in row:
            extra = f", {row['mb_per_s']:,.0f} MB/s"
        if "ms_per_step_p50" in row:
            extra += f", {row['ms_per_step_p50']:.3f} ms/step p50"
        if "accuracy" in row and row["accuracy"] is not None:
            extra += f", accuracy {row['accuracy']:.4f}"
        if section == "selfcheck":
            self.progress(f"[bench] selfcheck {row['name']}: measured {row['measured_s'] * 1e3:.1f} ms, expected "
                          f"{row['expected_s'] * 1e3:.1f} ms, ratio {row['measured_over_expected']:.3f} "
                          f"({row['corrected_over_expected']:.3f} with the measured generator start-up "
                          f"{row['generator_startup_s'] * 1e3:.1f} ms/epoch), "
                          f"CV {row['cv']:.1%}{flag}")
        else:
            self.progress(f"[bench] {section} {row['name']}: {row['examples_per_s']:,.0f} examples/s{extra}, "
                          f"CV {row['cv']:.1%}{flag}")
        return row

    def skip(self, section: str, name: str, reason: str) -> None:
        self.skipped.append({"section": section, "name": name, "reason": reason})
        self.progress(f"[bench] {section} {name}: skipped ({reason})")
