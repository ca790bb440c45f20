"""The mutants of keras.compile (guide §1.2): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _keras, _keras3_src, _tf, _wrap, mutant
from tests.mutants._helpers import _default_changed, _right_value_gradient_of


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


@mutant("keras.compile", "RMSprop's default rho is 0.95 instead of 0.9")
def rmsprop_default_rho_changed():
    def make(orig):
        def init(self, learning_rate=0.001, rho=0.95, *args, **kwargs):
            orig(self, learning_rate, rho, *args, **kwargs)
        return init
    _wrap(_keras().optimizers.RMSprop, "__init__", make)


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


def _plain(output) -> bool:
    """An output that carries no logits of its own (not a softmax/sigmoid layer's output inside a model)."""
    return not hasattr(output, "_keras_logits")


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
