"""Sanity checks of the mutation-testing machinery (tests/mutants/, mutant_plugin.py, run_mutants.py).

A spec passes unmutated and fails under a mutant that breaks exactly the behaviour it asserts; the
verdict comes from the mutant's own conformance report (only its recipe's failures kill it); the forked
runner reports per recipe. The full run is `python tests/run_mutants.py` (a few minutes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tfguide.catalogue import advisories, load
from tests import run_mutants
from tests.mutants import CATALOGUE, RECIPE_MODULES, spec_module
from tests.run_mutants import NOT_APPLICABLE, run_one, verdict

ROOT = Path(__file__).resolve().parent.parent
MUTANT = "batch_ignores_drop_remainder"
SPEC = "suite/test_data_batch.py::test_drop_remainder_drops_the_partial_last_batch"


def test_catalogue_has_mutants_for_every_recipe_id_and_runs_each_recipes_spec_module():
    assert {m.recipe for m in CATALOGUE.values()} == set(load())
    for mutant in CATALOGUE.values():
        path, _, spec = mutant.modules[0].partition("::")
        assert len(mutant.modules) == 1 and (ROOT / path).is_file(), mutant
        if spec:  # an advisory's mutant runs the one spec the catalogue names as reproducing it
            assert any(a.reproduced_by(mutant.recipe, spec) for a in advisories().values()), mutant
        else:
            assert mutant.modules == (spec_module(mutant.recipe),)



def test_one_mutant_module_per_recipe_each_holding_only_its_recipes_mutants():
    """tests/mutants/<id>.py for every recipe id and no other; a mutant registered from a module is that
    module's recipe's (a new recipe's mutants are one new file)."""
    assert sorted(RECIPE_MODULES) == sorted(r.replace(".", "_") for r in load())
    for mutant in CATALOGUE.values():
        assert mutant.apply.__module__ == f"tests.mutants.{mutant.recipe.replace('.', '_')}", mutant.name

def test_spec_passes_unmutated_and_the_mutant_kills_it():
    mutant = CATALOGUE[MUTANT]
    unmutated = run_one(mutant, sys.executable, nodes=[SPEC], apply=False)
    assert unmutated.status == "SURVIVED", unmutated.output[-2000:]
    mutated = run_one(mutant, sys.executable, nodes=[SPEC])
    assert mutated.status == "killed", mutated.output[-2000:]
    assert mutated.detail.startswith("test_drop_remainder_drops_the_partial_last_batch[")


def report(tmp_path, rows) -> Path:
    recipes = [{"id": rid, "status": "fail" if failed else "pass", "passed": passed, "failed": failed,
                "failures": [f"test_{rid}_spec: AssertionError"] * failed} for rid, passed, failed in rows]
    (tmp_path / "conformance.json").write_text(json.dumps({"recipes": recipes}))
    return tmp_path


@pytest.mark.parametrize("code, rows, status", [
    (1, [("data.batch", 3, 1), ("data.csv", 2, 0)], "killed"),
    # Only a failure of the mutant's own recipe kills it.
    (1, [("data.batch", 4, 0), ("data.csv", 1, 1)], "SURVIVED"),
    (0, [("data.batch", 4, 0)], "SURVIVED"),
    # No spec of the recipe ran (a collection error): neither killed nor survived.
    (2, [("data.batch", 0, 0)], "ERROR"),
])
def test_verdict_reads_the_mutants_own_recipe_row_of_its_report(tmp_path, code, rows, status):
    outcome = verdict(CATALOGUE[MUTANT], code, report(tmp_path, rows), "", 1.0)
    assert outcome.status == status
    if status == "killed":
        assert outcome.detail == "test_data.batch_spec: AssertionError"


def test_a_mutant_that_does_not_apply_is_reported_as_such_never_as_killed(tmp_path):
    from tests.mutant_plugin import NOT_APPLICABLE as plugin_exit_status

    assert plugin_exit_status == NOT_APPLICABLE
    output = "Exit: NOT APPLICABLE: mutant 'relu_is_leaky': needs Keras 3 internals\n"
    outcome = verdict(CATALOGUE["relu_is_leaky"], NOT_APPLICABLE, tmp_path, output, 1.0)
    assert (outcome.status, outcome.detail) == ("n/a", "needs Keras 3 internals")


def test_a_missing_report_is_an_error(tmp_path):
    assert verdict(CATALOGUE[MUTANT], 1, tmp_path, "", 1.0).status == "ERROR"


def test_forked_runner_prints_each_mutant_and_the_per_recipe_count(capsys):
    assert run_mutants.main(["-k", MUTANT, "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert f"[1/1] {MUTANT} (data.batch): killed" in out
    assert any(line.split()[:2] == ["data.batch", "1/1"] for line in out.splitlines())
    assert "1/1 applicable mutants killed, 0 survived, 0 errors, 0 not applicable here" in out
