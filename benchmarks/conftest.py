"""Fixtures of `pytest benchmarks`: the plan, the budget, the machine's limits, the recorder, passes and the report.

Benchmarks run in one process: under pytest-xdist several workers would share the cores and every
timing would measure the neighbours too, so `-n`/`--dist` is refused, not silently ignored.

Order of a run (each module's SLOT): the rows measured once (worker processes, the self-check, the Estimators,
time to quality), then pass 1 of every group - its tf.data, then training, then save/load groups - then, in a
full run, passes 2..P, one pytest item each (benchmarks/bench_later_passes.py), each measured in a FRESH
PROCESS: a new process draws new luck (code and data addresses, thread pools, allocator state) that no pass
inside one process can, the passes sample the machine minutes apart, and their rounds are pooled. What cannot
be scaled comes first, so that the budget (benchmarks/budget.py) shares what is left among what can. The
limits are measured at the start of each process and again before every slot. Every process has a deadline
and every round its own limit (benchmarks/watchdog.py).

A later pass's process is `pytest benchmarks --bench-child-pass K ...`: the same modules, only the tests that
measure per pass (those using the `bench_pass` fixture), which write their rounds to a file for the parent.
`python -m benchmarks.ab` starts the same processes with two interpreters.

pytest-benchmark: the microbenchmarks (benchmarks/micro/, marker `micro`) use its `benchmark` fixture, and once
the report is written every row of it is handed to pytest-benchmark's own session (benchmarks/export.py), so that
its options act on the whole run as they would on any benchmark: `--benchmark-autosave` (on by default in the
run's own process: `.benchmarks/` of the current directory, where pytest-benchmark and its `list`/`compare` look),
`--benchmark-save`, `--benchmark-json`, `--benchmark-compare`, `--benchmark-compare-fail`, `--benchmark-storage`,
its table and `--benchmark-histogram`. A flag that cannot work is refused at once with one line, never found out
after a 15-minute run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import pytest

from benchmarks import baton
from benchmarks import budget as budget_mod
from benchmarks import watchdog as watchdog_mod
from benchmarks.declaration import RECIPES
from benchmarks.harness import Plan, Recorder

ROOT = Path(__file__).resolve().parents[1]
# The folders of the timed modules: the engine's own (the self-check, the later passes) and the recipes' declarations.
BENCH_DIRS = (Path(__file__).resolve().parent, RECIPES)
# A module's SLOT says when it runs: the rows measured once first, then within pass 1 its tf.data, training and
# save/load groups; the later passes last.
SLOT_ORDER = {"once": 0, "data": 1, "training": 2, "io": 3, "last": 4}
PER_PASS = "bench_pass"   # the fixture of every test that measures in every pass
XDIST_REFUSAL = ("pytest benchmarks must run in a single process: drop -n/--dist (pytest-xdist workers would share "
                 "the cores and every timing would include the other workers' work). Run `pytest benchmarks` "
                 "or `pytest benchmarks --quick` on its own.")
MICRO = "benchmark"         # the fixture of every microbenchmark (pytest-benchmark's)
# pytest-benchmark's per-test time, when the command line leaves it at its default: the microbenchmarks' share of a
# quick run (3 minutes) stays at about ten seconds, and every test keeps enough rounds for a 95 % interval.
MICRO_MAX_TIME = {True: 0.25, False: 1.0}
MICRO_MIN_ROUNDS = {True: 6, False: 10}
_STATE: dict = {}


def _under_xdist(config: pytest.Config) -> bool:
    if hasattr(config, "workerinput"):
        return True
    numprocesses = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    return bool(numprocesses) or (dist not in (None, "no"))


def pytest_addoption(parser):
    group = parser.getgroup("tfguide-benchmarks")
    group.addoption("--budget", type=float, default=None, metavar="MINUTES",
                    help="benchmarks: the run's whole wall time, warm-ups, compiles and limits included "
                         f"(default {budget_mod.DEFAULT_MINUTES[False]:g}, with --quick "
                         f"{budget_mod.DEFAULT_MINUTES[True]:g})")
    # Internal: a pass in a process of its own (a full run's passes 2..P, python -m benchmarks.ab) measures the
    # per-pass tests only, by an absolute deadline (time.time()), and hands its rounds back in a file.
    group.addoption("--bench-child-pass", type=int, default=None, help=argparse.SUPPRESS)
    group.addoption("--bench-child-out", default=None, help=argparse.SUPPRESS)
    group.addoption("--bench-child-deadline", type=float, default=None, help=argparse.SUPPRESS)


def child_pass(config) -> int | None:
    return config.getoption("bench_child_pass", None)


def budget_minutes(config) -> float:
    minutes = config.getoption("budget", None)
    return budget_mod.DEFAULT_MINUTES[bool(config.getoption("quick"))] if minutes is None else minutes


def _terminal(config):
    """A context giving a file on the user's terminal, also while pytest captures output."""
    capture = config.pluginmanager.get_plugin("capturemanager")

    @contextlib.contextmanager
    def terminal():
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            yield sys.stderr

    return terminal


