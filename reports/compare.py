"""`python -m reports compare A.json B.json` (two runs) or `compare ab.json` (an interleaved A/B): what changed.

The output leads with what changed: one line with the verdicts and the smallest change this comparison could
detect, then the rows that changed, sorted by B/A (the slowest first), then the others. `--aa` adds the A/A
lines.

Two runs. Rows are matched by name. A ratio is only meaningful when both rows measured the same thing, so a row whose
configuration differs (batch size, consumer, examples per epoch, steps_per_execution, XLA, input, replicas,
devices, ...) is refused with the fields that differ, never divided.

For each compared row: B/A, its interval, and one word - `faster` (the whole interval above 1), `slower`
(below 1) or `same` (it contains 1). The rows are judged together: each interval is taken at 1 - 0.05 / m for the
m rows with intervals, so that all of them hold their true ratios together with 95 % and an A/A of unchanged
code calls some row changed at most one time in 20 (tfguide/intervals.py family_confidence says why; judged at
95 % each, 49 rows would show two or three changes every time). The two runs are independent, so a row's
interval comes from the two rows' own 95 % intervals of their medians (tfguide/intervals.py: each turned into a
standard error on the log scale, added in quadrature). A row without an interval (an old report, fewer than 6
rounds) gets its ratio and `no interval`.

The summary gives the level the rows were judged at, the median over the rows of the B/A interval's half-width
and the smallest change such an interval reports 8 times in 10 (tfguide/intervals.py detectable_change: about
1.3 times the half-width at those levels). The A/A lines (`--aa`), about the two runs' own 95 % intervals: how
many rows lie within +-5 % of each other, the share of rows whose 95 % interval of the median in A holds B's
median, the same for A's prediction interval for another run's median (>= 95 % when A and B ran the same code on
the same quiet machine and the rounds are honest draws; the interval of the median holds it only about 83 % of
the time even then, benchmarks/stats.py explains why), the median half-width of the intervals. So an A/A test of
two runs is two runs and this one command.

An interleaved A/B (`python -m benchmarks.ab`, its ab.json): the rows, ratios, intervals and verdicts come from
its paired passes, already derived at the level it records (its rows judged together the same way); this prints
them the same way.

Exit status: 0 when every common row was compared; 1 when a row was refused, no row is common, or (with
`--fail-if-slower PCT`) some row is slower by more than PCT % (its interval's upper end below 1 - PCT/100: with
95 % confidence for the rows together); 2 on bad arguments or a malformed report (one line naming the file and
the problem).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from tabulate import tabulate

from tfguide import contracts
from tfguide.intervals import (CONFIDENCE, FAMILY_CONFIDENCE, confidence_label, detectable_change, holm,
                               ratio_ci_from_intervals, resolving_factor, usable)

SECTIONS = ("data", "training", "io", "cluster")  # cluster rows (benchmarks/cluster/report.py) carry `config`
REQUIRED = ("name", "examples_per_s", "cv")


class BadReport(Exception):
    """A report that cannot be compared; str() is the one line to print."""


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_row(path: Path, section: str, i: int, row) -> None:
    if not isinstance(row, dict):
        raise BadReport(f"{path}: {section} row {i + 1} is not an object (a {type(row).__name__})")
    label = f"{section} row {i + 1}" + (f" ({row['name']!r})" if isinstance(row.get("name"), str) else "")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise BadReport(f"{path}: {label} has no {', '.join(repr(k) for k in missing)}")
    if not isinstance(row["name"], str) or not row["name"]:
        raise BadReport(f"{path}: {label}: 'name' is not a non-empty string")
    if not _is_number(row["examples_per_s"]) or row["examples_per_s"] < 0:
        raise BadReport(f"{path}: {label}: 'examples_per_s' is not a non-negative number ({row['examples_per_s']!r})")
    if row["cv"] is not None and not _is_number(row["cv"]):
        raise BadReport(f"{path}: {label}: 'cv' is not a number ({row['cv']!r})")
    ci = row.get("examples_per_s_ci95")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(v is None or _is_number(v) for v in ci)):
        raise BadReport(f"{path}: {label}: 'examples_per_s_ci95' is not [low, high] ({ci!r})")
    for key in ("config", "config_detail"):
        if key in row and row[key] is not None and not isinstance(row[key], (dict, str)):
            raise BadReport(f"{path}: {label}: {key!r} is neither an object nor a name ({type(row[key]).__name__})")


def read_json(path: Path) -> dict:
    """A JSON object from `path` (tfguide/contracts.py read_json, the one reader of the reports' JSON), or BadReport
    with one line that names the file and what is wrong."""
    try:
        report = contracts.read_json(path, "a benchmarks.json report", "no benchmarks.json there")
    except contracts.ContractError as exc:
        raise BadReport(str(exc)) from None
    if not isinstance(report, dict):
        raise BadReport(f"{path}: not a benchmarks.json report (the JSON is a {type(report).__name__}, not an object)")
    return report


def load(path: Path) -> dict:
    """A benchmarks.json report, or BadReport with one line that names the file and what is wrong."""
    report = read_json(path)
    if not any(s in report for s in SECTIONS):
        raise BadReport(f"{path}: not a benchmarks.json report (no 'data', 'training', 'io' or 'cluster' rows)")
    for section in SECTIONS:
        rows = report.get(section, [])
        if not isinstance(rows, list):
            raise BadReport(f"{path}: {section!r} is not a list of rows (a {type(rows).__name__})")
        for i, row in enumerate(rows):
            _check_row(path, section, i, row)
    for key in ("environment", "limits"):
        if key in report and not isinstance(report[key], dict):
            raise BadReport(f"{path}: {key!r} is not an object")
    return report


def _config(section: str, row: dict):
    # data and cluster rows carry their configuration in `config`; training and io rows in `config_detail`
    # (`config` is the name of the tuning there)
    return row.get("config") if section in ("data", "cluster") else row.get("config_detail")


def _env_line(env: dict) -> str:
    cpu = env.get("cpu", {}) if isinstance(env.get("cpu"), dict) else {}
    keras = env.get("keras", {}) if isinstance(env.get("keras"), dict) else {}
    gpus = env.get("gpus") if isinstance(env.get("gpus"), list) else []
    gpu_text = ", ".join(str(g.get("name", "?")) for g in gpus if isinstance(g, dict)) or "no GPU"
    return (f"TensorFlow {env.get('tensorflow')}, {keras.get('name')} {keras.get('version')}, "
            f"{cpu.get('model')} ({cpu.get('usable_cores')} cores), {gpu_text}")


def _ci(row: dict):
    ci = row.get("examples_per_s_ci95")
    if not ci or ci[0] is None or ci[1] is None:
        return None
    return ci[0], ci[1]


def compare_rows(a: dict, b: dict) -> tuple[list[dict], list[str], float]:
    """(one result per row compared, refusals, the confidence each row's interval was taken at) for every row name
    present in both reports: the intervals hold together with 95 % (tfguide/intervals.py family_confidence)."""
    results, refused = [], []
    for section in SECTIONS:
        rows_b = {r["name"]: r for r in b.get(section, [])}
        for ra in a.get(section, []):
            rb = rows_b.get(ra["name"])
            if rb is None:
                continue
            ca, cb = _config(section, ra), _config(section, rb)
            if ca != cb:
                da, db = (ca if isinstance(ca, dict) else {"config": ca}), (cb if isinstance(cb, dict) else {"config": cb})
                keys = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
                diffs = "; ".join(f"{k}: {da.get(k)!r} vs {db.get(k)!r}" for k in keys)
                refused.append(f"{section} {ra['name']}: configuration differs ({diffs})")
                continue
            va, vb = ra["examples_per_s"], rb["examples_per_s"]
            ci_a = _ci(ra)
            pi_a = ra.get("examples_per_s_pi95")
            pi_held = pi_a[0] <= vb <= pi_a[1] if (isinstance(pi_a, list) and len(pi_a) == 2
                                                     and None not in pi_a) else None
            results.append({"section": section, "name": ra["name"], "a": va, "b": vb, "ci_a": ci_a, "ci_b": _ci(rb),
                            "ratio": vb / va if va else math.nan, "low": None, "high": None,
                            "a_holds_b": ci_a[0] <= vb <= ci_a[1] if ci_a else None, "a_pi_holds_b": pi_held,
                            "pct_a": ra.get("pct_of_limit"), "pct_b": rb.get("pct_of_limit"),
                            "hw_a": ra.get("ci_half_width"), "hw_b": rb.get("ci_half_width"),
                            "modes": _modes_note(ra, rb), "measured_s": _sum_or_none(_measured_s(ra), _measured_s(rb))})
    judged = []
    for r in results:
        if usable(r["a"], r["ci_a"], r["b"], r["ci_b"]):
            judged.append(r)
        else:
            r["verdict"] = "no interval"

    def interval(i: int, level: float):
        r = judged[i]
        return ratio_ci_from_intervals(r["a"], r["ci_a"], r["b"], r["ci_b"], level)

    def excludes_one(i: int, level: float) -> bool:
        _, lo, hi = interval(i, level)
        return not lo <= 1.0 <= hi

    levels = holm(len(judged), excludes_one)
    for i, (r, level) in enumerate(zip(judged, levels)):
        _, lo, hi = interval(i, level)
        r.update(low=lo, high=hi, confidence=level, verdict="faster" if lo > 1 else "slower" if hi < 1 else "same")
    confidence = max(levels) if levels else CONFIDENCE
    return results, refused, confidence


def _modes_note(ra: dict, rb: dict) -> str | None:
    """How the two rows' modes were compared (benchmarks/modes.py): a row whose rounds fall into separated speeds
    reports its headline mode, so two such rows compare that mode with that mode; None when neither has modes."""
    ma, mb = ra.get("modes") or [], rb.get("modes") or []
    if not ma and not mb:
        return None

    def says(side: str, found: list, row: dict) -> str:
        if not found:
            return f"{side}: 1 mode"
        head = found[row.get("headline_mode", len(found) - 1)]
        return f"{side}: {len(found)} modes, the figure's held {head['share']:.0%} of the rounds"

    like = "like with like" if len(ma) == len(mb) else "mode counts differ: the headline modes compared"
    return f"{like} ({says('A', ma, ra)}; {says('B', mb, rb)})"


def _measured_s(row: dict) -> float | None:
    seconds = (row.get("timing") or {}).get("seconds")
    return sum(seconds) if isinstance(seconds, list) and all(_is_number(v) for v in seconds) else None


def aa_summary(results: list[dict]) -> dict:
    """The A/A figures: rows within +-5 %, share of A intervals holding B's median, median half-widths."""
    n = len(results)
    within = sum(1 for r in results if r["a"] and abs(r["ratio"] - 1.0) <= 0.05)
    judged = [r for r in results if r["a_holds_b"] is not None]
    held = sum(1 for r in judged if r["a_holds_b"])
    pi_judged = [r for r in results if r.get("a_pi_holds_b") is not None]
    pi_held = sum(1 for r in pi_judged if r["a_pi_holds_b"])

    def median(values):
        values = sorted(v for v in values if v is not None)
        return values[len(values) // 2] if values else None

    return {"rows": n, "within_5pct": within, "intervals_judged": len(judged), "a_interval_holds_b": held,
            "prediction_intervals_judged": len(pi_judged), "a_prediction_interval_holds_b": pi_held,
            "median_half_width_a": median(r["hw_a"] for r in results),
            "median_half_width_b": median(r["hw_b"] for r in results),
            "median_abs_change": median(abs(r["ratio"] - 1.0) for r in results if r["a"])}


def _sum_or_none(*values):
    return None if any(v is None for v in values) else sum(values)


def _num(v, fmt="{:,.0f}"):
    return "-" if v is None else fmt.format(v)


def _parse(argv):
    ap = argparse.ArgumentParser(prog="python -m reports compare",
                                 description="What changed between two benchmarks.json reports (or in the ab.json of "
                                             "an interleaved A/B): each row's B/A with its interval (all rows' "
                                             "together: 95 %%) and a verdict, changed rows first.")
    ap.add_argument("a", type=Path, help="baseline benchmarks.json, or an ab.json")
    ap.add_argument("b", type=Path, nargs="?", help="benchmarks.json to compare with the baseline")
    ap.add_argument("--fail-if-slower", type=float, metavar="PCT", default=None,
                    help="exit 1 when a row is slower than A by more than PCT %% (the rows' intervals together: "
                         "95 %% confidence)")
    ap.add_argument("--aa", action="store_true", help="add the A/A lines (how far two runs of the same code agree)")
    return ap.parse_args(argv)


def half_width(r: dict) -> float | None:
    """The B/A interval's half-width relative to B/A: the change this row could detect."""
    if r.get("low") is None or not r.get("ratio"):
        return None
    return (r["high"] - r["low"]) / 2 / r["ratio"]


def median_half_width(results: list[dict]) -> float | None:
    widths = sorted(w for w in map(half_width, results) if w is not None)
    return widths[len(widths) // 2] if widths else None


def _rate(value, hw) -> str:
    return _num(value) + (f" ±{hw:.1%}" if hw is not None else "")


def _table(results: list[dict]) -> str:
    with_modes = any(r.get("modes") for r in results)
    rows = []
    for r in results:
        level = r.get("confidence")
        rows.append([r["verdict"], f"{r['ratio']:.3f}", f"[{r['low']:.3f}, {r['high']:.3f}]" if r["low"] is not None else "-",
                     confidence_label(level) if level else "-",
                     r["section"], r["name"] + (f" (B slowed {r['slowed_b']:.0%})" if r.get("slowed_b") else ""),
                     _rate(r["a"], r.get("hw_a")), _rate(r["b"], r.get("hw_b"))] + ([r.get("modes") or ""] if with_modes else []))
    headers = ["verdict", "B/A", "interval", "at", "section", "row", "A examples/s", "B examples/s"] + (
        ["modes"] if with_modes else [])
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _levels_text(results: list[dict]) -> str:
    levels = sorted({r["confidence"] for r in results if r.get("confidence")}, reverse=True)
    if len([r for r in results if r.get("confidence")]) < 2:
        return ""
    shown = confidence_label(levels[0]) + (f" to {confidence_label(levels[-1])}" if len(levels) > 1 else "")
    return (f"; the rows judged together by Holm's step-down procedure (intervals at {shown}), so that all hold "
            f"together with {confidence_label(FAMILY_CONFIDENCE)}")


def what_it_would_take(results: list[dict], change: float = 0.05) -> str:
    """For the rows that read `same`: how many times their rounds (the median row's) a `change` needs to be seen 8
    times in 10, and how many more minutes of measuring that is at the spread observed (rows with their time)."""
    same = [r for r in results if r["verdict"] == "same" and half_width(r) is not None and r.get("confidence")]
    factors = [resolving_factor(half_width(r), r["confidence"], change) for r in same]
    if not factors:
        return ""
    median = sorted(factors)[len(factors) // 2]
    if median <= 1.0:
        return f"; the {len(same)} rows that read `same` already resolve a {change:.0%} change"
    timed = [(f, r["measured_s"]) for f, r in zip(factors, same) if _is_number(r.get("measured_s"))]
    more = sum((f - 1.0) * s for f, s in timed) / 60.0
    minutes = f", about {more:,.0f} more minutes of measuring at the spread observed" if timed else ""
    return (f"; to resolve a {change:.0%} change the {len(same)} rows that read `same` would need {median:.1f}x their "
            f"rounds (median row){minutes}")


def _print_results(results: list[dict], refused: list[str], only: tuple[int, int], hw: float | None,
                   confidence: float) -> None:
    counts = {v: sum(1 for r in results if r["verdict"] == v) for v in ("slower", "faster", "same", "no interval")}
    unchanged_levels = [r["confidence"] for r in results if r["verdict"] == "same" and r.get("confidence")]
    level = min(unchanged_levels) if unchanged_levels else confidence
    detect_text = (f"; the smallest change it detects 8 times in 10 is ±{detectable_change(hw, level):.0%} (the "
                   f"median row's interval: ±{hw:.1%})" if hw is not None else "")
    print(f"{len(results)} row(s) compared: {counts['slower']} slower, {counts['faster']} faster, {counts['same']} same"
          + (f", {counts['no interval']} without an interval" if counts["no interval"] else "") + _levels_text(results)
          + detect_text + what_it_would_take(results)
          + (f"; {len(refused)} refused" if refused else "")
          + (f"; {only[0]} only in A, {only[1]} only in B" if any(only) else ""))
    changed = sorted((r for r in results if r["verdict"] in ("slower", "faster")), key=lambda r: r["ratio"])
    unchanged = [r for r in results if r["verdict"] not in ("slower", "faster")]
    if changed:
        print(f"\nChanged ({len(changed)}), by B/A:")
        print(_table(changed))
    if unchanged:
        print(f"\nUnchanged ({len(unchanged)}):" if changed else "")
        print(_table(unchanged))


def _print_aa(results: list[dict]) -> None:
    aa = aa_summary(results)
    if not aa["rows"]:
        return
    hw = f"{_num(aa['median_half_width_a'], '{:.1%}')} (A), {_num(aa['median_half_width_b'], '{:.1%}')} (B)"
    held = (f"{aa['a_interval_holds_b']}/{aa['intervals_judged']} "
            f"({aa['a_interval_holds_b'] / aa['intervals_judged']:.0%})" if aa["intervals_judged"] else "-")
    pi_held = (f"{aa['a_prediction_interval_holds_b']}/{aa['prediction_intervals_judged']} "
               f"({aa['a_prediction_interval_holds_b'] / aa['prediction_intervals_judged']:.0%})"
               if aa["prediction_intervals_judged"] else "-")
    print(f"\nA/A: {aa['within_5pct']}/{aa['rows']} rows within ±5 % ({aa['within_5pct'] / aa['rows']:.0%}); "
          f"A's 95 % interval holds B's median for {held}; A's 95 % prediction interval for another run's "
          f"median holds it for {pi_held}; median interval half-width {hw}; "
          f"median |B/A - 1| {_num(aa['median_abs_change'], '{:.1%}')}")
    print("     (with independent rounds expect about 83 % for the interval of the median and >= 95 % for the "
          "prediction interval: benchmarks/stats.py)")


def _slower_than(results: list[dict], pct: float, confidence: float) -> bool:
    """Say every row slower than A by more than `pct` % (its interval, at the level it was judged at, or
    `confidence` for a report that records none, below 1 - pct/100); whether there was one."""
    bound = 1.0 - pct / 100.0
    slow = [r for r in results if r["high"] is not None and r["high"] < bound]
    for r in slow:
        print(f"slower: {r['section']} {r['name']}: B/A {r['ratio']:.3f}, "
              f"{confidence_label(r.get('confidence') or confidence)} interval up to {r['high']:.3f} < {bound:.3f}",
              file=sys.stderr)
    if slow:
        print(f"compare: {len(slow)} row(s) slower by more than {pct:g} % (the rows' intervals judged together: "
              f"all hold together with {confidence_label(FAMILY_CONFIDENCE)})", file=sys.stderr)
    return bool(slow)


def _wall(report: dict) -> str:
    return f" ({report['wall_s'] / 60:.1f} min)" if _is_number(report.get("wall_s")) else ""


# -- an interleaved A/B's ab.json ------------------------------------------------------------------------------

AB_ROW = ("section", "name", "ratio", "low", "high", "verdict", "pairs")


def load_ab(path: Path, report: dict) -> dict:
    """The ab.json of `python -m benchmarks.ab` (already read as `report`), or BadReport."""
    rows = report.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadReport(f"{path}: an ab.json without a list of rows")
    for i, row in enumerate(rows):
        missing = [k for k in AB_ROW if k not in row]
        if missing:
            raise BadReport(f"{path}: row {i + 1} has no {', '.join(repr(k) for k in missing)}")
        if not _is_number(row["ratio"]) or not all(row[k] is None or _is_number(row[k]) for k in ("low", "high")):
            raise BadReport(f"{path}: row {i + 1} ({row['name']!r}): its ratio or interval is not a number")
    return report


def _side_line(side: str, info: dict, passes: int) -> str:
    slowed = f"; slowed on purpose: {info['slowed']}" if info.get("slowed") else ""
    return (f"{side.upper()}: {info.get('python')} — TensorFlow {info.get('tensorflow')}, Python "
            f"{info.get('python_version', '?')}; {passes} passes{slowed}")


def _pairing_line(ab: dict) -> str:
    took = f"{_num(ab.get('wall_s', 0) / 60, '{:.1f}')} of {_num(ab.get('budget_s', 0) / 60, '{:.1f}')} min"
    if "order" in ab:   # tfguide-ab/1: passes one after the other
        return f"paired: {ab.get('pairs')} pairs run back to back in the order {' '.join(ab['order'])}; {took}"
    if ab.get("pairing") == "duet":
        return (f"paired: {ab.get('pairs')} pairs of processes running at once, each on its half of the cores, "
                f"starting each round together ({sum(ab.get('turns') or [])} releases); {took}")
    return (f"paired: {ab.get('pairs')} pairs of processes taking turns round by round "
            f"({sum(ab.get('turns') or [])} turns); {took}")


def _main_ab(path: Path, report: dict, args) -> int:
    ab = load_ab(path, report)
    # tfguide-ab/1 and /2 judged every row at 95 %, /3 every row at per_row (Bonferroni); /4 records each row's level
    per_row = (ab.get("confidence") or {}).get("per_row", CONFIDENCE)
    results = [{**r, "a": r.get("a"), "b": r.get("b"), "confidence": r.get("confidence") or per_row}
               for r in ab["rows"]]
    for side in "ab":
        passes = ab["order"].count(side.upper()) if "order" in ab else ab.get("pairs")
        print(_side_line(side, ab.get(side) or {}, passes))
    print(_pairing_line(ab))
    if not results:
        print("compare: the A/B has no row measured on both sides", file=sys.stderr)
        return 1
    confidence = per_row
    _print_results(results, [], (0, 0), (ab.get("summary") or {}).get("median_half_width"), confidence)
    status = 0
    if args.fail_if_slower is not None and _slower_than(results, args.fail_if_slower, confidence):
        status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parse(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    if args.fail_if_slower is not None and not (0 <= args.fail_if_slower < 100):
        print(f"compare: --fail-if-slower takes a percentage in [0, 100), not {args.fail_if_slower}", file=sys.stderr)
        return 2
    try:
        if args.b is None:
            raw = read_json(args.a)
            if not str(raw.get("schema", "")).startswith("tfguide-ab/"):
                raise BadReport(f"{args.a}: one file is an A/B's ab.json; two runs need two benchmarks.json files")
            return _main_ab(args.a, raw, args)
        a, b = load(args.a), load(args.b)
    except BadReport as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    print(f"A: {args.a} — {_env_line(a.get('environment') or {})}{_wall(a)}")
    print(f"B: {args.b} — {_env_line(b.get('environment') or {})}{_wall(b)}")
    results, refused, confidence = compare_rows(a, b)
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    if not results and not refused:
        print("compare: no row name is common to both reports", file=sys.stderr)
        return 1
    only_a = sum(len({r["name"] for r in a.get(s, [])} - {r["name"] for r in b.get(s, [])}) for s in SECTIONS)
    only_b = sum(len({r["name"] for r in b.get(s, [])} - {r["name"] for r in a.get(s, [])}) for s in SECTIONS)
    _print_results(results, refused, (only_a, only_b), median_half_width(results), confidence)
    if args.aa:
        _print_aa(results)
    status = 1 if refused else 0
    if args.fail_if_slower is not None and _slower_than(results, args.fail_if_slower, confidence):
        status = 1
    return status
