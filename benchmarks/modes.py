"""Modes: a row whose rounds fall into separated speeds is reported as those speeds, not as a median between them.

Why. On the reference machine, tf.data rounds jump between speeds exactly 2x apart: the guide's
`from_tensor_slices((x, y)).batch(32)` runs its epochs at one of two speeds, never between except for an epoch
that switched in its middle, and a process can stay in either for seconds (docs/measurements.md, "How the
machine's speed moves", "Two speeds"; docs/benchmark-noise.md has the cause: tf.data's autotuning hands every
element across threads). A median of such rounds lands on whichever speed got more rounds in that process - one
run says the slow one, the next the fast one - and its interval spans both, so no comparison can decide anything
through it. Each speed on its own is steady.

How. The rounds' log rates are split in two where the within-cluster sum of squares is smallest (1-D k-means,
exact over the sorted values), and the split is kept only when the two clusters are *separated*: their medians at
least MIN_RATIO apart, Ashman's D (the distance of the cluster centres in units of their pooled robust spread:
2 separates two normal modes, we ask ASHMAN_D) at least that, and each cluster holding at least MIN_SHARE of the
rounds and MIN_MODE_ROUNDS rounds. Each cluster is then split again the same way (at most MAX_MODES). A long tail or
a drift over a run does not pass these tests; two speeds a factor apart do.

What a multimodal row reports (benchmarks/harness.py): every mode's median, share of the rounds and interval, how
often consecutive rounds of a pass switched mode, and as its headline the fastest mode - the speed the machine
reaches when the runtime is not in its slow state, the same in every run whatever share of the rounds it got.
A comparison then compares like with like (reports/compare.py, benchmarks/ab.py), or says it cannot.
"""

from __future__ import annotations

import math
import statistics

MIN_RATIO = 1.2          # modes closer than 20 % are one mode with spread
ASHMAN_D = 5.0           # separation of the two clusters' centres, in robust standard deviations of the wider one
MAX_BETWEEN = 0.2        # at most this share of the rounds lies in the middle third between the two modes
MIN_SHARE = 0.1          # a mode holds at least a tenth of the rounds ...
MIN_MODE_ROUNDS = 3      # ... and at least three of them
MIN_ROUNDS = 12          # fewer rounds than this are never split
MAX_MODES = 3
HEADLINE_SHARE = 0.2     # the headline is the fastest mode holding at least this share of the rounds
SPREAD_FLOOR = 0.01      # a cluster of identical rounds still has 1 % of spread (log scale)


def _robust_sd(logs: list[float]) -> float:
    """1.4826 x the median absolute deviation (the standard deviation of a normal sample), floored."""
    if len(logs) < 2:
        return SPREAD_FLOOR
    centre = statistics.median(logs)
    return max(SPREAD_FLOOR, 1.4826 * statistics.median(abs(v - centre) for v in logs))


def _best_split(logs: list[float]) -> int | None:
    """The index i splitting sorted `logs` into [:i] and [i:] with the smallest within-cluster sum of squares,
    when both parts would be separated modes (see the module docstring); None otherwise."""
    n = len(logs)
    least = max(MIN_MODE_ROUNDS, math.ceil(MIN_SHARE * n))
    if n < max(MIN_ROUNDS, 2 * least):
        return None
    prefix, prefix_sq = [0.0], [0.0]
    for v in logs:
        prefix.append(prefix[-1] + v)
        prefix_sq.append(prefix_sq[-1] + v * v)

    def sse(lo: int, hi: int) -> float:
        s, q, k = prefix[hi] - prefix[lo], prefix_sq[hi] - prefix_sq[lo], hi - lo
        return q - s * s / k

    best = min(range(least, n - least + 1), key=lambda i: sse(0, i) + sse(i, n))
    low, high = logs[:best], logs[best:]
    m_low, m_high = statistics.median(low), statistics.median(high)
    if m_high - m_low < math.log(MIN_RATIO):
        return None
    if (m_high - m_low) / max(_robust_sd(low), _robust_sd(high)) < ASHMAN_D:
        return None
    # a valley, not a slope: few rounds in the middle third between the two modes (a unimodal sample cut in two has
    # its densest part there)
    third = (m_high - m_low) / 3.0
    between = sum(1 for v in logs if m_low + third < v < m_high - third)
    if between > MAX_BETWEEN * n:
        return None
    # equal rounds on both sides of the boundary: the two clusters overlap
    if logs[best] <= logs[best - 1]:
        return None
    return best


def _clusters(logs: list[float], limit: int) -> list[list[float]]:
    split = _best_split(logs) if limit > 1 else None
    if split is None:
        return [logs]
    low, high = logs[:split], logs[split:]
    out = [low, high]
    # split again where that is allowed and separated, the larger cluster first
    for part in sorted(out, key=len, reverse=True):
        if len(out) >= limit:
            break
        sub = _best_split(part)
        if sub is not None:
            out.remove(part)
            out += [part[:sub], part[sub:]]
    return sorted(out, key=lambda c: c[0])


def boundaries(rates: list[float]) -> list[float]:
    """The rates separating the modes of `rates`, ascending (empty: one mode). A rate below boundaries[0] is in the
    slowest mode, one at or above boundaries[-1] in the fastest."""
    logs = sorted(math.log(r) for r in rates if r and r > 0 and math.isfinite(r))
    clusters = _clusters(logs, MAX_MODES)
    return [math.exp((a[-1] + b[0]) / 2.0) for a, b in zip(clusters, clusters[1:])]


def mode_of(rate: float, bounds: list[float]) -> int:
    """The index of `rate`'s mode, 0 for the slowest."""
    return sum(1 for b in bounds if rate >= b)


def switches(modes: list[int], passes: list[int]) -> int:
    """How many times consecutive rounds of one pass (in the order they were taken) were in different modes."""
    return sum(1 for i in range(1, len(modes)) if passes[i] == passes[i - 1] and modes[i] != modes[i - 1])


def describe(rates: list[float], passes: list[int]) -> dict:
    """{count, bounds, assignment (a mode index per round, in the given order), shares, medians, switches}."""
    bounds = boundaries(rates)
    assignment = [mode_of(r, bounds) for r in rates]
    count = len(bounds) + 1
    by_mode = [[r for r, m in zip(rates, assignment) if m == k] for k in range(count)]
    return {"count": count, "bounds": bounds, "assignment": assignment,
            "shares": [len(v) / len(rates) if rates else 0.0 for v in by_mode],
            "medians": [statistics.median(v) if v else math.nan for v in by_mode],
            "switches": switches(assignment, passes)}


def headline(shares: list[float]) -> int:
    """The mode a row reports as its figure: the fastest holding at least HEADLINE_SHARE of the rounds (a few fast
    rounds are not the machine's speed), else the largest."""
    held = [k for k, share in enumerate(shares) if share >= HEADLINE_SHARE]
    return max(held) if held else max(range(len(shares)), key=lambda k: shares[k])
