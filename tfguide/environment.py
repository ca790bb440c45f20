"""The environment fingerprint shown in the pytest header and stored in every report.

A report is only useful beside the facts that explain it: which TensorFlow and which Keras actually ran
(tf.keras may be Keras 3 or tf_keras), on what CPU and memory, with which GPUs and CUDA build, and whether
each device really computed a matmul correctly.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def tensorflow_distribution() -> str | None:
    """Which distribution provides `tensorflow` (tensorflow, tensorflow-cpu, tf-nightly, ...)."""
    for name in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly", "tf-nightly-cpu",
                 "tensorflow-intel", "tensorflow-macos", "tensorflow-rocm", "intel-tensorflow"):
        if _dist_version(name):
            return name
    return None


def keras_flavour(tf) -> dict:
    """The Keras that `tf.keras` resolves to: Keras 3, or Keras 2 (tf_keras, or the keras 2.x of TF <= 2.15).

    Neither tf_keras nor TF 2.15's tf.keras module carries __version__, so ask the package behind it."""
    import importlib

    module = tf.keras.__name__
    package = importlib.import_module(module.split(".")[0])
    version = getattr(tf.keras, "__version__", None) or package.__version__
    if module.startswith("tf_keras"):
        name = "tf_keras (Keras 2)"
    elif int(version.split(".")[0]) >= 3:
        name = "Keras 3"
    else:
        name = "Keras 2"
    return {"name": name, "version": version, "module": module,
            "legacy_env": os.environ.get("TF_USE_LEGACY_KERAS", "")}


