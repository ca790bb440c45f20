"""The plan of a run (quick or full) and the recorder that turns rounds into report rows.

Method: every row is measured in rounds, round-robin with the rows it is compared with,
adaptively until its median's 95 % interval is within +-5 % or its group's budget is spent, in four
passes (full run), each in its own process - see benchmarks/rounds.py for the loop and benchmarks/stats.py
for the interval. A row reports the median rate, its interval, the spread (IQR, CV), how many rounds were
taken and how many were measured under interference, cores used and peak memory. Nothing here
asserts anything about time.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from benchmarks import machine_speed, modes
from benchmarks.stats import (MIN_ROUNDS_FOR_INTERVAL, half_width, median_ci, pass_log_medians, pooled_sd,
                              rate_interval, spread)

TARGET_HALF_WIDTH = 0.05
# The TF Profiler's input-pipeline analysis: < 5 % of step time waiting for input is not input-bound,
# 5-20 % moderately, >= 20 % highly (tensorflow/core/profiler/convert/op_stats_to_input_pipeline_analysis.cc,
# kModeratelyInfeedBoundThresholdInPercent / kHighlyInfeedBoundThresholdInPercent).
INPUT_BOUND_MODERATE, INPUT_BOUND_HIGH = 0.05, 0.20


def quick_budget(full_s: float) -> float:
    """A group's budget in the quick run: a third of the full run's, at least 3 s."""
    return max(3.0, full_s / 3)


# The rounds of a pass of an A/B: what its share of the pair's time buys. Many short rounds beat a few long ones:
# the ratio of two processes' rounds of one tf.data row varies less with longer rounds, but not by much
# (docs/measurements.md, "How the machine's speed moves", "One round against the next").
PAIRED_MAX_ROUNDS = 1000
# Every round lasts at least this long (its repetitions calibrated on the warm-up, as pyperf calibrates a value's
# loops to its 100 ms minimum): a round of a few milliseconds measures a few dozen of tf.data's thread hand-offs and
# timer ticks, each of which can cost as much as the work itself on a small VM (docs/benchmark-noise.md).
MIN_ROUND_S = 0.1
# The quick smoke run (CI) checks that everything runs within 3 minutes; its figures are not for deciding, and 0.1 s
# rounds would leave it no time for its minimum rounds. Its rounds keep the old floor; an A/B's passes (quick sizes,
# paired) take MIN_ROUND_S.
SMOKE_MIN_ROUND_S = 0.02


@dataclass(frozen=True)
class Plan:
    """How a run measures. `--quick` is the CI smoke run; the full run is the measurement. A benchmark's own
    sizes are its module's SIZES (benchmarks/declaration.py); the sizes here are shared by several of them."""

    quick: bool
    passes: int = 4                                 # each in its own process (benchmarks/passes.py)
    min_rounds_per_pass: int = 3                    # x 4 passes: 12 rounds (a 95 % prediction interval needs 10)
    max_rounds_per_pass: int = 40
    target_half_width: float = TARGET_HALF_WIDTH
    min_round_s: float = MIN_ROUND_S
    budgets: dict = field(default_factory=dict)     # group -> seconds per pass: every recipe's declaration
    # shared by several benchmarks
    file_examples: int = 10_000                     # data.csv, data.text, data.tfrecord
    file_batches: tuple[int, ...] = (32, 256)       # the same
    ladder_batch: int = 256                         # the batch size whose rows carry every stage of their ladder
    small_batches: tuple[int, ...] = (4, 32, 256)   # data.batch / data.padded_batch: the guide's 4, then larger
    train_examples: int = 60_000                    # keras.quickstart's images
    test_examples: int = 10_000                     # held-out images: keras.quickstart, keras.distribute
    steps_per_execution: int = 100                  # keras.quickstart, keras.fit
    train_round_examples: int = 12_800              # per training round: the same work in every run and pass
    save_hidden: tuple[int, ...] = (64, 1024)       # keras.save_*: the guide's model, and a wider one (MBs)
    # A pass of python -m benchmarks.ab, taking turns with the other side's process (benchmarks/baton.py): its
    # rounds are paired with the other side's by index, so every row keeps measuring until its group's share is
    # spent (no unit leaves the rotation for being precise already, no cap but PAIRED_MAX_ROUNDS), and the units
    # that are no row's (a ladder's stages) are not measured.
    paired: bool = False

    @classmethod
    def for_run(cls, quick: bool, budgets: dict | None = None, child: bool = False, paired: bool = False) -> "Plan":
        """The plan of a full or quick run; `budgets` (the weights of the groups' shares of the run's budget:
        benchmarks/budget.py) defaults to what every recipe's benchmark declares (benchmarks/declaration.py).
        `child`: a pass in a process of its own, whose rounds are pooled with other passes' (a later pass of a
        full run, a pass of python -m benchmarks.ab): the minimum rounds of a pass of a full run, also when quick.
        `paired`: a pass of python -m benchmarks.ab (see the field)."""
        if budgets is None:
            from benchmarks import declaration

            budgets = declaration.budgets(declaration.all_benchmarks())
        if not quick:
            return cls(quick=False, budgets=dict(budgets), paired=paired,
                       max_rounds_per_pass=PAIRED_MAX_ROUNDS if paired else cls.max_rounds_per_pass)
        return cls(quick=True, passes=1, min_rounds_per_pass=cls.min_rounds_per_pass if child else 6,
                   max_rounds_per_pass=PAIRED_MAX_ROUNDS if paired else 12, paired=paired,
                   min_round_s=MIN_ROUND_S if paired or child else SMOKE_MIN_ROUND_S,
                   budgets={group: quick_budget(s) for group, s in budgets.items()}, file_examples=2_000,
                   file_batches=(256,), small_batches=(4, 256), train_examples=6_000, test_examples=2_000,
                   steps_per_execution=50, train_round_examples=3_200, save_hidden=(64, 512))

    def budget(self, group: str) -> float:
        """The group's declared budget: its weight in the run's budget (benchmarks/budget.py)."""
        if group not in self.budgets:
            raise KeyError(f"no budget for the group {group!r}: declare it in the `budgets` of its recipe's BENCHMARK "
                           "(benchmarks/declaration.py)")
        return float(self.budgets[group])

    def describe(self) -> dict:
        return {"quick": self.quick, "passes": self.passes, "min_rounds_per_pass": self.min_rounds_per_pass,
                "max_rounds_per_pass": self.max_rounds_per_pass, "target_half_width": self.target_half_width,
                "min_round_s": self.min_round_s, "budget_weights": dict(self.budgets),
                "interval": ("distribution-free order-statistic interval of the median, 95 %, each side widened to "
                             "Student's t interval over the passes' medians (log scale) where that is wider "
                             "(benchmarks/stats.py)" if self.passes > 1 else
                             "distribution-free order-statistic interval of the median, 95 % (benchmarks/stats.py)"),
                "min_rounds_for_interval": MIN_ROUNDS_FOR_INTERVAL}


