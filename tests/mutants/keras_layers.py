"""The mutants of keras.layers (guide §1.1): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import NotApplicable, _keras, _keras3_src, _wrap, mutant
from tests.mutants._helpers import _default_changed, _model_class


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


@mutant("keras.layers", "the 'orthogonal' initializer draws a plain random-normal matrix")
def orthogonal_is_random_normal():
    keras = _keras()

    def make(orig):
        def call(self, shape, dtype=None, **kwargs):
            return keras.initializers.RandomNormal(stddev=shape[0] ** -0.5, seed=1)(shape, dtype=dtype)
        return call
    _wrap(keras.initializers.Orthogonal, "__call__", make)


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
