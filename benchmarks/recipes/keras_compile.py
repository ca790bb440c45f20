"""keras.compile (guide §1.2): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="keras.compile",
                      not_measured=("compile() chooses the optimizer, loss and metrics once; the training rows "
                                    "(keras.quickstart, keras.fit) run what it compiles"))
