"""data.map: the recipe's `_parse_function` - read a JPEG file, decode it, resize it to 28x28 (guide §2.2).

Every pipeline is `reference.data_map.dataset(filenames, labels, num_parallel_calls)`: the recipe's
from_tensor_slices((filenames, labels)).map(_parse_function), decoding as the recipe does (the file's own
channels: the grayscale JPEGs written here decode to 28x28x1). The guide maps sequentially; tuned:
`num_parallel_calls=AUTOTUNE` with prefetch, and cache of the decoded images (the tf.data performance
guide's advice for expensive, deterministic preprocessing). MB/s counts the float32 images and int32 labels.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import tfdata
from benchmarks.declaration import Benchmark, sized
from benchmarks.datasets import fashion_mnist, write_jpegs
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.map"
GROUP = "data.map"
SIZES = {"full": {"images": 1_000, "batches": (32, 256)}, "quick": {"images": 300, "batches": (32,)}}
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 5})  # full-run seconds per pass


@pytest.fixture(scope="module")
def jpegs(tf, plan, tmp_path_factory):
    images = fashion_mnist(sized(SIZES, plan).images, 1)
    files = write_jpegs(tf, tmp_path_factory.mktemp("jpeg"), images.x_train)
    return files, images.y_train.astype(np.int32), images.kind


def pipelines(tf, files: list[str], labels: np.ndarray, plan) -> list[Pipeline]:
    from reference.data_map import _parse_function, dataset

    AUTOTUNE = tf.data.AUTOTUNE
    # the ladder's first stage: the recipe's pipeline before its map
    slices = Stage("from_tensor_slices((filenames, labels))",
                   lambda _: tf.data.Dataset.from_tensor_slices((tf.constant(files), tf.constant(labels))))
    parse = Stage(".map(_parse_function)", lambda ds: ds.map(_parse_function))
    pparse = Stage(".map(_parse_function, num_parallel_calls=AUTOTUNE)",
                   lambda ds: ds.map(_parse_function, num_parallel_calls=AUTOTUNE))
    recipe = Stage("dataset(filenames, labels)", lambda _: dataset(files, labels))
    precipe = Stage("dataset(filenames, labels, num_parallel_calls=AUTOTUNE)",
                    lambda _: dataset(files, labels, num_parallel_calls=AUTOTUNE))
    prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
    out = []
    for n in sized(SIZES, plan).batches:
        batch = Stage(f".batch({n})", lambda ds, n=n: ds.batch(n), batched=True)
        out += [
            Pipeline("guide", [recipe, batch], batch=n, is_guide=True,
                    what="dataset(filenames, labels).batch(n)  [= from_tensor_slices(...).map(_parse_function)]"),
            Pipeline("parallel", [precipe, batch, prefetch], batch=n,
                    what="dataset(filenames, labels, num_parallel_calls=AUTOTUNE).batch(n).prefetch(AUTOTUNE)"),
            Pipeline("cache", [precipe, Stage(".cache()", lambda ds: ds.cache()), batch, prefetch], batch=n,
                    copies_every_byte=False, what="parallel + .cache() of the decoded images: later epochs decode nothing"),
        ]
    # Ladders: the recipe's source and map are one function; its stages are measured as the same pipeline cut
    # before and after the map.
    for pipeline in out:
        first = [slices, parse] if pipeline.stages[0] is recipe else [slices, pparse]
        pipeline.ladder_stages = first + pipeline.stages[1:]
    return out


def test_jpeg_pipelines(tf, plan, recorder, jpegs, bench_pass):
    files, labels, kind = jpegs
    group = Group(GROUP, "data", [], plan.budget(GROUP))
    bytes_per_example = 28 * 28 * 1 * 4 + 4.0

    def prepare():
        group.units[:] = tfdata.build_units(tf, source="jpeg", recipe=RECIPE,
                                            pipelines=pipelines(tf, files, labels, plan),
                                            examples=len(files), bytes_per_example=bytes_per_example,
                                            data=kind + "/jpeg64-q90",
                                            ladder_batches={min(sized(SIZES, plan).batches)})

    measure_group(group, recorder, plan, prepare=prepare)
