"""The mutants of data.batch (guide §2.3): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import random

from tests.mutants._core import _tf, _wrap, mutant
from tests.mutants._helpers import _shuffle_with_buffer


@mutant("data.batch", "batch() drops the partial last batch even without drop_remainder")
def batch_always_drops_remainder():
    _wrap(_tf().data.Dataset, "batch",
          lambda orig: lambda self, batch_size, drop_remainder=False, *a, **kw: orig(self, batch_size, True, *a, **kw))


@mutant("data.batch", "batch(drop_remainder=True) keeps the partial last batch")
def batch_ignores_drop_remainder():
    _wrap(_tf().data.Dataset, "batch",
          lambda orig: lambda self, batch_size, drop_remainder=False, *a, **kw: orig(self, batch_size, False, *a, **kw))


@mutant("data.batch", "zip() runs to the longest input, cycling the shorter ones")
def zip_stops_at_longest():
    tf = _tf()

    def make(orig):
        def zip_longest(*args, datasets=None, name=None):
            structure = datasets if datasets is not None else (args[0] if len(args) == 1 else args)
            flat = tf.nest.flatten(structure)
            try:
                sizes = [int(d.cardinality().numpy()) for d in flat]
            except Exception:  # graph mode or unknown sizes: leave it alone
                return orig(structure, name=name)
            longest = max(sizes)
            if longest < 0 or min(sizes) < 0:
                return orig(structure, name=name)
            padded = [d.repeat().take(longest) if n < longest else d for d, n in zip(flat, sizes)]
            return orig(tf.nest.pack_sequence_as(structure, padded), name=name)
        return zip_longest
    _wrap(tf.data.Dataset, "zip", make, static=True)


@mutant("data.batch", "shuffle(seed=...) ignores the seed: not reproducible")
def shuffle_ignores_seed():
    def make(orig):
        def shuffle(self, buffer_size, seed=None, *a, **kw):
            return orig(self, buffer_size, random.randrange(1, 2 ** 31), *a, **kw)
        return shuffle
    _wrap(_tf().data.Dataset, "shuffle", make)


@mutant("data.batch", "shuffle(b) holds b - 1 elements in its buffer (an element moves at most b - 2 ahead)")
def shuffle_buffer_one_short():
    _shuffle_with_buffer(lambda dataset, size: max(size - 1, 1))


@mutant("data.batch", "shuffle(b) caps its buffer at 512 elements")
def shuffle_buffer_capped_at_512():
    _shuffle_with_buffer(lambda dataset, size: min(size, 512))
