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

A 95 % interval for the median is not a 95 % interval for ANOTHER run's median: that one has its own
sampling noise, so even with perfectly independent rounds run A's interval holds run B's median only
about 83 % of the time (for medians that are roughly normal: P(|N(0, 2)| < 1.96) = P(|N(0, 1)| < 1.39)).
Each row therefore also carries a prediction interval for the median of another run of as many rounds,
distribution-free as well: with n + m exchangeable rounds, the number I of A's rounds below B's j-th
smallest round has P(I = i) = C(i+j-1, i) C(n-i+m-j, n-i) / C(n+m, n), so [x_(k), x_(n-k+1)] holds B's
median (j = ceil(m/2)) with probability sum_{i=k}^{n-k} P(I = i); we take the largest k for which that is
>= 95 %. It is about sqrt(2) wider than the interval of the median.

The check is empirical: an A/A run (the same code twice) should find A's prediction interval holding B's
median for >= 95 % of rows, and A's interval of the median for about 83 % (`python -m reports compare
A.json B.json` prints both shares). Fewer means the rounds of one run are not independent draws of what
another run would see - the luck of a run (tests/test_bench_stats.py checks both rates on simulated runs).
Independence is the assumption that fails on a shared machine. Rounds taken seconds apart share the machine's
state: with no other process and no hypervisor steal visible, the copy bandwidth, a pipeline's fresh epochs and
whole sections of a run still move (docs/measurements.md, "How the machine's speed moves",
"Within a run"). Rounds of one pass then under-state the uncertainty however many they are. A
full run therefore measures every group in several passes, each in its own process minutes apart
(benchmarks/passes.py), and `pass_interval` turns the spread of the passes' medians into an interval as well:
with P passes whose log medians have standard deviation s, the mean log median has the interval
+- t(P-1) s / sqrt(P) and another run of P passes lands within +- t(P-1) s sqrt(2 / P) (Student's t: the
pass medians are few, and the t quantile pays for estimating s from them). A row reports, on each side, the
wider of the order-statistic bound and the pass bound, and says which one set its width.

Pooled over a group. With two passes, s rests on one degree of freedom and t(1) is 12.7: the interval is honest
but says nothing (a 15-minute full run on the reference machine makes 2 of its 4 passes: docs/measurements.md,
"Intervals over passes").
The rows of one group share their passes' processes and minutes, so the machine's drift between passes hits
them alike: `pooled_sd` estimates s over all of a group's rows (the pooled variance, sum (P_i - 1) s_i^2 over
sum (P_i - 1) degrees of freedom), and a row uses max(its own s, the pooled s) with the t quantile of the pooled
degrees of freedom - never narrower than its own spread says. What pooling did to the rounds of two full runs
of the reference machine: docs/measurements.md, "Intervals over passes".
"""

from __future__ import annotations

import functools
import math
import statistics

from tfguide.intervals import CONFIDENCE  # the one level of every interval

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


def _largest_k(n: int, coverage_of, confidence: float) -> tuple[int, int, float] | None:
    """The largest k in 1..n//2 whose coverage_of(k) >= confidence, with (k, n-k+1, that coverage); None when
    even k = 1 falls short. Coverage only falls as k grows (the interval [x_(k), x_(n-k+1)] shrinks), so a
    binary search finds it: a few evaluations instead of one per k, which matters with thousands of rounds."""
    if n < 2 or coverage_of(1) < confidence:
        return None
    lo, hi = 1, n // 2          # coverage_of(lo) >= confidence; find the last such k
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if coverage_of(mid) >= confidence:
            lo = mid
        else:
            hi = mid - 1
    return lo, n - lo + 1, coverage_of(lo)


@functools.lru_cache(maxsize=4096)
def median_rank_bounds(n: int, confidence: float = CONFIDENCE) -> tuple[int, int, float] | None:
    """1-based ranks (k, n-k+1) of the narrowest symmetric order-statistic interval for the median whose
    coverage is >= `confidence`, and that coverage; None when n is too small for any."""
    return _largest_k(n, lambda k: 1.0 - 2.0 * _binom_cdf_half(k - 1, n), confidence)


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


def _other_median_coverage(n: int, m: int, k: int) -> float:
    """P(x_(k) <= the median of m more exchangeable values <= x_(n-k+1))."""
    j = (m + 1) // 2
    total = math.comb(n + m, n)
    return sum(math.comb(i + j - 1, i) * math.comb(n - i + m - j, n - i) for i in range(k, n - k + 1)) / total


@functools.lru_cache(maxsize=4096)
def prediction_rank_bounds(n: int, m: int | None = None, confidence: float = CONFIDENCE) -> tuple[int, int, float] | None:
    """Ranks (k, n-k+1) of the narrowest order-statistic interval that holds the median of another sample of m
    (default n) values with probability >= `confidence`, and that probability; None when n is too small."""
    m = n if m is None else m
    return _largest_k(n, lambda k: _other_median_coverage(n, m, k), confidence)


def median_pi(values: list[float], m: int | None = None, confidence: float = CONFIDENCE) -> dict:
    """The interval that holds another run's median (of m values; default as many) with >= 95 % probability."""
    xs = sorted(float(v) for v in values)
    out = {"low": None, "high": None, "coverage": None}
    bounds = prediction_rank_bounds(len(xs), m, confidence) if xs else None
    if bounds is not None:
        k, j, p = bounds
        out.update(low=xs[k - 1], high=xs[j - 1], coverage=p)
    return out


def _t_central(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer df: the closed form of Abramowitz and Stegun 26.7.3-4 (a finite sum
    in cos(theta), theta = atan(t / sqrt(df)))."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term = total = 1.0
        for k in range(2, df - 1, 2):
            term *= c2 * (k - 1) / k
            total += term
        return s * total
    total = 0.0
    if df > 1:
        term = total = math.cos(theta)
        for k in range(3, df - 1, 2):
            term *= c2 * (k - 1) / k
            total += term
    return 2.0 / math.pi * (theta + s * total)


@functools.lru_cache(maxsize=None)
def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """Student's t two-sided quantile: the t with P(|T| <= t) = confidence (df degrees of freedom; 95 %: 12.706
    for 1, 4.303 for 2, 2.228 for 10). Exact to 1e-9 by bisection on the closed-form distribution, for any
    confidence: a comparison of m rows asks each for 1 - 0.05 / m (tfguide/intervals.py family_confidence)."""
    if df < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(f"t_quantile needs df >= 1 and a confidence in (0, 1), not {df}, {confidence}")
    lo, hi = 0.0, 2.0
    while _t_central(hi, df) < confidence:
        lo, hi = hi, hi * 2.0
    while hi - lo > 1e-9 * hi:
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if _t_central(mid, df) < confidence else (lo, mid)
    return (lo + hi) / 2.0


def pass_log_medians(values: list[float], passes: list[int], min_rounds: int = 2) -> list[float]:
    """The log of each pass's median, for the passes with at least `min_rounds` values."""
    by_pass: dict = {}
    for v, p in zip(values, passes):
        if v > 0:
            by_pass.setdefault(p, []).append(float(v))
    return [math.log(statistics.median(vs)) for vs in by_pass.values() if len(vs) >= min_rounds]


def pooled_sd(rows_log_medians: list[list[float]]) -> tuple[float, int] | None:
    """The standard deviation of the pass medians pooled over rows that share their passes (see the module
    docstring), and its degrees of freedom; None when no row has two passes."""
    used = [logs for logs in rows_log_medians if len(logs) >= 2]
    dof = sum(len(logs) - 1 for logs in used)
    if dof == 0:
        return None
    return math.sqrt(sum(statistics.variance(logs) * (len(logs) - 1) for logs in used) / dof), dof


def pass_interval(values: list[float], passes: list[int], min_rounds: int = 2,
                  pooled: tuple[float, int] | None = None, confidence: float = CONFIDENCE) -> dict | None:
    """Intervals from the spread of the passes' medians (see the module docstring): {passes, sd_log, center,
    ci: [low, high], pi: [low, high]}; None with fewer than two passes of at least `min_rounds` rounds.
    `pooled` (pooled_sd of the row's group) replaces the row's own estimate when it rests on more degrees of
    freedom, never by a smaller standard deviation than the row's own. `ci` at `confidence` (a row of a family
    judged together asks for more), `pi` - for another run's median - always at 95 %."""
    logs = pass_log_medians(values, passes, min_rounds)
    n = len(logs)
    if n < 2:
        return None
    sd, dof = statistics.stdev(logs), n - 1
    if pooled is not None and pooled[1] > dof:
        sd, dof = max(sd, pooled[0]), pooled[1]
    center = statistics.fmean(logs)
    ci_half = t_quantile(dof, confidence) * sd / math.sqrt(n)
    pi_half = t_quantile(dof, CONFIDENCE) * sd * math.sqrt(2.0 / n)
    return {"passes": n, "sd_log": sd, "center": math.exp(center),
            "ci": [math.exp(center - ci_half), math.exp(center + ci_half)],
            "pi": [math.exp(center - pi_half), math.exp(center + pi_half)]}


def widest(order_stat: list, from_passes: list | None) -> tuple[list, str]:
    """The wider bound on each side of two intervals, and which one set the width (with too few rounds for the
    order statistics, the passes' alone)."""
    lo, hi = order_stat
    if from_passes is None:
        return [lo, hi], "order statistics of the rounds"
    if lo is None:
        return list(from_passes), "spread of the pass medians"
    out = [min(lo, from_passes[0]), max(hi, from_passes[1])]
    wider = (from_passes[1] - from_passes[0]) > (hi - lo)
    return out, ("spread of the pass medians" if wider else "order statistics of the rounds")


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


def rate_interval(rates: list[float], passes: list[int], min_rounds_per_pass: int = 2,
                  pooled: tuple[float, int] | None = None, confidence: float = CONFIDENCE) -> dict:
    """The median of a row's round rates and its intervals, the one method every row uses (the rows of
    `pytest benchmarks` and those timed elsewhere, the cluster's, the times to quality and the A/B's paired
    ratios, whose every trial or pair is a pass of one round): `ci`, the order-statistic interval of the median
    at `confidence` (95 % unless the row is one of a family judged together), and `pi95`, the 95 % interval for
    another run's median, each side widened to the interval over the passes' medians where that is wider
    (pass_interval: only with 2 or more passes of `min_rounds_per_pass` rounds; `pooled`: the pass spread of the
    row's group, pooled_sd)."""
    ci = median_ci(rates, confidence)
    pi = median_pi(rates)
    by_pass = pass_interval(rates, passes, min_rounds_per_pass, pooled, confidence)
    ci_bounds, ci_method = widest([ci["low"], ci["high"]], by_pass["ci"] if by_pass else None)
    pi_bounds, _ = widest([pi["low"], pi["high"]], by_pass["pi"] if by_pass else None)
    ci = {**ci, "low": ci_bounds[0], "high": ci_bounds[1]}
    return {"median": ci["median"], "ci": [ci["low"], ci["high"]], "confidence": confidence,
            "ci_coverage": ci["coverage"], "half_width": half_width(ci), "pi95": pi_bounds,
            "pi_coverage": pi["coverage"], "width_from": ci_method if ci["low"] is not None else None,
            "pass_medians_sd": by_pass["sd_log"] if by_pass else None}


def scaling_efficiency(rate: float, baseline_rates: list[float]) -> float | None:
    """E_N: a multi-replica (or multi-worker) rate over the sum of the rates its parts reach alone."""
    total = sum(baseline_rates)
    return rate / total if total else None
