"""Fashion-MNIST for the quickstart specs: real IDX files in a private Keras cache, never the network.

The pieces live in tfguide/fashion_mnist.py, which the benchmarks use too; this module gives the specs the names
they use, with `keras` the Keras under test (suite/support/helpers.py).
"""

from __future__ import annotations

from suite.support.helpers import keras  # noqa: F401 - the Keras whose loader the specs call
from tfguide.fashion_mnist import (CACHE_SUBDIR, FILES, find_real_dataset, idx_bytes, link_into,  # noqa: F401
                                   private_cache, real_dataset_candidates, sample_arrays, write_dataset)
