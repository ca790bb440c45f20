"""The benchmark report: its rows, limits, checks, targets and ladders (benchmarks/report.py, from the recipes'
declarations), the per-recipe lines and the headline (benchmarks/summary.py), the exports (benchmarks/export.py),
nothing lost when it is written, and the Markdown and optional plots rendered from its JSON (reports/benchmarks.py),
built from a recorder holding scripted rounds and from the golden fixture: no TensorFlow, no timing.

The project's own tooling, not the guide: run with `pytest tests`.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from benchmarks import declaration, export
from benchmarks import report as bench_report
from benchmarks.harness import Plan, Recorder
from benchmarks.rounds import Group, Unit
from reports import benchmarks as renderer
from reports import marks as marks_mod
from tests import markdown_checks
from tfguide import schema

GOLDEN = Path(__file__).resolve().parent / "golden" / "fixtures" / "benchmarks.json"

ENV = {"python": "3.11.7", "tensorflow": "2.21.0", "tensorflow_distribution": "tensorflow",
       "keras": {"name": "Keras 3", "version": "3.15.1", "module": "keras", "legacy_env": ""},
       "numpy": "2.4.6", "cpu": {"model": "test CPU", "cores": 2, "usable_cores": 2}, "memory_gib": 1.0,
       "gpus": [], "cuda_build": {"is_cuda_build": False, "cuda_version": None, "cudnn_version": None}}
COPY_BW = 10e9
PEAK = 100e9
CPU = "/device:CPU:0"


def _limits():
    return {"copy_bandwidth": {"best_bytes_per_s": COPY_BW, "median_bytes_per_s": COPY_BW, "best_config": "test",
                               "cv": 0.0, "method": "test copy", "sweep": [], "_src_mib": 1, "_best": (None, 1)},
            "matmul_peak": {CPU: {"float32": {
                "best_flop_per_s": PEAK, "median_flop_per_s": PEAK, "best_set": "square 512", "cv": 0.0,
                "method": "test sweep", "_best": ("square 512", False),
                "sweep": [{"set": "quickstart training b32", "xla": False, "best_flop_per_s": 40e9},
                          {"set": "quickstart training b1024", "xla": True, "best_flop_per_s": 90e9}]}}},
            "primary_device": CPU, "theoretical_cpu": {"flop_per_s": 200e9, "formula": "test formula"},
            "history": [{"when": "start", "copy_bytes_per_s": COPY_BW, "matmul_flop_per_s": {CPU: {"float32": PEAK}}}]}


def _rounds(rec, key, rates, others=0.0):
    for i, rate in enumerate(rates):
        rec.add_round(key, 0, i, {"s": 1.0 / rate, "items": 1.0, "rate": rate, "cores_used": 1.5,
                                  "others_cores": others, "steal_share": 0.0, "interfered": others > 0.25,
                                  "peak_rss_bytes": 200 * 2**20, "load_average": 0.3, "repeats": 1,
                                  "extra_first_batch_s": 0.002})


def _declare(rec, group, section, units):
    rec.declare(Group(group, section, units, 1.0), units)


def _data_row(variant, batch=256, copies=True, guide=False):
    return {"name": f"numpy/{variant}/b{batch}/graph", "recipe": "data.numpy", "section": "data", "source": "numpy",
            "variant": variant, "batch_size": batch, "consumer": "graph", "examples_per_epoch": 1000,
            "bytes_per_example": 1000.0, "pipeline": variant, "what": variant, "copies_every_byte": copies,
            "is_guide": guide, "data": "synthetic", "unit": "examples"}


def _train_row(config, batch=32, guide=False, api="fit", accuracy=0.9):
    return {"name": f"quickstart/{config}/b{batch}", "recipe": "keras.quickstart", "section": "training",
            "model": "quickstart", "config": config, "global_batch": batch, "per_replica_batch": batch, "replicas": 1,
            "devices": [CPU], "steps_per_execution": 1, "jit_compile": False, "input": "tf.data", "strategy": None,
            "api": api, "examples_per_epoch": 6000, "data": "synthetic", "unit": "examples",
            "flops_per_example": 400_000.0, "params": 100, "is_guide": guide, "accuracy": accuracy,
            "accuracy_after": "1 epoch", "compile_and_first_step_s": 0.5}


def recorder(*, vec_rate=5_000_000.0, copying_rate=8_000.0, tuned_b32=4_000.0, big_accuracy=0.9) -> Recorder:
    """numpy guide 4,000 ex/s x 1 kB = 4 MB/s; tuned rows; quickstart rows at batch 32 and 1024; io rows."""
    rec = Recorder(plan=Plan.for_run(True), progress=lambda line: None)
    rec.limits = _limits()
    rec.threads = {"intra_op_parallelism_threads": 2, "inter_op_parallelism_threads": 2}
    guide = Unit(key="numpy/guide/b256/graph", run=None, row={
        **_data_row("guide", guide=True),
        "ladder_keys": [("source: from_arrays", "stage:src"), ("+ .batch(256)", "numpy/guide/b256/graph")]})
    gather = Unit(key="numpy/gather/b256/graph", run=None, baseline=guide.key, row={
        **_data_row("gather"),
        "ladder_keys": [("source: indices", "stage:src"), ("+ gather", "numpy/gather/b256/graph")]})
    vec = Unit(key="numpy/vectorised/b256/graph", run=None, baseline=guide.key, row={
        **_data_row("vectorised", copies=False), "ladder_keys": [("source: batches", "numpy/vectorised/b256/graph")]})
    stage = Unit(key="stage:src", run=None)
    _declare(rec, "data.numpy", "data", [guide, gather, vec, stage])
    _rounds(rec, guide.key, [4_000.0, 4_100.0, 3_900.0, 4_000.0, 4_050.0, 3_950.0])
    _rounds(rec, gather.key, [copying_rate] * 6)
    _rounds(rec, vec.key, [vec_rate] * 6)
    _rounds(rec, "stage:src", [10_000.0] * 6)
    tguide = Unit(key="quickstart/guide/b32", run=None, row=_train_row("guide", guide=True), twin="twin:guide")
    tuned = Unit(key="quickstart/xla-loop/b32", run=None, row=_train_row("xla-loop", api="custom loop"),
                 baseline="quickstart/guide/b32")
    twin = Unit(key="twin:guide", run=None)
    _declare(rec, "keras.quickstart/b32", "training", [tguide, tuned, twin])
    _rounds(rec, tguide.key, [1_000.0] * 6)
    _rounds(rec, twin.key, [4_000.0 / 3] * 6)       # input wait share 1 - 1000/1333 = 25 %
    _rounds(rec, tuned.key, [tuned_b32] * 6)
    big = Unit(key="quickstart/xla-loop/b1024", run=None,
               row=_train_row("xla-loop", batch=1024, api="custom loop", accuracy=big_accuracy))
    _declare(rec, "keras.quickstart/large", "training", [big])
    _rounds(rec, big.key, [150_000.0] * 6)          # 150,000 x 400 kFLOP = 60 GFLOP/s = 60 % of the peak
    save = Unit(key="save_weights/save/h64", run=None, row={
        "name": "save_weights/save/h64", "recipe": "keras.save_weights", "section": "io", "op": "save",
        "model": "m", "format": ".weights.h5", "hidden": 64, "params": 10, "file_bytes": 1_000_000, "unit": "files",
        "data": "seed", "is_guide": True, "config": "save"})
    write = Unit(key="fs/write/1000000B [g]", run=None)
    read = Unit(key="fs/read/1000000B [g]", run=None)
    _declare(rec, "keras.save_weights", "io", [save, write, read])
    _rounds(rec, save.key, [100.0] * 6)             # 100 files of 1 MB a second: 100 MB/s
    _rounds(rec, write.key, [1e9] * 6)              # 1 GB/s: the save row is at 10 %
    _rounds(rec, read.key, [2e9] * 6)
    rec.skip("training", "estimator.dnn_classifier/estimator", "tf.estimator was removed in TensorFlow 2.16")
    rec.notes.append("test note")
    return rec


@pytest.fixture(autouse=True)
def no_subprocesses(monkeypatch):
    monkeypatch.setattr("tfguide.provenance.provenance", lambda root: {"git_commit": "abc123", "git_dirty": False,
                                                             "pip_freeze": ["numpy==2.4.6"],
                                                             "command_line": ["pytest", "benchmarks"]})


def test_data_rows_are_set_against_the_copy_bandwidth_with_their_intervals():
    report = bench_report.build(recorder(), ENV, wall_s=60.0)
    rows = {r["variant"]: r for r in report["data"]}
    guide = rows["guide"]
    # 4,000 examples/s x 1,000 bytes = 4 MB/s = 0.04 % of 10 GB/s; n = 6: the interval is [min, max]
    assert guide["mb_per_s"] == pytest.approx(4.0)
    assert guide["pct_of_limit"] == pytest.approx(0.04)
    assert guide["pct_of_limit_ci95"] == [pytest.approx(0.039), pytest.approx(0.041)]
    assert guide["limit"].startswith("copy_bandwidth")
    assert rows["gather"]["speedup_vs_guide"] == pytest.approx(2.0)
    assert guide["time_to_first_batch_s"] == pytest.approx(0.002)
    assert guide["ladder"][0]["cost_us_per_example"] == pytest.approx(100.0)
    assert guide["slowest_stage"] == "+ .batch(256)"
    assert guide["config"]["batch_size"] == 256 and guide["config"]["consumer"] == "graph"


def test_training_rows_get_mfu_input_wait_and_the_models_own_matmul_ceiling():
    report = bench_report.build(recorder(), ENV)
    rows = {r["name"]: r for r in report["training"]}
    guide, tuned, big = rows["quickstart/guide/b32"], rows["quickstart/xla-loop/b32"], rows["quickstart/xla-loop/b1024"]
    assert guide["pct_of_limit"] == pytest.approx(0.4)  # 1,000 x 400 kFLOP = 0.4 GFLOP/s of 100
    assert guide["input_wait_share"] == pytest.approx(0.25) and guide["input_bound"] == "highly"
    assert guide["ms_per_step_p50"] == pytest.approx(32.0)
    assert guide["model_matmuls_pct_of_peak"] == pytest.approx(40.0)
    assert tuned["speedup_vs_guide"] == pytest.approx(4.0)
    assert big["pct_of_limit"] == pytest.approx(60.0) and big["pct_of_theoretical"] == pytest.approx(30.0)
    assert big["speedup_vs_guide"] == pytest.approx(150.0)  # another group: ratio of medians, unpaired
    assert big["speedup_method"].startswith("unpaired")
    assert tuned["input_wait_share"] is None and tuned["input_bound"] is None


def test_the_machine_s_speed_is_reported_when_the_rounds_were_probed_and_not_otherwise():
    plain = bench_report.build(recorder(), ENV)
    assert "machine_speed" not in plain and "machine's own speed" not in renderer.markdown(plain)
    rec = recorder()
    for i, rnd in enumerate(rec.rounds["numpy/guide/b256/graph"]):      # 2 of its 6 rounds probed slowed
        rnd["probe_before"], rnd["probe_after"] = 40e6, (24e6 if i < 2 else 40e6)
    report = bench_report.build(rec, ENV)
    assert report["machine_speed"]["rounds"] == 6 and report["machine_speed"]["rounds_slowed"] == 2
    assert "The machine ran slowed around 2 of 6 rounds (33%), at 60% of its full speed" in renderer.markdown(report)
    assert schema.errors(bench_report.jsonable(report), schema.load(bench_report.SCHEMA_PATH)) == []


def test_io_rows_are_set_against_the_file_system_measured_beside_them():
    report = bench_report.build(recorder(), ENV)
    row = report["io"][0]
    assert row["mb_per_s"] == pytest.approx(100.0)
    assert report["limits"]["fs_write_bytes_per_s"] == pytest.approx(1e9)
    assert report["limits"]["fs_read_bytes_per_s"] == pytest.approx(2e9)
    assert row["pct_of_limit"] == pytest.approx(10.0) and "write" in row["limit"]


def test_the_written_report_conforms_to_its_schema_and_a_sound_report_passes_its_checks(tmp_path):
    written = bench_report.write(bench_report.build(recorder(), ENV, wall_s=60.0), tmp_path)
    assert {p.name for p in written} >= {"benchmarks.json", "benchmarks.md", export.GITHUB, export.BENCHER}
    report = json.loads((tmp_path / "benchmarks.json").read_text())
    assert report["schema"] == bench_report.SCHEMA == "tfguide-benchmarks/4"
    assert schema.errors(report, schema.load(bench_report.SCHEMA_PATH)) == []
    assert bench_report.problems(report) == [] and report["checks"] == []
    assert report["provenance"]["git_commit"] == "abc123" and report["provenance"]["pip_freeze"]
    assert report["limits"]["theoretical_flop_per_s"] == 200e9
    assert (tmp_path / "benchmarks.md").read_text().startswith("# Benchmarks: the guide's recipes on this machine")


def test_a_copying_row_beyond_the_copy_bandwidth_fails_the_check_but_a_non_copying_one_does_not():
    # 12 M examples/s x 1 kB = 12 GB/s > 10 GB/s, the whole interval above the limit
    report = bench_report.build(recorder(copying_rate=12_000_000.0, vec_rate=50_000_000.0), ENV)
    problems = bench_report.problems(report)
    assert len(problems) == 1
    assert problems[0].startswith("data numpy/gather/b256/graph: 120.0 % of copy_bandwidth")
    assert "the limit is wrong" in problems[0]


def test_a_missing_column_fails_the_check():
    report = bench_report.jsonable(bench_report.build(recorder(), ENV))
    del report["training"][0]["input_wait_share"]
    del report["data"][0]["ladder"]
    problems = bench_report.problems(report)
    assert "/training/0: missing input_wait_share" in problems and "/data/0: missing ladder" in problems


@pytest.mark.parametrize("interval, verdict", [([61.0, 70.0], "met"), ([60.0, 70.0], "met"),
                                               ([55.0, 65.0], "undetermined"), ([40.0, 59.9], "not met"),
                                               ([None, None], "undetermined"), (None, "undetermined")])
def test_a_target_is_met_only_when_its_interval_clears_it(interval, verdict):
    assert declaration.verdict(interval, 60.0) == verdict


def test_targets_have_a_three_valued_verdict_and_their_evidence():
    targets = {t["key"]: t for t in bench_report.build(recorder(), ENV)["targets"]}
    assert targets["training_speedup_b32"]["verdict"] == "met" and targets["training_speedup_b32"]["value"] == 4.0
    mfu = targets["training_mfu_pct"]
    assert mfu["verdict"] == "met" and mfu["value"] == pytest.approx(60.0) and "theoretical" in mfu["evidence"]
    copy = targets["in_memory_pct_of_copy"]
    assert copy["verdict"] == "not met" and copy["value"] == pytest.approx(0.08)  # gather: 8 MB/s of 10 GB/s
    slow = {t["key"]: t for t in bench_report.build(recorder(tuned_b32=2_000.0), ENV)["targets"]}
    assert slow["training_speedup_b32"]["verdict"] == "not met"


def test_a_training_row_whose_model_stayed_below_the_guides_quality_does_not_count():
    report = bench_report.build(recorder(big_accuracy=0.5), ENV)
    big = next(r for r in report["training"] if r["name"] == "quickstart/xla-loop/b1024")
    assert big["quality_target"] == 0.80 and big["reached_quality"] is False
    mfu = next(t for t in report["targets"] if t["key"] == "training_mfu_pct")
    assert mfu["row"] == "quickstart/xla-loop/b32" and mfu["value"] == pytest.approx(1.6)
    assert "rows at batch 1024 do not count" in mfu["evidence"]
    quickstart = next(e for e in report["recipes"] if e["recipe"] == "keras.quickstart")
    assert quickstart["best"]["row"] == "quickstart/xla-loop/b32"   # the faster row learned less: not the best


def test_each_recipe_has_its_guide_and_best_figure_and_what_limits_it():
    report = bench_report.build(recorder(), ENV)
    entries = {e["recipe"]: e for e in report["recipes"]}
    numpy = entries["data.numpy"]
    assert numpy["guide"]["row"] == "numpy/guide/b256/graph" and numpy["best"]["row"] == "numpy/vectorised/b256/graph"
    assert numpy["limit"] == "copy bandwidth" and numpy["slowest_stage"] == "source: batches"
    assert numpy["copies_every_byte"] is False
    assert entries["keras.quickstart"]["limiting"] == "matmuls, 60 % of peak"
    assert entries["keras.layers"]["note"].startswith("not timed: ")
    assert entries["estimator.linear_classifier"]["note"] == "measured with estimator.dnn_classifier"
    assert report["headline"] == {"training": "keras.quickstart", "data": "data.numpy", "quality_guide": None,
                                  "quality_best": None}


def test_the_exports_carry_every_row_with_its_interval():
    report = bench_report.jsonable(bench_report.build(recorder(), ENV))
    github = {e["name"]: e for e in export.github(report)}
    guide = github["data/numpy/guide/b256/graph"]
    assert guide["unit"] == "examples/s" and guide["value"] == pytest.approx(4000.0)
    assert guide["range"] == "± 100" and guide["extra"].startswith("95 % interval [3900, 4100]")
    bencher = export.bencher(report)
    assert bencher["data/numpy/guide/b256/graph"] == {"throughput": {"value": pytest.approx(4000.0),
                                                                     "lower_value": 3900.0, "upper_value": 4100.0}}


def test_a_new_report_replaces_an_unreadable_one_it_is_the_only_writer_of(tmp_path):
    (tmp_path / "benchmarks.json").write_text('{"data": [{"name": "data/numpy/guide/b256/graph", ')  # cut short
    (tmp_path / "cluster.json").write_text('{"cluster": []}')
    bench_report.write(bench_report.build(recorder(), ENV), tmp_path)
    assert json.loads((tmp_path / "benchmarks.json").read_text())["schema"] == bench_report.SCHEMA
    assert (tmp_path / "cluster.json").read_text() == '{"cluster": []}'   # python -m benchmarks.cluster's file


def test_a_write_that_fails_half_way_leaves_the_old_report_whole(tmp_path, monkeypatch):
    from tfguide import atomic

    (tmp_path / "benchmarks.json").write_text('{"old": true}')

    def broken(self, data):
        with open(self, "wb") as fh:
            fh.write(data[:10])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(tmp_path / "benchmarks.json", '{"new": true, "long": "' + "x" * 1000 + '"}')
    monkeypatch.undo()
    assert (tmp_path / "benchmarks.json").read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["benchmarks.json"]   # no temporary file left behind


def _render(tmp_path, wall_s=None) -> list:
    """benchmarks.json written as a run writes it, rendered in this process (so that a test can hide matplotlib)."""
    bench_report.write_json(bench_report.build(recorder(), ENV, wall_s=wall_s), tmp_path)
    return renderer.write(tmp_path)


def test_markdown_opens_with_at_most_five_lines_then_one_row_per_recipe(tmp_path):
    _render(tmp_path, wall_s=90.0)
    md = (tmp_path / "benchmarks.md").read_text()
    head = md.split("\n\n")[1].splitlines()
    assert len(head) <= 5 and head[0].startswith("**This machine**: copy 10.0 GB/s, matmul 100 GFLOP/s")
    assert head[1].startswith("**Training** (`keras.quickstart`): the guide's 1,000 ex/s")
    assert head[-1].startswith("**Targets**: 2 met, 1 not met, 0 undetermined")
    recipes = md.split("## Recipes")[1].split("##")[0]
    assert [line.split("|")[1].split()[0] for line in recipes.splitlines() if line.startswith("| `")] == [
        "`keras.quickstart`", "`keras.save_weights`", "`data.numpy`"]
    appendix = md.split("## Appendix")[1]
    for section in ("### Every row", "### Limits", "### Evidence for the targets", "### The run and the method"):
        assert section in appendix
    assert "declared float32 peak" in appendix and "Threads: intra-op 2, inter-op 2" in appendix
    assert "commit `abc123`" in appendix and "1.5 min" in md
    assert "`estimator.dnn_classifier/estimator`: tf.estimator was removed" in appendix


@pytest.mark.parametrize("source", ["scripted", "golden"])
def test_no_table_cell_is_longer_than_a_sentence_and_no_sentence_is_said_twice(source, tmp_path):
    if source == "golden":
        report = json.loads(GOLDEN.read_text())
        pngs, note = [], renderer.NO_MATPLOTLIB
    else:
        report = bench_report.jsonable(bench_report.build(recorder(), ENV, wall_s=60.0))
        pngs, note = ["benchmarks_data.png", "benchmarks_training.png"], None
    md = renderer.markdown(report, pngs, note)
    assert markdown_checks.long_cells(md, renderer.CELL_LIMIT) == []
    assert markdown_checks.repeated_sentences(md) == []


def test_marks_mark_the_exceptions_only():
    rows = [{"name": str(i), "x": i < 8} for i in range(10)]
    marks, legend = marks_mod.mark_exceptions(rows, lambda r: r["x"], "‡", "were measured under interference", "not")
    assert set(marks) == {"8", "9"} and legend == "8 of 10 rows were measured under interference; ‡ marks those that are not."
    marks, legend = marks_mod.mark_exceptions(rows[7:], lambda r: r["x"], "‡", "were measured under interference", "not")
    assert set(marks) == {"7"} and legend == "‡ were measured under interference."


def test_without_matplotlib_there_are_no_plots_and_the_report_says_why(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    written = _render(tmp_path)
    assert [p.name for p in written] == ["benchmarks.md"]
    assert not list(tmp_path.glob("*.png"))
    assert renderer.NO_MATPLOTLIB == "no plots: matplotlib is not installed (pip install -e '.[plots]')"
    assert renderer.NO_MATPLOTLIB in (tmp_path / "benchmarks.md").read_text()


def test_with_matplotlib_the_plots_are_png_files_no_wider_than_github_shows_them(tmp_path):
    pytest.importorskip("matplotlib")
    written = _render(tmp_path)
    assert {"benchmarks_data.png", "benchmarks_training.png"} <= {p.name for p in written}
    for name in ("benchmarks_data.png", "benchmarks_training.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width <= 900 and height <= 900
    assert "![benchmarks_data.png](benchmarks_data.png)" in (tmp_path / "benchmarks.md").read_text()


def test_the_render_command_refuses_a_folder_without_a_report_in_one_line(tmp_path, capsys):
    from reports import __main__ as cli

    assert cli.main(["benchmarks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m reports benchmarks: {tmp_path}/benchmarks.json: ") and err.count("\n") == 1


def test_a_rows_matmul_ceiling_comes_from_its_own_devices_sweep():
    from benchmarks.report import _finish_training

    def sweep(flops):
        return {"float32": {"sweep": [{"set": "quickstart training b32", "xla": False, "best_flop_per_s": flops},
                                      {"set": "quickstart training b32", "xla": True, "best_flop_per_s": flops / 2}]}}

    limits = {"primary_device": "/device:CPU:0",
              "matmul_peak_flop_per_s": {"/device:CPU:0": {"float32": 100e9}, "/device:GPU:0": {"float32": 10e12}},
              "details": {"matmul_peak": {"/device:CPU:0": sweep(80e9), "/device:GPU:0": sweep(9e12)}}}
    row = {"name": "quickstart/guide/b32", "model": "quickstart", "is_guide": True, "global_batch": 32, "replicas": 1,
           "examples_per_s": 1000.0, "examples_per_s_ci95": [900.0, 1100.0], "flops_per_example": 1e6,
           "timing": {"rates": [1000.0]}}
    _finish_training([row], limits)
    assert row["model_matmuls_pct_of_peak"] == pytest.approx(80.0)  # the CPU's 80 GFLOP/s of its 100, not the GPU's
    assert row["pct_of_limit"] == pytest.approx(1.0)
