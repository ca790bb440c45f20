"""keras.custom_layer (guide §1.6): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="keras.custom_layer",
                      not_measured=("a custom layer's build, call and get_config are about correctness (its specs); "
                                    "nothing in the recipe runs long enough to time"))
