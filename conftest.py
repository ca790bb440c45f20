"""Root pytest configuration shared by suite/ (conformance specs) and benchmarks/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports TensorFlow: keep its C++ start-up chatter out of the test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Every process a test starts imports this checkout first, not the one `pip install -e` pointed at (another
# worktree, say), so that what is tested is what is here.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent),
                                                         os.environ.get("PYTHONPATH")]))

from suite.support.conformance import ConformancePlugin  # noqa: E402
from tfguide.environment import for_config, header_lines  # noqa: E402
from tfguide.outputs import DEFAULT_REPORT_DIR, report_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent

# tests/ (the project's own tooling tests) drive mini suites through pytester.
pytest_plugins = ["pytester"]


def pytest_addoption(parser):
    group = parser.getgroup("tfguide", "TensorFlow guide conformance and benchmarks")
    group.addoption("--report-dir", default=str(DEFAULT_REPORT_DIR), metavar="DIR",
                    help="where conformance and benchmark reports are written (default: tfguide-reports/ under the "
                         "directory pytest was started in, created when missing)")
    group.addoption("--quick", action="store_true",
                    help="benchmarks: a short smoke run (fewer sizes and rounds) instead of the full run")


def pytest_configure(config):
    # Relative to where pytest was started, whatever a spec or a child process later takes as its directory.
    config.option.report_dir = str(report_dir(config.getoption("report_dir"), config.invocation_params.dir))
    config.addinivalue_line("markers", "recipe(id): the catalogue recipe id (tfguide/catalogue.toml) a spec verifies")
    config.pluginmanager.register(ConformancePlugin(config, ROOT / "suite"), "tfguide-conformance")


def pytest_report_header(config):
    return header_lines(for_config(config))
