"""pytest plugin: apply the mutant named by $TFGUIDE_MUTANT (tests/mutants.py) before any spec is collected.

Load it with `-p tests.mutant_plugin` (run from the repository root). Without the variable it does nothing.
"""

from __future__ import annotations

import os

import pytest

from tests.mutants import ENV_VAR, NotApplicable, apply

_applied = None


def pytest_configure(config):
    global _applied
    name = os.environ.get(ENV_VAR)
    if not name or _applied is not None:
        return
    try:
        _applied = apply(name)
    except (KeyError, NotApplicable) as exc:
        raise pytest.UsageError(f"mutant {name!r} cannot be applied: {exc}") from exc


def pytest_report_header(config):
    if _applied is not None:
        return [f"MUTANT {_applied.name} ({_applied.recipe}): {_applied.breaks}"]
    return None
