"""Microbenchmarks: the cost of one step of each tf.data operation the guide uses, timed by pytest-benchmark."""
