"""Unit tests of the benchmark report (reports/benchmarks.py), the comparison (reports/compare.py) and the
benchmark harness's statistics (benchmarks/harness.py), on small synthetic rows: no TensorFlow, no timing.

The project's own tooling, not the guide: run with `pytest tests`.
"""

from __future__ import annotations

import copy
import json

import pytest

from benchmarks.harness import Plan, Recorder, quantile, rate_row, summarise
from reports import __main__ as reports_cli
from reports import benchmarks as bench_report
from reports import compare

ENV = {"python": "3.11.7", "tensorflow": "2.21.0", "tensorflow_distribution": "tensorflow",
       "keras": {"name": "Keras 3", "version": "3.15.1", "module": "keras", "legacy_env": ""},
       "numpy": "2.4.6", "cpu": {"model": "test CPU", "cores": 2, "usable_cores": 2}, "memory_gib": 1.0,
       "gpus": [], "cuda_build": {"is_cuda_build": False, "cuda_version": None, "cudnn_version": None}}
COPY_BW = 10e9
PEAK = 100e9


def _limits():
    timing = summarise([1.0] * 5)
    return {"copy_bandwidth": {"best_bytes_per_s": COPY_BW, "median_bytes_per_s": COPY_BW, "cv": 0.0,
                               "method": "test", "timing": timing},
            "matmul_peak": {"/device:CPU:0": {"float32": {"best_flop_per_s": PEAK, "median_flop_per_s": PEAK,
                                                          "cv": 0.0, "method": "test", "timing": timing}}},
            "primary_device": "/device:CPU:0"}


def _data_row(variant, seconds, batch=256, consumer="graph", examples=1000, bpe=1000.0):
    return rate_row(f"numpy/{variant}/b{batch}/{consumer}", examples, bpe, seconds, consumer=consumer,
                    source="numpy", variant=variant, batch_size=batch, examples_per_epoch=examples,
                    pipeline=variant, data="synthetic", copies_every_byte=True,
                    time_to_first_batch_s=0.001)


def _train_row(config, seconds, batch=32, examples=6000, flops=400_000.0, accuracy=0.9):
    return rate_row(f"quickstart/{config}/b{batch}", examples, None, seconds, section="single", model="quickstart",
                    config=config, global_batch=batch, replicas=1, devices=["/device:CPU:0"], examples_per_epoch=examples,
                    epochs=7, steps_per_execution=1, jit_compile=False, input="tf.data", strategy=None,
                    data="synthetic", accuracy=accuracy, flops_per_example=flops, ms_per_step_p50=1.0,
                    ms_per_step_p95=2.0, compile_and_first_step_s=0.5)


def _report(guide_s=1.0, tuned_s=0.25, big_s=0.01):
    rec = Recorder(plan=Plan.for_run(True), progress=lambda line: None)
    rec.limits = _limits()
    rec.data = [_data_row("guide", [0.01] * 5), _data_row("vectorised", [0.0002] * 5)]
    rec.training = [_train_row("guide", [guide_s] * 5), _train_row("spe", [tuned_s] * 5),
                    _train_row("spe", [big_s] * 5, batch=4096, accuracy=0.85)]
    return bench_report.build(rec, ENV)


# -- statistics ------------------------------------------------------------------------------------

