"""Guide §1.7: callbacks — EarlyStopping, ModelCheckpoint, LearningRateScheduler, TensorBoard,
and BackupAndRestore.

Most specs use the reference's one-weight model (y = w·x, SGD, one sample), whose weights and losses
per epoch follow in closed form, so the exact epoch at which a callback acts is known in advance.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import operator
import os
import re
import sys

import h5py
import numpy as np
import pytest

from reference.keras_callbacks import TRAIN, VALIDATION, fit_one_weight, one_weight_model
from suite.support.helpers import KERAS3, TF_VERSION, WEIGHTS_H5_LAYERS_GROUP, keras, tf

pytestmark = pytest.mark.recipe("keras.callbacks")

# From TF 2.16 tf.summary's writers are TensorFlow stubs that import tensorboard when called (and raise
# TBNotInstalledError without it); TF 2.15's tf.summary is tensorboard's own module, a required
# dependency. TF 2.21 no longer installs tensorboard.
TB_IMPORTED_LAZILY = TF_VERSION >= (2, 16)

# The key LearningRateScheduler adds to the epoch logs (and so to History).
LR_LOG_KEY = "learning_rate" if KERAS3 else "lr"

LR = 0.25  # the one-weight model's SGD rate

try:  # the package itself, not tf.summary (which TensorFlow >= 2.16 provides as stubs either way)
    TENSORBOARD_INSTALLED = importlib.util.find_spec("tensorboard") is not None
except ValueError:  # tensorboard blocked in sys.modules (None): as good as absent
    TENSORBOARD_INSTALLED = False


def sgd_weights(rates) -> np.ndarray:
    """w after each epoch of the one-weight model: one SGD step per epoch on (w·1 - 1)², from w = 0."""
    w, out = 0.0, []
    for rate in rates:
        w -= rate * 2.0 * (w - 1.0)
        out.append(w)
    return np.array(out)


def train_losses(weights_after: np.ndarray) -> np.ndarray:
    """The epoch's training loss is measured before its step, i.e. at the previous epoch's w."""
    before = np.concatenate([[0.0], weights_after[:-1]])
    return (before * TRAIN[0][0, 0] - TRAIN[1][0, 0]) ** 2


def val_losses(weights_after: np.ndarray) -> np.ndarray:
    return (weights_after * VALIDATION[0][0, 0] - VALIDATION[1][0, 0]) ** 2


def expected_stop_epoch(values, patience: int, better=operator.lt) -> int:
    """EarlyStopping's documented rule: stop once `patience` epochs pass without a new best value (by
    default a new minimum; `better=operator.gt` for a quantity to maximise)."""
    best_epoch = 0
    for epoch, value in enumerate(values):
        if better(value, values[best_epoch]):
            best_epoch = epoch
        if epoch - best_epoch >= patience:
            return epoch
    raise AssertionError("the sequence never triggers a stop")


def improving_epochs(values, better=operator.lt) -> list[int]:
    """The epochs whose value beats every earlier one (the first always does): where save_best_only saves."""
    return [e for e in range(len(values)) if all(better(values[e], earlier) for earlier in values[:e])]


def kernel_in_weights_file(path) -> float:
    """Read the single Dense kernel straight out of a .weights.h5 file with h5py (not through Keras)."""
    found = []
    with h5py.File(path, "r") as fh:
        fh.visititems(lambda name, obj: found.append(obj[()]) if isinstance(obj, h5py.Dataset)
                      and name.startswith(WEIGHTS_H5_LAYERS_GROUP + "/") else None)
    assert len(found) == 1, found
    return float(found[0].reshape(-1)[0])


def kernel(model) -> float:
    return float(model.get_weights()[0][0, 0])


# --- EarlyStopping ----------------------------------------------------------------------------------

HAND_FED_VAL_LOSSES = [0.9, 0.5, 0.6, 0.55, 0.7, 0.52, 0.8, 0.9]


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_early_stopping_stops_patience_epochs_after_best_epoch_on_known_losses(patience):
    expected = expected_stop_epoch(HAND_FED_VAL_LOSSES, patience)
    assert expected == 1 + patience  # the best epoch of the sequence is epoch 1
    stopper = keras.callbacks.EarlyStopping(patience=patience, monitor="val_loss")
    stopper.set_model(one_weight_model())
    stopper.model.stop_training = False
    stopper.on_train_begin()

    stopped_at = None
    for epoch, loss in enumerate(HAND_FED_VAL_LOSSES):
        stopper.on_epoch_end(epoch, logs={"loss": 1.0, "val_loss": loss})
        if stopper.model.stop_training:
            stopped_at = epoch
            break

    assert stopped_at == expected
    assert stopper.stopped_epoch == expected


# --- One real fit with the guide's callbacks (plus two checkpoints) ------------------------------------

FIT_EPOCHS, PATIENCE = 10, 2
BEST_ONLY_PATTERN = "ckpt-{epoch:02d}-{val_loss:.4f}.weights.h5"
EVERY_EPOCH_PATTERN = "{epoch:02d}.weights.h5"


@pytest.fixture(scope="module")
def guide_fit(tmp_path_factory):
    """fit(..., validation_data, callbacks=[...]) as in the guide, on the one-weight model.

    One shared fit keeps the module fast; each spec below asserts one callback's behaviour on it.
    The checkpoints come first in the list: Keras 2's EarlyStopping restores the best weights inside
    its on_epoch_end, which would otherwise change what a later callback saves in the last epoch.
    """
    root = tmp_path_factory.mktemp("guide_fit")
    best_dir, every_dir, log_dir = root / "best", root / "every", root / "logs"
    stopper = keras.callbacks.EarlyStopping(patience=PATIENCE, monitor="val_loss", restore_best_weights=True)
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(best_dir / BEST_ONLY_PATTERN), monitor="val_loss",
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.ModelCheckpoint(str(every_dir / EVERY_EPOCH_PATTERN), save_weights_only=True),
        stopper,
    ]
    # Without the tensorboard package (an environment that cannot take it) the other callbacks are still
    # verified; only the TensorBoard spec is skipped, and says why.
    if TENSORBOARD_INSTALLED:
        callbacks.insert(2, keras.callbacks.TensorBoard(log_dir=str(log_dir)))
    model = one_weight_model()
    history = fit_one_weight(model, epochs=FIT_EPOCHS, callbacks=callbacks)
    return dict(history=history.history, stopped_epoch=stopper.stopped_epoch, final_kernel=kernel(model),
                best_dir=best_dir, every_dir=every_dir, log_dir=log_dir)


def closed_form_run():
    """Weights and val_loss per epoch of the uninterrupted run, and EarlyStopping's stop epoch."""
    weights = sgd_weights([LR] * FIT_EPOCHS)
    val = val_losses(weights)
    return weights, val, expected_stop_epoch(val, PATIENCE)


