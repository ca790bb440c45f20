"""`python -m reports <command> ...`: work with reports after they were written.

Commands:
  benchmarks DIR          render DIR/benchmarks.json into benchmarks.md and plots (reports/benchmarks.py)
  compare A.json B.json   per-row ratios between two benchmark reports (reports/compare.py)
  conformance DIR         render DIR/conformance.json into conformance.md (reports/conformance.py)
  matrix                  merge per-environment conformance reports into matrix.md/.json (reports/matrix.py)
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {"benchmarks": "reports.benchmarks", "compare": "reports.compare", "conformance": "reports.conformance",
            "matrix": "reports.matrix"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
