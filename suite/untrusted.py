"""Crafted model files for the advisory specs (suite/test_keras_advisories.py), and the probes that load
them inside the sandbox (suite/sandbox.py).

Every crafted file here is harmless by construction: the only thing its payload can do is create a marker
file in the spec's tmp_path, or read back a canary file the spec itself wrote there. Nothing reaches the
network (a URL is a file:// URL into tmp_path) and nothing runs outside the sandbox's child process. Each
file starts as a legitimate model saved by the Keras under test, then gets exactly the edit an advisory
describes, so it is well-formed for this build whatever its version.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Callable

import tensorflow as tf

keras = tf.keras

# --- crafting (in the spec's process: it saves legitimate models and edits the files) ---------------------


def marker_lambda_model(marker: Path) -> "keras.Model":
    """Input(3) -> Lambda whose code creates `marker` when it runs (the layer runs when load_model rebuilds
    the model, before anything is predicted) and otherwise returns its input."""
    # The path is a constant of the lambda's own code: Keras marshals the code object, and its handling of
    # defaults and closures differs across versions (Keras 3.15 reloads list defaults as a TypeError).
    code = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # noqa: S307 - our own constant
    return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(code)])


def save(model, path: Path) -> Path:
    """model.save(path); a '.keras' path always gets the zip archive the advisories are about. Keras 2.12
    writes HDF5 under a '.keras' name unless asked for save_format='keras_v3' (observed: the file starts
    with the HDF5 signature), so ask when the first save did not give an archive."""
    model.save(str(path))
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        model.save(str(path), save_format="keras_v3")
    return path


def save_without_side_effects(model, path: Path, marker: Path) -> Path:
    """Save `model` to `path`; saving rebuilds it and may already have created `marker`: remove it, so that
    only the load under test can create it again."""
    save(model, path)
    marker.unlink(missing_ok=True)
    return path


def edit_keras_config(path: Path, edit: Callable[[dict], None], extra: dict[str, bytes] | None = None) -> Path:
    """Rewrite the config.json inside a '.keras' archive with `edit` (which changes the dict in place),
    keeping every other member; `extra` adds members."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    members.update(extra or {})
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    tmp.replace(path)
    return path


def layer_configs(config: dict) -> list[dict]:
    """The layer configs of a saved Sequential or functional model's config, in order."""
    return config["config"]["layers"]


def canary_module(directory: Path, marker: Path) -> str:
    """Write a Python module into `directory` whose import creates `marker` (and defines a Layer class
    `Canary`); return its name. A stand-in for any module a crafted file could name."""
    name = "tfguide_canary_" + marker.stem.replace("-", "_")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).touch()\n"
        "import tensorflow as tf\n"
        "class Canary(tf.keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return x\n")
    return name


# --- probes (in the sandbox's child process) -----------------------------------------------------------
# A probe loads the crafted file the way the guide does (no safe_mode argument: the default) and says what
# it observed; with `control`, when the payload did not take effect, it loads the same file again with
# safe_mode=False in the same child, so that one fork serves both. Observations stay in the child's
# return value: the parent decides the verdict.


def _attempt(load: Callable[[], object], marker: str | None, extract: str | None) -> dict:
    outcome = {"status": "returned", "error": None, "marker": False, "extracted": None}
    try:
        loaded = load()
        if extract:
            outcome["extracted"] = EXTRACT[extract](loaded)
    except Exception as exc:  # the refusal, whatever its type
        outcome.update(status="raised", error=error_line(exc))
    outcome["marker"] = bool(marker) and Path(marker).exists()
    return outcome


def error_line(exc: BaseException) -> str:
    """`Type: message` on one line. Keras wraps a failure to deserialize a layer in one TypeError per
    enclosing object, each ending "Exception encountered: <cause>": the innermost cause says what was
    refused."""
    message = " ".join(str(exc).split())
    head, sep, cause = message.rpartition("Exception encountered: ")
    return f"{type(exc).__name__}: ... {cause}" if sep else f"{type(exc).__name__}: {message}"


def _vocabulary(model) -> list[str]:
    return [str(token) for layer in model.layers if type(layer).__name__ in ("StringLookup", "IntegerLookup")
            for token in layer.get_vocabulary()]


def _weights(model) -> list[float]:
    import numpy as np

    return [float(v) for w in model.get_weights() for v in np.ravel(w)[:64]]


EXTRACT = {"vocabulary": _vocabulary, "weights": _weights, "layers": lambda m: [type(x).__name__ for x in m.layers]}


def probe_load(path: str, marker: str | None = None, extract: str | None = None, control: bool = False,
               call: bool = False, sys_path: list[str] | None = None, cwd: str | None = None) -> dict:
    """load_model(path) with the default safe mode; with `call`, the loaded model is also called on zeros,
    as a user would predict, so that a payload waiting for inference runs too. `marker`: a file whose
    existence afterwards is the payload's effect; `extract`: what to read back from the loaded model."""
    sys.path[:0] = list(sys_path or ())
    if cwd:
        os.chdir(cwd)

    def load(**kwargs):
        model = keras.models.load_model(path, **kwargs)
        if call:
            model(tf.zeros([1 if d is None else d for d in model.inputs[0].shape]))
        return model

    main = _attempt(load, marker, extract)
    second = None
    if control and not main["marker"]:
        second = _attempt(lambda: load(safe_mode=False), marker, extract)
    return {"main": main, "control": second}


def probe_import(module: str, sys_path: list[str], marker: str) -> dict:
    """The control of the module-import advisory: import `module` directly."""
    import importlib

    sys.path[:0] = sys_path
    return {"main": _attempt(lambda: importlib.import_module(module), marker, None), "control": None}
