"""data.csv: eight float columns parsed with CsvDataset (guide §2.1.4; `tf.data.experimental.CsvDataset` today).

The guide's pipeline parses one line at a time from the files in order. Tuned: parallel interleave
over the files; batch-before-map (read lines, batch them, one `decode_csv` per batch); cache.
"""

from __future__ import annotations

import pytest

from benchmarks import tfdata
from benchmarks.datasets import write_csv

RECIPE = "data.csv"
FILES = 4
VARIANTS = {
    "guide": ("CsvDataset(files, [tf.float32] * 8).batch(n)", True),
    "parallel": ("files.interleave(CsvDataset, num_parallel_calls=AUTOTUNE).batch(n).prefetch(AUTOTUNE)", True),
    "vectorised": ("files.interleave(TextLineDataset, num_parallel_calls=AUTOTUNE).batch(n)"
                   ".map(decode_csv, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)", True),
    "cache": ("vectorised + .cache() after parsing; measured epochs serve the cached batches", False),
}


@pytest.fixture(scope="module")
def csv_files(plan, tmp_path_factory):
    files, _ = write_csv(tmp_path_factory.mktemp("csv"), plan.file_examples, FILES)
    return files, plan.file_examples


def build(tf, variant: str, files: list[str], n: int):
    AUTOTUNE = tf.data.AUTOTUNE
    defaults = [tf.float32] * 8
    if variant == "guide":
        return tf.data.experimental.CsvDataset(files, defaults).batch(n)
    names = tf.data.Dataset.from_tensor_slices(files)
    if variant == "parallel":
        return names.interleave(lambda f: tf.data.experimental.CsvDataset(f, defaults), cycle_length=FILES,
                                num_parallel_calls=AUTOTUNE, deterministic=True).batch(n).prefetch(AUTOTUNE)
    ds = names.interleave(tf.data.TextLineDataset, cycle_length=FILES, num_parallel_calls=AUTOTUNE,
                          deterministic=True).batch(n)
    ds = ds.map(lambda lines: tuple(tf.io.decode_csv(lines, [[0.0]] * 8)), num_parallel_calls=AUTOTUNE)
    if variant == "cache":
        ds = ds.cache()
    return ds.prefetch(AUTOTUNE)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_csv_pipeline(benchmark, tf, plan, recorder, csv_files, variant, batch_size, consumer):
    files, rows = csv_files
    what, copies = VARIANTS[variant]
    row = tfdata.measure(benchmark, tf, plan, build(tf, variant, files, batch_size), examples=rows,
                         bytes_per_example=8 * 4, name=f"csv/{variant}/b{batch_size}/{consumer}", consumer=consumer,
                         recipe=RECIPE, source="csv", variant=variant, batch_size=batch_size, pipeline=what,
                         copies_every_byte=copies, data="synthetic-seed1234/csv8")
    recorder.add("data", row)
