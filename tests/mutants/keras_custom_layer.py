"""The mutants of keras.custom_layer (guide §1.6): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import NotApplicable, _keras, mutant


@mutant("keras.custom_layer", "register_keras_serializable registers nothing")
def register_serializable_is_a_no_op():
    keras = _keras()

    def register_keras_serializable(package="Custom", name=None):
        return lambda cls: cls
    for owner in (getattr(keras, "saving", None), keras.utils):
        if owner is not None and hasattr(owner, "register_keras_serializable"):
            owner.register_keras_serializable = register_keras_serializable


@mutant("keras.custom_layer", "setting layer.trainable = False keeps its weights trainable")
def trainable_flag_ignored():
    layer_cls = _keras().layers.Layer
    prop = layer_cls.__dict__.get("trainable")
    if not isinstance(prop, property):
        raise NotApplicable("Layer.trainable is not a property here")
    layer_cls.trainable = property(prop.fget, lambda self, value: None)
