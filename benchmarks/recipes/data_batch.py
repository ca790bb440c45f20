"""data.batch: the recipe's `zip(range(N), range(0, -N, -1)).batch(4)` (guide §2.3), elements/s and bytes/s.

Every pipeline starts from `reference.data_batch.zipped_dataset(count)` (the guide's 100 elements, made
longer so an epoch is long enough to time) and batches with `reference.data_batch.batched_dataset`. The
guide batches by 4; larger batches amortise tf.data's per-batch work, and `num_parallel_calls` with
prefetch overlaps it. Every row is compared with the guide's batch of 4. An element is two int64 scalars
(16 bytes), copied into its batch.
"""

from __future__ import annotations

from benchmarks import tfdata
from benchmarks.declaration import Benchmark, sized
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.batch"
GROUP = "data.batch"
SIZES = {"full": {"elements": 20_000}, "quick": {"elements": 5_000}}
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 4})  # full-run seconds per pass


def pipelines(tf, plan) -> list[Pipeline]:
    from reference.data_batch import batched_dataset, zipped_dataset

    AUTOTUNE = tf.data.AUTOTUNE
    count = sized(SIZES, plan).elements
    source = Stage(f"zipped_dataset({count})", lambda _: zipped_dataset(count))
    prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
    out = []
    for n in plan.small_batches:
        batch = Stage(f".batch({n})", lambda ds, n=n: ds.batch(n), batched=True)
        pbatch = Stage(f".batch({n}, num_parallel_calls=AUTOTUNE)",
                       lambda ds, n=n: ds.batch(n, num_parallel_calls=AUTOTUNE, deterministic=True), batched=True)
        guide = n == 4
        out.append(Pipeline("guide" if guide else "batch", [source, batch], batch=n, is_guide=guide,
                           what=f"batched_dataset({n}, count={count})"))
        out.append(Pipeline("parallel", [source, pbatch, prefetch], batch=n,
                           what=f"batched_dataset({n}, count={count}, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)"))
    # the rows' own pipelines are the recipe's function; the ladder cuts the same pipeline after each stage
    for pipeline in out:
        pipeline.ladder_stages = pipeline.stages
        n = pipeline.batch
        kwargs = {} if pipeline.variant != "parallel" else {"num_parallel_calls": AUTOTUNE, "deterministic": True}
        fn = Stage(f"batched_dataset({n}, count={count}{', parallel' if kwargs else ''})",
                   lambda _, n=n, kw=kwargs: batched_dataset(n, count=count, **kw), batched=True)
        pipeline.stages = [fn] + ([prefetch] if kwargs else [])
    return out


def test_batch_pipelines(tf, plan, recorder, bench_pass):
    group = Group(GROUP, "data", [], plan.budget(GROUP))

    def prepare():
        group.units[:] = tfdata.build_units(tf, source="batch", recipe=RECIPE, pipelines=pipelines(tf, plan),
                                            examples=sized(SIZES, plan).elements, bytes_per_example=16.0, data="range",
                                            one_guide=True)

    measure_group(group, recorder, plan, prepare=prepare)