def _select(rounds: list[dict], ref: float | None = None) -> tuple[list[dict], str]:
    """The rounds a row's statistics use: its clean ones - not measured under interference, not slowed (the
    machine's speed probe below benchmarks/machine_speed.py SLOWED_BELOW of the run's reference `ref`) - when there
    are enough of them; else those not measured under interference, slowed ones included; else all."""
    clean = [r for r in rounds if not r.get("interfered") and not machine_speed.slowed(r, ref)]
    if len(clean) >= MIN_ROUNDS_FOR_INTERVAL or len(clean) == len(rounds):
        return clean, "clean rounds"
    quiet = [r for r in rounds if not r.get("interfered")]
    if len(quiet) >= MIN_ROUNDS_FOR_INTERVAL or len(quiet) == len(rounds):
        return quiet, "rounds without interference (too few at the machine's full speed: slowed ones included)"
    return rounds, "all rounds (too few clean ones: measured under interference)"


def headline_rounds(used: list[dict]) -> tuple[list[dict], dict | None]:
    """The rounds a row's figure comes from: all of them when they form one mode; the headline mode's when they
    fall into separated modes (benchmarks/modes.py), with the modes' description."""
    if len(used) < modes.MIN_ROUNDS:
        return used, None
    found = modes.describe([r["rate"] for r in used], [r["pass"] for r in used])
    if found["count"] == 1:
        return used, None
    found["headline"] = modes.headline(found["shares"])
    return [r for r, m in zip(used, found["assignment"]) if m == found["headline"]], found


