"""estimator.dnn_linear_combined (guide §3.3): DNNLinearCombinedClassifier (wide & deep) on iris: train,
evaluate, predict. The real Estimator on TF <= 2.15; from TF 2.16, where tf.estimator is gone, its Keras
equivalent: a functional model whose logits are the sum of a linear (wide) and a DNN [10, 10] (deep) branch."""

from __future__ import annotations

import pytest

from reference import estimator_dnn_linear_combined as recipe
from suite.support import iris_classifiers as check

pytestmark = pytest.mark.recipe("estimator.dnn_linear_combined")

KERNEL_SHAPES = {"hiddenlayer_0": (4, 10), "hiddenlayer_1": (10, 10), "logits": (10, 3), "linear": (4, 3)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return recipe.run(tmp_path_factory.mktemp("dnn_linear_combined"))


class TestDNNLinearCombinedClassifier(check.ClassifierRecipeSpecs):
    ESTIMATOR = "DNNLinearCombinedClassifier"
    forward = staticmethod(check.wide_and_deep_forward)


def test_the_model_has_a_deep_10_10_branch_and_a_wide_linear_branch(trained):
    assert {name: kernel.shape for name, (kernel, _) in trained.layers.items()} == KERNEL_SHAPES
