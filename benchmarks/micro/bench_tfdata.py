"""The cost of one step of each tf.data operation the guide uses, with pytest-benchmark's `benchmark` fixture.

The whole-run rows (benchmarks/recipes/data_*.py) time an epoch and say what bounds it; on this machine that is
tf.data's per-batch work, not bandwidth. These time that work directly: one *step* is one batch of `n` elements
taken from a pipeline that ends in the operation, and each operation is timed at two batch sizes, the guide's 4
and 256, so that a step's time splits into a cost per batch and a cost per element (t(n) = per_batch +
n * per_element, through the two medians).

This is where pytest-benchmark's model - one callable, calibrated, repeated in rounds inside one process - is the
right one: a step is microseconds, a single process is what a user tuning a pipeline runs, and what changes from
one TensorFlow release to the next is this cost. Each call of the timed function draws STEPS steps from one
iterator inside a `tf.function` (a graph while-loop over `get_next`, as Keras' `fit` consumes a dataset): a step
pulled from Python would cost tens of microseconds of eager dispatch, more than most of these steps themselves.
A call takes 256 steps of 4 elements or 32 of 256 (`steps_for`: a call of a slow operation stays well under a
second, so that a test keeps its rounds); the call's fixed cost (a few tens of microseconds), divided by those
steps, adds well under 2 us to a step and under 0.01 us to the per-element figure.
The source is the guide's own (`reference.data_batch.zipped_dataset`: two int64 scalars per element), endless,
so that no step ever starts a new epoch; map, shuffle, repeat and prefetch are timed as the guide uses them,
before or after `.batch(n)`, and their own cost is their figures minus `batch`'s (benchmarks/micro/table.py).

pytest-benchmark calibrates the calls per round and takes the rounds (`--benchmark-max-time`, `--benchmark-min-
rounds`, ...; by default here 1 s per test and at least 10 rounds, with --quick 0.25 s and 6); its statistics are then
converted to one step (each round's time over the steps it held: `iterations` counts steps). Each test's
`extra_info` carries the median step's 95 % interval (distribution-free, benchmarks/stats.py) and, once both sizes
of an operation are timed, its per-batch and per-element cost with intervals from the two sizes' intervals
(their ends combined the conservative way: both hold together with at least 90 %). No timing is asserted.

`pytest benchmarks -m micro` runs these alone (no whole-run rows, no report); `pytest benchmarks --benchmark-skip`
leaves them out. In a whole run they come with pass 1's tf.data groups and only while the run is not behind its
budget (benchmarks/conftest.py, micro_skip_reason): the budget plans no time for them, and the rows come first.
"""

from __future__ import annotations

import pytest

from benchmarks.stats import median_ci

SLOT = "data"           # with pass 1's tf.data groups, before them (benchmarks/conftest.py); never in later passes
ELEMENTS_PER_CALL = 1024
MIN_STEPS = 32          # a call's fixed cost spread over at least 32 steps (see the docstring)
SIZES = (4, 256)        # the guide's batch of 4, and a large one
ENDLESS = 2**62         # elements of the source: no step ever reaches the end of an epoch
SHUFFLE_BUFFER = 1000   # reference/estimator_input_fn.py: dataset.shuffle(1000).repeat().batch(batch_size)
REPEAT_EPOCH = 1000     # repeat: an epoch of 1000 elements, repeated

pytestmark = pytest.mark.micro


def _source(count: int = ENDLESS):
    from reference.data_batch import zipped_dataset

    return zipped_dataset(count)


def _bounded_vectors(tf):
    """padded_batch's input as the guide's (element x: a vector of x copies of x), its lengths bounded (x % 16) so
    that every step pads the same work, however far the iterator has run."""
    return tf.data.Dataset.range(ENDLESS).map(lambda x: tf.fill([tf.cast(x % 16, tf.int32)], x))


