"""data.batch: the recipe's `zip(range(N), range(0, -N, -1)).batch(4)` (guide §2.3), elements/s and bytes/s.

Every pipeline starts from `reference.data_batch.zipped_dataset(count)` (the guide's 100 elements, made
longer so an epoch is long enough to time) and batches with `reference.data_batch.batched_dataset`. The
guide batches by 4; larger batches amortise tf.data's per-batch work, and `num_parallel_calls` with
prefetch overlaps it. Every row is compared with the guide's batch of 4. An element is two int64 scalars
(16 bytes), copied into its batch.
"""

from __future__ import annotations

from benchmarks import tfdata
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import RowSpec, Stage

SECTION = "data"
RECIPE = "data.batch"
GROUP = "data.batch"


def specs(tf, plan) -> list[RowSpec]:
    from reference.data_batch import batched_dataset, zipped_dataset

    AUTOTUNE = tf.data.AUTOTUNE
    count = plan.batch_elements
    source = Stage(f"zipped_dataset({count})", lambda _: zipped_dataset(count))
    prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
    out = []
    for n in plan.small_batches:
        batch = Stage(f".batch({n})", lambda ds, n=n: ds.batch(n), batched=True)
        pbatch = Stage(f".batch({n}, num_parallel_calls=AUTOTUNE)",
                       lambda ds, n=n: ds.batch(n, num_parallel_calls=AUTOTUNE, deterministic=True), batched=True)
        guide = n == 4
        out.append(RowSpec("guide" if guide else "batch", [source, batch], batch=n, is_guide=guide,
                           what=f"batched_dataset({n}, count={count})"))
        out.append(RowSpec("parallel", [source, pbatch, prefetch], batch=n,
                           what=f"batched_dataset({n}, count={count}, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)"))
    # the rows' own pipelines are the recipe's function; the ladder cuts the same pipeline after each stage
    for spec in out:
        spec.ladder_stages = spec.stages
        n = spec.batch
        kwargs = {} if spec.variant != "parallel" else {"num_parallel_calls": AUTOTUNE, "deterministic": True}
        fn = Stage(f"batched_dataset({n}, count={count}{', parallel' if kwargs else ''})",
                   lambda _, n=n, kw=kwargs: batched_dataset(n, count=count, **kw), batched=True)
        spec.stages = [fn] + ([prefetch] if kwargs else [])
    return out


def test_batch_pipelines(tf, plan, recorder, bench_pass):
    group = Group(GROUP, SECTION, [], plan.budget(GROUP))

    def prepare():
        group.units[:] = tfdata.build_units(tf, source="batch", recipe=RECIPE, specs=specs(tf, plan),
                                            examples=plan.batch_elements, bytes_per_example=16.0, data="range",
                                            one_guide=True)

    measure_group(group, recorder, plan, prepare=prepare)
