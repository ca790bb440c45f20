"""data.numpy: in-memory arrays through the recipe's `from_tensor_slices` (guide §2.1.1), Fashion-MNIST shaped.

Every pipeline starts from `reference.data_numpy.from_arrays`. The guide's pipeline is
`from_arrays(x, y).batch(n)`: every example is sliced out and copied again into its batch, with tf.data's
per-element overhead in between. The tuned variants follow the tf.data performance guide: prefetch,
parallel batching, vectorising (from_arrays over whole batches), gathering whole batches in a parallel map
(batch-before-map: from_arrays over example indices, in order or shuffled every epoch as training wants),
chunking (from_arrays over chunks of up to 64 examples that divide the batch and the epoch, batched into
whole batches: every byte is still copied into its batch, but tf.data's per-element cost is paid once per
chunk), and cache.

Two variants deliver bytes without copying them, and the report says so: `cache` serves the same batch
tensors again, and `vectorised` slices of a tensor are returned as views when they are 64-byte aligned
(tf.data's `MaybeCopySubSlice`), which every batch of 28x28 float32 images is. The bandwidth target
therefore looks at the best pipeline that copies every byte.

The arrays are converted to tensors once per pass and every pipeline of the pass slices those:
`from_tensor_slices` of a NumPy array would copy the 94 MB into each of the ~25 pipelines measured
side by side.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import tfdata
from benchmarks.datasets import fashion_mnist
from benchmarks.declaration import Benchmark, Ladder, Target, fmt_ci, sized
from benchmarks.models import NUMPY_BYTES_PER_EXAMPLE
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.numpy"
GROUP = "data.numpy"
SIZES = {"full": {"examples": 30_000, "batches": (32, 256, 2048)}, "quick": {"examples": 10_000, "batches": (256,)}}


def in_memory_target(report: dict, threshold: float) -> dict | None:
    """The best in-memory pipeline that copies every byte, against the copy bandwidth."""
    mem = [r for r in report["data"] if r["source"] == "numpy"]
    if not mem:
        return None
    limits = report["limits"]
    copying = [r for r in mem if r.get("copies_every_byte")]
    best_copy = max(copying, key=lambda r: r["pct_of_limit"]) if copying else None
    best_any = max(mem, key=lambda r: r["pct_of_limit"])
    value = best_copy["pct_of_limit"] if best_copy else best_any["pct_of_limit"]
    cb = limits["copy_bandwidth_bytes_per_s"]
    ev = []
    if best_copy:
        per_batch_us = best_copy["batch_size"] / best_copy["examples_per_s"] * 1e6
        copy_us = best_copy["batch_size"] * best_copy["bytes_per_example"] / cb * 1e6
        ev.append(f"best pipeline that copies every byte: {best_copy['name']} {best_copy['mb_per_s']:,.0f} MB/s "
                  f"({best_copy['pct_of_limit']:.1f} % {fmt_ci(best_copy.get('pct_of_limit_ci95'), '{:.1f}')}): "
                  f"{per_batch_us:.1f} us per batch, of which the copy itself needs {copy_us:.1f} us; slowest "
                  f"stage: {best_copy.get('slowest_stage')}")
    ev.append(f"limit: {cb / 1e9:.2f} GB/s ({limits['details']['copy_bandwidth'].get('best_config')})")
    if best_any is not best_copy:
        ev.append(f"{best_any['name']} reaches {best_any['pct_of_limit']:.1f} % without copying the bytes")
    return {"target": f"in-memory tf.data: >= {threshold:g} % of the copy bandwidth",
            "value": value, "value_ci95": (best_copy or best_any).get("pct_of_limit_ci95"),
            "row": (best_copy or best_any)["name"], "evidence": "; ".join(ev)}


BENCHMARK = Benchmark(
    recipe=RECIPE,
    budgets={GROUP: 12},  # full-run seconds per pass
    ladders=(Ladder("in-memory tf.data at batch {b} (graph consumer)", table="data", unit="% of copy bandwidth",
                    value="pct_of_limit", batch_field="batch_size",
                    rungs=(("numpy/guide/b{b}/graph", "the guide's from_tensor_slices(...).batch(n)"),
                           ("numpy/prefetch/b{b}/graph", "+ prefetch"),
                           ("numpy/parallel_batch/b{b}/graph", "+ parallel batch"),
                           ("numpy/chunked/b{b}/graph",
                            "from_arrays over chunks of examples, batched in parallel (every byte still copied)"),
                           ("numpy/gather/b{b}/graph", "batch-before-map: gather whole batches"),
                           ("numpy/shuffled_gather/b{b}/graph", "+ shuffle every epoch (the training input)")),
                    extra=(("slowest_stage", "slowest_stage"),)),),
    targets=(Target("in_memory_pct_of_copy", 75.0, in_memory_target),),
    # the copy sweep's destination sizes: these rows' batches in bytes
    copy_bytes=lambda plan: {b * NUMPY_BYTES_PER_EXAMPLE for b in (*sized(SIZES, plan).batches, plan.ladder_batch)},
)


@pytest.fixture(scope="module")
def arrays(plan):
    images = fashion_mnist(sized(SIZES, plan).examples, 1)
    x = (images.x_train / np.float32(255.0)).astype(np.float32)
    return x, images.y_train, images.kind


def _merge_chunks(tf, ds, chunks: int):
    """Batches of `chunks` chunks, [chunks, chunk, 28, 28], back to [n, 28, 28] (a reshape: no copy). The chunk
    divides the epoch, so the last batch is as short as `.batch(n)`'s."""
    return ds.batch(chunks, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).map(
        lambda xb, yb: (tf.reshape(xb, (-1, 28, 28)), tf.reshape(yb, (-1,))))


