"""The advisories about the weights inside a saved file (guide §1.8: save / load_model, save_weights /
load_weights): HDF5 external storage, external links, virtual datasets and shape bombs, and pickled NumPy
weights. As in suite/test_keras_advisories.py, each spec crafts the file an advisory describes from a
legitimate model saved here (suite/support/untrusted_hdf5.py), loads it the way the guide does (default safe mode)
in a fresh sandboxed process, and reports `refused`, `vulnerable` or `not applicable` from what happened.

Each spec's variants (one file per carrier the advisory names) load in one sandboxed child: `vulnerable`
when any variant's payload took effect (the detail names which), `refused` with each variant's refusal.
Controls keep a refusal honest: h5py itself must read the canary through every crafted reference, the
pickled payload must run under np.load(allow_pickle=True), and the legitimate files must load under the
same address-space limit as the shape bombs; when a control fails, the spec fails.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from suite.support.untrusted_hdf5 import (BOMB_SHAPE, CANARY, EXTRACT_BOMB_DECLARED, EXTRACT_FILE_LIMIT,
                                          ZIP_BOMB_DECLARED, asset_extraction_bomb, canary_through, craft,
                                          external_link, external_storage, npz_pickle_archive,
                                          npz_shape_bomb_archive, save_dense, shape_bomb, top_group_link,
                                          virtual_dataset, zip_member_bomb)

PROBES = "suite.support.untrusted_hdf5"
CANARY_KERNEL = CANARY.ravel().tolist()
# The shape bomb declares 64 GiB; the child may map 2 GiB more than it has when it starts (TensorFlow's
# own mappings are already counted): a legitimate load fits, an attempt at the declared size cannot.
HEADROOM = 2 * 2**30
# A member that inflates grows the child step by step until the limit stops it: the time that takes grows with the
# headroom (here 4.4 s at 2 GiB, 1.2 s at 512 MiB, 0.7 s at 256 MiB, where the legitimate files still loaded).
# A legitimate file that does not load under it fails the spec (undetermined), never makes a verdict.
INFLATE_HEADROOM = 2**29
DECLARED = f"{BOMB_SHAPE[0] * BOMB_SHAPE[1] * 4 / 2**30:.0f} GiB"


# --- helpers --------------------------------------------------------------------------------------------

def _crafted(tmp_path, variants: dict) -> dict[str, list[str]]:
    """Craft each variant {name: (suffix, edit, loader)} in its own directory: the probe's variants. The
    control: h5py (no Keras) reads the canary through each crafted reference."""
    probe = {}
    for name, (suffix, edit, loader) in variants.items():
        _, crafted, hdf5, kernel = craft(tmp_path / name, suffix, edit)
        assert canary_through(hdf5, kernel), (
            f"control: h5py does not read the canary through the crafted {name} file: the reproduction "
            "does not work here")
        probe[name] = [loader, str(crafted)]
    return probe


def _observed(result) -> dict[str, dict]:
    assert result.status == "returned", (
        f"the probe itself did not finish: {result.status} {result.error_line()} {result.output[-500:]}")
    return result.value


def _said(observation: dict, tmp_path, took_effect: str | None) -> str:
    """One variant's outcome, short: `took_effect` names the payload's effect when it had it. Keras 3 wraps a
    weight it could not load in "A total of N objects could not be loaded. Example error message for object
    <...>: <cause> List of objects ...": the cause says what happened. Paths under tmp_path are shortened
    (they differ on every run)."""
    if observation["status"] == "absent":
        return f"not applicable ({observation['error']})"
    if observation["status"] == "returned":
        return took_effect or "loaded, and the payload had no effect"
    error = observation["error"].replace(str(tmp_path), "tmp_path")
    wrapped = re.search(r"Example error message for object <[^>]*>: (.*?) List of objects that could not", error)
    if wrapped:
        error = f"{error.split(':')[0]}: ... {wrapped.group(1)}"
    error = error if len(error) <= 240 else error[:240] + "..."
    caught = observation.get("memory_errors")  # "Type: message" of each bound hit (memory, or file size)
    if caught and caught[0] not in error:  # the loader caught it and reported something else
        error = f"{caught[0]}, reported as {error}"
    return f"{took_effect} ({error})" if took_effect else f"refused: {error}"


def _conclude(advisory, advisory_id: str, seen: dict, effective: list[str], effect: str, took: str,
              tmp_path) -> None:
    """vulnerable when any variant took effect (`effective`), not applicable when no variant's API exists
    here, else refused; the detail gives each variant's outcome (`took`: the effect, in a few words)."""
    detail = "; ".join(f"{name}: {_said(o, tmp_path, took if name in effective else None)}"
                       for name, o in seen.items())
    if effective:
        advisory.vulnerable(advisory_id, f"{effect} through {', '.join(effective)} ({detail})")
    if all(o["status"] == "absent" for o in seen.values()):
        advisory.not_applicable(advisory_id, next(iter(seen.values()))["error"])
    advisory.refused(advisory_id, detail)


