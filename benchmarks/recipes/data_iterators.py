"""data.iterators (guide §2): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="data.iterators",
                      not_measured=("the TF 1 iterators run through tf.compat.v1 in a graph and a session; the "
                                    "tf.data rows iterate the TF 2 way (data.numpy has a Python-loop consumer)"))
