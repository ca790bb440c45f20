"""This file system's write and read bandwidth, measured beside the save/load rows they limit.

A probe writes (or reads back) a file of a given size with plain `open().write()` / `read()`, without
fsync - as Keras writes its files - so what is measured is the page cache's bandwidth, and a file
just written is read back from the page cache, as the load rows read the file their save wrote. The
probes run round-robin with the save/load rows, at the rows' own file sizes and at 64 MiB; the limit
is the best probe of the run (benchmarks/limits.py: a limit that a row exceeds is a wrong limit).
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.rounds import Unit

LARGE = 64 * 2**20


def probe_units(directory: Path, sizes: list[int], group: str) -> list[Unit]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for size in sorted(set(sizes) | {LARGE}):
        payload = os.urandom(size)
        path = directory / f"probe-{size}.bin"
        path.write_bytes(payload)

        def write(clock, path=path, payload=payload):
            with clock.timed():
                with open(path, "wb") as fh:
                    fh.write(payload)
            return len(payload)

        def read(clock, path=path, size=size):
            with clock.timed():
                with open(path, "rb") as fh:
                    data = fh.read()
            if len(data) != size:
                raise AssertionError(f"{path}: read {len(data)} bytes, expected {size}")
            return size

        out.append(Unit(key=f"fs/write/{size}B [{group}]", run=write, max_repeats=64))
        out.append(Unit(key=f"fs/read/{size}B [{group}]", run=read, max_repeats=64))
    return out


def save_load_units(prefix: str, hidden: int, base: dict, save, load, calls: tuple[str, str]) -> list[Unit]:
    """The save row and the load row of one model: `prefix/save/hN` and `prefix/load/hN`, the guide's model
    (hidden = 64) marked as the guide's."""
    return [Unit(key=f"{prefix}/{op}/h{hidden}", run=run, row={
        **base, "name": f"{prefix}/{op}/h{hidden}", "op": op, "call": call, "is_guide": hidden == 64, "config": op})
        for op, run, call in (("save", save, calls[0]), ("load", load, calls[1]))]


def is_probe(key: str, kind: str) -> bool:
    return key.startswith(f"fs/{kind}/")
