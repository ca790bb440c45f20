"""Guide §1.9: distributed Keras training.

The guide wraps `tf.contrib.distribute.MirroredStrategy()` in `tf.estimator.RunConfig(train_distribute=...)`
and converts the model with `tf.keras.estimator.model_to_estimator`. tf.contrib is gone since TF 2.0,
tf.estimator (with RunConfig) since TF 2.16, and Keras 3 has no model_to_estimator. Today's form:

    strategy = tf.distribute.MirroredStrategy()      # every GPU (or the devices you list)
    with strategy.scope():
        model = build_and_compile()                  # variables become MirroredVariables
    model.fit(x, y, batch_size=GLOBAL_BATCH)         # each replica gets GLOBAL_BATCH / replicas rows

Logical CPU devices (used when there is no GPU) can only be configured before TensorFlow initialises its
runtime, and MultiWorkerMirroredStrategy reads TF_CONFIG and starts a gRPC server once per process: the
functions below run in a fresh process each (the specs start them with suite/support/distribute_worker.py, the
benchmarks with benchmarks/distributed_worker.py and benchmarks/cluster/). `python -m
reference.keras_distribute` runs the mirrored recipe on a small problem in this (fresh) process and prints
the weights.

A "problem" is one step of SGD on a linear layer with mean squared error:
{"x": [[...]] (global batch x features), "y": [[...]], "kernel": [[...]], "bias": [...], "learning_rate": lr}.
"""

from __future__ import annotations

LOGICAL_CPUS = 2
COLLECTIVE_TIMEOUT_SECONDS = 60   # a worker whose peer died fails instead of hanging


# --- the strategies, inside a fresh process ------------------------------------------------------------

def configure_devices(tf) -> list[str]:
    """Every GPU if there are any; else split the CPU into LOGICAL_CPUS devices (before TF initialises)."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * LOGICAL_CPUS)
        return [device.name for device in tf.config.list_logical_devices("CPU")]
    return [device.name for device in tf.config.list_logical_devices("GPU")]


def mirrored_strategy(tf):
    """The guide's MirroredStrategy: over every GPU; without GPUs over the logical CPU devices (MirroredStrategy()
    would take only CPU:0 then, so they are listed). Returns (strategy, devices)."""
    devices = configure_devices(tf)
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy(), devices
    return tf.distribute.MirroredStrategy(devices), devices


def multi_worker_strategy(tf):
    """MultiWorkerMirroredStrategy for the cluster in TF_CONFIG, ring all-reduce, bounded collectives."""
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=COLLECTIVE_TIMEOUT_SECONDS)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def keras_variable(tf, weight):
    # Keras 2 weights are tf.Variables; a Keras 3 Variable wraps the tf.Variable (MirroredVariable) in .value.
    return weight if isinstance(weight, tf.Variable) else weight.value


def fit_one_step(tf, problem: dict, strategy=None):
    """Build and compile inside strategy.scope() (the default strategy when None), then fit one batch."""
    import numpy as np

    keras = tf.keras
    x, y = np.asarray(problem["x"], np.float32), np.asarray(problem["y"], np.float32)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = keras.Sequential([keras.Input(shape=(x.shape[1],)), keras.layers.Dense(y.shape[1])])
        model.set_weights([np.asarray(problem["kernel"], np.float32), np.asarray(problem["bias"], np.float32)])
        model.compile(optimizer=keras.optimizers.SGD(problem["learning_rate"]), loss="mse")
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return model


def custom_loop_one_step(tf, problem: dict, strategy) -> tuple:
    """One step of the tf.distribute custom training loop: per-replica gradients of the loss averaged over
    the GLOBAL batch, summed across replicas (all-reduce), applied to the mirrored variables.

    Keras 3's fit does not run under MultiWorkerMirroredStrategy (keras-team/keras#20585), so the
    multi-worker recipe uses this loop, which is plain tf.distribute on every TF/Keras version."""
    import numpy as np

    x, y = np.asarray(problem["x"], np.float32), np.asarray(problem["y"], np.float32)
    global_batch = len(x)
    with strategy.scope():
        kernel = tf.Variable(np.asarray(problem["kernel"], np.float32))
        bias = tf.Variable(np.asarray(problem["bias"], np.float32))
    dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch))

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            per_example = tf.reduce_mean(tf.square(tf.matmul(xb, kernel) + bias - yb), axis=-1)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, [kernel, bias])
        grads = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)
        kernel.assign_sub(problem["learning_rate"] * grads[0])
        bias.assign_sub(problem["learning_rate"] * grads[1])
        return tf.shape(xb)[0]

    @tf.function
    def train_step(batch):
        return strategy.run(replica_step, args=batch)

    rows = [train_step(batch) for batch in dataset]
    local_rows = [int(r) for step in rows for r in strategy.experimental_local_results(step)]
    return kernel, bias, local_rows


# --- the same loop for a compiled Keras model (the guide's quickstart model on a cluster) ---------------

def replica_gradients(tf, model, x, y, global_batch: int):
    """Inside one replica: the model's compiled loss per example, averaged over the GLOBAL batch (so the
    sum of the replicas' gradients is the gradient of the whole batch's mean loss), and its gradients."""
    loss_fn = tf.keras.losses.get(model.loss)
    with tf.GradientTape() as tape:
        per_example = loss_fn(y, model(x, training=True))
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
    return loss, tape.gradient(loss, model.trainable_variables)


def distributed_train_step(tf, strategy, model, global_batch: int):
    """The custom training loop's step for a model built and compiled inside `strategy.scope()`:
    `train_step(batch)` runs `replica_gradients` on every replica, then the compiled optimizer's
    `apply_gradients`, which, called in a replica context, all-reduces (sums) the gradients over every
    replica of every worker before it updates the mirrored variables. Under the default strategy (one
    device, no cluster) it is the plain training step."""
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)

    def replica_step(x, y):
        loss, grads = replica_gradients(tf, model, x, y, global_batch)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(batch):
        return strategy.run(replica_step, args=batch)

    return train_step


# --- the guide's own path, where it still exists (TF <= 2.15, Keras 2) -------------------------------

def guide_estimator_path(model, input_fn, model_dir, steps: int = 10):
    """The guide's three steps with tf.distribute.MirroredStrategy in place of tf.contrib's."""
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy()
    config = tf.estimator.RunConfig(train_distribute=strategy)
    keras_estimator = tf.keras.estimator.model_to_estimator(keras_model=model, config=config,
                                                           model_dir=str(model_dir))
    keras_estimator.train(input_fn=input_fn, steps=steps)
    return keras_estimator


def demo_problem() -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(8, 3)).tolist(), "y": rng.normal(size=(8, 2)).tolist(),
            "kernel": rng.normal(size=(3, 2)).tolist(), "bias": rng.normal(size=(2,)).tolist(),
            "learning_rate": 0.1}


def main() -> None:
    import numpy as np
    import tensorflow as tf

    problem = demo_problem()
    strategy, _ = mirrored_strategy(tf)
    mirrored = fit_one_step(tf, problem, strategy)
    one_device = fit_one_step(tf, problem)
    print(f"MirroredStrategy over {list(strategy.extended.worker_devices)}: {strategy.num_replicas_in_sync} replicas")
    print(f"  variables: {[type(keras_variable(tf, w)).__name__ for w in mirrored.weights]}")
    for label, model in ((f"{strategy.num_replicas_in_sync} replicas", mirrored), ("one device", one_device)):
        print(f"  kernel after one step, {label}: {np.round(model.get_weights()[0], 4).tolist()}")


if __name__ == "__main__":
    main()