def versions() -> dict[str, str]:
    """The versions the catalogue's `when` clauses are matched against (imports TensorFlow)."""
    import tensorflow as tf

    return {"tf": tf.__version__, "keras": keras_flavour(tf)["version"]}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _matmul_check(tf, device_name: str) -> str:
    """Run a real 64x64 matmul on the device and compare it with NumPy: 'ok', 'WRONG ...' or the error."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 64)).astype(np.float32)
    b = rng.standard_normal((64, 64)).astype(np.float32)
    try:
        with tf.device(device_name):
            got = tf.matmul(tf.constant(a), tf.constant(b))
            placed = got.device
            got = got.numpy()
    except Exception as exc:  # a device that cannot run a matmul is exactly what this reports
        return f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    want = a.astype(np.float64) @ b.astype(np.float64)
    err = float(np.max(np.abs(got - want)))
    # TF32 on Ampere+ GPUs rounds inputs to 10 mantissa bits: allow for that, not for wrong results.
    ok = err <= 5e-2
    return ("ok" if ok else "WRONG") + f" (max abs error {err:.1e}, ran on {placed or device_name})"


def fingerprint(run_matmul: bool = True) -> dict:
    """Everything the header and the reports show about this environment."""
    import numpy as np
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    gpus = []
    for dev in tf.config.list_physical_devices("GPU"):
        details = {}
        try:
            details = tf.config.experimental.get_device_details(dev)
        except Exception:
            pass
        cc = details.get("compute_capability")
        gpus.append({"device": dev.name, "name": details.get("device_name", "unknown"),
                     "compute_capability": ".".join(map(str, cc)) if cc else None})
    env = {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "tensorflow_distribution": tensorflow_distribution(),
        "keras": keras_flavour(tf),
        "numpy": np.__version__,
        "cpu": {"model": _cpu_model(), "cores": os.cpu_count(), "usable_cores": _usable_cores()},
        "memory_gib": _memory_gib(),
        "gpus": gpus,
        "cuda_build": {
            "is_cuda_build": bool(build.get("is_cuda_build")),
            "cuda_version": build.get("cuda_version"),
            "cudnn_version": build.get("cudnn_version"),
            "is_rocm_build": bool(build.get("is_rocm_build")),
        },
        "argv": " ".join(sys.argv[1:]),
    }
    if run_matmul:
        env["matmul_check"] = {d.name: _matmul_check(tf, d.name)
                               for d in tf.config.list_logical_devices()
                               if d.device_type in ("CPU", "GPU")}
    return env


# The declared support range: what the nox matrix verifies (noxfile.py; every cell is in
# reports/published/compatibility.md). TF 2.12-2.15 bring their own Keras 2 (keras 2.N with TF 2.N); from
# TF 2.16 tf.keras is Keras 3 (3.0-3.15 verified), or tf_keras 2.N with TF_USE_LEGACY_KERAS=1.
SUPPORTED_TF = ("2.12", "2.21")
SUPPORTED_KERAS3 = ("3.0", "3.15")
VERIFIED_PYTHON = "3.11"
SUPPORT_STATEMENT = (f"TensorFlow {SUPPORTED_TF[0]}-{SUPPORTED_TF[1]} with the Keras 2 it brings (up to 2.15), "
                     f"Keras {SUPPORTED_KERAS3[0]}-{SUPPORTED_KERAS3[1]} or tf_keras (from 2.16), "
                     f"verified on Python {VERIFIED_PYTHON}")


def _minor(version: str) -> tuple[int, int]:
    from packaging.version import Version

    release = Version(version).release
    return release[0], (release[1] if len(release) > 1 else 0)


def verified_range(env: dict) -> dict:
    """Whether this environment lies in the declared support range, and why not when it does not."""
    lo, hi = (_minor(v) for v in SUPPORTED_TF)
    why = []
    try:
        tf = _minor(env["tensorflow"])
        keras = env.get("keras") or {}
        kv = _minor(keras.get("version", "0"))
        if not lo <= tf <= hi:
            why.append(f"TensorFlow {env['tensorflow']} is outside {SUPPORTED_TF[0]}-{SUPPORTED_TF[1]}")
        elif keras.get("module", "").startswith("tf_keras"):
            if kv != tf:
                why.append(f"tf_keras {keras['version']} does not match TensorFlow {env['tensorflow']}")
        elif kv[0] >= 3:
            k_lo, k_hi = (_minor(v) for v in SUPPORTED_KERAS3)
            if tf < (2, 16):
                why.append(f"Keras {keras['version']} under TensorFlow {env['tensorflow']} (before 2.16 tf.keras is Keras 2)")
            elif not k_lo <= kv <= k_hi:
                why.append(f"Keras {keras['version']} is outside {SUPPORTED_KERAS3[0]}-{SUPPORTED_KERAS3[1]}")
        elif kv != tf:
            why.append(f"Keras {keras.get('version')} is not the Keras 2 of TensorFlow {env['tensorflow']}")
    except Exception as exc:  # an unparseable version is itself outside what was verified
        why.append(f"unrecognised versions ({type(exc).__name__}: {exc})")
    python = env.get("python", "")
    note = "" if python.startswith(VERIFIED_PYTHON + ".") else f" (this is Python {python})"
    return {"inside": not why, "why": why, "statement": SUPPORT_STATEMENT + note}


def range_line(env: dict) -> str:
    verdict = verified_range(env)
    if verdict["inside"]:
        return f"Verified range: {verdict['statement']}; this environment is inside it."
    return (f"OUTSIDE the verified range ({'; '.join(verdict['why'])}): the suite still runs, but its "
            f"expectations were not checked on this version. Verified range: {verdict['statement']}.")


_STASH_KEY = None  # a pytest.StashKey, made on first use: the matrix merge reads this module without pytest


def for_config(config) -> dict:
    """The fingerprint, computed once per pytest process (it imports TensorFlow and runs a matmul)."""
    global _STASH_KEY
    if _STASH_KEY is None:
        import pytest

        _STASH_KEY = pytest.StashKey[dict]()
    env = config.stash.get(_STASH_KEY, None)
    if env is None:
        env = config.stash[_STASH_KEY] = fingerprint()
    return env


def header_lines(env: dict) -> list[str]:
    """The fingerprint as the few lines the pytest header prints."""
    k = env["keras"]
    cuda = env["cuda_build"]
    gpus = ", ".join(f"{g['name']} (cc {g['compute_capability']})" for g in env["gpus"]) or "none"
    lines = [
        f"TensorFlow {env['tensorflow']} ({env['tensorflow_distribution']}), tf.keras = {k['name']} "
        f"{k['version']} [{k['module']}], numpy {env['numpy']}, Python {env['python']}",
        f"CPU: {env['cpu']['model']}, {env['cpu']['usable_cores']} of {env['cpu']['cores']} cores usable, "
        f"{env['memory_gib']} GiB memory",
        f"GPUs: {gpus}; built with CUDA {cuda['cuda_version'] or '-'}, cuDNN {cuda['cudnn_version'] or '-'}"
        + (" (not a CUDA build)" if not cuda["is_cuda_build"] else ""),
    ]
    for device, result in env.get("matmul_check", {}).items():
        lines.append(f"matmul on {device}: {result}")
    lines.append(range_line(env))
    return lines
