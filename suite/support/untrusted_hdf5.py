"""Crafted weight files for the HDF5 and weight-file advisory specs (suite/test_keras_advisories_hdf5.py),
and the probes that load them inside the sandbox (suite/support/sandbox.py).

The rules of suite/support/untrusted.py hold here too: each file starts as a legitimate model saved by the Keras
under test and gets exactly the edit an advisory describes (with h5py or zipfile); the only effects it can
have are a marker file in the spec's tmp_path, a canary file the spec wrote there read back into a weight,
or an allocation that the sandbox's address-space limit stops.

The model is always Input(2) -> Dense(3, name="d"). Its kernel is the only (2, 3) dataset of every weights
layout ('.keras' and '.weights.h5': layers/d/vars/0, or _layer_checkpoint_dependencies/... on Keras
2.12-2.14; legacy '.h5': model_weights/d/d/kernel:0), so an edit finds it by shape whatever the version
calls it, and a kernel equal to CANARY can only have come from the canary file.
"""

from __future__ import annotations

import functools
import importlib
import io
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import tensorflow as tf

from suite.support.untrusted import Touch, error_line, observe, rewrite_archive, save

keras = tf.keras

KERNEL_SHAPE = (2, 3)
# Values no initializer draws, exact in float32.
CANARY = np.array([[1234.5, -42.25, 7.0], [0.125, 99.0, -1.5]], dtype="float32")
# The shape bomb: 2 x 2**33 float32 = 64 GiB declared, nothing stored (the file stays a few KiB).
BOMB_SHAPE = (2, 8 * 2**30)
WEIGHTS_MEMBER, NPZ_MEMBER = "model.weights.h5", "model.weights.npz"

# --- crafting (in the spec's process) ---------------------------------------------------------------------


def dense_model() -> "keras.Model":
    inputs = keras.Input(shape=(2,))
    return keras.Model(inputs, keras.layers.Dense(3, name="d")(inputs))


def save_dense(path: Path) -> Path:
    """The legitimate file: a '.keras' archive, a legacy '.h5' model (model.save) or a '.weights.h5' file
    (model.save_weights), as this Keras writes them."""
    model = dense_model()
    if path.name.endswith(".weights.h5"):
        model.save_weights(str(path))
        return path
    return save(model, path)


def craft(directory: Path, suffix: str, edit: Callable[[Path, Path], str]) -> tuple[Path, Path, Path, str]:
    """Save the legitimate file `directory/legit<suffix>`, copy it to `directory/crafted<suffix>` and apply
    `edit(hdf5 file, directory)` to the copy's weights (for a '.keras' archive, to its weights member, which
    stays on disk beside it for the control). Returns (legit, crafted, edited HDF5 file, kernel dataset)."""
    directory.mkdir(parents=True, exist_ok=True)
    legit = save_dense(directory / f"legit{suffix}")
    crafted = directory / f"crafted{suffix}"
    shutil.copyfile(legit, crafted)
    if suffix != ".keras":
        return legit, crafted, crafted, edit(crafted, directory)
    member = directory / f"crafted-{WEIGHTS_MEMBER}"
    kernel = None

    def edit_member(members: dict[str, bytes]) -> None:
        nonlocal kernel
        member.write_bytes(members[WEIGHTS_MEMBER])
        kernel = edit(member, directory)
        members[WEIGHTS_MEMBER] = member.read_bytes()

    rewrite_archive(crafted, edit_member)
    return legit, crafted, member, kernel


def kernel_dataset(h5: h5py.File) -> str:
    """The path of the Dense kernel: the file's only (2, 3) dataset."""
    found = []
    h5.visititems(lambda name, obj: found.append(name)
                  if isinstance(obj, h5py.Dataset) and obj.shape == KERNEL_SHAPE else None)
    if len(found) != 1:
        raise AssertionError(f"expected the Dense kernel as the only {KERNEL_SHAPE} dataset, found {found}")
    return found[0]


def _replace_kernel(path: Path, create: Callable[[h5py.File, str], object]) -> str:
    """Replace the kernel dataset by `create(file, its path)`, keeping its attributes; return the path."""
    with h5py.File(path, "r+") as h5:
        kernel = kernel_dataset(h5)
        attrs = dict(h5[kernel].attrs)
        del h5[kernel]
        created = create(h5, kernel)
        for key, value in attrs.items():
            created.attrs[key] = value
    return kernel


def external_storage(path: Path, directory: Path) -> str:
    """The kernel becomes a dataset whose data HDF5 reads from another file: the raw canary."""
    raw = directory / "canary-kernel.bin"
    CANARY.tofile(raw)
    return _replace_kernel(path, lambda h5, name: h5.create_dataset(
        name, KERNEL_SHAPE, "float32", external=[(str(raw), 0, CANARY.nbytes)]))


