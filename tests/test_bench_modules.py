"""The benchmark modules and their declarations (benchmarks/declaration.py): every recipe of the catalogue has one
module `benchmarks/recipes/<id>.py` declaring its BENCHMARK, and that folder holds nothing else; a module that
times rows is one hop from its recipe (it imports `reference`) and says when it runs (SLOT); the declarations'
budgets cover every group, ladders and targets are data; a missing declaration is an error naming the file. No
TensorFlow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from benchmarks import declaration
from benchmarks.harness import Plan
from tfguide import catalogue

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RECIPES = BENCHMARKS / "recipes"
ENGINE_MODULES = {"bench_harness_selfcheck", "bench_later_passes"}   # the method's own checks, no recipe
DECLARATIONS = sorted(p for p in RECIPES.glob("*.py") if p.name != "__init__.py")
TIMING_MODULES = sorted(p for p in [*BENCHMARKS.glob("bench_*.py"), *DECLARATIONS] if "def test_" in p.read_text())


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _constants(tree: ast.Module) -> dict:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def test_every_catalogue_recipe_has_its_declaration_and_nothing_else_is_declared():
    recipes = catalogue.load()
    declared = declaration.all_benchmarks()
    assert [b.recipe for b in declared] == list(recipes)
    assert {f"recipes/{p.stem}" for p in DECLARATIONS} == {declaration.module_name(r) for r in recipes}
    assert {p.stem for p in BENCHMARKS.glob("bench_*.py")} == ENGINE_MODULES


@pytest.mark.parametrize("declared", declaration.all_benchmarks(), ids=lambda b: b.recipe)
def test_a_declaration_says_how_its_recipe_is_measured(declared):
    has_rows = "def test_" in (BENCHMARKS / f"{declared.module}.py").read_text()
    assert has_rows or declared.measured_by or declared.not_measured
    if declared.measured_by:
        assert declared.measured_by in catalogue.load() and not has_rows
        assert "def test_" in (BENCHMARKS / f"{declaration.module_name(declared.measured_by)}.py").read_text()


@pytest.mark.parametrize("path", [p for p in DECLARATIONS if p not in TIMING_MODULES], ids=lambda p: p.name)
def test_a_declaration_without_rows_is_data_its_reason_only(path):
    """NOT_MEASURED = "<why>" or MEASURED_BY = "<recipe>", nothing else: the recipe is the file's name."""
    tree = _tree(path)
    assert len(tree.body) == 1 and set(_constants(tree)) in ({"NOT_MEASURED"}, {"MEASURED_BY"}), path.name


def test_a_module_declaring_neither_rows_nor_a_reason_is_an_error_naming_what_to_declare(monkeypatch):
    monkeypatch.setattr(declaration.importlib, "import_module", lambda name: object())
    with pytest.raises(declaration.DeclarationError, match="NOT_MEASURED = .* MEASURED_BY = "):
        declaration.load("keras.layers")

@pytest.mark.parametrize("path", [p for p in TIMING_MODULES if p.parent == RECIPES], ids=lambda p: p.name)
def test_a_module_that_times_a_recipe_imports_the_recipes_reference_code(path):
    imports = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imports.update(alias.name.split(".")[0] for alias in node.names)
    assert "reference" in imports, f"{path.name} does not import reference: it would re-implement the recipe"


@pytest.mark.parametrize("path", TIMING_MODULES, ids=lambda p: p.name)
def test_a_module_that_times_rows_says_when_it_runs(path):
    assert _constants(_tree(path)).get("SLOT") in ("data", "training", "io", "once", "last")


def test_every_group_a_benchmark_measures_has_a_declared_budget_and_an_undeclared_one_is_an_error():
    plan = Plan.for_run(False)
    groups = set()
    for path in TIMING_MODULES:
        text = path.read_text()
        consts = _constants(_tree(path))
        if "plan.budget(GROUP)" in text:
            groups.add(consts["GROUP"])
    groups |= {"keras.quickstart/b32", "keras.quickstart/large"}   # named in recipes/keras_quickstart.py's tests
    assert groups <= set(plan.budgets)
    with pytest.raises(KeyError, match="no budget for the group 'nowhere'"):
        plan.budget("nowhere")
    assert Plan.for_run(True).budget("data.numpy") == max(3.0, plan.budget("data.numpy") / 3)


def test_a_recipe_without_a_declaration_is_an_error_naming_the_file_to_write():
    with pytest.raises(declaration.DeclarationError, match=r"benchmarks/recipes/data_nothing\.py"):
        declaration.load("data.nothing")


def test_ladders_are_built_from_the_rows_they_name_per_batch_size():
    ladder = declaration.Ladder("x at batch {b}", table="data", unit="u", value="v", batch_field="batch_size",
                                rungs=(("a/b{b}", "first"), ("c/b{b}", "second")), extra=(("s", "slowest"),))
    rows = {"data": [{"name": "a/b32", "batch_size": 32, "v": 1.0, "slowest": "map"},
                     {"name": "c/b32", "batch_size": 32, "v": 2.0, "speedup_vs_guide": 2.0},
                     {"name": "a/b64", "batch_size": 64, "v": 3.0}]}
    (built,) = ladder.build(rows)   # batch 64 has one rung, below min_rungs
    assert built["ladder"] == "x at batch 32" and [g["value"] for g in built["rungs"]] == [1.0, 2.0]
    assert built["rungs"][0]["s"] == "map" and built["rungs"][1]["x_guide"] == 2.0
