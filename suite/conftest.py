"""Fixtures shared by every spec: seeded, isolated Keras state, and notes for the report."""

from __future__ import annotations

import pytest

from suite.helpers import SEED, keras


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


@pytest.fixture(scope="session")
def sandbox():
    """The fork server that loads crafted files (suite/sandbox.py): one per pytest process, started when
    the first advisory spec needs it."""
    from suite.sandbox import Sandbox

    with Sandbox.start() as server:
        yield server


class Verdicts:
    """What an advisory spec observed, as the report's verdict: `refused`, `vulnerable` (raises
    AdvisoryReproduced, which the report shows as `vulnerable`, never as a pass) or `not applicable`
    (skips). `load` runs a probe of suite/untrusted.py on a crafted file in a fresh sandboxed child."""

    def __init__(self, request, sandbox, tmp_path):
        self.request, self.sandbox, self.tmp_path = request, sandbox, tmp_path
        self.runs = 0

    def load(self, probe: str, timeout: float = 120.0, memory_headroom: int | None = None, **kwargs):
        """`probe`: a function of suite/untrusted.py, or `module:function` for another probe module."""
        self.runs += 1
        target = probe if ":" in probe else f"suite.untrusted:{probe}"
        return self.sandbox.run(target, kwargs, self.tmp_path / f"sandbox-{self.runs}",
                                timeout=timeout, memory_headroom=memory_headroom)

    def _record(self, advisory: str, verdict: str, detail: str) -> None:
        from tfguide import catalogue

        if advisory not in catalogue.advisories():
            raise KeyError(f"{advisory!r} is not an advisory of reports/catalogue.toml")
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

    def judge(self, advisory: str, result, effect, control: bool = True, inert: str = "the payload had no effect"):
        """The verdict from a probe's observations (suite/untrusted.py): `effect(observation)` says what the
        payload achieved, or None. Vulnerable when it achieved something in the default safe mode;
        otherwise refused, after the control (the same file with safe_mode=False, in the same child) shows
        the payload does take effect where it is allowed."""
        assert result.status == "returned", (
            f"the probe itself did not finish: {result.status} {result.error_line()} {result.output[-500:]}")
        main = result.value["main"]
        achieved = effect(main)
        if achieved:
            self.vulnerable(advisory, achieved)
        if control:
            second = result.value["control"]
            assert second is not None and effect(second), (
                f"control: with safe_mode=False the crafted file should take effect, but it did not "
                f"({(second or {}).get('error') or 'no effect'}): the reproduction does not work on this build")
        self.refused(advisory, main["error"] or f"loaded, and {inert}")


@pytest.fixture
def advisory(request, sandbox, tmp_path):
    return Verdicts(request, sandbox, tmp_path)
