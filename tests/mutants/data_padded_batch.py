"""The mutants of data.padded_batch (guide §2.3): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _tf, _wrap, mutant


@mutant("data.padded_batch", "padded_batch() pads with 1 instead of 0")
def padded_batch_pads_with_one():
    tf = _tf()

    def make(orig):
        def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
            if padding_values is None:
                padding_values = tf.nest.map_structure(lambda spec: tf.constant(1, spec.dtype), self.element_spec)
            return orig(self, batch_size, padded_shapes, padding_values, drop_remainder, name=name)
        return padded_batch
    _wrap(tf.data.Dataset, "padded_batch", make)


@mutant("data.padded_batch", "padded_batch ignores explicit padded_shapes and pads to the batch's longest")
def padded_shapes_ignored():
    def make(orig):
        def padded_batch(self, batch_size, padded_shapes=None, *args, **kwargs):
            return orig(self, batch_size, None, *args, **kwargs)
        return padded_batch
    _wrap(_tf().data.Dataset, "padded_batch", make)
