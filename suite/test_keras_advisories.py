"""Guide §1.8 reloads saved models; loading a file someone else wrote is where Keras has had most of its
security advisories. Each spec here builds the crafted file an advisory describes (suite/support/untrusted.py:
harmless, its only possible effect a marker file in tmp_path or a canary read back), loads it the way the
guide does (load_model, default safe mode) in a fresh sandboxed process, and reports what happened:

- `refused`: the payload did not take effect (the exception and its message are the detail), and, where
  one exists, a control shows that the same crafted file does take effect where that is allowed
  (safe_mode=False, or the mechanism exercised directly), so the refusal is this build's and not a broken
  reproduction;
- `vulnerable`: the payload took effect (the marker file exists, the canary was read back);
- `not applicable`: the API or file format the advisory is about does not exist here (the reason says why).

The verdict comes only from what the crafted file does on this build, never from a version number; the
advisories, their evidence and their fixes are data in tfguide/catalogue.toml ([[advisory]]). Files whose
weights carry the crafted content (HDF5 references, shape bombs, pickles) are in
suite/test_keras_advisories_hdf5.py.
"""

from __future__ import annotations

import json
import shutil

import pytest

from suite.support.helpers import keras
from suite.support.untrusted import (FormatNotHere, Touch, canary_module, edit_keras_config, find_layer,
                                     gadget_model, keras_function, layer_configs, marker_lambda_model,
                                     marker_savedmodel, save, save_without_side_effects, tar_archive)

# Each spec names the recipe whose guide code reaches what it loads: load_model (§1.8, keras.save_model),
# from_config / model_from_yaml (§1.8, keras.config_json), get_file (§1, the datasets' loader, keras.quickstart).
save_model = pytest.mark.recipe("keras.save_model")
config_json = pytest.mark.recipe("keras.config_json")
data_loader = pytest.mark.recipe("keras.quickstart")


def _ran_bytecode(seen):
    return "the Lambda layer's bytecode ran: it created its marker file" if seen["marker"] else None


def _gadget_or_not_applicable(advisory, advisory_id, path, gadgets):
    try:
        return gadget_model(path, gadgets)
    except FormatNotHere as reason:
        advisory.not_applicable(advisory_id, str(reason))


@save_model
def test_lambda_bytecode_in_a_keras_file_does_not_run_in_safe_mode(tmp_path, advisory):
    # Keras 2.12 wrote HDF5 under a '.keras' name (whose loader ignores safe_mode): the file a user of it
    # ships. Every Keras 2 still hands such a file to the HDF5 loader; Keras 3 refuses a '.keras' file
    # that is not a zip archive.
    zipped = tmp_path / "zip"
    zipped.mkdir()
    path = save_without_side_effects(marker_lambda_model(zipped / "ran"), zipped / "lambda.keras", zipped / "ran")
    hdf5 = tmp_path / "hdf5"
    hdf5.mkdir()
    h5 = save_without_side_effects(marker_lambda_model(hdf5 / "ran"), hdf5 / "lambda.h5", hdf5 / "ran")
    named = shutil.copyfile(h5, hdf5 / "lambda.keras")
    result = advisory.load("probe_load", variants=[
        dict(name="zip archive", path=str(path), marker=str(zipped / "ran"), control=True, call=True),
        dict(name="HDF5 named '.keras'", path=str(named), marker=str(hdf5 / "ran"), call=True)])
    advisory.judge("CVE-2024-3660", result, _ran_bytecode)


@save_model
def test_lambda_bytecode_in_an_h5_file_does_not_run_in_safe_mode(tmp_path, advisory):
    marker = tmp_path / "ran"
    path = save_without_side_effects(marker_lambda_model(marker), tmp_path / "lambda.h5", marker)
    result = advisory.load("probe_load", variants=[dict(name="h5", path=str(path), marker=str(marker),
                                                        control=True, call=True)])
    advisory.judge("CVE-2025-9905", result, _ran_bytecode)


