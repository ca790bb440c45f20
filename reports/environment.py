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

import pytest


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


_STASH_KEY = pytest.StashKey[dict]()


def for_config(config: pytest.Config) -> dict:
    """The fingerprint, computed once per pytest process (it imports TensorFlow and runs a matmul)."""
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
    return lines
