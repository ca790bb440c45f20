"""The benchmark plots, drawn from the golden fixtures: every text inside the figure, no two texts overlapping.

A limit line's label used to be rotated at the axes' edge: cut by the figure ("ul peak 200 GFLOP/s = 100 %") and
running into the axis title. matplotlib's renderer gives every text's extent in pixels, so the check is exact.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from reports import benchmarks as render

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.text import Text  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "golden" / "fixtures"


def _drawn_texts(fig) -> list[Text]:
    """Every text the figure draws: titles, axis labels, annotations, and the tick labels within the axes' limits
    (matplotlib keeps labels for ticks beyond the limits, and does not draw them)."""
    texts = [t for t in fig.texts]
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis, limits in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if limits[0] <= tick.get_loc() <= limits[1]:
                    texts += [tick.label1] + ([tick.label2] if tick.label2.get_visible() else [])
    return texts


def _drawn(monkeypatch, tmp_path, fixture: str) -> dict:
    """Render the plots of a fixture; per file, the pixel extents of every visible, non-empty text."""
    boxes = {}
    save = render._save

    def measuring_save(fig, out, name, plt):
        fig.tight_layout()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        texts = [t for t in _drawn_texts(fig) if t.get_visible() and t.get_text().strip()]
        boxes[name] = {"figure": fig.bbox, "texts": [(t.get_text(), t.get_window_extent(renderer)) for t in texts],
                       "axes": fig.axes[0].get_window_extent(renderer),
                       "annotations": [(t.get_text(), t.get_window_extent(renderer)) for t in fig.axes[0].texts]}
        return save(fig, out, name, plt)

    monkeypatch.setattr(render, "_save", measuring_save)
    written, note = render.plots(json.loads((FIXTURES / fixture).read_text()), tmp_path)
    assert note is None and sorted(written) == sorted(boxes)
    return boxes


@pytest.mark.parametrize("fixture", ["benchmarks.json", "benchmarks-b.json"])
def test_every_text_of_every_plot_lies_inside_the_figure_and_none_overlap(monkeypatch, tmp_path, fixture):
    boxes = _drawn(monkeypatch, tmp_path, fixture)
    assert set(boxes) == {"benchmarks_data.png", "benchmarks_training.png"}
    for name, drawn in boxes.items():
        fig = drawn["figure"]
        for text, box in drawn["texts"]:
            assert fig.x0 <= box.x0 and box.x1 <= fig.x1 and fig.y0 <= box.y0 and box.y1 <= fig.y1, (name, text, box)
        for (t1, b1), (t2, b2) in itertools.combinations(drawn["texts"], 2):
            assert not b1.overlaps(b2), (name, t1, t2)
        labels = [t for t, _ in drawn["texts"]]
        assert any("= 100 %" in t for t in labels), labels   # the limit line is labelled, in full
        for text, box in drawn["annotations"]:                 # inside the axes, not at their edge or beyond
            axes = drawn["axes"]
            assert axes.x0 <= box.x0 and box.x1 <= axes.x1 and axes.y0 <= box.y0 and box.y1 <= axes.y1, (name, text)


def test_the_figure_grows_with_its_rows(monkeypatch, tmp_path):
    boxes = _drawn(monkeypatch, tmp_path, "benchmarks.json")
    report = json.loads((FIXTURES / "benchmarks.json").read_text())
    bars = sum(1 for e in report["recipes"] if e.get("section") == "data" and e.get("best") for _ in ("guide", "best"))
    # 0.3 inch (30 pixels at 100 dpi) per bar and per label band, 1.5 inches for the title and the axis
    assert boxes["benchmarks_data.png"]["figure"].height <= 100 * (1.5 + 0.3 * (bars + 1)) + 1