def _judge_canary(advisory, advisory_id: str, tmp_path, variants: dict) -> None:
    seen = _observed(advisory.load(f"{PROBES}:probe_variants", variants=_crafted(tmp_path, variants)))
    read = [name for name, o in seen.items() if o["kernel"] == CANARY_KERNEL]
    _conclude(advisory, advisory_id, seen, read, "the canary file was read into the Dense kernel",
              "read the canary", tmp_path)


def _limit(headroom: int) -> str:
    return f"{headroom / 2**30:g} GiB of address-space headroom"


def _judge_bomb(advisory, advisory_id: str, tmp_path, loader: str, suffixes: tuple[str, ...], make=None,
                declared: str = DECLARED, attempt: str | None = None, headroom: int = HEADROOM, **bounds) -> None:
    """Each legitimate file (the control) and its bomb, loaded by `loader` under HEADROOM. The legitimate
    files load first: a later MemoryError, or the child's death by the limit, is the bomb's. The bomb is the
    HDF5 shape bomb, or `make(copy of the legitimate file)`; `bounds` go to the probe (a file-size bound)."""
    controls, bombs = {}, {}
    for suffix in suffixes:
        directory = tmp_path / f"bomb{suffix.replace('.', '-')}"
        if make is None:
            legit, crafted, _, _ = craft(directory, suffix, shape_bomb)
        else:
            directory.mkdir(parents=True)
            legit = save_dense(directory / f"legit{suffix}")
            crafted = make(Path(shutil.copyfile(legit, directory / f"crafted{suffix}")))
        controls[f"legit{suffix}"] = [loader, str(legit)]
        bombs[f"bomb{suffix}"] = [loader, str(crafted)]
    result = advisory.load(f"{PROBES}:probe_variants", variants={**controls, **bombs}, watch_memory=True,
                           memory_headroom=headroom, **bounds)
    if result.status == "memory":  # the child died of the limit: its last line says what it was loading
        loading = re.findall(r"probe: loading (\S+)", result.output)
        assert loading and loading[-1] in bombs, (
            f"control: the legitimate file did not load under {_limit(headroom)}: {result.output[-500:]}")
        advisory.vulnerable(advisory_id, f"loading {loading[-1]} with {loader} made the child die of its address-"
                                         f"space limit: the loader tried to allocate the declared {declared}")
    seen = _observed(result)
    broken = {name: o["error"] or o["memory_errors"] for name, o in seen.items()
              if name in controls and (o["status"] == "raised" or o["memory_errors"])}
    assert not broken, f"control: the legitimate files must load under {_limit(headroom)}: {broken}"
    # The legitimate load just before raised none: a MemoryError now is the bomb's, whatever Keras reported.
    tried = [name for name in bombs if seen[name]["memory_errors"]]
    _conclude(advisory, advisory_id, {name: seen[name] for name in bombs}, tried,
              attempt or f"{loader} tried to allocate the declared {declared} (MemoryError under the limit)",
              "tried to allocate" if attempt is None else "hit the bound", tmp_path)


