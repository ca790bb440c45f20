"""The mutants of data.map (guide §2.2): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _tf, _wrap, mutant


@mutant("data.map", "tf.image.resize defaults to nearest-neighbour instead of bilinear")
def resize_defaults_to_nearest():
    tf = _tf()
    original = tf.image.resize

    def resize(images, size, method="bilinear", *args, **kwargs):
        return original(images, size, "nearest" if method == "bilinear" else method, *args, **kwargs)
    tf.image.resize = resize


@mutant("data.map", "decode_jpeg returns every pixel one level too bright")
def decode_jpeg_off_by_one():
    tf = _tf()
    original = tf.io.decode_jpeg

    def decode_jpeg(*args, **kwargs):
        image = original(*args, **kwargs)
        return tf.cast(tf.minimum(tf.cast(image, tf.int32) + 1, 255), tf.uint8)
    tf.io.decode_jpeg = decode_jpeg
    tf.image.decode_jpeg = decode_jpeg


@mutant("data.map", "map(num_parallel_calls=n) swaps neighbouring elements (order not kept)")
def parallel_map_reorders():
    tf = _tf()

    def make(orig):
        def map_(self, map_func, num_parallel_calls=None, *args, **kwargs):
            result = orig(self, map_func, num_parallel_calls, *args, **kwargs)
            if num_parallel_calls is None:
                return result
            swapped = result.batch(2).map(lambda *batch: tf.nest.map_structure(lambda t: tf.reverse(t, [0]), batch))
            return swapped.unbatch()
        return map_
    _wrap(tf.data.Dataset, "map", make)
