"""`python -m reports compare` (reports/compare.py): what changed first (changed rows sorted by B/A, the smallest
detectable change), verdicts with intervals, refusals, --fail-if-slower, the A/A lines on request, an interleaved
A/B's ab.json, and one line and exit 2 for every malformed input (never a traceback). No TensorFlow."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from reports import __main__ as reports_cli
from reports import compare

ROOT = Path(__file__).resolve().parents[1]


def _row(name, rate, ci, section="data", **extra):
    pi = [ci[0] - (ci[1] - ci[0]) / 2, ci[1] + (ci[1] - ci[0]) / 2] if ci else None
    row = {"name": name, "examples_per_s": rate, "examples_per_s_ci95": ci, "examples_per_s_pi95": pi, "cv": 0.02,
           "ci_half_width": (ci[1] - ci[0]) / 2 / rate if ci and ci[0] is not None else None, "pct_of_limit": 10.0}
    if section == "data":
        row["config"] = {"batch_size": 256, "consumer": "graph"}
    else:
        row["config_detail"] = {"global_batch": 32, "steps_per_execution": 1}
    row.update(extra)
    return row


def _report(rates: dict, wall_s=600.0, section="data"):
    """rates: name -> (rate, [low, high])"""
    return {"schema": "tfguide-benchmarks/2", "environment": {"tensorflow": "2.21.0", "cpu": {"model": "x"}},
            "wall_s": wall_s, section: [_row(n, r, ci, section=section) for n, (r, ci) in rates.items()]}


def _write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return path


def _run(capsys, *args):
    rc = reports_cli.main(["compare", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def _lines(out: str) -> dict:
    """Table lines by row name: [verdict, B/A, low, high, level, '%', section, row, ...]."""
    return {ln.split()[7]: ln.replace("[", " ").replace("]", " ").replace(",", " ").split() for ln in out.splitlines()
            if ln.split()[:1] and ln.split()[0] in ("slower", "faster", "same", "no")}


def test_changed_rows_come_first_by_ratio_and_the_summary_says_what_could_be_detected(tmp_path, capsys):
    a = _write(tmp_path, "a.json", _report({"fast": (100.0, [98.0, 102.0]), "slow": (100.0, [98.0, 102.0]),
                                            "same": (100.0, [90.0, 110.0])}, wall_s=600.0))
    b = _write(tmp_path, "b.json", _report({"fast": (120.0, [118.0, 122.0]), "slow": (80.0, [79.0, 81.0]),
                                            "same": (103.0, [93.0, 113.0])}, wall_s=660.0))
    rc, out, err = _run(capsys, a, b)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].endswith("(10.0 min)") and lines[1].endswith("(11.0 min)")
    # three rows judged together (Holm): the two changed ones at 1 - 0.05 / 3, then the third at 1 - 0.05 / 1
    assert lines[2].startswith("3 row(s) compared: 1 slower, 1 faster, 1 same; the rows judged together by Holm's "
                               "step-down procedure (intervals at 98.33 % to 95 %), so that all hold together with "
                               "95 %; the smallest change it detects 8 times in 10 is ±")
    changed = out.split("Changed (2), by B/A:")[1].split("Unchanged (1):")
    assert [ln.split()[0] for ln in changed[0].splitlines() if ln.split()[:1] in (["slower"], ["faster"])] == [
        "slower", "faster"]
    rows = _lines(out)
    assert rows["fast"][:2] == ["faster", "1.200"] and rows["slow"][0] == "slower" and rows["same"][0] == "same"
    # the interval: exp(log 1.2 +- z sqrt(se_a^2 + se_b^2)), se from each interval's log-width (half of it / 1.96),
    # z the normal quantile of 98.33 %: 2.394
    se = math.hypot(math.log(102 / 98), math.log(122 / 118)) / 2 / 1.959964
    lo, hi = 1.2 * math.exp(-2.39398 * se), 1.2 * math.exp(2.39398 * se)
    assert rows["fast"][2:4] == [f"{lo:.3f}", f"{hi:.3f}"]
    assert compare.ratio_ci_from_intervals(100.0, (98.0, 102.0), 120.0, (118.0, 122.0))[1] == pytest.approx(
        1.2 * math.exp(-1.959964 * se))
    assert "A/A" not in out


def test_the_smallest_detectable_change_comes_from_the_median_rows_half_width():
    from tfguide.intervals import detectable_change

    results = [{"ratio": 1.0, "low": 0.9, "high": 1.1}, {"ratio": 1.0, "low": 0.8, "high": 1.2},
               {"ratio": 2.0, "low": 1.0, "high": 3.0}, {"ratio": 1.0, "low": None, "high": None}]
    assert compare.median_half_width(results) == pytest.approx(0.2)
    # seen 8 times in 10: the estimate beyond h with a standard error of h / 1.96 (h / 3.29 for an interval at 99.9 %)
    assert detectable_change(0.2) == pytest.approx(0.2 * (1 + 0.8416 / 1.96), rel=1e-3)
    assert detectable_change(0.2, 0.999) == pytest.approx(0.2 * (1 + 0.8416 / 3.2905), rel=1e-3)


def test_the_rows_are_judged_together_so_an_aa_of_many_rows_calls_none_changed(tmp_path, capsys):
    """40 rows whose B/A lies 2.2 standard errors of the ratio above 1: each judged alone at 95 % (z = 1.96) would be
    called faster; judged together (each at 99.875 %, z = 3.23) none is, since among 40 unchanged rows one that far
    off is what chance gives. A row 5 standard errors away is still called faster."""
    z = 1.959964
    rates = {f"r{i}": (100.0, [100.0 * math.exp(-0.02 * z), 100.0 * math.exp(0.02 * z)]) for i in range(40)}
    # se of each row's log median: 0.02; of the ratio: 0.02 sqrt 2 = 0.0283; B moved by 2.2 of those
    moved = {k: (v[0] * math.exp(2.2 * 0.0283), [x * math.exp(2.2 * 0.0283) for x in v[1]]) for k, v in rates.items()}
    moved["r0"] = (100.0 * math.exp(5 * 0.0283), [x * math.exp(5 * 0.0283) for x in rates["r0"][1]])
    a, b = _write(tmp_path, "a.json", _report(rates)), _write(tmp_path, "b.json", _report(moved))
    rc, out, _ = _run(capsys, a, b)
    assert rc == 0 and out.splitlines()[2].startswith(
        "40 row(s) compared: 0 slower, 1 faster, 39 same; the rows judged together by Holm's step-down procedure "
        "(intervals at 99.875 % to 99.872 %), so that all hold together with 95 %")
    assert _lines(out)["r0"][0] == "faster"
    from tfguide.intervals import ratio_ci_from_intervals
    alone = ratio_ci_from_intervals(*rates["r1"], *moved["r1"])   # at 95 %: it would have been "faster"
    assert alone[1] > 1.0


def test_aa_lines_of_two_runs_that_agree_only_when_asked(tmp_path, capsys):
    rates = {f"r{i}": (100.0 + i, [97.0 + i, 103.0 + i]) for i in range(10)}
    a = _write(tmp_path, "a.json", _report(rates))
    b = _write(tmp_path, "b.json", _report({k: (v[0] * 1.01, v[1]) for k, v in rates.items()}))
    rc, out, _ = _run(capsys, a, b, "--aa")
    assert rc == 0
    assert "A/A: 10/10 rows within ±5 % (100%); A's 95 % interval holds B's median for 10/10 (100%); A's 95 % " \
           "prediction interval for another run's median holds it for 10/10 (100%)" in out
    assert "10 row(s) compared: 0 slower, 0 faster, 10 same" in out and "Changed" not in out


def _ab_report(rows):
    return {"schema": "tfguide-ab/4", "confidence": {"family": 0.95, "per_row": 0.975}, "a": {"python": "/a/python", "tensorflow": "2.20.0"},
            "b": {"python": "/b/python", "tensorflow": "2.21.0", "slowed": None}, "turns": [1402, 1398],
            "pairs": 2, "quick": True, "budget_s": 180.0, "wall_s": 150.0, "method": "m",
            "summary": {"median_half_width": 0.04, "smallest_detectable_change": 0.057}, "provenance": {},
            "rows": [{"section": "data", "name": n, "recipe": "data.numpy", "pairs": 2, "rounds": 700,
                      "pair_ratios": [r, r],
                      "ratio": r, "low": lo, "high": hi, "half_width": (hi - lo) / 2 / r, "verdict": v,
                      "slowed_b": 0.0, "a": 100.0, "b": 100.0 * r, "ci_a": None, "ci_b": None, "hw_a": None,
                      "hw_b": None} for n, (r, lo, hi, v) in rows.items()]}


def test_an_interleaved_ab_is_printed_the_same_way_and_its_threshold_holds(tmp_path, capsys):
    path = _write(tmp_path, "ab.json", _ab_report({"x": (0.85, 0.80, 0.90, "slower"), "y": (1.0, 0.97, 1.03, "same")}))
    rc, out, err = _run(capsys, path)
    assert rc == 0 and err == ""
    assert out.splitlines()[0] == "A: /a/python — TensorFlow 2.20.0, Python ?; 2 passes"
    assert out.splitlines()[2] == ("paired: 2 pairs of processes taking turns round by round (2800 turns); "
                                   "2.5 of 3.0 min")
    # a tfguide-ab/3 row records no level of its own: every row was judged at per_row
    assert ("2 row(s) compared: 1 slower, 0 faster, 1 same; the rows judged together by Holm's step-down procedure "
            "(intervals at 97.5 %), so that all hold together with 95 %; the smallest change it detects 8 times in 10 "
            "is ±6% (the median row's interval: ±4.0%)") in out
    assert out.split("Changed (1), by B/A:")[1].splitlines()[1].split()[:4] == ["verdict", "B/A", "interval", "at"]
    assert out.split("Changed (1), by B/A:")[1].splitlines()[3].split()[4:6] == ["97.5", "%"]
    rc, _, err = _run(capsys, path, "--fail-if-slower", "5")
    assert rc == 1 and "slower: data x: B/A 0.850, 97.5 % interval up to 0.900 < 0.950" in err


def test_an_ab_of_the_first_format_passes_one_after_the_other_still_reads(tmp_path, capsys):
    old = {**_ab_report({"x": (0.85, 0.80, 0.90, "slower")}), "schema": "tfguide-ab/1", "order": ["A", "B", "B", "A"]}
    del old["turns"], old["confidence"]
    rc, out, _ = _run(capsys, _write(tmp_path, "ab.json", old))
    assert rc == 0 and out.splitlines()[2] == "paired: 2 pairs run back to back in the order A B B A; 2.5 of 3.0 min"
    assert _lines(out)["x"][4:6] == ["95", "%"]   # /1 and /2 judged every row at 95 %


def test_one_file_that_is_not_an_ab_report_is_exit_2(tmp_path, capsys):
    rc, out, err = _run(capsys, _write(tmp_path, "a.json", GOOD))
    assert rc == 2 and out == "" and "one file is an A/B's ab.json" in err and err.count("\n") == 1
    bad = _ab_report({"x": (0.85, 0.80, 0.90, "slower")})
    del bad["rows"][0]["ratio"]
    rc, _, err = _run(capsys, _write(tmp_path, "ab.json", bad))
    assert rc == 2 and "row 1 has no 'ratio'" in err


def test_rows_without_an_interval_are_compared_without_a_verdict(tmp_path, capsys):
    a = _write(tmp_path, "a.json", _report({"old": (100.0, None)}))
    b = _write(tmp_path, "b.json", _report({"old": (150.0, None)}))
    rc, out, _ = _run(capsys, a, b)
    assert rc == 0 and "1 without an interval" in out and "1.500" in out


def test_rows_whose_configuration_differs_are_refused_never_divided(tmp_path, capsys):
    ra = _report({"x": (100.0, [99.0, 101.0])}, section="training")
    rb = copy.deepcopy(ra)
    rb["training"][0]["config_detail"]["steps_per_execution"] = 100
    rc, out, err = _run(capsys, _write(tmp_path, "a.json", ra), _write(tmp_path, "b.json", rb))
    assert rc == 1
    assert "refused: training x: configuration differs (steps_per_execution: 1 vs 100)" in err
    assert "0 row(s) compared" in out and "; 1 refused" in out


def test_fail_if_slower_exits_1_only_for_a_significant_slowdown_beyond_the_threshold(tmp_path, capsys):
    a = _write(tmp_path, "a.json", _report({"x": (100.0, [99.0, 101.0]), "y": (100.0, [99.0, 101.0])}))
    b = _write(tmp_path, "b.json", _report({"x": (80.0, [79.0, 81.0]), "y": (97.0, [96.0, 98.0])}))
    rc, _, err = _run(capsys, a, b, "--fail-if-slower", "10")
    assert rc == 1
    assert "slower: data x: B/A 0.800" in err and "data y" not in err
    rc, _, err = _run(capsys, a, b, "--fail-if-slower", "25")  # x's interval reaches above 0.75
    assert rc == 0 and err == ""
    rc, _, err = _run(capsys, a, b, "--fail-if-slower", "150")
    assert rc == 2 and err.count("\n") == 1


def test_no_common_row_is_status_1(tmp_path, capsys):
    a = _write(tmp_path, "a.json", _report({"x": (1.0, [1.0, 1.0])}))
    b = _write(tmp_path, "b.json", _report({"y": (1.0, [1.0, 1.0])}))
    rc, _, err = _run(capsys, a, b)
    assert rc == 1 and "no row name is common" in err


GOOD = _report({"x": (100.0, [99.0, 101.0])})


def _without(key):
    bad = copy.deepcopy(GOOD)
    del bad["data"][0][key]
    return bad


def _with(key, value):
    bad = copy.deepcopy(GOOD)
    bad["data"][0][key] = value
    return bad


MALFORMED = {
    # name: (file content as bytes, a piece of the expected message)
    "binary": (bytes(range(256)) * 4, "not a benchmarks.json report: not text (binary content)"),
    "not json": (b"{\"data\": [", "not a benchmarks.json report: not JSON (Expecting value: line 1"),
    "json array": (b"[1, 2, 3]", "the JSON is a list, not an object"),
    "json string": (b"\"benchmarks\"", "the JSON is a str, not an object"),
    "no rows": (json.dumps({"recipes": []}).encode(), "no 'data', 'training', 'io' or 'cluster' rows"),
    "section not a list": (json.dumps({"data": {"x": 1}}).encode(), "'data' is not a list of rows (a dict)"),
    "row not an object": (json.dumps({"data": [[1, 2]]}).encode(), "data row 1 is not an object (a list)"),
    "row without name": (json.dumps(_without("name")).encode(), "data row 1 has no 'name'"),
    "row without examples_per_s": (json.dumps(_without("examples_per_s")).encode(), "has no 'examples_per_s'"),
    "row without cv": (json.dumps(_without("cv")).encode(), "data row 1 ('x') has no 'cv'"),
    "examples_per_s a string": (json.dumps(_with("examples_per_s", "fast")).encode(),
                                "'examples_per_s' is not a non-negative number ('fast')"),
    "examples_per_s negative": (json.dumps(_with("examples_per_s", -1)).encode(), "is not a non-negative number (-1)"),
    "cv a string": (json.dumps(_with("cv", "2%")).encode(), "'cv' is not a number ('2%')"),
    "interval not a pair": (json.dumps(_with("examples_per_s_ci95", [1])).encode(), "is not [low, high] ([1])"),
    "config a number": (json.dumps(_with("config", 3)).encode(), "'config' is neither an object nor a name (int)"),
    "environment a list": (json.dumps({**GOOD, "environment": []}).encode(), "'environment' is not an object"),
    "empty file": (b"", "not a benchmarks.json report: not JSON (Expecting value: line 1 column 1 (char 0))"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("which", ["a", "b"])
def test_a_malformed_report_is_one_line_naming_the_file_and_exit_2(tmp_path, capsys, case, which):
    content, message = MALFORMED[case]
    good = _write(tmp_path, "good.json", GOOD)
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    args = (bad, good) if which == "a" else (good, bad)
    rc, out, err = _run(capsys, *args)
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"compare: {bad}: ") and message in err, err
    assert "Traceback" not in err


def test_a_directory_or_a_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    good = _write(tmp_path, "good.json", GOOD)
    rc, _, err = _run(capsys, tmp_path, good)
    assert rc == 2 and err == f"compare: {tmp_path}: is a directory, expected a benchmarks.json report (a file)\n"
    rc, _, err = _run(capsys, good, tmp_path / "missing.json")
    assert rc == 2 and err == f"compare: {tmp_path / 'missing.json'}: no such file (no benchmarks.json there)\n"


def test_bad_arguments_are_exit_2():
    assert reports_cli.main(["compare", "only-one.json"]) == 2
    assert reports_cli.main(["compare"]) == 2


def test_the_command_line_never_shows_a_traceback(tmp_path):
    binary = tmp_path / "benchmarks.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    proc = subprocess.run([sys.executable, "-m", "reports", "compare", str(binary), str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == f"compare: {binary}: not a benchmarks.json report: not text (binary content)\n"


def test_holm_sees_a_smaller_change_once_the_large_ones_are_out(tmp_path, capsys):
    """Ten rows, nine slowed far beyond their intervals and one by 2.5 standard errors of its ratio. Bonferroni
    (every row at 99.5 %, z = 2.81) would call that one `same`; Holm judges it last, alone, at 95 % (z = 1.96), and
    calls it slower: the guarantee for an A/A is the same (tfguide/intervals.py holm)."""
    z = 1.959964
    rates = {f"r{i}": (100.0, [100.0 * math.exp(-0.02 * z), 100.0 * math.exp(0.02 * z)]) for i in range(10)}
    se_ratio = 0.02 * math.sqrt(2)
    moved = {k: (v[0] * math.exp(-8 * se_ratio), [x * math.exp(-8 * se_ratio) for x in v[1]]) for k, v in rates.items()}
    moved["r9"] = (100.0 * math.exp(-2.5 * se_ratio), [x * math.exp(-2.5 * se_ratio) for x in rates["r9"][1]])
    a, b = _write(tmp_path, "a.json", _report(rates)), _write(tmp_path, "b.json", _report(moved))
    rc, out, _ = _run(capsys, a, b)
    assert rc == 0 and out.splitlines()[2].startswith("10 row(s) compared: 10 slower, 0 faster, 0 same")
    rows = _lines(out)
    assert rows["r9"][0] == "slower" and rows["r9"][4:6] == ["95", "%"] and rows["r0"][4:6] == ["99.5", "%"]
    from tfguide.intervals import family_confidence, ratio_ci_from_intervals
    bonferroni = ratio_ci_from_intervals(*rates["r9"], *moved["r9"], family_confidence(10))
    assert bonferroni[2] > 1.0   # at 99.5 % the interval holds 1: Bonferroni would have said `same`


def test_holm_levels_step_down_only_while_rows_are_called_changed():
    from tfguide.intervals import holm

    # row 0 excludes 1 at any level, row 1 only below 98 %, row 2 never
    levels = holm(3, lambda i, level: i == 0 or (i == 1 and level < 0.98))
    assert levels == pytest.approx([1 - 0.05 / 3, 1 - 0.05 / 2, 1 - 0.05 / 1])
    assert holm(3, lambda i, level: False) == pytest.approx([1 - 0.05 / 3] * 3)
    assert holm(0, lambda i, level: True) == []


def test_rows_that_read_same_say_how_many_times_their_rounds_a_5_percent_change_needs():
    from tfguide.intervals import Z80, resolving_factor, z_two_sided

    # at 95 % a change of 5 % is seen 8 times in 10 by an interval of half-width 0.05 / (1 + 0.8416 / 1.96)
    needed = 0.05 / (1 + Z80 / z_two_sided(0.95))
    assert resolving_factor(2 * needed, 0.95) == pytest.approx(4.0)
    assert resolving_factor(needed / 2, 0.95) == 1.0 and resolving_factor(None, 0.95) is None
    results = [{"verdict": "same", "ratio": 1.0, "low": 1 - 2 * needed, "high": 1 + 2 * needed, "confidence": 0.95,
                "measured_s": 60.0}, {"verdict": "slower", "ratio": 0.5, "low": 0.4, "high": 0.6, "confidence": 0.95}]
    # four times the rounds: three more minutes for the one row's minute
    assert compare.what_it_would_take(results) == ("; to resolve a 5% change the 1 rows that read `same` would need "
                                                   "4.0x their rounds (median row), about 3 more minutes of measuring "
                                                   "at the spread observed")


def test_rows_in_separated_modes_are_compared_headline_mode_with_headline_mode(tmp_path, capsys):
    """A row whose rounds fell into two speeds reports its fastest mode (benchmarks/modes.py); compare says so."""
    a_rep = _report({"bimodal": (199.0, [197.0, 201.0])})
    b_rep = _report({"bimodal": (198.0, [196.0, 200.0])})
    a_rep["data"][0].update(modes=[{"examples_per_s": 96.0, "share": 0.6}, {"examples_per_s": 199.0, "share": 0.4}],
                            headline_mode=1)
    rc, out, _ = _run(capsys, _write(tmp_path, "a.json", a_rep), _write(tmp_path, "b.json", b_rep))
    assert rc == 0 and "mode counts differ: the headline modes compared (A: 2 modes, the figure's held 40% of the " \
                       "rounds; B: 1 mode)" in out
    b_rep["data"][0].update(modes=[{"examples_per_s": 95.0, "share": 0.3}, {"examples_per_s": 198.0, "share": 0.7}],
                            headline_mode=1)
    rc, out, _ = _run(capsys, _write(tmp_path, "a.json", a_rep), _write(tmp_path, "b.json", b_rep))
    assert "like with like (A: 2 modes, the figure's held 40% of the rounds; B: 2 modes, the figure's held 70% of " \
           "the rounds)" in out and _lines(out)["bimodal"][0] == "same"
