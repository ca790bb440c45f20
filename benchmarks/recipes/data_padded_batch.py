"""data.padded_batch: the recipe's `padded_batch(4, padded_shapes=[None])` (guide §2.3), elements/s and bytes/s.

Every pipeline is `reference.data_padded_batch.padded_dataset(count, batch_size)`: element x of range(count)
is a vector of x copies of x (int64), each batch padded with 0 to its longest element. Larger batches and
prefetch are the tuning; every row is compared with the guide's batch of 4. Bytes/s counts the padded
batches delivered (their size depends on the batch size: the row's `bytes_per_example` is exact).
"""

from __future__ import annotations

from benchmarks import tfdata
from benchmarks.declaration import Benchmark, sized
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.padded_batch"
GROUP = "data.padded_batch"
SIZES = {"full": {"elements": 2_000}, "quick": {"elements": 500}}
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 4})  # full-run seconds per pass


def padded_bytes_per_element(count: int, batch: int) -> float:
    """Bytes of the padded batches of one epoch over elements: batch [lo, hi) pads to length hi - 1."""
    total = 0
    for lo in range(0, count, batch):
        hi = min(lo + batch, count)
        total += (hi - lo) * (hi - 1) * 8
    return total / count


def pipelines(tf, plan) -> list[Pipeline]:
    from reference.data_padded_batch import padded_dataset, variable_length_dataset

    AUTOTUNE = tf.data.AUTOTUNE
    count = sized(SIZES, plan).elements
    source = Stage(f"variable_length_dataset({count})", lambda _: variable_length_dataset(count))
    prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
    out = []
    for n in plan.small_batches:
        recipe = Stage(f"padded_dataset({count}, {n})", lambda _, n=n: padded_dataset(count, n), batched=True)
        ladder = [source, Stage(f".padded_batch({n}, padded_shapes=[None])",
                                lambda ds, n=n: ds.padded_batch(n, padded_shapes=[None]), batched=True)]
        guide = n == 4
        out.append(Pipeline("guide" if guide else "padded_batch", [recipe], batch=n, is_guide=guide,
                           what=f"padded_dataset({count}, batch_size={n})", ladder_stages=ladder))
        out.append(Pipeline("prefetch", [recipe, prefetch], batch=n, ladder_stages=ladder + [prefetch],
                           what=f"padded_dataset({count}, batch_size={n}).prefetch(AUTOTUNE)"))
    return out


def test_padded_batch_pipelines(tf, plan, recorder, bench_pass):
    group = Group(GROUP, "data", [], plan.budget(GROUP))
    count = sized(SIZES, plan).elements

    def prepare():
        per_batch = {n: padded_bytes_per_element(count, n) for n in plan.small_batches}
        group.units[:] = tfdata.build_units(tf, source="padded_batch", recipe=RECIPE, pipelines=pipelines(tf, plan),
                                            examples=count, bytes_per_example=per_batch, data="range", one_guide=True)

    measure_group(group, recorder, plan, prepare=prepare)
