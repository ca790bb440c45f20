"""The mutants of estimator.input_fn (guide §3.1): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _tf, _wrap, mutant
from tests.mutants._helpers import _shuffle_with_buffer


@mutant("estimator.input_fn", "shuffle() does not reshuffle on each pass of repeat()")
def shuffle_never_reshuffles():
    def make(orig):
        def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
            return orig(self, buffer_size, seed, False, name=name)
        return shuffle
    _wrap(_tf().data.Dataset, "shuffle", make)


@mutant("estimator.input_fn", "shuffle(1000) holds only half its buffer_size (500 elements)")
def shuffle_buffer_halved():
    _shuffle_with_buffer(lambda dataset, size: max(size // 2, 1))


@mutant("estimator.input_fn", "shuffle(b) shuffles the whole finite dataset at once, whatever b")
def shuffle_buffer_is_the_whole_dataset():
    def whole(dataset, size):
        count = int(dataset.cardinality().numpy())
        return max(size, count)  # unknown (-2) or infinite (-1) cardinality: b as given
    _shuffle_with_buffer(whole)


@mutant("estimator.input_fn", "repeat() without a count stops after three passes")
def repeat_is_finite():
    _wrap(_tf().data.Dataset, "repeat",
          lambda orig: lambda self, count=None, name=None: orig(self, 3 if count is None else count, name=name))
