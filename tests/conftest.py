"""The tooling's tests run on a steady machine: the harness's speed probe (benchmarks/machine_speed.py), which times
a real loop around every round, answers a constant here, so that a test's fake rounds are never set aside as
slowed by whatever else the test machine is doing. A test of the probe itself asks for `real_machine_probe`."""

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
