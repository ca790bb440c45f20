"""What a recipe's benchmark declares about itself, as data beside its rows, and where the declarations are found.

Every recipe of the catalogue has a module `benchmarks/recipes/<id>.py` (keras.fit: recipes/keras_fit.py) holding
`BENCHMARK = Benchmark(recipe=...)`:

- `budgets`: the weight of each group it measures in the run's budget: its share of the measuring time, in
  seconds per pass of a full run on the 2-core machine this was built on (benchmarks/budget.py shares out the time
  a run has; the quick run's weights are a third, at least 3). A group without one is an error, never a silent
  default; `measured_once` names the groups measured once, not in every pass;
- `ladders`: what each tuning gave, as rows of the report read in order (`Ladder`);
- `targets`: the goals its rows are held to, each with the function that finds the evidence (`Target`);
- its sizes (examples, batch sizes) as `SIZES = {"full": {...}, "quick": {...}}` beside the rows (`sized`);
- `matmul_sets` / `copy_bytes`: the work its rows do, so that the limits' sweeps include it (a limit a row
  exceeds is a wrong limit: benchmarks/limits.py);
- or `measured_by` / `not_measured`: another recipe's rows measure this recipe's code, or why nothing does.

A recipe without rows of its own declares only that, as data: its module is `NOT_MEASURED = "<why>"` or
`MEASURED_BY = "<recipe id>"` and nothing else; the recipe is the module's name (`load` makes the Benchmark).

`all_benchmarks()` finds them in catalogue order; a recipe without a module, or a module that declares
another recipe, is an error naming the file to write. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "recipes"   # the declarations, one module per recipe id; the rest of benchmarks/ is the engine


class DeclarationError(Exception):
    """A recipe's benchmark declaration is missing or wrong; str() says which file to fix."""


@dataclass(frozen=True)
class Ladder:
    """Consecutive configurations of the same work, each rung a row of `table` by name, in order. `{b}` in a
    name or the title stands for a batch size: the ladder is then made once for every batch size of the
    table's rows (`batch_field`) above `batch_above` that has at least `min_rungs` rungs."""

    title: str
    table: str                     # "data" or "training": where the rows are
    unit: str                      # what `value` is, for the reader
    value: str                     # the row field each rung shows
    rungs: tuple                   # ((row name, label), ...)
    extra: tuple = ()              # ((rung key, row field), ...) carried beside the value
    min_rungs: int = 2
    batch_field: str = "global_batch"
    batch_above: int = 0

    def build(self, rows_by_table: dict) -> list[dict]:
        rows = {r["name"]: r for r in rows_by_table.get(self.table, [])}
        templated = "{b}" in self.title or any("{b}" in name for name, _ in self.rungs)
        batches = (sorted({r.get(self.batch_field) for r in rows.values()
                           if (r.get(self.batch_field) or 0) > self.batch_above}) if templated else [None])
        out = []
        for b in batches:
            found = [(label, rows[name.format(b=b)]) for name, label in self.rungs if name.format(b=b) in rows]
            if len(found) < self.min_rungs:
                continue
            out.append({"ladder": self.title.format(b=b), "unit": self.unit,
                        "rungs": [{"label": label, "row": r["name"], "value": r.get(self.value),
                                   "x_guide": r.get("speedup_vs_guide"),
                                   "x_guide_ci95": r.get("speedup_vs_guide_ci95"),
                                   **{key: r.get(source) for key, source in self.extra}} for label, r in found]})
        return out


@dataclass(frozen=True)
class Target:
    """A goal: `evaluate(report, threshold)` returns the report's entry ({target, value, value_ci95, row,
    evidence}) or None when no row of this run measures it; the report adds its verdict (`verdict`)."""

    key: str
    threshold: float
    evaluate: Callable[[dict, float], dict | None]


VERDICTS = ("met", "not met", "undetermined")


