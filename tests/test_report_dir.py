"""Reports go to a folder of their own under the directory a command was started in, never among the modules:
`pytest /path/to/checkout/suite` started elsewhere writes its reports there, not into the checkout
(tfguide/outputs.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tfguide.outputs import DEFAULT_REPORT_DIR, report_dir

ROOT = Path(__file__).resolve().parent.parent
SPEC = "suite/test_data_batch.py"   # one small spec module: a partial run, with the same report directory


def test_the_report_directory_is_under_the_start_directory(tmp_path):
    assert not DEFAULT_REPORT_DIR.is_absolute()
    assert report_dir(None, tmp_path) == (tmp_path / DEFAULT_REPORT_DIR).resolve()
    assert report_dir("a/b", tmp_path) == (tmp_path / "a" / "b").resolve()
    assert report_dir(tmp_path / "abs", ROOT) == (tmp_path / "abs").resolve()
    assert not (tmp_path / DEFAULT_REPORT_DIR).exists()   # created by what writes a report, when missing


def _reports_in_the_checkout() -> dict[Path, float]:
    candidates = [ROOT / folder / f"conformance{part}.{ext}" for folder in ("reports", DEFAULT_REPORT_DIR)
                  for part in ("", "-partial") for ext in ("md", "json")]
    return {path: path.stat().st_mtime_ns for path in candidates if path.exists()}


def test_pytest_started_elsewhere_writes_its_reports_there(tmp_path):
    before = _reports_in_the_checkout()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TFGUIDE_"))}  # a run of its own
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / SPEC), "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    written = tmp_path / DEFAULT_REPORT_DIR   # created: it was missing
    assert (written / "conformance-partial.md").exists() and (written / "conformance-partial.json").exists()
    assert _reports_in_the_checkout() == before, "the run wrote a report into the checkout"