def test_early_stopping_in_fit_stops_patience_epochs_after_best_val_loss(guide_fit):
    _, val, stop = closed_form_run()

    assert guide_fit["stopped_epoch"] == stop == 3
    assert len(guide_fit["history"]["val_loss"]) == stop + 1
    np.testing.assert_allclose(guide_fit["history"]["val_loss"], val[:stop + 1], rtol=1e-5)


def test_early_stopping_restore_best_weights_restores_best_epoch_weights_exactly(guide_fit):
    weights, val, stop = closed_form_run()
    best_epoch = int(np.argmin(val[:stop + 1]))

    assert best_epoch == 1
    assert guide_fit["final_kernel"] == np.float32(weights[best_epoch]) == 0.75


def test_model_checkpoint_save_best_only_writes_formatted_files_only_on_improvement(guide_fit):
    weights, val, stop = closed_form_run()
    improved = improving_epochs(val[:stop + 1])
    expected = {BEST_ONLY_PATTERN.format(epoch=e + 1, val_loss=val[e]): weights[e] for e in improved}

    assert sorted(os.listdir(guide_fit["best_dir"])) == sorted(expected) == [
        "ckpt-01-0.0900.weights.h5", "ckpt-02-0.0025.weights.h5"]
    for name, w in expected.items():
        assert kernel_in_weights_file(guide_fit["best_dir"] / name) == np.float32(w)