def external_link(path: Path, directory: Path, depth: int | None = None) -> str:
    """A group on the kernel's path moves to another HDF5 file, where the kernel is the canary, and an
    ExternalLink takes its place: the kernel's own group, or with `depth` the group made of the first
    `depth` components of its path (1: the top-level group, e.g. 'layers' or 'model_weights', an
    intermediate group that checks of the last component alone never see)."""
    with h5py.File(path, "r+") as h5:
        kernel = kernel_dataset(h5)
        parts = kernel.split("/")
        group = "/".join(parts[:depth or len(parts) - 1])
        linked = directory / f"linked-{group.replace('/', '-')}.h5"
        with h5py.File(linked, "w") as other:
            h5.copy(h5[group], other, name="linked")
            other["linked"][kernel[len(group) + 1:]][...] = CANARY
        del h5[group]
        h5[group] = h5py.ExternalLink(str(linked), "/linked")
    return kernel


def top_group_link(path: Path, directory: Path) -> str:
    return external_link(path, directory, depth=1)


def virtual_dataset(path: Path, directory: Path) -> str:
    """The kernel becomes a virtual dataset mapping a dataset of another HDF5 file: the canary."""
    source = directory / "vds-canary.h5"
    with h5py.File(source, "w") as h5:
        h5["canary"] = CANARY
    layout = h5py.VirtualLayout(shape=KERNEL_SHAPE, dtype="float32")
    layout[...] = h5py.VirtualSource(str(source), "canary", shape=KERNEL_SHAPE)
    return _replace_kernel(path, lambda h5, name: h5.create_virtual_dataset(name, layout))


def shape_bomb(path: Path, directory: Path) -> str:
    """The kernel becomes a dataset declaring BOMB_SHAPE with no data written: HDF5 allocates no storage
    for it, and reading it means allocating the whole declared size."""
    return _replace_kernel(path, lambda h5, name: h5.create_dataset(name, BOMB_SHAPE, "float32"))


def canary_through(path: Path, kernel: str) -> bool:
    """The control of the external references: h5py itself (no Keras) reads the canary at `kernel`."""
    with h5py.File(path, "r") as h5:
        return bool(np.array_equal(h5[kernel][()], CANARY))


def npz_pickle_archive(path: Path, marker: Path) -> Path:
    """Save the legitimate '.keras' archive at `path`, then replace its HDF5 weights by a
    model.weights.npz (which the loader reads when the archive has no model.weights.h5) whose arrays are
    object arrays holding a pickled _Touch: np.load(allow_pickle=True) creates `marker`."""
    save_dense(path)
    payload = np.empty((), dtype=object)
    payload[()] = Touch(marker)
    buffer = io.BytesIO()
    # "__root__" is read first for every model; the layer keys cover the layouts of the versions.
    np.savez(buffer, **{"__root__": payload, "layers/d": payload, "_layer_checkpoint_dependencies/d": payload})

    def swap(members: dict[str, bytes]) -> None:
        del members[WEIGHTS_MEMBER]
        members[NPZ_MEMBER] = buffer.getvalue()

    return rewrite_archive(path, swap)


# --- ZIP and npz members that declare far more than they store (keras-team/keras#23010, #23016, #23101) -------

# Just over the 4 GiB floor of #23010's check (and 100 times what is stored): the member a reader inflating it
# whole must allocate, which the sandbox's 2 GiB of headroom cannot hold.
ZIP_BOMB_DECLARED = 4 * 2**30 + 2**26
# Past the 256 MiB floor of #23101's extraction check; the probe bounds the files the child may write far below it.
EXTRACT_BOMB_DECLARED = 2**28 + 2**24
EXTRACT_FILE_LIMIT = 2**24
_BLOCK = 2**20


