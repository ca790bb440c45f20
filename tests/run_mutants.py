"""Run every mutant (tests/mutants/) against the specs of the recipe it names.

    python tests/run_mutants.py                  # every mutant, 2 at a time, with this Python
    python tests/run_mutants.py -k csv -j 1      # mutants whose name or recipe contains 'csv'
    python tests/run_mutants.py --python /work/venvs/tf216/bin/python

Each mutant runs `pytest suite/test_<recipe>.py -p tests.mutant_plugin` with TFGUIDE_MUTANT set and the
conformance report written into its own temporary --report-dir. The mutant is KILLED only when that
report shows a failing spec of the mutant's own recipe (the run stops at the first one); it SURVIVED when
the recipe's specs all pass, which means the suite would pass on a TensorFlow broken that way. A mutant
whose patch point does not exist in the installed TensorFlow/Keras (Keras 3 internals under Keras 2, say)
is NOT APPLICABLE, reported apart and never counted as killed. Exit status 1 if any survived or errored.

Speed: one process imports TensorFlow and Keras once, then forks a fresh child per mutant (`-j` at a
time), which applies the mutant and runs pytest; no child inherits another's patches. TensorFlow runs
no operation before the fork. `--no-fork` starts a new interpreter per mutant instead (slower).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.mutants import CATALOGUE, ENV_VAR, Mutant  # noqa: E402

SITE_DIR = ROOT / "tests" / "mutant_site"
NOT_APPLICABLE = 77      # tests/mutant_plugin.py's exit status (kept here: importing it imports TF)
TIMEOUT = 300            # seconds per mutant


@dataclass
class Outcome:
    mutant: Mutant
    status: str          # killed / SURVIVED / n/a / ERROR
    detail: str          # the killing spec, the reason it does not apply, or what went wrong
    seconds: float
    output: str


def pytest_args(modules, report_dir: str, apply: bool = True) -> list[str]:
    return [*modules, *(["-p", "tests.mutant_plugin"] if apply else []), "-q", "-p", "no:xdist",
            "-p", "no:cacheprovider", "-W", "ignore", "--report-dir", report_dir]


def child_env(mutant: Mutant, apply: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if apply:
        env[ENV_VAR] = mutant.name
        if mutant.subprocess:  # the specs' own child processes apply it too (mutant_site/sitecustomize.py)
            env["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def verdict(mutant: Mutant, code: int, report_dir: Path, output: str, seconds: float) -> Outcome:
    """Killed only by a failing spec of the mutant's own recipe, as the conformance report records it."""
    if code == NOT_APPLICABLE:
        reason = re.search(r"NOT APPLICABLE: mutant \S+: (.*)", output)
        return Outcome(mutant, "n/a", reason.group(1).strip() if reason else "not applicable here", seconds, output)
    # A mutant's run covers one spec module (and stops at the first kill): a partial run, whose report is
    # conformance-partial.json (suite/support/conformance.py); conformance.json if the module is the whole suite.
    report = next((p for p in (report_dir / "conformance-partial.json", report_dir / "conformance.json")
                   if p.is_file()), report_dir / "conformance.json")
    if not report.is_file():
        return Outcome(mutant, "ERROR", f"pytest exit status {code}, no conformance report", seconds, output)
    row = next((r for r in json.loads(report.read_text())["recipes"] if r["id"] == mutant.recipe), None)
    if row is None:
        return Outcome(mutant, "ERROR", f"the report has no row {mutant.recipe!r}", seconds, output)
    if row["failed"]:
        return Outcome(mutant, "killed", row["failures"][0], seconds, output)
    if row.get("advisories"):
        # The mutant disarmed a protection and an advisory's crafted file took effect: `vulnerable`.
        return Outcome(mutant, "killed", f"vulnerable {row['advisories'][0]}", seconds, output)
    if row.get("known_defects"):
        # The mutant broke the behaviour exactly as a catalogued upstream defect does, and the report says
        # so (status `known defect`, not `pass`): the suite caught it.
        defect = row["known_defects"][0]
        return Outcome(mutant, "killed", f"known defect {defect.get('id') or defect}", seconds, output)
    if row["passed"] and code in (0, 1):
        other = [f"{r['id']}: {r['failures'][0]}" for r in json.loads(report.read_text())["recipes"] if r["failed"]]
        detail = "its recipe's specs all passed" + (f" (other recipes failed: {other[0]})" if other else "")
        return Outcome(mutant, "SURVIVED", detail, seconds, output)
    return Outcome(mutant, "ERROR", f"pytest exit status {code}; recipe status {row['status']}", seconds, output)


# --- one interpreter per mutant (--no-fork, and the sanity test in tests/test_mutants.py) ---------------

