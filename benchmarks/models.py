"""The arithmetic of the benchmarked models, read from the recipes' own models (reference/*.py).

Used for the FLOPs of a training or inference example (model FLOP utilisation) and for the matmul peak's
sweep, which must include every matmul these models run at every batch size they run at
(benchmarks/limits.py, from what each recipe's benchmark declares).
"""

from __future__ import annotations

from benchmarks.limits import dense_matmuls, matmul_flops


def dense_kernels(model) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of every Dense layer, in order."""
    out = []
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) == 2:
            out.append((int(kernel.shape[0]), int(kernel.shape[1])))
    return out


def training_flops_per_example(kernels: list[tuple[int, int]]) -> float:
    """Matmul FLOPs of one training example: forward, weight gradients, and input gradients of every layer but
    the first (its input needs none). Elementwise work (activations, softmax, Adam) is not matmul work."""
    return matmul_flops(dense_matmuls(kernels, 1, training=True))


def inference_flops_per_example(kernels: list[tuple[int, int]]) -> float:
    return matmul_flops(dense_matmuls(kernels, 1, training=False))


def quickstart_kernels() -> list[tuple[int, int]]:
    from reference.keras_quickstart import build_model

    return dense_kernels(build_model())


def fit_kernels() -> list[tuple[int, int]]:
    from reference.keras_fit import small_model

    return dense_kernels(small_model())


def predict_kernels() -> list[tuple[int, int]]:
    from reference.keras_evaluate_predict import build_model

    return dense_kernels(build_model())


def quickstart_matmul_sets(batches) -> dict[str, list[tuple]]:
    quickstart = quickstart_kernels()
    return {f"quickstart training b{b}": dense_matmuls(quickstart, b, training=True) for b in sorted(set(batches))}


def fit_matmul_sets() -> dict[str, list[tuple]]:
    return {"keras.fit model training b32": dense_matmuls(fit_kernels(), 32, training=True)}


def predict_matmul_sets(batches) -> dict[str, list[tuple]]:
    predict = predict_kernels()
    return {f"evaluate_predict model inference b{b}": dense_matmuls(predict, b, training=False) for b in batches}


def matmul_sets(plan, declared) -> dict[str, list[tuple]]:
    """Every set of matmuls a benchmarked model runs per step, by model and batch size: what each recipe's
    benchmark declares (benchmarks/declaration.py)."""
    return {name: matmuls for b in declared if b.matmul_sets for name, matmuls in b.matmul_sets(plan).items()}


NUMPY_BYTES_PER_EXAMPLE = 28 * 28 * 4 + 1  # float32 image and a uint8 label


def copy_chunk_bytes(plan, declared) -> list[int]:
    """The copy sweep's destination sizes: the batch sizes in bytes each recipe's benchmark declares."""
    return sorted({size for b in declared if b.copy_bytes for size in b.copy_bytes(plan)})
