"""Training rows: the recipes' models and `fit` calls, one round = a fixed number of steps, and their twins.

A configuration is a model built by its recipe (`reference.keras_quickstart.build_model()`,
`reference.keras_fit.small_model()`) and, for tuned configurations, compiled again with the recipe's own
compile configuration plus the tuning (`steps_per_execution`, `jit_compile`): `recompile`. It is trained
by the recipe's `fit` step (`reference.keras_quickstart.fit`, `reference.keras_fit.fit_numpy` /
`fit_dataset`) on the guide's input (NumPy arrays) or on a tuned tf.data input, or by one custom loop
(`xla-loop`) that runs many steps of the same model, optimizer and loss inside one XLA function.

Before its first pass a configuration trains one full epoch (this traces and compiles; its duration up to
the second execution is reported as compile + first step) and is evaluated on the held-out images: the
accuracy column. A round is then one `fit` call of S steps (S = `plan.train_round_examples` / batch, a whole
number of executions: the same work in every pass and every run, so that work a `fit` call does once - the
validation of keras.fit's recipe - weighs the same in every round); its time runs from the start of the
second execution to the end of the epoch
(Keras' batch-begin and epoch-end callbacks, which it calls synchronously), so neither the call's set-up
nor the first batch is in it.

Why a row is as fast as it is: each `fit` configuration has a compute-only *twin*, the same compiled model
stepping on one batch that is already in memory (`Dataset.from_tensors(batch).repeat()`), measured in the
same rounds. 1 - rate/rate_twin is the share of a step spent waiting for the next batch; the TF
Profiler's input-pipeline analysis calls a step moderately input-bound from 5 % and highly from 20 %. The
custom loop times its own input step directly.
"""

from __future__ import annotations

import math
import time

import numpy as np

from benchmarks.models import dense_kernels, training_flops_per_example
from benchmarks.rounds import Clock, Unit

SEED = 1234


def recompile(model, **overrides):
    """Compile `model` again with the configuration it was compiled with (the recipe's optimizer, loss and
    metrics) and the given overrides; the optimizer starts afresh."""
    config = model.get_compile_config()
    config.update(overrides)
    model.compile_from_config(config)
    return model


def step_timer(keras, clock: Clock | None, skip_executions: int = 1):
    """A callback that starts `clock` at the beginning of execution `skip_executions` (0-based) and stops it
    at the end of the epoch; `.timed_steps` is the number of steps in between."""

    class _RoundTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.async_safe = True  # adding it must not change how Keras dispatches the other callbacks
            self.marks: list[tuple[int, float]] = []
            self.first_timed_step = None
            self.end = None

        def on_train_batch_begin(self, batch, logs=None):
            if len(self.marks) == skip_executions and clock is not None:
                self.first_timed_step = batch
                clock.start()
            self.marks.append((batch, time.perf_counter()))

        def on_epoch_end(self, epoch, logs=None):
            self.end = time.perf_counter()
            if self.first_timed_step is not None and clock is not None:
                clock.stop()

    return _RoundTimer()


