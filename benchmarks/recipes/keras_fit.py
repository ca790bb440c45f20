"""keras.fit: the recipe's `fit` on NumPy arrays and on a repeated tf.data.Dataset (guide §1.3).

Every row trains `reference.keras_fit.small_model()` (Dense(64, relu) -> Dense(10), Adam(0.01), mse) with
the recipe's own calls: `fit_numpy` (batch 32, validation data evaluated at the end of every epoch - its
time is part of the round, as it is part of the guide's epoch) and `fit_dataset` (the recipe's
`repeated_dataset`, `steps_per_epoch`). Tuned: the same calls after compiling with `steps_per_execution`.
Each row has a compute-only twin (benchmarks/training.py) for its input wait share.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import models, training
from benchmarks.declaration import Benchmark, sized
from benchmarks.rounds import Group, measure_group

SLOT = "training"  # when it runs (benchmarks/conftest.py)
RECIPE = "keras.fit"
MODEL = "keras.fit small model"
GROUP = "keras.fit"
SIZES = {"full": {"examples": 20_000}, "quick": {"examples": 4_000}}
# budgets: full-run seconds per pass; matmul_sets: what the limits' matmul sweep must include
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 5}, matmul_sets=lambda plan: models.fit_matmul_sets())
CONFIGS = {"guide": ("fit_numpy", 1), "spe": ("fit_numpy", None), "dataset": ("fit_dataset", 1),
           "dataset+spe": ("fit_dataset", None)}
_BUILT: dict = {}


@pytest.fixture(scope="module")
def data(plan):
    rng = np.random.default_rng(0)
    n = sized(SIZES, plan).examples
    n_val = n // 10
    return (rng.random((n, 32)), rng.random((n, 10)), rng.random((n_val, 32)), rng.random((n_val, 10)))


def fit_call(kind: str, val_data, val_labels):
    from reference.keras_fit import fit_dataset, fit_numpy

    def call(model, train, *, steps, callbacks):
        x, y = train
        if kind == "fit_numpy":
            return fit_numpy(model, x, y, val_data, val_labels, epochs=1, batch_size=32, verbose=0, callbacks=callbacks)
        return fit_dataset(model, x, y, epochs=1, steps_per_epoch=steps or len(x) // 32, verbose=0,
                           callbacks=callbacks)

    return call


class _DatasetFit(training.FitConfig):
    """fit_dataset builds its repeated dataset from the arrays itself (inside the recipe's function)."""

    def run(self, clock):
        timer = training.step_timer(self.keras, clock)
        self.fit_call(self.model, (self.x, self.y), steps=self.steps, callbacks=[timer])
        return (self.steps - timer.first_timed_step) * self.batch


def build(tf, plan, data, config: str, progress, first_pass: bool = True):
    if config in _BUILT:
        return _BUILT[config]
    from reference.keras_fit import small_model

    x, y, xv, yv = data
    kind, spe = CONFIGS[config]
    spe = plan.steps_per_execution if spe is None else spe
    tf.keras.utils.set_random_seed(training.SEED)
    model = small_model()
    if spe != 1:
        training.recompile(model, steps_per_execution=spe)
    cls = _DatasetFit if kind == "fit_dataset" else training.FitConfig
    trainer = cls(tf, name=f"keras.fit/{config}/b32", recipe=RECIPE, model=model, batch=32, spe=spe,
                  input_kind="numpy float64" if kind == "fit_numpy" else "tf.data (repeated_dataset)", x=x, y=y,
                  x_test=xv, y_test=yv, fit_call=fit_call(kind, xv, yv), data_kind="uniform-seed0/32->10",
                  round_examples=plan.train_round_examples, config=config, model_name=MODEL,
                  extra={"call": f"reference.keras_fit.{kind}"})
    trainer.warm_up(full=first_pass)
    progress(f"[bench] training {trainer.name}: warmed up ({trainer.warm['compile_and_first_step_s']:.1f} s to the "
             f"second execution; {trainer.steps} steps a round)")
    _BUILT[config] = trainer
    return trainer


def test_fit_calls(tf, plan, recorder, data, bench_pass):
    configs = ["guide", "dataset"] if plan.quick else list(CONFIGS)
    trainers = [build(tf, plan, data, c, recorder.progress, first_pass=recorder.pass_index == 0) for c in configs]
    units = [u for t in trainers for u in t.units()]
    for u in units:
        if u.row is not None and u.key != "keras.fit/guide/b32":
            u.baseline = "keras.fit/guide/b32"
    measure_group(Group(GROUP, "training", units, plan.budget(GROUP)), recorder, plan,
                  prepare=lambda: [t.prepare() for t in trainers])
