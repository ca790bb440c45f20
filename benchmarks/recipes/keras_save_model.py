"""keras.save_model: `model.save(path)` / `keras.models.load_model(path)` (guide §1.8), MB/s.

The models are the recipe's (`reference.keras_save_model.build_model(hidden)`, compiled, trained one batch
so that the optimizer's state is in the file), saved in the native `.keras` format (Keras 2.13+ and the only
native one in Keras 3). Save and load MB/s are set against this file system's write and read bandwidth,
measured in the same rounds (benchmarks/fsio.py). A load builds a new model from the file: most of its
time is deserialising the architecture and compiling, not reading bytes.
"""

from __future__ import annotations

import numpy as np

from benchmarks import fsio
from benchmarks.declaration import Benchmark
from benchmarks.rounds import Group, Unit, measure_group

SLOT = "io"  # when it runs (benchmarks/conftest.py)
RECIPE = "keras.save_model"
GROUP = "keras.save_model"
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 5})  # full-run seconds per pass


def units(tf, plan, directory) -> list[Unit]:
    from reference.keras_save_model import build_model

    keras = tf.keras
    out, sizes = [], []
    rng = np.random.default_rng(0)
    for hidden in plan.save_hidden:
        keras.utils.set_random_seed(1234)
        model = build_model(hidden)
        model.fit(rng.random((32, 32), dtype=np.float32), keras.utils.to_categorical(rng.integers(0, 10, 32), 10),
                  batch_size=32, epochs=1, verbose=0)
        path = directory / f"my_model_h{hidden}.keras"
        model.save(str(path))
        size = path.stat().st_size
        sizes.append(size)
        base = {"recipe": RECIPE, "section": "io", "model": f"save_model model (hidden {hidden})", "hidden": hidden,
                "params": int(model.count_params()), "format": ".keras", "file_bytes": size, "unit": "files",
                "data": "seed1234, one batch trained", "consumer": None, "batch_size": None}

        def save(clock, model=model, path=path):
            with clock.timed():
                model.save(str(path))
            return 1

        def load(clock, path=path, n_params=int(model.count_params())):
            with clock.timed():
                loaded = keras.models.load_model(str(path))
            if int(loaded.count_params()) != n_params:
                raise AssertionError(f"{path}: loaded {loaded.count_params()} parameters, expected {n_params}")
            return 1

        out += fsio.save_load_units("save_model", hidden, base, save, load,
                                    ("model.save(path)", "keras.models.load_model(path)"))
    return out + fsio.probe_units(directory / "probes", sizes, GROUP)


def test_save_and_load_model(tf, plan, recorder, tmp_path, bench_pass):
    group = Group(GROUP, "io", [], plan.budget(GROUP))

    def prepare():
        group.units[:] = units(tf, plan, tmp_path)

    measure_group(group, recorder, plan, prepare=prepare)
