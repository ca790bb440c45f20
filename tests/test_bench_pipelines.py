"""The tuned in-memory pipelines a benchmark times deliver exactly what the guide's pipeline delivers: a variant
that dropped, duplicated or reordered examples would be faster for the wrong reason."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from benchmarks.bench_data_numpy import specs  # noqa: E402
from benchmarks.harness import Plan  # noqa: E402


def _build(spec):
    ds = None
    for stage in spec.stages:
        ds = stage.apply(ds)
    return ds


@pytest.mark.parametrize("n_examples", [1000, 1024 + 40])
def test_every_numpy_variant_yields_the_guide_batches(n_examples):
    plan = Plan(quick=True, numpy_batches=(32, 256), ladder_batch=256)
    rng = np.random.default_rng(0)
    x = rng.random((n_examples, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n_examples).astype(np.int64)
    all_specs = specs(tf, x, y, plan)
    assert {s.variant for s in all_specs} >= {"guide", "chunked", "vectorised", "gather", "shuffled_gather"}
    for spec in all_specs:
        got = [(bx.numpy(), by.numpy()) for bx, by in _build(spec)]
        sizes = [len(b[0]) for b in got]
        n = spec.batch
        assert sizes == [n] * (n_examples // n) + ([n_examples % n] if n_examples % n else []), spec.variant
        xs, ys = np.concatenate([b[0] for b in got]), np.concatenate([b[1] for b in got])
        assert xs.dtype == np.float32 and xs.shape == (n_examples, 28, 28)
        if spec.variant == "shuffled_gather":  # the same examples, in a shuffled order
            order = np.lexsort((ys, xs.reshape(n_examples, -1)[:, 0]))
            want = np.lexsort((y, x.reshape(n_examples, -1)[:, 0]))
            np.testing.assert_array_equal(xs[order], x[want])
            np.testing.assert_array_equal(ys[order], y[want])
        else:
            np.testing.assert_array_equal(xs, x, err_msg=spec.variant)
            np.testing.assert_array_equal(ys, y, err_msg=spec.variant)
