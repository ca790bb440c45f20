"""Where a report came from: which checkout of the suite (its git commit, or "not a git checkout", and whether
it had uncommitted changes), from which command, and when; for a benchmark report also with which packages.

Standard library only; git and pip are asked with a timeout each, and their absence is said, not an error.
Reports render their provenance from their JSON, never from the clock at render time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

NOT_A_CHECKOUT = "not a git checkout"
SUITE_ROOT = Path(__file__).resolve().parents[1]


def git_state(root: Path = SUITE_ROOT) -> tuple[str, bool | None]:
    """(commit or NOT_A_CHECKOUT, dirty): dirty is None when git could not say."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        if out.returncode != 0 or not out.stdout.strip():
            return NOT_A_CHECKOUT, None
        # Tracked files only: a report written into the checkout must not make the next run "dirty".
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)
        return out.stdout.strip(), (bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return NOT_A_CHECKOUT, None


def command_line() -> list[str]:
    return list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))


def report_provenance(root: Path = SUITE_ROOT) -> dict:
    """What conformance.json and matrix.json record: the date (UTC), the suite's commit, dirty, the command."""
    commit, dirty = git_state(root)
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "git_commit": commit,
            "git_dirty": dirty, "command_line": command_line()}


def provenance(root: Path) -> dict:
    """Which code measured (git commit or 'not a git checkout'), with which packages, from which command."""
    commit, dirty = git_state(root)
    freeze, freeze_method = None, "python -m pip freeze"
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                             timeout=120)
        if out.returncode == 0:
            freeze = [line for line in out.stdout.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    if freeze is None:  # no pip in this environment: the installed distributions, as pip would list them
        from importlib import metadata

        freeze_method = "importlib.metadata (pip is not available)"
        freeze = sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()
                         if d.metadata["Name"]}, key=str.lower)
    return {"git_commit": commit, "git_dirty": dirty, "pip_freeze": freeze, "pip_freeze_method": freeze_method,
            "command_line": command_line(), "cwd": os.getcwd(), "python": sys.version.split()[0]}
