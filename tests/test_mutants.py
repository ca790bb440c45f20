"""Sanity check of the mutation-testing machinery (tests/mutants.py, mutant_plugin.py, run_mutants.py).

Runs ONE spec twice in subprocesses: unmutated it passes; under a mutant that breaks exactly the
behaviour it asserts, it fails. The full run is `python tests/run_mutants.py` (a few minutes).
"""

from __future__ import annotations

import sys
from pathlib import Path

from reports.catalogue import load
from tests.mutants import CATALOGUE
from tests.run_mutants import run_one

ROOT = Path(__file__).resolve().parent.parent
MUTANT = "batch_ignores_drop_remainder"
SPEC = "suite/test_data_batch.py::test_drop_remainder_drops_the_partial_last_batch"


def test_catalogue_has_mutants_for_every_recipe_id_and_names_existing_spec_modules():
    assert {m.recipe for m in CATALOGUE.values()} == set(load())
    for mutant in CATALOGUE.values():
        for module in mutant.modules:
            assert (ROOT / module).is_file(), (mutant.name, module)


def test_spec_passes_unmutated_and_the_mutant_kills_it():
    mutant = CATALOGUE[MUTANT]
    unmutated = run_one(mutant, sys.executable, nodes=[SPEC], apply=False)
    assert unmutated.status == "SURVIVED", unmutated.output[-2000:]
    mutated = run_one(mutant, sys.executable, nodes=[SPEC], every_failure=True)
    assert mutated.status == "killed", mutated.output[-2000:]
    assert mutated.killed_by.startswith(SPEC)