# --- pickled NumPy weights ------------------------------------------------------------------------------

@pytest.mark.recipe("keras.save_model")
def test_pickled_npz_weights_in_a_keras_file_are_not_unpickled(tmp_path, advisory):
    marker = tmp_path / "unpickled"
    path = npz_pickle_archive(tmp_path / "npz_weights.keras", marker)
    seen = _observed(advisory.load(f"{PROBES}:probe_npz", path=str(path), marker=str(marker)))
    if seen["main"]["marker"]:
        advisory.vulnerable("KERAS-NPZ-PICKLE", "load_model unpickled an object array of model.weights.npz: the "
                                                "pickled callable created its marker file")
    assert seen["control"]["marker"], (
        f"control: np.load(allow_pickle=True) of the crafted model.weights.npz should create the marker, but did "
        f"not ({seen['control']['error'] or 'no effect'}): the reproduction does not work here")
    advisory.refused("KERAS-NPZ-PICKLE", seen["main"]["error"] or "loaded, and nothing was unpickled")


# --- HDF5 external storage and external links: a local file read into a weight ---------------------------

@pytest.mark.recipe("keras.save_model")
def test_hdf5_external_references_in_the_weights_of_a_keras_file_are_not_read(tmp_path, advisory):
    _judge_canary(advisory, "CVE-2026-1669", tmp_path, {
        "keras_external_storage": (".keras", external_storage, "load_model"),
        "keras_external_link": (".keras", external_link, "load_model"),
    })


@pytest.mark.recipe("keras.save_weights")
def test_hdf5_external_references_in_a_weights_file_are_not_read(tmp_path, advisory):
    _judge_canary(advisory, "CVE-2026-1669", tmp_path, {
        "weights_external_storage": (".weights.h5", external_storage, "load_weights"),
        "weights_external_link": (".weights.h5", external_link, "load_weights"),
        # On the top-level group: keras-team/keras#23168 (3.15.1, 3.12.4) checks every group of a path.
        "weights_top_group_link": (".weights.h5", top_group_link, "load_weights"),
    })


@pytest.mark.recipe("keras.save_model")
def test_hdf5_external_references_in_an_h5_model_are_not_read(tmp_path, advisory):
    _judge_canary(advisory, "CVE-2026-9335", tmp_path, {
        "h5_external_storage": (".h5", external_storage, "load_model"),
        "h5_external_link": (".h5", external_link, "load_model"),
    })


@pytest.mark.recipe("keras.save_weights")
def test_hdf5_external_references_in_h5_weights_or_the_file_editor_are_not_read(tmp_path, advisory):
    # KerasFileEditor (keras.saving, Keras >= 3.6) is Keras' public tool for inspecting the weights files
    # others wrote; the guide does not use it, but the advisory names it with load_weights, and no release
    # fixed the editor later than load_weights (links: both 3.15.0 / 3.12.3; external storage: 3.14.0 /
    # 3.12.1 against 3.14.1 / 3.12.2), so it never makes keras.save_weights vulnerable where load_weights is safe.
    _judge_canary(advisory, "CVE-2026-9335", tmp_path, {
        "h5_load_weights_external_storage": (".h5", external_storage, "load_weights"),
        "h5_load_weights_external_link": (".h5", external_link, "load_weights"),
        "h5_load_weights_model_weights_link": (".h5", top_group_link, "load_weights"),
        "editor_external_storage": (".weights.h5", external_storage, "file_editor"),
        "editor_external_link": (".weights.h5", external_link, "file_editor"),
    })


