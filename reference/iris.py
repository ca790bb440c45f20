"""The guide's iris data (premade_estimators' iris_data.py), without pandas.

The guide downloads the two CSV files at run time with `tf.keras.utils.get_file`; that code is kept
(`load_data(download=True)`), but by default, and whenever the network is not there, the copies shipped
in reference/data/ are read, so the suite runs offline. Each file starts with a header line
`count,features,class names` (e.g. `120,4,setosa,versicolor,virginica`) followed by one row per example:
four float measurements and an integer class id.

Features come back as a dict of columns (name -> float32 array), which is what
`Dataset.from_tensor_slices((dict(features), labels))` and the feature columns expect.
"""

from __future__ import annotations

import csv
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from reference import DATA_DIR

TRAIN_URL = "http://download.tensorflow.org/data/iris_training.csv"
TEST_URL = "http://download.tensorflow.org/data/iris_test.csv"

CSV_COLUMN_NAMES = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth", "Species"]
FEATURE_NAMES = CSV_COLUMN_NAMES[:-1]
SPECIES = ["Setosa", "Versicolor", "Virginica"]


def _network_reachable(url: str, timeout: float = 2.0) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def maybe_download() -> tuple[Path, Path]:
    """The guide's download: keras' get_file caches the two files under ~/.keras/datasets."""
    import tensorflow as tf

    train_path = tf.keras.utils.get_file(TRAIN_URL.split("/")[-1], TRAIN_URL)
    test_path = tf.keras.utils.get_file(TEST_URL.split("/")[-1], TEST_URL)
    return Path(train_path), Path(test_path)


def data_files(download: bool = False) -> tuple[Path, Path]:
    """The (train, test) CSV paths: downloaded only when asked and reachable, else the shipped copies."""
    if download and _network_reachable(TRAIN_URL):
        return maybe_download()
    return DATA_DIR / "iris_training.csv", DATA_DIR / "iris_test.csv"


def read_csv(path: Path, y_name: str = "Species") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One iris CSV file as (features dict of float32 columns, int32 labels), checked against its header."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [row for row in rows[1:] if row]
    count, n_features = int(header[0]), int(header[1])
    if len(body) != count or any(len(row) != n_features + 1 for row in body):
        raise ValueError(f"{path}: header promises {count} rows of {n_features} features + label")
    table = np.asarray(body, dtype=np.float64)
    columns = dict(zip(CSV_COLUMN_NAMES, table.T))
    labels = columns.pop(y_name).astype(np.int32)
    return {name: column.astype(np.float32) for name, column in columns.items()}, labels


def load_data(y_name: str = "Species", download: bool = False):
    """Returns the iris dataset as (train_x, train_y), (test_x, test_y), like the guide's iris_data."""
    train_path, test_path = data_files(download)
    return read_csv(train_path, y_name), read_csv(test_path, y_name)


def main() -> None:
    (train_x, train_y), (_, test_y) = load_data()
    print(f"train: {len(train_y)} rows, test: {len(test_y)} rows, features: {list(train_x)}")
    for name in SPECIES:
        print(f"  {name}: {int(np.sum(train_y == SPECIES.index(name)))} training rows")


if __name__ == "__main__":
    main()
