"""A deliberate slow-down, for testing that an A/B comparison sees one: TFGUIDE_BENCH_SLOWDOWN=PATTERN[=FRACTION].

Every unit of a group whose name matches PATTERN (fnmatch: `data.numpy`, `keras.quickstart/*`), or whose own name
does (`numpy/guide/*`), takes FRACTION (default 0.10) less throughput than it would: after each repetition a stall
of FRACTION / (1 - FRACTION) times the repetition's own timed duration is added to its timed part. A stall, not
extra work such as an identity `map` in a pipeline, because its size is known on any machine and for any row:
the A/B's "slower" verdicts can then be checked against the truth (`python -m benchmarks.ab --slow-b PATTERN`
sets the variable for B's processes only). Several patterns: comma-separated.
"""

from __future__ import annotations

import fnmatch
import os
import time

ENV = "TFGUIDE_BENCH_SLOWDOWN"
DEFAULT_FRACTION = 0.10
SPIN_S = 0.002   # the last part of a stall is a busy wait: sleep() can overshoot by a scheduler tick


def parse(text: str | None) -> list[tuple[str, float]]:
    """[(pattern, fraction), ...] from the variable's value; ValueError naming what is wrong."""
    out = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        pattern, _, fraction = part.partition("=")
        value = float(fraction) if fraction else DEFAULT_FRACTION
        if not 0 < value < 1:
            raise ValueError(f"{ENV}: {part!r}: the fraction must be between 0 and 1")
        out.append((pattern, value))
    return out


def fraction_for(names: list[str], spec: list[tuple[str, float]]) -> float:
    return next((f for pattern, f in spec if any(fnmatch.fnmatchcase(n, pattern) for n in names)), 0.0)


def mark(group, units) -> None:
    """Set `slowed_by` on the units of `group` that the environment asks to slow down."""
    spec = parse(os.environ.get(ENV))
    for unit in units:
        unit.slowed_by = fraction_for([group.name, unit.key], spec) if spec else 0.0
        if unit.slowed_by and unit.row is not None:
            unit.row["slowed_by"] = unit.slowed_by  # said in the row, so that nobody quotes it as a measurement


def stall(clock, worked_s: float, fraction: float) -> None:
    """Add fraction / (1 - fraction) x `worked_s` to the clock's timed part."""
    extra = worked_s * fraction / (1.0 - fraction)
    with clock.timed():
        end = time.perf_counter() + extra
        if extra > SPIN_S:
            time.sleep(extra - SPIN_S)
        while time.perf_counter() < end:
            pass
