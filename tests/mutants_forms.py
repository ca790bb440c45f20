"""Mutants of the forms the guide's text allows beside the form its code runs (issue 28).

Registered into tests.mutants.CATALOGUE by `@mutant` on import (tests/mutants.py imports this module).
"""

from __future__ import annotations