def _paired(a: list[dict], b: list[dict]) -> list[tuple[dict, dict]]:
    # Pairs one of whose rounds ran with the machine slowed are kept, as the A/B keeps them (benchmarks/ab.py): the
    # two rounds are seconds apart, and the median of the ratios rides out a pair that straddled a change of speed.
    by_key = {(x["pass"], x["round"]): x for x in b}
    pairs = [(x, by_key[(x["pass"], x["round"])]) for x in a if (x["pass"], x["round"]) in by_key]
    clean = [(x, y) for x, y in pairs if not x.get("interfered") and not y.get("interfered")]
    return clean if len(clean) >= MIN_ROUNDS_FOR_INTERVAL else pairs


def ratio_stats(a: list[dict], b: list[dict], fn=lambda x, y: x["rate"] / y["rate"]) -> dict | None:
    """Median and interval of fn(a_i, b_i) over rounds of a and b taken in the same group round."""
    pairs = _paired(a, b)
    if not pairs:
        return None
    values = [fn(x, y) for x, y in pairs if x["rate"] and y["rate"]]
    if not values:
        return None
    ci = median_ci(values)
    return {"median": ci["median"], "ci95": [ci["low"], ci["high"]], "pairs": len(values)}


def modes_phrase(row: dict) -> str:
    """', in 2 modes: 96,100 (77 %) and 199,000 (23 %), 8 switches; the figure is the mode of 199,000' (empty with
    one mode)."""
    found = row.get("modes")
    if not found:
        return ""
    parts = " and ".join(f"{m['examples_per_s']:,.0f} ({m['share']:.0%})" for m in found)
    head = found[row["headline_mode"]]["examples_per_s"]
    return (f", in {len(found)} modes: {parts}, {row['mode_switches']} switches; the figure is the mode of "
            f"{head:,.0f}")


def _modes_fields(used: list[dict], found: dict | None) -> dict:
    """A row's `modes` (one per separated speed of its rounds, slowest first: median, interval, share of the rounds,
    rounds) and `mode_switches`; one mode and no switches when its rounds form one."""
    if found is None:
        return {"modes": None, "mode_switches": 0, "headline_mode": None}
    out = []
    for k in range(found["count"]):
        rounds = [r for r, m in zip(used, found["assignment"]) if m == k]
        ci = median_ci([r["rate"] for r in rounds])
        out.append({"examples_per_s": ci["median"], "examples_per_s_ci95": [ci["low"], ci["high"]],
                    "share": found["shares"][k], "rounds": len(rounds)})
    return {"modes": out, "mode_switches": found["switches"], "headline_mode": found["headline"]}


