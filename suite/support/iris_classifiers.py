"""What the three premade-classifier recipes (§3.3-3.6) share: which path runs on this TF, the iris test
split parsed independently, and the checks of a trained classifier's predict() and evaluate() outputs
(logits, softmax probabilities, argmax class ids, accuracy) against an independent NumPy forward pass of
its trained weights."""

from __future__ import annotations

import numpy as np
import pytest

from reference import DATA_DIR
from suite.support.helpers import TF_VERSION, tf

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


def _removed_from_tf(estimator_name: str) -> None:
    exc_type, message = REMOVED_ERROR
    with pytest.raises(exc_type, match=message):
        _ = tf.estimator


def _present_and_deprecated(estimator_name: str) -> None:
    cls = getattr(tf.estimator, estimator_name)
    doc = (cls.__doc__ or "") + (cls.__init__.__doc__ or "")
    for fragment in ESTIMATOR_DEPRECATION:
        assert fragment in doc


# What tf.estimator.<Estimator> is on this TF (TF 2.16 release notes: "tf.estimator ... removed").
ESTIMATOR_STATUS = _removed_from_tf if ESTIMATOR_REMOVED else _present_and_deprecated


def load_test_split() -> tuple[np.ndarray, np.ndarray]:
    """The test split as (features matrix with columns sorted by name, labels), read with NumPy."""
    table = np.loadtxt(DATA_DIR / "iris_test.csv", delimiter=",", skiprows=1)
    order = [CSV_ORDER.index(name) for name in FEATURES_SORTED]
    return table[:, order].astype(np.float32), table[:, 4].astype(np.int64)



def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def dnn_forward(layers: dict, x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    for name in ("hiddenlayer_0", "hiddenlayer_1"):
        kernel, bias = layers[name]
        x = np.maximum(x @ kernel + bias, 0.0)   # ReLU, the Estimator's and the recipe's activation
    kernel, bias = layers["logits"]
    return x @ kernel + bias


def linear_forward(layers: dict, x: np.ndarray) -> np.ndarray:
    kernel, bias = layers["linear"]
    return x.astype(np.float64) @ kernel + bias


def wide_and_deep_forward(layers: dict, x: np.ndarray) -> np.ndarray:
    return linear_forward(layers, x) + dnn_forward(layers, x)


def stacked(predictions: list[dict], key: str) -> np.ndarray:
    return np.stack([np.asarray(p[key]) for p in predictions])


# Logits computed in float32 by TensorFlow against the float64 NumPy pass of the same weights.
LOGITS_RTOL, LOGITS_ATOL = 1e-4, 1e-5


class ClassifierRecipeSpecs:
    """The specs every premade-classifier recipe shares (guide §3.3-3.6), whichever path ran.

    A recipe module subclasses it as `Test<Estimator>` with ESTIMATOR and `forward` (the recipe's
    network in NumPy: logits from the trained weights by role) and provides a `trained` fixture
    (reference/estimator_<id>.run). Every output of predict and evaluate is checked against that
    independent NumPy forward pass of the test split, never against what the recipe computed itself."""

    ESTIMATOR: str

    @staticmethod
    def forward(layers: dict, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def numpy_logits(self, trained) -> np.ndarray:
        x, _ = load_test_split()
        return self.forward(trained.layers, x)

    @pytest.mark.parametrize("expected_status", [ESTIMATOR_STATUS], ids=lambda check: check.__name__.strip("_"))
    def test_tf_estimator_class_is_deprecated_until_2_15_and_removed_from_2_16(self, expected_status, recipe_note):
        expected_status(self.ESTIMATOR)
        recipe_note(path_note(self.ESTIMATOR))

    def test_the_path_that_ran_is_the_one_this_tf_supports(self, trained):
        assert trained.path == ("keras" if ESTIMATOR_REMOVED else "estimator")

    def test_train_runs_exactly_the_requested_steps(self, trained):
        assert trained.trained_steps == TRAIN_STEPS

    def test_evaluate_reaches_at_least_0_9_test_accuracy(self, trained):
        assert trained.accuracy >= MIN_TEST_ACCURACY

    def test_predictions_carry_class_ids_and_probabilities_for_every_test_row(self, trained):
        probabilities = stacked(trained.predictions, "probabilities")
        class_ids = stacked(trained.predictions, "class_ids")
        assert probabilities.shape == (30, 3)
        assert class_ids.shape == (30, 1)
        assert np.issubdtype(class_ids.dtype, np.integer)

    def test_logits_are_the_numpy_forward_pass_of_the_trained_weights(self, trained):
        np.testing.assert_allclose(stacked(trained.predictions, "logits"), self.numpy_logits(trained),
                                   rtol=LOGITS_RTOL, atol=LOGITS_ATOL)

    def test_probabilities_are_the_softmax_of_the_numpy_logits(self, trained):
        np.testing.assert_allclose(stacked(trained.predictions, "probabilities"), softmax(self.numpy_logits(trained)),
                                   rtol=1e-4, atol=1e-6)

    def test_class_ids_are_the_argmax_of_the_numpy_logits(self, trained):
        logits = self.numpy_logits(trained)
        top_two = np.sort(logits, axis=1)[:, -2:]
        assert np.all(top_two[:, 1] - top_two[:, 0] > 100 * LOGITS_ATOL)  # no near-tie: argmax is well defined
        np.testing.assert_array_equal(stacked(trained.predictions, "class_ids")[:, 0], logits.argmax(axis=1))

    def test_evaluate_accuracy_is_the_share_of_numpy_argmax_equal_to_the_labels(self, trained):
        _, labels = load_test_split()
        by_hand = np.mean(self.numpy_logits(trained).argmax(axis=1) == labels)
        assert trained.accuracy == pytest.approx(by_hand, abs=1e-6)
