"""Where the noise of a benchmark row comes from: each candidate cause switched on its own, its effect measured.

    python -m benchmarks.noise [--processes 3] [--rounds 10] [--causes baseline,autotune-off,...] [--out DIR]
    python -m benchmarks.noise --quick          # one process per cause, a few rounds: checks that it runs

For every cause it starts --processes fresh processes, one after the other (never two at once: they would share
the cores) and in sweeps (process k of every cause, then process k + 1: the machine's drift over the experiment
falls on every cause alike), each building three representative rows and timing --rounds rounds of each:

- `data`: the guide's tf.data recipe, `from_tensor_slices((x, y)).batch(32)` over 60,000 x 784 float32
  (reference/data_numpy.py), one epoch consumed in a Python loop;
- `fit`: the guide's quickstart model (reference/keras_quickstart.py) trained by `fit` at batch 32 on 12,800
  examples already in memory;
- `save-load`: the guide's `save_weights` / `load_weights` of its model (reference/keras_save_weights.py), 1024
  hidden units, into a temporary directory;
- `python`: the control, no TensorFlow in it: a pure-Python loop of additions on one thread.

Around every round the machine's own speed is probed (benchmarks/machine_speed.py: a 1 ms pure-Python loop right
before and right after it); a round whose probe ran below 0.8 of the experiment's full speed (the 90 % quantile
of all its probes) is slowed. Per cause and row the table then also gives the share of rounds slowed and the two
spreads over the rounds at full speed only: what is left of the noise once the machine's own speed is held still.

Each round is calibrated to at least --round-s seconds (whole epochs, fits or save/load cycles). What a cause
changes is set before TensorFlow is imported (variables, the CPU affinity, the kernel's transparent huge pages
for the process) or on the pipeline (tf.data options). Per cause and row it prints and writes (DIR/noise.json,
DIR/noise.md): the median rate, the modes the rounds fall into (benchmarks/modes.py: their rates and shares, how
often consecutive rounds switched), the spread within a process (median over processes of the rounds' coefficient
of variation), the spread between processes (of their medians) and the thread hand-offs per round (voluntary
context switches of the whole process). docs/benchmark-noise.md holds what it measured on the reference machine
and what the harness took from it. The process's state of mind is everything: nothing else should run meanwhile.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import machine_speed, modes
from tfguide import atomic, launcher
from tfguide.outputs import DEFAULT_REPORT_DIR

ROWS = ("data", "fit", "save-load", "python")
PYTHON_LOOP = 200_000
# cause -> (what it changes, extra environment variables); the child applies the rest from the name
CAUSES = {
    "baseline": ("nothing: the harness's defaults, both cores, rounds >= --round-s", {}),
    "pinned": ("the process pinned to one core (sched_setaffinity before TensorFlow starts)", {}),
    "threads-1": ("TensorFlow's inter- and intra-op pools of one thread each", {"TF_NUM_INTEROP_THREADS": "1",
                                                                                "TF_NUM_INTRAOP_THREADS": "1"}),
    "tfdata-private-pool": ("tf.data's private thread pool of one thread, max_intra_op_parallelism 1", {}),
    "autotune-off": ("tf.data's autotuning off (Options.autotune.enabled = False)", {}),
    "pinned-autotune-off": ("pinned to one core and tf.data's autotuning off", {}),
    "short-rounds": ("rounds of 1/10 of the tf.data epoch and 1/10 of the fit (no minimum duration)", {}),
    "malloc-fixed": ("glibc malloc: one arena, a fixed mmap threshold (no dynamic threshold)",
                     {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": "1048576"}),
    "no-thp": ("transparent huge pages off for the process (prctl PR_SET_THP_DISABLE)", {}),
    "unaligned": ("the source array misaligned by 4 bytes (not on a 64-byte boundary)", {}),
    "hashseed-0": ("PYTHONHASHSEED=0 (the default is random per process)", {"PYTHONHASHSEED": "0"}),
    "onednn-off": ("oneDNN's custom operations off (TF_ENABLE_ONEDNN_OPTS=0)", {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "forked": ("one process imports TensorFlow (no operation run), then forks each measured process", {}),
}
QUICK_CAUSES = ("baseline", "autotune-off")
PR_SET_THP_DISABLE = 41
EXAMPLES, FEATURES, BATCH = 60_000, 784, 32
FIT_EXAMPLES = 12_800


# -- the child: one process, one cause, every row ----------------------------------------------------------------

def _before_tensorflow(cause: str) -> None:
    if cause.startswith("pinned"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if cause == "no-thp":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)


def _features(np, cause: str, n: int):
    x = np.random.default_rng(0).random((n, FEATURES), dtype=np.float32)
    if cause != "unaligned":
        return x
    raw = np.empty(x.nbytes + 68, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64 + 4          # 4 bytes past a 64-byte boundary
    out = raw[start:start + x.nbytes].view(np.float32).reshape(x.shape)
    out[...] = x
    return out


def _calibrated(run, round_s: float):
    """A round function repeating `run` (which returns its examples) until the round lasts >= round_s."""
    t = time.perf_counter()
    run()
    once = max(time.perf_counter() - t, 1e-6)
    reps = max(1, math.ceil(round_s / once))
    return lambda: sum(run() for _ in range(reps))


def _rows(cause: str, round_s: float, workdir: Path) -> dict:
    import numpy as np
    import tensorflow as tf

    from reference import data_numpy, keras_quickstart, keras_save_weights

    short = cause == "short-rounds"
    n = EXAMPLES // 10 if short else EXAMPLES
    ds = data_numpy.from_arrays(_features(np, cause, n), np.zeros(n, np.int64)).batch(BATCH)
    options = tf.data.Options()
    if cause in ("autotune-off", "pinned-autotune-off"):
        options.autotune.enabled = False
    if cause == "tfdata-private-pool":
        options.threading.private_threadpool_size = 1
        options.threading.max_intra_op_parallelism = 1
    ds = ds.with_options(options)

    def epoch() -> int:
        count = 0
        for features, _ in ds:
            count += int(features.shape[0])
        return count

    fit_n = FIT_EXAMPLES // 10 if short else FIT_EXAMPLES
    images = np.random.default_rng(1).random((fit_n, 28, 28), dtype=np.float32)
    labels = np.random.default_rng(2).integers(0, 10, fit_n)
    model = keras_quickstart.build_model()

    def fit() -> int:
        model.fit(images, labels, batch_size=BATCH, epochs=1, verbose=0)
        return fit_n

    saved = keras_save_weights.build_model(hidden=1024)
    path = str(workdir / "noise.weights.h5")

    def save_load() -> int:
        saved.save_weights(path)
        saved.load_weights(path)
        return 1

    def python_loop() -> int:
        total = 0
        for i in range(PYTHON_LOOP):
            total += i
        return PYTHON_LOOP

    floor = 0.0 if short else round_s
    return {"data": _calibrated(epoch, floor), "fit": _calibrated(fit, floor), "save-load": _calibrated(save_load, floor),
            "python": _calibrated(python_loop, round_s)}


def _switches() -> int:
    """Voluntary context switches of every thread of this process so far: a thread handing work to another and
    waiting for it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


