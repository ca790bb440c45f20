"""Harness self-check: the tf.data performance guide's artificial dataset, whose times are known in closed form.

The guide's `ArtificialDataset` sleeps 30 ms to "open a file" and 15 ms per "read" (3 samples); its
`benchmark` loop sleeps 10 ms per "training step" over 2 epochs; its `mapped_function` sleeps 30 ms.
With o = 30, r = 15, t = 10, m = 30 ms, n = 3 samples per file and 2 epochs, the expected time is:

- naive:                2 (o + n (r + t))                     sequential everything
- prefetch:             2 (o + n r + t)                       reads overlap steps; the reader is slower (r > t)
- interleave:           2 (2 o + 2n r + 2n t)                 two files, sequential interleave
- parallel interleave:  2 (o + r + 2n t)                      both files read at once; the steps are the bottleneck
- map:                  2 (o + n (r + m + t))
- parallel map:         2 (o + n r + m + t)                   reads sequential, maps overlap (parallelism >= 2)

The formulas leave out one cost that is not TensorFlow's arithmetic: starting the Python generator
behind `from_generator` when an epoch's iterator is created (measured here, in the same rounds, as the
time from `iter()` to the first generator's first line; once per epoch). The report gives measured/expected
raw and against expected + that measured start-up.
Ratios near 1 say the clock, the rounds and the consumer add nothing a benchmark would misread as
TensorFlow's time. Measured once, after the first pass: one warm-up round, then ROUNDS.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.stats import summarise

SLOT = "once"  # when it runs (benchmarks/conftest.py)
ROUNDS = 6      # measured rounds per pipeline (a 95 % interval needs 6)
OPEN, READ, STEP, MAP, SAMPLES, EPOCHS = 0.030, 0.015, 0.010, 0.030, 3, 2

EXPECTED = {
    "naive": EPOCHS * (OPEN + SAMPLES * (READ + STEP)),
    "prefetch": EPOCHS * (OPEN + SAMPLES * READ + STEP),
    "interleave": EPOCHS * (2 * OPEN + 2 * SAMPLES * READ + 2 * SAMPLES * STEP),
    "parallel_interleave": EPOCHS * (OPEN + READ + 2 * SAMPLES * STEP),
    "map": EPOCHS * (OPEN + SAMPLES * (READ + MAP + STEP)),
    "parallel_map": EPOCHS * (OPEN + SAMPLES * READ + MAP + STEP),
}
CODE = {
    "naive": "ArtificialDataset()",
    "prefetch": "ArtificialDataset().prefetch(AUTOTUNE)",
    "interleave": "range(2).interleave(lambda _: ArtificialDataset())",
    "parallel_interleave": "range(2).interleave(lambda _: ArtificialDataset(), num_parallel_calls=AUTOTUNE)",
    "map": "ArtificialDataset().map(mapped_function)",
    "parallel_map": "ArtificialDataset().map(mapped_function, num_parallel_calls=AUTOTUNE)",
}


_GENERATOR_STARTS: list[float] = []


def _artificial(tf, num_samples=SAMPLES, scale=1.0):
    def _generator(num_samples):
        _GENERATOR_STARTS.append(time.perf_counter())
        time.sleep(OPEN * scale)  # opening the file
        for sample_idx in range(num_samples):
            time.sleep(READ * scale)  # reading data (line, record) from the file
            yield (sample_idx,)

    return tf.data.Dataset.from_generator(_generator, output_signature=tf.TensorSpec(shape=(1,), dtype=tf.int64),
                                          args=(num_samples,))


def build(tf, name: str, scale: float = 1.0):
    AUTOTUNE = tf.data.AUTOTUNE

    def artificial_dataset(tf):
        return _artificial(tf, scale=scale)

    def mapped_function(s):
        tf.py_function(lambda: time.sleep(MAP * scale), [], ())  # "hard pre-processing"
        return s

    if name == "naive":
        return artificial_dataset(tf)
    if name == "prefetch":
        return artificial_dataset(tf).prefetch(AUTOTUNE)
    if name == "interleave":
        return tf.data.Dataset.range(2).interleave(lambda _: artificial_dataset(tf), cycle_length=2)
    if name == "parallel_interleave":
        return tf.data.Dataset.range(2).interleave(lambda _: artificial_dataset(tf), cycle_length=2,
                                                   num_parallel_calls=AUTOTUNE)
    if name == "map":
        return artificial_dataset(tf).map(mapped_function)
    return artificial_dataset(tf).map(mapped_function, num_parallel_calls=AUTOTUNE)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_artificial_pipeline_time(tf, plan, recorder, name):
    seen, epoch_starts, times = [], [], []

    def two_epochs(dataset, step_s):  # the performance guide's `benchmark(dataset)`
        n = 0
        t0 = time.perf_counter()
        for _ in range(EPOCHS):
            epoch_starts.append(time.perf_counter())
            for _sample in dataset:
                time.sleep(step_s)  # performing a training step
                n += 1
        times.append(time.perf_counter() - t0)
        seen.append(n)

    dataset = build(tf, name)
    two_epochs(dataset, STEP)  # warm-up
    _GENERATOR_STARTS.clear()
    seen.clear()
    epoch_starts.clear()
    times.clear()
    for _ in range(ROUNDS):
        two_epochs(dataset, STEP)
    starts = sorted(_GENERATOR_STARTS)
    startup = summarise([min(g for g in starts if g >= e) - e for e in epoch_starts])["median_s"]
    expected_with_startup = EXPECTED[name] + EPOCHS * startup
    files = 2 if "interleave" in name else 1
    assert set(seen) == {EPOCHS * SAMPLES * files}
    stats = summarise(times)
    recorder.add_selfcheck({
        "name": name, "pipeline": CODE[name], "expected_s": EXPECTED[name], "measured_s": stats["median_s"],
        "measured_ci95_s": stats["median_ci95_s"], "measured_over_expected": stats["median_s"] / EXPECTED[name],
        "generator_startup_s": startup, "expected_with_startup_s": expected_with_startup,
        "corrected_over_expected": stats["median_s"] / expected_with_startup, "cv": stats["cv"],
        "cv_flag": stats["cv"] > 0.05, "timing": stats, "timer": "time.perf_counter around the guide's loop"})