def test_model_checkpoint_without_save_best_only_writes_every_epoch(guide_fit):
    weights, _, stop = closed_form_run()
    expected = {EVERY_EPOCH_PATTERN.format(epoch=e + 1): weights[e] for e in range(stop + 1)}

    assert sorted(os.listdir(guide_fit["every_dir"])) == sorted(expected) == [
        "01.weights.h5", "02.weights.h5", "03.weights.h5", "04.weights.h5"]
    for name, w in expected.items():
        assert kernel_in_weights_file(guide_fit["every_dir"] / name) == np.float32(w)


def test_model_checkpoint_save_best_only_on_known_losses_saves_only_improvements(tmp_path):
    # Driven by hand like Keras's own callback tests: any loss sequence, the model's weight set per epoch.
    losses = [0.9, 0.5, 0.6, 0.4, 0.45, 0.4, 0.1]
    model = one_weight_model()
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "{epoch:02d}.weights.h5"),
                                                 monitor="val_loss", save_best_only=True,
                                                 save_weights_only=True)
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    for epoch, loss in enumerate(losses):
        model.set_weights([np.full((1, 1), epoch, "float32")])
        checkpoint.on_epoch_end(epoch, logs={"loss": 1.0, "val_loss": loss})

    improved = improving_epochs(losses)
    assert improved == [0, 1, 3, 6]
    assert sorted(os.listdir(tmp_path)) == [f"{e + 1:02d}.weights.h5" for e in improved]
    for e in improved:
        assert kernel_in_weights_file(tmp_path / f"{e + 1:02d}.weights.h5") == e


# --- a quantity to maximise: monitor='val_accuracy' with the default mode='auto' ---------------------------
#
# The guide configures callbacks by the quantity they monitor. Every spec above monitors val_loss, where
# mode='auto' cannot be told from 'min'; the callbacks document that 'auto' maximises an accuracy. How
# they decide differs, the outcome does not (read in the source of each): Keras 2 / tf_keras 2.15 by the
# name (EarlyStopping: it ends in 'acc', 'accuracy' or 'auc'; ModelCheckpoint: 'acc' in it), as Keras 3's
# ModelCheckpoint until 3.10; Keras 3's EarlyStopping, and from 3.11 both (MonitorCallback, keras-team/keras
# 37a0920a3d, #21275), by the direction of the compiled metric of that name ('accuracy' is "up"). So
# val_accuracy is maximised on every version of the matrix.
#
# The one-weight model again (w = 0.5, 0.75, 0.875, 0.9375, ... after each epoch), compiled with
# metrics=['accuracy']: one output, so binary accuracy (w·x > 0.5 predicts 1). Three validation points
# flip at w = 0.625 (label 1: becomes right), 0.8 and 0.909 (label 0: become wrong), so val_accuracy is
# 2/3, 1, 2/3, 1/3, 1/3, ...: it rises, then falls.
ACCURACY_VALIDATION = (np.array([[0.8], [0.625], [0.55]], "float32"), np.array([[1.0], [0.0], [0.0]], "float32"))
ACCURACY_PATTERN = "{epoch:02d}.weights.h5"


def val_accuracies(weights_after: np.ndarray) -> np.ndarray:
    x, y = ACCURACY_VALIDATION
    return np.array([np.mean((w * x > 0.5) == (y == 1)) for w in weights_after])


