"""Fixtures shared by every spec: seeded, isolated Keras state, and notes for the report."""

from __future__ import annotations

import pytest

from suite.support.helpers import SEED, keras


def _clear_keras_session():
    try:
        # A full gc.collect() per spec (Keras 3's default) costs ~0.2 s with TensorFlow loaded.
        keras.backend.clear_session(free_memory=False)
    except TypeError:  # Keras 2 and early Keras 3: no such argument, and no collection either
        keras.backend.clear_session()


@pytest.fixture(autouse=True)
def _seeded_fresh_keras():
    # Every spec starts from the same seeds and an empty Keras name scope, whatever ran before it in
    # this process (xdist distributes specs across processes in no fixed order).
    _clear_keras_session()
    keras.utils.set_random_seed(SEED)
    yield


@pytest.fixture
def recipe_note(request):
    """Add a sentence to this recipe's row of the conformance report, e.g. which code path ran."""

    def note(text: str) -> None:
        request.node.user_properties.append(("recipe_note", text))

    return note


_SPAWNED = []  # the fork server started at collection, for the `sandbox` fixture to take over


def _loads_crafted_files(item) -> bool:
    return "advisory" in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # The specs that load crafted files run last (in their own order), so that the fork server imports
    # TensorFlow while every other spec runs: first, in file order, they asked for it before it was ready.
    # The report is in node-id order whatever order the specs ran in, and each spec starts from the same
    # seeded, fresh Keras state (_seeded_fresh_keras), so no verdict depends on the order.
    items[:] = [item for item in items if not _loads_crafted_files(item)] + [
        item for item in items if _loads_crafted_files(item)]


def pytest_collection_finish(session):
    # Start the fork server as soon as the run is known to load crafted files: it imports TensorFlow (5-20 s
    # on 2 cores) on the other core while the first specs run, instead of when the first advisory spec asks.
    if any(_loads_crafted_files(item) for item in session.items):
        from suite.support.sandbox import Sandbox

        _SPAWNED.append(Sandbox.spawn())
    # The same for a spec module's own processes: a module that defines start_early(config) gets it called once.
    modules = {id(m): m for item in session.items if (m := getattr(item, "module", None)) is not None}
    for module in modules.values():
        if callable(getattr(module, "start_early", None)):
            module.start_early(session.config)


@pytest.fixture(scope="session")
def sandbox():
    """The fork server that loads crafted files (suite/support/sandbox.py): one per pytest process."""
    from suite.support.sandbox import Sandbox

    server = _SPAWNED.pop() if _SPAWNED else Sandbox.spawn()
    with server:
        yield server.ready()


def pytest_sessionfinish(session):
    while _SPAWNED:  # spawned, but no spec asked for it (deselected, or the run stopped early)
        _SPAWNED.pop().close()


class Verdicts:
    """What an advisory spec observed, as the report's verdict: `refused`, `vulnerable` (raises
    AdvisoryReproduced, which the report shows as `vulnerable`, never as a pass) or `not applicable`
    (skips). `load` runs a probe of suite/support/untrusted.py on a crafted file in a fresh sandboxed child."""

    def __init__(self, request, sandbox, tmp_path):
        self.request, self.sandbox, self.tmp_path = request, sandbox, tmp_path
        self.runs = 0

    def load(self, probe: str, timeout: float = 120.0, memory_headroom: int | None = None, **kwargs):
        """`probe`: a function of suite/support/untrusted.py, or `module:function` for another probe module."""
        self.runs += 1
        target = probe if ":" in probe else f"suite.support.untrusted:{probe}"
        return self.sandbox.run(target, kwargs, self.tmp_path / f"sandbox-{self.runs}",
                                timeout=timeout, memory_headroom=memory_headroom)

    def _record(self, advisory: str, verdict: str, detail: str) -> None:
        from tfguide import catalogue

        if advisory not in catalogue.advisories():
            raise KeyError(f"{advisory!r} is not an advisory of tfguide/catalogue.toml")
        self.request.node.user_properties.append(("advisory", {"id": advisory, "verdict": verdict,
                                                               "detail": " ".join(detail.split())}))

    def refused(self, advisory: str, detail: str) -> None:
        self._record(advisory, "refused", detail)

    def vulnerable(self, advisory: str, effect: str):
        from tfguide.catalogue import AdvisoryReproduced

        self._record(advisory, "vulnerable", effect)
        raise AdvisoryReproduced(advisory, effect)

    def not_applicable(self, advisory: str, reason: str):
        self._record(advisory, "not applicable", reason)
        pytest.skip(f"{advisory} not applicable: {reason}")

    def judge(self, advisory: str, result, effect, inert: str = "loaded, and the payload had no effect"):
        """The verdict from a probe's observations (suite/support/untrusted.py): `effect(observation)` says what the
        payload achieved, or None. `vulnerable` when it achieved anything in the default safe mode, in any
        variant; otherwise `refused`, once every variant that has a control (the same file with
        safe_mode=False, in the same child) showed the payload does take effect where it is allowed: a
        control that does not is a failure of the reproduction, never a pass."""
        assert result.status == "returned", (
            f"the probe itself did not finish: {result.status} {result.error_line()} {result.output[-500:]}")
        achieved = {name: effect(seen["main"]) for name, seen in result.value.items()}
        hits = [f"{name}: {what}" if len(achieved) > 1 else what for name, what in achieved.items() if what]
        if hits:
            self.vulnerable(advisory, "; ".join(hits))
        for name, seen in result.value.items():
            if seen["control"] is not None:
                assert effect(seen["control"]), (
                    f"control of {name}: with safe_mode=False the crafted file should take effect, but it did "
                    f"not ({seen['control']['error'] or 'no effect'}): the reproduction does not work on this build")
        details = [(f"{name}: " if len(result.value) > 1 else "") + (seen["main"]["error"] or inert)
                   for name, seen in result.value.items()]
        self.refused(advisory, "; ".join(details))


@pytest.fixture
def advisory(request, sandbox, tmp_path):
    return Verdicts(request, sandbox, tmp_path)
