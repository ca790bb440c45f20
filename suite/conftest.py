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
