"""benchmarks.md and the plots, drawn from benchmarks.json: `python -m reports benchmarks DIR`.

benchmarks/report.py writes DIR/benchmarks.json (its contract: tfguide/schemas/benchmarks.schema.json), with every
figure already derived - the per-recipe lines and the headline too (benchmarks/summary.py) - and then starts this
command; this module only reads the JSON and renders it: the Markdown with tabulate and, when matplotlib is
installed (the `plots` extra), two PNG plots. The cluster rows come from DIR/cluster.json, which only
`python -m benchmarks.cluster` writes (benchmarks/cluster/report.py); a directory with only that file renders as its
cluster section (reports/cluster.py).

What a reader gets, in order: at most five lines that answer "how fast is this machine, how far are the guide's
figures from the best tuned ones, what limits them"; one row per recipe; time to quality; the targets with a
three-valued verdict; the plots; then an appendix with every row, the ladders, the evidence, the limits, the
groups and the method. A table cell says one thing in at most CELL_LIMIT characters, and nothing is said twice:
tests/test_benchmark_reports.py renders a fixture and checks both. A mark marks an exception: when most rows
share a property, the few that do not are the ones marked (reports/marks.py).

Exit status: 0, or 2 when DIR/benchmarks.json cannot be read (one line naming the file).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from tabulate import tabulate

from reports import cluster as cluster_section
from reports.marks import mark_exceptions
from tfguide import atomic, contracts
from tfguide.environment import header_lines

NO_MATPLOTLIB = "no plots: matplotlib is not installed (pip install -e '.[plots]')"
CELL_LIMIT = 140
TABLES = ("data", "training", "io")


# -- numbers ------------------------------------------------------------------------------------------------

def _f(v, fmt="{:,.0f}"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def _sig(v) -> str:
    """Two significant digits for a percentage (0.0037, 4.1, 22, 130): a small share reads as small, not as 0.0."""
    if v is None:
        return "-"
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.2g}"


def _pm(hw) -> str:
    return "" if hw is None else f" ±{hw:.0%}" if hw >= 0.095 else f" ±{hw:.1%}"


def _ci(ci, fmt="{:.2f}") -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" [{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def _x(v, ci) -> str:
    return "-" if v is None else f"×{v:.2f}" + ("" if ci and ci[0] == ci[1] else _ci(ci))


def _figure(fig: dict | None) -> str:
    if not fig:
        return "-"
    fmt = "{:,.1f}" if fig["unit"] == "MB/s" else "{:,.0f}"
    return f"{_f(fig['value'], fmt)} {fig['unit'].replace('examples/s', 'ex/s')}{_pm(fig.get('half_width'))}"


def _table(rows: list[list], headers: list[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _code(text: str) -> str:
    return f"`{text}`".replace("|", "\\|")


# -- the answer first -------------------------------------------------------------------------------------

def _entry(report: dict, recipe: str) -> dict | None:
    return next((e for e in report.get("recipes", []) if e["recipe"] == recipe and e.get("best")), None)


def _ttq(report: dict, name: str | None) -> dict | None:
    return next((r for r in report.get("time_to_quality", []) if r["name"] == name), None)


def headline(report: dict) -> list[str]:
    """At most five lines: this machine and its limits, training and tf.data against the best tuned figures,
    the bottleneck, the targets."""
    lim, prov, env, plan = report["limits"], report.get("provenance", {}), report.get("environment") or {}, report["plan"]
    budget = report.get("budget") or {}
    kind = "quick smoke run" if plan["quick"] else "full run"
    commit = str(prov.get("git_commit", "?"))
    commit = commit[:10] + (" with uncommitted changes" if prov.get("git_dirty") else "") if commit[0].isalnum() and \
        " " not in commit else commit
    peak = lim["matmul_peak_flop_per_s"][lim["primary_device"]]["float32"]
    fs = (f", file system {_f((lim.get('fs_write_bytes_per_s') or 0) / 1e9, '{:.1f}')} GB/s write and "
          f"{_f((lim.get('fs_read_bytes_per_s') or 0) / 1e9, '{:.1f}')} GB/s read" if lim.get("fs_write_bytes_per_s")
          else "")
    cpu = env.get("cpu") or {}
    left_out = sum(1 for s in report.get("skipped", []) if s.get("budget"))
    wall = _f((report.get("wall_s") or 0) / 60, "{:.1f}") + " min" + (
        f" of a {budget['budget_s'] / 60:g}-min budget" if budget.get("budget_s") else "") + (
        f", {left_out} group(s) left out when it was spent ([which](#recipes-without-rows))" if left_out else "")
    lines = [f"**This machine**: copy {lim['copy_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s, matmul {peak / 1e9:.0f} "
             f"GFLOP/s float32 on {lim['primary_device'].rsplit('/', 1)[-1].replace('device:', '')}{fs}; "
             f"{cpu.get('usable_cores', '?')} cores of {cpu.get('model', '?')}, TensorFlow {env.get('tensorflow', '?')}. "
             f"A {kind} of {prov.get('date', '?')}, commit {commit}, {wall}"
             + (" (not a measurement to quote)." if plan["quick"] else ".")]
    head = report.get("headline") or {}
    bottleneck = []
    for what, key in (("Training", "training"), ("tf.data", "data")):
        e = _entry(report, head.get(key, ""))
        if e is None:
            continue
        below = " below the guide's quality," if e["best"].get("reached_quality") is False else ""
        line = (f"**{what}** (`{e['recipe']}`): the guide's {_figure(e['guide'])}, the best {_figure(e['best'])} "
                f"({_code(e['best']['row'])},{below} {_x(e.get('x_guide'), e.get('x_guide_ci95'))})")
        if key == "data":
            line += f", {_sig(e.get('pct_of_limit'))} % of the {e['limit']}"
        g, b = _ttq(report, head.get("quality_guide")), _ttq(report, head.get("quality_best"))
        if key == "training" and g and b:
            line += (f"; to {g['target_accuracy']:.2f} held-out accuracy {g['seconds']:.1f} s{_ci(g['seconds_ci95'], '{:.1f}')}"
                     f" against {b['seconds']:.1f} s{_ci(b['seconds_ci95'], '{:.1f}')} ({_code(b['name'])})")
        lines.append(line + ".")
        if _limited_by(e) != "-":
            bottleneck.append(f"{what.lower() if what != 'tf.data' else what}, {_limited_by(e)}")
    if bottleneck:
        lines.append("**Bottleneck**: " + "; ".join(bottleneck) + ".")
    targets, s = report.get("targets", []), report["summary"]
    counts = ", ".join(f"{sum(t['verdict'] == v for t in targets)} {v}" for v in ("met", "not met", "undetermined"))
    lines.append(f"**Targets**: {counts}; the {s['rows']} rows' median interval is ±{_f(s['median_half_width'], '{:.0%}')}"
                 + (". **The report's checks FAILED** (below)." if report.get("checks") else "."))
    return lines[:5]


def _limited_by(e: dict) -> str:
    if e.get("slowest_stage"):
        return f"the stage {_code(e['slowest_stage'])}"
    return e.get("limiting") or "-"


def recipe_table(report: dict) -> list[str]:
    """One row per recipe with rows of its own; the others in one line."""
    entries = [e for e in report.get("recipes", []) if e.get("best")]
    if not entries:
        return []
    no_copy, legend = mark_exceptions([{"name": e["recipe"], **e} for e in entries],
                                      lambda e: e.get("copies_every_byte") is False, "∅",
                                      "have as their best a pipeline that delivers its bytes without copying them",
                                      "copying every byte")
    body = []
    for e in entries:
        best = _figure(e["best"]) if e.get("best_is_guide") else f"{_code(e['best']['row'])}: {_figure(e['best'])}"
        if e["best"].get("reached_quality") is False:
            best += f" (accuracy {e['best']['accuracy']:.2f}, below the guide's)"
        body.append([f"{_code(e['recipe'])}{' ' + no_copy[e['recipe']] if e['recipe'] in no_copy else ''} "
                     f"{e['title']}", _figure(e["guide"]) if not e.get("best_is_guide") else "-", best,
                     _x(e.get("x_guide"), e.get("x_guide_ci95")),
                     f"{_sig(e.get('pct_of_limit'))} % of {e['limit']}" if e.get("pct_of_limit") is not None else "-",
                     _limited_by(e)])
    others = [e for e in report.get("recipes", []) if not e.get("best")]
    parts = ["## Recipes", "", _table(body, ["recipe", "the guide's", "best", "× guide [95 %]", "% of limit",
                                             "limited by"]), ""]
    if legend:
        parts += [legend, ""]
    if others:
        parts += ["Not timed on their own ([why](#recipes-without-rows)): "
                  + ", ".join(_code(e["recipe"]) for e in others) + ".", ""]
    return parts


def quality_table(report: dict) -> list[str]:
    rows = report.get("time_to_quality") or []
    if not rows:
        return []
    body = [[_code(r["name"]), f"{r['target_accuracy']:.2f}",
             (f"{r['seconds']:.2f} s{_ci(r['seconds_ci95'])}" if r["reached"] else f"> {r['seconds']:.1f} s"),
             _x(r.get("speedup_vs_guide"), r.get("speedup_vs_guide_ci95")) if not r.get("is_guide") else "guide",
             f"{r['reached']} of {r['trials']}", _f(r["examples_to_quality"])] for r in rows]
    return ["## Time to quality", "",
            "Seconds from a fresh model to the held-out accuracy the guide's configuration reaches, compiles "
            "included and checks excluded; the median trial with its 95 % interval (benchmarks/quality.py).", "",
            _table(body, ["configuration", "target", "seconds [95 %]", "× guide [95 %]", "trials that got there",
                          "examples"]), ""]


def targets_table(report: dict) -> list[str]:
    targets = report.get("targets") or []
    if not targets:
        return []
    body = [[t["target"], t["verdict"] if t["verdict"] == "met" else f"**{t['verdict']}**",
             _f(t["value"], "{:.2f}") + _ci(t.get("value_ci95")), _code(t["row"]) if t.get("row") else "-",
             f"[evidence](#target-{t['key'].replace('_', '-')})"] for t in targets]
    return ["## Targets", "",
            "`met` only when the whole 95 % interval clears the target, `not met` when it lies below, `undetermined` "
            "otherwise; a training figure counts only when its model reached the guide's quality.", "",
            _table(body, ["target", "verdict", "value [95 %]", "row", "why"]), ""]


# -- the appendix ---------------------------------------------------------------------------------------------

def _by_recipe(rows: list[dict]) -> list[dict]:
    order = {}
    for r in rows:
        order.setdefault(r["recipe"], len(order))
    return sorted(rows, key=lambda r: order[r["recipe"]])


def _marks(rows: list[dict]) -> tuple[dict, list[str]]:
    """Marks of the rows that are exceptions ({row name: marks}; a quality mark under "<name>/quality"), and their
    legends."""
    marks, legends = {}, []
    judged = [r for r in rows if r.get("reached_quality") is not None]
    quality, legend = mark_exceptions(judged, lambda r: r["reached_quality"] is False, "↓",
                                      "trained a model below the guide's quality: their figures do not count",
                                      "at the guide's quality")
    marks.update({f"{name}/quality": sym for name, sym in quality.items()})
    if legend:
        legends.append(legend)
    for has, mark, meaning, opposite in (
            (lambda r: r.get("under_interference"), "‡", "were measured mostly under interference",
             "not"),
            (lambda r: r.get("copies_every_byte") is False, "∅", "serve their bytes without copying them",
             "copying every byte"),
            (lambda r: bool(r.get("modes")), "≋", "ran at separated speeds (their modes are below; the figure is "
             "the fastest mode holding a fifth of the rounds)", "at one speed")):
        m, legend = mark_exceptions(rows, has, mark, meaning, opposite)
        for name, sym in m.items():
            marks[name] = marks.get(name, "") + sym
        if legend:
            legends.append(legend)
    return marks, legends


def data_table(rows: list[dict], marks: dict) -> str:
    body = [[r["recipe"], _code(r["name"]) + (" " + marks[r["name"]] if r["name"] in marks else ""),
             _f(r["examples_per_s"]) + _pm(r.get("ci_half_width")), _f(r["mb_per_s"]), _sig(r["pct_of_limit"]),
             _x(r.get("speedup_vs_guide"), r.get("speedup_vs_guide_ci95")) if not r.get("is_guide") else "guide",
             _code(r["slowest_stage"]) if r.get("slowest_stage") else "-",
             _f((r.get("time_to_first_batch_s") or 0) * 1e3, "{:.1f}"), f"{r['rounds']}/{r.get('passes', 1)}"]
            for r in _by_recipe(rows)]
    return _table(body, ["recipe", "row", "examples/s", "MB/s", "% copy BW", "× guide [95 %]", "slowest stage",
                         "first batch ms", "rounds/passes"])


def training_table(rows: list[dict], marks: dict) -> str:
    body = [[r["recipe"], _code(r["name"]) + (" " + marks[r["name"]] if r["name"] in marks else ""),
             _f(r["examples_per_s"]) + _pm(r.get("ci_half_width")), _f(r.get("ms_per_step_p50"), "{:.3f}"),
             _sig(r.get("pct_of_limit")),
             _x(r.get("speedup_vs_guide"), r.get("speedup_vs_guide_ci95")) if not r.get("is_guide") else "guide",
             _f(r.get("input_wait_share"), "{:.0%}"),
             _f(r.get("accuracy"), "{:.3f}") + (" " + marks[r["name"] + "/quality"] if r["name"] + "/quality" in marks
                                                 else ""),
             _f(r.get("compile_and_first_step_s"), "{:.1f}"), f"{r['rounds']}/{r.get('passes', 1)}"]
            for r in _by_recipe(rows)]
    return _table(body, ["recipe", "row", "examples/s", "ms/step", "MFU %", "× guide [95 %]", "input wait",
                         "accuracy", "compile s", "rounds/passes"])


def io_table(rows: list[dict], marks: dict) -> str:
    body = [[r["recipe"], _code(r["name"]) + (" " + marks[r["name"]] if r["name"] in marks else ""),
             _f(r["file_bytes"] / 1e6, "{:.3f}"), _f(r["examples_per_s"], "{:,.1f}") + _pm(r.get("ci_half_width")),
             _f(r["mb_per_s"], "{:,.1f}"), _sig(r["pct_of_limit"]), f"{r['rounds']}/{r.get('passes', 1)}"]
            for r in _by_recipe(rows)]
    return _table(body, ["recipe", "row", "file MB", "files/s", "MB/s", "% of FS limit", "rounds/passes"])


def rows_section(report: dict) -> list[str]:
    parts = ["### Every row", "",
             "examples/s: the median with its 95 % interval (±); `× guide`: the median per-round ratio to the guide's "
             "row measured in the same rounds; MFU: the model's matmul FLOPs per second over the measured peak; "
             "input wait: 1 − rate / rate of the compute-only twin; accuracy: held-out, after the warm-up epoch.", ""]
    rows = [r for t in TABLES for r in report.get(t, [])]
    marks, legends = _marks(rows)
    if legends:
        parts += [" ".join(legends), ""]
    for title, table, render in (("tf.data", "data", data_table), ("Training, evaluation and prediction", "training",
                                                                    training_table), ("Saving and loading", "io", io_table)):
        if report.get(table):
            parts += [f"#### {title}", "", render(report[table], marks), ""]
    parts += modes_section(rows)
    eff = [r for r in report.get("training", []) if r.get("scaling_efficiency") is not None]
    if eff:
        parts += ["Distribution rows share this machine's cores: E_N shows what the strategy costs, not a speed-up: "
                  + "; ".join(f"{_code(r['name'])} E_N = {r['scaling_efficiency']:.2f}" for r in eff) + ".", ""]
    return parts


def modes_section(rows: list[dict]) -> list[str]:
    """The rows whose rounds fell into separated speeds (benchmarks/modes.py): every mode, never a median between."""
    multi = [r for r in rows if r.get("modes")]
    if not multi:
        return []
    lines = []
    for r in multi:
        found = " and ".join(f"{_f(m['examples_per_s'])}/s ({m['share']:.0%} of the rounds)" for m in r["modes"])
        lines.append(f"- {_code(r['name'])}: {len(r['modes'])} modes, {found}; {r.get('mode_switches', 0)} switches "
                     f"between consecutive rounds; the figure is the mode of "
                     f"{_f(r['modes'][r['headline_mode']]['examples_per_s'])}/s")
    return ["Rows at separated speeds: each speed is steady, and which one a round gets is the runtime's state "
            "(docs/benchmark-noise.md), so each is reported with its share instead of a median between them:", "",
            *lines, ""]


def ladder_section(report: dict) -> list[str]:
    parts = []
    for r in report.get("data", []):
        if r.get("ladder") and r.get("ladder_kind") == "every stage":
            stages = " → ".join(f"{_code(s['stage'])} {_f(s['examples_per_s'])}/s"
                                + (f" ({s['cost_us_per_example']:+.2f} µs)" if s["cost_us_per_example"] is not None
                                   else "") for s in r["ladder"])
            parts.append(f"- {_code(r['name'])}: {stages}")
    for lad in report.get("ladders") or []:
        fmt = "{:.3f}" if lad["unit"] == "ms/step" else "{:.1f}"
        rungs = " → ".join(f"{g['label']}: {_f(g['value'], fmt)} ({_x(g.get('x_guide'), None)} guide)"
                           for g in lad["rungs"])
        parts.append(f"- **{lad['ladder']}** ({lad['unit']}): {rungs}")
    if not parts:
        return []
    return ["### Stage ladders and what each tuning gave", "",
            "A stage's cost is what it adds per example (graph consumer); a tuning's rungs are rows read in order.",
            "", *parts, ""]


def evidence_section(report: dict) -> list[str]:
    parts = []
    for t in report.get("targets") or []:
        parts += [f'<a id="target-{t["key"].replace("_", "-")}"></a>', "",
                  f"- **{t['target']}** ({t['verdict']}): {t['evidence']}.", ""]
    return ["### Evidence for the targets", "", *parts] if parts else []


def limits_section(lim: dict) -> list[str]:
    cb = lim["details"]["copy_bandwidth"]
    rows = [["copy bandwidth", _f(lim["copy_bandwidth_bytes_per_s"] / 1e9, "{:.2f}") + " GB/s",
             f"best: {cb.get('best_config')}"]]
    for dev, by in lim["details"]["matmul_peak"].items():
        for dt, v in by.items():
            rows.append([f"matmul {dev.rsplit('/', 1)[-1]} {dt}",
                         _f(lim["matmul_peak_flop_per_s"][dev][dt] / 1e9, "{:.1f}") + " GFLOP/s",
                         f"best: {v.get('best_set')}"])
    theo = lim.get("theoretical") or {}
    if lim.get("theoretical_flop_per_s"):
        implied = theo.get("implied_mhz")
        rows.append(["declared float32 peak", _f(lim["theoretical_flop_per_s"] / 1e9, "{:.1f}") + " GFLOP/s",
                     "an upper bound" if theo.get("upper_bound") else
                     "at the nominal clock" + (f"; the measured peak implies {implied:,.0f} MHz" if implied else "")])
    for kind, key in (("write", "fs_write_bytes_per_s"), ("read", "fs_read_bytes_per_s")):
        rows.append([f"file-system {kind}", _f((lim.get(key) or 0) / 1e9, "{:.2f}") + " GB/s" if lim.get(key)
                     else "not measured", "best page-cache probe"])
    parts = ["### Limits", "", _table(rows, ["limit", "value", "which"]), "",
             f"Copy: {cb['method']}. Matmul: {next(iter(next(iter(lim['details']['matmul_peak'].values())).values()))['method']}. "
             f"File system: {lim['fs_probes']['method']}. Declared peak: {theo.get('formula', 'not readable')}; "
             "no percentage uses it.", ""]
    if lim.get("history"):
        parts += ["Measured again before each section (the run's best is the limit):", "",
                  _table([[h["when"], _f(h["copy_bytes_per_s"] / 1e9, "{:.2f}"),
                           _f(h["matmul_flop_per_s"].get(lim["primary_device"], {}).get("float32", 0) / 1e9, "{:.1f}")]
                          for h in lim["history"]], ["when", "copy GB/s", "matmul GFLOP/s"]), ""]
    return parts


def groups_section(report: dict) -> list[str]:
    """One line per group over its passes; the groups that finished within ±5 % before their share was spent are
    the exception and say so."""
    by: dict[str, list[dict]] = {}
    for g in report.get("groups", []):
        by.setdefault(g["group"], []).append(g)
    if not by:
        return []
    spent = sum(1 for gs in by.values() for g in gs if g["budget_spent"])
    total = sum(len(gs) for gs in by.values())
    body = [[name, len(gs), sum(g["rounds"] for g in gs), _f(sum(g["measured_s"] for g in gs), "{:.1f}"),
             _f(sum(g.get("setup_s") or 0 for g in gs), "{:.1f}"),
             _f(sum(g["budget_s"] for g in gs), "{:.1f}"),
             ", ".join(str(g["pass"]) for g in gs if not g["budget_spent"]) or "-"] for name, gs in by.items()]
    budget = report.get("budget") or {}
    left_out = budget.get("passes_left_out") or []
    return ["### Groups and the budget", "",
            f"{spent} of {total} group passes ended when their share of the budget was spent; the last column names the "
            f"passes that reached ±5 % first. {budget.get('passes_made', '?')} of {budget.get('passes_planned', '?')} "
            "passes made" + (f" ({', '.join(left_out)} left out: the budget)" if left_out else "") + ".", "",
            _table(body, ["group", "passes", "rounds", "measured s", "set-up s", "share s", "done early in pass"]), ""]


def selfcheck_section(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    return ["### Harness self-check", "",
            "The tf.data performance guide's artificial dataset (30 ms to open a file, 15 ms per read, 10 ms per "
            "step, 30 ms per map, 3 samples, 2 epochs) against its closed-form times.", "",
            _table([[r["name"], _f(r["expected_s"] * 1e3, "{:.0f}"), _f(r["measured_s"] * 1e3, "{:.0f}"),
                     _f(r["corrected_over_expected"], "{:.3f}"), _f(r["cv"], "{:.1%}")] for r in rows],
                   ["pipeline", "expected ms", "measured ms", "measured / (expected + start-up)", "CV"]), ""]


def not_measured_section(report: dict) -> list[str]:
    """What was skipped and why, and the recipes without rows of their own; each reason once, with whatever it
    applies to."""
    by_reason: dict[str, list[str]] = {}
    for s in report.get("skipped", []):
        if s["section"] != "passes":
            by_reason.setdefault(s["reason"], []).append(s["name"])
    for e in report.get("recipes", []):
        if not e.get("best"):
            by_reason.setdefault(e["note"], []).append(e["recipe"])
    if not by_reason:
        return []
    return ['<a id="recipes-without-rows"></a>', "", "### Not measured here", "",
            *[f"- {', '.join(map(_code, names))}: {reason}" for reason, names in by_reason.items()], ""]


def machine_speed_lines(speed: dict | None) -> list[str]:
    """What the machine's speed probe saw (benchmarks/machine_speed.py); nothing for a report without probes."""
    if not speed:
        return []
    slow = (f", at {speed['slowed_speed']:.0%} of its full speed (median)" if speed.get("slowed_speed") else "")
    return [f"The machine's own speed: {speed['probe']}. Its full speed is the {speed['reference_quantile']:.0%} "
            f"quantile of the run's probes; a round whose probe ran below {speed['slowed_below']:.0%} of it is slowed. "
            f"The machine ran slowed around {speed['rounds_slowed']} of {speed['rounds']} rounds "
            f"({speed['slowed_share']:.0%}){slow}; a row's figure leaves them out when it has enough others, as it "
            "leaves out rounds under interference (docs/benchmark-noise.md).", ""]


