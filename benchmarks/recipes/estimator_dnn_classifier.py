"""estimator.dnn_classifier and the other premade Estimators of the guide's §3 (linear_classifier,
dnn_linear_combined: their declarations point here) against their Keras equivalents, on the same iris data.

Each row runs a recipe's whole flow as the reference writes it - train 200 steps of batch 32, evaluate,
predict (`reference.estimator_dnn_classifier.run_estimator` / `run_keras` with the recipe's
`make_estimator` / `make_keras_model`) - and counts the training examples: examples/s of the recipe, set-up
and all. Where the installed TensorFlow still has `tf.estimator` (<= 2.15) both paths run and the Estimator
row is compared with its Keras equivalent in the same rounds; from TF 2.16 the Estimator rows are skipped
with the reason.

Time to quality (benchmarks/quality.py) of the DNNClassifier's Keras equivalent: seconds from a fresh model to
the 0.9 test accuracy the recipes' specs hold every premade Estimator to (suite/support/iris_classifiers.py), checked
every CHECK_STEPS steps, training on the recipe's endless `train_input_fn`.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

from benchmarks import quality
from benchmarks.declaration import Benchmark
from benchmarks.rounds import Group, Unit, measure_group

SLOT = "once"  # when it runs (benchmarks/conftest.py)
GROUP = "estimator"
QUALITY_GROUP = "estimator/quality"
BENCHMARK = Benchmark(recipe="estimator.dnn_classifier", budgets={GROUP: 20, QUALITY_GROUP: 10},
                      measured_once=(GROUP, QUALITY_GROUP))
QUALITY_TARGET = 0.9     # suite/support/iris_classifiers.py MIN_TEST_ACCURACY
CHECK_STEPS = 10         # 320 examples of iris's 120
QUALITY = {"full": {"trials": (3, 12), "steps": 2000}, "quick": {"trials": (2, 4), "steps": 2000}}
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


def keras_quality_trial(tf, data, steps: int):
    """One time-to-quality trial of the DNNClassifier's Keras equivalent: compiled as `run_keras` compiles it,
    trained on the recipe's endless train_input_fn, checked every CHECK_STEPS steps."""
    from reference.estimator_dnn_classifier import BATCH_SIZE, LEARNING_RATE, SEED, make_keras_model
    from reference.estimator_input_fn import train_input_fn

    keras = tf.keras
    (train_x, train_y), (test_x, test_y) = data

    def trial(turn: int) -> quality.Trial:
        keras.utils.set_random_seed(SEED + turn)
        model = make_keras_model(train_x.keys())
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        features = {k: v.to_numpy() if hasattr(v, "to_numpy") else v for k, v in dict(test_x).items()}
        watch = quality.Stopwatch(quality.accuracy_probe(tf, model, features, test_y), QUALITY_TARGET,
                                  steps * BATCH_SIZE)
        callback = quality.keras_callback(keras, watch, BATCH_SIZE, CHECK_STEPS)
        dataset = train_input_fn(train_x, train_y, BATCH_SIZE)
        watch.start()
        model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[callback])
        return watch.result or watch.finish(callback.steps * BATCH_SIZE)

    return trial


def test_time_to_quality_of_the_keras_equivalent(tf, plan, recorder):
    from reference import iris
    from reference.estimator_dnn_classifier import BATCH_SIZE

    size = QUALITY["quick" if plan.quick else "full"]
    name = "estimator.dnn_classifier/keras-equivalent"
    done = quality.run_trials({name: keras_quality_trial(tf, iris.load_data(), size["steps"])}, recorder,
                              QUALITY_GROUP, plan.budget(QUALITY_GROUP), min_trials=size["trials"][0],
                              max_trials=size["trials"][1])
    recorder.add_quality(quality.row(
        name, done[name], done[name], recipe="estimator.dnn_classifier", model="dnn_classifier",
        config="keras-equivalent", global_batch=BATCH_SIZE, is_guide=True, data="iris (reference/data)",
        target_accuracy=QUALITY_TARGET, check_every_examples=CHECK_STEPS * BATCH_SIZE,
        limit_examples=size["steps"] * BATCH_SIZE, api="fit"))
