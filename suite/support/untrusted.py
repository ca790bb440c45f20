"""Crafted model files for the advisory specs (suite/test_keras_advisories.py), and the probes that load
them inside the sandbox (suite/support/sandbox.py).

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


def rewrite_archive(path: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """Rewrite the members of a '.keras' archive with `change` (which edits {name: bytes} in place)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    change(members)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    tmp.replace(path)
    return path


def edit_keras_config(path: Path, edit: Callable[[dict], None]) -> Path:
    """Rewrite the config.json inside a '.keras' archive with `edit` (which changes the dict in place)."""

    def change(members):
        config = json.loads(members["config.json"])
        edit(config)
        members["config.json"] = json.dumps(config).encode()

    return rewrite_archive(path, change)


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
        "        return x\n"
        "def payload_fn(x, **kwargs):\n"
        "    return x\n")
    return name


class Touch:
    """A pickle's stand-in for code: unpickling it calls pathlib.Path.touch(marker), and nothing else."""

    def __init__(self, marker: Path):
        self.marker = Path(marker)

    def __reduce__(self):
        return Path.touch, (self.marker,)


class FormatNotHere(Exception):
    """The file format or API an advisory is about does not exist in this Keras (the reason says why)."""


def walk_dicts(obj):
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from walk_dicts(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from walk_dicts(value)


def find_layer(config: dict, class_name: str, name: str | None = None) -> dict:
    """The first serialized layer of `class_name` (and `name`) anywhere in a model's config."""
    for entry in walk_dicts(config):
        if entry.get("class_name") == class_name and isinstance(entry.get("config"), dict) \
                and (name is None or entry["config"].get("name") == name):
            return entry
    raise KeyError(f"no {class_name} {name or ''} in the config")


def gadget_model(path: Path, gadgets: list[tuple[str, dict, dict, str]]) -> Path:
    """A functional Input -> Lambda -> ... -> Lambda model saved by this Keras, whose Lambda layers are
    turned into the function gadgets the advisories describe: each (name, function config, arguments,
    string) makes the Lambda `name` call the function named by the config with the string as its input
    and `arguments` as keyword arguments, when load_model rebuilds the graph. Needs Keras 3's config
    format, where a node's inputs are serialized as args/kwargs (Keras 2 passes only tensors between
    layers: FormatNotHere)."""
    inputs = keras.Input(shape=(2,))
    x = inputs
    for name, *_ in gadgets:
        x = keras.layers.Lambda(lambda t: t, name=name)(x)
    save(keras.Model(inputs, x), path)

    def edit(config):
        for name, function, arguments, value in gadgets:
            layer = find_layer(config, "Lambda", name)
            nodes = layer.get("inbound_nodes")
            if not (isinstance(nodes, list) and nodes and isinstance(nodes[0], dict) and "args" in nodes[0]):
                raise FormatNotHere("this Keras serializes a layer's inputs as tensors only (Keras 2 config "
                                    "format): a crafted file cannot hand a function a string")
            layer["config"]["function"] = function
            layer["config"]["arguments"] = arguments
            layer["inbound_nodes"] = [{"args": [], "kwargs": {"inputs": value}}]

    return edit_keras_config(path, edit)


def keras_function(module: str, name: str) -> dict:
    """How a config names a public function (what a crafted file puts in a Lambda's `function`)."""
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


def marker_savedmodel(directory: Path, marker: Path) -> Path:
    """A SavedModel whose resource initializer writes `marker` when tf.saved_model.load restores it (so
    anything that loads it runs code from the SavedModel), with a `serve` endpoint that doubles its input."""

    class MarkerResource(tf.saved_model.experimental.TrackableResource):
        def __init__(self):
            super().__init__()

        def _create_resource(self):
            return tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[], shared_name="")

        def _initialize(self):
            return tf.io.write_file(str(marker), "the SavedModel's initializer ran")

    class External(tf.Module):
        def __init__(self):
            super().__init__()
            self.resource = MarkerResource()

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def serve(self, x):
            return x * 2.0

    module = External()
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})
    marker.unlink(missing_ok=True)
    return directory


def tar_archive(path: Path, members: list[tuple[str, str, str]]) -> Path:
    """A tar file of (name, kind, target-or-content) members, kind one of file / symlink / hardlink."""
    import io
    import tarfile

    with tarfile.open(path, "w") as archive:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = value.encode()
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = value
                archive.addfile(info)
    return path


# --- probes (in the sandbox's child process) -----------------------------------------------------------
# A probe loads crafted files the way the guide does (no safe_mode argument: the default) and returns what
# it observed, per variant: {name: {"main": observation, "control": observation or None}}, an observation
# being {"status", "error", "marker", "extracted"}. With `control`, when the payload did not take effect,
# the same file is loaded again with safe_mode=False in the same child, so that one fork serves both. The
# parent decides the verdict (suite/conftest.py, Verdicts.judge).


def observe(load: Callable[[], object], marker: str | None, extract: str | None) -> dict:
    """Run `load` and say what happened: {"status": returned or raised, "error": the refusal, "marker":
    whether the marker file exists afterwards, "extracted": what EXTRACT[extract] read off the result}."""
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


EXTRACT = {"vocabulary": _vocabulary}


def _load_model(path: str, call: bool = False, **kwargs):
    model = keras.models.load_model(path, **kwargs)
    if call:  # as a user would predict: a payload waiting for inference runs too
        model(tf.zeros([1 if d is None else d for d in model.inputs[0].shape]))
    return model


