"""A stand-in for an interpreter in the tests of `python -m benchmarks.ab` (tests/test_bench_ab.py): it answers
the A/B's probe, and for `-m pytest benchmarks --bench-child-pass K --bench-child-out FILE ...` writes what a pass's
process writes (benchmarks/passes.py dump) for four tf.data rows, in well under a second, without TensorFlow.

It takes turns through the A/B's baton as a real pass does (benchmarks/baton.py: join, then turn before each
round), and each round's rate is its row's true rate x the machine's drift in that round x a little round noise.
The drift moves +-20 % from round to round and is the same for both processes of a pair (seeded by the pass and
the round): what taking turns is meant to cancel. The round noise is the side's own (seeded by the name of the file
the pass writes, so that a test gives the same verdicts every time). A row that TFGUIDE_BENCH_SLOWDOWN matches is
slowed by its fraction, as benchmarks/slowdown.py slows a real one. TFGUIDE_FAKE_TURNS=FILE: the process appends
"KEY ROUND" to FILE for each round it measures, in the order it measures them (the tests' evidence of the turns).
"""

import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TRUE = {"numpy/r0/b256/graph": 1000.0, "numpy/r1/b256/graph": 2000.0, "numpy/r2/b256/graph": 3000.0,
        "numpy/r3/b256/graph": 4000.0}
ROUNDS = 8


def main(argv):
    if argv[0] == "-c":
        print(json.dumps({"python_version": "3.11.7", "tensorflow": "0.0-fake", "numpy": "2.0"}))
        return 0
    from benchmarks import baton, passes, slowdown
    from benchmarks.harness import Plan, Recorder
    from benchmarks.rounds import Group, Unit
    from test_benchmark_reports import _data_row, _limits

    baton.join()
    k = int(argv[argv.index("--bench-child-pass") + 1])
    out = Path(argv[argv.index("--bench-child-out") + 1])
    rec = Recorder(plan=Plan.for_run(True, budgets={"data.numpy": 3.0}, child=True, paired=baton.active()),
                   progress=print, pass_index=k)
    rec.limits = _limits()
    units = [Unit(key=name, run=None, row={**_data_row(name.split("/")[1]), "name": name}) for name in TRUE]
    group = Group("data.numpy", "data", units, 3.0)
    slowdown.mark(group, units)
    rec.declare(group, units)
    noise = random.Random(out.name)   # the side's own noise, the same from run to run: "a-1.json", "b-1.json", ...
    log = os.environ.get("TFGUIDE_FAKE_TURNS")
    if log and os.environ.get(baton.CPUS_ENV):   # a duet side: the cores it was kept to
        with open(log + ".cpus", "a") as f:
            f.write(f"{out.name[0]} {','.join(map(str, sorted(os.sched_getaffinity(0))))}\n")
    for r in range(ROUNDS):
        drift = random.Random(f"{k}/{r}").uniform(0.8, 1.2)
        for u in units:
            baton.turn(u.key)
            if log:
                with open(log, "a") as f:
                    f.write(f"{out.name[0]} {u.key} {r}\n")
            rate = TRUE[u.key] * drift * noise.uniform(0.99, 1.01) * (1 - u.slowed_by)
            rec.add_round(u.key, k, r, {"s": 1.0, "items": rate, "rate": rate, "interfered": False})
    rec.groups.append({"group": "data.numpy", "section": "data", "pass": k + 1, "rounds": ROUNDS, "measured_s": 0.1,
                       "warmup_s": 0.0, "setup_s": 0.0, "budget_s": 3.0, "budget_spent": True, "units": 4,
                       "unfinished": []})
    passes.dump(rec, out)
    print(f"[bench] fake pass {k + 1} written", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