def verdict(interval, threshold: float) -> str:
    """`met` only when the whole 95 % interval clears the threshold, `not met` when it is all below, else
    `undetermined` (as is a value without an interval): a figure whose noise reaches across a target has not
    shown which side it is on."""
    low, high = (list(interval or []) + [None, None])[:2]
    if low is None or high is None:
        return "undetermined"
    return "met" if low >= threshold else "not met" if high < threshold else "undetermined"


@dataclass(frozen=True)
class Benchmark:
    recipe: str
    budgets: dict = field(default_factory=dict)
    measured_once: tuple = ()               # groups of `budgets` measured once, not in every pass
    ladders: tuple = ()
    targets: tuple = ()
    matmul_sets: Callable | None = None     # (plan) -> {set name: [(m, k, n), ...]}
    copy_bytes: Callable | None = None      # (plan) -> {bytes, ...}
    measured_by: str | None = None          # a recipe whose rows run this recipe's code
    not_measured: str | None = None         # why no row times this recipe

    @property
    def module(self) -> str:
        return module_name(self.recipe)


def slot(name: str):
    """A test that runs in another slot than its module's SLOT (benchmarks/conftest.py): `@slot("once")`."""
    def mark(test):
        test.slot = name
        return test

    return mark


def module_name(recipe: str) -> str:
    """Where a recipe's declaration is under benchmarks/, without `.py`: keras.fit -> recipes/keras_fit."""
    return f"{RECIPES.name}/{recipe.replace('.', '_')}"


def load(recipe: str) -> Benchmark:
    name = module_name(recipe)
    if not (HERE / f"{name}.py").exists():
        raise DeclarationError(f"recipe {recipe!r} has no benchmark declaration: write benchmarks/{name}.py with "
                               f"BENCHMARK = Benchmark(recipe={recipe!r}, ...) (benchmarks/declaration.py)")
    module = importlib.import_module("benchmarks." + name.replace("/", "."))
    declared = getattr(module, "BENCHMARK", None) or _without_rows(recipe, module)
    if not isinstance(declared, Benchmark) or declared.recipe != recipe:
        raise DeclarationError(f"benchmarks/{name}.py must declare BENCHMARK = Benchmark(recipe={recipe!r}, ...), "
                               "or NOT_MEASURED = '<why no row times it>', or MEASURED_BY = '<the recipe whose rows do>'")
    return declared


def _without_rows(recipe: str, module) -> Benchmark | None:
    """The declaration of a module that only says why no row of its own times its recipe (NOT_MEASURED) or which
    recipe's rows do (MEASURED_BY); None when it says neither."""
    not_measured, measured_by = getattr(module, "NOT_MEASURED", None), getattr(module, "MEASURED_BY", None)
    if not_measured is None and measured_by is None:
        return None
    return Benchmark(recipe=recipe, not_measured=not_measured, measured_by=measured_by)


def all_benchmarks(recipes=None) -> list[Benchmark]:
    """Every recipe's declaration, in catalogue order."""
    if recipes is None:
        from tfguide import catalogue

        recipes = catalogue.load()
    return [load(recipe) for recipe in recipes]


def budgets(declared: list[Benchmark]) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in declared:
        for group, seconds in b.budgets.items():
            if group in out:
                raise DeclarationError(f"benchmarks/{b.module}.py: group {group!r} has a budget in two declarations")
            out[group] = float(seconds)
    return out


def sized(sizes: dict, plan) -> SimpleNamespace:
    """A module's own sizes for this run: SIZES = {"full": {...}, "quick": {...}} beside its rows."""
    return SimpleNamespace(**sizes["quick" if plan.quick else "full"])


# -- text of a target's evidence (it is written into benchmarks.json as it reads) -----------------------

def num(v, fmt="{:,.0f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def fmt_ci(ci, fmt="{:.2f}") -> str:
    if not ci or ci[0] is None:
        return "no interval"
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"