def shuffled_gather_input(tf, x: np.ndarray, y: np.ndarray, batch: int, seed: int = SEED):
    """The tuned input (the data.numpy row `shuffled_gather`): the recipe's from_tensor_slices over example
    indices and labels, shuffled every epoch, batched, and each batch's images gathered at once in a parallel
    map (batch-before-map), prefetched while the model trains. Endless (`repeat`): rounds take S steps."""
    from reference.data_numpy import from_arrays

    xt = tf.constant(x)
    return (from_arrays(np.arange(len(x), dtype=np.int64), y)
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(batch, drop_remainder=True)
            .map(lambda i, label: (tf.gather(xt, i), label), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


class FitConfig:
    """One `fit` configuration of a recipe's model: warm-up epoch, accuracy, rounds, and its twin."""

    def __init__(self, tf, *, name: str, recipe: str, model, batch: int, spe: int, input_kind: str,
                 x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, fit_call, data_kind: str,
                 round_examples: int, config: str, model_name: str, extra: dict | None = None):
        self.tf, self.keras = tf, tf.keras
        self.name, self.recipe, self.model, self.batch, self.spe = name, recipe, model, batch, spe
        self.input_kind, self.x, self.y, self.x_test, self.y_test = input_kind, x, y, x_test, y_test
        self.fit_call = fit_call  # (model, train, *, steps, callbacks) -> history; `train` is arrays or a dataset
        self.data_kind, self.config, self.model_name = data_kind, config, model_name
        self.round_examples = round_examples
        self.extra = extra or {}
        self.steps = None
        self.warm: dict = {}
        self.dataset = None

    # -- once, before the first pass --------------------------------------------------------------------

    def warm_up(self, full: bool = True) -> None:
        """One full epoch (traces, compiles), the accuracy after it, and the round size S. `full=False` (the
        process of a later pass, whose accuracy is not reported): a few executions, enough to compile and time."""
        n = len(self.x)
        steps_epoch = n // self.batch
        steps = steps_epoch if full else min(steps_epoch, max(4 * self.spe, 64))
        timer = step_timer(self.keras, None)
        t0 = time.perf_counter()
        if self.input_kind == "tf.data":
            self.fit_call(self.model, self._tfdata(), steps=steps, callbacks=[timer])
        else:
            m = n if full else steps * self.batch
            self.fit_call(self.model, (self.x[:m], self.y[:m]), steps=None, callbacks=[timer])
        marks = timer.marks
        compile_s = (marks[1][1] if len(marks) > 1 else timer.end) - t0
        if len(marks) > 1:
            step_s = (timer.end - marks[1][1]) / max(1, steps - marks[1][0])
        else:
            step_s = (timer.end - t0) / max(1, steps)
        self.steps = self._round_steps(steps_epoch)
        accuracy = None
        if full:
            result = self.model.evaluate(self.x_test, self.y_test, batch_size=1000, verbose=0, return_dict=True)
            accuracy = next((v for k, v in result.items() if "acc" in k), None)
        self.warm = {"compile_and_first_step_s": compile_s, "first_epoch_s": timer.end - t0,
                     "accuracy": float(accuracy) if accuracy is not None else None,
                     "accuracy_after": f"1 epoch of {n:,} examples",
                     "steps_per_round": self.steps, "warmup_step_s": step_s}

    def _round_steps(self, steps_epoch: int) -> int:
        spe = max(1, self.spe)
        want = math.ceil(self.round_examples / self.batch / spe) * spe
        steps = max(2 * spe, want)
        return min(steps, max(2 * spe, (steps_epoch // spe) * spe))

    # -- every pass ---------------------------------------------------------------------------------------

    def _tfdata(self):
        return shuffled_gather_input(self.tf, self.x, self.y, self.batch)

    def prepare(self) -> None:
        """Fresh input objects for this pass (the model and its compiled step are kept)."""
        if self.input_kind == "tf.data":
            self.dataset = self._tfdata()
        self.twin_dataset = self.tf.data.Dataset.from_tensors((self.x[: self.batch], self.y[: self.batch])).repeat()

    def run(self, clock: Clock) -> float:
        timer = step_timer(self.keras, clock)
        if self.input_kind == "tf.data":
            self.fit_call(self.model, self.dataset, steps=self.steps, callbacks=[timer])
        else:
            n = self.steps * self.batch
            self.fit_call(self.model, (self.x[:n], self.y[:n]), steps=None, callbacks=[timer])
        return (self.steps - timer.first_timed_step) * self.batch

    def run_twin(self, clock: Clock) -> float:
        timer = step_timer(self.keras, clock)
        steps = max(2 * self.spe, (self.steps // 2 // self.spe) * self.spe)
        self.model.fit(self.twin_dataset, epochs=1, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        return (steps - timer.first_timed_step) * self.batch

    def units(self) -> list[Unit]:
        twin_key = f"{self.name} [compute-only twin]"
        return [Unit(key=self.name, run=self.run, row=self.row(), twin=twin_key, max_repeats=1),
                Unit(key=twin_key, run=self.run_twin, max_repeats=1)]

    def row(self) -> dict:
        kernels = dense_kernels(self.model)
        jit = getattr(self.model, "jit_compile", None)
        return {"name": self.name, "recipe": self.recipe, "section": "training", "model": self.model_name,
                "config": self.config, "global_batch": self.batch, "per_replica_batch": self.batch, "replicas": 1,
                "devices": ["/device:CPU:0"], "steps_per_execution": self.spe, "jit_compile": jit,
                "input": self.input_kind, "strategy": None, "api": "fit", "examples_per_epoch": len(self.x),
                "data": self.data_kind, "unit": "examples", "flops_per_example": training_flops_per_example(kernels),
                "params": int(self.model.count_params()), "is_guide": self.config == "guide", **self.warm,
                **self.extra}


class XlaLoopConfig:
    """The recipe's model, optimizer and loss trained by a custom loop: `steps_per_call` steps inside ONE
    XLA-compiled function, batches gathered beforehand from a shuffled permutation (timed as input)."""

    def __init__(self, tf, *, name: str, recipe: str, model, batch: int, steps_per_call: int, x: np.ndarray,
                 y: np.ndarray, x_test, y_test, data_kind: str, round_examples: int, model_name: str):
        self.tf, self.keras = tf, tf.keras
        self.name, self.recipe, self.model, self.batch = name, recipe, model, batch
        self.spc = max(1, min(steps_per_call, len(x) // batch))  # a call never holds more than an epoch
        self.x_all = tf.constant(x.astype(np.float32))
        self.y_all = tf.constant(y.astype(np.int32))
        self.n = len(x)
        self.x_test, self.y_test, self.data_kind = x_test, y_test, data_kind
        self.round_examples, self.model_name = round_examples, model_name
        self.optimizer = model.optimizer
        self.loss_fn = self.keras.losses.get(model.loss)
        self.optimizer.build(model.trainable_variables)
        self.warm: dict = {}
        self.steps = None
        model_ = model
        loss_fn, optimizer = self.loss_fn, self.optimizer

        @tf.function(jit_compile=True, reduce_retracing=True)
        def run_steps(xs, ys):  # xs: [k, batch, 28, 28]
            loss = tf.constant(0.0)
            for i in tf.range(tf.shape(xs)[0]):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(loss_fn(ys[i], model_(xs[i], training=True)))
                grads = tape.gradient(loss, model_.trainable_variables)
                optimizer.apply_gradients(zip(grads, model_.trainable_variables))
            return loss

        self.run_steps = run_steps

    def _batches(self, steps: int):
        perm = self.tf.random.shuffle(self.tf.range(self.n))[: steps * self.batch]
        xs = self.tf.reshape(self.tf.gather(self.x_all, perm), (steps // self.spc, self.spc, self.batch, 28, 28))
        ys = self.tf.reshape(self.tf.gather(self.y_all, perm), (steps // self.spc, self.spc, self.batch))
        return xs, ys

    def _train(self, steps: int, clock: Clock | None) -> tuple[float, float]:
        t0 = time.perf_counter()
        xs, ys = self._batches(steps)
        t_input = time.perf_counter() - t0
        loss = None
        for k in range(steps // self.spc):
            loss = self.run_steps(xs[k], ys[k])
        float(loss)  # the round ends when its last step has run
        return t_input, time.perf_counter() - t0

    def train(self, steps: int) -> None:
        """`steps` steps (a multiple of steps_per_call), untimed: time to quality times them itself."""
        self._train(steps, None)

    def warm_up(self, full: bool = True) -> None:
        self.keras.utils.set_random_seed(SEED)
        steps_epoch = (self.n // self.batch // self.spc) * self.spc
        t0 = time.perf_counter()
        self._train(self.spc, None)  # traces and compiles
        compile_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        more = (steps_epoch - self.spc) if full else min(steps_epoch, 3 * self.spc)
        if more > 0:
            self._train(more, None)
        step_s = (time.perf_counter() - t1) / max(1, more)
        want = math.ceil(self.round_examples / self.batch / self.spc) * self.spc
        self.steps = max(self.spc, min(want, steps_epoch))
        accuracy = None
        if full:
            result = self.model.evaluate(self.x_test, self.y_test, batch_size=1000, verbose=0, return_dict=True)
            accuracy = next((v for k, v in result.items() if "acc" in k), None)
        self.warm = {"compile_and_first_step_s": compile_s, "first_epoch_s": time.perf_counter() - t0,
                     "accuracy": float(accuracy) if accuracy is not None else None,
                     "accuracy_after": f"1 epoch of {steps_epoch * self.batch:,} examples",
                     "steps_per_round": self.steps, "warmup_step_s": step_s}

    def prepare(self) -> None:
        pass

    def run(self, clock: Clock) -> float:
        with clock.timed():
            t_input, _ = self._train(self.steps, clock)
        clock.add("input_s", t_input)
        return self.steps * self.batch

    def units(self) -> list[Unit]:
        return [Unit(key=self.name, run=self.run, row=self.row(), max_repeats=1)]

    def row(self) -> dict:
        return {"name": self.name, "recipe": self.recipe, "section": "training", "model": self.model_name,
                "config": "xla-loop", "global_batch": self.batch, "per_replica_batch": self.batch, "replicas": 1,
                "devices": ["/device:CPU:0"], "steps_per_execution": self.spc, "jit_compile": True,
                "input": "in-memory gather per round", "strategy": None, "api": "custom loop",
                "examples_per_epoch": self.n, "data": self.data_kind, "unit": "examples",
                "flops_per_example": training_flops_per_example(dense_kernels(self.model)),
                "params": int(self.model.count_params()), "is_guide": False, **self.warm}


def epoch_rounds(keras, batch: int, steps: int):
    """A callback that makes every epoch of one `fit` call a round (from its second execution to its end),
    for the worker processes of keras.distribute; `.rounds` holds one round record per epoch."""
    from benchmarks import machine
    from benchmarks.rounds import round_result

    class _EpochRounds(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.async_safe = True
            self.rounds: list[dict] = []
            self.epoch_marks: list[dict] = []

        def on_epoch_begin(self, epoch, logs=None):
            machine.reset_peak_rss()
            self.clock, self.seen, self.first = Clock(), 0, None
            self.load = machine.load_average()
            self.epoch_marks.append({"begin": time.perf_counter(), "second": None})

        def on_train_batch_begin(self, b, logs=None):
            if self.seen == 1:
                self.first = b
                self.clock.start()
                self.epoch_marks[-1]["second"] = time.perf_counter()
            self.seen += 1

        def on_epoch_end(self, epoch, logs=None):
            if self.first is not None:
                self.clock.stop()
                self.rounds.append(round_result(self.clock, (steps - self.first) * batch, self.load))

    return _EpochRounds()


def run_custom_loop(tf, keras, *, model, x_train, y_train, batch: int, epochs: int, strategy,
                    dataset_options=None) -> list[dict]:
    """The recipe's model trained by the recipe's tf.distribute custom loop,
    `reference.keras_distribute.distributed_train_step` (per-replica loss averaged over the GLOBAL batch, the
    compiled optimizer's all-reduced update of the mirrored variables), under `strategy`: Keras 3's `fit` does
    not run under MultiWorkerMirroredStrategy (keras-team/keras#20585). One round record per epoch, with the
    time spent in next(iterator) as its input time."""
    from benchmarks import machine
    from benchmarks.rounds import round_result
    from reference.data_numpy import from_arrays
    from reference.keras_distribute import distributed_train_step

    train_step = distributed_train_step(tf, strategy, model, batch)
    ds = from_arrays((x_train / np.float32(255.0)).astype(np.float32), y_train.astype(np.int32))
    ds = ds.shuffle(len(x_train), seed=SEED, reshuffle_each_iteration=True).batch(batch, drop_remainder=True)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    if dataset_options is not None:
        ds = ds.with_options(dataset_options)
    dist = strategy.experimental_distribute_dataset(ds)
    rounds, marks = [], []
    for _ in range(epochs):
        machine.reset_peak_rss()
        load = machine.load_average()
        clock = Clock()
        begin = time.perf_counter()
        iterator = iter(dist)
        loss = train_step(next(iterator))  # the first step (traces in the first epoch) is not in the round
        strategy.experimental_local_results(loss)
        second = time.perf_counter()
        clock.start()
        wait, steps = 0.0, 0
        while True:
            t_in = time.perf_counter()
            try:
                batch_xy = next(iterator)
            except StopIteration:
                break
            wait += time.perf_counter() - t_in
            loss = train_step(batch_xy)
            steps += 1
        [float(v) for v in strategy.experimental_local_results(loss)]
        clock.stop()
        clock.add("input_s", wait)
        marks.append({"begin": begin, "second": second})
        rounds.append(round_result(clock, steps * batch, load))
    return rounds, marks
