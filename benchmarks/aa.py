"""An A/A test in one command: the same benchmarks twice, back to back, then `python -m reports compare`.

    python -m benchmarks.aa [--quick] [DIR]

writes DIR/a/ and DIR/b/ (default: reports/aa/) and prints the comparison: per-row ratios with their 95 %
intervals and verdicts, and the A/A lines (rows within +-5 %, intervals that held B's median, median
half-width, each run's wall time). Nothing changed between A and B, so every difference is noise: this is
how far two runs on this machine can be trusted to agree. Exit status: compare's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.aa", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=ROOT / "reports" / "aa", help="where a/ and b/ are written")
    ap.add_argument("--quick", action="store_true", help="two smoke runs instead of two full runs")
    args = ap.parse_args(argv)
    for name in ("a", "b"):
        out = args.dir / name
        cmd = [sys.executable, "-m", "pytest", "benchmarks", "-q", "--report-dir", str(out)]
        cmd += ["--quick"] if args.quick else []
        print(f"[aa] run {name.upper()}: {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT)
        print(f"[aa] run {name.upper()} ended with {proc.returncode} after {(time.perf_counter() - t0) / 60:.1f} min",
              flush=True)
        if proc.returncode != 0 or not (out / "benchmarks.json").exists():
            print(f"[aa] run {name.upper()} failed: no comparison", file=sys.stderr)
            return proc.returncode or 1
    # reports/ reads what benchmarks/ wrote: its command, not an import (tests/test_import_arrows.py)
    compare = [sys.executable, "-m", "reports", "compare", str(args.dir / "a" / "benchmarks.json"),
               str(args.dir / "b" / "benchmarks.json")]
    return subprocess.run(compare, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
