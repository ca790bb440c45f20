"""estimator.dnn_linear_combined (guide §3.3): its benchmark declaration. The premade Estimators are one group,
measured side by side in estimator_dnn_classifier.py.
"""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="estimator.dnn_linear_combined", measured_by="estimator.dnn_classifier")
