"""What the benchmarks read about the machine (benchmarks/machine.py): interference from /proc/stat counters,
the theoretical peak from declared CPU flags, per-round peak memory, provenance (tfguide/provenance.py). No TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks import machine
from tfguide.provenance import provenance


def test_a_round_is_under_interference_only_beyond_the_tick_quantum():
    quantum = machine._CPUS / machine._CLK
    quiet_short = {"wall_s": 0.02, "cpu_s": 0.04, "others_cpu_s": quantum, "steal_s": 0.0}
    assert not machine.interference(quiet_short)["interfered"]  # one tick of rounding on a 20 ms round
    busy = {"wall_s": 1.0, "cpu_s": 1.0, "others_cpu_s": 0.5 + quantum, "steal_s": 0.0}
    verdict = machine.interference(busy)
    assert verdict["interfered"] and verdict["others_cores"] == pytest.approx(0.5 + quantum)
    stolen = {"wall_s": 1.0, "cpu_s": 1.0, "others_cpu_s": 0.0, "steal_s": 0.2 * machine._CPUS + quantum}
    assert machine.interference(stolen)["interfered"]


def test_sample_difference_splits_own_and_others_cpu():
    a = machine.Sample(10.0, 1.0, (100.0, 2.0, 400.0))
    b = machine.Sample(11.0, 1.6, (101.5, 2.1, 402.0))
    d = b.since(a)
    assert d["wall_s"] == pytest.approx(1.0) and d["cpu_s"] == pytest.approx(0.6)
    assert d["others_cpu_s"] == pytest.approx(0.9) and d["steal_s"] == pytest.approx(0.1)
    assert machine.Sample(1.0, 0.0, None).since(machine.Sample(0.0, 0.0, None))["others_cpu_s"] is None


@pytest.mark.parametrize("vendor, flags, lanes", [
    ("GenuineIntel", ["sse", "sse2", "avx", "fma", "avx2", "avx512f"], 16),
    ("AuthenticAMD", ["sse", "sse2", "fma", "avx2", "avx512f", "avx512_bf16"], 8),            # Zen 4
    ("AuthenticAMD", ["sse", "sse2", "fma", "avx2", "avx512f", "avx512_vp2intersect"], 16),  # Zen 5
    ("GenuineIntel", ["sse", "sse2", "avx", "fma", "avx2"], 8),
])
def test_theoretical_peak_from_declared_flags(vendor, flags, lanes):
    decl = {"vendor": vendor, "flags": flags, "mhz": 2000.0, "max_mhz": None}
    peak = machine.theoretical_peak(cores=2, decl=decl)
    assert peak["lanes_float32"] == lanes
    assert peak["flop_per_s"] == pytest.approx(2 * 2 * lanes * 2 * 2000e6)
    assert "assumed" in peak["formula"]


def test_theoretical_peak_without_flags_is_not_readable():
    peak = machine.theoretical_peak(cores=2, decl={"vendor": None, "flags": [], "mhz": None, "max_mhz": None})
    assert peak["flop_per_s"] is None and peak["formula"].startswith("not readable")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/clear_refs is Linux")
def test_peak_memory_is_the_rounds_own_after_a_reset():
    machine.reset_peak_rss()
    before = machine.peak_rss_bytes()
    block = bytearray(64 * 2**20)
    block[::4096] = b"\1" * len(block[::4096])  # touch every page
    grown = machine.peak_rss_bytes()
    del block
    assert grown - before >= 60 * 2**20
    if machine.reset_peak_rss():
        assert machine.peak_rss_bytes() < grown - 30 * 2**20


def test_provenance_outside_a_git_checkout(tmp_path):
    prov = provenance(tmp_path)
    assert prov["git_commit"] == "not a git checkout"
    assert any(line.lower().startswith("numpy==") for line in prov["pip_freeze"])
    assert prov["command_line"]


def test_provenance_inside_a_git_checkout(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "m"],
                   check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert provenance(tmp_path)["git_commit"] == head
