"""Guide §3.3: DNNLinearCombinedClassifier (wide & deep) on iris (train, evaluate, predict).

Where `tf.estimator` exists (TF <= 2.15) the real Estimator runs; from TF 2.16 its Keras equivalent runs:
a functional model whose logits are the SUM of a linear (wide) Dense(3) and a DNN (deep) [10, 10] -> 3
branch over the same features, which is how the Estimator combines its two parts.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from reference.estimator_dnn_classifier import (
    HIDDEN_UNITS,
    N_CLASSES,
    adam,
    dnn_logits,
    report,
    run_classifier,
    run_config,
)
from reference.estimator_feature_columns import numeric_inputs

keras = tf.keras


def make_estimator(feature_columns, model_dir):
    return tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=feature_columns, linear_optimizer=adam,
        dnn_feature_columns=feature_columns, dnn_hidden_units=HIDDEN_UNITS, dnn_optimizer=adam,
        n_classes=N_CLASSES, model_dir=str(model_dir), config=run_config())


def make_keras_model(keys) -> keras.Model:
    inputs, features = numeric_inputs(keys)
    wide = keras.layers.Dense(N_CLASSES, name="linear")(features)
    deep = dnn_logits(features)
    return keras.Model(inputs, keras.layers.Add(name="wide_and_deep_logits")([wide, deep]),
                       name="dnn_linear_combined_classifier")


def run(model_dir: Path):
    return run_classifier(make_estimator, make_keras_model, model_dir)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as model_dir:
        report(run(Path(model_dir)), "DNNLinearCombinedClassifier(dnn_hidden_units=[10, 10], n_classes=3)")


if __name__ == "__main__":
    main()
