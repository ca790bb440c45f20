"""Real input files for the tf.data specs, written under pytest's tmp_path.

The TFRecord framing and the JPEG pixels are built here independently of the TensorFlow reader under
test, so a reader that drops, reorders or alters bytes cannot agree with them by accident.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import tensorflow as tf


# --- TFRecord: documented framing, https://www.tensorflow.org/tutorials/load_data/tfrecord ------------
#   uint64 length | uint32 masked_crc32c(length) | byte data[length] | uint32 masked_crc32c(data)

_CRC32C_POLY = 0x82F63B78  # Castagnoli, reflected
_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC32C_POLY if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord_frame(record: bytes) -> bytes:
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", masked_crc32c(length)) + record + struct.pack("<I", masked_crc32c(record))


def tfrecord_offsets(records: list[bytes]) -> list[int]:
    """Byte offset of each record's frame in a file holding `records` (what the reader's errors name)."""
    offsets, at = [], 0
    for record in records:
        offsets.append(at)
        at += 8 + 4 + len(record) + 4
    return offsets


def example(index: int) -> tf.train.Example:
    """A tf.train.Example with one feature of each kind, distinct per index."""
    feature = {
        "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[index])),
        "values": tf.train.Feature(float_list=tf.train.FloatList(value=[index * 0.5, -index, 1e-3 * index])),
        "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"example-{index}".encode()] * (index % 3 + 1))),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


def serialized_examples(start: int, count: int) -> list[bytes]:
    # Serialised by protobuf itself, not by the TensorFlow runtime under test.
    return [example(i).SerializeToString() for i in range(start, start + count)]


def write_tfrecords(path: Path, records: list[bytes], compression: str | None = None) -> Path:
    """Write with tf.io.TFRecordWriter, the way the guide's data is produced."""
    options = tf.io.TFRecordOptions(compression_type=compression) if compression else None
    with tf.io.TFRecordWriter(str(path), options=options) as writer:
        for record in records:
            writer.write(record)
    return path


# --- CSV -----------------------------------------------------------------------------------------------

CSV_HEADER = "sepal_length,sepal_width,petal_length,petal_width,f4,f5,f6,f7"
# Decimal text chosen to exercise the float parser: fractions, exponents, signs, signed zero.
CSV_ROWS_A = [
    ["0.1", "2", "-3.5", "1e10", "0", "7.25", "-0", "3.4028235e38"],
    ["1.5", "-2.75", "6.02e23", "1e-7", "100", "0.333", "-1e-3", "42"],
    ["5.1", "3.5", "1.4", "0.2", "-5.1", "+3.5", "1.4E2", ".5"],
]
CSV_ROWS_B = [
    ["6.4", "3.2", "4.5", "1.5", "9", "8", "7", "6"],
    ["-0.0625", "1e-30", "2.5e-3", "65504", "1", "2", "3", "4"],
]


def expected_float_rows(rows: list[list[str]]) -> list[tuple]:
    # NumPy parses the same decimal text to float32 (round-to-nearest, as strtof does).
    return [tuple(np.float32(field) for field in row) for row in rows]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def write_csv(path: Path, rows: list[list[str]], header: str | None = CSV_HEADER, newline: str = "\n",
              final_newline: bool = True) -> Path:
    lines = ([header] if header is not None else []) + [",".join(row) for row in rows]
    text = newline.join(lines) + (newline if final_newline else "")
    return write_bytes(path, text.encode())


# --- JPEG ----------------------------------------------------------------------------------------------


def known_pixels(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth RGB uint8 image (JPEG keeps smooth images close) that differs per seed, with curvature
    so that bilinear resizing is distinguishable from other interpolations."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 10 + 200 * (x / width) ** 2
    g = 20 + 200 * y / height
    b = 128 + 90 * np.sin(x / 5.0 + y / 7.0 + seed)
    return np.clip(np.stack([r, g, b], -1) + 5 * seed, 0, 255).round().astype(np.uint8)


def write_jpeg(path: Path, pixels: np.ndarray) -> Path:
    # Quality 100 without chroma subsampling: the decoded pixels stay close to the known ones.
    data = tf.io.encode_jpeg(pixels, quality=100, chroma_downsampling=False).numpy()
    return write_bytes(path, data)


def bilinear_resize(image: np.ndarray, out_h: int, out_w: int, half_pixel_centers: bool = True) -> np.ndarray:
    """Bilinear resize with half-pixel centers, as tf.image.resize documents (antialias=False).

    Source coordinate of output pixel i: (i + 0.5) * in/out - 0.5, clamped to the image. Without
    half-pixel centers (TF 1's resize_images): i * in/out.
    """
    image = image.astype(np.float64)

    def axis(in_size: int, out_size: int):
        if half_pixel_centers:
            src = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
        else:
            src = np.arange(out_size) * (in_size / out_size)
        src = np.clip(src, 0, in_size - 1)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, in_size - 1)
        return low, high, src - low

    y0, y1, fy = axis(image.shape[0], out_h)
    x0, x1, fx = axis(image.shape[1], out_w)
    fy, fx = fy[:, None, None], fx[None, :, None]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy
