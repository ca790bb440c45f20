"""The ratio of two independently measured medians, with an interval from their own intervals; and the smallest
change an interval of a given width detects.

Used where two rows were not measured in the same rounds: `python -m reports compare` (two runs) and a
benchmark row set against the guide's row of another group (benchmarks/report.py); `detectable_change` by compare
and by the interleaved A/B (benchmarks/ab.py).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
Z80 = 0.8416212335729143   # one-sided: the change is seen 8 times in 10


def ratio_ci_from_intervals(a: float, a_ci: tuple, b: float, b_ci: tuple) -> tuple[float, float, float] | None:
    """B/A and an approximate 95 % interval from the two medians' own 95 % intervals.

    For two independent runs there are no paired rounds. Each interval is turned into a standard error on the
    log scale (half its log-width / 1.96), the two are added in quadrature, and the ratio's interval is
    exp(log(B/A) +- 1.96 sqrt(se_A^2 + se_B^2)). It is only as good as the two intervals: whatever spread they
    hold (the spread between passes, interference) is carried into the verdict."""
    if not (a and b) or a <= 0 or b <= 0 or a_ci is None or b_ci is None or None in (*a_ci, *b_ci) \
            or min(*a_ci, *b_ci) <= 0:
        return None
    se_a = (math.log(a_ci[1]) - math.log(a_ci[0])) / 2 / Z95
    se_b = (math.log(b_ci[1]) - math.log(b_ci[0])) / 2 / Z95
    r = b / a
    w = Z95 * math.hypot(se_a, se_b)
    return r, r * math.exp(-w), r * math.exp(w)


def detectable_change(half_width: float | None) -> float | None:
    """The smallest true change that a comparison whose 95 % interval has this relative half-width reports as a
    change 8 times in 10. The interval excludes 1 when the estimate lies beyond its half-width h; an estimate
    spread around a true change d with standard error h / 1.96 lies beyond h with probability 0.8 when
    d = h (1 + 0.84 / 1.96), about 1.4 h (normal approximation). A change of h itself is seen half the time."""
    return None if half_width is None else half_width * (1 + Z80 / Z95)