@pytest.mark.recipe("keras.save_weights")
def test_an_hdf5_virtual_dataset_in_a_weights_file_is_not_read(tmp_path, advisory):
    _judge_canary(advisory, "CVE-2026-12480", tmp_path, {
        "weights_virtual_dataset": (".weights.h5", virtual_dataset, "load_weights"),
    })


# --- HDF5 shape bombs: a few KiB declaring 64 GiB ------------------------------------------------------------

@pytest.mark.recipe("keras.save_model")
def test_an_hdf5_shape_bomb_in_a_model_file_is_refused_before_allocating(tmp_path, advisory):
    _judge_bomb(advisory, "CVE-2026-12570", tmp_path, "load_model", (".keras", ".h5"))


@pytest.mark.recipe("keras.save_weights")
def test_an_hdf5_shape_bomb_is_refused_by_the_file_editor_before_allocating(tmp_path, advisory):
    # The editor's bound (3.14.0 / 3.12.1 / 3.13.2) came before load_weights' (3.15.0 / 3.12.3): see above.
    _judge_bomb(advisory, "CVE-2026-0897", tmp_path, "file_editor", (".weights.h5", ".keras"))


# --- archive members that declare far more than they store (decompression bombs) ---------------------------------
# Security fixes without an advisory: keras-team/keras#23010, #23016, #23101; #23212 reported what is left. Each
# crafted member is honest (it inflates to what it declares); the sandbox's bounds stop the load long before that.

def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


@pytest.mark.recipe("keras.save_model")
def test_a_keras_file_whose_config_declares_gigabytes_is_refused_before_inflating(tmp_path, advisory):
    # config.json is the first thing load_model reads, in any safe mode: a few MiB inflating to 4 GiB of JSON
    _judge_bomb(advisory, "KERAS-23010", tmp_path, "load_model", (".keras",), make=zip_member_bomb,
                declared=_mib(ZIP_BOMB_DECLARED), headroom=INFLATE_HEADROOM)


@pytest.mark.recipe("keras.save_model")
def test_npz_weights_declaring_gigabytes_are_refused_before_allocating(tmp_path, advisory):
    # The loader reads model.weights.npz when the archive has no model.weights.h5 (as KERAS-NPZ-PICKLE does);
    # NumPy allocates what a .npy header declares before reading any data.
    _judge_bomb(advisory, "KERAS-23016", tmp_path, "load_model", (".keras",), make=npz_shape_bomb_archive)


@pytest.mark.recipe("keras.save_model")
def test_an_archive_member_declaring_hundreds_of_mib_is_not_extracted_to_disk(tmp_path, advisory):
    # An archive of more than three members is extracted to disk for the asset store. The child may write no file
    # over EXTRACT_FILE_LIMIT (its temporary directories under tmp_path): a write past it is the attempt.
    _judge_bomb(advisory, "KERAS-23101", tmp_path, "load_model", (".keras",), make=asset_extraction_bomb,
                declared=_mib(EXTRACT_BOMB_DECLARED),
                attempt=f"load_model extracted a member declaring {_mib(EXTRACT_BOMB_DECLARED)} to disk, past the "
                        f"{_mib(EXTRACT_FILE_LIMIT)} file-size bound",
                file_limit=EXTRACT_FILE_LIMIT, tmp=str(tmp_path / "tmp"))


@pytest.mark.recipe("keras.save_weights")
def test_the_file_editor_refuses_a_config_declaring_gigabytes(tmp_path, advisory):
    # keras-team/keras#23212: KerasFileEditor reads config.json and metadata.json unbounded (#23303 bounds them on
    # master, in no release up to 3.15.1). No control beyond the legitimate file: the day a release refuses the
    # bomb, the refusal is the verdict.
    _judge_bomb(advisory, "KERAS-23212", tmp_path, "file_editor", (".keras",), make=zip_member_bomb,
                declared=_mib(ZIP_BOMB_DECLARED), headroom=INFLATE_HEADROOM)
