"""data.text: lines of text files read by the recipe's `TextLineDataset` (guide §2.1.3).

Every pipeline reads with `reference.data_text.dataset(files)`. The guide reads the files one after
another; tuned: parallel reads (`num_parallel_reads=AUTOTUNE`) with prefetch, and cache. MB/s counts the
bytes of the lines delivered (without their newlines).
"""

from __future__ import annotations

import pytest

from benchmarks import tfdata
from benchmarks.declaration import Benchmark
from benchmarks.datasets import write_text
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.text"
GROUP = "data.text"
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 4})  # full-run seconds per pass
FILES = 4


@pytest.fixture(scope="module")
def text_files(plan, tmp_path_factory):
    files, total_bytes = write_text(tmp_path_factory.mktemp("text"), plan.file_examples, FILES)
    return files, plan.file_examples, total_bytes


def pipelines(tf, files: list[str], plan) -> list[Pipeline]:
    from reference.data_text import dataset

    AUTOTUNE = tf.data.AUTOTUNE
    source = Stage("dataset(files)", lambda _: dataset(files))
    psource = Stage("dataset(files, num_parallel_reads=AUTOTUNE)", lambda _: dataset(files, num_parallel_reads=AUTOTUNE))
    return tfdata.file_rows(plan.file_batches, guide=source, parallel=psource,
                            parallel_what="dataset(files, num_parallel_reads=AUTOTUNE)")


def test_text_pipelines(tf, plan, recorder, text_files, bench_pass):
    files, lines, total_bytes = text_files
    group = Group(GROUP, "data", [], plan.budget(GROUP))

    def prepare():
        group.units[:] = tfdata.build_units(tf, source="text", recipe=RECIPE, pipelines=pipelines(tf, files, plan),
                                            examples=lines, bytes_per_example=total_bytes / lines,
                                            data="synthetic-seed1234/text40-120",
                                            ladder_batches={plan.ladder_batch})

    measure_group(group, recorder, plan, prepare=prepare)