def test_summarise_gives_median_iqr_and_cv_of_rounds():
    s = summarise([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s["median_s"], s["q1_s"], s["q3_s"], s["iqr_s"]) == (3.0, 2.0, 4.0, 2.0)
    assert s["cv"] == pytest.approx((2.5 ** 0.5) / 3.0)


def test_quantile_interpolates_linearly_like_numpy():
    assert quantile([0.0, 10.0], 0.95) == pytest.approx(9.5)


def test_rate_row_flags_cv_above_five_percent():
    assert not rate_row("a", 10, None, [1.0] * 5)["cv_flag"]
    assert rate_row("b", 10, None, [1.0, 1.2, 0.8, 1.0, 1.0])["cv_flag"]


def test_quick_plan_still_measures_at_least_five_rounds_after_a_warm_up():
    for quick in (True, False):
        plan = Plan.for_run(quick)
        assert plan.rounds >= 5 and plan.warmup_rounds >= 1


# -- the report ------------------------------------------------------------------------------------

def test_data_rows_get_pct_of_copy_bandwidth_and_speedup_over_the_guide():
    report = _report()
    guide, vec = report["data"]
    # 1000 examples x 1000 bytes in 0.01 s = 100 MB/s = 1 % of 10 GB/s
    assert guide["pct_of_limit"] == pytest.approx(1.0)
    assert vec["pct_of_limit"] == pytest.approx(50.0)
    assert vec["speedup_vs_guide"] == pytest.approx(50.0)


def test_training_rows_get_mfu_against_the_measured_peak_and_speedup():
    report = _report()
    guide, spe, big = report["training"]
    # 6000 examples / 1 s x 400 kFLOP = 2.4 GFLOP/s = 2.4 % of 100 GFLOP/s
    assert guide["pct_of_limit"] == pytest.approx(2.4)
    assert spe["speedup_vs_guide"] == pytest.approx(4.0)
    assert big["pct_of_limit"] == pytest.approx(240.0)


def test_json_contract_fields_are_present_on_every_row(tmp_path):
    bench_report.write(_report(), tmp_path)
    report = json.loads((tmp_path / "benchmarks.json").read_text())
    assert {"environment", "limits", "data", "training"} <= set(report)
    for row in report["data"] + report["training"]:
        assert {"name", "examples_per_s", "pct_of_limit", "speedup_vs_guide", "cv"} <= set(row)
    for row in report["training"]:
        assert {"global_batch", "replicas", "devices", "accuracy"} <= set(row)
    for row in report["data"]:
        assert {"batch_size", "consumer"} <= set(row)


def test_targets_report_met_and_not_met_with_evidence():
    targets = {t["target"].split(":")[0]: t for t in _report(tuned_s=0.5)["targets"]}
    speed = targets["batch 32, same arithmetic"]
    assert speed["value"] == pytest.approx(2.0) and speed["met"] is False
    assert "per-step overhead" in speed["evidence"]
    assert targets["best in-memory tf.data pipeline"]["met"] is True


def test_markdown_and_plots_are_written(tmp_path):
    written = bench_report.write(_report(), tmp_path)
    names = {p.name for p in written}
    assert {"benchmarks.md", "benchmarks.json", "benchmarks_data.png", "benchmarks_training.png"} <= names
    md = (tmp_path / "benchmarks.md").read_text()
    assert "## Limits (measured in this run)" in md and "quickstart" in md
    assert (tmp_path / "benchmarks_data.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- compare ---------------------------------------------------------------------------------------

def _write(tmp_path, name, report):
    path = tmp_path / name
    path.write_text(json.dumps(bench_report._jsonable(report)))
    return path


def test_compare_prints_ratio_per_row(tmp_path, capsys):
    a = _write(tmp_path, "a.json", _report())
    b = _write(tmp_path, "b.json", _report(guide_s=0.5))
    assert reports_cli.main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "quickstart/guide/b32" in ln)
    assert "2.000" in line.split()


def test_compare_refuses_rows_whose_configuration_differs(tmp_path, capsys):
    report_a = _report()
    report_b = copy.deepcopy(report_a)
    report_b["training"][0]["config_detail"]["examples_per_epoch"] = 60000
    report_b["data"][0]["config"]["consumer"] = "python"
    rc = compare.main([str(_write(tmp_path, "a.json", report_a)), str(_write(tmp_path, "b.json", report_b))])
    captured = capsys.readouterr()
    assert rc == 1
    assert "refused: training quickstart/guide/b32: configuration differs (examples_per_epoch: 6000 vs 60000)" in captured.err
    assert "refused: data numpy/guide/b256/graph: configuration differs (consumer: 'graph' vs 'python')" in captured.err
    assert "quickstart/guide/b32" not in captured.out.split("refused")[0].split("B/A")[-1]


def test_compare_rejects_a_file_that_is_not_a_benchmark_report(tmp_path, capsys):
    bad = tmp_path / "conformance.json"
    bad.write_text(json.dumps({"recipes": []}))
    assert compare.main([str(bad), str(bad)]) == 2
    assert "not a benchmarks.json report" in capsys.readouterr().err
