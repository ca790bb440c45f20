"""A recipe is five files: its catalogue entry (tfguide/catalogue.toml), reference/<id>.py,
suite/test_<id>.py, its benchmark declaration benchmarks/recipes/<id>.py, and its mutants, tests/mutants/<id>.py.

In a temporary copy of this checkout a toy recipe `data.shout` is added with exactly those, and nothing else is
edited; then the copy's own tools run as a user would run them: the suite collects (every spec module, the new
one with its recipe mark), the conformance report has a row for it, the benchmark declarations are found and
give the plan its budgets, the project's counting tests (the matrix, the benchmark modules, the import arrows,
the mutants' coverage) pass with one recipe more, and the mutant is killed by the new spec.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tfguide import catalogue

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 600

CATALOGUE_ENTRY = '''
[[recipe]]
id = "data.shout"
section = "9.9"
title = "toy recipe: upper-case every string of a dataset"
  [[recipe.api]]
  state = "current"
  sentence = "Works as the toy guide writes it."
'''
REFERENCE = '''"""Toy recipe data.shout: upper-case every string of a dataset."""


def shout(tf, words):
    return tf.data.Dataset.from_tensor_slices(words).map(tf.strings.upper)
'''
SPEC = '''"""data.shout: every string comes out upper-cased."""

import pytest

from reference import data_shout
from suite.support.helpers import tf

pytestmark = pytest.mark.recipe("data.shout")


def test_shout_upper_cases_every_element_in_order():
    assert [w.numpy() for w in data_shout.shout(tf, ["a", "bc"])] == [b"A", b"BC"]
'''
BENCHMARK = '''NOT_MEASURED = "a toy recipe: one map over two strings"
'''
MUTANT = '''"""The mutants of data.shout."""

from tests.mutants._core import _tf, mutant


@mutant("data.shout", "tf.strings.upper returns its input unchanged")
def upper_is_identity():
    _tf().strings.upper = lambda value, *args, **kwargs: value
'''


def _copy_checkout(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TFGUIDE_"))}
    env["PYTHONPATH"] = str(copy)   # the copy's code, not this checkout's
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("checkout")
    _copy_checkout(copy)
    # the five files: nothing else is edited
    with open(copy / "tfguide" / "catalogue.toml", "a", encoding="utf-8") as toml:
        toml.write(CATALOGUE_ENTRY)
    (copy / "reference" / "data_shout.py").write_text(REFERENCE)
    (copy / "suite" / "test_data_shout.py").write_text(SPEC)
    (copy / "benchmarks" / "recipes" / "data_shout.py").write_text(BENCHMARK)
    (copy / "tests" / "mutants" / "data_shout.py").write_text(MUTANT)
    return copy


def test_the_copy_has_one_recipe_more(copy):
    assert len(catalogue.load(copy / "tfguide" / "catalogue.toml")) == len(catalogue.load()) + 1


def test_the_suite_collects_and_the_conformance_report_has_the_new_recipe(copy):
    collected = _run(copy, "-m", "pytest", "suite", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert "suite/test_data_shout.py::test_shout_upper_cases_every_element_in_order" in collected.stdout
    ran = _run(copy, "-m", "pytest", "suite/test_data_shout.py", "-q", "-p", "no:cacheprovider",
               "--report-dir", str(copy / "out"))
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    report = json.loads((copy / "out" / "conformance-partial.json").read_text())
    rows = {r["id"]: r for r in report["recipes"]}
    assert len(rows) == len(catalogue.load()) + 1
    assert rows["data.shout"]["status"] == "pass" and rows["data.shout"]["passed"] == 1


def test_the_benchmark_declaration_is_found_and_the_counting_tests_pass(copy):
    found = _run(copy, "-c", "from benchmarks import declaration as d; from benchmarks.harness import Plan; "
                             "print(len(d.all_benchmarks()), d.load('data.shout').not_measured is not None, "
                             "len(Plan.for_run(True).budgets))")
    assert found.returncode == 0, found.stderr[-3000:]
    assert found.stdout.split() == [str(len(catalogue.load()) + 1), "True", str(len(_budgets()))]
    coverage = "tests/test_mutants.py::test_catalogue_has_mutants_for_every_recipe_id_and_runs_each_recipes_spec_module"
    counts = _run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_matrix.py",
                  "tests/test_bench_modules.py", "tests/test_import_arrows.py", coverage)
    assert counts.returncode == 0, counts.stdout[-3000:] + counts.stderr[-3000:]


def test_the_new_mutant_is_killed_by_the_new_spec(copy):
    run = _run(copy, "tests/run_mutants.py", "-k", "upper_is_identity", "-j", "1")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1/1 applicable mutants killed" in run.stdout


def _budgets() -> dict:
    from benchmarks import declaration

    return declaration.budgets(declaration.all_benchmarks())
