"""estimator.linear_classifier (guide §3.3): LinearClassifier on iris: train(steps), evaluate, predict.
The real Estimator on TF <= 2.15; from TF 2.16, where tf.estimator is gone, its Keras equivalent:
softmax regression (one Dense(3) logits layer on the same four features)."""

from __future__ import annotations

import pytest

from reference import estimator_linear_classifier as recipe
from suite.support import iris_classifiers as check

pytestmark = pytest.mark.recipe("estimator.linear_classifier")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return recipe.run(tmp_path_factory.mktemp("linear_classifier"))


class TestLinearClassifier(check.ClassifierRecipeSpecs):
    ESTIMATOR = "LinearClassifier"
    forward = staticmethod(check.linear_forward)


def test_the_model_is_one_linear_map_from_4_features_to_3_logits(trained):
    assert {name: (kernel.shape, bias.shape) for name, (kernel, bias) in trained.layers.items()} == {
        "linear": ((4, 3), (3,))}
