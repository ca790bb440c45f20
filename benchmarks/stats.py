"""Statistics of benchmark rounds: the median, its 95 % interval, and the interval of a paired ratio.

Why an order-statistic interval. A row's rounds are not normal: other processes, page faults and
thread wake-ups only ever make a round slower, so round times have a long right tail and, under
interference, several modes. The sample mean and a t-interval are dragged by that tail; a bootstrap
percentile interval of the median is too narrow for the 6-40 rounds a row gets (it can only return
observed values and under-covers at small n). The distribution-free interval for a median needs no
shape at all: with n independent rounds, the number of rounds below the true median is
Binomial(n, 1/2), so [x_(k), x_(n-k+1)] covers the median with probability
1 - 2 P(Binomial(n, 1/2) <= k-1), exactly, whatever the distribution. We take the largest k whose
coverage is still >= 95 %; it needs n >= 6 (with 5 rounds even [min, max] covers only 93.75 %), and
a row with fewer rounds says it has no interval rather than pretending to one.

The same interval applied to per-round ratios r_i = a_i / b_i of two rows measured in the same
round (round-robin, A B A B ...) gives the interval of the median ratio: drift that slows both rows
in a round cancels in r_i, which is why ratios (x guide, input wait share) come from neighbouring
rounds instead of from two medians taken minutes apart.

Its check is empirical: an A/A run (the same code twice) must find run A's interval holding run B's
median for about 95 % of rows (`python -m reports compare A.json B.json` prints that share).
Independence is the assumption that can fail: rounds of one process share its memory placement and
thread pools, which is why a full run measures every row in two interleaved passes with rebuilt
pipelines, arrays and iterators (benchmarks/rounds.py), so that such luck is part of the spread.
"""

from __future__ import annotations

import math
import statistics

CONFIDENCE = 0.95
MIN_ROUNDS_FOR_INTERVAL = 6


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _binom_cdf_half(k: int, n: int) -> float:
    """P(Binomial(n, 1/2) <= k)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(min(k, n) + 1)) / 2.0 ** n


def median_rank_bounds(n: int, confidence: float = CONFIDENCE) -> tuple[int, int, float] | None:
    """1-based ranks (k, n-k+1) of the narrowest symmetric order-statistic interval for the median whose
    coverage is >= `confidence`, and that coverage; None when n is too small for any."""
    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1.0 - 2.0 * _binom_cdf_half(k - 1, n)
        if coverage >= confidence:
            best = (k, n - k + 1, coverage)
        else:
            break
    return best


def median_ci(values: list[float], confidence: float = CONFIDENCE) -> dict:
    """Median of `values` and its distribution-free interval: {median, low, high, coverage, n}.
    low/high are None when there are too few values for the requested coverage."""
    xs = sorted(float(v) for v in values)
    n = len(xs)
    out = {"median": quantile(xs, 0.5) if xs else math.nan, "low": None, "high": None, "coverage": None, "n": n}
    bounds = median_rank_bounds(n, confidence)
    if bounds is not None:
        k, j, coverage = bounds
        out.update(low=xs[k - 1], high=xs[j - 1], coverage=coverage)
    return out


def half_width(ci: dict) -> float | None:
    """Half the interval's width relative to the median (0.05 = +-5 %); None without an interval."""
    if ci.get("low") is None or not ci.get("median"):
        return None
    return (ci["high"] - ci["low"]) / 2.0 / abs(ci["median"])


def spread(values: list[float]) -> dict:
    """Median, quartiles, IQR and coefficient of variation of a list of numbers."""
    xs = sorted(float(v) for v in values)
    if not xs:
        return {"n": 0, "median": math.nan, "q1": math.nan, "q3": math.nan, "iqr": math.nan, "cv": math.nan,
                "min": math.nan, "max": math.nan}
    mean = statistics.fmean(xs)
    stdev = statistics.stdev(xs) if len(xs) > 1 else 0.0
    q1, q3 = quantile(xs, 0.25), quantile(xs, 0.75)
    return {"n": len(xs), "median": quantile(xs, 0.5), "q1": q1, "q3": q3, "iqr": q3 - q1,
            "cv": stdev / mean if mean else math.nan, "min": xs[0], "max": xs[-1]}


def summarise(seconds: list[float]) -> dict:
    """Median, IQR, CV and the median's interval of round times in seconds (used by the limits and the
    self-check, whose rounds are times rather than rates)."""
    s = spread(seconds)
    ci = median_ci(seconds)
    return {"rounds": s["n"], "median_s": s["median"], "q1_s": s["q1"], "q3_s": s["q3"], "iqr_s": s["iqr"],
            "min_s": s["min"], "max_s": s["max"], "cv": s["cv"], "median_ci95_s": [ci["low"], ci["high"]],
            "round_s": [float(x) for x in seconds]}


def ratio_ci_from_intervals(a: float, a_ci: tuple, b: float, b_ci: tuple) -> tuple[float, float, float] | None:
    """B/A and an approximate 95 % interval from the two medians' own 95 % intervals.

    For two independent runs there are no paired rounds. Each interval is turned into a standard
    error on the log scale (half its log-width / 1.96), the two are added in quadrature, and the ratio's
    interval is exp(log(B/A) +- 1.96 sqrt(se_A^2 + se_B^2)). It is only as good as the two intervals:
    whatever spread they hold (both passes, interference) is carried into the verdict."""
    if not (a and b) or a <= 0 or b <= 0 or None in (*a_ci, *b_ci) or min(*a_ci, *b_ci) <= 0:
        return None
    z = 1.959963984540054
    se_a = (math.log(a_ci[1]) - math.log(a_ci[0])) / 2 / z
    se_b = (math.log(b_ci[1]) - math.log(b_ci[0])) / 2 / z
    r = b / a
    w = z * math.hypot(se_a, se_b)
    return r, r * math.exp(-w), r * math.exp(w)
