"""estimator.dnn_classifier and the other premade Estimators of the guide's §3 (linear_classifier,
dnn_linear_combined: their declarations point here) against their Keras equivalents, on the same iris data.

Each row runs a recipe's whole flow as the reference writes it - train 200 steps of batch 32, evaluate,
predict (`reference.estimator_dnn_classifier.run_estimator` / `run_keras` with the recipe's
`make_estimator` / `make_keras_model`) - and counts the training examples: examples/s of the recipe, set-up
and all. Where the installed TensorFlow still has `tf.estimator` (<= 2.15) both paths run and the Estimator
row is compared with its Keras equivalent in the same rounds; from TF 2.16 the Estimator rows are skipped
with the reason.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

from benchmarks.declaration import Benchmark
from benchmarks.rounds import Group, Unit, measure_group

SLOT = "once"  # when it runs (benchmarks/conftest.py)
GROUP = "estimator"
BENCHMARK = Benchmark(recipe="estimator.dnn_classifier", budgets={GROUP: 20})  # full-run seconds per pass
RECIPES = {"estimator.dnn_classifier": "reference.estimator_dnn_classifier",
           "estimator.linear_classifier": "reference.estimator_linear_classifier",
           "estimator.dnn_linear_combined": "reference.estimator_dnn_linear_combined"}


def units(plan, recorder, tmp_path: Path) -> list[Unit]:
    from reference import iris
    from reference.estimator_dnn_classifier import (BATCH_SIZE, ESTIMATOR_AVAILABLE, TRAIN_STEPS, run_estimator,
                                                    run_keras)

    data = iris.load_data()
    examples = TRAIN_STEPS * BATCH_SIZE
    chosen = ["estimator.dnn_classifier"] if plan.quick else list(RECIPES)
    out = []
    for recipe in chosen:
        module = importlib.import_module(RECIPES[recipe])
        short = recipe.split(".", 1)[1]
        base = {"recipe": recipe, "section": "training", "model": short, "global_batch": BATCH_SIZE,
                "per_replica_batch": BATCH_SIZE, "replicas": 1, "devices": ["/device:CPU:0"],
                "examples_per_epoch": examples, "data": "iris (reference/data)", "unit": "examples",
                "steps_per_execution": 1, "jit_compile": None, "strategy": None, "input": "input_fn (tf.data)",
                "what": f"train {TRAIN_STEPS} steps of {BATCH_SIZE}, evaluate, predict: the recipe's whole flow"}
        keras_key = f"{recipe}/keras-equivalent"

        def run_k(clock, module=module):
            with clock.timed():
                result = run_keras(module.make_keras_model, data)
            if result.trained_steps != TRAIN_STEPS:
                raise AssertionError(f"{recipe}: {result.trained_steps} steps trained, expected {TRAIN_STEPS}")
            return examples

        out.append(Unit(key=keras_key, run=run_k, max_repeats=1, row={
            **base, "name": keras_key, "config": "keras-equivalent", "api": "fit (run_keras)", "is_guide": False}))
        est_key = f"{recipe}/estimator"
        if ESTIMATOR_AVAILABLE:
            def run_e(clock, module=module):
                with tempfile.TemporaryDirectory(dir=tmp_path) as model_dir, clock.timed():
                    result = run_estimator(module.make_estimator, Path(model_dir), data)
                if result.trained_steps != TRAIN_STEPS:
                    raise AssertionError(f"{recipe}: {result.trained_steps} steps trained, expected {TRAIN_STEPS}")
                return examples

            out.append(Unit(key=est_key, run=run_e, max_repeats=1, baseline=keras_key, row={
                **base, "name": est_key, "config": "estimator", "api": "tf.estimator (run_estimator)",
                "is_guide": False, "baseline_means": "the Keras equivalent"}))
        else:
            recorder.skip("training", est_key, "tf.estimator was removed in TensorFlow 2.16: only the Keras "
                          "equivalent runs here", recipe=recipe)
    return out


def test_premade_estimators_and_keras_equivalents(tf, plan, recorder, tmp_path):
    group = Group(GROUP, "training", units(plan, recorder, tmp_path), plan.budget(GROUP))
    measure_group(group, recorder, plan, once=True)
