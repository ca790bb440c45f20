"""The benchmarks' real-data path: Fashion-MNIST IDX files in a temporary KERAS_HOME, read through the real
`keras.datasets.fashion_mnist.load_data()` (benchmarks/datasets.py), and the synthetic stand-in otherwise.

The files are written by the quickstart specs' own fixture (tfguide/fashion_mnist.py); nothing is
downloaded and the user's ~/.keras is never read or written.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from benchmarks import datasets  # noqa: E402
from suite.support import fashion_mnist_fixture as fixture  # noqa: E402


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """Four small IDX files in $KERAS_HOME/datasets/fashion-mnist, nothing else anywhere the loader looks."""
    home = tmp_path / "keras_home"
    arrays = fixture.sample_arrays(seed=5, n_train=40, n_test=12)
    fixture.write_dataset(home / fixture.CACHE_SUBDIR, arrays)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(datasets, "_LOADED", {})
    return home, arrays


def test_cached_fashion_mnist_is_read_through_keras_load_data(keras_home, monkeypatch):
    home, arrays = keras_home
    calls = []
    real = fixture.keras.datasets.fashion_mnist.load_data

    @functools.wraps(real)  # keeps __module__: the fixture finds get_file's module through it
    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(fixture.keras.datasets.fashion_mnist, "load_data", spy)
    images = datasets.fashion_mnist(30, 10)
    assert calls == [()]
    assert images.kind == "fashion-mnist" and str(home / fixture.CACHE_SUBDIR) in images.source
    np.testing.assert_array_equal(images.x_train, arrays["x_train"][:30])
    np.testing.assert_array_equal(images.y_train, arrays["y_train"][:30])
    np.testing.assert_array_equal(images.x_test, arrays["x_test"][:10])
    np.testing.assert_array_equal(images.y_test, arrays["y_test"][:10])
    assert images.x_train.dtype == np.uint8 and images.x_train.shape == (30, 28, 28)
    assert datasets.data_note().startswith(f"Images: Fashion-MNIST, read by keras.datasets.fashion_mnist.load_data() "
                                           f"from {home / fixture.CACHE_SUBDIR}")


def test_the_benchmarks_pipelines_take_the_cached_images(keras_home):
    """The data path of benchmarks/recipes/data_numpy.py and data_tfrecord.py: the cached images reach the pipelines."""
    import tensorflow as tf

    from benchmarks.recipes import data_numpy
    from benchmarks.harness import Plan

    _, arrays = keras_home
    plan = Plan.for_run(True)
    images = datasets.fashion_mnist(40, 1)
    x = (images.x_train / np.float32(255.0)).astype(np.float32)
    pipelines = data_numpy.pipelines(tf, x, images.y_train, plan)
    guide = next(p for p in pipelines if p.variant == "guide" and p.consumer == "graph")
    ds = None
    for stage in guide.stages:
        ds = stage.apply(ds)
    first_x, first_y = next(iter(ds))
    np.testing.assert_allclose(first_x.numpy(), arrays["x_train"][: len(first_x)] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(first_y.numpy(), arrays["y_train"][: len(first_y)])


def test_without_cached_files_the_synthetic_stand_in_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "find_real_fashion_mnist", lambda: None)
    images = datasets.fashion_mnist(50, 20)
    assert images.kind == "synthetic-seed1234"
    assert images.x_train.shape == (50, 28, 28) and images.x_train.dtype == np.uint8
    assert set(np.unique(images.y_train)) <= set(range(10))
    again = datasets.fashion_mnist(50, 20)
    np.testing.assert_array_equal(images.x_train, again.x_train)  # seeded
    assert "synthetic" in datasets.data_note()
