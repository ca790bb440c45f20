"""The tuned in-memory pipelines a benchmark times deliver exactly what the guide's pipeline delivers: a variant
that dropped, duplicated or reordered examples would be faster for the wrong reason."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from benchmarks.recipes.data_numpy import pipelines  # noqa: E402
from benchmarks.harness import Plan  # noqa: E402


def _build(pipeline):
    ds = None
    for stage in pipeline.stages:
        ds = stage.apply(ds)
    return ds


@pytest.mark.parametrize("n_examples", [1000, 1024 + 40])
def test_every_numpy_variant_yields_the_guide_batches(n_examples):
    plan = Plan(quick=True, ladder_batch=256)
    rng = np.random.default_rng(0)
    x = rng.random((n_examples, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n_examples).astype(np.int64)
    all_pipelines = pipelines(tf, x, y, plan, batches=(32, 256))
    assert {s.variant for s in all_pipelines} >= {"guide", "chunked", "vectorised", "gather", "shuffled_gather"}
    for pipeline in all_pipelines:
        got = [(bx.numpy(), by.numpy()) for bx, by in _build(pipeline)]
        sizes = [len(b[0]) for b in got]
        n = pipeline.batch
        assert sizes == [n] * (n_examples // n) + ([n_examples % n] if n_examples % n else []), pipeline.variant
        xs, ys = np.concatenate([b[0] for b in got]), np.concatenate([b[1] for b in got])
        assert xs.dtype == np.float32 and xs.shape == (n_examples, 28, 28)
        if pipeline.variant == "shuffled_gather":  # the same examples, in a shuffled order
            order = np.lexsort((ys, xs.reshape(n_examples, -1)[:, 0]))
            want = np.lexsort((y, x.reshape(n_examples, -1)[:, 0]))
            np.testing.assert_array_equal(xs[order], x[want])
            np.testing.assert_array_equal(ys[order], y[want])
        else:
            np.testing.assert_array_equal(xs, x, err_msg=pipeline.variant)
            np.testing.assert_array_equal(ys, y, err_msg=pipeline.variant)


def test_x_guide_baselines_per_batch_size_or_the_one_guide_row():
    from benchmarks import tfdata
    from benchmarks.recipes import data_batch

    plan = Plan(quick=True, ladder_batch=256, small_batches=(4, 32))
    x = np.zeros((64, 28, 28), np.float32)
    y = np.zeros(64, np.int64)
    units = tfdata.build_units(tf, source="numpy", recipe="data.numpy", pipelines=pipelines(tf, x, y, plan, (32, 256)),
                               examples=64,
                               bytes_per_example=3136.0, data="zeros")
    rows = {u.key: u for u in units if u.row is not None}
    for key, unit in rows.items():
        batch, consumer = unit.row["batch_size"], unit.row["consumer"]
        want = None if unit.row["is_guide"] else f"numpy/guide/b{batch}/{consumer}"
        assert unit.baseline == want, key
    units = tfdata.build_units(tf, source="batch", recipe="data.batch", pipelines=data_batch.pipelines(tf, plan),
                               examples=64, bytes_per_example=16.0, data="range", one_guide=True)
    baselines = {u.key: u.baseline for u in units if u.row is not None}
    guide = "batch/guide/b4/graph"
    assert baselines == {guide: None, "batch/parallel/b4/graph": guide, "batch/batch/b32/graph": guide,
                         "batch/parallel/b32/graph": guide}
