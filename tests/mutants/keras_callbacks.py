"""The mutants of keras.callbacks (guide §1.7): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import inspect

from tests.mutants._core import _keras, _wrap, mutant
from tests.mutants._helpers import _default_changed


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
