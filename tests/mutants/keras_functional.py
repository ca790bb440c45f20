"""The mutants of keras.functional (guide §1.5): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _keras, _tf, _wrap, mutant


@mutant("keras.functional", "Dense layers leave out their bias")
def dense_ignores_bias():
    def make(orig):
        def call(self, inputs, *args, **kwargs):
            x = _tf().matmul(inputs, self.kernel)
            return self.activation(x) if self.activation is not None else x
        return call
    _wrap(_keras().layers.Dense, "call", make)
