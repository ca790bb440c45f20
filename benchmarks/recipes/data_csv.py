"""data.csv: eight float columns parsed by the recipe's `CsvDataset` (guide §2.1.4; `tf.data.experimental` today).

Every pipeline reads with `reference.data_csv.dataset(files)`. The guide's pipeline parses the files one
after another; tuned: a parallel interleave of one `dataset([file])` per file (CsvDataset has no
`num_parallel_reads`), with prefetch; and cache of the parsed batches. MB/s counts the 8 float32 values.
"""

from __future__ import annotations

import pytest

from benchmarks import tfdata
from benchmarks.declaration import Benchmark
from benchmarks.datasets import write_csv
from benchmarks.rounds import Group, measure_group
from benchmarks.tfdata import Pipeline, Stage

SLOT = "data"  # when it runs (benchmarks/conftest.py)
RECIPE = "data.csv"
GROUP = "data.csv"
BENCHMARK = Benchmark(recipe=RECIPE, budgets={GROUP: 4})  # full-run seconds per pass
FILES = 4


@pytest.fixture(scope="module")
def csv_files(plan, tmp_path_factory):
    files, _ = write_csv(tmp_path_factory.mktemp("csv"), plan.file_examples, FILES)
    return files, plan.file_examples


def pipelines(tf, files: list[str], plan) -> list[Pipeline]:
    from reference.data_csv import dataset

    AUTOTUNE = tf.data.AUTOTUNE
    source = Stage("dataset(files)", lambda _: dataset(files))
    isource = Stage("files.interleave(dataset([f]), num_parallel_calls=AUTOTUNE)",
                    lambda _: tf.data.Dataset.from_tensor_slices(files).interleave(
                        lambda f: dataset([f]), cycle_length=FILES, num_parallel_calls=AUTOTUNE, deterministic=True))
    return tfdata.file_rows(plan.file_batches, guide=source, parallel=isource,
                            parallel_what="files.interleave(dataset([f]), num_parallel_calls=AUTOTUNE)")


def test_csv_pipelines(tf, plan, recorder, csv_files, bench_pass):
    files, rows = csv_files
    group = Group(GROUP, "data", [], plan.budget(GROUP))

    def prepare():
        group.units[:] = tfdata.build_units(tf, source="csv", recipe=RECIPE, pipelines=pipelines(tf, files, plan),
                                            examples=rows, bytes_per_example=8 * 4.0, data="synthetic-seed1234/csv8")

    measure_group(group, recorder, plan, prepare=prepare)
