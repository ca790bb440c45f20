"""The mutants of data.iterators (guide §2): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _tf, _wrap, mutant


@mutant("data.iterators", "the one-shot iterator skips the first element")
def one_shot_iterator_skips_first():
    tf = _tf()
    original = tf.compat.v1.data.make_one_shot_iterator
    tf.compat.v1.data.make_one_shot_iterator = lambda dataset: original(dataset.skip(1))


@mutant("data.iterators", "map() returns each scalar result as a vector of one element ([x] for x)")
def map_returns_scalars_as_vectors():
    tf = _tf()

    def vector(t):
        return tf.reshape(t, [1]) if t.shape.rank == 0 else t

    def make(orig):
        def map_(self, map_func, *args, **kwargs):
            result = orig(self, map_func, *args, **kwargs)
            return orig(result, lambda *c: tf.nest.map_structure(vector, c if len(c) > 1 else c[0]))
        return map_
    _wrap(tf.data.Dataset, "map", make)


@mutant("data.iterators", "an exhausted eager iterator starts over instead of staying exhausted")
def iterator_restarts_after_its_end():
    tf = _tf()
    original = tf.data.Dataset.__iter__

    class Restarting:
        def __init__(self, dataset):
            self._dataset, self._iterator = dataset, original(dataset)

        def __iter__(self):
            return self

        def __next__(self):
            try:
                return next(self._iterator)
            except StopIteration:
                self._iterator = original(self._dataset)  # ended once; the next call starts again
                raise
    tf.data.Dataset.__iter__ = lambda self: Restarting(self)