@pytest.fixture(scope="module")
def accuracy_fit(tmp_path_factory):
    """fit with EarlyStopping and a save_best_only ModelCheckpoint both monitoring val_accuracy, mode not
    given (the default 'auto'), as the guide writes its callbacks."""
    checkpoint_dir = tmp_path_factory.mktemp("accuracy_fit")
    stopper = keras.callbacks.EarlyStopping(patience=PATIENCE, monitor="val_accuracy")
    checkpoint = keras.callbacks.ModelCheckpoint(str(checkpoint_dir / ACCURACY_PATTERN), monitor="val_accuracy",
                                                 save_best_only=True, save_weights_only=True)
    model = keras.Sequential([keras.Input(shape=(1,)),
                              keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(LR), loss="mse", metrics=["accuracy"])
    history = model.fit(*TRAIN, validation_data=ACCURACY_VALIDATION, epochs=FIT_EPOCHS, batch_size=1,
                        shuffle=False, verbose=0, callbacks=[checkpoint, stopper])
    return dict(history=history.history, stopped_epoch=stopper.stopped_epoch, checkpoint_dir=checkpoint_dir)


def closed_form_accuracy_run():
    """Weights and val_accuracy per epoch of the uninterrupted run, and the epoch at which maximising stops."""
    weights = sgd_weights([LR] * FIT_EPOCHS)
    accuracy = val_accuracies(weights)
    np.testing.assert_array_equal(accuracy[:4], [2 / 3, 1, 2 / 3, 1 / 3])
    return weights, accuracy, expected_stop_epoch(accuracy, PATIENCE, better=operator.gt)


def test_early_stopping_on_val_accuracy_in_auto_mode_stops_patience_epochs_after_its_maximum(accuracy_fit):
    _, accuracy, stop = closed_form_accuracy_run()
    # Guard: minimising the same sequence stops one epoch earlier.
    assert expected_stop_epoch(accuracy, PATIENCE, better=operator.lt) == stop - 1 == 2

    assert accuracy_fit["stopped_epoch"] == stop == 3
    np.testing.assert_allclose(accuracy_fit["history"]["val_accuracy"], accuracy[:stop + 1], rtol=1e-6)


def test_model_checkpoint_on_val_accuracy_in_auto_mode_saves_only_when_it_rises(accuracy_fit):
    weights, accuracy, stop = closed_form_accuracy_run()
    rising = improving_epochs(accuracy[:stop + 1], better=operator.gt)
    # Guard: minimising the same epochs would save epochs 1 and 4 instead.
    assert improving_epochs(accuracy[:stop + 1], better=operator.lt) == [0, 3]

    assert sorted(os.listdir(accuracy_fit["checkpoint_dir"])) == [
        ACCURACY_PATTERN.format(epoch=e + 1) for e in rising] == ["01.weights.h5", "02.weights.h5"]
    for e in rising:
        assert kernel_in_weights_file(accuracy_fit["checkpoint_dir"] / ACCURACY_PATTERN.format(epoch=e + 1)) == (
            np.float32(weights[e]))


# --- LearningRateScheduler --------------------------------------------------------------------------

class RateRecorder(keras.callbacks.Callback):
    """Reads the optimizer's rate at the end of every epoch (after all of the epoch's steps)."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(float(np.asarray(self.model.optimizer.learning_rate)))


def test_learning_rate_scheduler_sets_optimizer_rate_each_epoch():
    schedule = [0.25, 0.125, 0.0625]
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, lr: schedule[epoch])
    recorder = RateRecorder()
    model = one_weight_model(learning_rate=0.9)  # overridden from the first epoch on

    history = fit_one_weight(model, epochs=3, callbacks=[scheduler, recorder], validation=False)

    np.testing.assert_array_equal(recorder.rates, np.float32(schedule))
    np.testing.assert_array_equal(np.float32(history.history[LR_LOG_KEY]), np.float32(schedule))
    # The rate was really used by each epoch's update, not merely stored.
    np.testing.assert_allclose(kernel(model), sgd_weights(schedule)[-1], rtol=1e-6)


def test_learning_rate_scheduler_passes_each_epoch_the_current_rate_to_the_schedule():
    # The documented schedule(epoch, lr) receives the optimizer's current rate (Keras 2 and 3 docstrings: "takes
    # an epoch index ... and current learning rate ... as inputs"), so a schedule may derive each rate from the
    # last: halving from 0.5 gives 0.25, 0.125, 0.0625.
    seen = []

    def halve(epoch, lr):
        seen.append((epoch, float(np.float32(lr))))
        return lr * 0.5

    recorder = RateRecorder()
    model = one_weight_model(learning_rate=0.5)

    fit_one_weight(model, epochs=3, callbacks=[keras.callbacks.LearningRateScheduler(halve), recorder],
                   validation=False)

    assert seen == [(0, 0.5), (1, 0.25), (2, 0.125)]
    np.testing.assert_array_equal(recorder.rates, np.float32([0.25, 0.125, 0.0625]))
    np.testing.assert_allclose(kernel(model), sgd_weights([0.25, 0.125, 0.0625])[-1], rtol=1e-6)


# --- TensorBoard ------------------------------------------------------------------------------------

def read_scalars(run_dir, tag: str):
    """(steps, values) of a scalar tag, read with TensorBoard's own event reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    events = accumulator.Tensors(tag)
    return [e.step for e in events], [float(tf.make_ndarray(e.tensor_proto)) for e in events]


@pytest.mark.skipif(not TENSORBOARD_INSTALLED, reason="the tensorboard package is not installed here "
                    "(`pip install tensorboard`): the TensorBoard callback's event files were not verified")
def test_tensorboard_writes_train_and_validation_epoch_loss_equal_to_history(guide_fit):
    log_dir, history = guide_fit["log_dir"], guide_fit["history"]
    epochs = len(history["loss"])

    for run in ("train", "validation"):
        assert any(f.startswith("events.out.tfevents.") for f in os.listdir(log_dir / run)), run
    steps, train_loss = read_scalars(log_dir / "train", "epoch_loss")
    val_steps, val_loss = read_scalars(log_dir / "validation", "epoch_loss")
    assert steps == val_steps == list(range(epochs))
    np.testing.assert_array_equal(np.float32(train_loss), np.float32(history["loss"]))
    np.testing.assert_array_equal(np.float32(val_loss), np.float32(history["val_loss"]))
    weights = sgd_weights([LR] * epochs)
    np.testing.assert_allclose(train_loss, train_losses(weights), rtol=1e-6)
    np.testing.assert_allclose(val_loss, val_losses(weights), rtol=1e-5)


def tensorboard_is_a_required_dependency(tmp_path, monkeypatch):
    # tf.summary *is* tensorboard's module here, bound when TensorFlow is imported; pip cannot install
    # this TensorFlow without it.
    requirements = importlib.metadata.requires(tf_distribution()) or []
    assert any(re.match(r"tensorboard\b", r) for r in requirements), requirements


def fit_raises_tb_not_installed(tmp_path, monkeypatch):
    # What a user without `pip install tensorboard` sees: tf.summary.scalar imports tensorboard at
    # call time; None entries in sys.modules make that import fail exactly as if it were absent.
    from tensorflow.python.summary.tb_summary import TBNotInstalledError

    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)

    with pytest.raises(TBNotInstalledError, match="TensorBoard is not installed"):
        fit_one_weight(one_weight_model(), epochs=1, validation=False,
                       callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))])


