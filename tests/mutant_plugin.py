"""pytest plugin: apply the mutant named by $TFGUIDE_MUTANT (tests/mutants/) before any spec is collected.

Load it with `-p tests.mutant_plugin` (run from the repository root). Without the variable it does nothing.

- A mutant whose patch point does not exist in the installed TensorFlow/Keras ends the run at once with
  exit status NOT_APPLICABLE and a line saying why: it is reported as not applicable, never as killed.
- The run stops at the first failing spec of the mutant's own recipe (the conformance plugin tags every
  spec with its recipe id), or the first that fails the way a catalogued defect does (`known defect`):
  that is what kills it. A failure of any other recipe does not.
"""

from __future__ import annotations

import os

import pytest

from suite.support.conformance import DEFECT_KEY, RECIPE_KEY, VULNERABLE_KEY
from tests.mutants import ENV_VAR, NotApplicable, apply

NOT_APPLICABLE = 77  # exit status: no pytest exit code uses it

_applied = None
_session = None


def pytest_configure(config):
    global _applied
    name = os.environ.get(ENV_VAR)
    if not name or _applied is not None:
        return
    try:
        _applied = apply(name)
    except KeyError as exc:
        raise pytest.UsageError(f"mutant {name!r} cannot be applied: {exc}") from exc
    except NotApplicable as exc:
        pytest.exit(f"NOT APPLICABLE: mutant {name!r}: {exc}", returncode=NOT_APPLICABLE)


def pytest_sessionstart(session):
    global _session
    _session = session


def pytest_runtest_logreport(report):
    # A spec failing the way a catalogued defect does is reported as `known defect`, not `fail`, and an
    # advisory spec whose crafted file took effect as `vulnerable`: the suite caught the breakage all the same.
    caught = report.failed or any(key in (DEFECT_KEY, VULNERABLE_KEY) for key, _ in report.user_properties)
    if _applied is None or _session is None or not caught:
        return
    if (RECIPE_KEY, _applied.recipe) in report.user_properties:
        _session.shouldfail = f"mutant {_applied.name} killed by {report.nodeid}"


def pytest_report_header(config):
    if _applied is not None:
        return [f"MUTANT {_applied.name} ({_applied.recipe}): {_applied.breaks}"]
    return None