def forked(processes: int, rounds: int, round_s: float) -> None:
    """The `forked` cause: TensorFlow imported once, no operation run (its runtime's threads start with the first),
    then every measured process forked from here, one after the other - as the mutation check forks its children."""
    import tensorflow  # noqa: F401

    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            try:
                child("baseline", rounds, round_s)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)


def child(cause: str, rounds: int, round_s: float) -> None:
    _before_tensorflow(cause)
    with tempfile.TemporaryDirectory(prefix="noise-") as work:
        rows = _rows(cause, round_s, Path(work))
        out = {name: [] for name in rows}
        for _ in range(rounds):
            for name, run in rows.items():   # round-robin, as the harness measures a group
                before = machine_speed.probe()
                switches, cpu, t = _switches(), time.process_time(), time.perf_counter()
                items = run()
                wall = time.perf_counter() - t
                out[name].append({"rate": items / wall, "s": wall, "cpu": (time.process_time() - cpu) / wall,
                                  "handoffs": _switches() - switches, "probe_before": before,
                                  "probe_after": machine_speed.probe()})
    print("NOISE " + json.dumps(out), flush=True)


# -- the parent: every cause, its processes one after the other, the table ----------------------------------------

def _cv(logs: list[float]) -> float:
    return statistics.stdev(logs) if len(logs) > 1 else 0.0


