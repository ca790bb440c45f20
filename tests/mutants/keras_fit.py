"""The mutants of keras.fit (guide §1.3): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import inspect

from tests.mutants._core import NotApplicable, _keras, _keras3_src, _tf, _wrap, mutant
from tests.mutants._helpers import _batches, _model_class


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


@mutant("keras.fit", "fit validates only every other epoch by default")
def validation_every_other_epoch():
    def make(orig):
        def fit(self, *args, **kwargs):
            kwargs.setdefault("validation_freq", 2)
            return orig(self, *args, **kwargs)
        return fit
    _wrap(_model_class(), "fit", make)


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
