"""Mutants of the forms the guide's text allows beside the form its code runs (issue 28).

Registered into tests.mutants.CATALOGUE by `@mutant` on import (tests/mutants.py imports this module). Each
breaks one form only (a loss on plain probabilities, a name resolved by get(), a default left out, a Dataset's
partial last batch) and leaves the form the guide's code runs intact: against the suite as it was before
issue 28, 28 of these 31 survived (the exceptions: ModelCheckpoint's and Orthogonal's defaults, which the
guide-form specs leave out too, and evaluate's return_dict, which the compile specs read); the specs of the
forms (suite/guide_api_audit.toml, [[api.forms]]) kill every one.
"""

from __future__ import annotations

import inspect

from tests.mutants import _keras, _keras3_src, _tf, _wrap, mutant


def _default_changed(cls, **defaults) -> None:
    """cls(...) takes `defaults` for the arguments left out (those given are kept)."""
    def make(orig):
        signature = inspect.signature(orig)

        def init(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            for name, value in defaults.items():
                bound.arguments.setdefault(name, value)
            orig(*bound.args, **bound.kwargs)
        return init
    _wrap(cls, "__init__", make)


def _plain(output) -> bool:
    """An output that carries no logits of its own (not a softmax/sigmoid layer's output inside a model)."""
    return not hasattr(output, "_keras_logits")


# --- keras.compile: losses, metrics and optimizers in each form ---------------------------------------------

@mutant("keras.compile", "categorical_crossentropy on plain probabilities does not scale them to sum to 1: the "
        "value is right on normalised rows, the gradient lacks the 1 / sum(p) term (through softmax, right)")
def categorical_crossentropy_unnormalised_on_plain_probabilities():
    src = _keras3_src()
    tf = _tf()

    def make(orig):
        def categorical_crossentropy(target, output, from_logits=False, axis=-1):
            if from_logits or not _plain(output):
                return orig(target, output, from_logits=from_logits, axis=axis)
            p = tf.clip_by_value(output, 1e-7, 1 - 1e-7)
            return -tf.reduce_sum(tf.cast(target, p.dtype) * tf.math.log(p), axis=axis)
        return categorical_crossentropy
    _wrap(src.ops, "categorical_crossentropy", make)


@mutant("keras.compile", "binary_crossentropy takes plain probabilities for logits (from_logits=False ignored "
        "unless the output is a sigmoid's)")
def binary_crossentropy_probabilities_taken_for_logits():
    src = _keras3_src()

    def make(orig):
        def binary_crossentropy(target, output, from_logits=False):
            return orig(target, output, from_logits=from_logits or _plain(output))
        return binary_crossentropy
    _wrap(src.ops, "binary_crossentropy", make)


@mutant("keras.compile", "sparse_categorical_crossentropy on plain probabilities scores the class after the label "
        "(through softmax, and from logits, right)")
def sparse_crossentropy_next_class_on_plain_probabilities():
    src = _keras3_src()
    tf = _tf()

    def make(orig):
        def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
            if not from_logits and _plain(output):
                target = tf.math.floormod(tf.cast(target, "int64") + 1, output.shape[-1])
            return orig(target, output, from_logits=from_logits, axis=axis)
        return sparse_categorical_crossentropy
    _wrap(src.ops, "sparse_categorical_crossentropy", make)


@mutant("keras.compile", "the loss name 'mean_squared_error' resolves to mean_absolute_error ('mse' and the "
        "function right)")
def loss_long_name_mean_squared_error_resolves_to_mae():
    src = _keras3_src()
    src.losses.ALL_OBJECTS_DICT["mean_squared_error"] = src.losses.ALL_OBJECTS_DICT["mean_absolute_error"]


@mutant("keras.compile", "SparseCategoricalCrossentropy(from_logits=True), the class, treats the logits as "
        "probabilities (the function and the names right)")
def sparse_crossentropy_class_ignores_from_logits():
    def make(orig):
        def init(self, *args, **kwargs):
            orig(self, *args, **kwargs)
            self._fn_kwargs["from_logits"] = False
        return init
    _keras3_src()
    _wrap(_keras().losses.SparseCategoricalCrossentropy, "__init__", make)


@mutant("keras.compile", "the metric name 'mean_absolute_error' resolves to the mean squared error ('mae' and "
        "the callables right)")
def metric_long_name_mean_absolute_error_resolves_to_mse():
    src = _keras3_src()
    src.metrics.ALL_OBJECTS_DICT["mean_absolute_error"] = src.metrics.ALL_OBJECTS_DICT["mean_squared_error"]


@mutant("keras.compile", "metrics=['accuracy'] with one output resolves to categorical accuracy (always 1) "
        "instead of binary accuracy")
def accuracy_by_name_on_one_output_is_categorical():
    _keras3_src()
    from keras.src import metrics as metrics_module
    from keras.src.trainers import compile_utils

    def make(orig):
        def get_metric(identifier, y_true, y_pred):
            if str(identifier).lower() in ("accuracy", "acc") and y_pred.shape[-1] == 1:
                metric = metrics_module.CategoricalAccuracy(name=str(identifier))
                return metric
            return orig(identifier, y_true, y_pred)
        return get_metric
    _wrap(compile_utils, "get_metric", make)


@mutant("keras.compile", "the optimizer name 'rmsprop' resolves to RMSprop(learning_rate=0.01), not the default "
        "0.001")
def optimizer_name_rmsprop_with_wrong_learning_rate():
    src = _keras3_src()

    def make(orig):
        def get(identifier):
            if isinstance(identifier, str) and identifier.lower() == "rmsprop":
                return src.optimizers.RMSprop(learning_rate=0.01)
            return orig(identifier)
        return get
    _wrap(src.optimizers, "get", make)


@mutant("keras.compile", "SGD() left without learning_rate uses 0.001 instead of the documented 0.01 (by name too)")
def sgd_default_learning_rate_0001():
    _default_changed(_keras().optimizers.SGD, learning_rate=0.001)


@mutant("keras.compile", "the optimizer name 'adam' resolves to Adam with TF1's epsilon 1e-8, not the documented "
        "1e-7 (Adam() itself right)")
def optimizer_name_adam_with_tf1_epsilon():
    src = _keras3_src()

    def make(orig):
        def get(identifier):
            if isinstance(identifier, str) and identifier.lower() == "adam":
                return src.optimizers.Adam(epsilon=1e-8)
            return orig(identifier)
        return get
    _wrap(src.optimizers, "get", make)


# --- keras.evaluate_predict: NumPy and Dataset, full and partial last batch, default batch_size -------------

def _batches(dataset):
    tf = _tf()
    if not isinstance(dataset, tf.data.Dataset):
        return None
    count = int(dataset.cardinality().numpy())
    return count if count > 1 else None


@mutant("keras.evaluate_predict", "predict on a finite Dataset drops the partial last batch")
def predict_dataset_drops_last_batch():
    def make(orig):
        def predict(self, x, *args, **kwargs):
            count = _batches(x)
            return orig(self, x.take(count - 1) if count else x, *args, **kwargs)
        return predict
    _wrap(_keras().Model, "predict", make)


@mutant("keras.evaluate_predict", "predict on a finite Dataset predicts the partial last batch twice")
def predict_dataset_repeats_last_batch():
    def make(orig):
        def predict(self, x, *args, **kwargs):
            count = _batches(x)
            return orig(self, x.concatenate(x.skip(count - 1)) if count else x, *args, **kwargs)
        return predict
    _wrap(_keras().Model, "predict", make)


@mutant("keras.evaluate_predict", "evaluate on a finite Dataset averages the batches' results, not the examples'")
def evaluate_dataset_averages_per_batch():
    import numpy as np

    def make(orig):
        def evaluate(self, x=None, *args, **kwargs):
            count = _batches(x)
            if not count or kwargs.get("steps") or kwargs.get("return_dict"):
                return orig(self, x, *args, **kwargs)
            results = [orig(self, x.skip(i).take(1), *args, **kwargs) for i in range(count)]
            return [float(v) for v in np.mean(np.array(results, dtype=np.float64), axis=0)]
        return evaluate
    _wrap(_keras().Model, "evaluate", make)


@mutant("keras.evaluate_predict", "evaluate(x, y) with batch_size left out runs batches of 16, not 32")
def evaluate_default_batch_size_16():
    def make(orig):
        signature = inspect.signature(orig)

        def evaluate(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.arguments.setdefault("batch_size", 16)
            return orig(*bound.args, **bound.kwargs)
        return evaluate
    _wrap(_keras().Model, "evaluate", make)


@mutant("keras.evaluate_predict", "predict(x) with batch_size left out runs batches of 64, not 32")
def predict_default_batch_size_64():
    def make(orig):
        signature = inspect.signature(orig)

        def predict(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.arguments.setdefault("batch_size", 64)
            return orig(*bound.args, **bound.kwargs)
        return predict
    _wrap(_keras().Model, "predict", make)


# --- keras.callbacks: instances with the documented defaults left out ---------------------------------------

@mutant("keras.callbacks", "EarlyStopping() left without patience waits 2 epochs, not 0")
def early_stopping_default_patience_2():
    # Not 1: Keras (2.12 on, tf_keras, 3) counts the epoch without improvement before comparing the wait with
    # the patience, so patience 0 and 1 both stop at the first epoch without improvement: that mutant would be
    # equivalent, not a broken build.
    _default_changed(_keras().callbacks.EarlyStopping, patience=2)


@mutant("keras.callbacks", "EarlyStopping() left without monitor watches 'loss', not 'val_loss'")
def early_stopping_default_monitor_loss():
    _default_changed(_keras().callbacks.EarlyStopping, monitor="loss")


@mutant("keras.callbacks", "EarlyStopping() left without min_delta requires improvements of 1e-3")
def early_stopping_default_min_delta():
    _default_changed(_keras().callbacks.EarlyStopping, min_delta=1e-3)


@mutant("keras.callbacks", "EarlyStopping() left without restore_best_weights restores them")
def early_stopping_default_restores_best_weights():
    _default_changed(_keras().callbacks.EarlyStopping, restore_best_weights=True)


@mutant("keras.callbacks", "ModelCheckpoint(filepath) left without save_best_only saves only improvements")
def checkpoint_default_save_best_only():
    _default_changed(_keras().callbacks.ModelCheckpoint, save_best_only=True)


@mutant("keras.callbacks", "TensorBoard() left without log_dir writes under './tensorboard', not 'logs'")
def tensorboard_default_log_dir():
    _default_changed(_keras().callbacks.TensorBoard, log_dir="./tensorboard")


# --- keras.layers: activations, regularizers and initializers by name and as callables -----------------------

@mutant("keras.layers", "the activation name 'relu' resolves to relu6 (tf.nn.relu and keras.activations.relu right)")
def activation_name_relu_resolves_to_relu6():
    src = _keras3_src()
    src.activations.ALL_OBJECTS_DICT["relu"] = src.activations.ALL_OBJECTS_DICT["relu6"]


@mutant("keras.layers", "the activation name 'softmax' normalises over the first axis (the batch), not the last")
def activation_name_softmax_over_the_batch():
    src = _keras3_src()
    softmax = src.activations.ALL_OBJECTS_DICT["softmax"]

    def softmax_over_the_batch(x, axis=-1):
        return softmax(x, axis=0)
    softmax_over_the_batch.__name__ = "softmax"
    src.activations.ALL_OBJECTS_DICT["softmax"] = softmax_over_the_batch


@mutant("keras.layers", "regularizers.L1() / 'l1' left without a factor uses 0.001, not the documented 0.01")
def l1_default_factor_0001():
    _default_changed(_keras().regularizers.L1, l1=0.001)


@mutant("keras.layers", "the regularizer name 'l2' resolves to L2(0.01) halved (the TF1 nn.l2_loss's 1/2); "
        "L2(0.01) itself right")
def regularizer_name_l2_halved():
    src = _keras3_src()
    cls = src.regularizers.L2

    class HalvedL2(cls):
        def __call__(self, x):
            return 0.5 * super().__call__(x)
    src.regularizers.ALL_OBJECTS_DICT["l2"] = HalvedL2


@mutant("keras.layers", "initializers.Orthogonal() left without gain uses 1.1, not the documented 1.0 (by name too: "
        "'orthogonal' resolves to the same class)")
def orthogonal_default_gain():
    _default_changed(_keras().initializers.Orthogonal, gain=1.1)


# --- keras.fit: NumPy with batch_size left out, a finite Dataset, validation_data as a Dataset ----------------

@mutant("keras.fit", "fit on a finite Dataset skips its partial last batch every epoch")
def fit_dataset_drops_last_batch():
    def make(orig):
        def fit(self, x=None, *args, **kwargs):
            count = _batches(x)
            return orig(self, x.take(count - 1) if count else x, *args, **kwargs)
        return fit
    _wrap(_keras().Model, "fit", make)


@mutant("keras.fit", "fit(x, y) with batch_size left out runs batches of 16, not 32")
def fit_default_batch_size_16():
    def make(orig):
        signature = inspect.signature(orig)

        def fit(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.arguments.setdefault("batch_size", 16)
            return orig(*bound.args, **bound.kwargs)
        return fit
    _wrap(_keras().Model, "fit", make)


@mutant("keras.fit", "validation_data given as a finite Dataset loses its partial last batch")
def fit_validation_dataset_drops_last_batch():
    def make(orig):
        def fit(self, *args, **kwargs):
            count = _batches(kwargs.get("validation_data"))
            if count:
                kwargs["validation_data"] = kwargs["validation_data"].take(count - 1)
            return orig(self, *args, **kwargs)
        return fit
    _wrap(_keras().Model, "fit", make)


@mutant("keras.callbacks", "LearningRateScheduler gives its schedule the rate the optimizer started with, not the "
        "current one")
def lr_scheduler_passes_the_initial_rate():
    def make(orig):
        def init(self, schedule, *args, **kwargs):
            first = []

            def stale(epoch, lr=None):
                if lr is None:
                    return schedule(epoch)
                if not first:
                    first.append(lr)
                return schedule(epoch, first[0])
            orig(self, stale, *args, **kwargs)
        return init
    _wrap(_keras().callbacks.LearningRateScheduler, "__init__", make)


@mutant("keras.compile", "evaluate(return_dict=True) files the first metric's value under 'loss' and the loss under "
        "the metric's name (the list form right)")
def evaluate_return_dict_swaps_loss_and_first_metric():
    def make(orig):
        def evaluate(self, *args, **kwargs):
            result = orig(self, *args, **kwargs)
            if isinstance(result, dict) and len(result) > 1 and "loss" in result:
                other = next(key for key in result if key != "loss")
                result = {**result, "loss": result[other], other: result["loss"]}
            return result
        return evaluate
    _wrap(_keras().Model, "evaluate", make)
