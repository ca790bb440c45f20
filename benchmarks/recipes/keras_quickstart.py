"""keras.quickstart: training throughput of the guide's quickstart model (guide §1), and what each tuning gives.

Every row trains `reference.keras_quickstart.build_model()` (compiled as the guide does) with the recipe's
`fit` step (`reference.keras_quickstart.fit`). The guide's configuration is the baseline: NumPy float64
images scaled by `reference.keras_quickstart.scale_pixels`, batch 32, Keras' defaults. Tuned configurations
at batch 32 keep the same arithmetic (model, optimizer, batch, a new shuffle every epoch), so their accuracy
after the same epoch is the guide's within noise: `steps_per_execution` (many steps per Python call), XLA
(`jit_compile=True`), and the tf.data input of the data.numpy row `shuffled_gather`. Larger batches change
the arithmetic: their accuracy after one epoch is reported beside their FLOP utilisation.

One row is not `fit`: `xla-loop` trains the same model with the same optimizer and loss by a custom loop
with many steps inside one XLA-compiled function, to show how much of a step is arithmetic and how much
the machinery around it.

Time to quality (benchmarks/quality.py), measured once: seconds from a fresh model to the guide's quality
(0.80 held-out accuracy on the synthetic stand-in, 0.85 on the real Fashion-MNIST) for the guide's
configuration and the tuned ones, the larger batch sizes included: they step faster but learn less per example.
The tuned `fit` configurations execute as many steps at a time as there are between two checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import models, quality, training
from benchmarks.datasets import fashion_mnist
from benchmarks.declaration import Benchmark, Ladder, Target, fmt_ci, num, pct, sized, slot
from benchmarks.rounds import Group, measure_group

SLOT = "training"  # when it runs (benchmarks/conftest.py)
RECIPE = "keras.quickstart"
MODEL = "quickstart"
# name: (steps_per_execution (None: the plan's), jit_compile (None: the recipe's compile), input)
CONFIGS = {
    "guide": (1, None, "numpy float64"),
    "spe": (None, None, "numpy float64"),
    "spe+tfdata": (None, False, "tf.data"),
    "spe+xla": (None, True, "numpy float64"),
    "spe+xla+tfdata": (None, True, "tf.data"),
    "xla-loop": (None, True, "xla loop"),
}
BATCH32 = {"full": list(CONFIGS), "quick": ["guide", "spe+xla", "xla-loop"]}
LARGE = {"full": ["spe+tfdata", "spe+xla+tfdata", "xla-loop"], "quick": ["spe+xla+tfdata", "xla-loop"]}
SIZES = {"full": {"large_batches": (1024, 8192)}, "quick": {"large_batches": (1024,)}}
QUALITY_GROUP = "keras.quickstart/quality"
QUALITY_TRAIN_EXAMPLES = 60_000
# time to quality: the configurations, the trials each (at least, at most), a trial's limit in epochs
QUALITY = {"full": {"configs": [("guide", 32), ("spe+xla+tfdata", 32), ("xla-loop", 32), ("spe+xla+tfdata", 256),
                                ("xla-loop", 256)], "trials": (3, 12), "epochs": 5},
           "quick": {"configs": [("guide", 32), ("spe+xla+tfdata", 32)], "trials": (2, 4), "epochs": 2}}


def _quickstart_rows(report: dict) -> list[dict]:
    """The quickstart model's training rows on one device whose model reached the guide's quality: a training
    figure counts only then (benchmarks/quality.py)."""
    return [r for r in report["training"] if r.get("model") == MODEL and r.get("replicas") == 1
            and not r.get("distributed") and r.get("reached_quality")]


def _no_row(target: str, report: dict) -> dict:
    rows = [r for r in report["training"] if r.get("model") == MODEL and not r.get("distributed")]
    target_accuracy = next((r["quality_target"] for r in rows if r.get("quality_target")), None)
    return {"target": target, "value": None, "value_ci95": [None, None], "row": None,
            "evidence": f"no training row of the quickstart model reached the guide's quality ({target_accuracy} "
                        "held-out accuracy after its warm-up epoch), so no figure counts"}


def _peak(limits: dict) -> float:
    return limits["matmul_peak_flop_per_s"][limits["primary_device"]]["float32"]


def speedup_target(report: dict, threshold: float) -> dict | None:
    """Batch 32, the guide's arithmetic: the best tuning's throughput over the guide's."""
    target = f"batch 32, same arithmetic: >= {threshold:g}x the guide's training throughput"
    if not any(r.get("model") == MODEL for r in report["training"]):
        return None
    quick = _quickstart_rows(report)
    guide = next((r for r in quick if r.get("is_guide")), None)
    same = [r for r in quick if r["global_batch"] == 32 and not r.get("is_guide") and r.get("speedup_vs_guide")]
    if not (guide and same):
        return _no_row(target, report)
    best = max(same, key=lambda r: r["speedup_vs_guide"])
    fits = [r for r in same if r.get("api") == "fit"]
    best_fit = max(fits, key=lambda r: r["speedup_vs_guide"]) if fits else None
    compute_ms = 32 * best["flops_per_example"] / _peak(report["limits"]) * 1e3
    ev = [f"guide {guide['examples_per_s']:,.0f} ex/s ({guide['ms_per_step_p50']:.3f} ms/step, input wait "
          f"{pct(guide.get('input_wait_share'))}, accuracy {num(guide.get('accuracy'), '{:.4f}')})",
          f"best: {best['name']} ({best.get('api')}) {best['speedup_vs_guide']:.2f}x "
          f"{fmt_ci(best.get('speedup_vs_guide_ci95'))}, {best['ms_per_step_p50']:.3f} ms/step, accuracy "
          f"{num(best.get('accuracy'), '{:.4f}')}"]
    if best_fit is not None and best_fit is not best:
        ev.append(f"best with fit: {best_fit['name']} {best_fit['speedup_vs_guide']:.2f}x "
                  f"{fmt_ci(best_fit.get('speedup_vs_guide_ci95'))}")
    ev.append(f"the step's matmuls need {compute_ms:.3f} ms at the measured peak: "
              f"{best['ms_per_step_p50'] - compute_ms:.3f} ms of the best step is overhead")
    return {"target": target, "value": best["speedup_vs_guide"], "value_ci95": best.get("speedup_vs_guide_ci95"),
            "row": best["name"], "evidence": "; ".join(ev)}


