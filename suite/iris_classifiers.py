"""What the three premade-classifier recipes (§3.3-3.6) share: which path runs on this TF, the iris test
split parsed independently, and the closed-form checks of a trained classifier's outputs (NumPy forward
pass, softmax, argmax) against what its predict() returned."""

from __future__ import annotations

import numpy as np
import pytest

from reference import DATA_DIR
from suite.helpers import TF_VERSION, tf

# tf.estimator was removed in TF 2.16: the real Estimators run before, their Keras equivalents after.
ESTIMATOR_REMOVED = TF_VERSION >= (2, 16)
ESTIMATOR_DEPRECATION = ["THIS FUNCTION IS DEPRECATED", "Use tf.keras instead."]
REMOVED_ERROR = (AttributeError, "module 'tensorflow' has no attribute 'estimator'")
FEATURES_SORTED = ["PetalLength", "PetalWidth", "SepalLength", "SepalWidth"]
CSV_ORDER = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth"]
MIN_TEST_ACCURACY = 0.9
TRAIN_STEPS = 200


def path_note(estimator_name: str) -> str:
    if ESTIMATOR_REMOVED:
        return "Ran the Keras equivalent: tf.estimator is absent on this TF."
    return f"Ran the real tf.estimator.{estimator_name}."


def assert_estimator_status(estimator_name: str) -> None:
    """TF <= 2.15: the class is there and marked deprecated; TF >= 2.16: `tf.estimator` is gone."""
    if ESTIMATOR_REMOVED:
        exc_type, message = REMOVED_ERROR
        with pytest.raises(exc_type, match=message):
            _ = tf.estimator
        return
    cls = getattr(tf.estimator, estimator_name)
    doc = (cls.__doc__ or "") + (cls.__init__.__doc__ or "")
    for fragment in ESTIMATOR_DEPRECATION:
        assert fragment in doc


def load_test_split() -> tuple[np.ndarray, np.ndarray]:
    """The test split as (features matrix with columns sorted by name, labels), read with NumPy."""
    table = np.loadtxt(DATA_DIR / "iris_test.csv", delimiter=",", skiprows=1)
    order = [CSV_ORDER.index(name) for name in FEATURES_SORTED]
    return table[:, order].astype(np.float32), table[:, 4].astype(np.int64)



def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def dnn_forward(layers: dict, x: np.ndarray) -> np.ndarray:
    for name in ("hiddenlayer_0", "hiddenlayer_1"):
        kernel, bias = layers[name]
        x = np.maximum(x @ kernel + bias, 0.0)   # ReLU, the Estimator's and the recipe's activation
    kernel, bias = layers["logits"]
    return x @ kernel + bias


def linear_forward(layers: dict, x: np.ndarray) -> np.ndarray:
    kernel, bias = layers["linear"]
    return x @ kernel + bias


def stacked(predictions: list[dict], key: str) -> np.ndarray:
    return np.stack([np.asarray(p[key]) for p in predictions])


def assert_predictions_are_class_ids_and_probability_rows(predictions: list[dict], n_rows: int) -> None:
    probabilities = stacked(predictions, "probabilities")
    class_ids = stacked(predictions, "class_ids")
    assert probabilities.shape == (n_rows, 3)
    assert class_ids.shape == (n_rows, 1)
    assert np.issubdtype(class_ids.dtype, np.integer)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(class_ids[:, 0], probabilities.argmax(axis=1))


def assert_probabilities_are_softmax_of_logits(predictions: list[dict]) -> None:
    np.testing.assert_allclose(stacked(predictions, "probabilities"), softmax(stacked(predictions, "logits")),
                               rtol=1e-5, atol=1e-7)


def assert_logits_are(predictions: list[dict], expected_logits: np.ndarray) -> None:
    np.testing.assert_allclose(stacked(predictions, "logits"), expected_logits, rtol=1e-4, atol=1e-5)


def assert_evaluate_accuracy_matches_predictions(accuracy: float, predictions: list[dict]) -> None:
    _, labels = load_test_split()
    by_hand = np.mean(stacked(predictions, "class_ids")[:, 0] == labels)
    assert accuracy == pytest.approx(by_hand, abs=1e-6)


class ClassifierRecipeSpecs:
    """The specs every premade-classifier recipe shares (guide §3.3-3.6), whichever path ran.

    A recipe module subclasses it as `Test<Estimator>` with ESTIMATOR set and provides a `trained` fixture
    (reference/estimator_<id>.run); its own specs assert the model's layers and logits."""

    ESTIMATOR: str

    def test_tf_estimator_class_is_deprecated_until_2_15_and_removed_from_2_16(self, recipe_note):
        assert_estimator_status(self.ESTIMATOR)
        recipe_note(path_note(self.ESTIMATOR))

    def test_the_path_that_ran_is_the_one_this_tf_supports(self, trained):
        assert trained.path == ("keras" if ESTIMATOR_REMOVED else "estimator")

    def test_train_runs_exactly_the_requested_steps(self, trained):
        assert trained.trained_steps == TRAIN_STEPS

    def test_evaluate_reaches_at_least_0_9_test_accuracy(self, trained):
        assert trained.accuracy >= MIN_TEST_ACCURACY

    def test_evaluate_accuracy_is_the_share_of_predicted_class_ids_equal_to_the_labels(self, trained):
        assert_evaluate_accuracy_matches_predictions(trained.accuracy, trained.predictions)

    def test_predictions_carry_class_ids_and_probabilities_for_every_test_row(self, trained):
        assert_predictions_are_class_ids_and_probability_rows(trained.predictions, n_rows=30)

    def test_probabilities_are_the_softmax_of_the_logits(self, trained):
        assert_probabilities_are_softmax_of_logits(trained.predictions)