def run_section(report: dict) -> list[str]:
    plan, prov, s = report["plan"], report.get("provenance", {}), report["summary"]
    parts = ["### The run and the method", ""]
    if report.get("environment"):
        parts += ["```", *header_lines(report["environment"]), "```", ""]
    budget = report.get("budget") or {}
    parts += [f"Command `{' '.join(prov.get('command_line', []))}`, commit `{prov.get('git_commit', '?')}`. "
              f"{plan['passes']} planned pass(es) of every group, each in a process of its own; per pass a warm-up round, "
              f"then rounds round-robin until each row's interval is within ±{plan['target_half_width']:.0%} or its "
              f"share of the budget is spent. Interval: {plan['interval']}. Rounds under interference: "
              f"{report['interference_rule']}; a row uses its clean rounds when it has at least "
              f"{plan['min_rounds_for_interval']}. Threads: intra-op {report['threads'].get('intra_op_parallelism_threads')}, "
              f"inter-op {report['threads'].get('inter_op_parallelism_threads')}. Peak memory: "
              f"{report.get('peak_rss_method')}. No timing is asserted.", ""]
    if budget.get("budget_s"):
        parts += [f"Budget: {budget['method']}", ""]
    parts += machine_speed_lines(report.get("machine_speed"))
    if s.get("median_pass_medians_sd") is not None:
        parts += [f"Drift between passes: a row's pass medians differ by {s['median_pass_medians_sd']:.1%} (median "
                  f"standard deviation); for {s['rows_width_from_passes']} of {s['rows']} rows that spread sets the "
                  "interval's width.", ""]
    return parts + [f"- {n}" for n in report.get("notes", [])] + ([""] if report.get("notes") else [])