def _benchmark_session(config):
    """pytest-benchmark's session, or None when the plugin is not installed (or disabled with -p no:benchmark)."""
    return getattr(config, "_benchmarksession", None)


def _refuse_pytest_benchmark_flags(config) -> None:
    """pytest-benchmark's flags that could only fail at the end of the run are refused now, in one line each."""
    if config.getoption("benchmark_compare_fail", None) and not config.getoption("benchmark_compare", None):
        raise pytest.UsageError("--benchmark-compare-fail needs --benchmark-compare[=NNNN] (a run saved before in "
                                "--benchmark-storage, default .benchmarks/; `pytest-benchmark list` lists them)")
    if config.getoption("benchmark_histogram", None):
        try:
            import pygal  # noqa: F401
        except ImportError:
            raise pytest.UsageError("--benchmark-histogram needs pygal: pip install 'pytest-benchmark[histogram]' "
                                    "(or read the plots of benchmarks.md, `python -m reports benchmarks DIR`)") from None


def pytest_configure(config):
    if _under_xdist(config):
        raise pytest.UsageError(XDIST_REFUSAL)
    _refuse_pytest_benchmark_flags(config)
    if config.getoption("budget", None) is not None and config.getoption("budget") <= 0:
        raise pytest.UsageError("--budget takes a positive number of minutes")
    # A pass of python -m benchmarks.ab works only while it holds the baton, from before TensorFlow's import.
    baton.join()
    # The thread configuration must be set before TensorFlow starts its runtime, which the pytest header's
    # environment fingerprint does (it runs a matmul).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from benchmarks.machine import fix_threads, process_age_s

    _STATE["threads"] = fix_threads(tf)
    # The budget counts from the process's start: the interpreter and TensorFlow's import are part of the run.
    _STATE["started"] = time.monotonic() - process_age_s()


def pytest_sessionstart(session):
    """The run's own process saves its rows into pytest-benchmark's storage under --benchmark-autosave's name unless
    --benchmark-save/--benchmark-autosave say otherwise; a later pass's process saves nothing (the parent's file holds
    its rounds). The name is the checkout's commit (pytest-benchmark's own is the current directory's)."""
    bs = _benchmark_session(session.config)
    if bs is None:
        return
    if child_pass(session.config) is not None:
        bs.save = bs.autosave = bs.json = None
        return
    if bs.compare_fail and not bs.compared_mapping:
        raise pytest.UsageError(f"--benchmark-compare-fail: no saved run matches --benchmark-compare in {bs.storage} "
                                f"(`pytest-benchmark --storage {bs.storage} list` lists them)")
    if not (bs.save or bs.autosave) and not bs.disabled:
        from pytest_benchmark.utils import get_current_time

        from tfguide.provenance import NOT_A_CHECKOUT, git_state

        commit, dirty = git_state(ROOT)
        bs.autosave = "_".join([commit if commit != NOT_A_CHECKOUT else "unversioned", get_current_time()]
                               + (["uncommitted-changes"] if dirty else []))


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_commit_info(config, commit_info):
    """The checkout's commit, not the current directory's (pytest-benchmark asks git where pytest was started)."""
    from tfguide.provenance import NOT_A_CHECKOUT, git_state

    commit, dirty = git_state(ROOT)
    if commit != NOT_A_CHECKOUT:
        commit_info.update(id=commit, dirty=bool(dirty))


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config, machine_info):
    """What changes these figures besides the machine: the TensorFlow and Keras under test (a comparison of two
    runs with different ones says so: pytest-benchmark warns when machine_info differs)."""
    from importlib import metadata

    for name in ("tensorflow", "tensorflow-cpu", "tf-nightly", "keras", "tf-keras"):
        try:
            machine_info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass


