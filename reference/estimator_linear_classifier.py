"""Guide §3.3: LinearClassifier on iris (train, evaluate, predict as in §3.4-3.6).

Where `tf.estimator` exists (TF <= 2.15) the real LinearClassifier runs; from TF 2.16 its Keras
equivalent runs: softmax regression, i.e. one Dense(3) logits layer on the four numeric features.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from reference.estimator_dnn_classifier import (
    N_CLASSES,
    adam,
    report,
    run_classifier,
    run_config,
)
from reference.estimator_feature_columns import numeric_inputs

keras = tf.keras


def make_estimator(feature_columns, model_dir):
    return tf.estimator.LinearClassifier(
        feature_columns=feature_columns, n_classes=N_CLASSES, optimizer=adam,
        model_dir=str(model_dir), config=run_config())


def make_keras_model(keys) -> keras.Model:
    inputs, features = numeric_inputs(keys)
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES, name="linear")(features), name="linear_classifier")


def run(model_dir: Path):
    return run_classifier(make_estimator, make_keras_model, model_dir)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as model_dir:
        report(run(Path(model_dir)), "LinearClassifier(n_classes=3)")


if __name__ == "__main__":
    main()