WITHOUT_TENSORBOARD = fit_raises_tb_not_installed if TB_IMPORTED_LAZILY else tensorboard_is_a_required_dependency


@pytest.mark.parametrize("expected", [WITHOUT_TENSORBOARD], ids=lambda check: check.__name__)
def test_tensorboard_callback_without_tensorboard_package(tmp_path, monkeypatch, expected):
    expected(tmp_path, monkeypatch)


def tf_distribution() -> str:
    """The installed distribution that provides the `tensorflow` package (tensorflow, tensorflow-cpu...)."""
    return importlib.metadata.packages_distributions()["tensorflow"][0]


# --- BackupAndRestore -------------------------------------------------------------------------------

EPOCHS, INTERRUPT_AT, MOMENTUM = 5, 2, 0.5


def momentum_sgd_weights(epochs: int, momentum: float = MOMENTUM) -> np.ndarray:
    """Keras's SGD with momentum on the one-weight model: v <- m·v - lr·g; w <- w + v."""
    w, v, out = 0.0, 0.0, []
    for _ in range(epochs):
        v = momentum * v - LR * 2.0 * (w - 1.0)
        w += v
        out.append(w)
    return np.array(out)


class Interrupted(RuntimeError):
    pass


class InterruptAt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == INTERRUPT_AT:
            raise Interrupted(f"simulated crash at epoch {epoch}")


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def momentum_model(initial_weight: float) -> keras.Model:
    model = one_weight_model()
    model.compile(optimizer=keras.optimizers.SGD(LR, momentum=MOMENTUM), loss="mse")
    model.set_weights([np.full((1, 1), initial_weight, "float32")])
    return model


