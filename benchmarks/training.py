"""Timing Keras training: one `fit` call per configuration, one round per epoch.

Epoch 1 traces and compiles (reported apart as compile + first step), the warm-up epochs follow, then the
measured epochs. Timestamps come from `on_train_batch_begin` and `on_epoch_end`, which Keras calls
synchronously (batch-end callbacks may be dispatched to a thread, so they would time the thread), and the
callback declares itself async-safe so adding it does not change how Keras dispatches the guide's default
callbacks. All runs use `verbose=0`: the progress bar's printing is not TensorFlow's work.

Used in-process by the single-device benchmarks and by `benchmarks/distributed_worker.py` in subprocesses.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from benchmarks.harness import quantile, rate_row

SEED = 1234


def quickstart_model(keras):
    """The guide's quickstart model (with `keras.Input` instead of the deprecated `input_shape=`)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def conv_model(keras):
    """A small convolutional model on the same data."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


MODELS = {"quickstart": quickstart_model, "conv": conv_model}


def training_flops_per_example(model) -> float:
    """Matmul/convolution FLOPs of one training example: forward, weight gradients (same count as forward),
    and input gradients of every weighted layer but the first (the input needs no gradient).
    Elementwise work (activations, pooling, softmax, Adam) is left out: it is small and not matmul work."""
    forward = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            forward.append(2.0 * layer.kernel.shape[0] * layer.kernel.shape[1])
        elif kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            forward.append(2.0 * h * w * cout * kh * kw * cin)
    return 2.0 * sum(forward) + sum(forward[1:])


class StepTimer:
    """Keras callback (built lazily so this module imports without TensorFlow)."""

    @staticmethod
    def make(keras):
        class _StepTimer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.async_safe = True
                self.train_begin = None
                self.epochs: list[dict] = []

            def on_train_begin(self, logs=None):
                self.train_begin = time.perf_counter()

            def on_epoch_begin(self, epoch, logs=None):
                self.epochs.append({"begin": time.perf_counter(), "batches": [], "end": None})

            def on_train_batch_begin(self, batch, logs=None):
                self.epochs[-1]["batches"].append((batch, time.perf_counter()))

            def on_epoch_end(self, epoch, logs=None):
                self.epochs[-1]["end"] = time.perf_counter()

        return _StepTimer()


def step_intervals(epoch: dict, steps_in_epoch: int) -> list[tuple[float, int]]:
    """(seconds per step, steps) for each execution of the epoch."""
    marks = epoch["batches"] + [(steps_in_epoch, epoch["end"])]
    return [((t1 - t0) / (s1 - s0), s1 - s0) for (s0, t0), (s1, t1) in zip(marks, marks[1:]) if s1 > s0]


def tfdata_input(tf, x: np.ndarray, y: np.ndarray, batch: int, seed: int = SEED):
    """Tuned input, same arithmetic as `fit(x, y, batch_size=batch, shuffle=True)`: every epoch a new
    permutation, batches of `batch` (the last one smaller), float32 — shuffling indices, then gathering
    whole batches at once (batch-before-map) while the model trains (prefetch)."""
    xt, yt = tf.constant(x), tf.constant(y)
    return (tf.data.Dataset.range(len(x))
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(batch)
            .map(lambda i: (tf.gather(xt, i), tf.gather(yt, i)), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def _timing_result(model, epoch_marks: list[dict], warmup: int, steps: int, accuracy: float,
                   setup_s: float = 0.0) -> dict:
    """Epoch and per-step timings of a run (first epoch = compile, then warm-up, then measured epochs) and
    the accuracy it reached, the same for fit and for the custom loops."""
    first = epoch_marks[0]
    measured = epoch_marks[1 + warmup:]
    per_step = sorted(s for e in measured for s, _ in step_intervals(e, steps))
    return {
        "epoch_s": [e["end"] - e["begin"] for e in measured],
        "setup_s": setup_s,
        "compile_and_first_step_s": (first["batches"][1][1] if len(first["batches"]) > 1 else first["end"]) - first["begin"],
        "first_epoch_s": first["end"] - first["begin"],
        "ms_per_step_p50": 1e3 * quantile(per_step, 0.5),
        "ms_per_step_p95": 1e3 * quantile(per_step, 0.95),
        "steps_per_epoch": steps,
        "accuracy": float(accuracy),
        "flops_per_example": training_flops_per_example(model),
        "params": int(model.count_params()),
    }


def run_fit(tf, keras, *, model_name: str, x_train, y_train, x_test, y_test, batch: int, epochs: int,
            warmup: int, steps_per_execution: int = 1, jit_compile="auto", input_kind: str = "numpy float64",
            strategy=None, dataset_options=None) -> dict:
    """Train once and return timings, accuracy and FLOPs; `x_*` are uint8 images, scaled here like the guide."""
    keras.utils.set_random_seed(SEED)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = MODELS[model_name](keras)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    n = len(x_train)
    steps = -(-n // batch)
    if input_kind == "numpy float64":  # the guide: train_images / 255.0
        fit_args = dict(x=x_train / 255.0, y=y_train, batch_size=batch, shuffle=True)
    elif input_kind == "numpy float32":
        fit_args = dict(x=(x_train / np.float32(255.0)).astype(np.float32), y=y_train, batch_size=batch, shuffle=True)
    elif input_kind == "tf.data":
        ds = tfdata_input(tf, (x_train / np.float32(255.0)).astype(np.float32), y_train.astype(np.int32), batch)
        if dataset_options is not None:
            ds = ds.with_options(dataset_options)
        fit_args = dict(x=ds, shuffle=False)  # the dataset shuffles every epoch itself
    else:
        raise ValueError(input_kind)
    timer = StepTimer.make(keras)
    t_call = time.perf_counter()
    model.fit(**fit_args, epochs=epochs, callbacks=[timer], verbose=0)
    _, accuracy = model.evaluate(x_test / 255.0, y_test, batch_size=1000, verbose=0)
    return _timing_result(model, timer.epochs, warmup, steps, accuracy, setup_s=timer.epochs[0]["begin"] - t_call)


def record_fit(tf, plan, recorder, images, *, model, name, batch, spe, jit, input_kind, recipe) -> dict:
    """Train one configuration and add its row (examples/s over the measured epochs) to the report."""
    keras = tf.keras
    steps = -(-len(images.x_train) // batch)
    spe = min(plan.steps_per_execution if spe is None else spe, steps)
    if input_kind == "xla loop":
        res = run_xla_loop(tf, keras, model_name=model, x_train=images.x_train, y_train=images.y_train,
                           x_test=images.x_test, y_test=images.y_test, batch=batch, epochs=plan.epochs,
                           warmup=plan.warmup_rounds, steps_per_call=spe)
    else:
        res = run_fit(tf, keras, model_name=model, x_train=images.x_train, y_train=images.y_train,
                      x_test=images.x_test, y_test=images.y_test, batch=batch, epochs=plan.epochs,
                      warmup=plan.warmup_rounds, steps_per_execution=spe, jit_compile=jit, input_kind=input_kind)
    row = rate_row(f"{model}/{name}/b{batch}", len(images.x_train), None, res["epoch_s"], recipe=recipe,
                   section="single", model=model, config=name, global_batch=batch, per_replica_batch=batch,
                   replicas=1, devices=["/device:CPU:0"], steps_per_execution=spe, jit_compile=jit, input=input_kind,
                   strategy=None, examples_per_epoch=len(images.x_train), epochs=plan.epochs, data=images.kind,
                   api="custom loop" if input_kind == "xla loop" else "fit",
                   timer="own (per-epoch rounds; batch marks from Keras callbacks or the loop)",
                   **{k: res[k] for k in ("setup_s", "compile_and_first_step_s", "first_epoch_s", "ms_per_step_p50",
                                          "ms_per_step_p95", "steps_per_epoch", "accuracy", "flops_per_example",
                                          "params")})
    if model == "quickstart" and input_kind != "numpy float64" and batch >= 256:
        row.update(quickstart_gemm_ceiling(tf, batch))
    return recorder.add("training", row)




def run_custom_loop(tf, keras, *, x_train, y_train, x_test, y_test, batch: int, epochs: int, warmup: int,
                    strategy, dataset_options=None) -> dict:
    """The quickstart model trained by a custom loop under `strategy` (Keras 3's `fit` does not support
    MultiWorkerMirroredStrategy: keras-team/keras#20585). Same model, Adam, loss, global batch and
    shuffling as `run_fit`; returns the same keys."""
    keras.utils.set_random_seed(SEED)
    n = len(x_train)
    steps = -(-n // batch)
    with strategy.scope():
        model = quickstart_model(keras)
        optimizer = keras.optimizers.Adam()
        optimizer.build(model.trainable_variables)
    ds = tfdata_input(tf, (x_train / np.float32(255.0)).astype(np.float32), y_train.astype(np.int32), batch)
    if dataset_options is not None:
        ds = ds.with_options(dataset_options)
    dist = strategy.experimental_distribute_dataset(ds)

    def step_fn(x, y):
        with tf.GradientTape() as tape:
            probs = model(x, training=True)
            per_example = keras.losses.sparse_categorical_crossentropy(y, probs)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(batch_xy):
        return strategy.run(step_fn, args=batch_xy)

    epoch_marks = []
    for _ in range(epochs):
        marks = {"begin": time.perf_counter(), "batches": []}
        for i, batch_xy in enumerate(dist):
            marks["batches"].append((i, time.perf_counter()))
            train_step(batch_xy)
        marks["end"] = time.perf_counter()
        epoch_marks.append(marks)
    probs = model.predict(x_test / 255.0, batch_size=1000, verbose=0)
    accuracy = np.mean(np.argmax(probs, axis=1) == y_test)
    return _timing_result(model, epoch_marks, warmup, steps, accuracy)


def run_xla_loop(tf, keras, *, x_train, y_train, x_test, y_test, batch: int, epochs: int, warmup: int,
                 steps_per_call: int, model_name: str = "quickstart") -> dict:
    """The same training (model, Adam, loss, batch, a new permutation every epoch, the last batch smaller)
    written as a custom loop whose `steps_per_call` steps run inside ONE XLA-compiled function: no Python,
    no tf.data iterator and no function-call boundary between steps. Not `fit`: it shows how much of a
    step is the arithmetic and how much is the machinery around it."""
    keras.utils.set_random_seed(SEED)
    model = MODELS[model_name](keras)
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    x_all = tf.constant((x_train / np.float32(255.0)).astype(np.float32))
    y_all = tf.constant(y_train.astype(np.int32))
    n = len(x_train)
    full, rest = divmod(n, batch)
    steps = full + (1 if rest else 0)

    @tf.function(jit_compile=True, reduce_retracing=True)
    def run_steps(xs, ys):  # xs: [k, batch, 28, 28]
        loss = tf.constant(0.0)
        for i in tf.range(tf.shape(xs)[0]):
            with tf.GradientTape() as tape:
                loss = loss_fn(ys[i], model(xs[i], training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def shuffled():
        perm = tf.random.shuffle(tf.range(n))
        return tf.gather(x_all, perm), tf.gather(y_all, perm)

    epoch_marks = []
    for _ in range(epochs):
        marks = {"begin": time.perf_counter(), "batches": []}
        xs, ys = shuffled()
        xb = tf.reshape(xs[: full * batch], (full, batch, 28, 28))
        yb = tf.reshape(ys[: full * batch], (full, batch))
        done = 0
        for start in range(0, full, steps_per_call):
            marks["batches"].append((done, time.perf_counter()))
            k = min(steps_per_call, full - start)
            loss = run_steps(xb[start:start + k], yb[start:start + k])
            done += k
        if rest:
            marks["batches"].append((done, time.perf_counter()))
            loss = run_steps(xs[None, full * batch:], ys[None, full * batch:])
        float(loss)  # the epoch ends when its last step has run
        marks["end"] = time.perf_counter()
        epoch_marks.append(marks)
    probs = model.predict(x_test / 255.0, batch_size=1000, verbose=0)
    accuracy = np.mean(np.argmax(probs, axis=1) == y_test)
    return _timing_result(model, epoch_marks, warmup, steps, accuracy)


_GEMM_CEILINGS: dict[int, dict] = {}


def quickstart_gemm_ceiling(tf, batch: int, repeats: int = 5, chain: int = 10) -> dict:
    """The quickstart model's own matmuls at this batch, alone (no framework, no elementwise work): forward
    x[B,784]·W1, h[B,128]·W2, and the backward dW2 = hᵀ·dy, dh = dy·W2ᵀ, dW1 = xᵀ·dh — the FLOPs that
    `training_flops_per_example` counts. Their best rate is the ceiling the model's FLOP utilisation can reach
    on this machine at this batch size, measured the same way as the square-matmul peak."""
    if batch in _GEMM_CEILINGS:
        return _GEMM_CEILINGS[batch]
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, 784), dtype=np.float32))
    w1 = tf.constant(rng.standard_normal((784, 128), dtype=np.float32) * 0.05)
    w2 = tf.constant(rng.standard_normal((128, 10), dtype=np.float32) * 0.1)
    dy = tf.constant(rng.standard_normal((batch, 10), dtype=np.float32))

    @tf.function
    def gemms(x, w1, w2, dy):
        acc = tf.constant(0.0)
        for _ in range(chain):
            h = tf.matmul(x, w1)
            y = tf.matmul(h, w2)
            dw2 = tf.matmul(h, dy, transpose_a=True)
            dh = tf.matmul(dy, w2, transpose_b=True)
            dw1 = tf.matmul(x, dh, transpose_a=True)
            # depend on every product so none is pruned, and chain the rounds so none is hoisted or merged
            # (x * 0.0 would be folded away by Grappler; a tiny non-zero factor is not)
            acc += y[0, 0] + dw2[0, 0] + dw1[0, 0]
            x = x + acc * 1e-30
        return acc

    float(gemms(x, w1, w2, dy))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        float(gemms(x, w1, w2, dy))
        times.append(time.perf_counter() - t0)
    flops = chain * batch * (2 * 784 * 128 * 2 + 2 * 128 * 10 * 3)
    _GEMM_CEILINGS[batch] = {"gemm_only_flop_per_s": flops / min(times), "gemm_only_method":
                             f"the model's 5 matmuls at batch {batch}, {chain} rounds chained in one tf.function, "
                             f"best of {repeats}"}
    return _GEMM_CEILINGS[batch]
