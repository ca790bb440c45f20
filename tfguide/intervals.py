"""The ratio of two independently measured medians, with an interval from their own intervals; the smallest
change an interval of a given width detects; and the confidence each row of a comparison is judged at.

Used where two rows were not measured in the same rounds: `python -m reports compare` (two runs) and a
benchmark row set against the guide's row of another group (benchmarks/report.py); `detectable_change` and
`family_confidence` by compare and by the interleaved A/B (benchmarks/ab.py).

Why a family. A comparison judges every row at once, and the reader acts on the ones it calls changed. With each
row judged at 95 %, a comparison of m rows of unchanged code calls some row changed with probability 1 - 0.95^m:
46 % for 12 rows, 92 % for 49 (this suite's own interleaved A/As on its 2-core VM, judged at 95 % each, called 1 of 12
rows changed in 10 minutes of two recipes, 3 of 12 in 15 minutes, 2 of 10 in CI's quick one, 2 of 49 in 15 minutes
of every recipe). So every row's interval is taken at 1 - 0.05 / m (Bonferroni, valid whatever the rows'
dependence): with 95 % confidence all m intervals hold their true ratios together, and an A/A calls any row changed
at most one run in 20. The price is width: about 1.5 times the 95 % interval for 12 rows, 1.7 for 49 (normal
quantiles 2.87 and 3.28 against 1.96); a comparison that needs every row's finest resolution compares fewer rows.
"""

from __future__ import annotations

import math
from statistics import NormalDist

CONFIDENCE = 0.95            # every interval's level, and that of a family of rows judged together
FAMILY_CONFIDENCE = CONFIDENCE
Z95 = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2.0)   # 1.96
Z80 = NormalDist().inv_cdf(0.80)                     # one-sided: the change is seen 8 times in 10


def family_confidence(rows: int, confidence: float = FAMILY_CONFIDENCE) -> float:
    """The confidence each of `rows` intervals is taken at so that all of them hold together with `confidence`
    (Bonferroni: 1 - (1 - confidence) / rows)."""
    return 1.0 - (1.0 - confidence) / max(1, rows)


def confidence_label(confidence: float) -> str:
    """A confidence as a percentage with the digits that tell the levels of a family apart: 95 %, 98.33 %,
    99.875 %."""
    digits = max(0, math.ceil(-math.log10(1.0 - confidence)))
    return f"{confidence * 100:.{digits}f}".rstrip("0").rstrip(".") + " %"


def z_two_sided(confidence: float) -> float:
    """The normal quantile z with P(|Z| <= z) = confidence (1.96 for 95 %)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def usable(a: float, a_ci: tuple | None, b: float, b_ci: tuple | None) -> bool:
    """Whether two medians and their intervals give a ratio with an interval (both positive, both bounded)."""
    return bool(a and b) and a > 0 and b > 0 and a_ci is not None and b_ci is not None \
        and None not in (*a_ci, *b_ci) and min(*a_ci, *b_ci) > 0


def ratio_ci_from_intervals(a: float, a_ci: tuple, b: float, b_ci: tuple,
                            confidence: float = CONFIDENCE) -> tuple[float, float, float] | None:
    """B/A and an approximate interval at `confidence` from the two medians' own 95 % intervals.

    For two independent runs there are no paired rounds. Each interval is turned into a standard error on the
    log scale (half its log-width / 1.96), the two are added in quadrature, and the ratio's interval is
    exp(log(B/A) +- z sqrt(se_A^2 + se_B^2)), z the normal quantile of `confidence`. It is only as good as the
    two intervals: whatever spread they hold (the spread between passes, interference) is carried into the
    verdict."""
    if not usable(a, a_ci, b, b_ci):
        return None
    se_a = (math.log(a_ci[1]) - math.log(a_ci[0])) / 2 / Z95
    se_b = (math.log(b_ci[1]) - math.log(b_ci[0])) / 2 / Z95
    r = b / a
    w = z_two_sided(confidence) * math.hypot(se_a, se_b)
    return r, r * math.exp(-w), r * math.exp(w)


def detectable_change(half_width: float | None, confidence: float = CONFIDENCE) -> float | None:
    """The smallest true change that a comparison whose interval at `confidence` has this relative half-width
    reports as a change 8 times in 10. The interval excludes 1 when the estimate lies beyond its half-width h;
    an estimate spread around a true change d with standard error h / z (z = 1.96 at 95 %) lies beyond h with
    probability 0.8 when d = h (1 + 0.84 / z): about 1.4 h at 95 %, 1.3 h at 99.6 %, 1.26 h at 99.9 % (normal
    approximation). A change of h itself is seen half the time."""
    return None if half_width is None else half_width * (1 + Z80 / z_two_sided(confidence))