def mfu_target(report: dict, threshold: float) -> dict | None:
    """Any batch size: the best share of the measured matmul peak the quickstart model's training reaches."""
    target = f"any batch size: >= {threshold:g} % of the measured matmul peak"
    if not any(r.get("model") == MODEL for r in report["training"]):
        return None
    limits = report["limits"]
    with_flops = [r for r in _quickstart_rows(report) if r.get("pct_of_limit") is not None]
    if not with_flops:
        return _no_row(target, report)
    best = max(with_flops, key=lambda r: r["pct_of_limit"])
    below = sorted({r["global_batch"] for r in report["training"] if r.get("model") == MODEL
                    and r.get("reached_quality") is False and not r.get("distributed")})
    ceilings = sorted({(r["global_batch"], r["model_matmuls_pct_of_peak"]) for r in with_flops
                       if r.get("model_matmuls_pct_of_peak")})
    best_set = limits["details"]["matmul_peak"][limits["primary_device"]]["float32"].get("best_set", "?")
    ev = [f"best {best['pct_of_limit']:.1f} % {fmt_ci(best.get('pct_of_limit_ci95'), '{:.1f}')} of the measured "
          f"peak {_peak(limits) / 1e9:.1f} GFLOP/s (set '{best_set}') in {best['name']} "
          f"(accuracy {num(best.get('accuracy'), '{:.4f}')} after {best.get('accuracy_after', '-')}); "
          f"input wait {pct(best.get('input_wait_share'))}"]
    if below:
        ev.append("rows at batch " + ", ".join(map(str, below)) + " do not count: their model stayed below the "
                  "guide's quality after its epoch")
    if limits.get("theoretical_flop_per_s"):
        ev.append(f"{100 * best['achieved_flop_per_s'] / limits['theoretical_flop_per_s']:.1f} % of the theoretical "
                  f"{limits['theoretical_flop_per_s'] / 1e9:.1f} GFLOP/s the CPU declares")
    if ceilings:
        ev.append("the model's own matmuls alone reach " + ", ".join(f"{c:.0f} % at batch {b}" for b, c in ceilings)
                  + " of the peak")
    return {"target": target, "value": best["pct_of_limit"], "value_ci95": best.get("pct_of_limit_ci95"),
            "row": best["name"], "evidence": "; ".join(ev)}


