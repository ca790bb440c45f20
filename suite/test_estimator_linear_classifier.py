"""estimator.linear_classifier (guide §3.3): LinearClassifier on iris: train(steps), evaluate, predict.
The real Estimator on TF <= 2.15; from TF 2.16, where tf.estimator is gone, its Keras equivalent:
softmax regression (one Dense(3) logits layer on the same four features)."""

from __future__ import annotations

import pytest

from reference import estimator_linear_classifier as recipe
from suite import iris_classifiers as check

pytestmark = pytest.mark.recipe("estimator.linear_classifier")

ESTIMATOR = "LinearClassifier"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return recipe.run(tmp_path_factory.mktemp("linear_classifier"))


def test_tf_estimator_linear_classifier_is_deprecated_until_2_15_and_removed_from_2_16(recipe_note):
    check.assert_estimator_status(ESTIMATOR)
    recipe_note(check.path_note(ESTIMATOR))


def test_the_path_that_ran_is_the_one_this_tf_supports(trained):
    assert trained.path == ("keras" if check.ESTIMATOR_REMOVED else "estimator")


def test_train_runs_exactly_the_requested_steps(trained):
    assert trained.trained_steps == check.TRAIN_STEPS


def test_the_model_is_one_linear_map_from_4_features_to_3_logits(trained):
    assert {name: (kernel.shape, bias.shape) for name, (kernel, bias) in trained.layers.items()} == {
        "linear": ((4, 3), (3,))}


def test_evaluate_reaches_at_least_0_9_test_accuracy(trained, recipe_note):
    assert trained.accuracy >= check.MIN_TEST_ACCURACY
    recipe_note(check.path_note(ESTIMATOR))


def test_evaluate_accuracy_is_the_share_of_predicted_class_ids_equal_to_the_labels(trained):
    check.assert_evaluate_accuracy_matches_predictions(trained.accuracy, trained.predictions)


def test_predictions_carry_class_ids_and_probabilities_for_every_test_row(trained):
    check.assert_predictions_are_class_ids_and_probability_rows(trained.predictions, n_rows=30)


def test_probabilities_are_the_softmax_of_the_logits(trained):
    check.assert_probabilities_are_softmax_of_logits(trained.predictions)


def test_logits_are_the_trained_affine_map_of_the_features(trained):
    x, _ = check.load_test_split()
    check.assert_logits_are(trained.predictions, check.linear_forward(trained.layers, x))
