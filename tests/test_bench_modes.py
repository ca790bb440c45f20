"""benchmarks/modes.py: separated speeds are found and reported, one speed with spread or a tail is not split."""

from __future__ import annotations

import math
import random

import pytest

from benchmarks import modes
from benchmarks.harness import Plan, Recorder, headline_rounds

# Rounds of the guide's tf.data row pinned to one core on the reference VM (examples/s, thousands; three processes):
# docs/benchmark-noise.md
OBSERVED = [96, 152, 96, 96, 96, 96, 96, 142, 199, 199, 199, 96, 96, 96, 96, 96, 96, 96, 96, 96,
            97, 96, 96, 96, 199, 96, 131, 96, 96, 96]


def test_two_speeds_2x_apart_are_two_modes_with_their_shares_and_switches():
    passes = [i // 10 for i in range(len(OBSERVED))]
    found = modes.describe([1e3 * v for v in OBSERVED], passes)
    assert found["count"] == 2
    assert [round(m / 1e3) for m in found["medians"]] == [96, 199]
    # the boundary lies half-way (in log) between the two clusters (113k): the epochs that switched part-way
    # (131-152k) count with the fast mode; the shares count every round
    assert found["bounds"][0] == pytest.approx(math.sqrt(97e3 * 131e3))
    assert found["shares"] == pytest.approx([23 / 30, 7 / 30])
    # within a pass, consecutive rounds in different modes: 3 in the first (96-152-96, 96-142), 1, then 4
    assert found["switches"] == 8
    assert modes.headline(found["shares"]) == 1          # the fast mode holds 23 % >= a fifth


def test_a_few_fast_rounds_are_not_the_headline():
    assert modes.headline([0.85, 0.15]) == 0
    assert modes.headline([0.5, 0.3, 0.2]) == 2


@pytest.mark.parametrize("n", [12, 30, 100])
def test_one_speed_with_lognormal_spread_is_one_mode_nearly_always(n):
    rng = random.Random(n)
    split = sum(modes.describe([100 * rng.lognormvariate(0, 0.15) for _ in range(n)], [0] * n)["count"] > 1
                for _ in range(200))
    assert split <= 0.1 * 200 if n == 12 else split <= 0.01 * 200


@pytest.mark.parametrize("n", [30, 100])
def test_two_speeds_with_noise_and_mixed_rounds_are_found(n):
    rng = random.Random(n)

    def draw():
        u = rng.random()
        if u < 0.1:                                   # a round that switched mode half-way
            return 100 * (1 + rng.random())
        return (100 if rng.random() < 0.5 else 200) * rng.lognormvariate(0, 0.05)

    found = sum(modes.describe([draw() for _ in range(n)], [0] * n)["count"] == 2 for _ in range(100))
    assert found >= 90


def test_too_few_rounds_are_never_split():
    assert modes.describe([96, 199] * 5, [0] * 10)["count"] == 1


def _recorder(rates_by_pass):
    rec = Recorder(plan=Plan(quick=False, budgets={"g": 1.0}))
    rec.meta["row"] = {"name": "row", "section": "data"}
    rec.links["row"] = {"baseline": None, "twin": None, "group": "g", "section": "data"}
    rec.rounds["row"] = [{"pass": p, "round": i, "rate": r, "s": 0.2} for p, rates in enumerate(rates_by_pass)
                         for i, r in enumerate(rates)]
    return rec


def test_a_bimodal_row_reports_its_modes_and_the_fast_modes_figure_not_a_median_between():
    rng = random.Random(3)
    passes = [[(96e3 if rng.random() < 0.6 else 199e3) * rng.lognormvariate(0, 0.01) for _ in range(15)]
              for _ in range(4)]
    row = _recorder(passes).row("row")
    assert len(row["modes"]) == 2 and row["headline_mode"] == 1
    assert row["examples_per_s"] == pytest.approx(199e3, rel=0.02)
    assert row["modes"][0]["examples_per_s"] == pytest.approx(96e3, rel=0.02)
    assert sum(m["rounds"] for m in row["modes"]) == 60 and row["rounds"] == 60
    # the interval is the fast mode's: a few percent, not the +-35 % a median between the modes would carry
    assert row["ci_half_width"] < 0.03
    used, found = headline_rounds([r for rs in _recorder(passes).rounds.values() for r in rs])
    assert found["count"] == 2 and all(r["rate"] > 150e3 for r in used)


def test_a_row_in_one_speed_has_no_modes():
    rng = random.Random(4)
    row = _recorder([[100e3 * rng.lognormvariate(0, 0.05) for _ in range(15)] for _ in range(2)]).row("row")
    assert row["modes"] is None and row["mode_switches"] == 0 and row["headline_mode"] is None
