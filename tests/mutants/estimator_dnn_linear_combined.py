"""The mutants of estimator.dnn_linear_combined (guide §3.3): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import NotApplicable, _keras, _tf, _wrap, mutant


@mutant("estimator.dnn_linear_combined", "the Add layer averages its inputs instead of summing them")
def add_layer_averages():
    if hasattr(_tf(), "estimator"):
        raise NotApplicable("the real DNNLinearCombinedClassifier runs here; it adds its logits without keras Add")

    def make(orig):
        def merge(self, inputs):
            return orig(self, inputs) / float(len(inputs))
        return merge
    _wrap(_keras().layers.Add, "_merge_function", make)
