"""Run every mutant (tests/mutants.py) against the spec modules that must catch it.

    python tests/run_mutants.py                  # all mutants, 2 at a time, with this Python
    python tests/run_mutants.py -k csv -j 1      # mutants whose name or recipe contains 'csv'
    python tests/run_mutants.py --python /work/venvs/tf216/bin/python

Each mutant runs in its own `python -m pytest <modules> -p tests.mutant_plugin -x -q` with
TFGUIDE_MUTANT set. A failing spec kills the mutant; a mutant whose modules all pass SURVIVED, which
means the suite would pass on a TensorFlow broken that way. Exit status 1 if any survived or errored.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mutants import CATALOGUE, ENV_VAR, Mutant  # noqa: E402

SITE_DIR = ROOT / "tests" / "mutant_site"
# pytest exit codes: 0 all passed, 1 some failed, others = the run itself broke.
PASSED, FAILED = 0, 1


@dataclass
class Outcome:
    mutant: Mutant
    status: str          # killed / SURVIVED / ERROR
    killed_by: str
    seconds: float
    output: str


def command(python: str, modules, extra=(), first_failure_only: bool = True) -> list[str]:
    return [python, "-m", "pytest", *modules, "-p", "tests.mutant_plugin", *(["-x"] if first_failure_only else []),
            "-q", "-p", "no:xdist",
            "-p", "no:cacheprovider", "-W", "ignore", *extra]


def run_one(mutant: Mutant, python: str, nodes=None, timeout: float = 300, every_failure: bool = False,
            apply: bool = True) -> Outcome:
    """Run the mutant's spec modules (or `nodes`) with the mutant applied (or, apply=False, without it)."""
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if apply:
        env[ENV_VAR] = mutant.name
    if apply and mutant.subprocess:
        env["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutant-") as reports:
        try:
            proc = subprocess.run(command(python, nodes or mutant.modules, ["--report-dir", reports], not every_failure),
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            code, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, output = -1, f"timed out after {timeout} s\n{exc.stdout or ''}"
    seconds = time.monotonic() - start
    if code == FAILED:
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
        return Outcome(mutant, "killed", ", ".join(failed) if failed else "(see output)", seconds, output)
    if code == PASSED:
        return Outcome(mutant, "SURVIVED", "", seconds, output)
    return Outcome(mutant, "ERROR", f"pytest exit code {code}", seconds, output)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", default="", help="only mutants whose name or recipe contains this")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the TensorFlow under test")
    parser.add_argument("--every-failure", action="store_true",
                        help="run every spec (no -x) and list all that kill each mutant (slower)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the output of survivors and errors")
    args = parser.parse_args(argv)

    chosen = [m for m in CATALOGUE.values() if args.k in m.name or args.k in m.recipe]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda m: run_one(m, args.python, every_failure=args.every_failure), chosen))

    rows = [("mutant", "recipe", "result", "killed by", "s")]
    rows += [(o.mutant.name, o.mutant.recipe, o.status, o.killed_by, f"{o.seconds:.0f}") for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    bad = [o for o in outcomes if o.status != "killed"]
    if args.verbose:
        for o in bad:
            print(f"\n===== {o.mutant.name}: {o.status}\n{o.output[-3000:]}")
    covered = sorted({o.mutant.recipe for o in outcomes})
    print(f"\n{len(outcomes) - len(bad)}/{len(outcomes)} killed, {sum(o.status == 'SURVIVED' for o in outcomes)} "
          f"survived, {sum(o.status == 'ERROR' for o in outcomes)} errors; {len(covered)} recipe ids; "
          f"{time.monotonic() - start:.0f} s wall")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
