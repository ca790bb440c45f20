"""Mutants: each breaks ONE documented behaviour of the installed TensorFlow / Keras, in-process.

The conformance suite is judged by running it against TensorFlow builds with deliberately broken
behaviour. These mutants simulate such builds by monkeypatching the installed TensorFlow/Keras before
the specs run (tests/mutant_plugin.py applies the one named by $TFGUIDE_MUTANT), and
tests/run_mutants.py checks that every mutant makes its recipe's specs fail ("killed").

Each mutant names the recipe id whose specs must catch it and the spec modules to run. The patches
target the main version (TF 2.21 + Keras 3); on another flavour a mutant whose patch point does not
exist raises NotApplicable instead of silently doing nothing.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass
from typing import Callable

ENV_VAR = "TFGUIDE_MUTANT"


class NotApplicable(RuntimeError):
    """The mutant's patch point does not exist in this TensorFlow/Keras."""


@dataclass(frozen=True)
class Mutant:
    name: str
    recipe: str
    modules: tuple[str, ...]
    breaks: str                      # the documented behaviour it breaks, in words
    apply: Callable[[], None]
    subprocess: bool = False         # must also be applied in the specs' child processes


CATALOGUE: dict[str, Mutant] = {}


def spec_module(recipe: str) -> str:
    """The spec module of a recipe id (docs/adding-a-recipe.md): keras.fit -> suite/test_keras_fit.py."""
    return f"suite/test_{recipe.replace('.', '_')}.py"


def mutant(recipe: str, breaks: str, *, subprocess: bool = False, module: str | None = None):
    """Register a mutant of `recipe`'s specs; `module` when they live elsewhere than the recipe's own spec
    module (the advisory specs of keras.save_model: suite/test_keras_advisories.py)."""
    def register(fn):
        CATALOGUE[fn.__name__] = Mutant(fn.__name__, recipe, (module or spec_module(recipe),), breaks, fn,
                                        subprocess)
        return fn
    return register


def _tf():
    import tensorflow as tf
    return tf


def _keras():
    return _tf().keras


def _wrap(owner, attr: str, make: Callable, static: bool = False) -> None:
    """Replace owner.attr by make(original); keep it a staticmethod where it was one."""
    if not hasattr(owner, attr):
        raise NotApplicable(f"{owner!r} has no attribute {attr!r}")
    original = getattr(owner, attr)
    replacement = functools.wraps(original)(make(original))
    setattr(owner, attr, staticmethod(replacement) if static else replacement)


def _keras3_src():
    try:
        import keras.src as src  # noqa: F401
    except ImportError as exc:
        raise NotApplicable("needs Keras 3 internals") from exc
    import keras
    if int(keras.__version__.split(".")[0]) < 3:  # keras 2.13-2.15 have a keras.src package too
        raise NotApplicable(f"needs Keras 3 internals; keras {keras.__version__} here")
    if _keras() is not keras and not getattr(_keras(), "__name__", "").startswith("keras"):
        raise NotApplicable("tf.keras is not Keras 3 here")
    return src


# --- tf.data ------------------------------------------------------------------------------------------

@mutant("data.batch", "batch() drops the partial last batch even without drop_remainder")
def batch_always_drops_remainder():
    _wrap(_tf().data.Dataset, "batch",
          lambda orig: lambda self, batch_size, drop_remainder=False, *a, **kw: orig(self, batch_size, True, *a, **kw))


@mutant("data.batch", "batch(drop_remainder=True) keeps the partial last batch")
def batch_ignores_drop_remainder():
    _wrap(_tf().data.Dataset, "batch",
          lambda orig: lambda self, batch_size, drop_remainder=False, *a, **kw: orig(self, batch_size, False, *a, **kw))


@mutant("data.batch", "zip() runs to the longest input, cycling the shorter ones")
def zip_stops_at_longest():
    tf = _tf()

    def make(orig):
        def zip_longest(*args, datasets=None, name=None):
            structure = datasets if datasets is not None else (args[0] if len(args) == 1 else args)
            flat = tf.nest.flatten(structure)
            try:
                sizes = [int(d.cardinality().numpy()) for d in flat]
            except Exception:  # graph mode or unknown sizes: leave it alone
                return orig(structure, name=name)
            longest = max(sizes)
            if longest < 0 or min(sizes) < 0:
                return orig(structure, name=name)
            padded = [d.repeat().take(longest) if n < longest else d for d, n in zip(flat, sizes)]
            return orig(tf.nest.pack_sequence_as(structure, padded), name=name)
        return zip_longest
    _wrap(tf.data.Dataset, "zip", make, static=True)


@mutant("data.batch", "shuffle(seed=...) ignores the seed: not reproducible")
def shuffle_ignores_seed():
    def make(orig):
        def shuffle(self, buffer_size, seed=None, *a, **kw):
            return orig(self, buffer_size, random.randrange(1, 2 ** 31), *a, **kw)
        return shuffle
    _wrap(_tf().data.Dataset, "shuffle", make)


def _shuffle_with_buffer(resize: Callable) -> None:
    """Dataset.shuffle(buffer_size) runs with a buffer of resize(dataset, buffer_size) elements instead."""
    def make(orig):
        def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
            return orig(self, resize(self, buffer_size), seed, reshuffle_each_iteration, name=name)
        return shuffle
    _wrap(_tf().data.Dataset, "shuffle", make)


@mutant("data.batch", "shuffle(b) holds b - 1 elements in its buffer (an element moves at most b - 2 ahead)")
def shuffle_buffer_one_short():
    _shuffle_with_buffer(lambda dataset, size: max(size - 1, 1))


@mutant("data.batch", "shuffle(b) caps its buffer at 512 elements")
def shuffle_buffer_capped_at_512():
    _shuffle_with_buffer(lambda dataset, size: min(size, 512))


@mutant("estimator.input_fn", "shuffle() does not reshuffle on each pass of repeat()")
def shuffle_never_reshuffles():
    def make(orig):
        def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
            return orig(self, buffer_size, seed, False, name=name)
        return shuffle
    _wrap(_tf().data.Dataset, "shuffle", make)


