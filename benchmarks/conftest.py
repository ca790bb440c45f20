"""Fixtures of `pytest benchmarks`: the plan, the machine's limits, the recorder, passes and the report.

Benchmarks run in one process: under pytest-xdist several workers would share the cores and every
timing would measure the neighbours too, so `-n`/`--dist` is refused, not silently ignored.

A full run makes several passes (Plan.passes) over every group of rows (benchmarks/rounds.py): the tests
of pass 1 of every module run first, then the rows measured once (distribution, Estimators, self-check),
then passes 2..P, each in a FRESH PROCESS (benchmarks/bench_later_passes.py): a new process draws new luck
(code and data addresses, thread pools, allocator state) that no pass inside one process can, the passes
sample the machine minutes apart, and their rounds are pooled. Within a pass the modules run by their SLOT: data,
training, io; the limits are measured at the start of each process and again before every slot.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pytest

from benchmarks.harness import Plan, Recorder

ROOT = Path(__file__).resolve().parents[1]
# A module's SLOT says when it runs: within a pass its tf.data, then training, then save/load groups; the rows
# measured once after pass 1; the later passes last.
SLOT_ORDER = {"data": 0, "training": 1, "io": 2, "once": 3, "last": 4}
XDIST_REFUSAL = ("pytest benchmarks must run in a single process: drop -n/--dist (pytest-xdist workers would share "
                 "the cores and every timing would include the other workers' work). Run `pytest benchmarks` "
                 "or `pytest benchmarks --quick` on its own.")
_STATE: dict = {}


def _under_xdist(config: pytest.Config) -> bool:
    if hasattr(config, "workerinput"):
        return True
    numprocesses = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    return bool(numprocesses) or (dist not in (None, "no"))


def pytest_addoption(parser):
    # Internal: passes 2..P of a full run run these tests in a child process each and hand their rounds back.
    group = parser.getgroup("tfguide-benchmarks")
    group.addoption("--bench-child-pass", type=int, default=None, help=argparse.SUPPRESS)
    group.addoption("--bench-child-out", default=None, help=argparse.SUPPRESS)


def child_pass(config) -> int | None:
    return config.getoption("bench_child_pass", None)


def pytest_configure(config):
    if _under_xdist(config):
        raise pytest.UsageError(XDIST_REFUSAL)
    # The thread configuration must be set before TensorFlow starts its runtime, which the pytest header's
    # environment fingerprint does (it runs a matmul).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from benchmarks.machine import fix_threads

    _STATE["threads"] = fix_threads(tf)
    _STATE["started"] = time.perf_counter()


def pytest_collection_modifyitems(session, config, items):
    # The same refusal if benchmarks are collected as part of a wider xdist run (e.g. `pytest -n 2 suite benchmarks`).
    bench = [i for i in items if Path(str(i.path)).parent.name == "benchmarks"]
    if _under_xdist(config) and bench:
        raise pytest.UsageError(XDIST_REFUSAL)
    if not bench:
        return
    # Pass 1 of every group, then the rows measured once, then passes 2..P (a child process each); sections in
    # order.
    index = {id(item): n for n, item in enumerate(items)}

    def pass_of(item):
        callspec = getattr(item, "callspec", None)
        return callspec.params.get("bench_pass") if callspec else None

    def order(item):
        bench_pass = pass_of(item)
        slot = getattr(item.module, "SLOT", "once")
        phase = bench_pass * 2 if bench_pass is not None else (3 if slot == "last" else 1)
        return (phase, SLOT_ORDER.get(slot, 3), index[id(item)])

    child = child_pass(config)
    keep, drop = [], []
    for item in items:
        p = pass_of(item)
        if child is not None:  # the child measures its pass and nothing else
            (keep if p == child else drop).append(item)
        else:
            (keep if p in (None, 0) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = sorted(keep, key=order)


def pytest_generate_tests(metafunc):
    if "bench_pass" in metafunc.fixturenames:
        plan = Plan.for_run(bool(metafunc.config.getoption("quick")))
        metafunc.parametrize("bench_pass", range(plan.passes), ids=lambda p: f"pass{p + 1}", indirect=True)


@pytest.fixture(scope="session")
def plan(pytestconfig) -> Plan:
    return Plan.for_run(bool(pytestconfig.getoption("quick")))


@pytest.fixture(scope="session")
def progress(pytestconfig):
    """A progress line on the terminal, printed at once even while pytest captures output."""
    terminal = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    started = _STATE.get("started", time.perf_counter())

    def line(text: str) -> None:
        text = f"{time.perf_counter() - started:6.0f}s {text}"
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
def recorder(pytestconfig, plan, progress, tf):
    """Every benchmark adds its rounds here; at the end of the session the reports are written from it."""
    from benchmarks import declaration, models
    from benchmarks import limits as limits_mod
    from benchmarks.datasets import data_note
    from tfguide.environment import for_config

    env = for_config(pytestconfig)  # before any benchmark: the fingerprint's own matmul is not timed
    rec = Recorder(plan=plan, progress=progress)
    rec.threads = dict(_STATE.get("threads", {}))
    rec.notes.append(data_note())
    child = child_pass(pytestconfig)
    if child is not None:
        rec.pass_index = child
    budget = sum(plan.budgets.values()) * plan.passes
    progress(f"[bench] {'quick smoke run' if plan.quick else 'full run'}: {plan.passes} pass(es); per group and pass "
             f"a warm-up round, then at least {plan.min_rounds_per_pass} rounds round-robin until each row's 95 % "
             f"interval is within ±{plan.target_half_width:.0%} (measuring budget {budget / 60:.1f} min in all, "
             f"plus warm-ups, compiles and the distribution processes); threads: intra-op "
             f"{rec.threads.get('intra_op_parallelism_threads')}, "
             f"inter-op {rec.threads.get('inter_op_parallelism_threads')}")
    declared = declaration.all_benchmarks()
    rec.limits = limits_mod.measure(tf, plan, progress, chunk_bytes=models.copy_chunk_bytes(plan, declared),
                                    model_sets=models.matmul_sets(plan, declared))
    _STATE["recorder"] = rec
    yield rec
    if child is not None:  # a child hands its rounds to the parent, which writes the report
        from benchmarks.passes import dump

        dump(rec, Path(pytestconfig.getoption("bench_child_out")))
        return
    from benchmarks import report

    report_dir = Path(pytestconfig.getoption("report_dir"))
    built = report.build(rec, env, wall_s=time.perf_counter() - _STATE.get("started", time.perf_counter()))
    written = report.write(built, report_dir)
    progress("[bench] wrote " + ", ".join(str(p) for p in written))
    problems = report.problems(report.load(report_dir / "benchmarks.json"))
    for p in problems:
        progress(f"[bench] REPORT CHECK FAILED: {p}")
    _STATE["problems"] = problems


def pytest_sessionfinish(session, exitstatus):
    # The written report is checked (every column present, no row beyond a limit by more than its own noise);
    # a failed check fails the run, like a failed test.
    if _STATE.get("problems") and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def limits(recorder) -> dict:
    return recorder.limits


@pytest.fixture
def bench_pass(request, recorder, tf, plan):
    """The pass this test measures in; the limits are measured again whenever a new slot or pass starts."""
    index = request.param
    slot = getattr(request.module, "SLOT", "once")
    recorder.pass_index = index
    last = _STATE.get("last_slot")
    if last is not None and last != (index, slot):
        from benchmarks.limits import remeasure

        remeasure(tf, recorder.limits, f"{slot} (pass {index + 1})", plan.quick, recorder.progress)
    _STATE["last_slot"] = (index, slot)
    return index
