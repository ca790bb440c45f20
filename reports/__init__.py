"""Reports: the code that renders and compares the conformance, matrix and benchmark reports. Generated
reports are written into a folder of their own, tfguide-reports/ under the current working directory by default
(`--report-dir`; tfguide/outputs.py)."""

from tfguide.outputs import DEFAULT_REPORT_DIR  # noqa: F401  (re-exported: the commands' default)
