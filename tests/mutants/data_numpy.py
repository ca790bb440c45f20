"""The mutants of data.numpy (guide §2.1.1): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _tf, _wrap, mutant


@mutant("data.numpy", "from_tensor_slices() yields the rows in reverse order")
def from_tensor_slices_reverses():
    tf = _tf()

    def make(orig):
        def reversed_slices(tensors, name=None):
            flipped = tf.nest.map_structure(lambda t: tf.reverse(tf.convert_to_tensor(t), [0]), tensors)
            return orig(flipped, name=name)
        return reversed_slices
    _wrap(tf.data.Dataset, "from_tensor_slices", make, static=True)


@mutant("data.numpy", "from_tensor_slices() turns float64/int8 arrays into float32/int32")
def from_tensor_slices_narrows_dtypes():
    tf = _tf()
    import numpy as np
    widen = {np.dtype(np.float64): np.float32, np.dtype(np.float16): np.float32, np.dtype(np.int8): np.int32,
             np.dtype(np.uint8): np.int32}

    def cast(t):
        if isinstance(t, np.ndarray) and t.dtype in widen:
            return t.astype(widen[t.dtype])
        return t

    _wrap(tf.data.Dataset, "from_tensor_slices",
          lambda orig: lambda tensors, name=None: orig(tf.nest.map_structure(cast, tensors), name=name), static=True)


@mutant("data.numpy", "Dataset keeps TF 1's make_initializable_iterator() method")
def dataset_keeps_make_initializable_iterator():
    tf = _tf()
    tf.data.Dataset.make_initializable_iterator = (
        lambda self, shared_name=None: tf.compat.v1.data.make_initializable_iterator(self, shared_name))


@mutant("data.numpy", "from_tensor_slices truncates arrays of different lengths to the shortest")
def from_tensor_slices_truncates_mismatch():
    import numpy as np
    tf = _tf()

    def make(orig):
        def from_tensor_slices(tensors, name=None):
            flat = tf.nest.flatten(tensors)
            lengths = [len(t) for t in flat if isinstance(t, np.ndarray) and t.ndim > 0]
            if len(flat) > 1 and len(flat) == len(lengths) and len(set(lengths)) > 1:
                tensors = tf.nest.map_structure(lambda t: t[:min(lengths)], tensors)
            return orig(tensors, name=name)
        return from_tensor_slices
    _wrap(tf.data.Dataset, "from_tensor_slices", make, static=True)