def markdown(report: dict, plots: list[str] = (), plots_note: str | None = None) -> str:
    if "plan" not in report:  # only a cluster run's rows (python -m benchmarks.cluster before pytest benchmarks)
        return "# Benchmarks\n\n" + "\n".join(cluster_section.markdown(report.get("cluster")))
    parts = ["# Benchmarks: the guide's recipes on this machine", "", *headline(report), ""]
    if report.get("checks"):
        parts += ["## The report's checks FAILED", "", *[f"- {c}" for c in report["checks"]], ""]
    parts += recipe_table(report) + quality_table(report) + targets_table(report)
    if plots:
        parts += ["## Plots", "", *[f"![{p}]({p})" for p in plots], ""]
    parts += ["## Appendix", ""]
    parts += rows_section(report) + ladder_section(report) + evidence_section(report) + limits_section(report["limits"])
    parts += groups_section(report) + selfcheck_section(report.get("selfcheck") or [])
    parts += not_measured_section(report) + run_section(report)
    if not plots and plots_note:
        parts += [f"Plots: {plots_note}.", ""]
    parts += cluster_section.markdown(report.get("cluster"))  # rows of python -m benchmarks.cluster, if any
    return "\n".join(parts)


# -- plots (optional: matplotlib is an extra) -----------------------------------------------------------------

