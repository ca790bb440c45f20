"""keras.functional (guide §1.5): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="keras.functional",
                      not_measured=("the functional API builds a graph of layers and runs no loop of its own; the "
                                    "training rows run Keras models built the same way"))