def pipelines(tf, x_np: np.ndarray, y_np: np.ndarray, plan, batches: tuple = ()) -> list[Pipeline]:
    from reference.data_numpy import from_arrays

    AUTOTUNE = tf.data.AUTOTUNE
    # a fresh copy each pass: where the arrays land in memory is part of what a pass samples
    x, y = tf.constant(np.array(x_np, copy=True)), tf.constant(np.array(y_np, copy=True))
    n_examples = len(x_np)
    source = Stage("from_arrays(x, y)", lambda _: from_arrays(x, y))
    idx = Stage("from_arrays(indices, y)", lambda _: from_arrays(np.arange(n_examples, dtype=np.int64), y))
    out = []
    for n in batches or sized(SIZES, plan).batches:
        batch = Stage(f".batch({n})", lambda ds, n=n: ds.batch(n), batched=True)
        pbatch = Stage(f".batch({n}, num_parallel_calls=AUTOTUNE)",
                       lambda ds, n=n: ds.batch(n, num_parallel_calls=AUTOTUNE, deterministic=True), batched=True)
        prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
        shuffle = Stage(".shuffle(N)", lambda ds: ds.shuffle(n_examples, seed=0, reshuffle_each_iteration=True))
        full = (n_examples // n) * n
        # Several chunks per batch, each large enough to amortise an element's cost, and dividing both the batch
        # and the epoch: every stage of the ladder (the chunks alone too) then yields the whole epoch.
        chunk = max(1, min(64, n // 4, math.gcd(n, n_examples)))

        def vec_source(_, n=n, full=full):
            ds = from_arrays(tf.reshape(x[:full], (-1, n, 28, 28)), tf.reshape(y[:full], (-1, n)))
            if full < n_examples:
                ds = ds.concatenate(from_arrays(x[None, full:], y[None, full:]))
            return ds

        gather_idx = Stage(".map(gather(x, indices), num_parallel_calls=AUTOTUNE)",
                           lambda ds: ds.map(lambda i, label: (tf.gather(x, i), label), num_parallel_calls=AUTOTUNE),
                           batched=True)
        out += [
            Pipeline("guide", [source, batch], batch=n, is_guide=True, what="from_arrays(x, y).batch(n)"),
            Pipeline("prefetch", [source, batch, prefetch], batch=n, what="... .batch(n).prefetch(AUTOTUNE)"),
            Pipeline("parallel_batch", [source, pbatch, prefetch], batch=n,
                    what="... .batch(n, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)"),
            Pipeline("vectorised", [Stage(f"from_arrays(x as [steps, {n}, 28, 28]) + remainder", vec_source,
                                         batched=True), prefetch], batch=n, copies_every_byte=False,
                    what="from_arrays over whole batches, prefetch; aligned slices are views, not copies"),
            Pipeline("gather", [idx, batch, gather_idx, prefetch], batch=n,
                    what="from_arrays(indices, y).batch(n).map(gather(x, indices), parallel).prefetch(AUTOTUNE)"),
            Pipeline("shuffled_gather", [idx, shuffle, batch, gather_idx, prefetch], batch=n,
                    what="from_arrays(indices, y).shuffle(N).batch(n).map(gather, parallel).prefetch: the training input"),
            Pipeline("chunked", [Stage(f"from_arrays(x as [N/{chunk}, {chunk}, 28, 28])",
                                      lambda _, chunk=chunk: from_arrays(tf.reshape(x, (-1, chunk, 28, 28)),
                                                                         tf.reshape(y, (-1, chunk))),
                                      batched=True),
                                Stage(f".batch({n // chunk}, num_parallel_calls=AUTOTUNE) + merge chunks",
                                      lambda ds, n=n, chunk=chunk: _merge_chunks(tf, ds, n // chunk), batched=True),
                                prefetch], batch=n,
                    what=f"from_arrays over chunks of {chunk} examples, .batch(n / {chunk}) copies them into each batch: "
                         "tf.data's per-element cost paid once per chunk"),
            Pipeline("cache", [source, batch, Stage(".cache()", lambda ds: ds.cache()), prefetch], batch=n,
                    copies_every_byte=False, what="... .batch(n).cache().prefetch(AUTOTUNE): epochs serve cached batches"),
        ]
    # The Python loop the guide iterates with, for the guide's pipeline and the best copying one.
    n = plan.ladder_batch
    batch = Stage(f".batch({n})", lambda ds: ds.batch(n), batched=True)
    out.append(Pipeline("guide", [source, batch], consumer="python", batch=n, is_guide=True,
                       what="from_arrays(x, y).batch(n), for-loop in Python"))
    out.append(Pipeline("shuffled_gather", next(s.stages for s in out if s.variant == "shuffled_gather" and s.batch == n),
                       consumer="python", batch=n, what="the training input, for-loop in Python"))
    return out


def test_numpy_pipelines(tf, plan, recorder, arrays, bench_pass):
    x, y, kind = arrays
    state = {}

    def prepare():
        state["units"] = tfdata.build_units(tf, source="numpy", recipe=RECIPE, pipelines=pipelines(tf, x, y, plan),
                                            examples=len(x), bytes_per_example=float(NUMPY_BYTES_PER_EXAMPLE),
                                            data=kind,
                                            ladder_batches={plan.ladder_batch})
        group.units[:] = state["units"]

    group = Group(GROUP, "data", [], plan.budget(GROUP))
    measure_group(group, recorder, plan, prepare=prepare)
