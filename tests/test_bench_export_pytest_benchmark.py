"""Every row of a benchmarks.json in pytest-benchmark's format (benchmarks/export.py): the stats from the real
rounds, the project's figures in extra_info, the files named and numbered as --benchmark-autosave names them, read
by pytest-benchmark's own CLI (`list`, `compare`), and --benchmark-compare-fail applied to them by its own session;
the flags `pytest benchmarks` cannot honour refused in one line before anything runs. No TensorFlow, no timing:
the rows are the golden fixtures' (a real quick run and a second one), files only under tmp_path.

The project's own tooling, not the guide: run with `pytest tests`.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import export

pytest.importorskip("pytest_benchmark")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "golden" / "fixtures"
A, B = FIXTURES / "benchmarks.json", FIXTURES / "benchmarks-b.json"
NAME = re.compile(r"^(\d{4})_([0-9a-f]{40}|unversioned|unknown)_(\d{8}_\d{6})(_uncommitted-changes)?\.json$")


def _report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_every_row_with_rounds_is_a_benchmark_whose_stats_are_its_rounds_per_example():
    report = _report(A)
    entries = {e["name"]: e for e in export.pytest_benchmark_entries(report)}
    rows = [(t, r) for t in export.TABLES for r in report.get(t, [])]
    assert len(entries) == len(rows) + len(report["time_to_quality"])
    row = report["data"][0]
    e = entries[f"data/{row['name']}"]
    # each round's time over the examples it processed; every recorded round, as it was
    assert e["stats"]["data"] == pytest.approx([s / (rate * s) for rate, s in zip(row["timing"]["rates"],
                                                                                   row["timing"]["seconds"])])
    assert e["stats"]["rounds"] == len(row["timing"]["rates"])
    assert e["stats"]["median"] == pytest.approx(statistics.median(e["stats"]["data"]))
    assert e["stats"]["ops"] == pytest.approx(1 / statistics.mean(e["stats"]["data"]))
    assert e["group"] == row["recipe"] and e["fullname"] == f"benchmarks.json::data/{row['name']}"
    # the project's figure and interval, % of limit, configuration: what pytest-benchmark's stats cannot say
    extra = e["extra_info"]
    assert extra["examples_per_s"] == row["examples_per_s"] and extra["examples_per_s_ci95"] == row["examples_per_s_ci95"]
    assert extra["pct_of_limit"] == row["pct_of_limit"] and extra["limit"] == row["limit"]
    assert extra["config"] == row["config"] and extra["time_unit"] == "seconds per example"
    # a cluster row keeps its own name; a time to quality counts one round per trial
    assert "cluster/1-workers-x1/b128" in entries
    ttq = report["time_to_quality"][0]
    assert entries[f"time_to_quality/{ttq['name']}"]["stats"]["data"] == ttq["trial_seconds"]


def test_a_row_in_separated_modes_keeps_every_round_and_says_the_figure_is_a_mode():
    report = _report(A)
    row = dict(report["data"][0], modes=[{"examples_per_s": 1.0}, {"examples_per_s": 2.0}], mode_switches=3)
    report = {**report, "data": [row], "training": [], "io": [], "cluster": [], "time_to_quality": []}
    (e,) = export.pytest_benchmark_entries(report)
    assert e["stats"]["rounds"] == len(row["timing"]["seconds"])
    assert e["extra_info"]["modes"] == 2 and "fastest mode" in e["extra_info"]["figure"]


def test_saved_as_autosave_names_them_and_read_by_pytest_benchmarks_own_cli(tmp_path):
    for report in (A, B):
        done = _run(["-m", "benchmarks.export", str(report)], tmp_path)
        assert done.returncode == 0, done.stderr
    from pytest_benchmark.utils import get_machine_id

    files = sorted((tmp_path / ".benchmarks" / get_machine_id()).iterdir())
    assert [NAME.match(f.name).group(1) for f in files] == ["0001", "0002"]
    assert NAME.match(files[0].name).group(2) == _report(A)["provenance"]["git_commit"]
    doc = json.loads(files[0].read_text())
    assert set(doc) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}

    listed = _run(["-m", "pytest_benchmark", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [Path(line).name for line in listed.stdout.split()] == [f.name for f in files]
    compared = _run(["-m", "pytest_benchmark", "compare", "0001", "0002", "--columns=median,iqr,ops,rounds",
                     "--group-by=group"], tmp_path)
    assert compared.returncode == 0, compared.stderr
    assert "benchmark 'data.numpy'" in compared.stdout
    assert "data/numpy/guide/b256/graph (0001_" in compared.stdout
    assert "data/numpy/guide/b256/graph (0002_" in compared.stdout


def test_the_command_refuses_what_is_not_a_report(tmp_path):
    (tmp_path / "x.json").write_text("[]")
    done = _run(["-m", "benchmarks.export", str(tmp_path / "x.json")], tmp_path)
    assert done.returncode == 2 and "not a benchmarks.json" in done.stderr
    assert not (tmp_path / ".benchmarks").exists()


CONFTEST = """
import json
from pathlib import Path

from benchmarks import export


def test_rows(request):
    report = json.loads(Path({report!r}).read_text())
    assert export.into_session(request.config._benchmarksession, report) > 0
"""


def _session(pytester, report: Path, *args):
    pytester.makepyfile(test_rows=CONFTEST.format(report=str(report)))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--benchmark-storage",
                                         f"file://{pytester.path / 'store'}", *args)


def test_compare_fail_applies_to_the_rows_through_pytest_benchmarks_own_session(pytester):
    saved = _session(pytester, A, "--benchmark-autosave")
    assert saved.ret == 0
    saved.stderr.fnmatch_lines(["*Saved benchmark data in:*0001_*.json*"])
    same = _session(pytester, A, "--benchmark-compare=0001", "--benchmark-compare-fail=median:5%")
    assert same.ret == 0
    # run B's rows: many medians differ from A's by more than 5 %: pytest-benchmark calls it a regression
    changed = _session(pytester, B, "--benchmark-compare=0001", "--benchmark-compare-fail=median:5%",
                       "--benchmark-json", str(pytester.path / "b.json"))
    assert changed.ret != 0
    assert "Performance has regressed" in str(changed.stdout) + str(changed.stderr)
    written = json.loads((pytester.path / "b.json").read_text())
    assert len(written["benchmarks"]) == len(export.pytest_benchmark_entries(_report(B)))
    assert all("data" in b["stats"] for b in written["benchmarks"])   # --benchmark-json: every round


@pytest.mark.parametrize("flag, says", [
    (["--benchmark-compare-fail=median:5%"], "--benchmark-compare-fail needs --benchmark-compare"),
    (["--benchmark-compare=0001", "--benchmark-compare-fail=median:5%"], "no saved run matches --benchmark-compare"),
    pytest.param(["--benchmark-histogram"], "--benchmark-histogram needs pygal", marks=pytest.mark.skipif(
        __import__("importlib").util.find_spec("pygal") is not None, reason="pygal is installed: histograms work")),
])
def test_pytest_benchmarks_refuses_a_flag_that_could_only_fail_at_the_end(tmp_path, flag, says):
    done = _run(["-m", "pytest", str(ROOT / "benchmarks" / "micro"), "-p", "no:cacheprovider", "--benchmark-storage",
                 f"file://{tmp_path / 'store'}", "--collect-only", "-q", *flag], tmp_path, timeout=300)
    assert done.returncode == 4, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if says in line]
    assert len(lines) == 1, done.stderr
