"""`python -m reports conformance DIR [--partial]`: DIR/conformance.md from DIR/conformance.json (with --partial:
conformance-partial.md from conformance-partial.json), the report the suite's plugin (suite/support/conformance.py) wrote;
the plugin starts this command after a run. Prints the report's first lines and its table without the prose,
which pytest shows at the end of the run. Exit status 0, or 2 with one line naming the file and what is wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reports import render
from tfguide import atomic, contracts

USAGE = "usage: python -m reports conformance DIR [--partial]  (renders DIR/conformance[-partial].json into .md)"


def write(report_dir: Path, partial: bool = False) -> tuple[Path, dict]:
    """DIR/conformance[-partial].md from the JSON beside it: (the file written, the report)."""
    source = Path(report_dir) / f"conformance{'-partial' if partial else ''}.json"
    report = contracts.load(source, "conformance")   # ContractError (a ValueError) names the file
    return atomic.write_text(source.with_suffix(".md"), render.conformance_markdown(report)), report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = [a for a in argv if a != "--partial"]
    if len(args) != 1 or args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 0 if argv in (["-h"], ["--help"]) else 2
    try:
        _, report = write(Path(args[0]), "--partial" in argv)
    except ValueError as exc:
        print(f"python -m reports conformance: {exc}", file=sys.stderr)
        return 2
    print("\n".join(render.terminal_summary(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
