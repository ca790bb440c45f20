"""Guide §3.3-3.6: DNNClassifier(hidden_units=[10, 10], n_classes=3) on iris: train, evaluate, predict.

Where `tf.estimator` exists (TF <= 2.15) the real Estimator runs. It was removed in TF 2.16; there the
Keras equivalent runs instead: the same input functions and feature dicts, two Dense(10, relu) hidden
layers and a Dense(3) logits layer, trained with `fit` for the same number of steps.

Both paths use Adam(0.05) so that 200 steps of batch 32 reliably reach >= 0.9 test accuracy (the
Estimator's default Adagrad needs thousands of steps). The train / evaluate / predict flow here is
shared by the linear and wide & deep recipes (estimator_linear_classifier, estimator_dnn_linear_combined).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from reference import iris
from reference.estimator_feature_columns import numeric_feature_columns, numeric_inputs
from reference.estimator_input_fn import eval_input_fn, train_input_fn

keras = tf.keras

# tf.estimator was removed in TF 2.16 (on newer TF, `tf.estimator` raises AttributeError).
ESTIMATOR_AVAILABLE = hasattr(tf, "estimator")

HIDDEN_UNITS = [10, 10]
N_CLASSES = 3
BATCH_SIZE = 32
TRAIN_STEPS = 200
LEARNING_RATE = 0.05
SEED = 1234


@dataclass
class IrisRun:
    """What one classifier did on iris, in the same form for the Estimator and the Keras path."""

    path: str                 # "estimator" or "keras"
    trained_steps: int        # the Estimator's global_step / the Keras optimizer's iterations
    accuracy: float           # from evaluate() on the test split
    predictions: list[dict]   # per test row: logits (3,), probabilities (3,), class_ids (1,)
    # Trained parameters by role, as (kernel, bias) NumPy arrays; inputs are the four features sorted
    # by name: "hiddenlayer_0", "hiddenlayer_1", "logits" (the DNN part), "linear" (the linear part).
    layers: dict[str, tuple[np.ndarray, np.ndarray]]


def make_estimator(feature_columns, model_dir):
    return tf.estimator.DNNClassifier(
        feature_columns=feature_columns,
        # Two hidden layers of 10 nodes each.
        hidden_units=HIDDEN_UNITS,
        # The model must choose between 3 classes.
        n_classes=N_CLASSES,
        optimizer=adam,
        model_dir=str(model_dir),
        config=run_config())


def dnn_logits(features):
    x = features
    for index, units in enumerate(HIDDEN_UNITS):
        x = keras.layers.Dense(units, activation="relu", name=f"hiddenlayer_{index}")(x)
    return keras.layers.Dense(N_CLASSES, name="logits")(x)


def make_keras_model(keys) -> keras.Model:
    inputs, features = numeric_inputs(keys)
    return keras.Model(inputs, dnn_logits(features), name="dnn_classifier")


def adam():
    # Estimators need a TF-optimizer (OptimizerV2): on Keras 2.15 that is the legacy Adam.
    return tf.keras.optimizers.legacy.Adam(learning_rate=LEARNING_RATE)


def run_config():
    return tf.estimator.RunConfig(tf_random_seed=SEED)


def estimator_layers(estimator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The trained Estimator's variables, by the same role names as the Keras layers."""
    names = set(estimator.get_variable_names())
    value = estimator.get_variable_value
    layers = {}
    for role in [f"hiddenlayer_{i}" for i in range(len(HIDDEN_UNITS))] + ["logits"]:
        if f"dnn/{role}/kernel" in names:
            layers[role] = (value(f"dnn/{role}/kernel"), value(f"dnn/{role}/bias"))
    if "linear/linear_model/bias_weights" in names:
        # One (1, n_classes) weight per feature column: stacked in the input layer's (name) order.
        kernel = np.concatenate([value(f"linear/linear_model/{key}/weights") for key in sorted(iris.FEATURE_NAMES)])
        layers["linear"] = (kernel, value("linear/linear_model/bias_weights"))
    return layers


