"""Fixtures of `pytest benchmarks`: the plan, the machine's limits, the row recorder and the report.

Benchmarks run in one process: under pytest-xdist several workers would share the cores and every
timing would measure the neighbours too, so `-n`/`--dist` is refused, not silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.harness import Plan, Recorder

XDIST_REFUSAL = ("pytest benchmarks must run in a single process: drop -n/--dist (pytest-xdist workers would share "
                 "the cores and every timing would include the other workers' work). Run `pytest benchmarks` "
                 "or `pytest benchmarks --quick` on its own.")


def _under_xdist(config: pytest.Config) -> bool:
    if hasattr(config, "workerinput"):
        return True
    numprocesses = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    return bool(numprocesses) or (dist not in (None, "no"))


def pytest_configure(config):
    if _under_xdist(config):
        raise pytest.UsageError(XDIST_REFUSAL)


def pytest_collection_modifyitems(session, config, items):
    # The same refusal if benchmarks are collected as part of a wider xdist run (e.g. `pytest -n 2 suite benchmarks`).
    if _under_xdist(config) and any(Path(str(i.path)).parent.name == "benchmarks" for i in items):
        raise pytest.UsageError(XDIST_REFUSAL)


def pytest_generate_tests(metafunc):
    # Every tf.data benchmark runs over the plan's batch sizes and consumers: the in-memory source
    # (a module with IN_MEMORY = True) over the wider range, file sources over theirs.
    if {"batch_size", "consumer"} <= set(metafunc.fixturenames):
        plan = Plan.for_run(bool(metafunc.config.getoption("quick")))
        in_memory = getattr(metafunc.module, "IN_MEMORY", False)
        metafunc.parametrize("batch_size", plan.numpy_batches if in_memory else plan.file_batches,
                             ids=lambda b: f"b{b}")
        metafunc.parametrize("consumer", plan.consumers if in_memory else plan.file_consumers)


@pytest.fixture(scope="session")
def plan(pytestconfig) -> Plan:
    return Plan.for_run(bool(pytestconfig.getoption("quick")))


@pytest.fixture(scope="session")
def progress(pytestconfig):
    """A progress line on the terminal, printed at once even while pytest captures output."""
    terminal = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")

    def line(text: str) -> None:
        if terminal is None:
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
    """Every benchmark adds its rows here; at the end of the session the reports are written from it."""
    from benchmarks import limits as limits_mod
    from reports.environment import for_config

    env = for_config(pytestconfig)  # before any benchmark: the fingerprint's own matmul is not timed
    rec = Recorder(plan=plan, progress=progress)
    from benchmarks.datasets import _fashion_cache_dir, real_fashion_mnist_cached

    rec.notes.append(
        "Images: Fashion-MNIST from the Keras cache." if real_fashion_mnist_cached() else
        "Images: synthetic Fashion-MNIST-shaped data (28x28 uint8, labels 0..9, seeded, learnable), because the "
        f"real dataset is not cached in {_fashion_cache_dir()} and the benchmarks never download. Accuracy "
        "figures are on its held-out part; throughput does not depend on the pixel values.")
    progress(f"[bench] {'quick smoke run' if plan.quick else 'full run'}: {plan.rounds} measured rounds after "
             f"{plan.warmup_rounds} warm-up round(s) per row; measuring this machine's limits first")
    rec.limits = limits_mod.measure(tf, plan.quick, progress)
    yield rec
    from reports import benchmarks as report

    report_dir = Path(pytestconfig.getoption("report_dir"))
    written = report.write(report.build(rec, env), report_dir)
    progress("[bench] wrote " + ", ".join(str(p) for p in written))


@pytest.fixture(scope="session")
def limits(recorder) -> dict:
    return recorder.limits


@pytest.fixture(autouse=True)
def _limits_first(recorder):
    # Every benchmark depends on the recorder, so the limits are measured before the first row.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    yield
