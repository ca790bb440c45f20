"""`python -m tests.golden [--update]`: check the golden files, or write them again (tests/golden/__init__.py)."""

from __future__ import annotations

import argparse
import difflib
import sys

from tests import golden


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.golden", description=golden.__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="overwrite tests/golden/expected/ with what renders now")
    args = ap.parse_args(argv)
    if args.update:
        for path in golden.update():
            print(f"wrote {path}")
        return 0
    status = 0
    for name in golden.RENDERERS:
        path = golden.EXPECTED / name
        want = path.read_bytes().decode("utf-8") if path.exists() else ""
        got = golden.render(name).decode("utf-8")
        if got != want:
            status = 1
            sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                       f"expected/{name}", f"rendered/{name}"))
    print("golden files: " + ("unchanged" if status == 0 else "DIFFER (python -m tests.golden --update to accept)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
