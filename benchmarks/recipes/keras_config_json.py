"""keras.config_json (guide §1.8): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="keras.config_json",
                      not_measured=("to_json and model_from_json serialise an architecture once; saving and loading "
                                    "weights and whole models are timed by keras.save_weights and keras.save_model"))
