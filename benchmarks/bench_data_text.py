"""data.text: lines of text files read with TextLineDataset (guide §2.1.3).

The guide reads the files one after another; tuned: parallel interleave over the files with
prefetch, and cache. MB/s counts the bytes of the lines delivered (without their newlines).
"""

from __future__ import annotations

import pytest

from benchmarks import tfdata
from benchmarks.datasets import write_text

RECIPE = "data.text"
FILES = 4
VARIANTS = {
    "guide": ("TextLineDataset(files).batch(n)", True),
    "parallel": ("files.interleave(TextLineDataset, num_parallel_calls=AUTOTUNE).batch(n).prefetch(AUTOTUNE)",
                 True),
    "cache": ("parallel + .cache() after batching; measured epochs serve the cached batches", False),
}


@pytest.fixture(scope="module")
def text_files(plan, tmp_path_factory):
    files, total_bytes = write_text(tmp_path_factory.mktemp("text"), plan.file_examples, FILES)
    return files, plan.file_examples, total_bytes


def build(tf, variant: str, files: list[str], n: int):
    AUTOTUNE = tf.data.AUTOTUNE
    if variant == "guide":
        return tf.data.TextLineDataset(files).batch(n)
    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TextLineDataset, cycle_length=FILES, num_parallel_calls=AUTOTUNE, deterministic=True).batch(n)
    if variant == "cache":
        ds = ds.cache()
    return ds.prefetch(AUTOTUNE)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_text_pipeline(benchmark, tf, plan, recorder, text_files, variant, batch_size, consumer):
    files, lines, total_bytes = text_files
    what, copies = VARIANTS[variant]
    row = tfdata.measure(benchmark, tf, plan, build(tf, variant, files, batch_size), examples=lines,
                         bytes_per_example=total_bytes / lines, name=f"text/{variant}/b{batch_size}/{consumer}",
                         consumer=consumer, recipe=RECIPE, source="text", variant=variant, batch_size=batch_size,
                         pipeline=what, copies_every_byte=copies, data="synthetic-seed1234/text40-120")
    recorder.add("data", row)