@dataclass
class Recorder:
    """Collects the rounds of every unit; `rows()` turns them into the report's rows."""

    plan: Plan
    progress: callable = print
    pass_index: int = 0
    limits: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)         # unit key -> row fields (None for stages and twins)
    links: dict = field(default_factory=dict)        # unit key -> {"baseline", "twin", "group"}
    rounds: dict = field(default_factory=dict)       # unit key -> [round dict]
    groups: list = field(default_factory=list)
    selfcheck: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    threads: dict = field(default_factory=dict)
    budget: object = None                            # benchmarks/budget.py Budget: each group's share of the time
    watchdog: object = None                          # benchmarks/watchdog.py Watchdog: every round's deadline
    quality: list = field(default_factory=list)      # time-to-quality rows (benchmarks/quality.py)
    environment: dict = field(default_factory=dict)  # tfguide/environment.py fingerprint of this process
    _reference: tuple = (None, None)                 # (rounds counted, the run's probe reference) - a cache

    # -- time ------------------------------------------------------------------------------------------

    def activity(self, what: str, limit_s: float):
        """Around a piece of work: the watchdog ends the process, naming it, when it runs past `limit_s`."""
        return self.watchdog.activity(what, limit_s) if self.watchdog is not None else contextlib.nullcontext()

    def allot(self, group: str, declared_s: float) -> float:
        """The seconds `group` measures for: its share of what is left of the budget, or, without a budget (a
        test), its declared seconds."""
        return self.budget.allot(group) if self.budget is not None else declared_s

    def behind(self, group: str) -> bool:
        """Whether the process is behind its budget (benchmarks/budget.py); never without one."""
        return self.budget is not None and self.budget.behind(group)

    def spent(self, group: str, measured_s: float) -> float | None:
        """`group` measured for `measured_s`; the seconds its set-up took (None without a budget)."""
        if self.budget is None:
            return None
        self.budget.group_done(group, measured_s)
        return self.budget.done[group]["setup_s"]

    def time_left(self) -> str:
        if self.budget is None:
            return ""
        return f"; {max(0.0, self.budget.left()) / 60:.1f} of {self.budget.total_s / 60:.1f} min left"

    # -- recording ---------------------------------------------------------------------------------

    def declare(self, group, units) -> None:
        for u in units:
            if u.key in self.links and self.links[u.key]["group"] != group.name:
                raise ValueError(f"unit {u.key} declared in two groups")
            self.links[u.key] = {"baseline": u.baseline, "twin": u.twin, "group": group.name,
                                 "section": group.section}
            if u.row is not None:
                self.meta[u.key] = dict(u.row)
            else:
                self.meta.setdefault(u.key, None)
            self.rounds.setdefault(u.key, [])

    def add_round(self, key: str, pass_index: int, round_index: int, result: dict) -> None:
        self.rounds[key].append({"pass": pass_index, "round": round_index, **result})

    def add_external(self, section: str, group: str, row: dict, rounds: list[dict]) -> None:
        """A row measured elsewhere (a worker process): its rounds come as dicts with at least `rate`."""
        key = row["name"]
        self.links[key] = {"baseline": None, "twin": None, "group": group, "section": section}
        self.meta[key] = dict(row)
        self.rounds[key] = [{"pass": 0, "round": i, **r} for i, r in enumerate(rounds)]
        self._announce(key)

    def group_done(self, group, pass_index, *, once=False, rounds, seconds, warmup_s, budget_s, budget_spent,
                   unfinished) -> None:
        setup = self.spent(group.name, seconds)
        self.groups.append({"group": group.name, "section": group.section, "pass": "once" if once else pass_index + 1,
                            "rounds": rounds, "measured_s": seconds, "warmup_s": warmup_s, "setup_s": setup,
                            "budget_s": budget_s, "budget_spent": budget_spent, "units": len(group.units),
                            "unfinished": unfinished})
        for u in group.units:
            if u.row is not None:
                self._announce(u.key)
        note = (f"its {budget_s:.1f} s spent with {len(unfinished)} unit(s) short of +-5 %" if budget_spent
                else "all within +-5 %")
        when = "measured once" if once else f"pass {pass_index + 1}"
        self.progress(f"[bench] {group.name} {when}: {rounds} rounds in "
                      f"{seconds:.1f} s (+{warmup_s:.1f} s warm-up), {note}{self.time_left()}")

    def probe_reference(self) -> float | None:
        """The run's full speed (benchmarks/machine_speed.py): over every probed round of every unit so far."""
        counted = sum(len(v) for v in self.rounds.values())
        if self._reference[0] != counted:
            self._reference = (counted, machine_speed.reference(
                [p for rounds in self.rounds.values() for p in machine_speed.round_probes(rounds)]))
        return self._reference[1]

    def machine_speed(self) -> dict | None:
        """The report's account of the machine's speed over the run (None when no round was probed)."""
        return machine_speed.describe([r for rounds in self.rounds.values() for r in rounds], self.probe_reference())

    def precise_enough(self, key: str) -> bool:
        used, _ = _select(self.rounds.get(key, []), self.probe_reference())
        used, _ = headline_rounds(used)
        if len(used) < MIN_ROUNDS_FOR_INTERVAL:
            return False
        hw = half_width(median_ci([r["rate"] for r in used]))
        return hw is not None and hw <= self.plan.target_half_width

    def skip(self, section: str, name: str, reason: str, recipe: str | None = None, *, budget: bool = False) -> None:
        """`name` was not measured, and why; `budget`: because the run's budget was spent (benchmarks/budget.py)."""
        self.skipped.append({"section": section, "name": name, "reason": reason, "recipe": recipe,
                             **({"budget": True} if budget else {})})
        self.progress(f"[bench] {section} {name}: skipped ({reason})")

    def add_quality(self, row: dict) -> None:
        """A time-to-quality row (benchmarks/quality.py)."""
        self.quality.append(row)
        hw = row.get("ci_half_width")
        self.progress(f"[bench] quality {row['name']}: {row['seconds']:.2f} s to {row['target_accuracy']:.2f} "
                      f"accuracy" + (f" ±{hw:.0%}" if hw is not None else "") + f" ({row['reached']} of "
                      f"{row['trials']} trials reached it)")

    def add_selfcheck(self, row: dict) -> None:
        self.selfcheck.append(row)
        self.progress(f"[bench] selfcheck {row['name']}: measured {row['measured_s'] * 1e3:.1f} ms, expected "
                      f"{row['expected_s'] * 1e3:.1f} ms, ratio {row['measured_over_expected']:.3f} "
                      f"({row['corrected_over_expected']:.3f} with the measured generator start-up), "
                      f"CV {row['cv']:.1%}")

    def _announce(self, key: str) -> None:
        row = self.row(key)
        if row is None:
            return
        hw = row.get("ci_half_width")
        extra = f" ±{hw:.1%}" if hw is not None else " (no interval yet)"
        inter = f", {row['rounds_interfered']} interfered" if row.get("rounds_interfered") else ""
        self.progress(f"[bench] {row['section']} {key}: {row['examples_per_s']:,.0f} {row.get('unit', 'examples')}/s"
                      f"{extra} (median of {row['rounds']} rounds{inter}), {row['cores_used'] or 0:.2f} cores"
                      + modes_phrase(row))

    # -- rows ----------------------------------------------------------------------------------------

    def unit_stats(self, key: str) -> dict | None:
        rounds = self.rounds.get(key) or []
        if not rounds:
            return None
        ref = self.probe_reference()
        used, over = _select(rounds, ref)
        # Rounds in separated modes: the figure is the headline mode's, every mode is listed (benchmarks/modes.py).
        head, found = headline_rounds(used)
        rates = [r["rate"] for r in head]
        # Rounds of one pass share the machine's state of that minute: the passes' spread widens the intervals,
        # estimated over the rows of the group, which share their passes (benchmarks/stats.py).
        interval = rate_interval(rates, [r["pass"] for r in head], pooled=self.pass_spread(key))
        s = spread(rates)
        hw = interval["half_width"]
        others = [r["others_cores"] for r in rounds if r.get("others_cores") is not None]
        steal = [r["steal_share"] for r in rounds if r.get("steal_share") is not None]
        loads = [r["load_average"] for r in rounds if r.get("load_average") is not None]
        cores = [r["cores_used"] for r in used if r.get("cores_used") is not None]
        n_inter = sum(1 for r in rounds if r.get("interfered"))
        slowed = [machine_speed.slowed(r, ref) for r in rounds]
        n_slowed = sum(slowed)
        return {
            "examples_per_s": interval["median"], "examples_per_s_ci95": interval["ci"],
            "ci_half_width": hw, "ci_coverage": interval["ci_coverage"],
            "examples_per_s_pi95": interval["pi95"], "pi_coverage": interval["pi_coverage"],
            "interval_width_from": interval["width_from"], "pass_medians_sd": interval["pass_medians_sd"],
            "precise": hw is not None and hw <= self.plan.target_half_width,
            "examples_per_s_iqr": s["iqr"], "cv": s["cv"], "cv_flag": bool(s["cv"] > 0.05),
            "rounds": len(used), "rounds_recorded": len(rounds), "rounds_interfered": n_inter,
            **({"rounds_slowed": n_slowed} if n_slowed else {}),
            "statistic_over": over, "under_interference": over.startswith("all") and n_inter > 0,
            "passes": len({r["pass"] for r in rounds}),
            "others_cores_median": spread(others)["median"] if others else None,
            "steal_share_max": max(steal) if steal else None,
            "load_average": [min(loads), max(loads)] if loads else None,
            "cores_used": spread(cores)["median"] if cores else None,
            "peak_rss_bytes": max((r.get("peak_rss_bytes") or 0) for r in rounds) or None,
            **_modes_fields(used, found),
            "timing": {"rates": [r["rate"] for r in rounds], "seconds": [r["s"] for r in rounds],
                       "pass": [r["pass"] for r in rounds], "interfered": [bool(r.get("interfered")) for r in rounds],
                       "repeats": [r.get("repeats", 1) for r in rounds],
                       **({"slowed": slowed} if n_slowed else {})},
        }

    def pass_spread(self, key: str) -> tuple[float, int] | None:
        """The spread of the pass medians pooled over the rows of `key`'s group (stats.pooled_sd)."""
        group = self.links.get(key, {}).get("group")
        if group is None:
            return None
        logs = []
        for other, link in self.links.items():
            if link["group"] == group and other in self.meta and self.rounds.get(other):
                used, _ = headline_rounds(_select(self.rounds[other], self.probe_reference())[0])
                logs.append(pass_log_medians([r["rate"] for r in used], [r["pass"] for r in used]))
        return pooled_sd(logs)

    def row(self, key: str) -> dict | None:
        meta = self.meta.get(key)
        if meta is None:
            return None
        stats = self.unit_stats(key)
        if stats is None:
            return None
        row = {**meta, **stats}
        links = self.links.get(key, {})
        row["precision"] = ("met" if row["precise"] else
                            ("no interval: fewer than 6 rounds" if row["ci_half_width"] is None else
                             f"not met: ±{row['ci_half_width']:.1%} when the budget was spent"))
        base = links.get("baseline")
        if base and self.rounds.get(base):
            ratio = ratio_stats(self.rounds[key], self.rounds[base])
            row["speedup_vs_guide"] = ratio["median"] if ratio else None
            row["speedup_vs_guide_ci95"] = ratio["ci95"] if ratio else [None, None]
            row["baseline"] = base
        elif row.get("is_guide"):
            row["speedup_vs_guide"], row["speedup_vs_guide_ci95"], row["baseline"] = 1.0, [1.0, 1.0], key
        else:
            row.setdefault("speedup_vs_guide", None)
            row.setdefault("speedup_vs_guide_ci95", [None, None])
        twin = links.get("twin")
        if twin and self.rounds.get(twin):
            # Per round: the twin runs the same compiled step on a batch that is already in memory, so
            # 1 - rate/rate_twin is the share of the real step spent getting the next batch.
            wait = ratio_stats(self.rounds[key], self.rounds[twin], lambda x, y: 1.0 - x["rate"] / y["rate"])
            if wait:
                row["input_wait_share"] = wait["median"]
                row["input_wait_share_ci95"] = wait["ci95"]
                row["input_wait_method"] = "paired compute-only twin (same model and step, batch already in memory)"
        direct = [r["extra_input_s"] / r["s"] for r in self.rounds[key] if r.get("extra_input_s") is not None and r["s"]]
        if direct and "input_wait_share" not in row:
            ci = median_ci(direct)
            row["input_wait_share"], row["input_wait_share_ci95"] = ci["median"], [ci["low"], ci["high"]]
            row["input_wait_method"] = "timed directly (the loop's own input step)"
        if "input_wait_share" in row or row.get("section") == "training":
            share = row.get("input_wait_share")
            row.setdefault("input_wait_share", None)
            row.setdefault("input_wait_share_ci95", [None, None])
            row.setdefault("input_wait_method", "not measured for this row")
            row["input_bound"] = (None if share is None else "highly" if share >= INPUT_BOUND_HIGH else
                                  "moderately" if share >= INPUT_BOUND_MODERATE else "no")
        first = [r["extra_first_batch_s"] / r.get("repeats", 1) for r in self.rounds[key]
                 if r.get("extra_first_batch_s") is not None]
        if first:
            row["time_to_first_batch_s"] = spread(first)["median"]
        if row.get("ladder_keys"):
            row["ladder"] = self.ladder(row["ladder_keys"])
            slowest = max((s for s in row["ladder"] if s["cost_us_per_example"] is not None),
                          key=lambda s: s["cost_us_per_example"], default=None)
            row["slowest_stage"] = slowest["stage"] if slowest else None
        return row

    def ladder(self, stages: list) -> list[dict]:
        """Each stage's rate and its cost per example: 1/rate minus the previous stage's 1/rate."""
        out, prev_inv = [], 0.0
        for label, key in stages:
            st = self.unit_stats(key)
            rate = st["examples_per_s"] if st else None
            cost = None
            if rate:
                cost = (1.0 / rate - prev_inv) * 1e6
                prev_inv = 1.0 / rate
            out.append({"stage": label, "unit": key, "examples_per_s": rate,
                        "examples_per_s_ci95": st["examples_per_s_ci95"] if st else [None, None],
                        "cost_us_per_example": cost})
        return out

    def rows(self, section: str) -> list[dict]:
        out = []
        for key, meta in self.meta.items():
            if meta is None or self.links.get(key, {}).get("section") != section:
                continue
            row = self.row(key)
            if row is not None:
                out.append(row)
        return out
