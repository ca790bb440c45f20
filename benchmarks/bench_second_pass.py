"""Pass 2 of a full run: every group measured again in a fresh process (benchmarks/passes.py), pooled with pass 1.

Rounds of one process share its luck - where its code and arrays landed, its thread pools, its allocator's
state - that a second pass inside the same process would share too. The second pass therefore runs in a new
process, and a row's interval is computed over the rounds of both.
"""

from __future__ import annotations

import pytest

from benchmarks.passes import merge, run_child

SECTION = "last"


def test_second_pass_in_a_fresh_process(plan, recorder, tmp_path):
    if plan.passes < 2:
        pytest.skip("--quick: one pass")
    for index in range(1, plan.passes):
        state = run_child(plan, index, tmp_path / f"pass{index + 1}.json", recorder.progress,
                          timeout_s=plan.child_timeout_s)
        merge(recorder, state)
        rounds = sum(len(r) for r in state["rounds"].values())
        recorder.progress(f"[bench] pass {index + 1}/{plan.passes}: {rounds} rounds of {len(state['rounds'])} units "
                          "merged")