def run_estimator(make: Callable, model_dir: Path, data) -> IrisRun:
    (train_x, train_y), (test_x, test_y) = data
    classifier = make(numeric_feature_columns(train_x.keys()), model_dir)
    classifier.train(input_fn=lambda: train_input_fn(train_x, train_y, BATCH_SIZE), steps=TRAIN_STEPS)
    eval_result = classifier.evaluate(input_fn=lambda: eval_input_fn(test_x, test_y, BATCH_SIZE))
    predictions = list(classifier.predict(input_fn=lambda: eval_input_fn(test_x, batch_size=BATCH_SIZE)))
    return IrisRun(
        path="estimator",
        trained_steps=int(classifier.get_variable_value("global_step")),
        accuracy=float(eval_result["accuracy"]),
        predictions=[{key: p[key] for key in ("logits", "probabilities", "class_ids")} for p in predictions],
        layers=estimator_layers(classifier))


def run_keras(make: Callable, data) -> IrisRun:
    (train_x, train_y), (test_x, test_y) = data
    keras.utils.set_random_seed(SEED)
    model = make(train_x.keys())
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    # Estimator.train(input_fn, steps) == one "epoch" of `steps` batches from the endless input_fn.
    model.fit(train_input_fn(train_x, train_y, BATCH_SIZE), steps_per_epoch=TRAIN_STEPS, epochs=1,
              shuffle=False, verbose=0)
    eval_result = model.evaluate(eval_input_fn(test_x, test_y, BATCH_SIZE), return_dict=True, verbose=0)
    logits = model.predict(eval_input_fn(test_x, batch_size=BATCH_SIZE), verbose=0)
    # What the Estimator's multi-class head derives from its logits, with the same TensorFlow ops.
    probabilities = tf.nn.softmax(logits).numpy()
    class_ids = tf.argmax(logits, axis=-1).numpy()
    layers = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = layer.get_weights()
            layers[layer.name] = (kernel, bias)
    return IrisRun(
        path="keras",
        trained_steps=int(model.optimizer.iterations.numpy()),
        accuracy=float(eval_result["accuracy"]),
        predictions=[{"logits": lg, "probabilities": pr, "class_ids": np.array([ci])}
                     for lg, pr, ci in zip(logits, probabilities, class_ids)],
        layers=layers)


def run_classifier(make_estimator: Callable, make_keras_model: Callable, model_dir: Path, data=None) -> IrisRun:
    """Train, evaluate and predict: the real Estimator where tf.estimator exists, else the Keras model."""
    data = data or iris.load_data()
    if ESTIMATOR_AVAILABLE:
        return run_estimator(make_estimator, model_dir, data)
    return run_keras(make_keras_model, data)


def run(model_dir: Path) -> IrisRun:
    return run_classifier(make_estimator, make_keras_model, model_dir)


def report(result: IrisRun, title: str) -> None:
    """Print what the guide prints: the test accuracy and a few predictions."""
    print(f"{title} ({'real tf.estimator' if result.path == 'estimator' else 'Keras equivalent'}), "
          f"{result.trained_steps} steps")
    print(f"\nTest set accuracy: {result.accuracy:0.3f}\n")
    _, (_, test_y) = iris.load_data()
    for prediction, expected in list(zip(result.predictions, test_y))[:3]:
        class_id = int(prediction["class_ids"][0])
        probability = prediction["probabilities"][class_id]
        print(f'Prediction is "{iris.SPECIES[class_id]}" ({100 * probability:.1f}%), '
              f'expected "{iris.SPECIES[expected]}"')


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as model_dir:
        report(run(Path(model_dir)), "DNNClassifier(hidden_units=[10, 10], n_classes=3)")


if __name__ == "__main__":
    main()
