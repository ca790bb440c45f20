"""The tf.data microbenchmarks' arithmetic (benchmarks/micro/): one step from pytest-benchmark's rounds, the split of
a step into per-batch and per-element cost through two sizes with its conservative interval, and their table from
a pytest-benchmark JSON. No TensorFlow, no timing.

The project's own tooling, not the guide: run with `pytest tests`.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from benchmarks.micro import bench_tfdata as micro
from benchmarks.micro import table


def test_two_sizes_split_a_step_into_per_batch_and_per_element_cost():
    # t(n) = 10 us + 0.5 us * n, exactly
    ci4 = {"median": 12.0, "low": 11.0, "high": 13.0}
    ci256 = {"median": 138.0, "low": 130.0, "high": 150.0}
    parts = micro.split(4, ci4, 256, ci256)
    assert parts["per_element_us"] == pytest.approx(0.5) and parts["per_batch_us"] == pytest.approx(10.0)
    low, high = parts["per_element_us_ci"]
    assert low == pytest.approx((130 - 13) / 252) and high == pytest.approx((150 - 11) / 252)
    low, high = parts["per_batch_us_ci"]
    assert low == pytest.approx((256 * 11 - 4 * 150) / 252) and high == pytest.approx((256 * 13 - 4 * 130) / 252)
    assert low <= parts["per_batch_us"] <= high


def test_a_size_without_an_interval_gives_a_split_without_one():
    parts = micro.split(4, {"median": 12.0, "low": None, "high": None}, 256, {"median": 138.0, "low": 1, "high": 2})
    assert parts["per_element_us_ci"] is None and parts["per_batch_us_ci"] is None


def test_a_call_of_many_steps_becomes_one_step_per_iteration():
    from pytest_benchmark.stats import Metadata

    fixture = SimpleNamespace(name="t", fullname="t", group=None, param=None, params=None, extra_info={},
                              cprofile_stats=None, has_error=False)
    meta = Metadata(fixture, iterations=2, options={})
    for seconds in (0.064, 0.032, 0.048):   # per round of 2 calls of 32 steps: 1, 0.5 and 0.75 ms per step
        meta.update(seconds)
    data = micro.per_step(SimpleNamespace(stats=meta), 32)
    assert data == pytest.approx([1e-3, 0.5e-3, 0.75e-3])
    assert meta.iterations == 64 and meta.stats.median == pytest.approx(0.75e-3)
    assert micro.per_step(SimpleNamespace(stats=None), 32) is None   # --benchmark-disable: no statistics


def test_a_call_takes_enough_steps_to_spread_its_fixed_cost():
    assert micro.steps_for(4) == 256 and micro.steps_for(256) == micro.MIN_STEPS == 32
    assert set(micro.OPERATIONS) >= {"batch", "padded_batch", "map", "shuffle", "prefetch"}


def _bench(op, n, median, per_batch, per_element):
    return {"name": f"test_tfdata_step[{op}-b{n}]", "extra_info": {
        "operation": op, "elements_per_step": n, "pipeline": f"x.{op}({n})", "us_per_step": median,
        "us_per_step_ci95": [median * 0.9, median * 1.1], "per_batch_us": per_batch, "per_element_us": per_element,
        "per_batch_us_ci": [per_batch - 1, per_batch + 1], "per_element_us_ci": [per_element / 2, per_element * 2]}}


def test_the_table_shows_each_operation_and_what_it_adds_over_batch(tmp_path, capsys):
    doc = {"benchmarks": [_bench("batch", 4, 12.0, 10.0, 0.5), _bench("batch", 256, 138.0, 10.0, 0.5),
                          _bench("map", 4, 22.0, 14.0, 2.0), _bench("map", 256, 526.0, 14.0, 2.0),
                          {"name": "data/numpy/guide/b256/graph", "extra_info": {"table": "data"}}]}
    text = table.markdown(doc)
    lines = text.splitlines()
    assert len(lines) == 4 and lines[2].startswith("| batch |") and lines[3].startswith("| map |")
    assert "`x.map(n)`" in lines[3] and "| +4.00, +1.5000 |" in lines[3] and lines[2].endswith("| - |")
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    assert table.main([str(path)]) == 0 and capsys.readouterr().out == text
    path.write_text(json.dumps({"benchmarks": doc["benchmarks"][-1:]}))
    assert table.main([str(path)]) == 1 and "no tf.data microbenchmarks" in capsys.readouterr().err


def test_the_microbenchmarks_yield_to_the_rows_once_the_run_is_behind_its_budget():
    from benchmarks.budget import Budget
    from benchmarks.conftest import micro_skip_reason

    now = [100.0]

    def budget(elapsed_s):
        return Budget(total_s=180.0, weights={"data.numpy": 4.0, "keras.fit": 9.0}, started=now[0] - elapsed_s,
                      clock=lambda: now[0], reserve_s=10.0)

    assert micro_skip_reason(None) is None                  # pytest benchmarks -m micro: no budget, they run
    assert micro_skip_reason(budget(20.0)) is None          # time left for the rows' set-up and the report
    reason = micro_skip_reason(budget(160.0))               # 20 s left < the rows' set-up (1.5 x 13 s) + the report
    assert reason.startswith("not measured: the run is behind its 3.0-min budget")
