"""keras.callbacks (guide §1.7): its benchmark declaration. No row times this recipe; the declaration says why."""

from benchmarks.declaration import Benchmark

BENCHMARK = Benchmark(recipe="keras.callbacks",
                      not_measured=("callbacks run between epochs and batches; what they do is what the specs check "
                                    "(EarlyStopping, TensorBoard, ModelCheckpoint, LearningRateScheduler)"))
