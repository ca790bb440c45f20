"""estimator.input_fn (guide §3.1): its benchmark declaration. The premade Estimator rows train and evaluate on
these input functions.
"""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="estimator.input_fn", measured_by="estimator.dnn_classifier")