# operation -> (what the pipeline is, builder(tf, n) -> dataset whose every element is one step of n elements)
OPERATIONS = {
    "batch": ("zipped_dataset().batch(n)", lambda tf, n: _source().batch(n)),
    "padded_batch": ("range().map(fill x%16).padded_batch(n, padded_shapes=[None])",
                     lambda tf, n: _bounded_vectors(tf).padded_batch(n, padded_shapes=[None])),
    "map": ("zipped_dataset().map(lambda inc, dec: (inc + dec, dec)).batch(n)",
            lambda tf, n: _source().map(lambda inc, dec: (inc + dec, dec)).batch(n)),
    "shuffle": (f"zipped_dataset().shuffle({SHUFFLE_BUFFER}).batch(n)",
                lambda tf, n: _source().shuffle(SHUFFLE_BUFFER).batch(n)),
    "repeat": (f"zipped_dataset({REPEAT_EPOCH}).repeat().batch(n)",
               lambda tf, n: _source(REPEAT_EPOCH).repeat().batch(n)),
    "prefetch": ("zipped_dataset().batch(n).prefetch(AUTOTUNE)",
                 lambda tf, n: _source().batch(n).prefetch(tf.data.AUTOTUNE)),
}
_DONE: dict = {}   # operation -> {n: extra_info of its test}: the second size derives the per-batch/per-element split


def steps_for(n: int) -> int:
    """Steps per call of the timed function at batch size n: 256 at 4, 32 at 256."""
    return max(MIN_STEPS, ELEMENTS_PER_CALL // n)


def stepper(tf, dataset, steps: int):
    """A function taking `steps` steps of `dataset` inside one graph call; it returns the elements they held."""
    iterator = iter(dataset)

    @tf.function
    def take_steps():
        n = tf.constant(0, tf.int64)
        for _ in tf.range(steps):
            n += tf.shape(tf.nest.flatten(iterator.get_next())[0], out_type=tf.int64)[0]
        return n

    return lambda: int(take_steps())


def split(n1: int, ci1: dict, n2: int, ci2: dict) -> dict:
    """Per-batch and per-element cost (us) through two sizes' median step times (us), with the conservative
    interval from their two intervals (None when either has none)."""
    d = n2 - n1
    per_element = (ci2["median"] - ci1["median"]) / d
    out = {"per_element_us": per_element, "per_batch_us": ci1["median"] - n1 * per_element,
           "per_element_us_ci": None, "per_batch_us_ci": None}
    if None not in (ci1["low"], ci1["high"], ci2["low"], ci2["high"]):
        out["per_element_us_ci"] = [(ci2["low"] - ci1["high"]) / d, (ci2["high"] - ci1["low"]) / d]
        out["per_batch_us_ci"] = [(n2 * ci1["low"] - n1 * ci2["high"]) / d, (n2 * ci1["high"] - n1 * ci2["low"]) / d]
    return out


def per_step(benchmark, steps: int) -> list[float] | None:
    """pytest-benchmark's rounds of this test converted to one step: each round's time per call over the steps a
    call takes, `iterations` the steps of a round. None when benchmarking is disabled (--benchmark-disable)."""
    meta = getattr(benchmark, "stats", None)
    if meta is None or not meta.stats.data:
        return None
    meta.stats.data[:] = [d / steps for d in meta.stats.data]   # before any statistic is computed (and cached)
    meta.iterations *= steps
    return list(meta.stats.data)


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"b{n}")
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_tfdata_step(benchmark, tf, progress, operation, n):
    what, build = OPERATIONS[operation]
    steps = steps_for(n)
    run = stepper(tf, build(tf, n), steps)
    assert run() == steps * n          # traced, warm, and every step holds n elements
    benchmark.group = f"micro: tf.data {operation}"
    benchmark.extra_info.update(operation=operation, pipeline=what.replace("(n", f"({n}"), elements_per_step=n,
                                steps_per_call=steps, time_unit="seconds per step")
    benchmark(run)
    data = per_step(benchmark, steps)
    if data is None:
        return
    ci = {k: (v * 1e6 if isinstance(v, float) else v) for k, v in median_ci(data).items()}
    benchmark.extra_info.update(us_per_step=ci["median"], us_per_step_ci95=[ci["low"], ci["high"]],
                                rounds=len(data))
    done = _DONE.setdefault(operation, {})
    done[n] = (benchmark.extra_info, ci)
    if len(done) < 2:
        return
    (n1, (extra1, ci1)), (n2, (extra2, ci2)) = sorted(done.items())[:2]
    parts = split(n1, ci1, n2, ci2)
    for extra in (extra1, extra2):
        extra.update(parts, split_from=[n1, n2])
    interval = parts["per_element_us_ci"]
    progress(f"[bench] micro tf.data {operation}: {ci1['median']:.2f} us per step of {n1}, {ci2['median']:.2f} us "
             f"per step of {n2}; per batch {parts['per_batch_us']:.2f} us, per element "
             f"{parts['per_element_us']:.4f} us"
             + (f" [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else " (no interval: too few rounds)"))
