"""tf.data rows: pipelines built from the recipe's reference functions, their stage ladders, one epoch a repetition.

A pipeline is a list of stages: a source (the reference function of the recipe, e.g.
`reference.data_tfrecord.dataset(files)`) and the transformations after it (`.map(parse)`, `.batch(n)`,
`.prefetch(AUTOTUNE)`). Every row is one pipeline with one consumer; its *ladder* is the same pipeline
cut after each stage (source only, + parse/map, + batch, + prefetch), measured in the same rounds with
the graph consumer. The cost of a stage is what it adds per example (1/rate of the prefix minus 1/rate
of the prefix before it), so the slowest stage is named by the largest cost; a stage that overlaps work
(prefetch, parallel calls) can have a negative cost. Identical prefixes are measured once and shared
between rows.

A repetition: `iter(dataset)` and the first batch happen outside the timed part (their time is the row's
time to first batch); the timed part consumes the rest of the epoch, either in a Python `for` loop (the
guide's way) or inside a `tf.function` iterating the iterator (the pipeline's own speed). Ladder stages
before batching yield single examples and are drained inside tf.data instead (see epoch_unit). The examples of
every epoch are counted and must be exactly the epoch's: a pipeline that drops or duplicates examples is a
bug, not a speed-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from benchmarks.rounds import Unit

AUTOTUNE = -1  # tf.data.AUTOTUNE


@dataclass(frozen=True)
class Stage:
    name: str                      # e.g. "TFRecordDataset(files)", ".map(parse_one)", ".batch(256)"
    apply: Callable                # dataset -> dataset (the source stage: None -> dataset)
    batched: bool | None = None    # elements are batches after this stage (None: unchanged)


def _first_component(element):
    while isinstance(element, (tuple, list, dict)):
        element = next(iter(element.values())) if isinstance(element, dict) else element[0]
    return element


def make_consumer(tf, kind: str, batched: bool):
    """A function iterator -> number of examples it yielded (the rest of the epoch)."""
    if kind == "python":
        def consume(iterator) -> int:
            n = 0
            for element in iterator:
                n += int(_first_component(element).shape[0]) if batched else 1
            return n

        return consume

    @tf.function
    def count(iterator):
        n = tf.constant(0, tf.int64)
        for element in iterator:
            if batched:
                n += tf.shape(tf.nest.flatten(element)[0], out_type=tf.int64)[0]
            else:
                n += 1
        return n

    return lambda iterator: int(count(iterator))


def epoch_unit(tf, key: str, dataset, *, batched: bool, consumer: str, examples: int, row: dict | None = None,
               baseline: str | None = None) -> Unit:
    """A unit whose repetition is one epoch of `dataset` (first batch untimed)."""
    if not batched and consumer == "graph":
        # A ladder stage before batching yields single examples, and every IteratorGetNext (or reduce function
        # call) costs tens of microseconds on a busy 2-core machine: far more than the stage itself. So the
        # epoch is drained inside tf.data by `skip(examples - 1)` - which still produces every skipped element
        # (map functions run, slices are cut) - and exactly one element must be left.
        tail = dataset.skip(examples - 1)

        def run_drain(clock) -> int:
            with clock.timed():
                left = sum(1 for _ in tail)
            if left != 1:
                got = "fewer" if left == 0 else f"{examples - 1 + left}"
                raise AssertionError(f"{key}: an epoch yielded {got} examples, expected {examples}")
            return examples

        return Unit(key=key, run=run_drain, row=row, baseline=baseline)
    consume = make_consumer(tf, consumer, batched)

    def run(clock) -> int:
        t0 = time.perf_counter()
        iterator = iter(dataset)
        first = next(iterator)
        clock.add("first_batch_s", time.perf_counter() - t0)
        n_first = int(_first_component(first).shape[0]) if batched else 1
        with clock.timed():
            rest = consume(iterator)
        if n_first + rest != examples:
            raise AssertionError(f"{key}: an epoch yielded {n_first + rest} examples, expected {examples}")
        return rest

    return Unit(key=key, run=run, row=row, baseline=baseline)


@dataclass
class Pipeline:
    """One tf.data row: its variant's stages, consumer and batch size (a row of the report, the guide's or a tuning)."""

    variant: str
    stages: list[Stage]
    consumer: str = "graph"
    batch: int | None = None
    copies_every_byte: bool = True
    is_guide: bool = False
    what: str = ""
    extra: dict = field(default_factory=dict)
    ladder_stages: list[Stage] | None = None  # when the recipe fuses stages into one function: the same pipeline
                                              # written stage by stage, for the ladder only


def build_units(tf, *, source: str, recipe: str, pipelines: list[Pipeline], examples: int,
                bytes_per_example: dict | float, data: str, ladder_batches: set | None = None,
                one_guide: bool = False) -> list[Unit]:
    """Units for the rows of one source and the stages of their ladders (shared prefixes measured once).

    Rows at a batch size in `ladder_batches` (default: all) get the full ladder, one stage at a time; the
    others get a short one - the source, then the rest of the pipeline as one step - which keeps the number
    of pipelines measured side by side (and so the time a round takes) in bounds.
    `bytes_per_example` is a number, or {batch: number} where padding makes it depend on the batch size.
    The guide's row at the same batch size and consumer is each row's baseline ("x guide"); with `one_guide`
    (recipes whose guide fixes the batch size, e.g. `.batch(4)`) the single guide row is every row's."""
    units: dict[str, Unit] = {}
    by_pipeline: dict[tuple, str] = {}

    def pipeline_key(stages, consumer):
        return (" ".join(s.name for s in stages), consumer)

    def unit_for(stages, consumer, key=None, row=None):
        pk = pipeline_key(stages, consumer)
        if pk in by_pipeline:
            if row is not None:
                raise ValueError(f"{key}: the same pipeline and consumer as {by_pipeline[pk]}")
            return by_pipeline[pk]
        ds, batched = None, False
        for stage in stages:
            ds = stage.apply(ds)
            if stage.batched is not None:
                batched = stage.batched
        key = key or f"{source}/stage[{pk[0]}]"
        units[key] = epoch_unit(tf, key, ds, batched=batched, consumer=consumer, examples=examples, row=row)
        by_pipeline[pk] = key
        return key

    guides = {(s.batch, s.consumer): f"{source}/{s.variant}/b{s.batch}/{s.consumer}" for s in pipelines if s.is_guide}
    if one_guide:
        if len(guides) != 1:
            raise ValueError(f"{source}: one_guide needs exactly one guide row, not {len(guides)}")
        only = next(iter(guides.values()))
    names = []
    for pipeline in pipelines:  # rows first, so that a ladder stage equal to a row is that row
        name = f"{source}/{pipeline.variant}/b{pipeline.batch}/{pipeline.consumer}"
        bpe = bytes_per_example[pipeline.batch] if isinstance(bytes_per_example, dict) else bytes_per_example
        row = {"name": name, "recipe": recipe, "section": "data", "source": source, "variant": pipeline.variant,
               "batch_size": pipeline.batch, "consumer": pipeline.consumer, "examples_per_epoch": examples,
               "bytes_per_example": bpe, "pipeline": " ".join(s.name for s in pipeline.stages),
               "what": pipeline.what, "copies_every_byte": pipeline.copies_every_byte, "is_guide": pipeline.is_guide,
               "data": data, "unit": "examples", **pipeline.extra}
        unit_for(pipeline.stages, pipeline.consumer, key=name, row=row)
        units[name].baseline = (None if pipeline.is_guide else only if one_guide
                                else guides.get((pipeline.batch, pipeline.consumer)))
        names.append(name)
    for pipeline, name in zip(pipelines, names):
        keys = []
        stages = pipeline.ladder_stages or pipeline.stages
        full = ladder_batches is None or pipeline.batch in ladder_batches
        cuts = range(1, len(stages) + 1) if full else sorted({1, len(stages)})
        for i in cuts:
            prefix = stages[:i]
            if i == 1:
                label = "source: " + prefix[0].name
            elif full:
                label = "+ " + prefix[-1].name
            else:
                label = "+ " + " ".join(s.name for s in stages[1:])
            last_is_row = i == len(stages) and pipeline.consumer == "graph"
            keys.append((label, name if last_is_row else unit_for(prefix, "graph")))
        if pipeline.consumer != "graph":
            keys.append((f"+ {pipeline.consumer} loop", name))
        units[name].row["ladder_keys"] = keys
        units[name].row["ladder_kind"] = "every stage" if full else "source, then the rest as one step"
    return list(units.values())


def file_rows(batches, *, guide: Stage, parallel: Stage, parallel_what: str) -> list[Pipeline]:
    """The rows of a file recipe at each batch size: the guide's `dataset(files).batch(n)`, the performance
    guide's parallel reading batched and prefetched, and the same cached after batching (no copy)."""
    prefetch = Stage(".prefetch(AUTOTUNE)", lambda ds: ds.prefetch(AUTOTUNE))
    out = []
    for n in batches:
        batch = Stage(f".batch({n})", lambda ds, n=n: ds.batch(n), batched=True)
        out += [
            Pipeline("guide", [guide, batch], batch=n, is_guide=True, what="dataset(files).batch(n)"),
            Pipeline("parallel", [parallel, batch, prefetch], batch=n,
                    what=f"{parallel_what}.batch(n).prefetch(AUTOTUNE)"),
            Pipeline("cache", [parallel, batch, Stage(".cache()", lambda ds: ds.cache()), prefetch], batch=n,
                    copies_every_byte=False, what="parallel + .cache() after batching: epochs serve cached batches"),
        ]
    return out

