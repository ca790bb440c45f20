"""The mutants of estimator.dnn_classifier (guide §3.3-3.6): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import NotApplicable, _keras3_src, _tf, mutant


@mutant("estimator.dnn_classifier", "the 'relu' activation leaks (slope 0.01 below zero)")
def relu_is_leaky():
    tf = _tf()

    def relu(x, *args, **kwargs):
        return tf.nn.leaky_relu(x, alpha=0.01)
    relu.__name__ = "relu"
    try:
        src = _keras3_src()
    except NotApplicable:
        # Keras 2 / tf_keras: activations.relu calls backend.relu, which calls tf.nn.relu (of
        # tensorflow.compat.v2, another module object than tensorflow.nn).
        if hasattr(tf, "estimator"):
            raise NotApplicable("the real DNNClassifier runs here; its tf.nn.relu is bound when it is imported")
        tf.compat.v2.nn.relu = relu
    else:
        from keras.src import activations

        activations.ALL_OBJECTS_DICT["relu"] = relu
        src.activations.relu = relu
    tf.nn.relu = relu


@mutant("estimator.dnn_classifier", "tf.argmax returns the index of the smallest value")
def argmax_is_argmin():
    tf = _tf()
    if hasattr(tf, "estimator"):
        raise NotApplicable("the real DNNClassifier runs here; its head does not call tf.argmax")
    original = tf.math.argmax

    def argmax(input, axis=None, *args, **kwargs):
        return original(-tf.convert_to_tensor(input), axis, *args, **kwargs)
    tf.argmax = tf.math.argmax = argmax
