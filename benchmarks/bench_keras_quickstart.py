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
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import models, training
from benchmarks.datasets import fashion_mnist
from benchmarks.declaration import Benchmark, Ladder, Target, fmt_ci, num, pct, sized
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


def _quickstart_rows(report: dict) -> list[dict]:
    return [r for r in report["training"] if r.get("model") == MODEL and r.get("replicas") == 1
            and not r.get("distributed")]


def _peak(limits: dict) -> float:
    return limits["matmul_peak_flop_per_s"][limits["primary_device"]]["float32"]


def speedup_target(report: dict, threshold: float) -> dict | None:
    """Batch 32, the guide's arithmetic: the best tuning's throughput over the guide's."""
    quick = _quickstart_rows(report)
    guide = next((r for r in quick if r.get("is_guide")), None)
    same = [r for r in quick if r["global_batch"] == 32 and not r.get("is_guide")]
    if not (guide and same):
        return None
    best = max(same, key=lambda r: r["speedup_vs_guide"] or 0)
    fits = [r for r in same if r.get("api") == "fit"]
    best_fit = max(fits, key=lambda r: r["speedup_vs_guide"] or 0) if fits else None
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
    return {"target": f"batch 32, same arithmetic: >= {threshold:g}x the guide's training throughput",
            "met": best["speedup_vs_guide"] >= threshold, "value": best["speedup_vs_guide"],
            "value_ci95": best.get("speedup_vs_guide_ci95"), "row": best["name"], "evidence": "; ".join(ev)}


def mfu_target(report: dict, threshold: float) -> dict | None:
    """Any batch size: the best share of the measured matmul peak the quickstart model's training reaches."""
    limits = report["limits"]
    with_flops = [r for r in _quickstart_rows(report) if r.get("pct_of_limit") is not None]
    if not with_flops:
        return None
    best = max(with_flops, key=lambda r: r["pct_of_limit"])
    ceilings = sorted({(r["global_batch"], r["model_matmuls_pct_of_peak"]) for r in with_flops
                       if r.get("model_matmuls_pct_of_peak")})
    best_set = limits["details"]["matmul_peak"][limits["primary_device"]]["float32"].get("best_set", "?")
    ev = [f"best {best['pct_of_limit']:.1f} % {fmt_ci(best.get('pct_of_limit_ci95'), '{:.1f}')} of the measured "
          f"peak {_peak(limits) / 1e9:.1f} GFLOP/s (best over the sweep, set '{best_set}') in {best['name']} "
          f"(accuracy {num(best.get('accuracy'), '{:.4f}')} after {best.get('accuracy_after', '-')}); "
          f"input wait {pct(best.get('input_wait_share'))}"]
    if limits.get("theoretical_flop_per_s"):
        ev.append(f"{100 * best['achieved_flop_per_s'] / limits['theoretical_flop_per_s']:.1f} % of the theoretical "
                  f"{limits['theoretical_flop_per_s'] / 1e9:.1f} GFLOP/s the CPU declares")
    if ceilings:
        ev.append("the model's own matmuls alone reach " + ", ".join(f"{c:.0f} % at batch {b}" for b, c in ceilings)
                  + " of the peak")
    return {"target": f"any batch size: >= {threshold:g} % of the measured matmul peak (quickstart model)",
            "met": best["pct_of_limit"] >= threshold, "value": best["pct_of_limit"],
            "value_ci95": best.get("pct_of_limit_ci95"), "row": best["name"], "evidence": "; ".join(ev)}


BENCHMARK = Benchmark(
    recipe=RECIPE,
    budgets={"keras.quickstart/b32": 14, "keras.quickstart/large": 15},  # full-run seconds per pass
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
