"""Passes 2..P of a full run: every group measured again, each pass a pytest item of its own and a fresh process
(benchmarks/passes.py), pooled with pass 1.

Rounds of one process share its luck - where its code and arrays landed, its thread pools, its allocator's
state - and rounds of one minute share the machine's state of that minute. Each further pass therefore runs
in a new process minutes after the one before, and a row's interval is computed over the rounds of all passes
and widened by the spread of the passes' medians (benchmarks/stats.py). A pass runs only if it still fits in
the budget (benchmarks/budget.py); otherwise it is skipped, and the report says how many passes there were.
"""

from __future__ import annotations

import sys
import time

import pytest

from benchmarks import passes

SLOT = "last"  # when it runs (benchmarks/conftest.py)


def test_pass_in_a_fresh_process(later_pass, plan, recorder, budget, tmp_path):
    if plan.passes < 2:
        pytest.skip("--quick: one pass")
    budget.later_passes = budget.passes_that_fit()
    if budget.later_passes == 0:
        reason = (f"the budget: {max(0.0, budget.left()) / 60:.1f} min left, and a pass costs about "
                  f"{budget.later_pass_overhead() / 60:.1f} min besides measuring")
        recorder.skip("passes", f"pass {later_pass + 1}", reason)
        pytest.skip(reason)
    seconds = budget.next_pass_deadline_s()
    recorder.progress(f"[bench] pass {later_pass + 1}/{plan.passes}: a fresh process with {seconds / 60:.1f} min "
                      f"(of {budget.left() / 60:.1f} min left; {budget.later_passes} pass(es) fit)")
    out = tmp_path / f"pass{later_pass + 1}.json"
    cmd = passes.command(sys.executable, later_pass, out, time.time() + seconds, quick=plan.quick)
    state = passes.run_child(cmd, f"pass {later_pass + 1}", out, recorder.progress, seconds)
    passes.merge(recorder, state)
    budget.later_pass_done(state["wall_s"], state["measured_s"])
    rounds = sum(len(r) for r in state["rounds"].values())
    recorder.progress(f"[bench] pass {later_pass + 1}/{plan.passes}: {rounds} rounds of {len(state['rounds'])} units "
                      f"merged, {state['wall_s'] / 60:.1f} min{recorder.time_left()}")