@save_model
def test_a_keras_file_cannot_make_load_model_import_a_module_it_names(tmp_path, advisory):
    # A module on the victim's sys.path stands for any module (os, subprocess, ...): its import creates the
    # marker. Two places name it: a layer's "module", and a Lambda's function (Keras 2 and tf_keras resolve
    # the latter through the same import, tf-keras#910).
    marker = tmp_path / "module-imported"
    modules = tmp_path / "modules"
    module = canary_module(modules, marker)
    base = save(keras.Sequential([keras.Input(shape=(3,)), keras.layers.Activation("linear", name="canary"),
                                  keras.layers.Lambda(lambda x: x, name="gadget")]), tmp_path / "base.keras")

    def as_layer(config):
        layer_configs(config)[-2].update({"module": module, "class_name": "Canary", "registered_name": None,
                                          "config": {"name": "canary", "trainable": True}})

    def as_function(config):
        lam = find_layer(config, "Lambda", "gadget")["config"]
        lam["function"] = keras_function(module, "payload_fn")
        if "function_type" in lam:  # the Keras 2 / tf_keras Lambda config
            lam.update(function_type="function", module=None)

    variants = []
    for name, edit in (("a layer's module", as_layer), ("a Lambda's function", as_function)):
        path = tmp_path / f"{edit.__name__}.keras"
        shutil.copyfile(base, path)
        variants.append(dict(name=name, path=str(edit_keras_config(path, edit)), marker=str(marker)))
    result = advisory.load("probe_load", variants=variants, sys_path=[str(modules)])
    control = advisory.load("probe_import", module=module, sys_path=[str(modules)], marker=str(marker))
    assert control.status == "returned" and control.value["import"]["main"]["marker"], (
        f"control: importing {module} directly should create the marker: {control.value or control.error_line()}")
    advisory.judge("CVE-2025-1550", result,
                   lambda seen: f"load_model imported the module the file names ({module}: its top-level code "
                                "ran)" if seen["marker"] else None, inert=f"loaded, and {module} was not imported")


@save_model
def test_a_keras_file_cannot_make_get_file_write_a_file(tmp_path, advisory):
    source = tmp_path / "payload.txt"
    source.write_text("written by keras.utils.get_file during load_model\n")
    path = _gadget_or_not_applicable(advisory, "CVE-2025-8747", tmp_path / "get_file.keras", [
        ("gadget", keras_function("keras.utils", "get_file"),
         {"origin": source.as_uri(), "cache_dir": str(tmp_path), "cache_subdir": "downloads"}, "marker.txt")])
    marker = tmp_path / "downloads" / "marker.txt"
    # No control: the fixed releases refuse the function whatever safe_mode says.
    result = advisory.load("probe_load", variants=[dict(name="get_file", path=str(path), marker=str(marker))])
    advisory.judge("CVE-2025-8747", result, lambda seen: (
        "load_model called keras.utils.get_file, which wrote a file the config chose" if seen["marker"] else None))


@save_model
def test_a_keras_file_cannot_turn_safe_mode_off(tmp_path, advisory):
    # The first gadget sets the state keras.config.enable_unsafe_deserialization() sets (that function takes
    # no argument, and a Lambda always passes one); the second hands a model whose Lambda holds bytecode to
    # keras.models.model_from_json. Runs in its own child, as every probe does: it changes process-wide state.
    marker = tmp_path / "ran"
    inner = marker_lambda_model(marker).to_json()
    marker.unlink(missing_ok=True)
    path = _gadget_or_not_applicable(advisory, "CVE-2025-9906", tmp_path / "unsafe.keras", [
        ("switch", keras_function("keras.src.backend.common.global_state", "set_global_attribute"),
         {"value": False}, "safe_mode_saving"),
        ("load", keras_function("keras.models", "model_from_json"), {}, inner)])
    result = advisory.load("probe_load", variants=[dict(name="switch then load", path=str(path),
                                                        marker=str(marker))])
    advisory.judge("CVE-2025-9906", result, lambda seen: (
        "config.json switched safe mode off, then a Lambda's bytecode ran" if seen["marker"] else None))


