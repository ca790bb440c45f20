"""Fixtures the tooling's tests share. They run on a steady machine: the harness's speed probe
(benchmarks/machine_speed.py), which times a real loop around every round, answers a constant here, so that a test's
fake rounds are never set aside as slowed by whatever else the test machine is doing. A test of the probe itself
asks for `real_machine_probe`; a test of the measuring loop on fake units asks for `quiet`."""

from __future__ import annotations

import pytest

STEADY_PROBE_PER_S = 40e6


@pytest.fixture(autouse=True)
def _steady_machine(request, monkeypatch):
    if "real_machine_probe" in request.fixturenames:
        return
    from benchmarks import machine_speed

    monkeypatch.setattr(machine_speed, "probe", lambda: STEADY_PROBE_PER_S)


@pytest.fixture
def real_machine_probe():
    """The probe as it is: for the tests of benchmarks/machine_speed.py itself."""


@pytest.fixture
def quiet(monkeypatch):
    """Rounds of fake units (benchmarks/rounds.py) take no real time: /proc and peak-memory reads kept out of their
    figures, at fixed values (123 MiB peak, load 0.5)."""
    from benchmarks import machine

    monkeypatch.setattr(machine, "reset_peak_rss", lambda: True)
    monkeypatch.setattr(machine, "peak_rss_bytes", lambda: 123 * 2**20)
    monkeypatch.setattr(machine, "load_average", lambda: 0.5)