def probe_load(variants: list[dict], sys_path: list[str] | None = None, cwd: str | None = None) -> dict:
    """For each variant {"name", "path", "marker"?, "extract"?, "call"?, "control"?}: load_model(path) with
    the default safe mode and observe; with `control`, when the payload did not take effect, load it again
    with safe_mode=False. Modules a variant imported are forgotten before the next one, so that a module
    a crafted file names is imported (and observed) again."""
    sys.path[:0] = list(sys_path or ())
    if cwd:
        os.chdir(cwd)
    observed = {}
    for variant in variants:
        before = set(sys.modules)
        marker, extract = variant.get("marker"), variant.get("extract")
        if marker:  # what an earlier variant's payload created is not this variant's doing
            Path(marker).unlink(missing_ok=True)
        load = lambda **kw: _load_model(variant["path"], variant.get("call", False), **kw)  # noqa: E731
        main = observe(load, marker, extract)
        second = None
        if variant.get("control") and not main["marker"]:
            second = observe(lambda: load(safe_mode=False), marker, extract)
        observed[variant["name"]] = {"main": main, "control": second}
        for name in set(sys.modules) - before:
            del sys.modules[name]
    return observed


def probe_import(module: str, sys_path: list[str], marker: str) -> dict:
    """The control of the module-import advisory: import `module` directly."""
    import importlib

    sys.path[:0] = sys_path
    return {"import": {"main": observe(lambda: importlib.import_module(module), marker, None), "control": None}}


def probe_from_config(variants: list[dict]) -> dict:
    """For each variant {"name", "config" (JSON text), "via", "marker", "control"?}: rebuild a layer or model
    from a config the way the guide's get_config / from_config round trip does, with no safe_mode argument:
    via "lambda" -> keras.layers.Lambda.from_config, "sequential" -> keras.Sequential.from_config."""
    observed = {}
    for variant in variants:
        config = json.loads(variant["config"])

        def rebuild(**kwargs):
            if variant["via"] == "lambda":
                layer = keras.layers.Lambda.from_config(config, **kwargs)
                return layer(tf.zeros((1, 2)))
            return keras.Sequential.from_config(config, **kwargs)

        Path(variant["marker"]).unlink(missing_ok=True)
        main = observe(rebuild, variant["marker"], None)
        second = None
        if variant.get("control") and not main["marker"]:
            second = observe(lambda: rebuild(safe_mode=False), variant["marker"], None)
        observed[variant["name"]] = {"main": main, "control": second}
    return observed


def probe_torch_from_config(config: str, marker: str) -> dict:
    """CVE-2026-12484: keras.layers.TorchModuleWrapper.from_config(config) with no safe_mode argument, outside any
    safe-mode scope; when the marker did not appear, the control: from_config(config, safe_mode=False)."""
    wrapper = keras.layers.TorchModuleWrapper

    def rebuild(**kwargs):
        return wrapper.from_config(json.loads(config), **kwargs)

    Path(marker).unlink(missing_ok=True)
    main = observe(rebuild, marker, None)
    second = None if main["marker"] else observe(lambda: rebuild(safe_mode=False), marker, None)
    return {"from_config": {"main": main, "control": second}}


def probe_yaml(text: str, marker: str) -> dict:
    """keras.models.model_from_yaml(text), which TF 2.6 removed (it raises RuntimeError since)."""
    return {"yaml": {"main": observe(lambda: keras.models.model_from_yaml(text), marker, None), "control": None}}


def probe_get_file(variants: list[dict], root: str) -> dict:
    """For each variant {"name", "origin" (a file:// URL), "cache_dir", "escape" (a file name), "cwd"?}:
    keras.utils.get_file(extract=True), as the guide's data loaders call it. The effect: an entry named
    `escape` anywhere under `root` but outside cache_dir/datasets, where get_file extracts (into the
    folder itself on Keras 2, into a folder per archive on Keras 3)."""
    observed = {}
    home = os.getcwd()
    for variant in variants:
        os.chdir(variant.get("cwd") or home)
        datasets = os.path.realpath(os.path.join(variant["cache_dir"], "datasets"))

        def fetch():
            return keras.utils.get_file(fname=variant["name"] + ".tar", origin=variant["origin"], extract=True,
                                        cache_dir=variant["cache_dir"], cache_subdir="datasets")

        seen = observe(fetch, None, None)
        escaped = [os.path.relpath(os.path.join(folder, name), root)
                   for folder, dirs, files in os.walk(root) for name in dirs + files
                   if name == variant["escape"] and not os.path.realpath(folder).startswith(datasets)]
        seen.update(marker=bool(escaped), extracted=escaped)
        observed[variant["name"]] = {"main": seen, "control": None}
    os.chdir(home)
    return observed


def probe_asset_store(tmp: str, name: str, marker: str) -> dict:
    """The component CVE-2026-12479 is about: the '.keras' loader's asset store (saving_lib.DiskIOStore,
    an internal class) asked for a path inside its temporary working directory; `tmp` is where temporary
    directories go, so an escape lands beside the store's, never outside the spec's tmp_path."""
    import importlib
    import tempfile

    tempfile.tempdir = tmp
    lib = None
    for candidate in ("keras.src.saving.saving_lib", "keras.saving.saving_lib", "tf_keras.src.saving.saving_lib"):
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        if hasattr(module, "DiskIOStore") and candidate.split(".")[0] == keras.layers.Dense.__module__.split(".")[0]:
            lib = module
            break
    if lib is None:
        return {"store": {"main": {"status": "absent", "error": "no saving_lib.DiskIOStore in this Keras",
                                   "marker": False, "extracted": None}, "control": None}}
    return {"store": {"main": observe(lambda: lib.DiskIOStore("assets", mode="w").make(name), marker, None),
                      "control": None}}