CANARY_TOKENS = ["TFGUIDE_CANARY_ALPHA", "TFGUIDE_CANARY_BETA"]


@save_model
def test_a_lookup_layer_does_not_read_a_vocabulary_file_outside_the_archive(tmp_path, advisory):
    canary = tmp_path / "canary.txt"
    canary.write_text("\n".join(CANARY_TOKENS) + "\n")
    inputs = keras.Input(shape=(1,), dtype="string")
    path = save(keras.Model(inputs, keras.layers.StringLookup(vocabulary=["a", "b"], name="lookup")(inputs)),
                tmp_path / "lookup.keras")
    edit_keras_config(path, lambda config: find_layer(config, "StringLookup")["config"].update(
        vocabulary=str(canary)))
    result = advisory.load("probe_load", variants=[dict(name="vocabulary path", path=str(path),
                                                        extract="vocabulary", control=True)])
    advisory.judge("CVE-2025-12058", result, lambda seen: (
        "load_model read a local file the config names into the layer's vocabulary (the canary's tokens)"
        if set(CANARY_TOKENS) <= set(seen["extracted"] or ()) else None))


def _savedmodel_or_not_applicable(advisory, advisory_id, tmp_path):
    if not hasattr(keras.layers, "TFSMLayer"):
        advisory.not_applicable(advisory_id, "this Keras has no TFSMLayer (it came with Keras 3)")
    marker = tmp_path / "savedmodel-initializer-ran"
    return marker_savedmodel(tmp_path / "external_savedmodel", marker), marker


def _loaded_savedmodel(seen):
    return ("load_model loaded the SavedModel the file points to and ran its initializer (it created the marker)"
            if seen["marker"] else None)


@save_model
def test_a_tfsm_layer_in_a_keras_file_does_not_load_an_external_savedmodel(tmp_path, advisory):
    savedmodel, marker = _savedmodel_or_not_applicable(advisory, "CVE-2026-1462", tmp_path)
    inputs = keras.Input(shape=(2,))
    path = save(keras.Model(inputs, keras.layers.TFSMLayer(str(savedmodel), call_endpoint="serve")(inputs)),
                tmp_path / "tfsm.keras")
    marker.unlink(missing_ok=True)  # building the legitimate model loaded it here, in the spec's process
    result = advisory.load("probe_load", variants=[dict(name="TFSMLayer", path=str(path), marker=str(marker),
                                                        control=True)])
    advisory.judge("CVE-2026-1462", result, _loaded_savedmodel)


@save_model
def test_a_keras_file_cannot_construct_a_tfsm_layer_through_a_lambda(tmp_path, advisory):
    # keras-team/keras#23654: the CVE-2026-1462 fix guards TFSMLayer.from_config only; a Lambda whose
    # function is the TFSMLayer class constructs one, which loads the SavedModel. No control: the day a
    # release refuses this file, the refusal is the verdict.
    savedmodel, marker = _savedmodel_or_not_applicable(advisory, "KERAS-23654", tmp_path)
    path = _gadget_or_not_applicable(advisory, "KERAS-23654", tmp_path / "constructor.keras", [
        ("gadget", keras_function("keras.layers", "TFSMLayer"), {"call_endpoint": "serve"}, str(savedmodel))])
    result = advisory.load("probe_load", variants=[dict(name="constructor", path=str(path), marker=str(marker))])
    advisory.judge("KERAS-23654", result, _loaded_savedmodel)


def _pickled_torch_touch(advisory, advisory_id: str, reader: str, marker) -> str:
    """A torch-pickled Touch(marker), base64 as TorchModuleWrapper's config holds its module; the advisory is not
    applicable where this Keras has no TorchModuleWrapper or torch is not installed (`reader` fails at `import torch`,
    before it unpickles anything)."""
    if not hasattr(keras.layers, "TorchModuleWrapper"):
        advisory.not_applicable(advisory_id, "this Keras has no TorchModuleWrapper")
    try:
        import torch
    except ImportError:
        advisory.not_applicable(advisory_id, f"the torch package is not installed: {reader} fails at `import torch`, "
                                             "before it unpickles anything")
    import base64
    import io

    blob = io.BytesIO()
    torch.save(Touch(marker), blob)
    return base64.b64encode(blob.getvalue()).decode()


@save_model
def test_a_torch_module_in_a_keras_file_is_not_unpickled(tmp_path, advisory):
    marker = tmp_path / "unpickled"
    module = _pickled_torch_touch(advisory, "CVE-2025-49655", "TorchModuleWrapper's from_config", marker)
    path = save(keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, name="torch")]),
                tmp_path / "torch.keras")
    edit_keras_config(path, lambda config: find_layer(config, "Dense").update(
        class_name="TorchModuleWrapper", registered_name=None,
        config={"name": "torch", "module": module, "output_shape": None}))
    result = advisory.load("probe_load", variants=[dict(name="TorchModuleWrapper", path=str(path),
                                                        marker=str(marker), control=True)])
    advisory.judge("CVE-2025-49655", result, lambda seen: (
        "load_model unpickled the torch module in config.json (torch.load ran the pickle's code)"
        if seen["marker"] else None))


@save_model
def test_the_asset_store_keeps_paths_inside_its_directory(tmp_path, advisory):
    # Component level: no crafted file reaches the store with `..` through load_model and Keras' own layers
    # (the store's paths come from class and attribute names); the store itself is what CVE-2026-12479
    # is about.
    (tmp_path / "tmp").mkdir()
    escape = tmp_path / "tmp" / "escape"
    result = advisory.load("probe_asset_store", tmp=str(tmp_path / "tmp"), name="../../escape", marker=str(escape))
    if result.status == "returned" and result.value["store"]["main"]["status"] == "absent":
        advisory.not_applicable("CVE-2026-12479", result.value["store"]["main"]["error"])
    advisory.judge("CVE-2026-12479", result, lambda seen: (
        "the loader's asset store created '../../escape' outside its temporary directory" if seen["marker"] else None))


@config_json
def test_lambda_from_config_does_not_run_bytecode_without_a_safe_mode_argument(tmp_path, advisory):
    # The guide's get_config / from_config round trip, with a config someone else wrote.
    variants = []
    for via in ("lambda", "sequential"):
        marker = tmp_path / f"{via}-ran"
        model = marker_lambda_model(marker)
        if via == "lambda":
            config = model.layers[-1].get_config()
        else:
            config = json.loads(model.to_json())["config"]
            for entry in config["layers"]:  # entries without "module" take the legacy deserializer
                entry.pop("module", None)
                entry.pop("registered_name", None)
        marker.unlink(missing_ok=True)
        # Control: Lambda.from_config(..., safe_mode=False); Sequential.from_config takes no safe_mode.
        variants.append(dict(name=f"{via}.from_config", config=json.dumps(config), via=via, marker=str(marker),
                             control=via == "lambda"))
    result = advisory.load("probe_from_config", variants=variants)
    advisory.judge("CVE-2026-12481", result, _ran_bytecode)


@config_json
def test_torch_module_wrapper_from_config_does_not_unpickle_without_a_safe_mode_argument(tmp_path, advisory):
    # CVE-2026-12484: the guide's from_config round trip with a TorchModuleWrapper config someone else wrote; outside
    # load_model no safe-mode scope is open, and before #23048 from_config read that as "unsafe".
    marker = tmp_path / "unpickled"
    module = _pickled_torch_touch(advisory, "CVE-2026-12484", "TorchModuleWrapper.from_config", marker)
    config = {"name": "torch", "module": module, "output_shape": None}
    result = advisory.load("probe_torch_from_config", config=json.dumps(config), marker=str(marker))
    advisory.judge("CVE-2026-12484", result, lambda seen: (
        "TorchModuleWrapper.from_config unpickled the module in the config (torch.load ran the pickle's code)"
        if seen["marker"] else None))


