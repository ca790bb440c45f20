"""The mutants of keras.quickstart (guide §1): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import functools

from tests.mutants._core import NotApplicable, _keras, _keras3_src, _tf, _wrap, mutant
from tests.mutants._helpers import _advisory, _right_value_gradient_of


@mutant("keras.quickstart", "softmax outputs are not normalised (exp(x - max) without the division)")
def softmax_not_normalised():
    tf = _tf()

    def softmax(x, axis=-1, *args, **kwargs):
        x = tf.convert_to_tensor(x)
        return tf.exp(x - tf.reduce_max(x, axis=axis, keepdims=True))
    try:
        src = _keras3_src()
    except NotApplicable:
        tf.compat.v2.nn.softmax = softmax  # Keras 2 / tf_keras: activations.softmax calls it
    else:
        src.ops.softmax = softmax
        src.ops.nn.softmax = softmax
    tf.nn.softmax = softmax


@mutant("keras.quickstart", "fashion_mnist.load_data shifts every label by one class")
def fashion_mnist_labels_shifted():
    datasets = _keras().datasets.fashion_mnist
    original = datasets.load_data

    @functools.wraps(original)  # keeps __module__: the specs find the loader's get_file through it
    def load_data(*args, **kwargs):
        (x_train, y_train), (x_test, y_test) = original(*args, **kwargs)
        return (x_train, (y_train + 1) % 10), (x_test, (y_test + 1) % 10)
    datasets.load_data = load_data


@mutant("keras.quickstart", "optimizer='adam' gets learning rate 0.002 instead of the documented 0.001")
def adam_default_learning_rate_changed():
    def make(orig):
        def init(self, learning_rate=0.002, *args, **kwargs):
            orig(self, learning_rate, *args, **kwargs)
        return init
    _wrap(_keras().optimizers.Adam, "__init__", make)


@mutant("keras.quickstart", "sparse_categorical_crossentropy scores the probability of the class after the label")
def sparse_crossentropy_scores_the_next_class():
    src = _keras3_src()
    tf = _tf()

    def make(orig):
        def sparse_categorical_crossentropy(target, output, *args, **kwargs):
            classes = output.shape[-1]
            return orig(tf.math.floormod(tf.cast(target, "int64") + 1, classes), output, *args, **kwargs)
        return sparse_categorical_crossentropy
    _wrap(src.ops, "sparse_categorical_crossentropy", make)


@mutant("keras.quickstart", "sparse_categorical_crossentropy's value is right, its gradient that of label 0")
def sparse_crossentropy_gradient_of_label_zero():
    src = _keras3_src()
    _wrap(src.ops, "sparse_categorical_crossentropy", _right_value_gradient_of(lambda target: target * 0))


@mutant("keras.quickstart", "Dense kernels receive no gradient: only the biases train")
def dense_kernels_never_train():
    tf = _tf()

    def make(orig):
        def call(self, inputs, *args, **kwargs):
            x = tf.matmul(inputs, tf.stop_gradient(tf.convert_to_tensor(self.kernel)))
            if getattr(self, "bias", None) is not None:
                x = x + self.bias
            return self.activation(x) if self.activation is not None else x
        return call
    _wrap(_keras().layers.Dense, "call", make)


def _tar_extraction_unfiltered():
    _keras3_src()
    from keras.src.utils import file_utils

    file_utils.extract_open_archive = lambda archive, path=".": archive.extractall(path)


@_advisory("get_file extracts tar members unfiltered (links out of the directory followed)",
           "test_get_file_extraction_does_not_follow_a_link_out_of_its_directory", recipe="keras.quickstart")
def tar_extraction_follows_links():
    _tar_extraction_unfiltered()


@_advisory("get_file extracts tar members unfiltered ('../' members land outside)",
           "test_get_file_extraction_checks_members_against_the_destination_not_the_working_directory",
           recipe="keras.quickstart")
def tar_extraction_keeps_dotdot():
    _tar_extraction_unfiltered()


@_advisory("get_file extracts tar members unfiltered (links named '../x' created outside)",
           "test_get_file_extraction_does_not_create_links_named_out_of_its_directory", recipe="keras.quickstart")
def tar_extraction_creates_outside_links():
    _tar_extraction_unfiltered()


@_advisory("get_file extracts tar members unfiltered ('../' members and links out of the directory followed)",
           "test_get_file_extraction_writes_nothing_outside_its_directory", recipe="keras.quickstart")
def tar_extraction_unfiltered_writes_outside():
    _tar_extraction_unfiltered()
