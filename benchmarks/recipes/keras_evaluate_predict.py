"""keras.evaluate_predict: the recipe's `predict` by batch size, and its `evaluate` (guide §1.4).

Every row calls the recipe's functions on its model (`reference.keras_evaluate_predict.build_model()`):
`predict(model, data)` (the guide's batch of 32), `predict(model, data, batch_size=b)` for larger batches,
and `evaluate_numpy(model, data, labels)` (batch 32). A round is one call over the whole array, set-up
included (that is what a caller waits for). The % column is the model's inference FLOP utilisation.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.declaration import Benchmark, sized
from benchmarks.models import dense_kernels, inference_flops_per_example, predict_matmul_sets
from benchmarks.rounds import Group, Unit, measure_group

SLOT = "training"  # when it runs (benchmarks/conftest.py)
RECIPE = "keras.evaluate_predict"
GROUP = "keras.evaluate_predict"
SIZES = {"full": {"examples": 20_000, "batches": (32, 256, 2048, 8192)},
         "quick": {"examples": 4_000, "batches": (32, 1024)}}
# budgets: full-run seconds per pass; matmul_sets: what the limits' matmul sweep must include
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 4},
                      matmul_sets=lambda plan: predict_matmul_sets(sized(SIZES, plan).batches))


@pytest.fixture(scope="module")
def model_and_data(tf, plan):
    from reference.keras_evaluate_predict import build_model

    tf.keras.utils.set_random_seed(1234)
    rng = np.random.default_rng(0)
    n = sized(SIZES, plan).examples
    return build_model(), rng.random((n, 32)), rng.random((n, 10))


def units(tf, plan, model, data, labels) -> list[Unit]:
    from reference.keras_evaluate_predict import evaluate_numpy, predict

    n = len(data)
    flops = inference_flops_per_example(dense_kernels(model))
    base = {"recipe": RECIPE, "section": "training", "model": "evaluate_predict model", "replicas": 1,
            "devices": ["/device:CPU:0"], "examples_per_epoch": n, "data": "uniform-seed0/32->10",
            "unit": "examples", "flops_per_example_inference": flops, "params": int(model.count_params()),
            "api": "predict", "input": "numpy float64", "strategy": None, "steps_per_execution": 1,
            "jit_compile": getattr(model, "jit_compile", None), "epochs": None}
    out = []
    guide = "evaluate_predict/predict/b32"

    def predict_run(b):
        def run(clock):
            with clock.timed():
                result = predict(model, data, batch_size=b)
            if result.shape != (n, 10):
                raise AssertionError(f"predict returned {result.shape}, expected {(n, 10)}")
            return n
        return run

    for b in sized(SIZES, plan).batches:
        name = f"evaluate_predict/predict/b{b}"
        out.append(Unit(key=name, run=predict_run(b), baseline=None if name == guide else guide, row={
            **base, "name": name, "config": "guide" if b == 32 else "predict", "global_batch": b,
            "per_replica_batch": b, "call": f"predict(model, data, batch_size={b})", "is_guide": b == 32}))

    def evaluate_run(clock):
        with clock.timed():
            result = evaluate_numpy(model, data, labels)
        if len(result) != 2:
            raise AssertionError(f"evaluate returned {result}, expected [loss, mae]")
        return n

    out.append(Unit(key="evaluate_predict/evaluate/b32", run=evaluate_run, baseline=guide, row={
        **base, "name": "evaluate_predict/evaluate/b32", "config": "evaluate", "global_batch": 32,
        "per_replica_batch": 32, "api": "evaluate", "call": "evaluate_numpy(model, data, labels)", "is_guide": False}))
    return out


def test_predict_and_evaluate(tf, plan, recorder, model_and_data, bench_pass):
    model, data, labels = model_and_data
    group = Group(GROUP, "training", units(tf, plan, model, data, labels), plan.budget(GROUP))
    measure_group(group, recorder, plan)
