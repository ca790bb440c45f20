"""Mutants that disarm the model-loading security fixes catalogued after the first 21 advisories (issue 27).

Registered into tests.mutants.CATALOGUE by `@mutant` on import (tests/mutants.py imports this module).
"""

from __future__ import annotations
