"""Reports: the recipe catalogue, the environment fingerprint, and the code that renders and compares
the conformance, matrix and benchmark reports. Generated reports are written beside this code by
default (`--report-dir`)."""

from pathlib import Path

DEFAULT_REPORT_DIR = Path(__file__).resolve().parent
