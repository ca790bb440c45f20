"""The version matrix: `pytest suite` in one virtual environment per TensorFlow/Keras combination, then
one report merging them all.

    pip install -e ".[matrix]"     # nox itself
    nox                            # every environment, then the merge (the default sessions)

writes reports/matrix/<environment>/conformance.{md,json} per environment and reports/matrix.md /
reports/matrix.json side by side. `nox -s tf2.21` runs one environment, `nox -s matrix` merges the
reports already there again, `nox --install-only` only creates the environments (.nox/, reused by
later runs), and arguments after `--` go to pytest (`nox -- -k keras`).

tensorflow-cpu rather than tensorflow: the same Python API without the CUDA build, so a smaller download
and install (about 0.9 GB against 1.4-1.7 GB for 2.15/2.16); the matrix runs on the CPU anyway. The suite's
own dependencies come from `pip install -e .`, in the same pip command as TensorFlow, so that the resolver
keeps what each TensorFlow pins (numpy < 2 on 2.15 and 2.16).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
MATRIX_DIR = ROOT / "reports" / "matrix"
PYTHON = "3.11"  # the newest Python that every TensorFlow below supports (2.15 stops at 3.11)

# name -> what to install besides the project, and the environment pytest runs in. Keras comes with
# TensorFlow: keras 2.15 with 2.15 (tf.estimator still there), Keras 3 from 2.16 on; tf_keras is Keras 2
# for TF >= 2.16, and only TF_USE_LEGACY_KERAS=1 makes tf.keras resolve to it. None unsets a variable,
# so that a TF_USE_LEGACY_KERAS left in the caller's shell cannot turn a Keras 3 column into tf_keras.
# tf-keras declares a dependency on `tensorflow`, which pip would install beside tensorflow-cpu, the two
# overwriting each other's files: it goes in with --no-deps (TensorFlow is its only dependency).
ENVIRONMENTS = {
    "tf2.15": {"install": ["tensorflow-cpu==2.15.1"], "env": {"TF_USE_LEGACY_KERAS": None}},
    "tf2.16": {"install": ["tensorflow-cpu==2.16.2"], "env": {"TF_USE_LEGACY_KERAS": None}},
    "tf2.21": {"install": ["tensorflow-cpu==2.21.0"], "env": {"TF_USE_LEGACY_KERAS": None}},
    "tf2.21-tf_keras": {"install": ["tensorflow-cpu==2.21.0"], "no_deps": ["tf-keras==2.21.0"],
                        "env": {"TF_USE_LEGACY_KERAS": "1"}},
}

nox.options.sessions = [*ENVIRONMENTS, "matrix"]
# TensorFlow is a large install: keep the environments between runs (pip then only checks them).
nox.options.reuse_venv = "yes"

# A report left by an earlier run must not pass for this run's: it is removed before pytest starts.
# Done through session.run so that `nox --install-only` skips it, as it skips pytest.
_CLEAR_REPORT = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"


def _suite_session(name: str, install: list[str], env: dict[str, str | None], no_deps: tuple[str, ...] = ()):
    def session(session: nox.Session) -> None:
        session.install(*install, "-e", ".")
        if no_deps:
            session.install("--no-deps", *no_deps)
        report_dir = (MATRIX_DIR / name).relative_to(ROOT)  # nox runs in ROOT
        session.run("python", "-c", _CLEAR_REPORT, str(report_dir), silent=True)
        # A failing spec fails this session, but the report is still written and nox goes on to the
        # other environments and the merge.
        session.run("pytest", "suite", "-n", "2", "--report-dir", str(report_dir), *session.posargs, env=env)

    session.__doc__ = f"pytest suite with {' + '.join([*install, *no_deps])}" + (
        f" ({', '.join(f'{k}={v}' for k, v in env.items() if v is not None)})" if any(env.values()) else "")
    return nox.session(name=name, python=PYTHON, tags=["suite"])(session)


for _name, _spec in ENVIRONMENTS.items():
    _suite_session(_name, **_spec)  # nox.session registers it


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """Merge the environments' conformance.json into reports/matrix.md and reports/matrix.json."""
    # Only what reports/matrix.py imports: merging needs no TensorFlow.
    session.install("tabulate", "packaging")
    # Relative paths (nox runs in this folder): they are what matrix.md shows.
    reports = [f"{name}={(MATRIX_DIR / name / 'conformance.json').relative_to(ROOT)}" for name in ENVIRONMENTS]
    # --allow-missing: an environment that broke before pytest wrote its report still gets a column
    # ("no report") rather than preventing the matrix.
    merged = session.run("python", "-m", "reports", "matrix", "--allow-missing", "--out-dir", "reports", *reports)
    if merged is None:  # --install-only
        return
    report = json.loads((ROOT / "reports" / "matrix.json").read_text())
    problems = {env["name"]: Counter() for env in report["environments"]}
    for recipe in report["recipes"]:
        for env, cell in recipe["cells"].items():
            if cell["status"] not in ("pass", "skip"):
                problems[env][cell["status"]] += 1
    problems = {env: counts for env, counts in problems.items() if counts}
    if problems:
        session.error("reports/matrix.md is written, but not every recipe passes everywhere: " + "; ".join(
            f"{env} ({', '.join(f'{n} {status}' for status, n in counts.items())})"
            for env, counts in problems.items()))