def run_one(mutant: Mutant, python: str, nodes=None, timeout: float = TIMEOUT, apply: bool = True) -> Outcome:
    """Run the mutant's spec module (or `nodes`) in a new interpreter, with the mutant applied (or not)."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutant-") as reports:
        try:
            proc = subprocess.run([python, "-m", "pytest", *pytest_args(nodes or mutant.modules, reports, apply)],
                                  cwd=ROOT, env=child_env(mutant, apply), capture_output=True, text=True,
                                  timeout=timeout)
            code, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, output = -1, f"timed out after {timeout} s\n{exc.stdout or ''}"
        return verdict(mutant, code, Path(reports), output, time.monotonic() - start)


# --- one interpreter, a forked child per mutant ---------------------------------------------------------

def zygote(names: list[str], jobs: int, work: Path, timeout: float) -> None:
    """Import TensorFlow and Keras once, then fork a child per mutant; print a JSON line per finished child.

    Runs in the interpreter under test (`--python`). Nothing here runs a TensorFlow operation: the eager
    runtime and its thread pools start in each child, after the fork."""
    os.chdir(ROOT)
    import numpy  # noqa: F401
    import pytest
    import tensorflow as tf

    _ = tf.keras.Model  # resolves tf.keras (Keras 3, tf_keras or Keras 2) and imports it
    import suite.support.conformance  # noqa: F401  (pytest's plugins and the report code, imported once)

    running: dict[int, tuple[str, float]] = {}
    pending = list(names)

    def start(name: str) -> None:
        directory = work / name
        (directory / "report").mkdir(parents=True)
        pid = os.fork()
        if pid == 0:  # the child: its own process group, so that a timeout also ends what it started
            code = 3
            try:
                os.setsid()
                log = os.open(directory / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.environ.clear()
                os.environ.update(child_env(CATALOGUE[name]))
                code = int(pytest.main(pytest_args(CATALOGUE[name].modules, str(directory / "report"))))
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        running[pid] = (name, time.monotonic())

    def finish(pid: int, code: int, timed_out: bool = False) -> None:
        name, started = running.pop(pid)
        print(json.dumps({"name": name, "code": code, "seconds": time.monotonic() - started,
                          "timed_out": timed_out}), flush=True)

    while pending or running:
        while pending and len(running) < jobs:
            start(pending.pop(0))
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            finish(pid, os.waitstatus_to_exitcode(status))
            continue
        for pid, (name, started) in list(running.items()):
            if time.monotonic() - started > timeout:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                finish(pid, -9, timed_out=True)
        time.sleep(0.05)


def run_forked(chosen: list[Mutant], python: str, jobs: int, timeout: float, progress) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as work:
        command = [python, str(Path(__file__).resolve()), "--zygote", work, "-j", str(jobs),
                   "--timeout", str(timeout), *[m.name for m in chosen]]
        with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={k: v for k, v in os.environ.items() if k != ENV_VAR}) as proc:
            for line in proc.stdout:
                if not line.startswith("{"):
                    continue
                result = json.loads(line)
                mutant, directory = CATALOGUE[result["name"]], Path(work) / result["name"]
                output = (directory / "output.txt").read_text(errors="replace")
                if result["timed_out"]:
                    outcome = Outcome(mutant, "ERROR", f"timed out after {timeout:.0f} s", result["seconds"], output)
                else:
                    outcome = verdict(mutant, result["code"], directory / "report", output, result["seconds"])
                outcomes.append(outcome)
                progress(outcome, len(outcomes), len(chosen))
            errors = proc.stderr.read()
        if proc.returncode != 0:
            raise SystemExit(f"the mutant runner under {python} failed (exit {proc.returncode}):\n{errors[-3000:]}")
    order = {m.name: i for i, m in enumerate(chosen)}
    return sorted(outcomes, key=lambda o: order[o.mutant.name])


# --- the report --------------------------------------------------------------------------------------------

def table(rows: list[tuple]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def per_recipe(outcomes: list[Outcome]) -> str:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in outcomes:
        counts[o.mutant.recipe][o.status] += 1
    rows = [("recipe", "killed/applicable", "survived", "errors", "not applicable")]
    for recipe in sorted(counts):
        c = counts[recipe]
        applicable = c["killed"] + c["SURVIVED"] + c["ERROR"]
        rows.append((recipe, f"{c['killed']}/{applicable}", c["SURVIVED"], c["ERROR"], c["n/a"]))
    return table(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", default="", help="only mutants whose name or recipe contains this")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the TensorFlow under test")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help=f"seconds per mutant (default {TIMEOUT})")
    parser.add_argument("--no-fork", action="store_true", help="a new interpreter per mutant (slower)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the output of survivors and errors")
    parser.add_argument("--zygote", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.zygote:
        zygote(args.names, max(1, args.jobs), Path(args.zygote), args.timeout)
        return 0

    chosen = [m for m in CATALOGUE.values() if args.k in m.name or args.k in m.recipe]
    if not chosen:
        print(f"no mutant's name or recipe contains {args.k!r}", file=sys.stderr)
        return 2
    start = time.monotonic()

    def progress(o: Outcome, done: int, total: int) -> None:
        print(f"[{done}/{total}] {o.mutant.name} ({o.mutant.recipe}): {o.status} in {o.seconds:.0f} s", flush=True)

    if args.no_fork or not hasattr(os, "fork"):
        def one(m: Mutant) -> Outcome:
            outcome = run_one(m, args.python, timeout=args.timeout)
            progress(outcome, 0, len(chosen))
            return outcome
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(one, chosen))
    else:
        outcomes = run_forked(chosen, args.python, max(1, args.jobs), args.timeout, progress)

    print()
    print(table([("mutant", "recipe", "result", "killed by / why", "s")] +
                [(o.mutant.name, o.mutant.recipe, o.status, o.detail[:110], f"{o.seconds:.0f}") for o in outcomes]))
    print()
    print(per_recipe(outcomes))
    bad = [o for o in outcomes if o.status in ("SURVIVED", "ERROR")]
    if args.verbose:
        for o in bad:
            print(f"\n===== {o.mutant.name}: {o.status}\n{o.output[-3000:]}")
    n = {s: sum(o.status == s for o in outcomes) for s in ("killed", "SURVIVED", "ERROR", "n/a")}
    print(f"\n{n['killed']}/{len(outcomes) - n['n/a']} applicable mutants killed, {n['SURVIVED']} survived, "
          f"{n['ERROR']} errors, {n['n/a']} not applicable here; {time.monotonic() - start:.0f} s wall")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
