"""keras.quickstart: training throughput of the guide's quickstart model (guide §1).

The guide's `fit` as written (numpy float64 images / 255.0, batch 32, defaults) is the baseline. Tuned
configurations at batch 32 keep the same arithmetic (the same model, optimizer, batch, epochs and a new
shuffle every epoch), so their accuracy after the same epochs is the guide's within noise:
`steps_per_execution` (many steps per Python call), `jit_compile=True` (XLA) and the tf.data input
(float32, shuffled indices, batch-before-gather, prefetch). Larger batches change the arithmetic, so
their accuracy after the same epochs is reported beside their FLOP utilisation.

One row is not `fit`: `xla-loop` runs the same training as a custom loop with many steps inside one
XLA-compiled function, to measure how much of a step is arithmetic and how much the machinery around it.
"""

from __future__ import annotations

import pytest

from benchmarks import training
from benchmarks.datasets import fashion_mnist
from benchmarks.harness import Plan

RECIPE = "keras.quickstart"
MODEL = "quickstart"
# name: (batch or None for "the large batches", steps_per_execution (None = the plan's), jit_compile, input)
CONFIGS = {
    "guide": (32, 1, "auto", "numpy float64"),
    "spe": (32, None, "auto", "numpy float64"),
    "spe+tfdata": (32, None, False, "tf.data"),
    "spe+xla": (32, None, True, "numpy float64"),
    "spe+xla+tfdata": (32, None, True, "tf.data"),
    # not `fit`: the same training with steps_per_execution steps inside one XLA function (training.run_xla_loop)
    "xla-loop": (32, None, True, "xla loop"),
}


@pytest.fixture(scope="session")
def images(plan):
    return fashion_mnist(plan.train_examples, plan.test_examples)


QUICK = ("guide", "spe+xla", "xla-loop")  # the smoke run's subset


def pytest_generate_tests(metafunc):
    quick = bool(metafunc.config.getoption("quick"))
    if "name" in metafunc.fixturenames:
        metafunc.parametrize("name", QUICK if quick else list(CONFIGS))
    if "large_batch" in metafunc.fixturenames:
        metafunc.parametrize("large_batch", Plan.for_run(quick).large_batches, ids=lambda b: f"b{b}")


def test_quickstart_batch32(tf, plan, recorder, images, name):
    batch, spe, jit, input_kind = CONFIGS[name]
    training.record_fit(tf, plan, recorder, images, model=MODEL, name=name, batch=batch, spe=spe, jit=jit,
                        input_kind=input_kind, recipe=RECIPE)


@pytest.mark.parametrize("variant", ["spe+xla+tfdata", "spe+tfdata", "xla-loop"])
def test_quickstart_large_batch(tf, plan, recorder, images, large_batch, variant):
    _, spe, jit, input_kind = CONFIGS[variant]
    training.record_fit(tf, plan, recorder, images, model=MODEL, name=variant, batch=large_batch, spe=spe, jit=jit,
                        input_kind=input_kind, recipe=RECIPE)
