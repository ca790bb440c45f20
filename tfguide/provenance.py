"""Where a report came from: when it was made, from which checkout of the suite (its git commit, or "not a
git checkout", and whether it had uncommitted changes) and by which command. conformance.json and matrix.json
record it; the Markdown renders it from the JSON, never from the clock at render time."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

NOT_A_CHECKOUT = "not a git checkout"
SUITE_ROOT = Path(__file__).resolve().parents[1]


def git_state(root: Path = SUITE_ROOT) -> tuple[str, bool | None]:
    """(commit, dirty): dirty is None when git could not say (no checkout, no git)."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return NOT_A_CHECKOUT, None
        # Tracked files only: a report written into the checkout must not make the next run "dirty".
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)
        return head.stdout.strip(), (bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return NOT_A_CHECKOUT, None


def provenance(root: Path = SUITE_ROOT) -> dict:
    commit, dirty = git_state(root)
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "git_commit": commit,
            "git_dirty": dirty, "command_line": list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))}
