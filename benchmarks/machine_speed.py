"""The machine's own speed around every round: a fixed pure-Python probe, and which rounds ran slowed.

Why. On the reference machine (a 2-core cloud VM) the CPU itself runs at two speeds: a pure-Python loop, one
thread, no TensorFlow, takes either its full time or about 1.6 times as long, in episodes of a fraction of a second
to tens of seconds, with this process on the CPU the whole time (process time = wall time) and no steal, no other
process, nothing in /proc/stat to show it - what a busy neighbour on a shared physical core or a host's frequency
change look like from inside a guest. Every workload slows with it: that, not TensorFlow, is most of the spread of a
row's rounds and of the passes' medians there (docs/benchmark-noise.md, "The machine's own two speeds").

The probe is PROBE_ITERATIONS additions in a Python loop (about 1 ms at full speed), run on the measuring thread
right before and right after every round, outside the round's time; its rate is what the machine gave one thread
at that moment. A round is *slowed* when either probe ran below SLOWED_BELOW of the run's reference speed - the
REFERENCE_QUANTILE of every probe of the run (all rows, all passes): the machine's full speed, as long as it ran at
full speed for more than a tenth of the run; a machine that never did is its own reference, and nothing is
slowed). Slowed rounds are recorded and counted, and left out of a row's figure as rounds measured under
interference are (benchmarks/harness.py), when enough others remain: the figure is what this hardware does at
its full speed, and the report says how much of the run it had it.
"""

from __future__ import annotations

import math
import time

PROBE_ITERATIONS = 40_000
SLOWED_BELOW = 0.8           # the two speeds of the reference machine are 0.62 apart; a probe's own noise is ~5 %
REFERENCE_QUANTILE = 0.9
PROBES = ("probe_before", "probe_after")    # a round's fields (benchmarks/rounds.py run_round)


def probe() -> float:
    """Iterations per second of a fixed pure-Python loop on this thread, now."""
    start = time.perf_counter()
    total = 0
    for i in range(PROBE_ITERATIONS):
        total += i
    elapsed = time.perf_counter() - start
    return PROBE_ITERATIONS / elapsed if elapsed > 0 else math.inf


def reference(probes: list[float]) -> float | None:
    """The run's full speed: the REFERENCE_QUANTILE of its probes (None without any)."""
    xs = sorted(p for p in probes if p and math.isfinite(p))
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(REFERENCE_QUANTILE * (len(xs) - 1) + 0.5))]


def round_probes(rounds: list[dict]) -> list[float]:
    """Every probe the rounds carry (rounds measured elsewhere carry none)."""
    return [r[k] for r in rounds for k in PROBES if r.get(k)]


def speed(rnd: dict, ref: float | None) -> float | None:
    """The slower of a round's two probes, as a share of the reference; None without probes or reference."""
    got = [rnd[k] for k in PROBES if rnd.get(k)]
    if not got or not ref:
        return None
    return min(got) / ref


def slowed(rnd: dict, ref: float | None) -> bool:
    s = speed(rnd, ref)
    return s is not None and s < SLOWED_BELOW


def describe(rounds: list[dict], ref: float | None = None) -> dict | None:
    """The run's machine speed for the report: the probe, its reference (`ref`, when the caller has it), the share
    of rounds slowed and how slow the machine ran then; None when no round carries probes (an older report, rows
    measured elsewhere)."""
    probed = [r for r in rounds if any(r.get(k) for k in PROBES)]
    ref = ref if ref is not None else reference(round_probes(probed))
    if ref is None:
        return None
    speeds = [speed(r, ref) for r in probed]
    low = sorted(s for s in speeds if s is not None and s < SLOWED_BELOW)
    return {"probe": f"{PROBE_ITERATIONS:,} additions in a Python loop on the measuring thread, before and after "
                     "every round (benchmarks/machine_speed.py)",
            "reference_per_s": ref, "reference_quantile": REFERENCE_QUANTILE, "slowed_below": SLOWED_BELOW,
            "rounds": len(probed), "rounds_slowed": len(low), "slowed_share": len(low) / len(probed),
            "slowed_speed": low[len(low) // 2] if low else None}
