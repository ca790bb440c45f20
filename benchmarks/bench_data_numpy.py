"""data.numpy: in-memory NumPy arrays through `from_tensor_slices`, Fashion-MNIST shaped (guide §2.1.1).

The guide's pipeline is `from_tensor_slices((features, labels)).batch(n)`: every example is sliced out
and then copied again into its batch, with tf.data's per-element overhead in between. The tuned
variants follow the tf.data performance guide: prefetch, parallel batching, vectorising (slicing
whole batches at once), gathering whole batches in a parallel map (batch-before-map; in order, or
shuffled every epoch as training wants), and cache.

Two variants deliver bytes without copying them, and the report says so: `cache` serves the same batch
tensors again, and `vectorised` slices of a tensor are returned as views when they are 64-byte aligned
(tf.data's `MaybeCopySubSlice`), which every batch of 28x28 float32 images is. The bandwidth target
therefore looks at the best pipeline that copies every byte (`gather`, `shuffled_gather`: `tf.gather`
writes a new tensor).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import tfdata
from benchmarks.datasets import fashion_mnist

# In memory: the wider range of batch sizes and both consumers (benchmarks/conftest.py).
IN_MEMORY = True
RECIPE = "data.numpy"
VARIANTS = {
    # name: (what it is, does every epoch copy every byte?)
    "guide": ("from_tensor_slices((x, y)).batch(n)", True),
    "prefetch": ("... .batch(n).prefetch(AUTOTUNE)", True),
    "parallel_batch": ("... .batch(n, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)", True),
    "vectorised": ("from_tensor_slices of whole batches (x reshaped to [steps, n, 28, 28]) + the remainder "
                   "batch, .prefetch(AUTOTUNE); aligned slices are views, not copies", False),
    "gather": ("range(steps).map(i -> gather(x, i*n .. (i+1)*n), num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)",
               True),
    "shuffled_gather": ("range(N).shuffle(N).batch(n).map(gather(x, indices), num_parallel_calls=AUTOTUNE)"
                        ".prefetch(AUTOTUNE): the training input", True),
    "cache": ("... .batch(n).cache().prefetch(AUTOTUNE); measured epochs serve the cached batches", False),
}


@pytest.fixture(scope="module")
def arrays(plan):
    images = fashion_mnist(plan.numpy_examples, 1)
    x = (images.x_train / np.float32(255.0)).astype(np.float32)
    return x, images.y_train, images.kind


def build(tf, variant: str, x: np.ndarray, y: np.ndarray, n: int):
    AUTOTUNE = tf.data.AUTOTUNE
    if variant == "vectorised":
        full = (len(x) // n) * n
        ds = tf.data.Dataset.from_tensor_slices((x[:full].reshape(-1, n, *x.shape[1:]), y[:full].reshape(-1, n)))
        if full < len(x):
            ds = ds.concatenate(tf.data.Dataset.from_tensors((x[full:], y[full:])))
        return ds.prefetch(AUTOTUNE)
    if variant in ("gather", "shuffled_gather"):
        xt, yt = tf.constant(x), tf.constant(y)
        gather = lambda idx: (tf.gather(xt, idx), tf.gather(yt, idx))  # noqa: E731
        if variant == "shuffled_gather":
            idx = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=0, reshuffle_each_iteration=True).batch(n)
        else:
            steps = -(-len(x) // n)
            idx = tf.data.Dataset.range(steps).map(lambda i: tf.range(i * n, tf.minimum((i + 1) * n, len(x))))
        return idx.map(gather, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if variant == "guide":
        return ds.batch(n)
    if variant == "parallel_batch":
        return ds.batch(n, num_parallel_calls=AUTOTUNE, deterministic=True).prefetch(AUTOTUNE)
    if variant == "cache":
        return ds.batch(n).cache().prefetch(AUTOTUNE)
    return ds.batch(n).prefetch(AUTOTUNE)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_numpy_pipeline(benchmark, tf, plan, recorder, arrays, variant, batch_size, consumer):
    x, y, source = arrays
    ds = build(tf, variant, x, y, batch_size)
    what, copies = VARIANTS[variant]
    row = tfdata.measure(benchmark, tf, plan, ds, examples=len(x), bytes_per_example=x[0].nbytes + y[0].nbytes,
                         name=f"numpy/{variant}/b{batch_size}/{consumer}", consumer=consumer, recipe=RECIPE,
                         source="numpy", variant=variant, batch_size=batch_size, pipeline=what,
                         copies_every_byte=copies, data=source)
    recorder.add("data", row)
