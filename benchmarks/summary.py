"""The answer first: each recipe's guide figure against its best tuned one, what limits it, and the headline.

benchmarks.md opens with a few lines a person can act on (issue 17): this machine's limits, the guide's training
and tf.data figures against the best tuned ones, the bottleneck; then one row per recipe. Which rows those are is
decided here, from the report's rows, and written into benchmarks.json (`recipes`, `headline`): reports/ only
renders them.

- A recipe's *best* row is its fastest row that does the recipe's work and, for a training row of the quickstart
  model, reached the guide's quality (benchmarks/quality.py; a faster row that learned less is not better). The
  Python-loop tf.data rows and the functional distribution rows (replicas or workers sharing the cores: what the
  strategy costs, not a speed-up) are left out. Its *guide* row is the one its `x guide` is measured against (the guide's pipeline at the same batch
  size and consumer, the guide's `fit`, the Keras equivalent of an Estimator).
- `limiting` says in a few words what holds a row back, from what was measured beside it (a tf.data row's is
  its slowest stage, `slowest_stage`): a training row's input wait when it is at least moderately input-bound (the TF Profiler's 5 %),
  else the share of a step its matmuls would need at the measured peak (the rest is per-step overhead); a
  save/load row's share of the file system's bandwidth.
"""

from __future__ import annotations

from benchmarks.harness import INPUT_BOUND_MODERATE

LIMIT_NAMES = {"copy_bandwidth": "copy bandwidth", "matmul peak": "matmul peak", "file-system write": "file-system write",
               "file-system read": "file-system read", "none": "no FLOP count", "N x one worker": "N x one worker"}


def limit_name(row: dict) -> str:
    text = row.get("limit") or ""
    return next((short for key, short in LIMIT_NAMES.items() if text.startswith(key)), text.split(" (")[0])


def limiting(row: dict) -> str | None:
    """What holds a training or save/load row back, in a few words (see the module docstring); a tf.data row's is
    its `slowest_stage`."""
    section = row.get("section")
    if section == "data":
        return None
    if section == "io":
        pct = row.get("pct_of_limit")
        return None if pct is None else f"{row['op']}'s own work: the file system is at {pct:.2g} %"
    wait, pct = row.get("input_wait_share"), row.get("pct_of_limit")
    if wait is not None and wait >= INPUT_BOUND_MODERATE:
        return f"input: {wait:.0%} of each step waits for data"
    if pct is not None:
        return f"per-step overhead: its matmuls fill {pct:.2g} % of a step" if pct < 50 else f"matmuls, {pct:.0f} % of peak"
    return None


def _candidates(rows: list[dict]) -> list[dict]:
    out = [r for r in rows if r.get("consumer") in (None, "graph") and not r.get("functional")]
    quality = [r for r in out if r.get("reached_quality") is not None]
    reached = [r for r in quality if r["reached_quality"]]
    # a training row whose model did not learn what the guide's learns does not count, when its quality is known
    return [r for r in out if r.get("reached_quality") is not False] if reached else out


def _figure(row: dict | None) -> dict | None:
    if row is None:
        return None
    mb = row.get("section") == "io"
    return {"row": row["name"], "value": row["mb_per_s"] if mb else row["examples_per_s"],
            "ci95": row.get("mb_per_s_ci95") if mb else row.get("examples_per_s_ci95"),
            "unit": "MB/s" if mb else f"{row.get('unit', 'examples')}/s", "half_width": row.get("ci_half_width"),
            "accuracy": row.get("accuracy"), "reached_quality": row.get("reached_quality")}


def recipe_entry(recipe, rows: list[dict], declared, by_name: dict) -> dict:
    """One recipe's line of the main table (`by_name`: every row of the report, for a guide in another recipe)."""
    entry = {"recipe": recipe.id, "title": recipe.title}
    candidates = _candidates(rows)
    if not candidates:
        if declared is not None and declared.measured_by:
            entry["note"] = f"measured with {declared.measured_by}"
        elif declared is not None and declared.not_measured:
            entry["note"] = "not timed: " + declared.not_measured.split(":")[0]
        else:
            entry["note"] = "no row in this run"
        return entry
    key = (lambda r: r["mb_per_s"]) if candidates[0].get("section") == "io" else (lambda r: r["examples_per_s"])
    best = max(candidates, key=key)
    guide = by_name.get(best.get("baseline")) or next((r for r in candidates if r.get("is_guide")), None)
    entry.update({"section": best.get("section"), "guide": _figure(guide), "best": _figure(best),
                  "best_is_guide": guide is best,
                  "x_guide": None if guide is best else best.get("speedup_vs_guide"),
                  "x_guide_ci95": [None, None] if guide is best else best.get("speedup_vs_guide_ci95"),
                  "pct_of_limit": best.get("pct_of_limit"), "pct_of_limit_ci95": best.get("pct_of_limit_ci95"),
                  "limit": limit_name(best), "limiting": limiting(best), "slowest_stage": best.get("slowest_stage"),
                  "copies_every_byte": best.get("copies_every_byte", True)})
    return entry


def recipes(report: dict, declared: list) -> list[dict]:
    """One entry per recipe of the catalogue, in its order."""
    from tfguide import catalogue

    by_recipe: dict[str, list[dict]] = {}
    for table in ("data", "training", "io"):
        for r in report.get(table, []):
            by_recipe.setdefault(r["recipe"], []).append(r)
    decl = {b.recipe: b for b in declared}
    by_name = {r["name"]: r for rows in by_recipe.values() for r in rows}
    return [recipe_entry(recipe, by_recipe.get(rid, []), decl.get(rid), by_name)
            for rid, recipe in catalogue.load().items()]


HEADLINE = {"training": "keras.quickstart", "data": "data.numpy"}


def headline(report: dict) -> dict:
    """Which recipes the opening lines quote, and the time-to-quality rows of the guide and the fastest."""
    ttq = [r for r in report.get("time_to_quality", []) if r.get("recipe") == HEADLINE["training"]]
    guide = next((r["name"] for r in ttq if r.get("is_guide")), None)
    reached = [r for r in ttq if r["reached"] and not r.get("is_guide")]
    best = min(reached, key=lambda r: r["seconds"])["name"] if reached else None
    return {**HEADLINE, "quality_guide": guide, "quality_best": best}
