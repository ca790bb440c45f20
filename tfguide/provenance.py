"""Which code measured, with which packages, from which command: the provenance a benchmark report records.

Standard library only; git and pip are asked with a timeout each, and their absence is said, not an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def provenance(root: Path) -> dict:
    """Which code measured (git commit or 'not a git checkout'), with which packages, from which command."""
    commit = "not a git checkout"
    dirty = None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            commit = out.stdout.strip()
            status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10)
            dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
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
            "command_line": list(getattr(sys, "orig_argv", [sys.executable, *sys.argv])), "cwd": os.getcwd(),
            "python": sys.version.split()[0]}
