"""The mutants of keras.evaluate_predict (guide §1.4): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

import inspect

from tests.mutants._core import _keras, _keras3_src, _wrap, mutant
from tests.mutants._helpers import _batches, _model_class


@mutant("keras.evaluate_predict", "evaluate(steps=n) consumes n + 1 batches")
def evaluate_steps_off_by_one():
    def make(orig):
        def evaluate(self, *args, **kwargs):
            if kwargs.get("steps"):
                kwargs["steps"] += 1
            return orig(self, *args, **kwargs)
        return evaluate
    _wrap(_model_class(), "evaluate", make)


@mutant("keras.evaluate_predict", "evaluate returns only the loss, without the metrics")
def evaluate_returns_only_loss():
    def make(orig):
        def evaluate(self, *args, **kwargs):
            result = orig(self, *args, **kwargs)
            if isinstance(result, dict):
                return {"loss": result["loss"]}
            return result[0] if isinstance(result, list) else result
        return evaluate
    _wrap(_model_class(), "evaluate", make)


@mutant("keras.evaluate_predict", "predict returns the batches in reverse order")
def predict_reverses_batch_order():
    import numpy as np

    def make(orig):
        def predict(self, x, batch_size=None, *args, **kwargs):
            out = orig(self, x, batch_size, *args, **kwargs)
            if not isinstance(out, np.ndarray):
                return out
            size = batch_size or 32
            chunks = [out[i:i + size] for i in range(0, len(out), size)]
            return np.concatenate(chunks[::-1])
        return predict
    _wrap(_model_class(), "predict", make)


@mutant("keras.evaluate_predict", "predict runs the model in training mode (dropout active)")
def predict_in_training_mode():
    _keras3_src()
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer
    from keras.src.trainers.data_adapters import data_adapter_utils

    def make(orig):
        def predict_step(self, data):
            x, _, _ = data_adapter_utils.unpack_x_y_sample_weight(data)
            return self(x, training=True)
        return predict_step
    _wrap(TensorFlowTrainer, "predict_step", make)


@mutant("keras.evaluate_predict", "evaluate's accuracy is the mean of the batches' accuracies (the short last "
        "batch weighs as much as a full one)")
def evaluate_accuracy_averages_batches():
    import numpy as np

    def make(orig):
        def evaluate(self, x=None, y=None, batch_size=None, *args, **kwargs):
            result = orig(self, x, y, batch_size, *args, **kwargs)
            size = batch_size or 32
            if not isinstance(x, np.ndarray) or len(x) <= size:
                return result
            quiet = {**kwargs, "return_dict": True, "verbose": 0}
            batches = [orig(self, x[i:i + size], y[i:i + size], size, *args, **quiet) for i in range(0, len(x), size)]
            names = [n for n in batches[0] if "accuracy" in n]
            means = {n: float(np.mean([b[n] for b in batches])) for n in names}
            if isinstance(result, dict):
                return {**result, **means}
            if isinstance(result, list):  # Keras 3's metrics_names do not name the list: match by value
                full = orig(self, x, y, batch_size, *args, **quiet)
                for name, mean in means.items():
                    result = [mean if v == full[name] else v for v in result]
            return result
        return evaluate
    _wrap(_model_class(), "evaluate", make)


@mutant("keras.evaluate_predict", "predict on a finite Dataset drops the partial last batch")
def predict_dataset_drops_last_batch():
    def make(orig):
        def predict(self, x, *args, **kwargs):
            count = _batches(x)
            return orig(self, x.take(count - 1) if count else x, *args, **kwargs)
        return predict
    _wrap(_keras().Model, "predict", make)


@mutant("keras.evaluate_predict", "predict on a finite Dataset predicts the partial last batch twice")
def predict_dataset_repeats_last_batch():
    def make(orig):
        def predict(self, x, *args, **kwargs):
            count = _batches(x)
            return orig(self, x.concatenate(x.skip(count - 1)) if count else x, *args, **kwargs)
        return predict
    _wrap(_keras().Model, "predict", make)


@mutant("keras.evaluate_predict", "evaluate on a finite Dataset averages the batches' results, not the examples'")
def evaluate_dataset_averages_per_batch():
    import numpy as np

    def make(orig):
        def evaluate(self, x=None, *args, **kwargs):
            count = _batches(x)
            if not count or kwargs.get("steps") or kwargs.get("return_dict"):
                return orig(self, x, *args, **kwargs)
            results = [orig(self, x.skip(i).take(1), *args, **kwargs) for i in range(count)]
            return [float(v) for v in np.mean(np.array(results, dtype=np.float64), axis=0)]
        return evaluate
    _wrap(_keras().Model, "evaluate", make)


@mutant("keras.evaluate_predict", "evaluate(x, y) with batch_size left out runs batches of 16, not 32")
def evaluate_default_batch_size_16():
    def make(orig):
        signature = inspect.signature(orig)

        def evaluate(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.arguments.setdefault("batch_size", 16)
            return orig(*bound.args, **bound.kwargs)
        return evaluate
    _wrap(_keras().Model, "evaluate", make)


@mutant("keras.evaluate_predict", "predict(x) with batch_size left out runs batches of 64, not 32")
def predict_default_batch_size_64():
    def make(orig):
        signature = inspect.signature(orig)

        def predict(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.arguments.setdefault("batch_size", 64)
            return orig(*bound.args, **bound.kwargs)
        return predict
    _wrap(_keras().Model, "predict", make)
