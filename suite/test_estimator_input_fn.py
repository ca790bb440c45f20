"""estimator.input_fn (guide §3.1): train_input_fn =
from_tensor_slices((dict(features), labels)).shuffle(1000).repeat().batch(n), on the guide's iris data,
and eval_input_fn (§3.5-3.6), which batches without shuffling or repeating."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from reference import DATA_DIR, iris
from reference.estimator_input_fn import eval_input_fn, train_input_fn
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("estimator.input_fn")

FEATURES = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth"]
# The header line of each shipped file: `count,features,class names`.
SPLITS = {"iris_training.csv": 120, "iris_test.csv": 30}
BATCH_OF_FLOATS = tf.TensorSpec(shape=(None,), dtype=tf.float32)
BATCH_OF_INT32 = tf.TensorSpec(shape=(None,), dtype=tf.int32)


def _csv_table(name: str) -> np.ndarray:
    """The file parsed independently of the reference loader: 4 feature columns, then the label."""
    return np.loadtxt(DATA_DIR / name, delimiter=",", skiprows=1, dtype=np.float64)


@pytest.fixture(scope="module")
def train():
    (train_x, train_y), _ = iris.load_data()
    return train_x, train_y


def _rows(features: dict, labels) -> list[tuple]:
    """Each example as one hashable row (features in FEATURES order, then the label)."""
    columns = [np.asarray(features[name]).tolist() for name in FEATURES]
    return list(zip(*columns, np.asarray(labels).tolist()))


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_iris_files_load_as_a_dict_of_float32_columns_with_int_labels_as_in_the_csv(name):
    features, labels = iris.read_csv(DATA_DIR / name)
    table = _csv_table(name)
    assert len(table) == SPLITS[name]
    assert list(features) == FEATURES
    for index, column in enumerate(FEATURES):
        assert features[column].dtype == np.float32
        np.testing.assert_array_equal(features[column], table[:, index].astype(np.float32))
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, table[:, 4].astype(np.int32))
    assert set(labels.tolist()) == {0, 1, 2}


def test_input_fn_keeps_the_feature_dict_and_label_structure(train):
    dataset = train_input_fn(*train, batch_size=32)
    features_spec, labels_spec = dataset.element_spec
    assert features_spec == {name: tf.TensorSpec(shape=(None,), dtype=tf.float32, name=None) for name in FEATURES}
    assert labels_spec == tf.TensorSpec(shape=(None,), dtype=tf.int32, name=None)
    features, _ = next(iter(dataset))
    assert sorted(features) == sorted(FEATURES)


@pytest.mark.parametrize("batch_size", [32, 7])
def test_every_batch_of_the_repeated_stream_has_batch_size_rows_across_epoch_boundaries(train, batch_size):
    # 120 rows do not divide into 32 or 7: repeat() before batch() fills batches across epochs.
    n_batches = 3 * 120 // batch_size + 2
    for features, labels in train_input_fn(*train, batch_size=batch_size).take(n_batches):
        assert labels.shape == (batch_size,)
        assert {name: column.shape for name, column in features.items()} == {name: (batch_size,) for name in FEATURES}


def test_shuffle_permutes_each_epoch_keeping_every_row_exactly_once(train):
    features, labels = train
    want = _rows(features, labels)
    # Batches of 40 tile the 120-row epochs exactly: batches 0-2 are epoch 1, batches 3-5 epoch 2.
    batches = list(train_input_fn(features, labels, batch_size=40).take(6))
    epochs = []
    for first in (0, 3):
        rows = []
        for batch_features, batch_labels in batches[first:first + 3]:
            rows += _rows({k: v.numpy() for k, v in batch_features.items()}, batch_labels.numpy())
        epochs.append(rows)
    for rows in epochs:
        assert collections.Counter(rows) == collections.Counter(want)   # same multiset, rows intact
        assert rows != want                                               # but not in file order
    assert epochs[0] != epochs[1]   # shuffle() reshuffles on every pass of repeat()


# The guide's shuffle(1000) over data far longer than its buffer: output position i holds an element of the
# first i + 1000 (the Dataset.shuffle docstring: a buffer of buffer_size elements, one drawn at random and its
# slot refilled), so an element comes at most 999 places early, and with 20,000 rows one does (missed with
# probability (1 - 1/1000)^19000 < 1e-8). The 120 iris rows never show the buffer's size: any buffer of
# 120 or more shuffles them all alike.
GUIDE_SHUFFLE_BUFFER = 1000


def test_shuffle_1000_yields_an_element_at_most_999_places_ahead_of_its_turn_and_that_far():
    rows = 20 * GUIDE_SHUFFLE_BUFFER
    index = np.arange(rows)
    features = {name: index.astype(np.float32) for name in FEATURES}   # every row's features are its index
    # Batches of 1000 tile the first epoch exactly: batches 0-19 hold every row once.
    batches = list(train_input_fn(features, index.astype(np.int32), batch_size=1000).take(20))
    order = np.concatenate([labels.numpy() for _, labels in batches])
    for batch_features, labels in batches:
        for name in FEATURES:   # rows stay whole through the shuffle
            np.testing.assert_array_equal(batch_features[name].numpy(), labels.numpy().astype(np.float32))
    assert sorted(order.tolist()) == index.tolist()
    assert (order - index).max() == GUIDE_SHUFFLE_BUFFER - 1


def test_repeat_makes_the_training_stream_endless(train):
    dataset = train_input_fn(*train, batch_size=32)
    assert dataset.cardinality().numpy() == tf.data.INFINITE_CARDINALITY
    # Far more batches than one epoch holds (120 / 32) keep coming.
    assert sum(1 for _ in dataset.take(100)) == 100


def test_eval_input_fn_batches_in_file_order_once_with_a_short_last_batch(train):
    features, labels = train
    expected = [({name: features[name][start:start + 32] for name in FEATURES}, labels[start:start + 32])
                for start in range(0, 120, 32)]
    assert [len(batch_labels) for _, batch_labels in expected] == [32, 32, 32, 24]
    assert_dataset_produces(eval_input_fn(features, labels, batch_size=32), expected,
                            element_spec=({name: BATCH_OF_FLOATS for name in FEATURES}, BATCH_OF_INT32))


def test_eval_input_fn_without_labels_yields_only_the_feature_dicts(train):
    features, _ = train
    expected = [{name: features[name][start:start + 50] for name in FEATURES} for start in (0, 50, 100)]
    assert_dataset_produces(eval_input_fn(features, batch_size=50), expected,
                            element_spec={name: BATCH_OF_FLOATS for name in FEATURES})