BENCHMARK = Benchmark(
    recipe=RECIPE,
    budgets={"keras.quickstart/b32": 14, "keras.quickstart/large": 15, QUALITY_GROUP: 40},
    measured_once=(QUALITY_GROUP,),
    ladders=(
        Ladder("quickstart training at batch 32 (same arithmetic)", table="training", unit="ms/step",
               value="ms_per_step_p50",
               rungs=(("quickstart/guide/b32", "the guide's fit"), ("quickstart/spe/b32", "+ steps_per_execution"),
                      ("quickstart/spe+xla/b32", "+ XLA (jit_compile)"),
                      ("quickstart/spe+xla+tfdata/b32", "+ tf.data input"),
                      ("quickstart/xla-loop/b32", "custom loop: all steps of a call in one XLA function")),
               extra=(("input_wait_share", "input_wait_share"), ("pct_of_peak", "pct_of_limit"))),
        Ladder("quickstart training at batch {b}", table="training", unit="% of matmul peak", value="pct_of_limit",
               rungs=(("quickstart/spe+tfdata/b{b}", "fit, steps_per_execution, tf.data input"),
                      ("quickstart/spe+xla+tfdata/b{b}", "+ XLA"),
                      ("quickstart/xla-loop/b{b}", "custom loop in one XLA function (optimizer fused into the step)")),
               extra=(("input_wait_share", "input_wait_share"),
                      ("model_matmuls_pct_of_peak", "model_matmuls_pct_of_peak")),
               min_rungs=1, batch_above=32),
    ),
    targets=(Target("training_speedup_b32", 3.5, speedup_target), Target("training_mfu_pct", 60.0, mfu_target)),
    matmul_sets=lambda plan: models.quickstart_matmul_sets({32, *sized(SIZES, plan).large_batches}),
)
_BUILT: dict = {}


@pytest.fixture(scope="session")
def images(plan):
    return fashion_mnist(plan.train_examples, plan.test_examples)


def quickstart_fit(batch: int):
    from reference.keras_quickstart import fit

    def call(model, train, *, steps, callbacks):
        if isinstance(train, tuple):  # the guide's arrays: fit(train_images, train_labels, epochs=...)
            return fit(model, train, epochs=1, batch_size=batch, shuffle=True, callbacks=callbacks)
        return fit(model, (train,), epochs=1, steps_per_epoch=steps, callbacks=callbacks)

    return call