def _spreads(processes: list[list[dict]]) -> tuple[float | None, float | None]:
    """Within-process (median over processes of the rounds' log sd) and between-process (of their medians) spreads,
    over the processes with at least two rounds; None where there are none."""
    kept = [p for p in processes if len(p) >= 2]
    if not kept:
        return None, None
    within = statistics.median(_cv([math.log(r["rate"]) for r in p]) for p in kept)
    return within, _cv([math.log(statistics.median(r["rate"] for r in p)) for p in kept])


def summarise(processes: list[list[dict]], ref: float | None = None) -> dict:
    """One cause's row over its processes: median, modes, within- and between-process spread (log sd ~ CV); with
    the experiment's probe reference `ref`, the share of rounds the machine ran slowed and both spreads over the
    rounds at full speed only (benchmarks/machine_speed.py)."""
    rates = [r["rate"] for p in processes for r in p]
    passes = [k for k, p in enumerate(processes) for _ in p]
    found = modes.describe(rates, passes)
    medians = [statistics.median(r["rate"] for r in p) for p in processes if p]
    within, between = _spreads(processes)        # every process has --rounds >= 2 rounds
    full = [[r for r in p if not machine_speed.slowed(r, ref)] for p in processes]
    within_full, between_full = _spreads(full)
    return {"slowed_share": 1 - sum(map(len, full)) / len(rates), "within_cv_full_speed": within_full,
            "between_cv_full_speed": between_full,
            "median": statistics.median(rates), "rounds": len(rates), "processes": len(processes),
            "modes": found["count"], "mode_rates": found["medians"], "mode_shares": found["shares"],
            "switches": found["switches"],
            "within_cv": within, "between_cv": between,
            "handoffs_per_round": statistics.median(r["handoffs"] for p in processes for r in p),
            "cpu_per_wall": statistics.median(r["cpu"] for p in processes for r in p),
            "process_medians": medians}


