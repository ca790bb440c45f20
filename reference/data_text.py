"""§2.1.3 Consuming text data: tf.data.TextLineDataset(filenames), one element per line."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tensorflow as tf


def _names(filenames) -> list:
    # Paths become strings; a string tensor (a file name inside Dataset.interleave) stays a tensor.
    return [f if tf.is_tensor(f) else str(f) for f in filenames]


def dataset(filenames, **kwargs) -> tf.data.Dataset:
    return tf.data.TextLineDataset(_names(filenames), **kwargs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file1, file2 = Path(tmp, "file1.txt"), Path(tmp, "file2.txt")
        file1.write_bytes(b"first line\r\nsecond line\n\nafter an empty line")
        file2.write_bytes(b"file2 line 1\nfile2 line 2\n")
        for line in dataset([file1, file2]):
            print(line.numpy())


if __name__ == "__main__":
    main()