def build(tf, plan, images, config: str, batch: int, progress, first_pass: bool = True):
    """The configuration's trainer, built and warmed up once per process (the passes of a full run are processes)."""
    key = (config, batch)
    if key in _BUILT:
        return _BUILT[key]
    from reference.keras_quickstart import build_model, scale_pixels

    keras = tf.keras
    keras.utils.set_random_seed(training.SEED)
    spe, jit, input_kind = CONFIGS[config]
    # never more steps per execution than an epoch has (at batch 8192 an epoch is 7 steps)
    spe = min(plan.steps_per_execution if spe is None else spe, max(1, len(images.x_train) // batch))
    model = build_model()
    x_test, y_test = scale_pixels(images.x_test), images.y_test
    name = f"{MODEL}/{config}/b{batch}"
    if input_kind == "xla loop":
        trainer = training.XlaLoopConfig(tf, name=name, recipe=RECIPE, model=model, batch=batch, steps_per_call=spe,
                                         x=scale_pixels(images.x_train), y=images.y_train, x_test=x_test, y_test=y_test,
                                         data_kind=images.kind, round_examples=plan.train_round_examples, model_name=MODEL)
    else:
        overrides = {"steps_per_execution": spe} if spe != 1 else {}
        if jit is not None:
            overrides["jit_compile"] = jit
        if overrides:
            training.recompile(model, **overrides)
        if input_kind == "numpy float64":
            x = scale_pixels(images.x_train)
        else:  # the tuned input delivers float32 (the model computes in float32 either way)
            x = (images.x_train / np.float32(255.0)).astype(np.float32)
        y = images.y_train.astype(np.int32) if input_kind == "tf.data" else images.y_train
        trainer = training.FitConfig(tf, name=name, recipe=RECIPE, model=model, batch=batch, spe=spe,
                                     input_kind="tf.data" if input_kind == "tf.data" else input_kind, x=x, y=y,
                                     x_test=x_test, y_test=y_test, fit_call=quickstart_fit(batch),
                                     data_kind=images.kind, round_examples=plan.train_round_examples, config=config,
                                     model_name=MODEL)
    trainer.warm_up(full=first_pass)
    accuracy = (f"accuracy {trainer.warm['accuracy']:.4f} after {trainer.warm['accuracy_after']}; "
                if trainer.warm["accuracy"] is not None else "")
    progress(f"[bench] training {name}: warmed up ({trainer.warm['compile_and_first_step_s']:.1f} s to the second "
             f"execution, {accuracy}{trainer.steps} steps a round)")
    _BUILT[key] = trainer
    return trainer


def _measure(tf, plan, recorder, images, group_name: str, entries: list[tuple[str, int]]) -> None:
    trainers = [build(tf, plan, images, c, b, recorder.progress, first_pass=recorder.pass_index == 0)
                for c, b in entries]
    units = [u for t in trainers for u in t.units()]
    guide = f"{MODEL}/guide/b32"
    for u in units:
        if u.row is not None and u.key != guide and any(t.name == guide for t in trainers):
            u.baseline = guide
    measure_group(Group(group_name, "training", units, plan.budget(group_name)), recorder, plan,
                  prepare=lambda: [t.prepare() for t in trainers])


def test_quickstart_batch32(tf, plan, recorder, images, bench_pass):
    configs = BATCH32["quick" if plan.quick else "full"]
    _measure(tf, plan, recorder, images, "keras.quickstart/b32", [(c, 32) for c in configs])


def test_quickstart_large_batches(tf, plan, recorder, images, bench_pass):
    configs = LARGE["quick" if plan.quick else "full"]
    _measure(tf, plan, recorder, images, "keras.quickstart/large",
             [(c, b) for b in sized(SIZES, plan).large_batches for c in configs])


# -- time to quality --------------------------------------------------------------------------------------

def quality_trial(tf, images, config: str, batch: int, epochs: int):
    """One trial of a configuration: a fresh model, trained its way until the held-out accuracy reaches the
    target (benchmarks/quality.py); `trial(turn)` uses seed SEED + turn."""
    from reference.keras_quickstart import build_model, fit, scale_pixels

    keras = tf.keras
    target = quality.quality_target(images.kind)
    x64, y = scale_pixels(images.x_train), images.y_train
    x32, y32 = x64.astype(np.float32), y.astype(np.int32)
    x_test = scale_pixels(images.x_test).astype(np.float32)
    every = quality.check_steps(batch)
    limit = epochs * len(x64)
    spe, jit, input_kind = CONFIGS[config]

    def trial(turn: int) -> quality.Trial:
        keras.utils.set_random_seed(training.SEED + turn)
        model = build_model()
        watch = quality.Stopwatch(quality.accuracy_probe(tf, model, x_test, images.y_test), target, limit)
        if input_kind == "xla loop":
            loop = training.XlaLoopConfig(tf, name=config, recipe=RECIPE, model=model, batch=batch,
                                          steps_per_call=every, x=x32, y=y32, x_test=None, y_test=None, data_kind="",
                                          round_examples=0, model_name=MODEL)
            watch.start()
            steps = 0
            while watch.result is None:
                loop.train(every)
                steps += every
                watch.check(steps * batch)
            return watch.result
        if spe != 1 or jit is not None:
            training.recompile(model, steps_per_execution=every, **({"jit_compile": jit} if jit is not None else {}))
        callback = quality.keras_callback(keras, watch, batch, every)
        if input_kind == "tf.data":
            dataset = training.shuffled_gather_input(tf, x32, y32, batch, seed=training.SEED + turn)
            watch.start()
            fit(model, (dataset,), epochs=1, steps_per_epoch=-(-limit // batch), callbacks=[callback])
        else:  # the guide's: fit(train_images, train_labels, epochs=...) on the float64 arrays
            watch.start()
            fit(model, (x64, y), epochs=epochs, batch_size=batch, shuffle=True, callbacks=[callback])
        return watch.result or watch.finish(callback.steps * batch)

    return trial


@pytest.fixture(scope="session")
def quality_images(plan):
    """The whole training set in the quick run too: the guide's quality is defined on it."""
    return fashion_mnist(QUALITY_TRAIN_EXAMPLES, plan.test_examples)


@slot("once")
def test_quickstart_time_to_quality(tf, plan, recorder, quality_images):
    images = quality_images
    size = QUALITY["quick" if plan.quick else "full"]
    target = quality.quality_target(images.kind)
    if target is None:
        pytest.skip(f"no quality target for the data {images.kind!r}")
    trials = {f"{MODEL}/{c}/b{b}": quality_trial(tf, images, c, b, size["epochs"]) for c, b in size["configs"]}
    min_trials, max_trials = size["trials"]
    done = quality.run_trials(trials, recorder, QUALITY_GROUP, plan.budget(QUALITY_GROUP), min_trials=min_trials,
                              max_trials=max_trials)
    guide = done[f"{MODEL}/guide/b32"]
    for (config, batch), (name, results) in zip(size["configs"], done.items()):
        recorder.add_quality(quality.row(
            name, results, guide, recipe=RECIPE, model=MODEL, config=config, global_batch=batch,
            is_guide=config == "guide", data=images.kind, target_accuracy=target,
            check_every_examples=quality.check_steps(batch) * batch, limit_examples=size["epochs"] * len(images.x_train),
            api="custom loop" if CONFIGS[config][2] == "xla loop" else "fit"))
