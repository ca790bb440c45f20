"""Passes 2..P of a full run: every group measured again, each pass in a fresh process (benchmarks/passes.py),
pooled with pass 1.

Rounds of one process share its luck - where its code and arrays landed, its thread pools, its allocator's
state - and rounds of one minute share the machine's state of that minute. Each further pass therefore runs
in a new process minutes after the one before, and a row's interval is computed over the rounds of all passes
and widened by the spread of the passes' medians (benchmarks/stats.py).
"""

from __future__ import annotations

import pytest

from benchmarks.passes import merge, run_child

SLOT = "last"  # when it runs (benchmarks/conftest.py)
CHILD_TIMEOUT_S = 1200.0   # each later pass's process


def test_passes_2_to_p_each_in_a_fresh_process(plan, recorder, tmp_path):
    if plan.passes < 2:
        pytest.skip("--quick: one pass")
    for index in range(1, plan.passes):
        state = run_child(plan, index, tmp_path / f"pass{index + 1}.json", recorder.progress,
                          timeout_s=CHILD_TIMEOUT_S)
        merge(recorder, state)
        rounds = sum(len(r) for r in state["rounds"].values())
        recorder.progress(f"[bench] pass {index + 1}/{plan.passes}: {rounds} rounds of {len(state['rounds'])} units "
                          "merged")