@config_json
def test_model_from_yaml_does_not_construct_python_objects(tmp_path, advisory):
    if not hasattr(keras.models, "model_from_yaml"):
        advisory.not_applicable("CVE-2021-37678", "this Keras has no model_from_yaml (Keras 3 never had it)")
    marker = tmp_path / "yaml-constructed"
    result = advisory.load("probe_yaml", text=f"!!python/object/apply:os.mkdir [{str(marker)!r}]\n",
                           marker=str(marker))
    advisory.judge("CVE-2021-37678", result, lambda seen: (
        "model_from_yaml constructed a Python object from a YAML tag (os.mkdir ran)" if seen["marker"] else None))


# --- keras.utils.get_file(extract=True): the guide's data loaders fetch files through get_file ---------


def _extraction(tmp_path, advisory, advisory_id, variants, cwd=None):
    """Serve each variant's tar from tmp_path (file://) and extract it with get_file into tmp_path/c1/c2/
    cache/datasets; an escape lands elsewhere in tmp_path, never outside it."""
    (tmp_path / "outside").mkdir()
    cache = tmp_path / "c1" / "c2" / "cache"
    cache.mkdir(parents=True)
    probes = []
    for name, members, escape in variants:
        archive = tar_archive(tmp_path / f"{name}.tar", [("ok.txt", "file", "ok\n"), *members])
        probes.append(dict(name=name, origin=archive.as_uri(), cache_dir=str(cache), escape=escape, cwd=cwd))
    result = advisory.load("probe_get_file", variants=probes, root=str(tmp_path))
    advisory.judge(advisory_id, result, lambda seen: (
        f"get_file(extract=True) wrote {', '.join(seen['extracted'])} outside its extraction directory"
        if seen["marker"] else None), inert="extracted, and every member stayed inside the extraction directory")


@data_loader
def test_get_file_extraction_does_not_follow_a_link_out_of_its_directory(tmp_path, advisory):
    _extraction(tmp_path, advisory, "CVE-2025-12060", [
        ("absolute_symlink", [("lnk", "symlink", str(tmp_path / "outside")),
                              ("lnk/escape_abs.txt", "file", "x\n")], "escape_abs.txt")])


@data_loader
def test_get_file_extraction_checks_members_against_the_destination_not_the_working_directory(tmp_path, advisory):
    _extraction(tmp_path, advisory, "CVE-2026-11816", [
        ("dotdot", [("../../escape_dotdot.txt", "file", "x\n")], "escape_dotdot.txt")], cwd="/")


@data_loader
def test_get_file_extraction_does_not_create_links_named_out_of_its_directory(tmp_path, advisory):
    _extraction(tmp_path, advisory, "CVE-2026-12482", [
        ("symlink_name", [("../../escape_symlink", "symlink", "ok.txt")], "escape_symlink"),
        ("hardlink_name", [("../../escape_hardlink.txt", "hardlink", "ok.txt")], "escape_hardlink.txt")])


@data_loader
def test_get_file_extraction_writes_nothing_outside_its_directory(tmp_path, advisory):
    # CVE-2024-55459 names no carrier ("write arbitrary files ... via a crafted tar file" through get_file, Keras
    # 3.7.0; disputed, keras-team/keras#20766): the three a tar file has, each with a member written through it.
    # Relative paths go up from the extraction directory into tmp_path/c1/c2/cache (outside datasets/).
    _extraction(tmp_path, advisory, "CVE-2024-55459", [
        ("dotdot_member", [("../../escape_member.txt", "file", "x\n")], "escape_member.txt"),
        ("relative_symlink", [("rel", "symlink", "../.."), ("rel/escape_rel.txt", "file", "x\n")], "escape_rel.txt"),
        ("absolute_symlink", [("abs", "symlink", str(tmp_path / "outside")), ("abs/escape_abs.txt", "file", "x\n")],
         "escape_abs.txt")])
