"""What this machine can do at best, measured in the same run as the rows that are set against it.

A limit that a row exceeds is a wrong limit, so each limit is the BEST over a sweep that includes the
way the rows themselves move bytes or multiply matrices, and it is re-measured before every section
(the report shows how much it moved); percentages use the best value of the whole run.

- copy bandwidth: bytes of a 256 MiB float64 array copied per second (each byte read once and written
  once), best over: one thread and one thread per core, and destinations of the whole array or of one
  batch (a small buffer reused, as a pipeline's batch buffers are: it stays in cache, so chunked copies
  are faster than a whole-array copy). The chunk sizes are the batch sizes (in bytes) of the tf.data rows.
- matmul peak (float32): FLOP/s = 2 m k n per product, best over square matrices (512-2048, chained in one
  `tf.function`) and over every matmul the benchmarked models run at every batch size they are trained
  or served at (forward, weight gradients and input gradients of each Dense layer), each set with and
  without XLA. bfloat16 too on GPUs.
- the theoretical float32 peak from what the CPU declares (benchmarks/machine.py), shown beside the
  measured one and never used as a denominator.
- file-system write and read bandwidth: measured with the save/load rows (benchmarks/recipes/keras_save_*.py).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from benchmarks import machine
from benchmarks.stats import summarise

COPY_MIB_FULL, COPY_MIB_QUICK = 256, 64


# -- copy bandwidth ----------------------------------------------------------------------------------

def _copy_once(src: np.ndarray, dst: np.ndarray, chunk_items: int | None, threads: int) -> float:
    """Copy all of src (into dst whole, or chunk by chunk into the same small dst) with `threads` threads;
    numpy releases the GIL inside copyto, so the threads copy at the same time."""
    n = len(src)
    edges = [n * i // threads for i in range(threads + 1)]
    bounds = [(lo, hi) for lo, hi in zip(edges, edges[1:]) if hi > lo]

    def work(i: int, lo: int, hi: int) -> None:
        if chunk_items is None:
            np.copyto(dst[lo:hi], src[lo:hi])
            return
        buf = dst[i]
        for start in range(lo, hi, chunk_items):
            stop = min(start + chunk_items, hi)
            np.copyto(buf[: stop - start], src[start:stop])

    t0 = time.perf_counter()
    if threads == 1:
        work(0, *bounds[0])
    else:
        ts = [threading.Thread(target=work, args=(i, lo, hi)) for i, (lo, hi) in enumerate(bounds)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return time.perf_counter() - t0


def copy_config(src: np.ndarray, chunk_bytes: int | None, threads: int, repeats: int) -> dict:
    itemsize = src.itemsize
    if chunk_bytes is None:
        dst = np.empty_like(src)
        chunk_items = None
    else:
        chunk_items = max(1, chunk_bytes // itemsize)
        dst = np.empty((threads, chunk_items), dtype=src.dtype)
    dst.fill(0)  # first touch of the destination's pages is not a copy
    _copy_once(src, dst, chunk_items, threads)
    times = [_copy_once(src, dst, chunk_items, threads) for _ in range(repeats)]
    stats = summarise(times)
    label = (f"{threads} thread(s), " + ("whole-array destination" if chunk_bytes is None else
                                         f"{chunk_bytes / 1024:,.0f} KiB chunks into a reused buffer"))
    return {"config": label, "threads": threads, "chunk_bytes": chunk_bytes, "bytes": src.nbytes,
            "best_bytes_per_s": src.nbytes / stats["min_s"], "median_bytes_per_s": src.nbytes / stats["median_s"],
            "cv": stats["cv"], "timing": stats}


def copy_bandwidth(mib: int, repeats: int, chunk_bytes: list[int], cores: int) -> dict:
    src = np.random.default_rng(0).random(mib * 2**20 // 8)
    sweep = []
    for threads in sorted({1, cores}):
        for chunk in [None, *sorted(set(chunk_bytes))]:
            sweep.append(copy_config(src, chunk, threads, repeats))
    best = max(sweep, key=lambda c: c["best_bytes_per_s"])
    return {"name": "copy_bandwidth", "best_bytes_per_s": best["best_bytes_per_s"],
            "median_bytes_per_s": best["median_bytes_per_s"], "best_config": best["config"], "cv": best["cv"],
            "method": (f"np.copyto of {mib} MiB float64, best of {repeats} per configuration, best over "
                       f"{len(sweep)} configurations (threads x destination size)"),
            "sweep": sweep, "_src_mib": mib, "_best": (best["chunk_bytes"], best["threads"])}


# -- matmul peak -------------------------------------------------------------------------------------

def dense_matmuls(kernels: list[tuple[int, int]], batch: int, training: bool = True) -> list[tuple]:
    """(m, k, n, transpose_a, transpose_b) of every matmul a stack of Dense layers runs for one batch:
    forward x[B,in].W[in,out]; in training also dW = x^T.dy and, except for the first layer, dx = dy.W^T."""
    out = []
    for i, (fan_in, fan_out) in enumerate(kernels):
        out.append((batch, fan_in, fan_out, False, False))
        if training:
            out.append((fan_in, batch, fan_out, True, False))
            if i > 0:
                out.append((batch, fan_out, fan_in, False, True))
    return out


def matmul_flops(products: list[tuple]) -> float:
    return float(sum(2.0 * m * k * n for m, k, n, *_ in products))


def _matmul_set(tf, device: str, dtype: str, products: list[tuple], jit: bool, repeats: int,
                target_flop: float) -> dict:
    """Time a set of products chained in one tf.function, enough rounds per call for ~target_flop."""
    tf_dtype = getattr(tf, dtype)
    rng = np.random.default_rng(0)
    per_round = matmul_flops(products)
    chain = max(1, int(round(target_flop / per_round)))
    with tf.device(device):
        operands = []
        for m, k, n, ta, tb in products:
            a_shape = (k, m) if ta else (m, k)
            b_shape = (n, k) if tb else (k, n)
            # 1/sqrt(k) keeps magnitudes stable, so no inf/denormal slows a round down
            operands.append((tf.constant(rng.standard_normal(a_shape) / np.sqrt(k), dtype=tf_dtype),
                             tf.constant(rng.standard_normal(b_shape) / np.sqrt(k), dtype=tf_dtype)))

        square_chain = len(products) == 1 and products[0][0] == products[0][1] == products[0][2]

        @tf.function(jit_compile=jit)
        def run(ops):
            acc = tf.constant(0.0, tf.float32)
            if square_chain:  # c = c.b: each product feeds the next, nothing else is computed
                (c, b), = ops
                for _ in tf.range(chain):
                    c = tf.matmul(c, b)
                return tf.cast(c[0, 0], tf.float32)
            for _ in tf.range(chain):
                for (a, b), (_, _, _, ta, tb) in zip(ops, products):
                    # A data dependence on the previous product keeps every round's products alive and
                    # apart (no hoisting out of the loop, no merging); it perturbs the SMALLER operand,
                    # so the extra elementwise pass is a small part of the product's time.
                    eps = tf.cast(acc * 1e-30, a.dtype)
                    if a.shape.num_elements() <= b.shape.num_elements():
                        a = a + eps
                    else:
                        b = b + eps
                    c = tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
                    acc += tf.cast(c[0, 0], tf.float32)
            return acc

        float(run(operands))  # trace (and compile) + warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            float(run(operands))
            times.append(time.perf_counter() - t0)
    flops = per_round * chain
    stats = summarise(times)
    return {"best_flop_per_s": flops / stats["min_s"], "median_flop_per_s": flops / stats["median_s"],
            "cv": stats["cv"], "chain": chain, "timing": stats}


def matmul_sweep(tf, device: str, dtype: str, sets: dict[str, list[tuple]], repeats: int, target_flop: float,
                 progress=print) -> dict:
    results = []
    for label, products in sets.items():
        for jit in (False, True):
            try:
                res = _matmul_set(tf, device, dtype, products, jit, repeats, target_flop)
            except Exception as exc:  # noqa: BLE001 - e.g. XLA unavailable for this device: say so, keep sweeping
                results.append({"set": label, "xla": jit, "error": f"{type(exc).__name__}: {exc}"[:200]})
                continue
            results.append({"set": label, "xla": jit, **res})
    ok = [r for r in results if "error" not in r]
    best = max(ok, key=lambda r: r["best_flop_per_s"])
    progress(f"[bench] limits matmul peak {device} {dtype}: {best['best_flop_per_s'] / 1e9:.1f} GFLOP/s "
             f"({best['set']}{', XLA' if best['xla'] else ''}; sweep of {len(results)})")
    return {"name": f"matmul_peak {device} {dtype}", "device": device, "dtype": dtype,
            "best_flop_per_s": best["best_flop_per_s"], "median_flop_per_s": best["median_flop_per_s"],
            "best_set": best["set"] + (" (XLA)" if best["xla"] else ""), "cv": best["cv"],
            "method": (f"best of {repeats} calls per set, best over {len(results)} sets (square matrices and the "
                       "benchmarked models' own matmuls, each with and without XLA)"),
            "sweep": results, "_best": (best["set"], best["xla"])}


def square_sets(quick: bool) -> dict[str, list[tuple]]:
    sizes = (1024,) if quick else (512, 1024, 2048)
    return {f"square {n}": [(n, n, n, False, False)] for n in sizes}


# -- all limits --------------------------------------------------------------------------------------

def measure(tf, plan, progress=print, *, chunk_bytes: list[int], model_sets: dict[str, list[tuple]]) -> dict:
    """Every limit, once at the start of the run: {'copy_bandwidth', 'matmul_peak', 'theoretical', ...}."""
    cores = machine.usable_cores()
    copy = copy_bandwidth(COPY_MIB_QUICK if plan.quick else COPY_MIB_FULL, 3 if plan.quick else 6, chunk_bytes, cores)
    progress(f"[bench] limits copy bandwidth: {copy['best_bytes_per_s'] / 1e9:.2f} GB/s ({copy['best_config']}; "
             f"sweep of {len(copy['sweep'])})")
    peaks: dict = {}
    target = 2e8 if plan.quick else 1e9
    sets = {**square_sets(plan.quick), **model_sets}
    for dev in tf.config.list_logical_devices():
        if dev.device_type not in ("CPU", "GPU"):
            continue
        for dtype in ["float32"] + (["bfloat16"] if dev.device_type == "GPU" else []):
            dev_sets = sets if dev.device_type == "CPU" else {**sets, "square 8192": [(8192, 8192, 8192, False, False)]}
            peaks.setdefault(dev.name, {})[dtype] = matmul_sweep(tf, dev.name, dtype, dev_sets, 3 if plan.quick else 5,
                                                                 target * (50 if dev.device_type == "GPU" else 1),
                                                                 progress)
    gpus = [d for d in peaks if "GPU" in d]
    theo = machine.theoretical_peak()
    if theo["flop_per_s"]:
        progress(f"[bench] limits theoretical float32 peak (CPU): {theo['flop_per_s'] / 1e9:.1f} GFLOP/s "
                 f"({theo['formula']})")
    limits = {"copy_bandwidth": copy, "matmul_peak": peaks, "primary_device": gpus[0] if gpus else next(iter(peaks)),
              "theoretical_cpu": theo, "_sets": sets, "_target_flop": target}
    limits["history"] = [_snapshot(limits, "start")]
    return limits


def _snapshot(limits: dict, when: str) -> dict:
    return {"when": when, "copy_bytes_per_s": limits["copy_bandwidth"]["best_bytes_per_s"],
            "matmul_flop_per_s": {dev: {dt: v["best_flop_per_s"] for dt, v in by.items()}
                                  for dev, by in limits["matmul_peak"].items()}}


def remeasure(tf, limits: dict, when: str, quick: bool, progress=print) -> dict:
    """Before a section: the best copy configuration and the best matmul set again. The run's limit is
    the best value seen; the history keeps each measurement, so drift between sections is visible."""
    copy = limits["copy_bandwidth"]
    chunk, threads = copy["_best"]
    src = np.random.default_rng(1).random(copy["_src_mib"] * 2**20 // 8)
    again = copy_config(src, chunk, threads, 3 if quick else 5)
    del src
    entry = {"when": when, "copy_bytes_per_s": again["best_bytes_per_s"], "matmul_flop_per_s": {}}
    copy["best_bytes_per_s"] = max(copy["best_bytes_per_s"], again["best_bytes_per_s"])
    for dev, by in limits["matmul_peak"].items():
        for dtype, peak in by.items():
            label, jit = peak["_best"]
            res = _matmul_set(tf, dev, dtype, limits["_sets"][label], jit, 3,
                              limits["_target_flop"] * (50 if "GPU" in dev else 1))
            entry["matmul_flop_per_s"].setdefault(dev, {})[dtype] = res["best_flop_per_s"]
            peak["best_flop_per_s"] = max(peak["best_flop_per_s"], res["best_flop_per_s"])
    limits["history"].append(entry)
    mm = entry["matmul_flop_per_s"].get(limits["primary_device"], {}).get("float32")
    progress(f"[bench] limits before {when}: copy {entry['copy_bytes_per_s'] / 1e9:.2f} GB/s, matmul "
             f"{(mm or 0) / 1e9:.1f} GFLOP/s (run's best: {copy['best_bytes_per_s'] / 1e9:.2f} GB/s, "
             f"{peak_flops(limits) / 1e9:.1f} GFLOP/s)")
    return entry


def peak_flops(limits: dict, device: str | None = None, dtype: str = "float32") -> float:
    device = device or limits["primary_device"]
    return limits["matmul_peak"][device][dtype]["best_flop_per_s"]


def copy_bytes_per_s(limits: dict) -> float:
    return limits["copy_bandwidth"]["best_bytes_per_s"]


def public(limits: dict) -> dict:
    """The limits without the private keys (sets of shapes, best configuration tuples)."""
    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if not str(k).startswith("_")}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return strip(limits)
