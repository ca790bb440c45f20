"""Golden files (tests/golden/): the reports rendered from committed JSON fixtures are byte for byte the committed
expected files. Regenerate with `python -m tests.golden --update` when a report is meant to change, and say why in
the commit. No TensorFlow."""

from __future__ import annotations

import pytest

from tests import golden


@pytest.mark.parametrize("name", list(golden.RENDERERS))
def test_the_rendered_report_is_the_committed_one(name):
    expected = (golden.EXPECTED / name).read_bytes()
    got = golden.render(name)
    assert got == expected, (f"tests/golden/expected/{name} differs from what the renderer gives now; if the change "
                             "is intended: python -m tests.golden --update, and say why in the commit")