def _budget_seconds(config) -> float:
    deadline = config.getoption("bench_child_deadline", None)
    if child_pass(config) is not None and deadline is not None:
        return deadline - time.time() + (time.monotonic() - _STATE["started"])
    return 60.0 * budget_minutes(config)


def slot_of(item) -> str:
    """When an item runs: its test's own slot (declaration.slot), else its module's SLOT."""
    return getattr(getattr(item, "function", None), "slot", None) or getattr(item.module, "SLOT", "once")


def _scalable(item) -> bool:
    """Within a slot, what the budget cannot scale (worker processes, the self-check) runs first."""
    declared = getattr(item.module, "BENCHMARK", None)
    return bool(declared and declared.budgets)


def pytest_collection_modifyitems(session, config, items):
    # The same refusal if benchmarks are collected as part of a wider xdist run (e.g. `pytest -n 2 suite benchmarks`).
    bench = [i for i in items if Path(str(i.path)).parent in BENCH_DIRS]
    if _under_xdist(config) and bench:
        raise pytest.UsageError(XDIST_REFUSAL)
    _configure_micro(config, items)
    if not bench:
        return
    index = {id(item): n for n, item in enumerate(items)}
    child = child_pass(config) is not None
    if child:  # the process of one pass measures that pass and nothing else
        drop = [i for i in items if PER_PASS not in getattr(i, "fixturenames", ())]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = [i for i in items if PER_PASS in getattr(i, "fixturenames", ())]
    items.sort(key=lambda item: (SLOT_ORDER.get(slot_of(item), 0), _scalable(item), index[id(item)]))
    _STATE["budget"] = _make_budget(config, items, child)


def _is_micro(item) -> bool:
    return MICRO in getattr(item, "fixturenames", ())


def _configure_micro(config, items) -> None:
    """The microbenchmarks' time per test and rounds, unless the command line set them (pytest-benchmark's options
    win then); without pytest-benchmark they are skipped, saying why."""
    quick = bool(config.getoption("quick"))
    if _benchmark_session(config) is None:
        skip = pytest.mark.skip(reason="pytest-benchmark is not installed (pip install pytest-benchmark)")
        for item in items:
            if _is_micro(item):
                item.add_marker(skip)
        return
    settings = {}
    if str(config.getoption("benchmark_max_time")) == "1.0":       # pytest-benchmark's default
        settings["max_time"] = MICRO_MAX_TIME[quick]
    if config.getoption("benchmark_min_rounds") == 5:              # likewise
        settings["min_rounds"] = MICRO_MIN_ROUNDS[quick]
    for item in items:
        if _is_micro(item) and settings and item.get_closest_marker("benchmark") is None:
            item.add_marker(pytest.mark.benchmark(**settings))


def _make_budget(config, items, child: bool) -> budget_mod.Budget:
    """The budget of this process over the groups its items measure (their modules' declared budgets)."""
    quick = bool(config.getoption("quick"))
    plan = Plan.for_run(quick, child=child, paired=baton.active())
    weights, repeated = {}, set()
    _STATE["declared"] = list({id(d): d for i in items if (d := getattr(i.module, "BENCHMARK", None))}.values())
    for item in items:
        declared = getattr(item.module, "BENCHMARK", None)
        if declared is None:
            continue
        per_pass = any(PER_PASS in getattr(i, "fixturenames", ()) for i in items if i.module is item.module)
        for group in declared.budgets:
            if group in declared.measured_once and child:
                continue
            weights[group] = plan.budget(group)
            if per_pass and group not in declared.measured_once:
                repeated.add(group)
    total = _budget_seconds(config)
    return budget_mod.Budget(total_s=total, weights=weights, repeated=frozenset(repeated), started=_STATE["started"],
                             reserve_s=budget_mod.CHILD_RESERVE_S if child else budget_mod.REPORT_RESERVE_S[quick],
                             later_passes=0 if child else plan.passes - 1, kind="later" if child else "first")


