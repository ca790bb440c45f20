"""Applies $TFGUIDE_MUTANT in child processes that specs start (e.g. keras.distribute's workers).

tests/run_mutants.py puts this directory on PYTHONPATH only for mutants marked `subprocess=True`; the
pytest process itself gets the mutant from tests/mutant_plugin.py, so this skips it there.
"""

import os
import sys

_name = os.environ.get("TFGUIDE_MUTANT")
if _name and "pytest" not in " ".join(sys.argv[:3]):
    _root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, _root)
    try:
        from tests.mutants import apply

        apply(_name)
    finally:
        sys.path.remove(_root)
