"""keras.layers (guide §1.1): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="keras.layers",
                      not_measured=("configuring layers (activations, regularizers, initializers) builds a model and "
                                    "runs no loop of its own: the Dense layers it configures are trained in the "
                                    "keras.quickstart rows"))
