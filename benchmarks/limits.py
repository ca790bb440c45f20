"""What this machine can do at best, measured in the same run as the benchmarks that are compared with it.

- copy bandwidth: a large `np.copyto`, best of several; bytes of the array per second (each byte is read
  once and written once, so the memory traffic is twice this);
- matmul peak: chained square matmuls inside one `tf.function` (no Python between them), best of several;
  FLOP/s = 2 n^3 per matmul. float32 on every device, bfloat16 too on GPUs.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.harness import summarise


def copy_bandwidth(megabytes: int, repeats: int) -> dict:
    src = np.random.default_rng(0).random(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # first touch of dst's pages is not a copy
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    assert np.array_equal(dst[:1000], src[:1000])
    stats = summarise(times)
    return {"name": "copy_bandwidth", "method": f"np.copyto of {src.nbytes / 2**20:.0f} MiB float64, best of {repeats}",
            "bytes": src.nbytes, "best_bytes_per_s": src.nbytes / stats["min_s"],
            "median_bytes_per_s": src.nbytes / stats["median_s"], "cv": stats["cv"], "timing": stats}


def matmul_peak(tf, device: str, dtype: str, n: int, chain: int, repeats: int) -> dict:
    tf_dtype = getattr(tf, dtype)
    rng = np.random.default_rng(0)
    with tf.device(device):
        a = tf.constant(rng.standard_normal((n, n)), dtype=tf_dtype)
        # 1/sqrt(n) keeps the chained product's magnitude stable, so no inf/denormal slows a round down
        b = tf.constant(rng.standard_normal((n, n)) / np.sqrt(n), dtype=tf_dtype)

        @tf.function
        def chained(a, b):
            c = a
            for _ in range(chain):
                c = tf.matmul(c, b)
            return tf.reduce_sum(tf.cast(c[:1, :1], tf.float32))

        float(chained(a, b))  # trace + warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            float(chained(a, b))
            times.append(time.perf_counter() - t0)
    flops = 2.0 * n**3 * chain
    stats = summarise(times)
    return {"name": f"matmul_peak {device} {dtype}", "device": device, "dtype": dtype,
            "method": f"{chain} chained {n}x{n} matmuls in one tf.function, best of {repeats}",
            "best_flop_per_s": flops / stats["min_s"], "median_flop_per_s": flops / stats["median_s"],
            "cv": stats["cv"], "timing": stats}


def measure(tf, quick: bool, progress=print) -> dict:
    """All limits: {'copy_bandwidth': {...}, 'matmul_peak': {device: {dtype: {...}}}, 'primary_device': ...}."""
    limits = {"copy_bandwidth": copy_bandwidth(128 if quick else 512, 5 if quick else 10)}
    progress(f"[bench] limits copy bandwidth: {limits['copy_bandwidth']['best_bytes_per_s'] / 1e9:.2f} GB/s "
             f"(best; median {limits['copy_bandwidth']['median_bytes_per_s'] / 1e9:.2f} GB/s)")
    peaks: dict = {}
    for dev in tf.config.list_logical_devices():
        if dev.device_type not in ("CPU", "GPU"):
            continue
        dtypes = ["float32"] + (["bfloat16"] if dev.device_type == "GPU" else [])
        for dtype in dtypes:
            n = 2048 if dev.device_type == "CPU" else 8192  # smaller matrices underestimate the peak
            res = matmul_peak(tf, dev.name, dtype, n, chain=2 if quick else 4, repeats=5 if quick else 8)
            peaks.setdefault(dev.name, {})[dtype] = res
            progress(f"[bench] limits matmul peak {dev.name} {dtype}: {res['best_flop_per_s'] / 1e9:.1f} GFLOP/s "
                     f"(best; median {res['median_flop_per_s'] / 1e9:.1f})")
    limits["matmul_peak"] = peaks
    gpus = [d for d in peaks if "GPU" in d]
    limits["primary_device"] = gpus[0] if gpus else next(iter(peaks))
    return limits


def peak_flops(limits: dict, device: str | None = None, dtype: str = "float32") -> float:
    device = device or limits["primary_device"]
    return limits["matmul_peak"][device][dtype]["best_flop_per_s"]


def copy_bytes_per_s(limits: dict) -> float:
    return limits["copy_bandwidth"]["best_bytes_per_s"]
