"""The mutants of keras.config_json (guide §1.8): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import json

from tests.mutants._core import NotApplicable, _keras, _keras3_src, _wrap, mutant
from tests.mutants._helpers import _advisory, _model_class, _unsafe_from_config


@mutant("keras.config_json", "to_json leaves out the last layer")
def to_json_drops_a_layer():
    def make(orig):
        def to_json(self, **kwargs):
            config = json.loads(orig(self, **kwargs))
            config["config"]["layers"].pop()
            return json.dumps(config)
        return to_json
    _wrap(_model_class(), "to_json", make)


@mutant("keras.config_json", "model_from_json copies the weights of the model it came from")
def model_from_json_copies_weights():
    keras = _keras()
    original = keras.models.model_from_json
    last_saved = {}

    def make(orig):
        def to_json(self, **kwargs):
            text = orig(self, **kwargs)
            last_saved[text] = self.get_weights()
            return text
        return to_json
    _wrap(_model_class(), "to_json", make)

    def model_from_json(text, *args, **kwargs):
        model = original(text, *args, **kwargs)
        if text in last_saved:
            model.set_weights(last_saved[text])
        return model
    keras.models.model_from_json = model_from_json


@_advisory("Lambda.from_config without safe_mode runs bytecode (as before Keras 3.12.3 / 3.15)",
           "test_lambda_from_config_does_not_run_bytecode_without_a_safe_mode_argument", recipe="keras.config_json")
def lambda_from_config_unscoped_is_unsafe():
    _keras3_src()
    from keras.src.layers.core.lambda_layer import Lambda

    _unsafe_from_config(Lambda)


@_advisory("model_from_yaml is back and constructs the Python objects its YAML tags name (TF before 2.6)",
           "test_model_from_yaml_does_not_construct_python_objects", recipe="keras.config_json")
def model_from_yaml_constructs_objects():
    import ast
    import importlib
    import re

    def model_from_yaml(text, custom_objects=None):
        # The one tag the spec's YAML uses, constructed the way yaml.unsafe_load would.
        tag = re.match(r"!!python/object/apply:([\w.]+)\.(\w+) (\[.*\])", text.strip())
        return getattr(importlib.import_module(tag.group(1)), tag.group(2))(*ast.literal_eval(tag.group(3)))
    _keras().models.model_from_yaml = model_from_yaml


@_advisory("TorchModuleWrapper.from_config without safe_mode unpickles its module (as before Keras 3.12.3 / 3.15)",
           "test_torch_module_wrapper_from_config_does_not_unpickle_without_a_safe_mode_argument",
           recipe="keras.config_json")
def torch_module_wrapper_from_config_unscoped_is_unsafe():
    _keras3_src()
    try:
        import torch  # noqa: F401 - the spec is not applicable without it, so nothing could kill this mutant
    except ImportError as exc:
        raise NotApplicable("the torch package is not installed") from exc
    from keras.src.utils.torch_utils import TorchModuleWrapper

    _unsafe_from_config(TorchModuleWrapper)
