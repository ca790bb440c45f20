"""An A/A test of two separate runs in one command: the same benchmarks twice, back to back, then
`python -m reports compare --aa`.

    python -m benchmarks.aa [--quick] [--budget MINUTES] [DIR]

writes DIR/a/ and DIR/b/ (default: tfguide-reports/aa/ under the current directory) and prints the comparison: what
changed (nothing did, so every "slower" or "faster" is noise), the smallest change two runs on this machine can tell
apart, and the A/A lines (rows within +-5 %, intervals that held B's median, median half-width). This is how far two
runs can be trusted to agree; `python -m benchmarks.ab --a PYTHON --b PYTHON` is the interleaved A/A, which resolves
smaller changes. Each run is bounded by its budget's deadline (benchmarks/watchdog.py). Exit status: compare's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.budget import DEFAULT_MINUTES
from benchmarks.watchdog import process_deadline_s
from tfguide import launcher
from tfguide.outputs import DEFAULT_REPORT_DIR

COMPARE_S = 120.0


def _run(cmd: list[str], deadline_s: float) -> int:
    """A process of its own, its output passed through as it comes, killed at its deadline."""
    result = launcher.run([launcher.Task(cmd, name=cmd[2])], deadline_s, relay=lambda line: print(line, flush=True))
    (proc,) = result.processes
    sys.stderr.write(proc.stderr[-3000:] if proc.returncode else "")
    if result.timed_out:
        print(f"[aa] {' '.join(cmd[1:4])} passed its deadline of {deadline_s / 60:.0f} min and was killed",
              file=sys.stderr)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.aa", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT_REPORT_DIR / "aa",
                    help="where a/ and b/ are written (default: tfguide-reports/aa/ under the current directory)")
    ap.add_argument("--quick", action="store_true", help="two smoke runs instead of two full runs")
    ap.add_argument("--budget", type=float, metavar="MINUTES", help="each run's budget (pytest benchmarks --budget)")
    args = ap.parse_args(argv)
    args.dir = args.dir.resolve()   # the runs start in the checkout; the reports go under this directory
    minutes = args.budget or DEFAULT_MINUTES[args.quick]
    for name in ("a", "b"):
        out = args.dir / name
        cmd = launcher.python("-m", "pytest", "benchmarks", "-q", "--report-dir", str(out), "--budget", f"{minutes:g}",
                              *(["--quick"] if args.quick else []))
        print(f"[aa] run {name.upper()}: {' '.join(cmd)}", flush=True)
        status = _run(cmd, process_deadline_s(60 * minutes) + 60)
        if status != 0 or not (out / "benchmarks.json").exists():
            print(f"[aa] run {name.upper()} failed: no comparison", file=sys.stderr)
            return status or 1
    # reports/ reads what benchmarks/ wrote: its command, not an import (tests/test_import_arrows.py)
    return _run(launcher.python("-m", "reports", "compare", "--aa", str(args.dir / "a" / "benchmarks.json"),
                                str(args.dir / "b" / "benchmarks.json")), COMPARE_S)


if __name__ == "__main__":
    sys.exit(main())
