"""Golden files: committed report JSONs rendered by the reports' own code, compared byte for byte with committed
Markdown (and text). A change to how a report reads is then a visible diff of `tests/golden/expected/`, made in a
commit that says why; a refactor that should change nothing shows that it changed nothing.

    python -m tests.golden --update     # render every fixture again and overwrite tests/golden/expected/
    python -m tests.golden              # check only: exit 1 and a diff when an expected file differs
    pytest tests/test_golden.py         # the same check as tests

Fixtures (tests/golden/fixtures/, JSON exactly as the tools wrote it):
- conformance.json: a real `pytest suite -n 2 --report-dir DIR` run (TensorFlow 2.21, Keras 3.15, 2-core VM;
  conformance.json schema 2, with its provenance): the nox environment tf2.21-keras3.15's report of the run
  that made reports/published/compatibility.md, with every advisory catalogued.
- matrix/<environment>/conformance.json (+ install.json): real `pytest suite` runs with the Python of two of the
  nox matrix's environments (TF 2.12; TF 2.16 + Keras 3.0: advisories reproduce, known defects), with the install
  records nox wrote for them, the run above (TF 2.21 + Keras 3.15, no install record: a report from elsewhere),
  and a partial run of suite/test_data_batch.py and suite/test_data_padded_batch.py under the mutant
  `batch_always_drops_remainder` (tests/mutants/data_batch.py), so that the matrix shows a failure and `not run`;
  that one was written before schema 2 (no provenance, no advisories) and is kept so, to show how an older report
  merges; merged with the catalogue as `python -m reports matrix` does.
- benchmarks.json: a real `pytest benchmarks --quick --report-dir DIR` run, then
  `python -m benchmarks.cluster.loopback --quick --workers 1 2 --report-dir DIR` (the cluster section);
  `pip_freeze` is cut to its first lines, nothing else is edited.
- benchmarks-b.json: a second such run, compared with the first by `python -m reports compare`.
- benchmarks-ab.json: the ab.json of a real `python -m benchmarks.ab --quick` A/A (`python -m reports compare` of it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
EXPECTED = HERE / "expected"


@contextlib.contextmanager
def _cwd(path: Path):
    # compare prints the paths it was given: relative ones keep the output the same in every checkout
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def conformance_md() -> str:
    from reports import render

    return render.conformance_markdown(_load(FIXTURES / "conformance.json"))


def _matrix() -> dict:
    from reports import matrix

    sources = [(d.name, d / "conformance.json") for d in sorted((FIXTURES / "matrix").iterdir()) if d.is_dir()]
    return matrix.merge(sources)


def _relative_sources(merged: dict) -> dict:
    # merge() records each report's path: keep the part inside the fixtures, not this checkout's location
    for env in merged["environments"]:
        env["source"] = Path(env["source"]).resolve().relative_to(FIXTURES).as_posix()
    return merged


def matrix_md() -> str:
    from reports import matrix

    return matrix.to_markdown(_relative_sources(_matrix()))


def matrix_json() -> str:
    return json.dumps(_relative_sources(_matrix()), indent=2) + "\n"


def compatibility_md() -> str:
    from reports import matrix

    return matrix.to_published(_relative_sources(_matrix()))


def benchmarks_md() -> str:
    from reports import benchmarks

    report = _load(FIXTURES / "benchmarks.json")
    plots = report.get("plots")
    # as reports/benchmarks.py write() calls it: the PNG names, or the note saying why there are none
    pngs, note = (plots, None) if isinstance(plots, list) else ([], plots)
    return benchmarks.markdown(report, pngs, note)


def _compare(*args: str) -> str:
    from reports import __main__ as cli

    out, err = io.StringIO(), io.StringIO()
    with _cwd(FIXTURES), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["compare", *args])
    return (f"$ python -m reports compare {' '.join(args)}\nexit status {status}\n--- stdout\n{out.getvalue()}"
            f"--- stderr\n{err.getvalue()}")


def compare_txt() -> str:
    return _compare("benchmarks.json", "benchmarks-b.json")


def compare_fail_if_slower_txt() -> str:
    return _compare("benchmarks.json", "benchmarks-b.json", "--fail-if-slower", "5")


def compare_ab_txt() -> str:
    return _compare("benchmarks-ab.json")


RENDERERS = {
    "conformance.md": conformance_md,
    "matrix.md": matrix_md,
    "matrix.json": matrix_json,
    "compatibility.md": compatibility_md,
    "benchmarks.md": benchmarks_md,
    "compare.txt": compare_txt,
    "compare-fail-if-slower.txt": compare_fail_if_slower_txt,
    "compare-ab.txt": compare_ab_txt,
}


def render(name: str) -> bytes:
    return RENDERERS[name]().encode("utf-8")


def update() -> list[Path]:
    EXPECTED.mkdir(exist_ok=True)
    written = []
    for name in RENDERERS:
        path = EXPECTED / name
        path.write_bytes(render(name))
        written.append(path)
    return written
