"""§2.1.4 Consuming CSV data: tf.contrib.data.CsvDataset is now tf.data.experimental.CsvDataset."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tensorflow as tf

RECORD_DEFAULTS = [tf.float32] * 8  # Eight required float columns


def _names(filenames) -> list:
    # Paths become strings; a string tensor (a file name inside Dataset.interleave) stays a tensor.
    return [f if tf.is_tensor(f) else str(f) for f in filenames]


def dataset(filenames, record_defaults=None, **kwargs) -> tf.data.Dataset:
    defaults = RECORD_DEFAULTS if record_defaults is None else record_defaults
    return tf.data.experimental.CsvDataset(_names(filenames), defaults, **kwargs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file1, file2 = Path(tmp, "file1.csv"), Path(tmp, "file2.csv")
        header = ",".join(f"c{i}" for i in range(8))
        file1.write_text(f"{header}\n" + "\n".join(",".join(str(r * 8 + c) for c in range(8)) for r in range(2)))
        file2.write_text(f"{header}\n0.5,1e3,-2,3,4,5,6,7\n")
        for row in dataset([file1, file2], header=True):
            print([float(v) for v in row])


if __name__ == "__main__":
    main()
