"""keras.save_weights: `model.save_weights(path)` / `model.load_weights(path)` (guide §1.8), MB/s.

The models are the recipe's (`reference.keras_save_weights.build_model(hidden)`: the guide's two Dense(64)
layers, and a wider one whose file is a few MB), saved to the path form every Keras accepts
(`reference.keras_save_weights.PORTABLE_PATH`, `.weights.h5`). Save and load MB/s are set against this file
system's write and read bandwidth, measured in the same rounds (benchmarks/fsio.py).
"""

from __future__ import annotations

import os

from benchmarks import fsio
from benchmarks.declaration import Benchmark
from benchmarks.rounds import Group, Unit, measure_group

SLOT = "io"  # when it runs (benchmarks/conftest.py)
RECIPE = "keras.save_weights"
GROUP = "keras.save_weights"
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 5})  # full-run seconds per pass


def units(tf, plan, directory) -> list[Unit]:
    from reference.keras_save_weights import PORTABLE_PATH, build_model

    out, sizes = [], []
    for hidden in plan.save_hidden:
        tf.keras.utils.set_random_seed(1234)
        model = build_model(hidden)
        path = directory / f"h{hidden}" / PORTABLE_PATH
        os.makedirs(path.parent, exist_ok=True)
        model.save_weights(str(path))
        size = path.stat().st_size
        sizes.append(size)
        fresh = build_model(hidden)
        base = {"recipe": RECIPE, "section": "io", "model": f"save_weights model (hidden {hidden})", "hidden": hidden,
                "params": int(model.count_params()), "format": ".weights.h5", "file_bytes": size, "unit": "files",
                "data": "seed1234 initial weights", "consumer": None, "batch_size": None}

        def save(clock, model=model, path=path):
            with clock.timed():
                model.save_weights(str(path))
            return 1

        def load(clock, fresh=fresh, path=path):
            with clock.timed():
                fresh.load_weights(str(path))
            return 1

        out += fsio.save_load_units("save_weights", hidden, base, save, load,
                                    ("model.save_weights(path)", "model.load_weights(path)"))
    return out + fsio.probe_units(directory / "probes", sizes, GROUP)


def test_save_and_load_weights(tf, plan, recorder, tmp_path, bench_pass):
    group = Group(GROUP, "io", [], plan.budget(GROUP))

    def prepare():
        group.units[:] = units(tf, plan, tmp_path)

    measure_group(group, recorder, plan, prepare=prepare)
