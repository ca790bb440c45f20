"""estimator.dnn_classifier (guide §3.3-3.6): DNNClassifier(hidden_units=[10, 10], n_classes=3) on iris:
train(steps), evaluate, predict. The real Estimator on TF <= 2.15; its Keras equivalent (two Dense(10,
relu) layers and Dense(3) logits, same data, same steps) from TF 2.16, where tf.estimator is gone."""

from __future__ import annotations

import pytest

from reference import estimator_dnn_classifier as recipe
from suite.support import iris_classifiers as check

pytestmark = pytest.mark.recipe("estimator.dnn_classifier")

# hidden_units=[10, 10] on 4 features, n_classes=3: kernel shapes of each layer.
KERNEL_SHAPES = {"hiddenlayer_0": (4, 10), "hiddenlayer_1": (10, 10), "logits": (10, 3)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return recipe.run(tmp_path_factory.mktemp("dnn_classifier"))


class TestDNNClassifier(check.ClassifierRecipeSpecs):
    ESTIMATOR = "DNNClassifier"
    forward = staticmethod(check.dnn_forward)


def test_hidden_units_10_10_and_3_classes_shape_the_layers(trained):
    assert {name: kernel.shape for name, (kernel, _) in trained.layers.items()} == KERNEL_SHAPES
    assert {name: bias.shape for name, (_, bias) in trained.layers.items()} == {
        name: (shape[1],) for name, shape in KERNEL_SHAPES.items()}
