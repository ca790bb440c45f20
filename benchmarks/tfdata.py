"""Timing one tf.data pipeline with pytest-benchmark, the first batch kept apart from the steady state.

A round: `iter(dataset)` and the first batch happen in pytest-benchmark's untimed `setup` (timed here as
the time to first batch); the timed target consumes the rest of the epoch, either in a Python loop
(eager `for`) or inside the graph (a `tf.function` iterating the iterator). Both count the examples,
and the count must be exact: a pipeline that drops or duplicates examples is a bug, not a speed-up.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.harness import rate_row, summarise

AUTOTUNE = -1  # tf.data.AUTOTUNE


def _first_component(batch):
    while isinstance(batch, (tuple, list, dict)):
        batch = next(iter(batch.values())) if isinstance(batch, dict) else batch[0]
    return batch


def python_consumer(tf):
    def consume(iterator) -> int:
        n = 0
        for batch in iterator:
            n += int(_first_component(batch).shape[0])
        return n

    return consume


def graph_consumer(tf):
    @tf.function
    def count(iterator):
        n = tf.constant(0, tf.int64)
        for batch in iterator:
            n += tf.shape(tf.nest.flatten(batch)[0], out_type=tf.int64)[0]
        return n

    def consume(iterator) -> int:
        return int(count(iterator))

    return consume


def measure(benchmark, tf, plan, dataset, *, examples: int, bytes_per_example: float, name: str,
            consumer: str, **fields) -> dict:
    """Time `dataset` (one epoch = `examples` examples) and return its data row."""
    if benchmark.disabled:
        pytest.skip("pytest-benchmark is disabled (--benchmark-disable): nothing is timed")
    consume = (python_consumer if consumer == "python" else graph_consumer)(tf)
    first_batch_s, first_sizes, counted = [], [], []

    def setup():
        t0 = time.perf_counter()
        iterator = iter(dataset)
        first = next(iterator)
        first_batch_s.append(time.perf_counter() - t0)
        first_sizes.append(int(_first_component(first).shape[0]))
        return (iterator,), {}

    def target(iterator):
        counted.append(consume(iterator))

    benchmark.extra_info.update({"consumer": consumer, **{k: v for k, v in fields.items() if np.isscalar(v)}})
    benchmark.pedantic(target, setup=setup, rounds=plan.rounds, warmup_rounds=plan.warmup_rounds, iterations=1)
    for first, rest in zip(first_sizes, counted):
        assert first + rest == examples, f"{name}: an epoch yielded {first + rest} examples, expected {examples}"
    times = list(benchmark.stats.stats.data)
    steady_examples = examples - first_sizes[-1]
    ttfb = summarise(first_batch_s[-plan.rounds:])
    return rate_row(name, steady_examples, bytes_per_example, times, consumer=consumer,
                    time_to_first_batch_s=ttfb["median_s"], time_to_first_batch_iqr_s=ttfb["iqr_s"],
                    examples_per_epoch=examples, timer="pytest-benchmark pedantic", **fields)