def _crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """zlib's crc32_combine: the CRC-32 of A + B from those of A and B and B's length (GF(2) matrices), so the
    CRC of gigabytes of repeated blocks costs a few hundred operations instead of reading them."""
    def times(mat, vec):
        out, i = 0, 0
        while vec:
            if vec & 1:
                out ^= mat[i]
            vec >>= 1
            i += 1
        return out

    def square(mat):
        return [times(mat, mat[n]) for n in range(32)]

    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = square(odd)
    odd = square(even)
    while True:
        even = square(odd)
        if len2 & 1:
            crc1 = times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = square(even)
        if len2 & 1:
            crc1 = times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def deflate_bomb(head: bytes, fill: bytes, declared: int) -> tuple[bytes, int, int]:
    """A raw DEFLATE stream of `head` followed by `fill` repeated up to at least `declared` bytes, built in the
    time of its compressed size (a few MiB): after a full flush the compressor starts afresh, so every further
    block of `fill` compresses to the same bytes. Returns (stream, size, CRC-32) of the whole content."""
    import zlib

    block = fill * (_BLOCK // len(fill))
    count = -(-(declared - len(head)) // len(block))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    if compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH) != repeated:
        raise AssertionError("zlib did not compress a block the same after a full flush: cannot build the bomb")
    # The final flush after a full flush is an empty last block whatever came before: the stream may hold the
    # repeated block any number of times.
    stream = first + repeated * count + compressor.flush()
    crc, piece_crc, piece_len, n = 0, zlib.crc32(block), len(block), count
    while n:
        if n & 1:
            crc = _crc32_combine(crc, piece_crc, piece_len)
        piece_crc, piece_len, n = _crc32_combine(piece_crc, piece_crc, piece_len), piece_len * 2, n >> 1
    return stream, len(head) + count * len(block), _crc32_combine(zlib.crc32(head), crc, count * len(block))


class _Deflated:
    """A compressor for zipfile's member writer that hands over a finished DEFLATE stream."""

    def __init__(self, stream: bytes):
        self.stream = stream

    def compress(self, data: bytes) -> bytes:
        return b""

    def flush(self) -> bytes:
        return self.stream


def _write_members(path: Path, members: dict[str, bytes], bombs: dict[str, tuple[bytes, int, int]]) -> Path:
    """Write the archive `path`: `members` stored as Keras stores them, each of `bombs` as its (DEFLATE stream,
    size, CRC): an honest ZIP64 member whose content is what the stream inflates to."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, data in members.items():
            if name not in bombs:
                archive.writestr(name, data)
                continue
            stream, size, crc = bombs[name]
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                # zipfile's writer counts and checksums what passes through it; the content never does here
                member._compressor = _Deflated(stream)
                member._file_size, member._crc = size, crc
    with zipfile.ZipFile(tmp) as archive:  # the archive says what it declares, and starts as the real member
        for name, (_, size, _) in bombs.items():
            if archive.getinfo(name).file_size != size or not archive.open(name).read(len(members[name])) == members[name]:
                raise AssertionError(f"the crafted member {name} does not read back as written")
    tmp.replace(path)
    return path


def zip_member_bomb(path: Path, member: str = "config.json") -> Path:
    """A copy of the '.keras' archive at `path` whose `member` is its real content followed by spaces (JSON still:
    inflated whole, it is the same config) up to ZIP_BOMB_DECLARED, stored deflated in about 4 MiB."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    return _write_members(path, members, {member: deflate_bomb(members[member], b" ", ZIP_BOMB_DECLARED)})


def asset_extraction_bomb(path: Path) -> Path:
    """A copy of the '.keras' archive at `path` with a fourth member, assets/padding.bin: EXTRACT_BOMB_DECLARED
    zero bytes deflated into about 300 KiB. With more than three members the loader extracts the archive to disk
    for its asset store."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["assets/padding.bin"] = b""
    return _write_members(path, members, {"assets/padding.bin": deflate_bomb(b"", b"\0", EXTRACT_BOMB_DECLARED)})


def npz_shape_bomb_archive(path: Path) -> Path:
    """A copy of the '.keras' archive at `path` whose HDF5 weights are replaced by a model.weights.npz (which the
    loader reads when the archive has no model.weights.h5) holding, for the Dense layer, a .npy member whose
    header declares a float32 array of BOMB_SHAPE (64 GiB) and no data: a few hundred bytes each."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": BOMB_SHAPE})
    # The store's key is the layer's path in the model: by class name in Keras 3 ('layers/dense'), the other
    # layouts for the versions that name it otherwise. Not "__root__": #23016 checks only the layers' keys.
    keys = ("layers/dense", "layers/d", "_layer_checkpoint_dependencies/dense", "_layer_checkpoint_dependencies/d")
    bomb = {f"{key}.npy": header.getvalue() for key in keys}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as npz:  # np.savez's layout: one stored .npy member per key
        for name, data in bomb.items():
            npz.writestr(name, data)

    def swap(members: dict[str, bytes]) -> None:
        del members[WEIGHTS_MEMBER]
        members[NPZ_MEMBER] = buffer.getvalue()

    return rewrite_archive(path, swap)


# --- probes (in the sandbox's child process) -------------------------------------------------------------
# Each probe returns observations only; the spec decides the verdict.


class _Absent(Exception):
    """The API a variant needs does not exist in this Keras."""


