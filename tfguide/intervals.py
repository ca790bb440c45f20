"""The ratio of two independently measured medians, with an interval from their own intervals; the smallest
change an interval of a given width detects; and the confidence each row of a comparison is judged at.

Used where two rows were not measured in the same rounds: `python -m reports compare` (two runs) and a
benchmark row set against the guide's row of another group (benchmarks/report.py); `detectable_change` and
`family_confidence` by compare and by the interleaved A/B (benchmarks/ab.py).

Why a family. A comparison judges every row at once, and the reader acts on the ones it calls changed. With each
row judged at 95 %, a comparison of m rows of unchanged code calls some row changed with probability 1 - 0.95^m:
46 % for 12 rows, 92 % for 49 (docs/measurements.md, "How far the figures can be trusted here", has this suite's
own A/As). So the rows are judged together by
Holm's step-down procedure (`holm`): the rows whose interval at 1 - 0.05 / m excludes 1 are changed; with k rows
called changed, the others are judged again at 1 - 0.05 / (m - k), and so on until no more is. Like Bonferroni
(every row at 1 - 0.05 / m) it keeps the guarantee whatever the rows' dependence: when no row changed, some row is
called changed at most one comparison in 20. Unlike it, once the clearly changed rows are out, the rest are judged
at a less severe level: when many rows did change (a slower TensorFlow slows most of them), the smaller changes
are seen too. A row's interval is shown at the level it was last judged at.
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


def holm(count: int, excludes_one, confidence: float = FAMILY_CONFIDENCE) -> list[float]:
    """Holm's step-down procedure over `count` rows: the confidence each row was last judged at. `excludes_one(i,
    level)` tells whether row i's interval at `level` excludes 1. A row judged at a level where its interval
    excludes 1 is changed; the others are judged at the last level, where none of them did."""
    levels = [family_confidence(count, confidence)] * count
    undecided, decided = set(range(count)), 0
    while undecided:
        level = family_confidence(count - decided, confidence)
        changed = [i for i in sorted(undecided) if excludes_one(i, level)]
        for i in undecided:
            levels[i] = level
        if not changed:
            break
        undecided -= set(changed)
        decided += len(changed)
    return levels


def resolving_factor(half_width: float | None, confidence: float, change: float = 0.05) -> float | None:
    """How many times its rounds a comparison whose interval at `confidence` has this half-width would need for a
    true `change` to be reported 8 times in 10 (detectable_change): intervals narrow with the square root of the
    rounds, so (half_width / the half-width that detects `change`) squared; 1.0 when it already does."""
    if half_width is None:
        return None
    needed = change / (1 + Z80 / z_two_sided(confidence))
    return max(1.0, (half_width / needed) ** 2)
