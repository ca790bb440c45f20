"""estimator.feature_columns (guide §3.2): its benchmark declaration. The premade Estimator rows read the iris
features through these columns.
"""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="estimator.feature_columns", measured_by="estimator.dnn_classifier")
