"""Turns between the two processes of an A/B pair: one works at a time, and each row's rounds alternate A B, B A.

`python -m benchmarks.ab` runs A's and B's pass processes side by side and hands them a baton (a Unix socket
of a Server in the parent: TFGUIDE_BENCH_BATON). A process takes the baton before it imports TensorFlow and
holds it for everything it does - its limits, set-ups, warm-ups, rounds - except that before each round of a
unit it gives it up and waits for it again (`turn(key)`). The server gives the freed baton to the other process
when it waits (and none before both have joined: a process still starting must not find the other half-way
through its rounds); when both wait for the same unit, they measure it one right after the other, and who goes
first alternates from one round of that unit to the next. So A's round r of a row and B's round r of the same
row are taken within a round's time of each other, with the other process idle - the drift of a shared machine,
which moves its speed over seconds (docs/measurements.md), hits both alike and cancels in their ratio - and
neither always runs right after the other (a cold cache would then always hurt the same side).

Duet (`Server(duet=True)`, `python -m benchmarks.ab --duet`): the two processes run *at the same time*, each pinned
to its own half of the cores (TFGUIDE_BENCH_CPUS, applied by `join` before TensorFlow starts), and the baton
becomes a barrier: a process waiting for a unit's round is let go when the other waits for the same unit, so that
both start round r together (Bulej et al., "Duet Benchmarking: Improving Measurement Accuracy in the Cloud"):
whatever slows the machine during that round slows both.

Protocol, one line each: the client sends `w KEY` (waiting for a turn to measure KEY; `w ` at the start),
which also frees the baton if it held it; the server answers `g` when the baton is the client's. A client that
closes its socket (its process ended, or was killed) frees the baton. Standard library only.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import tempfile
import threading

ENV = "TFGUIDE_BENCH_BATON"
CPUS_ENV = "TFGUIDE_BENCH_CPUS"   # a duet side's cores, e.g. "0" or "2,3"
POLL_S = 0.2   # the server's thread checks this often whether it should stop


class Server:
    """The parent's side: `with Server() as server:` then give each process `server.env()`."""

    def __init__(self, expected: int = 2, duet: bool = False):
        self.expected = expected   # no turn is handed out before this many processes have joined
        self.duet = duet           # both measure at once, released together round by round
        # A short path under the system's temporary folder: a Unix socket's path is limited to ~100 bytes.
        self._dir = tempfile.mkdtemp(prefix="tfguide-baton-")
        self.path = os.path.join(self._dir, "s")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(8)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._clients: list[socket.socket] = []
        self._order: dict[socket.socket, int] = {}        # client -> its rank in joining (its first `w`)
        self._buffers: dict[socket.socket, bytes] = {}
        self._waiting: dict[socket.socket, str] = {}      # client -> the key it waits to measure
        self._held: dict[socket.socket, int] = {}         # client -> when it last got the baton (a counter)
        self._first: dict[str, int] = {}                  # key -> how often both waited for it
        self._holder: socket.socket | None = None
        self._gone: set[socket.socket] = set()            # clients whose process ended
        self._grants = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="baton", daemon=True)
        self._thread.start()

    def env(self) -> dict[str, str]:
        return {ENV: self.path}

    @property
    def grants(self) -> int:
        """How many turns were handed out (a test's evidence that the processes took turns)."""
        return self._grants

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5 * POLL_S)
        for sock in [*self._clients, self._listener]:
            sock.close()
        self._selector.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(POLL_S):
                if key.fileobj is self._listener:
                    client, _ = self._listener.accept()
                    self._clients.append(client)
                    self._buffers[client] = b""
                    self._selector.register(client, selectors.EVENT_READ)
                else:
                    self._read(key.fileobj)
            self._grant()

    def _read(self, client: socket.socket) -> None:
        try:
            data = client.recv(4096)
        except OSError:
            data = b""
        if not data:   # the process ended: whatever it held is free
            self._selector.unregister(client)
            self._gone.add(client)
            self._waiting.pop(client, None)
            if self._holder is client:
                self._holder = None
            return
        self._buffers[client] += data
        *lines, self._buffers[client] = self._buffers[client].split(b"\n")
        for line in lines:
            if line.startswith(b"w "):
                self._order.setdefault(client, len(self._order))
                if self._holder is client:
                    self._holder = None
                self._waiting[client] = line[2:].decode("utf-8", "replace")

    def _grant(self) -> None:
        if self.duet:
            self._release()
            return
        if self._holder is not None or not self._waiting or len(self._order) < self.expected:
            return
        by_key: dict[str, list[socket.socket]] = {}
        for client, key in self._waiting.items():
            if key:
                by_key.setdefault(key, []).append(client)
        same = next((clients for clients in by_key.values() if len(clients) > 1), None)
        if same is not None:   # both wait for the same unit: who goes first alternates from round to round
            key = self._waiting[same[0]]
            same.sort(key=self._order.__getitem__)
            client = same[self._first.get(key, 0) % len(same)]
            self._first[key] = self._first.get(key, 0) + 1
        else:                  # otherwise the one that has waited longest since it last held the baton
            client = min(self._waiting, key=lambda c: (self._held.get(c, -1), self._order[c]))
        del self._waiting[client]
        self._holder = client
        self._grants += 1
        self._held[client] = self._grants
        try:
            client.sendall(b"g\n")
        except OSError:        # it died meanwhile; its end of file comes next
            self._holder = None


    def _release(self) -> None:
        """Duet: let waiting processes go together. One waiting to start, or alone (the other ended), goes at once;
        two waiting go together - for the same unit, that is the round both start at once; for different units
        (one side has a unit the other has not) they go on and meet again at the next."""
        if not self._waiting or len(self._order) < self.expected:
            return
        live = [c for c in self._order if c not in self._gone]
        ready = [c for c in self._waiting if not self._waiting[c] or len(live) < self.expected]
        if not ready and len(self._waiting) >= len(live):
            ready = list(self._waiting)
        for client in ready:
            del self._waiting[client]
            self._grants += 1
            try:
                client.sendall(b"g\n")
            except OSError:
                pass


class _Client:
    def __init__(self, path: str):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)

    def wait(self, key: str) -> bool:
        """Give up the baton and wait for it back; False when the server is gone (the process then goes on
        alone: its parent ended, and it will be ended too)."""
        try:
            self._sock.sendall(f"w {key.replace(chr(10), ' ')}\n".encode())
            answer = b""
            while not answer.endswith(b"\n"):
                part = self._sock.recv(2)
                if not part:
                    return False
                answer += part
            return answer == b"g\n"
        except OSError:
            return False


_client: _Client | None = None


def pin() -> None:
    """A duet side: keep to the cores TFGUIDE_BENCH_CPUS names (before TensorFlow sizes its thread pools)."""
    cpus = os.environ.get(CPUS_ENV)
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})


def join() -> None:
    """At the process's start: keep to a duet side's cores, and take the baton if the environment names one (blocks
    until it is ours)."""
    global _client
    pin()
    path = os.environ.get(ENV)
    if path and _client is None:
        try:
            _client = _Client(path)
        except OSError:   # the A/B that started it is gone: it will be ended too, and until then works alone
            return
        if not _client.wait(""):
            _client = None


def active() -> bool:
    """Whether this process takes turns with another (a pass of python -m benchmarks.ab)."""
    return _client is not None


def turn(key: str) -> None:
    """Before a round of `key`: let the other process measure, and wait for our turn."""
    global _client
    if _client is not None and not _client.wait(key):
        _client = None