def _table(results: dict) -> list[str]:
    lines = ["| cause | row | median /s | modes (rate: share) | switches | within-process CV | between-process CV "
             "| rounds slowed | within, at full speed | between, at full speed | hand-offs per round |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for cause, rows in results.items():
        for row, s in rows.items():
            shown = ", ".join(f"{_short(m)}: {sh:.0%}" for m, sh in zip(s["mode_rates"], s["mode_shares"]))
            lines.append(f"| {cause} | {row} | {_short(s['median'])} | {s['modes']} ({shown}) | {s['switches']} | "
                         f"{s['within_cv']:.1%} | {s['between_cv']:.1%} | {s['slowed_share']:.0%} | "
                         f"{_pct(s['within_cv_full_speed'])} | {_pct(s['between_cv_full_speed'])} | "
                         f"{s['handoffs_per_round']:,.0f} |")
    return lines


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _short(v: float) -> str:
    return f"{v / 1e3:,.1f}k" if v >= 1e4 else f"{v:,.1f}"


def _launch(cause: str, argv: list[str], rounds: int, round_s: float, deadline_s: float, k: int) -> list[dict]:
    _, extra = CAUSES[cause]
    task = launcher.Task(launcher.python("-m", "benchmarks.noise", *argv, "--rounds", str(rounds),
                                         "--round-s", str(round_s)), env=extra, name=f"noise-{cause}-{k}")
    result = launcher.run([task], deadline_s=deadline_s)
    (proc,) = result.processes
    if proc.returncode != 0:
        raise SystemExit(f"benchmarks.noise: {cause}, process {k + 1}: {result.failure()}")
    return [json.loads(ln[len("NOISE "):]) for ln in proc.stdout.splitlines() if ln.startswith("NOISE ")]


def run(causes: list[str], processes: int, rounds: int, round_s: float, out: Path, say=print) -> dict:
    """Every cause's processes, in sweeps: process k of every cause, then process k + 1 of every cause, so that the
    machine's drift over the minutes of the experiment (its neighbours, its clock) falls on every cause alike, as
    the harness rotates its rows. `forked` is one process forking all of its measured ones, after the sweeps."""
    runs: dict[str, list[dict]] = {cause: [] for cause in causes}
    deadline = 120 + rounds * 60
    for k in range(processes):
        for cause in causes:
            if cause != "forked":
                runs[cause] += _launch(cause, ["--child", cause], rounds, round_s, deadline, k)
    if "forked" in causes:
        runs["forked"] = _launch("forked", ["--forked", str(processes)], rounds, round_s, deadline * processes, 0)
    results: dict = {}
    ref = machine_speed.reference([p for cause in causes for proc in runs[cause] for row in ROWS
                                   for p in machine_speed.round_probes(proc[row])])
    for cause in causes:
        results[cause] = {row: summarise([r[row] for r in runs[cause]], ref) for row in ROWS}
        for row, s in results[cause].items():
            say(f"[noise] {cause} {row}: median {_short(s['median'])}/s, {s['modes']} mode(s) "
                f"{[_short(m) for m in s['mode_rates']]}, within {s['within_cv']:.1%}, between {s['between_cv']:.1%}, "
                f"slowed {s['slowed_share']:.0%} (at full speed: within {_pct(s['within_cv_full_speed'])}, between "
                f"{_pct(s['between_cv_full_speed'])}), {s['handoffs_per_round']:,.0f} hand-offs per round")
    out.mkdir(parents=True, exist_ok=True)
    doc = {"schema": "tfguide-noise/2", "processes": processes, "rounds": rounds, "round_s": round_s,
           "probe_reference_per_s": ref,
           "causes": {c: CAUSES[c][0] for c in causes}, "results": results}
    atomic.write_text(out / "noise.json", json.dumps(doc, indent=1))
    atomic.write_text(out / "noise.md", "\n".join(
        [f"# Noise sources ({processes} processes x {rounds} rounds per cause, rounds >= {round_s} s)", ""]
        + [f"- `{c}`: {CAUSES[c][0]}" for c in causes] + [""] + _table(results)) + "\n")
    return doc


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.noise", description=__doc__.split("\n\n")[0])
    ap.add_argument("--causes", default=",".join(CAUSES), help=f"comma-separated, of: {', '.join(CAUSES)}")
    ap.add_argument("--processes", type=int, default=3, help="fresh processes per cause (default 3)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds per row and process (default 10)")
    ap.add_argument("--round-s", type=float, default=0.2, help="a round's minimum duration (default 0.2 s)")
    ap.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK_CAUSES)}; 1 process, 3 rounds")
    ap.add_argument("--out", type=Path, default=DEFAULT_REPORT_DIR / "noise",
                    help="where noise.json/.md go (default: tfguide-reports/noise/ under the current directory)")
    ap.add_argument("--child", metavar="CAUSE", help=argparse.SUPPRESS)
    ap.add_argument("--forked", type=int, metavar="N", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    causes = list(QUICK_CAUSES) if args.quick and args.causes == ",".join(CAUSES) else args.causes.split(",")
    unknown = [c for c in causes if c not in CAUSES]
    if unknown:
        ap.error(f"unknown cause(s) {', '.join(unknown)}; known: {', '.join(CAUSES)}")
    if args.processes < 1 or args.rounds < 2 or args.round_s < 0:
        ap.error("--processes must be >= 1, --rounds >= 2 and --round-s >= 0")
    args.causes = causes
    if args.quick:
        args.processes, args.rounds = 1, 3
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.child, args.rounds, args.round_s)
        return 0
    if args.forked:
        forked(args.forked, args.rounds, args.round_s)
        return 0
    doc = run(args.causes, args.processes, args.rounds, args.round_s, args.out)
    print("\n".join(_table(doc["results"])))
    print(f"written: {args.out / 'noise.json'}, {args.out / 'noise.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