def pytest_runtestloop(session):
    """The process's deadline starts being watched once the items are known (benchmarks/watchdog.py)."""
    budget = _STATE.get("budget")
    if budget is not None and "watchdog" not in _STATE:
        _STATE["watchdog"] = watchdog_mod.Watchdog(budget.started + watchdog_mod.process_deadline_s(budget.total_s),
                                                   _terminal(session.config)).start()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    budget, watchdog = _STATE.get("budget"), _STATE.get("watchdog")
    if not _is_micro(item):  # a microbenchmark before a section must not hide the section's start (its limits)
        _STATE["previous_slot"], _STATE["current_slot"] = _STATE.get("current_slot"), slot_of(item)
    if budget is not None:
        budget.item_started = budget.clock()
    if watchdog is not None:
        watchdog.item = item.nodeid


def pytest_generate_tests(metafunc):
    if "later_pass" in metafunc.fixturenames:  # benchmarks/bench_later_passes.py: one item per later pass
        plan = Plan.for_run(bool(metafunc.config.getoption("quick")))
        metafunc.parametrize("later_pass", range(1, max(2, plan.passes)), ids=lambda p: f"pass{p + 1}")


@pytest.fixture(autouse=True)
def _within_budget(request):
    """A test whose turn comes once only the report's reserve is left is not run, and its groups are reported as not
    measured (benchmarks/budget.py): the run stays within its budget on a machine slower than the budget assumes."""
    budget, declared = _STATE.get("budget"), getattr(request.module, "BENCHMARK", None)
    if _is_micro(request.node):
        reason = micro_skip_reason(budget)
        if reason:
            if not _STATE.get("micro_skipped"):
                _STATE["micro_skipped"] = True
                progress = _STATE.get("recorder").progress if _STATE.get("recorder") else print
                progress(f"[bench] micro: skipped ({reason})")
            pytest.skip(reason)
        return
    if budget is None or declared is None or not declared.budgets or not budget.exhausted():
        return
    reason = (f"not measured: the {budget.total_s / 60:.1f}-min budget was spent before its turn "
              f"(--budget gives the run more)")
    recorder, skipped = _STATE.get("recorder"), _STATE.setdefault("skipped_groups", set())
    for group in declared.budgets:
        if recorder is not None and group in budget.weights and group not in budget.done and group not in skipped:
            skipped.add(group)
            recorder.skip(slot_of(request.node), group, reason, recipe=declared.recipe, budget=True)
    pytest.skip(reason)


def micro_skip_reason(budget) -> str | None:
    """Why a microbenchmark is not run now, or None. The budget plans no time for them (they are not a recipe's
    rows), so they run only while the run is not behind it: once the time left no longer covers the report and the
    set-up of the groups still to come, the rows come first. `pytest benchmarks/micro` has no budget; with
    `pytest benchmarks -m micro` only a run far past its budget would skip them."""
    if budget is not None and budget.behind():
        return (f"not measured: the run is behind its {budget.total_s / 60:.1f}-min budget, and the recipes' rows "
                f"come first (`pytest benchmarks -m micro` runs them alone)")
    return None


@pytest.fixture(scope="session")
def plan(pytestconfig) -> Plan:
    return Plan.for_run(bool(pytestconfig.getoption("quick")), child=child_pass(pytestconfig) is not None,
                        paired=baton.active())


@pytest.fixture(scope="session")
def budget() -> budget_mod.Budget:
    return _STATE["budget"]


@pytest.fixture(scope="session")
def watchdog() -> watchdog_mod.Watchdog | None:
    return _STATE.get("watchdog")


@pytest.fixture(scope="session")
def progress(pytestconfig):
    """A progress line on the terminal, printed at once even while pytest captures output."""
    terminal = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    started = _STATE.get("started", time.monotonic())

    def line(text: str) -> None:
        text = f"{time.monotonic() - started:6.0f}s {text}"
        if terminal is None or capture is None:
            print(text, flush=True)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(text)
            terminal.flush()

    return line


@pytest.fixture(scope="session")
def tf():
    import tensorflow as tf

    return tf


