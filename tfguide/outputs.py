"""Where reports go: a folder of their own, never among the modules.

By default `tfguide-reports/` under the directory a command was started in (not the checkout's: `pytest
/path/to/checkout/suite` run from elsewhere writes there), created when missing by whatever writes a report
into it (tfguide/atomic.py); `--report-dir DIR` (or a command's own DIR argument) puts them anywhere else.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_REPORT_DIR = Path("tfguide-reports")   # relative: under the current working directory


def report_dir(path: str | Path | None = None, start: str | Path | None = None) -> Path:
    """The report directory, absolute: `path` (default DEFAULT_REPORT_DIR) taken relative to `start` (default
    the current working directory). Nothing is created here: a run that writes no report leaves no folder."""
    return (Path(start if start is not None else Path.cwd()) / (DEFAULT_REPORT_DIR if path is None else path)).resolve()
