"""Static checks of the benchmark modules: every recipe benchmark is one hop from its recipe (it imports
`reference`), names a recipe the catalogue knows, and declares the section that orders it. No TensorFlow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tfguide import catalogue

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RECIPE_MODULES = sorted(p for p in BENCHMARKS.glob("bench_*.py")
                        if p.name.startswith(("bench_data_", "bench_keras_", "bench_estimator_")))


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


def test_there_are_recipe_benchmarks():
    assert len(RECIPE_MODULES) >= 12


@pytest.mark.parametrize("path", RECIPE_MODULES, ids=lambda p: p.name)
def test_a_recipe_benchmark_imports_the_recipes_reference_code(path):
    imports = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imports.update(alias.name.split(".")[0] for alias in node.names)
    assert "reference" in imports, f"{path.name} does not import reference: it would re-implement the recipe"


@pytest.mark.parametrize("path", RECIPE_MODULES, ids=lambda p: p.name)
def test_a_recipe_benchmark_names_catalogue_recipes_and_its_section(path):
    known = set(catalogue.load())
    consts = _constants(_tree(path))
    recipes = [consts["RECIPE"]] if "RECIPE" in consts else list(consts.get("RECIPES", {}))
    assert recipes and set(recipes) <= known, f"{path.name}: {recipes} not all in the catalogue"
    assert consts.get("SECTION") in ("data", "training", "io", "once")