@pytest.fixture(scope="session")
def recorder(pytestconfig, plan, budget, watchdog, progress, tf):
    """Every benchmark adds its rounds here; at the end of the session the reports are written from it."""
    from benchmarks import declaration, models
    from benchmarks import limits as limits_mod
    from benchmarks.datasets import data_note
    from tfguide.environment import for_config

    env = for_config(pytestconfig)  # before any benchmark: the fingerprint's own matmul is not timed
    rec = Recorder(plan=plan, progress=progress, budget=budget, watchdog=watchdog)
    rec.threads = dict(_STATE.get("threads", {}))
    rec.environment = env
    rec.notes.append(data_note())
    child = child_pass(pytestconfig)
    if child is not None:
        rec.pass_index = child
    kind = f"pass {child + 1}, a process of its own" if child is not None else "quick smoke run" if plan.quick else \
        "full run"
    progress(f"[bench] {kind}: "
             f"budget {budget.total_s / 60:.1f} min, warm-ups, compiles and limits included; per group and pass a "
             f"warm-up round, then at least {plan.min_rounds_per_pass} rounds round-robin until each row's 95 % "
             f"interval is within ±{plan.target_half_width:.0%} or its share of the budget is spent; threads: "
             f"intra-op {rec.threads.get('intra_op_parallelism_threads')}, "
             f"inter-op {rec.threads.get('inter_op_parallelism_threads')}")
    # the limits' sweeps cover what the rows of this process do (a pass of an A/B may run a few recipes only)
    declared = _STATE.get("declared") or declaration.all_benchmarks()
    with rec.activity("measuring the limits", watchdog_mod.WARMUP_LIMIT_S):
        rec.limits = limits_mod.measure(tf, plan, progress, chunk_bytes=models.copy_chunk_bytes(plan, declared),
                                        model_sets=models.matmul_sets(plan, declared))
    budget.ready()
    _STATE["recorder"] = rec
    yield rec
    if child is not None:  # a child hands its rounds to the parent, which writes the report
        from benchmarks.passes import dump

        dump(rec, Path(pytestconfig.getoption("bench_child_out")))
        return
    from benchmarks import report

    report_dir = Path(pytestconfig.getoption("report_dir"))
    with rec.activity("writing the report", report.RENDER_TIMEOUT_S + 60):
        built = report.build(rec, env, wall_s=budget.elapsed())
        written = report.write(built, report_dir)
    progress("[bench] wrote " + ", ".join(str(p) for p in written)
             + f" ({budget.elapsed() / 60:.1f} min of the {budget.total_s / 60:.1f}-min budget)")
    problems = report.problems(report.load(report_dir / "benchmarks.json"))
    for p in problems:
        progress(f"[bench] REPORT CHECK FAILED: {p}")
    _STATE["problems"] = problems
    handed = _to_pytest_benchmark(pytestconfig, report.jsonable(built))
    if handed:
        progress(f"[bench] {handed} rows handed to pytest-benchmark (saved, compared and tabled at the end of the "
                 f"session: --benchmark-save/-autosave/-json/-compare)")


def _to_pytest_benchmark(config, built: dict) -> int:
    """Every row of the written report handed to pytest-benchmark's session (benchmarks/export.py): it then saves
    them with the microbenchmarks (one file per run), tables them and applies --benchmark-compare-fail. Not with
    --benchmark-disable, which asks for no statistics. How many."""
    bs = _benchmark_session(config)
    if bs is None or bs.disabled:
        return 0
    from benchmarks import export

    return export.into_session(bs, built)


def pytest_sessionfinish(session, exitstatus):
    # The written report is checked (every column present, no row beyond a limit by more than its own noise);
    # a failed check fails the run, like a failed test.
    if _STATE.get("problems") and session.exitstatus == 0:
        session.exitstatus = 1
    watchdog = _STATE.pop("watchdog", None)
    if watchdog is not None:
        watchdog.stop()


@pytest.fixture(scope="session")
def limits(recorder) -> dict:
    return recorder.limits


@pytest.fixture
def bench_pass(request, recorder, tf, plan):
    """The pass this test measures in (0 in the run's own process, K in the process of pass K + 1); the limits
    are measured again whenever a new slot starts."""
    slot, previous = _STATE.get("current_slot"), _STATE.get("previous_slot")
    if previous is not None and previous != slot:
        from benchmarks.limits import remeasure

        remeasure(tf, recorder.limits, f"{slot} (pass {recorder.pass_index + 1})", plan.quick, recorder.progress)
    return recorder.pass_index
