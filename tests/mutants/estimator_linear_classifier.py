"""The mutants of estimator.linear_classifier (guide §3.3): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _keras3_src, _wrap, mutant


@mutant("estimator.linear_classifier", "the 'accuracy' metric of sparse labels counts the least likely class")
def sparse_accuracy_uses_argmin():
    _keras3_src()
    from keras.src.metrics import accuracy_metrics
    original = accuracy_metrics.sparse_categorical_accuracy

    def make(orig):
        def init(self, name="sparse_categorical_accuracy", dtype=None):
            orig(self, name=name, dtype=dtype)
            self._fn = lambda y_true, y_pred: original(y_true, -y_pred)
        return init
    _wrap(accuracy_metrics.SparseCategoricalAccuracy, "__init__", make)