def file_editor():
    """keras.saving.KerasFileEditor of the Keras that tf.keras is (Keras >= 3.6), else _Absent."""
    package = importlib.import_module(keras.__name__.split(".")[0])  # keras._tf_keras.keras -> keras
    editor = getattr(getattr(package, "saving", None), "KerasFileEditor", None)
    if editor is None:
        raise _Absent(f"keras.saving.KerasFileEditor does not exist in {package.__name__} "
                      f"{getattr(package, '__version__', '')}".strip())
    return editor


def _kernel_of_model(model) -> list[float]:
    return np.ravel(model.get_layer("d").get_weights()[0]).tolist()


def _kernel_in(tree) -> list[float] | None:
    if isinstance(tree, dict):
        return next((k for k in map(_kernel_in, tree.values()) if k is not None), None)
    return np.ravel(tree).tolist() if np.shape(tree) == KERNEL_SHAPE else None


def _load_model(path: str, seen: dict) -> None:
    seen["kernel"] = _kernel_of_model(keras.models.load_model(path))


def _load_weights(path: str, seen: dict) -> None:
    model = dense_model()
    try:
        model.load_weights(path)
    finally:  # what reached the model's weights counts even when load_weights then raised
        seen["kernel"] = _kernel_of_model(model)


def _open_in_file_editor(path: str, seen: dict) -> None:
    seen["kernel"] = _kernel_in(file_editor()(path).weights_dict)


LOADERS = {"load_model": _load_model, "load_weights": _load_weights, "file_editor": _open_in_file_editor}


def _is_bound(exc_type, exc) -> bool:
    """MemoryError (the address-space bound), or EFBIG: a write past the file-size bound (RLIMIT_FSIZE)."""
    import errno

    return issubclass(exc_type, MemoryError) or (issubclass(exc_type, OSError)
                                                 and getattr(exc, "errno", None) == errno.EFBIG)


def _watching_memory_errors(load: Callable[[], None], caught: list[str]) -> None:
    """load(), noting every MemoryError raised in it, even one the loader catches: Keras 3 collects a
    layer's loading error and may report a later one in its place (3.15.0 says "expected 2 variables, but
    received 0" after a refused or failed first read), so the final message alone can hide an attempt."""
    def in_frame(frame, event, arg):
        if event == "exception" and _is_bound(arg[0], arg[1]) and f"{arg[0].__name__}: {arg[1]}" not in caught:
            caught.append(f"{arg[0].__name__}: {arg[1]}")
        return in_frame

    def on_call(frame, event, arg):
        frame.f_trace_lines = False  # exceptions only: no per-line events
        return in_frame

    sys.settrace(on_call)
    try:
        load()
    finally:
        sys.settrace(None)


def _bound_files(tmp: str, limit: int) -> None:
    """In this child: no file larger than `limit` bytes (a write past it fails with EFBIG instead of killing the
    child with SIGXFSZ), and temporary directories (the loader's extraction) under `tmp`, in the spec's tmp_path."""
    import resource
    import signal
    import tempfile

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    Path(tmp).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = tmp


def probe_variants(variants: dict[str, list[str]], watch_memory: bool = False, file_limit: int | None = None,
                   tmp: str | None = None) -> dict[str, dict]:
    """Load each file of {variant: [loader, path]} in turn (LOADERS; the default safe mode) in this one
    child. Per variant: status returned / raised / absent, the error, the (2, 3) kernel read (flat), and
    with `watch_memory` the MemoryErrors raised during the load, caught or not (and writes past `file_limit`,
    which bounds the files this child may write, its temporary directories going to `tmp`)."""
    if file_limit:
        _bound_files(tmp, file_limit)
    seen = {}
    for name, (loader, path) in variants.items():
        # A child that dies of the address-space limit leaves only its output: this line says which file.
        print(f"probe: loading {name}", flush=True)
        observation = seen[name] = {"status": "returned", "error": None, "kernel": None, "memory_errors": []}
        load = functools.partial(LOADERS[loader], path, observation)
        try:
            if watch_memory:
                _watching_memory_errors(load, observation["memory_errors"])
            else:
                load()
        except _Absent as exc:
            observation.update(status="absent", error=str(exc))
        except Exception as exc:  # the refusal, whatever its type; MemoryError included
            observation.update(status="raised", error=error_line(exc))
    return seen


def probe_npz(path: str, marker: str) -> dict:
    """load_model(path); when the marker did not appear, the control: np.load(allow_pickle=True) of the
    archive's npz member, in this child, must create it (the payload works with this NumPy)."""
    main = observe(lambda: keras.models.load_model(path), marker, None)
    control = None
    if not main["marker"]:
        def unpickle():
            with zipfile.ZipFile(path) as archive:
                return np.load(io.BytesIO(archive.read(NPZ_MEMBER)), allow_pickle=True)["__root__"]

        control = observe(unpickle, marker, None)
    return {"main": main, "control": control}
