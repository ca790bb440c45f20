"""data.tfrecord: serialized tf.train.Example records read by the recipe's `TFRecordDataset` (guide §2.1.2).

Files are written by `reference.data_tfrecord.write_examples`; every pipeline reads them with
`reference.data_tfrecord.dataset(files)`. The guide reads the files one after another and parses one
record at a time. Tuned: parallel reads (`num_parallel_reads=AUTOTUNE`, the tf.data performance guide's
"parallelizing data extraction") with a parallel parse; batch-before-map (one `parse_example` call per
batch: vectorised); and cache of the parsed batches. MB/s counts the decoded image bytes and the int64 label.
"""

from __future__ import annotations

import pytest

from benchmarks import tfdata
from benchmarks.declaration import Benchmark
from benchmarks.datasets import fashion_mnist, write_tfrecords
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.tfrecord"
GROUP = "data.tfrecord"
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 7})  # full-run seconds per pass
FILES = 8


@pytest.fixture(scope="module")
def records(tf, plan, tmp_path_factory):
    images = fashion_mnist(plan.file_examples, 1)
    files = write_tfrecords(tf, tmp_path_factory.mktemp("tfrecord"), images.x_train, images.y_train, FILES)
    return files, len(images.x_train), images.kind


def pipelines(tf, files: list[str], plan) -> list[Pipeline]:
    from reference.data_tfrecord import dataset

    AUTOTUNE = tf.data.AUTOTUNE
    spec = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}

    def parse_one(record):
        ex = tf.io.parse_single_example(record, spec)
        return tf.reshape(tf.io.decode_raw(ex["image"], tf.uint8), [28, 28]), ex["label"]

    def parse_batch(records):
        ex = tf.io.parse_example(records, spec)
        return tf.reshape(tf.io.decode_raw(ex["image"], tf.uint8), [-1, 28, 28]), ex["label"]

    source = Stage("dataset(files)", lambda _: dataset(files))
    psource = Stage("dataset(files, num_parallel_reads=AUTOTUNE)", lambda _: dataset(files, num_parallel_reads=AUTOTUNE))
    parse = Stage(".map(parse_one)", lambda ds: ds.map(parse_one))
    pparse = Stage(".map(parse_one, num_parallel_calls=AUTOTUNE)", lambda ds: ds.map(parse_one, num_parallel_calls=AUTOTUNE))
    vparse = Stage(".map(parse_batch, num_parallel_calls=AUTOTUNE)",
                   lambda ds: ds.map(parse_batch, num_parallel_calls=AUTOTUNE))
    prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
    out = []
    for n in plan.file_batches:
        batch = Stage(f".batch({n})", lambda ds, n=n: ds.batch(n), batched=True)
        out += [
            Pipeline("guide", [source, parse, batch], batch=n, is_guide=True, what="dataset(files).map(parse_one).batch(n)"),
            Pipeline("parallel", [psource, pparse, batch, prefetch], batch=n,
                    what="dataset(files, num_parallel_reads=AUTOTUNE).map(parse_one, parallel).batch(n).prefetch"),
            Pipeline("vectorised", [psource, batch, vparse, prefetch], batch=n,
                    what="dataset(files, num_parallel_reads=AUTOTUNE).batch(n).map(parse_batch, parallel).prefetch"),
            Pipeline("cache", [psource, batch, vparse, Stage(".cache()", lambda ds: ds.cache()), prefetch], batch=n,
                    copies_every_byte=False, what="vectorised + .cache() after parsing: epochs serve cached batches"),
        ]
    return out


def test_tfrecord_pipelines(tf, plan, recorder, records, bench_pass):
    files, examples, kind = records
    group = Group(GROUP, "data", [], plan.budget(GROUP))

    def prepare():
        group.units[:] = tfdata.build_units(tf, source="tfrecord", recipe=RECIPE, pipelines=pipelines(tf, files, plan),
                                            examples=examples, bytes_per_example=28 * 28 + 8.0, data=kind)

    measure_group(group, recorder, plan, prepare=prepare)
