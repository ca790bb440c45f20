"""data.map (guide §2.2): map(_parse_function) reads a JPEG, decodes it and resizes it to 28x28.

The JPEGs are encoded from known pixels. Decoding is checked against those pixels (JPEG is lossy, so
within a bound); resizing is checked against an independent NumPy bilinear resize of the decoded pixels."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data_map import _parse_function, dataset
from suite.support.data_files import bilinear_resize, known_pixels, write_bytes, write_jpeg
from suite.support.helpers import assert_dataset_produces, tf

pytestmark = pytest.mark.recipe("data.map")

# Down-scaling (non-integer ratio), up-scaling and an unchanged size.
SIZES = [(37, 45), (9, 13), (28, 28), (60, 17)]
LABELS = [0, 37, 5, 12]  # the guide's labels = [0, 37, ...]
# Quality-100 JPEG without chroma subsampling of these smooth images stays within this of the pixels.
JPEG_MAX_ERROR, JPEG_MEAN_ERROR = 16, 4.0
# float32 arithmetic on 0..255 values; any other interpolation differs by far more.
RESIZE_ATOL = 1e-3
# One grey level per 8x8 block (JPEG's DCT block): at quality 100 each block is a lone DC coefficient
# with quantiser 1, and grey (R = G = B) is exactly Y with neutral chroma, so decoding is lossless.
GREY_BLOCK_LEVELS = np.array([[0, 37, 128], [200, 255, 90]], dtype=np.uint8)


@pytest.fixture
def images(tmp_path):
    """JPEG files of known pixels: (paths, pixels)."""
    pixels = [known_pixels(h, w, seed) for seed, (h, w) in enumerate(SIZES)]
    paths = [write_jpeg(tmp_path / f"image{i + 1}.jpg", p) for i, p in enumerate(pixels)]
    return paths, pixels


def _decoded(path) -> np.ndarray:
    return tf.io.decode_jpeg(path.read_bytes()).numpy()


def _corrupt_jpeg(path):
    """Keep the JPEG's markers, destroy the entropy-coded data: a real-looking but undecodable file."""
    data = path.read_bytes()
    return write_bytes(path.with_name("corrupt.jpg"), data[:20] + b"\x00" * 40)


def test_files_are_real_jpegs_that_decode_close_to_the_known_pixels(images):
    for path, pixels in zip(*images):
        data = path.read_bytes()
        assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"  # SOI ... EOI markers
        error = np.abs(_decoded(path).astype(int) - pixels.astype(int))
        assert error.max() <= JPEG_MAX_ERROR and error.mean() <= JPEG_MEAN_ERROR


def test_jpeg_of_uniform_grey_8x8_blocks_decodes_to_exactly_its_pixels_and_resizes_from_them(tmp_path):
    # Unlike the smooth images above, the expected pixels here do not come from TensorFlow's decoder.
    grey = np.kron(GREY_BLOCK_LEVELS, np.ones((8, 8), dtype=np.uint8))
    pixels = np.repeat(grey[:, :, None], 3, axis=2)
    path = write_jpeg(tmp_path / "grey_blocks.jpg", pixels)
    np.testing.assert_array_equal(_decoded(path), pixels)
    image, label = _parse_function(tf.constant(str(path)), 7)
    assert int(label) == 7
    np.testing.assert_allclose(image.numpy(), bilinear_resize(pixels, 28, 28), rtol=0, atol=RESIZE_ATOL)


def test_parse_function_gives_28x28_float32_bilinear_resize_of_the_decoded_pixels(images):
    paths, _ = images
    got = list(dataset(paths, LABELS))
    assert len(got) == len(paths)
    for (image, _), path in zip(got, paths):
        expected = bilinear_resize(_decoded(path), 28, 28)
        assert image.dtype == tf.float32 and image.shape == (28, 28, 3)
        np.testing.assert_allclose(image.numpy(), expected, rtol=0, atol=RESIZE_ATOL)


def test_labels_pass_through_in_order(images):
    paths, _ = images
    labels_only = dataset(paths, LABELS).map(lambda image, label: label)
    assert_dataset_produces(labels_only, [np.int32(label) for label in LABELS],
                            element_spec=tf.TensorSpec(shape=(), dtype=tf.int32))


def test_parallel_map_keeps_the_input_order(images):
    paths, _ = images
    paths, labels = paths * 3, LABELS * 3
    got = list(dataset(paths, labels, num_parallel_calls=4))
    assert [int(label) for _, label in got] == labels
    for (image, _), path in zip(got, paths):
        np.testing.assert_allclose(image.numpy(), bilinear_resize(_decoded(path), 28, 28), rtol=0, atol=RESIZE_ATOL)


def test_guides_spellings_tf_read_file_and_resize_images_are_gone_attribute_error():
    with pytest.raises(AttributeError, match="read_file"):
        tf.read_file  # noqa: B018
    with pytest.raises(AttributeError, match="resize_images"):
        tf.image.resize_images  # noqa: B018


def test_tf1_resize_images_without_half_pixel_centers_survives_in_compat_v1_with_other_values(images):
    # Why the values of the guide's resize_images and of tf.image.resize differ slightly: TF 1 mapped
    # output pixel i to source i * in/out; TF 2 maps pixel centers.
    decoded = _decoded(images[0][0])
    got = tf.compat.v1.image.resize_images(decoded, [28, 28]).numpy()
    np.testing.assert_allclose(got, bilinear_resize(decoded, 28, 28, half_pixel_centers=False), rtol=0, atol=RESIZE_ATOL)
    assert np.abs(got - bilinear_resize(decoded, 28, 28)).max() > 1.0


def test_corrupt_jpeg_raises_invalid_argument_after_the_earlier_images(images):
    paths, _ = images
    files = [paths[0], _corrupt_jpeg(paths[1]), paths[2]]
    labels_only = dataset(files, LABELS[:3]).map(lambda image, label: label)
    assert_dataset_produces(labels_only, [np.int32(LABELS[0])],
                            expected_error=(tf.errors.InvalidArgumentError, "Invalid JPEG data"))


def test_ignore_errors_skips_exactly_the_corrupt_image(images):
    paths, _ = images
    corrupt = _corrupt_jpeg(paths[1])
    files = [paths[0], corrupt, paths[2], paths[3]]
    got = list(dataset(files, [LABELS[0], 99, LABELS[2], LABELS[3]]).ignore_errors())
    assert [int(label) for _, label in got] == [LABELS[0], LABELS[2], LABELS[3]]
    for (image, _), path in zip(got, [paths[0], paths[2], paths[3]]):
        np.testing.assert_allclose(image.numpy(), bilinear_resize(_decoded(path), 28, 28), rtol=0, atol=RESIZE_ATOL)


def test_truncated_jpeg_raises_invalid_argument(images):
    data = images[0][0].read_bytes()
    path = write_bytes(images[0][0].with_name("truncated.jpg"), data[:len(data) // 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        _parse_function(tf.constant(str(path)), 0)


def test_bytes_that_are_no_image_raise_invalid_argument(tmp_path):
    path = write_bytes(tmp_path / "text.jpg", b"this is not an image\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        _parse_function(tf.constant(str(path)), 0)


def test_missing_image_file_raises_not_found_after_the_earlier_images(images):
    paths, _ = images
    files = [paths[0], paths[0].with_name("missing.jpg")]
    labels_only = dataset(files, LABELS[:2]).map(lambda image, label: label)
    assert_dataset_produces(labels_only, [np.int32(LABELS[0])],
                            expected_error=(tf.errors.NotFoundError, "missing.jpg"))