def test_backup_and_restore_resumes_interrupted_fit_to_the_uninterrupted_weights(tmp_path):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(Interrupted):
        fit_one_weight(momentum_model(0.0), epochs=EPOCHS, validation=False,
                       callbacks=[keras.callbacks.BackupAndRestore(backup_dir), InterruptAt()])

    # Start from another weight and an empty velocity: only restoring both the weight and the
    # optimizer's momentum slot from the backup can reach the uninterrupted run's end point.
    resumed, recorder = momentum_model(-3.0), EpochRecorder()
    fit_one_weight(resumed, epochs=EPOCHS, validation=False,
                   callbacks=[keras.callbacks.BackupAndRestore(backup_dir), recorder])

    if recorder.epochs == list(range(EPOCHS)):  # the known defect's exact value: every epoch trained again
        raise AssertionError(f"the resumed fit ran epochs {recorder.epochs}: it restarted at epoch 0 instead of "
                             f"resuming at epoch {INTERRUPT_AT}")
    assert recorder.epochs == list(range(INTERRUPT_AT, EPOCHS)), (
        f"the resumed fit ran epochs {recorder.epochs}, not {list(range(INTERRUPT_AT, EPOCHS))}")
    uninterrupted = momentum_sgd_weights(EPOCHS)[-1]
    # Within float32 rounding of the float64 closed form (the run itself is float32); a resume that
    # lost the velocity would end at least this far away:
    w, lost_velocity = momentum_sgd_weights(INTERRUPT_AT)[-1], 0.0
    for _ in range(EPOCHS - INTERRUPT_AT):
        lost_velocity = MOMENTUM * lost_velocity - LR * 2.0 * (w - 1.0)
        w += lost_velocity
    assert abs(w - uninterrupted) > 1e-2
    if np.isclose(kernel(resumed), w, rtol=1e-6) and not np.isclose(kernel(resumed), uninterrupted, rtol=1e-6):
        raise AssertionError(f"the resumed fit ended at {kernel(resumed)}, where a resume without the optimizer's "
                             f"momentum ends, not at {uninterrupted}: the backup did not restore the optimizer state")
    np.testing.assert_allclose(kernel(resumed), uninterrupted, rtol=1e-6)


# --- callbacks given as instances with the documented defaults left out (issue 28) ------------------------
#
# The signatures each Keras documents (alike in Keras 2.12-2.15, tf_keras and Keras 3.0-3.15):
# EarlyStopping(monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto', baseline=None,
# restore_best_weights=False, start_from_epoch=0); ModelCheckpoint(filepath, monitor='val_loss', verbose=0,
# save_best_only=False, save_weights_only=False, mode='auto', save_freq='epoch', initial_value_threshold=None);
# TensorBoard(log_dir='logs', ...). LearningRateScheduler(schedule, verbose=0) has no default that acts.
#
# val_loss falls (0.9, 0.5), falls by 1e-4 (min_delta 0: an improvement), then rises at epoch 3, while the
# training loss keeps falling: the defaults stop at epoch 3 (patience 0), and each other value of a default
# gives another epoch: patience 2 or more, or monitor='loss', never stops here (patience 1 stops where 0
# does: each Keras from 2.12 on counts the epoch without improvement before comparing the wait with the
# patience, and returns before it on an improvement); a min_delta above 1e-4 stops
# at epoch 2; mode='max' at epoch 1; restore_best_weights=True would leave the weights of epoch 2; a
# baseline below 0.4999 would stop at epoch 1 (no epoch beats it).
DEFAULTS_VAL_LOSSES = [0.9, 0.5, 0.4999, 0.6, 0.3]
DEFAULTS_TRAIN_LOSSES = [1.0, 0.8, 0.6, 0.4, 0.2]


def test_early_stopping_with_every_default_left_out_monitors_val_loss_with_patience_0_and_keeps_the_last_weights():
    stopper = keras.callbacks.EarlyStopping()
    model = one_weight_model()
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()

    stopped_at = None
    for epoch, (loss, val_loss) in enumerate(zip(DEFAULTS_TRAIN_LOSSES, DEFAULTS_VAL_LOSSES)):
        model.set_weights([np.full((1, 1), epoch, "float32")])
        stopper.on_epoch_end(epoch, logs={"loss": loss, "val_loss": val_loss})
        if model.stop_training:
            stopped_at = epoch
            break
    stopper.on_train_end()

    assert stopped_at == stopper.stopped_epoch == 3
    assert float(np.float32(stopper.best)) == np.float32(0.4999)   # min_delta 0: 1e-4 less was an improvement
    assert kernel(model) == 3.0   # restore_best_weights=False: the weights of the last epoch stay


def test_model_checkpoint_with_every_default_left_out_saves_the_whole_model_every_epoch(tmp_path):
    # The one-weight model's val_loss falls then rises (0.09, 0.0025, 0.005625): save_best_only=False saves
    # epoch 3 too; save_weights_only=False saves the model with its compiled optimizer. The `.keras` file
    # is the whole-model format of every Keras of the matrix (Keras 2 from 2.12 on).
    model = one_weight_model()
    fit_one_weight(model, epochs=3, callbacks=[keras.callbacks.ModelCheckpoint(str(tmp_path / "{epoch:02d}.keras"))])

    weights = sgd_weights([LR] * 3)
    assert sorted(os.listdir(tmp_path)) == ["01.keras", "02.keras", "03.keras"]
    for epoch, w in enumerate(weights, start=1):
        loaded = keras.models.load_model(str(tmp_path / f"{epoch:02d}.keras"))
        assert kernel(loaded) == np.float32(w)
        assert isinstance(loaded.optimizer, keras.optimizers.SGD)
        assert np.float32(np.asarray(loaded.optimizer.learning_rate)) == np.float32(LR)


@pytest.mark.skipif(not TENSORBOARD_INSTALLED, reason="the tensorboard package is not installed here "
                    "(`pip install tensorboard`): the TensorBoard callback's event files were not verified")
def test_tensorboard_with_log_dir_left_out_writes_under_logs_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = fit_one_weight(one_weight_model(), epochs=1, callbacks=[keras.callbacks.TensorBoard()])

    assert sorted(os.listdir(tmp_path)) == ["logs"]
    assert sorted(os.listdir(tmp_path / "logs")) == ["train", "validation"]
    for run, key in (("train", "loss"), ("validation", "val_loss")):
        steps, values = read_scalars(tmp_path / "logs" / run, "epoch_loss")
        assert steps == [0]
        assert np.float32(values[0]) == np.float32(history.history[key][0])