@mutant("estimator.input_fn", "shuffle(1000) holds only half its buffer_size (500 elements)")
def shuffle_buffer_halved():
    _shuffle_with_buffer(lambda dataset, size: max(size // 2, 1))


@mutant("estimator.input_fn", "shuffle(b) shuffles the whole finite dataset at once, whatever b")
def shuffle_buffer_is_the_whole_dataset():
    def whole(dataset, size):
        count = int(dataset.cardinality().numpy())
        return max(size, count)  # unknown (-2) or infinite (-1) cardinality: b as given
    _shuffle_with_buffer(whole)


@mutant("estimator.input_fn", "repeat() without a count stops after three passes")
def repeat_is_finite():
    _wrap(_tf().data.Dataset, "repeat",
          lambda orig: lambda self, count=None, name=None: orig(self, 3 if count is None else count, name=name))


@mutant("data.padded_batch", "padded_batch() pads with 1 instead of 0")
def padded_batch_pads_with_one():
    tf = _tf()

    def make(orig):
        def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
            if padding_values is None:
                padding_values = tf.nest.map_structure(lambda spec: tf.constant(1, spec.dtype), self.element_spec)
            return orig(self, batch_size, padded_shapes, padding_values, drop_remainder, name=name)
        return padded_batch
    _wrap(tf.data.Dataset, "padded_batch", make)


@mutant("data.numpy", "from_tensor_slices() yields the rows in reverse order")
def from_tensor_slices_reverses():
    tf = _tf()

    def make(orig):
        def reversed_slices(tensors, name=None):
            flipped = tf.nest.map_structure(lambda t: tf.reverse(tf.convert_to_tensor(t), [0]), tensors)
            return orig(flipped, name=name)
        return reversed_slices
    _wrap(tf.data.Dataset, "from_tensor_slices", make, static=True)


@mutant("data.numpy", "from_tensor_slices() turns float64/int8 arrays into float32/int32")
def from_tensor_slices_narrows_dtypes():
    tf = _tf()
    import numpy as np
    widen = {np.dtype(np.float64): np.float32, np.dtype(np.float16): np.float32, np.dtype(np.int8): np.int32,
             np.dtype(np.uint8): np.int32}

    def cast(t):
        if isinstance(t, np.ndarray) and t.dtype in widen:
            return t.astype(widen[t.dtype])
        return t

    _wrap(tf.data.Dataset, "from_tensor_slices",
          lambda orig: lambda tensors, name=None: orig(tf.nest.map_structure(cast, tensors), name=name), static=True)


@mutant("data.numpy", "Dataset keeps TF 1's make_initializable_iterator() method")
def dataset_keeps_make_initializable_iterator():
    tf = _tf()
    tf.data.Dataset.make_initializable_iterator = (
        lambda self, shared_name=None: tf.compat.v1.data.make_initializable_iterator(self, shared_name))


@mutant("data.text", "TextLineDataset keeps the '\\r' of '\\r\\n' line endings")
def text_line_keeps_carriage_return():
    tf = _tf()
    original = tf.data.TextLineDataset

    def lines_of(path):
        parts = tf.strings.split(tf.io.read_file(path), "\n")
        # Like the real reader, a final '\n' (or an empty file) adds no element.
        return tf.data.Dataset.from_tensor_slices(tf.cond(tf.equal(parts[-1], ""), lambda: parts[:-1], lambda: parts))

    def text_line_dataset(filenames, compression_type=None, *args, **kwargs):
        if compression_type:
            return original(filenames, compression_type, *args, **kwargs)
        names = tf.data.Dataset.from_tensor_slices(tf.constant([str(f) for f in tf.nest.flatten(filenames)]))
        return names.flat_map(lines_of)

    tf.data.TextLineDataset = text_line_dataset


@mutant("data.text", "TextLineDataset drops empty lines")
def text_line_drops_empty_lines():
    tf = _tf()
    original = tf.data.TextLineDataset
    tf.data.TextLineDataset = lambda *a, **kw: original(*a, **kw).filter(lambda line: tf.strings.length(line) > 0)


@mutant("data.csv", "CsvDataset(header=True) parses the header line as a record")
def csv_ignores_header():
    tf = _tf()
    original = tf.data.experimental.CsvDataset

    def csv_dataset(*args, **kwargs):
        kwargs["header"] = False
        return original(*args, **kwargs)
    tf.data.experimental.CsvDataset = csv_dataset


@mutant("data.csv", "CsvDataset fills empty optional fields with zeros instead of the given defaults")
def csv_ignores_defaults():
    tf = _tf()
    original = tf.data.experimental.CsvDataset

    def zero_default(default):
        if isinstance(default, tf.dtypes.DType):
            return default
        value = tf.convert_to_tensor(default)
        return tf.zeros_like(value)

    def csv_dataset(filenames, record_defaults, *args, **kwargs):
        return original(filenames, [zero_default(d) for d in record_defaults], *args, **kwargs)
    tf.data.experimental.CsvDataset = csv_dataset


@mutant("data.tfrecord", "TFRecordDataset reads its files in reverse order")
def tfrecord_reads_files_in_reverse():
    tf = _tf()
    original = tf.data.TFRecordDataset

    def tfrecord_dataset(filenames, *args, **kwargs):
        if isinstance(filenames, (list, tuple)):
            filenames = list(reversed(filenames))
        return original(filenames, *args, **kwargs)
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("data.map", "tf.image.resize defaults to nearest-neighbour instead of bilinear")
def resize_defaults_to_nearest():
    tf = _tf()
    original = tf.image.resize

    def resize(images, size, method="bilinear", *args, **kwargs):
        return original(images, size, "nearest" if method == "bilinear" else method, *args, **kwargs)
    tf.image.resize = resize


@mutant("data.map", "decode_jpeg returns every pixel one level too bright")
def decode_jpeg_off_by_one():
    tf = _tf()
    original = tf.io.decode_jpeg

    def decode_jpeg(*args, **kwargs):
        image = original(*args, **kwargs)
        return tf.cast(tf.minimum(tf.cast(image, tf.int32) + 1, 255), tf.uint8)
    tf.io.decode_jpeg = decode_jpeg
    tf.image.decode_jpeg = decode_jpeg


@mutant("data.iterators", "the one-shot iterator skips the first element")
def one_shot_iterator_skips_first():
    tf = _tf()
    original = tf.compat.v1.data.make_one_shot_iterator
    tf.compat.v1.data.make_one_shot_iterator = lambda dataset: original(dataset.skip(1))


# --- Keras layers, initializers, regularizers, activations ---------------------------------------------

@mutant("keras.layers", "regularizers.l1(0.01) adds 0.5 * 0.01 * sum|W|")
def l1_half_factor():
    _wrap(_keras().regularizers.L1, "__call__", lambda orig: lambda self, x: 0.5 * orig(self, x))


@mutant("keras.layers", "regularizers.l2(0.01) adds 0.5 * 0.01 * sum W^2 (the TF1 nn.l2_loss half)")
def l2_half_factor():
    _wrap(_keras().regularizers.L2, "__call__", lambda orig: lambda self, x: 0.5 * orig(self, x))


@mutant("keras.layers", "initializers.constant(2.0) gives 2.0 + 1e-6")
def constant_initializer_off_by_eps():
    _wrap(_keras().initializers.Constant, "__call__",
          lambda orig: lambda self, shape, dtype=None, **kw: orig(self, shape, dtype=dtype, **kw) + 1e-6)


@mutant("keras.layers", "glorot_uniform (the Dense default) draws from he_uniform")
def glorot_uniform_is_he_uniform():
    def make(orig):
        def init(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            self.scale, self.mode = 2.0, "fan_in"
        return init
    _wrap(_keras().initializers.GlorotUniform, "__init__", make)


@mutant("keras.layers", "Dense's default activation is relu instead of linear")
def dense_default_activation_relu():
    dense = _keras().layers.Dense
    original = dense.__init__

    # Not functools.wraps: Keras 3 derives a layer's config from its __init__ signature, and a wrapper
    # reporting the original signature while taking **kwargs confuses that.
    def init(self, units, activation=None, **kwargs):
        original(self, units, activation="relu" if activation is None else activation, **kwargs)
    dense.__init__ = init


@mutant("keras.layers", "Dense regularizes its kernel with l2(1e-4) when no kernel_regularizer is given")
def dense_default_kernel_regularizer_l2():
    keras = _keras()
    dense = keras.layers.Dense
    original = dense.__init__

    # Not functools.wraps, for the reason dense_default_activation_relu gives.
    def init(self, units, kernel_regularizer=None, **kwargs):
        original(self, units, kernel_regularizer=kernel_regularizer or keras.regularizers.l2(1e-4), **kwargs)
    dense.__init__ = init


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


@mutant("keras.functional", "Dense layers leave out their bias")
def dense_ignores_bias():
    def make(orig):
        def call(self, inputs, *args, **kwargs):
            x = _tf().matmul(inputs, self.kernel)
            return self.activation(x) if self.activation is not None else x
        return call
    _wrap(_keras().layers.Dense, "call", make)


@mutant("estimator.linear_classifier", "the 'accuracy' metric of sparse labels counts the least likely class")
def sparse_accuracy_uses_argmin():
    _keras3_src()
    from keras.src.metrics import accuracy_metrics
    original = accuracy_metrics.sparse_categorical_accuracy

    def make(orig):
        def init(self, name="sparse_categorical_accuracy", dtype=None):
            orig(self, name=name, dtype=dtype)
            self._fn = lambda y_true, y_pred: original(y_true, -y_pred)
        return init
    _wrap(accuracy_metrics.SparseCategoricalAccuracy, "__init__", make)


@mutant("estimator.dnn_linear_combined", "the Add layer averages its inputs instead of summing them")
def add_layer_averages():
    if hasattr(_tf(), "estimator"):
        raise NotApplicable("the real DNNLinearCombinedClassifier runs here; it adds its logits without keras Add")

    def make(orig):
        def merge(self, inputs):
            return orig(self, inputs) / float(len(inputs))
        return merge
    _wrap(_keras().layers.Add, "_merge_function", make)


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


def _right_value_gradient_of(relabel: Callable):
    """Make a cross-entropy whose value is right but whose gradient is that of the labels relabel(target):
    what a broken gradient registration gives, invisible to any check of the value alone."""
    tf = _tf()

    def make(orig):
        def crossentropy(target, output, *args, **kwargs):
            right = orig(target, output, *args, **kwargs)
            other = orig(relabel(target), output, *args, **kwargs)
            return tf.stop_gradient(right) + other - tf.stop_gradient(other)
        return crossentropy
    return make


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


@mutant("keras.compile", "Adam(0.01) trains with the default rate 0.001")
def adam_ignores_learning_rate():
    def make(orig):
        def init(self, learning_rate=0.001, *args, **kwargs):
            orig(self, 0.001, *args, **kwargs)
            self._requested_learning_rate = learning_rate
        return init
    _wrap(_keras().optimizers.Adam, "__init__", make)


@mutant("keras.compile", "the 'mae' metric reports the mean squared error")
def mae_metric_is_mse():
    src = _keras3_src()
    from keras.src.metrics import regression_metrics

    def make(orig):
        def init(self, name="mean_absolute_error", dtype=None):
            orig(self, name=name, dtype=dtype)
            self._fn = src.losses.mean_squared_error
        return init
    _wrap(regression_metrics.MeanAbsoluteError, "__init__", make)


@mutant("keras.compile", "binary_crossentropy leaves out the (1 - y) log(1 - p) term of the negative labels")
def binary_crossentropy_drops_the_negative_term():
    src = _keras3_src()
    tf = _tf()

    def make(orig):
        def binary_crossentropy(target, output, from_logits=False):
            p = tf.clip_by_value(tf.sigmoid(output) if from_logits else output, 1e-7, 1 - 1e-7)
            return -tf.cast(target, p.dtype) * tf.math.log(p)
        return binary_crossentropy
    _wrap(src.ops, "binary_crossentropy", make)


@mutant("keras.compile", "binary_crossentropy's value is right, its gradient that of the flipped labels")
def binary_crossentropy_gradient_of_flipped_labels():
    src = _keras3_src()
    _wrap(src.ops, "binary_crossentropy", _right_value_gradient_of(lambda target: 1 - target))


@mutant("keras.compile", "loss='categorical_crossentropy' by name smooths the labels by 0.1 (the callable does not)")
def categorical_crossentropy_by_name_smooths_labels():
    src = _keras3_src()
    by_name = src.losses.ALL_OBJECTS_DICT
    original = by_name["categorical_crossentropy"]

    def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.1, axis=-1):
        return original(y_true, y_pred, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
    by_name["categorical_crossentropy"] = categorical_crossentropy


@mutant("keras.compile", "SGD's default momentum is 0.9 instead of 0 (GradientDescentOptimizer had none)")
def sgd_default_momentum_changed():
    def make(orig):
        def init(self, learning_rate=0.01, momentum=0.9, *args, **kwargs):
            orig(self, learning_rate, momentum, *args, **kwargs)
        return init
    _wrap(_keras().optimizers.SGD, "__init__", make)


# --- Keras training loop ------------------------------------------------------------------------------

def _model_class():
    return _keras().Model


@mutant("keras.fit", "fit(x, y, batch_size=n) drops the last partial batch")
def fit_drops_last_partial_batch():
    import numpy as np

    def make(orig):
        def fit(self, x=None, y=None, batch_size=None, *args, **kwargs):
            if isinstance(x, np.ndarray):
                size = batch_size or 32
                keep = len(x) - len(x) % size if len(x) > size else len(x)
                x, y = x[:keep], (y[:keep] if y is not None else None)
            return orig(self, x, y, batch_size, *args, **kwargs)
        return fit
    _wrap(_model_class(), "fit", make)


@mutant("keras.fit", "fit(steps_per_epoch=n) runs n - 1 steps per epoch")
def steps_per_epoch_off_by_one():
    def make(orig):
        def fit(self, *args, **kwargs):
            if kwargs.get("steps_per_epoch"):
                kwargs["steps_per_epoch"] -= 1
            return orig(self, *args, **kwargs)
        return fit
    _wrap(_model_class(), "fit", make)


@mutant("keras.fit", "validation metrics are computed with dropout active (training mode)")
def validation_in_training_mode():
    _keras3_src()
    from keras.src import tree
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer
    from keras.src.losses import loss as loss_module
    from keras.src.trainers.data_adapters import data_adapter_utils
    tf = _tf()

    def make(orig):
        def test_step(self, data):
            # Keras 3.15's test_step with training=True in the forward pass.
            x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
            self._loss_tracker.update_state(
                loss_module.unscale_loss_for_distribution(loss),
                sample_weight=tf.shape(next(i for i in tree.flatten(x) if i is not None))[0])
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        return test_step
    _wrap(TensorFlowTrainer, "test_step", make)


@mutant("keras.evaluate_predict", "evaluate(steps=n) consumes n + 1 batches")
def evaluate_steps_off_by_one():
    def make(orig):
        def evaluate(self, *args, **kwargs):
            if kwargs.get("steps"):
                kwargs["steps"] += 1
            return orig(self, *args, **kwargs)
        return evaluate
    _wrap(_model_class(), "evaluate", make)


@mutant("keras.evaluate_predict", "evaluate returns only the loss, without the metrics")
def evaluate_returns_only_loss():
    def make(orig):
        def evaluate(self, *args, **kwargs):
            result = orig(self, *args, **kwargs)
            if isinstance(result, dict):
                return {"loss": result["loss"]}
            return result[0] if isinstance(result, list) else result
        return evaluate
    _wrap(_model_class(), "evaluate", make)


@mutant("keras.evaluate_predict", "predict returns the batches in reverse order")
def predict_reverses_batch_order():
    import numpy as np

    def make(orig):
        def predict(self, x, batch_size=None, *args, **kwargs):
            out = orig(self, x, batch_size, *args, **kwargs)
            if not isinstance(out, np.ndarray):
                return out
            size = batch_size or 32
            chunks = [out[i:i + size] for i in range(0, len(out), size)]
            return np.concatenate(chunks[::-1])
        return predict
    _wrap(_model_class(), "predict", make)


# --- callbacks ----------------------------------------------------------------------------------------

@mutant("keras.callbacks", "EarlyStopping waits patience + 1 epochs")
def early_stopping_patience_plus_one():
    def make(orig):
        def init(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            self.patience += 1
        return init
    _wrap(_keras().callbacks.EarlyStopping, "__init__", make)


@mutant("keras.callbacks", "EarlyStopping(restore_best_weights=True) keeps the last weights")
def early_stopping_never_restores():
    def make(orig):
        def init(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            self.restore_best_weights = False
        return init
    _wrap(_keras().callbacks.EarlyStopping, "__init__", make)


@mutant("keras.callbacks", "ModelCheckpoint(save_best_only=True) writes every epoch")
def checkpoint_save_best_only_ignored():
    def make(orig):
        def init(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            self.save_best_only = False
        return init
    _wrap(_keras().callbacks.ModelCheckpoint, "__init__", make)


@mutant("keras.callbacks", "LearningRateScheduler applies the previous epoch's rate")
def lr_scheduler_one_epoch_late():
    _wrap(_keras().callbacks.LearningRateScheduler, "on_epoch_begin",
          lambda orig: lambda self, epoch, logs=None: orig(self, max(epoch - 1, 0), logs))


def _auto_mode_minimises(callback_class) -> None:
    """callback_class(mode='auto'), given or by default, minimises its monitored quantity whatever it is."""
    import inspect

    def make(orig):
        signature = inspect.signature(orig)

        def init(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            if bound.arguments.get("mode", "auto") == "auto":
                bound.arguments["mode"] = "min"
            orig(*bound.args, **bound.kwargs)
        return init
    _wrap(callback_class, "__init__", make)


@mutant("keras.callbacks", "EarlyStopping(mode='auto') minimises val_accuracy too")
def early_stopping_auto_mode_minimises():
    _auto_mode_minimises(_keras().callbacks.EarlyStopping)


@mutant("keras.callbacks", "ModelCheckpoint(mode='auto') minimises val_accuracy too")
def checkpoint_auto_mode_minimises():
    _auto_mode_minimises(_keras().callbacks.ModelCheckpoint)


# --- saving ---------------------------------------------------------------------------------------------

@mutant("keras.save_weights", "load_weights silently skips weights of another architecture")
def load_weights_skips_mismatch():
    def make(orig):
        def load_weights(self, *args, **kwargs):
            try:
                return orig(self, *args, **kwargs)
            except ValueError:
                return None
        return load_weights
    _wrap(_model_class(), "load_weights", make)


@mutant("keras.save_weights", "save_weights stores the weights rounded to float16")
def save_weights_rounds_to_float16():
    import numpy as np

    def make(orig):
        def save_weights(self, *args, **kwargs):
            kept = self.get_weights()
            self.set_weights([w.astype(np.float16).astype(w.dtype) for w in kept])
            try:
                return orig(self, *args, **kwargs)
            finally:
                self.set_weights(kept)
        return save_weights
    _wrap(_model_class(), "save_weights", make)


@mutant("keras.config_json", "to_json leaves out the last layer")
def to_json_drops_a_layer():
    def make(orig):
        def to_json(self, **kwargs):
            config = json.loads(orig(self, **kwargs))
            config["config"]["layers"].pop()
            return json.dumps(config)
        return to_json
    _wrap(_model_class(), "to_json", make)


@mutant("keras.config_json", "model_from_json copies the weights of the model it came from")
def model_from_json_copies_weights():
    keras = _keras()
    original = keras.models.model_from_json
    last_saved = {}

    def make(orig):
        def to_json(self, **kwargs):
            text = orig(self, **kwargs)
            last_saved[text] = self.get_weights()
            return text
        return to_json
    _wrap(_model_class(), "to_json", make)

    def model_from_json(text, *args, **kwargs):
        model = original(text, *args, **kwargs)
        if text in last_saved:
            model.set_weights(last_saved[text])
        return model
    keras.models.model_from_json = model_from_json


@mutant("keras.save_model", "load_model restores the weights but loses the optimizer state")
def load_model_loses_optimizer_state():
    keras = _keras()

    def make(orig):
        def load_model(*args, **kwargs):
            model = orig(*args, **kwargs)
            optimizer = getattr(model, "optimizer", None)
            for variable in getattr(optimizer, "variables", []) or []:
                variable.assign(_tf().zeros(variable.shape, variable.dtype))
            return model
        return load_model
    _wrap(keras.models, "load_model", make)
    if hasattr(keras, "saving") and hasattr(keras.saving, "load_model"):
        keras.saving.load_model = keras.models.load_model


@mutant("keras.save_model", "load_model perturbs the last weight by one float32 ulp")
def load_model_perturbs_weights():
    import numpy as np
    keras = _keras()

    def make(orig):
        def load_model(*args, **kwargs):
            model = orig(*args, **kwargs)
            weights = model.get_weights()
            if weights:
                weights[-1] = np.nextafter(weights[-1], np.inf).astype(weights[-1].dtype)
                model.set_weights(weights)
            return model
        return load_model
    _wrap(keras.models, "load_model", make)


@mutant("keras.custom_layer", "register_keras_serializable registers nothing")
def register_serializable_is_a_no_op():
    keras = _keras()

    def register_keras_serializable(package="Custom", name=None):
        return lambda cls: cls
    for owner in (getattr(keras, "saving", None), keras.utils):
        if owner is not None and hasattr(owner, "register_keras_serializable"):
            owner.register_keras_serializable = register_keras_serializable


@mutant("keras.custom_layer", "setting layer.trainable = False keeps its weights trainable")
def trainable_flag_ignored():
    layer_cls = _keras().layers.Layer
    prop = layer_cls.__dict__.get("trainable")
    if not isinstance(prop, property):
        raise NotApplicable("Layer.trainable is not a property here")
    layer_cls.trainable = property(prop.fget, lambda self, value: None)


# --- distribution (applied in the child processes too, via tests/mutant_site/sitecustomize.py) -----------

@mutant("keras.distribute", "MirroredStrategy reports one replica in sync whatever its devices", subprocess=True)
def mirrored_reports_one_replica():
    _tf().distribute.MirroredStrategy.num_replicas_in_sync = property(lambda self: 1)


# --- estimator recipes (their Keras equivalents on TF >= 2.16) ---------------------------------------------

@mutant("estimator.feature_columns", "the feature-column input layer keeps the columns in given order, "
        "not sorted by name")
def input_layer_unsorted():
    tf = _tf()
    original = tf.compat.v1.feature_column.input_layer

    @functools.wraps(original)
    def input_layer(features, feature_columns, *args, **kwargs):
        # Prefix keys so that name order equals the given order, then undo the renaming.
        columns = list(feature_columns)
        renamed = {f"{i:03d}{c.key}": tf.convert_to_tensor(features[c.key]) for i, c in enumerate(columns)}
        new_columns = [tf.feature_column.numeric_column(f"{i:03d}{c.key}") for i, c in enumerate(columns)]
        return original(renamed, new_columns, *args, **kwargs)
    tf.compat.v1.feature_column.input_layer = input_layer


@mutant("estimator.feature_columns", "numeric_column defaults missing values to 0.0 instead of None")
def numeric_column_has_a_default_value():
    tf = _tf()
    original = tf.feature_column.numeric_column

    @functools.wraps(original)  # keeps the deprecation notice the spec reads
    def numeric_column(key, shape=(1,), default_value=None, *args, **kwargs):
        return original(key, shape, 0.0 if default_value is None else default_value, *args, **kwargs)
    tf.feature_column.numeric_column = numeric_column


# --- more of the documented behaviours the RECIPES.md floor names ---------------------------------------

@mutant("data.map", "map(num_parallel_calls=n) swaps neighbouring elements (order not kept)")
def parallel_map_reorders():
    tf = _tf()

    def make(orig):
        def map_(self, map_func, num_parallel_calls=None, *args, **kwargs):
            result = orig(self, map_func, num_parallel_calls, *args, **kwargs)
            if num_parallel_calls is None:
                return result
            swapped = result.batch(2).map(lambda *batch: tf.nest.map_structure(lambda t: tf.reverse(t, [0]), batch))
            return swapped.unbatch()
        return map_
    _wrap(tf.data.Dataset, "map", make)


@mutant("data.padded_batch", "padded_batch ignores explicit padded_shapes and pads to the batch's longest")
def padded_shapes_ignored():
    def make(orig):
        def padded_batch(self, batch_size, padded_shapes=None, *args, **kwargs):
            return orig(self, batch_size, None, *args, **kwargs)
        return padded_batch
    _wrap(_tf().data.Dataset, "padded_batch", make)


@mutant("data.numpy", "from_tensor_slices truncates arrays of different lengths to the shortest")
def from_tensor_slices_truncates_mismatch():
    import numpy as np
    tf = _tf()

    def make(orig):
        def from_tensor_slices(tensors, name=None):
            flat = tf.nest.flatten(tensors)
            lengths = [len(t) for t in flat if isinstance(t, np.ndarray) and t.ndim > 0]
            if len(flat) > 1 and len(flat) == len(lengths) and len(set(lengths)) > 1:
                tensors = tf.nest.map_structure(lambda t: t[:min(lengths)], tensors)
            return orig(tensors, name=name)
        return from_tensor_slices
    _wrap(tf.data.Dataset, "from_tensor_slices", make, static=True)


@mutant("data.tfrecord", "a corrupted or truncated record silently ends the file (no DataLossError)")
def tfrecord_corruption_ends_silently():
    tf = _tf()
    original = tf.data.TFRecordDataset

    @functools.wraps(original)
    def tfrecord_dataset(*args, **kwargs):
        def records():
            try:
                yield from original(*args, **kwargs)
            except tf.errors.DataLossError:
                return
        return tf.data.Dataset.from_generator(records, output_signature=tf.TensorSpec((), tf.string))
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("keras.layers", "the 'orthogonal' initializer draws a plain random-normal matrix")
def orthogonal_is_random_normal():
    keras = _keras()

    def make(orig):
        def call(self, shape, dtype=None, **kwargs):
            return keras.initializers.RandomNormal(stddev=shape[0] ** -0.5, seed=1)(shape, dtype=dtype)
        return call
    _wrap(keras.initializers.Orthogonal, "__call__", make)


@mutant("keras.fit", "fit validates only every other epoch by default")
def validation_every_other_epoch():
    def make(orig):
        def fit(self, *args, **kwargs):
            kwargs.setdefault("validation_freq", 2)
            return orig(self, *args, **kwargs)
        return fit
    _wrap(_model_class(), "fit", make)


@mutant("keras.callbacks", "ModelCheckpoint numbers its files from epoch 2 ({epoch} off by one)")
def checkpoint_epoch_numbering_off_by_one():
    _wrap(_keras().callbacks.ModelCheckpoint, "_get_file_path",
          lambda orig: lambda self, epoch, batch, logs: orig(self, epoch + 1, batch, logs))


@mutant("keras.callbacks", "TensorBoard writes the validation events into train/")
def tensorboard_validation_into_train_dir():
    def make(orig):
        def set_model(self, model):
            orig(self, model)
            self._val_dir = self._train_dir
        return set_model
    _wrap(_keras().callbacks.TensorBoard, "set_model", make)


@mutant("keras.save_weights", "save_weights accepts the guide's extension-less path (appends .weights.h5)")
def save_weights_accepts_any_path():
    def make(orig):
        def save_weights(self, filepath, *args, **kwargs):
            if not str(filepath).endswith(".weights.h5"):
                filepath = str(filepath) + ".weights.h5"
            return orig(self, filepath, *args, **kwargs)
        return save_weights
    _wrap(_model_class(), "save_weights", make)


@mutant("keras.save_model", "model.save('my_model') without extension silently writes a .keras file")
def save_accepts_bare_path():
    def make(orig):
        def save(self, filepath, *args, **kwargs):
            if not str(filepath).endswith((".keras", ".h5")):
                filepath = str(filepath) + ".keras"
            return orig(self, filepath, *args, **kwargs)
        return save
    _wrap(_model_class(), "save", make)


@mutant("keras.distribute", "MirroredStrategy sums the replicas' gradients instead of averaging them", subprocess=True)
def mirrored_sums_replica_gradients():
    _keras3_src()
    from keras.src.backend.tensorflow import trainer
    from keras.src.losses import loss

    loss.scale_loss_for_distribution = lambda value: value
    trainer.loss_module.scale_loss_for_distribution = loss.scale_loss_for_distribution


@mutant("keras.evaluate_predict", "predict runs the model in training mode (dropout active)")
def predict_in_training_mode():
    _keras3_src()
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer
    from keras.src.trainers.data_adapters import data_adapter_utils

    def make(orig):
        def predict_step(self, data):
            x, _, _ = data_adapter_utils.unpack_x_y_sample_weight(data)
            return self(x, training=True)
        return predict_step
    _wrap(TensorFlowTrainer, "predict_step", make)


@mutant("keras.compile", "RMSprop's default rho is 0.95 instead of 0.9")
def rmsprop_default_rho_changed():
    def make(orig):
        def init(self, learning_rate=0.001, rho=0.95, *args, **kwargs):
            orig(self, learning_rate, rho, *args, **kwargs)
        return init
    _wrap(_keras().optimizers.RMSprop, "__init__", make)


@mutant("data.text", "TextLineDataset reads its files in reverse order")
def text_line_reads_files_in_reverse():
    tf = _tf()
    original = tf.data.TextLineDataset

    @functools.wraps(original)
    def text_line_dataset(filenames, *args, **kwargs):
        if isinstance(filenames, (list, tuple)):
            filenames = list(reversed(filenames))
        return original(filenames, *args, **kwargs)
    tf.data.TextLineDataset = text_line_dataset


# --- issue 10: what the specs used to let through ---------------------------------------------------------
# Each of these passed the suite before its specs were tightened (assert_dataset_produces' exact shapes,
# two passes and the end checked twice; the learning specs; the NumPy forward pass of the classifiers).
# They patch public TensorFlow/Keras API or the optimizer/trainer methods that Keras 2, tf_keras and Keras 3
# share, so they apply to every Keras flavour unless they say otherwise.

def _counting_generator_dataset(make_dataset, element_spec, change_after_first_pass):
    """A dataset that yields make_dataset()'s elements on its first pass and change(elements) on later
    ones: a reader that behaves differently when iterated again."""
    tf = _tf()
    try:
        elements = [e.numpy() for e in make_dataset()]
    except tf.errors.OpError:  # a file that fails to read fails as before: only clean files change
        return make_dataset()
    passes = []

    def generate():
        passes.append(1)
        yield from (elements if len(passes) == 1 else change_after_first_pass(elements))
    return tf.data.Dataset.from_generator(generate, output_signature=element_spec)


@mutant("data.iterators", "map() returns each scalar result as a vector of one element ([x] for x)")
def map_returns_scalars_as_vectors():
    tf = _tf()

    def vector(t):
        return tf.reshape(t, [1]) if t.shape.rank == 0 else t

    def make(orig):
        def map_(self, map_func, *args, **kwargs):
            result = orig(self, map_func, *args, **kwargs)
            return orig(result, lambda *c: tf.nest.map_structure(vector, c if len(c) > 1 else c[0]))
        return map_
    _wrap(tf.data.Dataset, "map", make)


@mutant("data.iterators", "an exhausted eager iterator starts over instead of staying exhausted")
def iterator_restarts_after_its_end():
    tf = _tf()
    original = tf.data.Dataset.__iter__

    class Restarting:
        def __init__(self, dataset):
            self._dataset, self._iterator = dataset, original(dataset)

        def __iter__(self):
            return self

        def __next__(self):
            try:
                return next(self._iterator)
            except StopIteration:
                self._iterator = original(self._dataset)  # ended once; the next call starts again
                raise
    tf.data.Dataset.__iter__ = lambda self: Restarting(self)


@mutant("data.tfrecord", "TFRecordDataset yields nothing when iterated a second time")
def tfrecord_second_pass_is_empty():
    tf = _tf()
    original = tf.data.TFRecordDataset

    @functools.wraps(original)
    def tfrecord_dataset(*args, **kwargs):
        return _counting_generator_dataset(lambda: original(*args, **kwargs), tf.TensorSpec((), tf.string),
                                           lambda elements: [])
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("data.tfrecord", "TFRecordDataset(num_parallel_reads=n) loses the last record it reads")
def parallel_reads_lose_a_record():
    tf = _tf()
    original = tf.data.TFRecordDataset

    @functools.wraps(original)
    def tfrecord_dataset(filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, **kwargs):
        dataset = original(filenames, compression_type, buffer_size, num_parallel_reads, **kwargs)
        if not num_parallel_reads or num_parallel_reads == 1:
            return dataset
        return tf.data.Dataset.from_generator(lambda: [r.numpy() for r in dataset][:-1],
                                              output_signature=tf.TensorSpec((), tf.string))
    tf.data.TFRecordDataset = tfrecord_dataset


@mutant("data.text", "TextLineDataset skips the first line when iterated a second time")
def text_line_second_pass_skips_a_line():
    tf = _tf()
    original = tf.data.TextLineDataset

    @functools.wraps(original)
    def text_line_dataset(*args, **kwargs):
        return _counting_generator_dataset(lambda: original(*args, **kwargs), tf.TensorSpec((), tf.string),
                                           lambda elements: elements[1:])
    tf.data.TextLineDataset = text_line_dataset


@mutant("data.csv", "CsvDataset parses '-0' as +0.0 (the sign of zero is lost)")
def csv_loses_the_sign_of_zero():
    tf = _tf()
    original = tf.data.experimental.CsvDataset

    def positive_zero(t):
        return t + tf.zeros_like(t) if t.dtype.is_floating else t   # -0.0 + 0.0 == +0.0, all else unchanged

    def csv_dataset(*args, **kwargs):
        return original(*args, **kwargs).map(lambda *fields: tuple(positive_zero(f) for f in fields))
    tf.data.experimental.CsvDataset = csv_dataset


# Optimizers: Keras 3 passes the learning rate to update_step and finds slots with _get_variable_index;
# Keras 2.11+ / tf_keras read self.learning_rate and use _index_dict[_var_key(variable)].

def _slot(optimizer, slots, variable):
    if hasattr(optimizer, "_get_variable_index"):
        return slots[optimizer._get_variable_index(variable)]
    return slots[optimizer._index_dict[optimizer._var_key(variable)]]


@mutant("keras.compile", "Adam's first moment uses beta_1 = 0.5 whatever it is given")
def adam_beta_1_ignored():
    def make(orig):
        def init(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            self.beta_1 = 0.5
        return init
    _wrap(_keras().optimizers.Adam, "__init__", make)


@mutant("keras.compile", "Adam's default beta_2 is 0.99 instead of 0.999")
def adam_default_beta_2_changed():
    def make(orig):
        def init(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, *args, **kwargs):
            orig(self, learning_rate, beta_1, beta_2, *args, **kwargs)
        return init
    _wrap(_keras().optimizers.Adam, "__init__", make)


@mutant("keras.compile", "Adam adds epsilon inside the square root: m / sqrt(v + eps)")
def adam_epsilon_inside_the_root():
    tf = _tf()

    def make(orig):
        def update_step(self, gradient, variable, learning_rate=None):
            dtype = variable.dtype
            lr = tf.cast(self.learning_rate if learning_rate is None else learning_rate, dtype)
            g = tf.cast(gradient, dtype)
            t = tf.cast(self.iterations + 1, dtype)
            m, v = _slot(self, self._momentums, variable), _slot(self, self._velocities, variable)
            m.assign_add((g - tf.convert_to_tensor(m)) * (1 - self.beta_1))
            v.assign_add((g * g - tf.convert_to_tensor(v)) * (1 - self.beta_2))
            alpha = lr * tf.sqrt(1 - tf.pow(tf.cast(self.beta_2, dtype), t)) / (1 - tf.pow(tf.cast(self.beta_1, dtype), t))
            variable.assign_sub(alpha * tf.convert_to_tensor(m) / tf.sqrt(tf.convert_to_tensor(v) + self.epsilon))
        return update_step
    _wrap(_keras().optimizers.Adam, "update_step", make)


@mutant("keras.compile", "RMSprop forgets its mean square between steps (every step is a first step)")
def rmsprop_forgets_its_mean_square():
    def make(orig):
        def update_step(self, gradient, variable, *args, **kwargs):
            velocity = _slot(self, self._velocities, variable)
            velocity.assign(velocity * 0.0)
            return orig(self, gradient, variable, *args, **kwargs)
        return update_step
    _wrap(_keras().optimizers.RMSprop, "update_step", make)


def _with_callback(make_callback):
    """Wrap Model.fit so that every fit also runs the callback make_callback() returns."""
    def make(orig):
        def fit(self, *args, **kwargs):
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), make_callback()]
            return orig(self, *args, **kwargs)
        return fit
    _wrap(_model_class(), "fit", make)


@mutant("keras.fit", "fit stops updating the weights after its first epoch")
def fit_stops_learning_after_the_first_epoch():
    keras = _keras()

    class Freeze(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.optimizer.learning_rate.assign(0.0)
    _with_callback(Freeze)


def _loss_tracker(model):
    """The Mean metric behind the reported 'loss': Keras 3's _loss_tracker, Keras 2's (2.11-2.15 and
    tf_keras) LossesContainer._total_loss_mean; None if neither is there."""
    tracker = getattr(model, "_loss_tracker", None)
    if tracker is None:
        tracker = getattr(getattr(model, "compiled_loss", None), "_total_loss_mean", None)
    return tracker


@mutant("keras.fit", "the epoch's reported loss is the last batch's, not the mean over the epoch")
def fit_reports_the_last_batch_loss():
    keras = _keras()
    probe = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    probe.compile(loss="mse")
    if _loss_tracker(probe) is None:
        raise NotApplicable("no loss tracker found on a compiled model")

    def make(orig):
        def compile(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            tracker = _loss_tracker(self)
            update = tracker.update_state

            def last_only(values, sample_weight=None):
                tracker.reset_state()
                return update(values, sample_weight=sample_weight)
            tracker.update_state = last_only
        return compile
    _wrap(_model_class(), "compile", make)


@mutant("keras.fit", "fit(shuffle=False) still shuffles the samples")
def fit_shuffles_despite_shuffle_false():
    import numpy as np

    def make(orig):
        def fit(self, x=None, y=None, *args, **kwargs):
            if kwargs.get("shuffle") is False and isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
                order = np.random.default_rng(0).permutation(len(x))
                x, y = x[order], y[order]
            return orig(self, x, y, *args, **kwargs)
        return fit
    _wrap(_model_class(), "fit", make)


_STEP = {"train": False, "test": False}


def _loss_without_penalties(step: str):
    """Inside train_step or test_step, the model's `losses` (its layers' regularization penalties) are
    empty: the loss computed there (Keras 3's compute_loss, Keras 2's compiled_loss) leaves them out."""
    model_class = _model_class()
    penalties = next((c.__dict__["losses"] for c in model_class.__mro__ if "losses" in c.__dict__), None)
    if not isinstance(penalties, property):
        raise NotApplicable("Model.losses is not a property here")

    def flag(orig):
        def run(self, *args, **kwargs):
            _STEP[step] = True
            try:
                return orig(self, *args, **kwargs)
            finally:
                _STEP[step] = False
        return run
    _wrap(model_class, f"{step}_step", flag)
    model_class.losses = property(lambda self: [] if _STEP[step] else penalties.fget(self))


@mutant("keras.layers", "the loss that fit minimises and reports leaves out the regularization penalties")
def fit_loss_leaves_out_the_penalties():
    _loss_without_penalties("train")


@mutant("keras.layers", "the loss that evaluate reports leaves out the regularization penalties")
def evaluate_loss_leaves_out_the_penalties():
    _loss_without_penalties("test")


@mutant("keras.evaluate_predict", "evaluate's accuracy is the mean of the batches' accuracies (the short last "
        "batch weighs as much as a full one)")
def evaluate_accuracy_averages_batches():
    import numpy as np

    def make(orig):
        def evaluate(self, x=None, y=None, batch_size=None, *args, **kwargs):
            result = orig(self, x, y, batch_size, *args, **kwargs)
            size = batch_size or 32
            if not isinstance(x, np.ndarray) or len(x) <= size:
                return result
            quiet = {**kwargs, "return_dict": True, "verbose": 0}
            batches = [orig(self, x[i:i + size], y[i:i + size], size, *args, **quiet) for i in range(0, len(x), size)]
            names = [n for n in batches[0] if "accuracy" in n]
            means = {n: float(np.mean([b[n] for b in batches])) for n in names}
            if isinstance(result, dict):
                return {**result, **means}
            if isinstance(result, list):  # Keras 3's metrics_names do not name the list: match by value
                full = orig(self, x, y, batch_size, *args, **quiet)
                for name, mean in means.items():
                    result = [mean if v == full[name] else v for v in result]
            return result
        return evaluate
    _wrap(_model_class(), "evaluate", make)


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


@mutant("keras.save_model", "a load_model that fails empties the file it could not read")
def failed_load_empties_the_file():
    keras = _keras()

    def make(orig):
        def load_model(filepath, *args, **kwargs):
            try:
                return orig(filepath, *args, **kwargs)
            except Exception:
                with open(filepath, "wb"):
                    pass
                raise
        return load_model
    _wrap(keras.models, "load_model", make)
    if hasattr(keras, "saving") and hasattr(keras.saving, "load_model"):
        keras.saving.load_model = keras.models.load_model


@mutant("estimator.dnn_classifier", "tf.argmax returns the index of the smallest value")
def argmax_is_argmin():
    tf = _tf()
    if hasattr(tf, "estimator"):
        raise NotApplicable("the real DNNClassifier runs here; its head does not call tf.argmax")
    original = tf.math.argmax

    def argmax(input, axis=None, *args, **kwargs):
        return original(-tf.convert_to_tensor(input), axis, *args, **kwargs)
    tf.argmax = tf.math.argmax = argmax


# --- security advisories (suite/test_keras_advisories.py): each mutant disarms one protection ---------------
# The crafted files are loaded in the sandbox's child processes, so every mutant here is applied there too.

ADVISORY_SPECS = "suite/test_keras_advisories.py"


def _advisory(breaks: str, spec: str, recipe: str = "keras.save_model"):
    """A mutant run against the one spec that reproduces its advisory: another advisory spec of the module
    may report `vulnerable` on the unmutated build (one with no fix released yet) and must not count."""
    return mutant(recipe, breaks, subprocess=True, module=f"{ADVISORY_SPECS}::{spec}")


def _force_unsafe(owner, attr: str) -> None:
    _wrap(owner, attr, lambda orig: lambda *a, **kw: orig(*a, **{**kw, "safe_mode": False}))


def _unsafe_from_config(cls) -> None:
    """cls.from_config treats a missing safe_mode argument as safe_mode=False (as before the fixes)."""
    original = cls.from_config  # bound to cls

    def from_config(klass, config, custom_objects=None, safe_mode=None):
        return original(config, custom_objects=custom_objects, safe_mode=False if safe_mode is None else safe_mode)
    cls.from_config = classmethod(from_config)


@_advisory("load_model ignores safe_mode for '.keras' files (Lambda bytecode runs)",
           "test_lambda_bytecode_in_a_keras_file_does_not_run_in_safe_mode")
def keras_file_loads_ignore_safe_mode():
    src = _keras3_src()
    _force_unsafe(src.saving.saving_lib, "load_model")


@_advisory("load_model ignores safe_mode for '.h5' files (Lambda bytecode runs)",
           "test_lambda_bytecode_in_an_h5_file_does_not_run_in_safe_mode")
def h5_loads_ignore_safe_mode():
    _keras3_src()
    from keras.src.legacy.saving import legacy_h5_format

    _force_unsafe(legacy_h5_format, "load_model_from_hdf5")


def _resolve_any_module(also_keras_functions: bool = False) -> None:
    src = _keras3_src()
    import importlib

    lib = src.saving.serialization_lib

    def make(orig):
        def retrieve(name, registered_name, module, obj_type, full_config, custom_objects=None):
            try:
                return orig(name, registered_name, module, obj_type, full_config, custom_objects=custom_objects)
            except (TypeError, ValueError):
                if not module or (module.split(".")[0] == "keras" and not also_keras_functions):
                    raise
                return vars(importlib.import_module(module))[name]
        return retrieve
    _wrap(lib, "_retrieve_class_or_fn", make)


@_advisory("deserialization imports any module a config names, as before Keras 3.9",
           "test_a_keras_file_cannot_make_load_model_import_a_module_it_names")
def deserialization_imports_any_module():
    _resolve_any_module()


@_advisory("a config may name Keras' non-modeling functions (get_file), as before Keras 3.11",
           "test_a_keras_file_cannot_make_get_file_write_a_file")
def non_modeling_functions_allowed():
    src = _keras3_src()
    src.saving.serialization_lib.NON_MODELING_APIS = frozenset()


@_advisory("a config may name any function of Keras' modules (global_state, model_from_json), as before 3.11",
           "test_a_keras_file_cannot_turn_safe_mode_off")
def any_keras_function_resolves():
    src = _keras3_src()
    src.saving.serialization_lib.NON_MODELING_APIS = frozenset()
    _resolve_any_module(also_keras_functions=True)


@_advisory("StringLookup reads a vocabulary file a config names, in safe mode (as before Keras 3.12)",
           "test_a_lookup_layer_does_not_read_a_vocabulary_file_outside_the_archive")
def lookup_reads_vocabulary_files():
    _keras3_src()
    import types

    from keras.src.layers.preprocessing import index_lookup

    shim = types.SimpleNamespace(**vars(index_lookup.serialization_lib))
    shim.in_safe_mode = lambda: False
    index_lookup.serialization_lib = shim


@_advisory("TFSMLayer.from_config loads its SavedModel in safe mode (as before Keras 3.12.1 / 3.13.2)",
           "test_a_tfsm_layer_in_a_keras_file_does_not_load_an_external_savedmodel")
def tfsm_layer_ignores_safe_mode():
    _keras3_src()
    from keras.src.export.tfsm_layer import TFSMLayer

    _unsafe_from_config(TFSMLayer)


@_advisory("the asset store accepts paths that leave its directory (as before Keras 3.12.3 / 3.15)",
           "test_the_asset_store_keeps_paths_inside_its_directory")
def asset_store_allows_dotdot():
    src = _keras3_src()
    store = src.saving.saving_lib.DiskIOStore
    if not hasattr(store, "_full_path"):
        raise NotApplicable("DiskIOStore has no _full_path (the check this mutant removes)")
    store._full_path = lambda self, path: self.working_dir + "/" + path


@_advisory("Lambda.from_config without safe_mode runs bytecode (as before Keras 3.12.3 / 3.15)",
           "test_lambda_from_config_does_not_run_bytecode_without_a_safe_mode_argument", recipe="keras.config_json")
def lambda_from_config_unscoped_is_unsafe():
    _keras3_src()
    from keras.src.layers.core.lambda_layer import Lambda

    _unsafe_from_config(Lambda)


@_advisory("model_from_yaml is back and constructs the Python objects its YAML tags name (TF before 2.6)",
           "test_model_from_yaml_does_not_construct_python_objects", recipe="keras.config_json")
def model_from_yaml_constructs_objects():
    import ast
    import importlib
    import re

    def model_from_yaml(text, custom_objects=None):
        # The one tag the spec's YAML uses, constructed the way yaml.unsafe_load would.
        tag = re.match(r"!!python/object/apply:([\w.]+)\.(\w+) (\[.*\])", text.strip())
        return getattr(importlib.import_module(tag.group(1)), tag.group(2))(*ast.literal_eval(tag.group(3)))
    _keras().models.model_from_yaml = model_from_yaml


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


# --- HDF5 and weight-file advisories (suite/test_keras_advisories_hdf5.py) ----------------------------------
# Each disarms one check of Keras 3.15.1's weight loaders, the way the releases before its fix behaved.

ADVISORY_HDF5_SPECS = "suite/test_keras_advisories_hdf5.py"


def _hdf5_advisory(breaks: str, spec: str, recipe: str):
    """A mutant run against the one spec that reproduces its advisory (as the advisory mutants above)."""
    return mutant(recipe, breaks, subprocess=True, module=f"{ADVISORY_HDF5_SPECS}::{spec}")


def _h5_checks():
    """saving_lib, where the HDF5 checks live, and legacy_h5_format, which imported them by name."""
    src = _keras3_src()
    from keras.src.legacy.saving import legacy_h5_format

    return src.saving.saving_lib, legacy_h5_format


def _let_through(refusal: str) -> None:
    """safe_get_h5_dataset returns the dataset where it would refuse it with `refusal` in its message."""
    lib, legacy = _h5_checks()

    def make(orig):
        def get(group, name):
            try:
                return orig(group, name)
            except ValueError as exc:
                if refusal not in str(exc):
                    raise
                return group[name]
        return get
    _wrap(lib, "safe_get_h5_dataset", make)
    legacy.safe_get_h5_dataset = lib.safe_get_h5_dataset


@_hdf5_advisory("load_model unpickles the object arrays of a '.keras' file's model.weights.npz, as before 3.9",
                "test_pickled_npz_weights_in_a_keras_file_are_not_unpickled", "keras.save_model")
def npz_weights_are_unpickled():
    src = _keras3_src()

    def make(orig):
        def init(self, root_path, archive=None, mode="r"):
            orig(self, root_path, archive, mode)
            if mode == "r":
                self.contents.allow_pickle = True  # NumPy's NpzFile reads every member with this flag
        return init
    _wrap(src.saving.saving_lib.NpzIOStore, "__init__", make)


@_hdf5_advisory("the weight loaders read HDF5 external storage, as before #22057",
                "test_hdf5_external_references_in_the_weights_of_a_keras_file_are_not_read", "keras.save_model")
def h5_external_storage_is_read():
    _let_through("external Dataset")


@_hdf5_advisory("the HDF5 link check sees only the last group of a path, as before #23168",
                "test_hdf5_external_references_in_a_weights_file_are_not_read", "keras.save_weights")
def h5_links_checked_on_the_last_group_only():
    lib, legacy = _h5_checks()

    def make(orig):
        def get(parent, name):
            *above, last = name.split("/")
            if above and not isinstance(parent, dict):
                parent = parent["/".join(above)]  # followed unchecked, links included
            return orig(parent, last)
        return get
    _wrap(lib, "safe_get_h5_group", make)
    legacy.safe_get_h5_group = lib.safe_get_h5_group


@_hdf5_advisory("load_weights follows a link on a legacy '.h5' file's 'model_weights' group, as before #22900",
                "test_hdf5_external_references_in_h5_weights_or_the_file_editor_are_not_read", "keras.save_weights")
def h5_model_weights_link_is_followed():
    lib, _ = _h5_checks()
    _wrap(lib, "safe_get_h5_group",
          lambda orig: lambda parent, name: parent[name] if name == "model_weights" else orig(parent, name))


@_hdf5_advisory("the weight loaders read HDF5 virtual datasets, as before #22801",
                "test_an_hdf5_virtual_dataset_in_a_weights_file_is_not_read", "keras.save_weights")
def h5_virtual_datasets_are_read():
    _let_through("virtual Dataset")


@_hdf5_advisory("the weight loaders read a dataset of any declared size, as before #22975",
                "test_an_hdf5_shape_bomb_in_a_model_file_is_refused_before_allocating", "keras.save_model")
def h5_shape_bombs_are_allocated():
    _let_through("shape bomb")


@_hdf5_advisory("KerasFileEditor reads a dataset of any declared size, as before #21880",
                "test_an_hdf5_shape_bomb_is_refused_by_the_file_editor_before_allocating", "keras.save_weights")
def file_editor_size_bound_is_skipped():
    _keras3_src()
    import types

    try:
        from keras.src.saving import file_editor
    except ImportError as exc:
        raise NotApplicable("no KerasFileEditor (Keras < 3.6)") from exc
    # The bound is local to _extract_weights_from_store; math.prod is what sizes the dataset there (alone).
    file_editor.math = types.SimpleNamespace(prod=lambda shape: 0)


# Mutants kept in modules of their own register into CATALOGUE on import (one module per theme).
from tests import mutants_forms, mutants_advisory_fixes  # noqa: E402,F401

_APPLIED: set[str] = set()


def apply(name: str) -> Mutant:
    """Apply the named mutant to this process (once, however often it is asked)."""
    try:
        chosen = CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown mutant {name!r}; known: {', '.join(sorted(CATALOGUE))}") from None
    if name not in _APPLIED:
        chosen.apply()
        _APPLIED.add(name)
    return chosen