WIDTH_IN, DPI = 8.8, 100   # 880 pixels: GitHub shows a README-width image at about that size, unscaled


def _bars(ax, labels, values, cis, colors, hatches=None, bands: int = 0):
    """Horizontal bars with their intervals, the first at the top; `bands` empty rows above them hold the limit
    lines' labels, so that no label lies on a bar."""
    ys = [y + bands for y in range(len(labels))]
    below = [max(0.0, v - (ci[0] if ci and ci[0] is not None else v)) for v, ci in zip(values, cis)]
    above = [max(0.0, (ci[1] if ci and ci[1] is not None else v) - v) for v, ci in zip(values, cis)]
    bars = ax.barh(ys, values, xerr=[below, above], color=colors, capsize=3)
    for bar, hatch in zip(bars, hatches or []):
        bar.set_hatch(hatch)
    ax.set_yticks(ys, labels, fontsize=9)
    ax.set_ylim(len(labels) + bands - 0.5, -0.6)   # inverted: the first bar at the top, the bands above it


def _limit_line(ax, x: float, label: str, band: int, style: str = "-") -> None:
    """A limit as a vertical line, labelled horizontally inside the axes, in its own band above the bars, ending
    at the line (a rotated label at the axes' edge was cut by the figure and ran into the axis title)."""
    ax.axvline(x, color="black", ls=style, lw=1.2)
    ax.annotate(label, xy=(x, band), xycoords="data", xytext=(-4, 0), textcoords="offset points", ha="right",
                va="center", fontsize=9, bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"})


def plots(report: dict, out: Path) -> tuple[list[str], str | None]:
    """PNG files written, or ([], why not)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], NO_MATPLOTLIB
    written = []
    lim = report["limits"]
    data = [e for e in report.get("recipes", []) if e.get("section") == "data" and e.get("best")]
    if data:
        labels, values, cis, colors = [], [], [], []
        for e in data:
            for which, color in (("guide", "#9e9e9e"), ("best", "#1f77b4")):
                row = next((r for r in report["data"] if r["name"] == (e[which] or {}).get("row")), None)
                if row is None or (which == "guide" and e.get("best_is_guide")):
                    continue
                labels.append(f"{e['recipe']} {'guide' if which == 'guide' else 'best'}")
                values.append(row["pct_of_limit"])
                cis.append(row.get("pct_of_limit_ci95"))
                colors.append(color)
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.5 + 0.3 * (len(labels) + 1)))
        _bars(ax, labels, values, cis, colors, bands=1)
        ax.set_xscale("log")
        ax.set_xlim(min(v for v in values if v) / 3, 300)
        _limit_line(ax, 100, f"copy bandwidth {lim['copy_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s = 100 %", band=0)
        ax.set_xlabel("% of the copy bandwidth measured in this run (log; bars: 95 % interval)", fontsize=10)
        ax.set_title("tf.data: the guide's pipeline (grey) and the best tuned one (blue)", fontsize=11)
        written.append(_save(fig, out, "benchmarks_data.png", plt))
    train = [r for r in report["training"] if not r.get("distributed") and r.get("pct_of_limit") is not None
             and r.get("model") == "quickstart"]
    if train:
        target = next((t for t in report.get("targets", []) if t["key"] == "training_mfu_pct"), None)
        bands = 2 if target else 1
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.5 + 0.3 * (len(train) + bands)))
        low = [r.get("reached_quality") is False for r in train]
        _bars(ax, [r["name"] for r in train], [r["pct_of_limit"] for r in train],
              [r.get("pct_of_limit_ci95") for r in train], ["#d9d9d9" if x else "#1f77b4" for x in low],
              ["//" if x else "" for x in low], bands=bands)
        peak = lim["matmul_peak_flop_per_s"][lim["primary_device"]]["float32"]
        _limit_line(ax, 100, f"matmul peak {peak / 1e9:.0f} GFLOP/s = 100 %", band=0)
        if target:
            _limit_line(ax, target["threshold"], f"target {target['threshold']:g} %", band=1, style="--")
        ax.set_xlim(0, 110)
        ax.set_xlabel("% of the measured matmul peak (bars: 95 % interval; hatched: below the guide's quality)",
                      fontsize=10)
        ax.set_title("Training the quickstart model", fontsize=11)
        written.append(_save(fig, out, "benchmarks_training.png", plt))
    return written, None


def _save(fig, out: Path, name: str, plt) -> str:
    fig.tight_layout()
    with atomic.replacing(out / name) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)
    return name


def read(report_dir: Path) -> dict:
    """DIR/benchmarks.json (written by `pytest benchmarks`) with the rows of DIR/cluster.json (written by `python -m
    benchmarks.cluster`) as its `cluster` section: each file has one writer, and this reads both. Either may be
    missing, not both; a benchmarks.json from before cluster.json existed keeps the cluster rows it holds."""
    report_dir = Path(report_dir)
    bench, cluster = report_dir / "benchmarks.json", report_dir / "cluster.json"
    report = {} if cluster.exists() and not bench.exists() else contracts.load(bench, "benchmarks")
    if cluster.exists():
        report["cluster"] = contracts.load(cluster, "cluster")["cluster"]
    return report


def write(report_dir: Path) -> list[Path]:
    """DIR/benchmarks.md and the plots, from DIR/benchmarks.json and DIR/cluster.json (read)."""
    report_dir = Path(report_dir)
    report = read(report_dir)
    pngs, note = plots(report, report_dir) if "plan" in report else ([], None)
    atomic.write_text(report_dir / "benchmarks.md", markdown(report, pngs, note))
    return [report_dir / "benchmarks.md", *(report_dir / p for p in pngs)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m reports benchmarks DIR  (renders DIR/benchmarks.json and DIR/cluster.json into "
              "benchmarks.md and plots)",
              file=sys.stderr)
        return 0 if argv in (["-h"], ["--help"]) else 2
    try:
        written = write(Path(argv[0]))
    except (OSError, ValueError) as exc:  # contracts.ContractError (a ValueError) names the file
        print(f"python -m reports benchmarks: {exc}", file=sys.stderr)
        return 2
    print("\n".join(map(str, written)))
    return 0
