"""keras.fit: the same measurement for a small convolutional model (guide §1.3's `fit`, another model).

Conv2D(16) - pool - Conv2D(32) - pool - Dense(10) on the same 28x28 data: more arithmetic per example
than the quickstart model, so the same per-step overhead weighs less. The guide's `fit` at batch 32
against the tuned input/steps_per_execution at batch 32 with and without XLA (same arithmetic), and a
larger batch. (XLA's CPU convolutions are several times slower than oneDNN's here, so there is no XLA
row at the larger batch: it would take minutes to say the same thing.)
"""

from __future__ import annotations

import pytest

from benchmarks import training
from benchmarks.datasets import fashion_mnist

RECIPE = "keras.fit"
MODEL = "conv"
CONFIGS = {
    "guide": (32, 1, "auto", "numpy float64"),
    "spe+tfdata": (32, None, False, "tf.data"),
    "spe+xla+tfdata": (32, None, True, "tf.data"),
    "spe+tfdata@256": (256, None, False, "tf.data"),
}


@pytest.fixture(scope="module")
def conv_images(plan):
    return fashion_mnist(plan.conv_examples, plan.test_examples)


QUICK = ("guide", "spe+tfdata")  # the smoke run's subset


def pytest_generate_tests(metafunc):
    if "name" in metafunc.fixturenames:
        metafunc.parametrize("name", QUICK if metafunc.config.getoption("quick") else list(CONFIGS))


def test_conv_fit(tf, plan, recorder, conv_images, name):
    batch, spe, jit, input_kind = CONFIGS[name]
    training.record_fit(tf, plan, recorder, conv_images, model=MODEL, name=name.split("@")[0], batch=batch, spe=spe,
                        jit=jit, input_kind=input_kind, recipe=RECIPE)
