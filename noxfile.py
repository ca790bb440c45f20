"""The version matrix: `pytest suite` in one virtual environment per TensorFlow/Keras combination, then
one report merging them all.

    pip install -e ".[matrix]"     # nox itself
    nox                            # every environment, then the merge (the default sessions)

writes tfguide-reports/matrix/<environment>/{conformance.md,conformance.json,install.json} per environment, then
tfguide-reports/matrix.md / .json and the published table reports/published/compatibility.md. `nox -s tf2.21-keras3.15`
runs one environment, `nox -s matrix` merges the reports already there again, `nox --install-only` only
creates the environments (.nox/, reused by later runs), and arguments after `--` go to pytest
(`nox -- -k keras`: the published table then shows `not run` cells, so publish only a full run).

Each environment is made the way README tells a person who already has TensorFlow: TensorFlow (with the
environment's Keras, or tf_keras) in one pip command, then the suite in a second step (SUITE_COMMAND: the
pins of what TensorFlow requires, as installed, then `pip install -e ".[plots]" -c pins.txt`). What the
second step changed (`pip freeze` before and after) and `pip check`'s verdict are recorded in
install.json; the session fails when `pip check` is not clean or when the suite's install changed a
package that the installed TensorFlow / Keras / tf_keras requires (tfguide/pins.py's `closure`).

tensorflow-cpu rather than tensorflow: the same Python API without the CUDA build, so a smaller download
and install; the matrix runs on the CPU anyway.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
REPORT_DIR = ROOT / "tfguide-reports"   # nox runs in ROOT: the default report directory under it
MATRIX_DIR = REPORT_DIR / "matrix"
PUBLISHED_DIR = ROOT / "reports" / "published"
PYTHON = "3.11"  # the newest Python that every TensorFlow below supports (2.12-2.15 stop at 3.11)

# The declared support range (README, tfguide/environment.py) is TensorFlow 2.12-2.21; every minor
# version has a column with the Keras it was released with:
# - TF 2.12-2.15: Keras 2 is a dependency of TensorFlow itself (keras>=2.N,<2.N+1), so installing
#   tensorflow-cpu brings it; tf.estimator still exists.
# - TF 2.16+: tensorflow requires only keras>=3.0, so the Keras a person has is whatever was newest when
#   they installed. Each column pairs the TF minor with the Keras 3 minor that was newest on the day that
#   TF minor first reached PyPI (newest bug-fix release of that Keras minor). Release dates: Keras from the
#   tags of keras-team/keras (v3.0.5 2024-02-14, v3.1.0 2024-03-11, v3.4.1 2024-06-26, v3.5.0 2024-08-12,
#   v3.6.0 2024-10-03, v3.7.0 2024-11-26, v3.9.0 2025-03-04, v3.10.0 2025-05-19, v3.11.0 2025-07-29,
#   v3.12.0 2025-10-27, v3.13.2 2026-01-29, v3.14.0 2026-04-02); TensorFlow: 2.16.1's wheel on PyPI was
#   built 2024-03-07 (the dates inside tensorflow_cpu-2.16.1-cp311-...whl), three days before Keras 3.1.0;
#   the "What's new in TensorFlow 2.N" posts of blog.tensorflow.org date 2.17 2024-07-18, 2.18 2024-10-28,
#   2.19 2025-03-13, 2.20 2025-08-19 (each weeks from the neighbouring Keras minors); 2.21.0 reached PyPI
#   by 2026-03-10 (dependabot's "bump tensorflow from 2.18.0 to 2.21.0" PRs are dated that day).
#   So: 2.16 -> 3.0, 2.17 -> 3.4, 2.18 -> 3.6, 2.19 -> 3.9, 2.20 -> 3.11, 2.21 -> 3.13.
# - The newest Keras 3 (3.15.1) on the oldest and the newest TF that take Keras 3 (2.16, 2.21), and
#   tf_keras (TF_USE_LEGACY_KERAS=1, Keras 2 for TF >= 2.16) on the same two.
# - TF 2.16.1 with Keras 3.3.3: the pair issue 9 reports (Keras of April 2024, within 2.16's life).
# TensorFlow is the newest patch release of each minor (what `pip install "tensorflow-cpu==2.N.*"` gives),
# except 2.16.1 for the Keras 3.0 and 3.3 columns: 2.16.2 came in June 2024, after both.
#
# tf-keras declares a dependency on `tensorflow`, which pip would install beside tensorflow-cpu, the two
# overwriting each other's files: it goes in with --no-deps (TensorFlow is its only dependency), as README
# tells. `env`: None unsets a variable, so that a TF_USE_LEGACY_KERAS left in the caller's shell cannot
# turn a Keras 3 column into tf_keras.
_KERAS3 = {"TF_USE_LEGACY_KERAS": None}
_LEGACY = {"TF_USE_LEGACY_KERAS": "1"}
ENVIRONMENTS = {
    "tf2.12": {"install": ["tensorflow-cpu==2.12.1"], "env": _KERAS3},
    "tf2.13": {"install": ["tensorflow-cpu==2.13.1"], "env": _KERAS3},
    "tf2.14": {"install": ["tensorflow-cpu==2.14.1"], "env": _KERAS3},
    "tf2.15": {"install": ["tensorflow-cpu==2.15.1"], "env": _KERAS3},
    "tf2.16-keras3.0": {"install": ["tensorflow-cpu==2.16.1", "keras==3.0.5"], "env": _KERAS3},
    "tf2.16-keras3.3": {"install": ["tensorflow-cpu==2.16.1", "keras==3.3.3"], "env": _KERAS3},
    "tf2.16-keras3.15": {"install": ["tensorflow-cpu==2.16.2", "keras==3.15.1"], "env": _KERAS3},
    "tf2.16-tf_keras": {"install": ["tensorflow-cpu==2.16.2"], "no_deps": ["tf-keras==2.16.0"], "env": _LEGACY},
    "tf2.17-keras3.4": {"install": ["tensorflow-cpu==2.17.1", "keras==3.4.1"], "env": _KERAS3},
    "tf2.18-keras3.6": {"install": ["tensorflow-cpu==2.18.1", "keras==3.6.0"], "env": _KERAS3},
    "tf2.19-keras3.9": {"install": ["tensorflow-cpu==2.19.1", "keras==3.9.2"], "env": _KERAS3},
    "tf2.20-keras3.11": {"install": ["tensorflow-cpu==2.20.0", "keras==3.11.3"], "env": _KERAS3},
    "tf2.21-keras3.13": {"install": ["tensorflow-cpu==2.21.0", "keras==3.13.2"], "env": _KERAS3},
    "tf2.21-keras3.15": {"install": ["tensorflow-cpu==2.21.0", "keras==3.15.1"], "env": _KERAS3},
    "tf2.21-tf_keras": {"install": ["tensorflow-cpu==2.21.0"], "no_deps": ["tf-keras==2.21.0"], "env": _LEGACY},
}

nox.options.sessions = [*ENVIRONMENTS, "matrix"]
# TensorFlow is a large install: keep the environments between runs.
nox.options.reuse_venv = "yes"

# The install record lives inside the environment: it describes how that environment was made, and
# goes away with it. An environment that has one is reused as it is (no pip run at all).
INSTALL_RECORD = "tfguide-install.json"

# Run inside the environment: what is installed, and what the installed TensorFlow / Keras / tf_keras
# require (tfguide/pins.py snapshot, standard library only, importable from the checkout nox runs in).
_SNAPSHOT = "import json; from tfguide import pins; print(json.dumps(pins.snapshot()))"
# A report left by an earlier run must not pass for this run's; install.json stays (it is rewritten).
_CLEAR_REPORT = ("import sys, pathlib; [p.unlink() for p in pathlib.Path(sys.argv[1]).glob('conformance*')]")
_TF_DISTRIBUTIONS = ("tensorflow-cpu", "tensorflow-intel", "tensorflow-gpu", "tf-nightly", "tf-nightly-cpu",
                     "intel-tensorflow", "tensorflow-macos", "tensorflow-rocm")
_CHECK_LINE = re.compile(r"^(?P<who>\S+) (?P<version>\S+) requires (?P<dep>[^,\s]+), which is not installed\.$")


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list]:
    """What a pip command did, from the installed versions before and after it."""
    return {
        "added": sorted(f"{n}=={after[n]}" for n in after.keys() - before.keys()),
        "removed": sorted(f"{n}=={before[n]}" for n in before.keys() - after.keys()),
        "changed": sorted(f"{n} {before[n]} -> {after[n]}" for n in before.keys() & after.keys()
                          if before[n] != after[n]),
    }


def pip_check_verdict(output: str, exit_code: int, installed: dict[str, str],
                      requires: dict[str, list[str]]) -> dict:
    """`pip check`'s verdict. One complaint is not a problem: tf-keras requires `tensorflow`, and
    tensorflow-cpu (or another build) provides that very module; the complaint is excused when such a
    build is installed in a version the requirement accepts, and the record says so."""
    from packaging.requirements import Requirement

    problems, excused = [], []
    for line in (ln.strip() for ln in output.splitlines()):
        if not line or line.startswith("No broken requirements"):
            continue
        match = _CHECK_LINE.match(line)
        provider = next((d for d in _TF_DISTRIBUTIONS if d in installed), None)
        if match and match["dep"].lower() == "tensorflow" and provider:
            wanted = [Requirement(r) for r in requires.get(match["who"].lower(), [])
                      if Requirement(r).name.lower() == "tensorflow"]
            if all(r.specifier.contains(installed[provider], prereleases=True) for r in wanted):
                spec = ",".join(str(r.specifier) for r in wanted) or "any version"
                excused.append(f"{line} ({provider} {installed[provider]} provides the `tensorflow` module, "
                               f"and {spec} accepts it)")
                continue
        problems.append(line)
    if exit_code and not problems and not excused:
        problems.append(f"pip check exited with status {exit_code}")
    return {"clean": not problems, "problems": problems, "excused": excused,
            "output": output.strip() or "(nothing)"}


def install_problems(record: dict) -> list[str]:
    """Why an install record fails its session: pip check not clean, or the suite's install changed a
    package that the installed TensorFlow / Keras / tf_keras requires."""
    out = [f"pip check: {p}" for p in record["pip_check"]["problems"]]
    required = record["required_by_tensorflow"]
    touched = [entry for kind in ("changed", "removed") for entry in record["suite_install_changed"][kind]
               if re.split(r"[ =]", entry, maxsplit=1)[0] in required]
    out += [f"the suite's install changed {entry}, which the installed TensorFlow/Keras requires"
            for entry in touched]
    return out


def _snapshot(session: nox.Session) -> dict:
    return json.loads(session.run_install("python", "-c", _SNAPSHOT, silent=True).strip().splitlines()[-1])


# README, "An existing TensorFlow environment", word for word; pins.txt lives inside the environment.
SUITE_COMMAND = 'python -m tfguide.pins -o pins.txt && pip install -e ".[plots]" -c pins.txt'


def _make_environment(session: nox.Session, venv: Path, install: list[str], no_deps: tuple[str, ...]) -> dict:
    """TensorFlow first, then the suite in a second step, as README says; returns the record."""
    session.install(*install)
    if no_deps:
        session.install("--no-deps", *no_deps)
    before = _snapshot(session)
    pins = venv / "pins.txt"
    session.run_install("python", "-m", "tfguide.pins", "-o", str(pins), silent=True)
    session.install("-e", ".[plots]", "-c", str(pins))
    after = _snapshot(session)
    try:
        output = session.run_install("python", "-m", "pip", "check", silent=True, success_codes=[0, 1])
        code = 0 if "No broken requirements" in output else 1
    except Exception as exc:  # nox raises on an unexpected status; the record says what happened
        output, code = str(exc), 2
    record = {
        "tensorflow_command": f"pip install {' '.join(install)}"
                              + (f" && pip install --no-deps {' '.join(no_deps)}" if no_deps else ""),
        "suite_command": SUITE_COMMAND,
        "suite_install_changed": changes(before["installed"], after["installed"]),
        "required_by_tensorflow": before["required"],
        "pip_check": pip_check_verdict(output, code, after["installed"], after["requires"]),
    }
    record["problems"] = install_problems(record)
    return record


def _suite_session(name: str, install: list[str], env: dict[str, str | None], no_deps: tuple[str, ...] = ()):
    def session(session: nox.Session) -> None:
        venv = Path(getattr(session, "virtualenv").location)
        record_path = venv / INSTALL_RECORD
        wanted = {"install": list(install), "no_deps": list(no_deps), "suite": SUITE_COMMAND}
        record = json.loads(record_path.read_text()) if record_path.exists() else None
        if record is not None and record.get("made_with") != wanted:
            session.error(f"{venv} was made with {record.get('made_with')}, the noxfile now says {wanted}: "
                          f"recreate it with `nox -s {name} --reuse-venv=no`")
        if record is None:
            record = {"made_with": wanted, **_make_environment(session, venv, install, tuple(no_deps))}
            record_path.write_text(json.dumps(record, indent=2) + "\n")
        report_dir = (MATRIX_DIR / name).relative_to(ROOT)  # nox runs in ROOT
        session.run("python", "-c", _CLEAR_REPORT, str(report_dir), silent=True)
        (MATRIX_DIR / name).mkdir(parents=True, exist_ok=True)
        (MATRIX_DIR / name / "install.json").write_text(json.dumps(record, indent=2) + "\n")
        # A failing spec fails this session, but the report is still written and nox goes on to the
        # other environments and the merge.
        session.run("pytest", "suite", "-n", "2", "--report-dir", str(report_dir), *session.posargs, env=env)
        if record["problems"]:
            session.error(f"{name}: the suite's install left this environment broken: "
                          + "; ".join(record["problems"]))

    session.__doc__ = f"pytest suite with {' + '.join([*install, *no_deps])}" + (
        f" ({', '.join(f'{k}={v}' for k, v in env.items() if v is not None)})" if any(env.values()) else "")
    return nox.session(name=name, python=PYTHON, tags=["suite"])(session)


for _name, _spec in ENVIRONMENTS.items():
    _suite_session(_name, **_spec)  # nox.session registers it


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """Merge the environments' reports into tfguide-reports/matrix.{md,json} and reports/published/compatibility.md."""
    # Only what reports/matrix.py imports: merging needs no TensorFlow.
    session.install("tabulate", "packaging")
    # Relative paths (nox runs in this folder): they are what the tables show. A run with `-- -k ...`
    # wrote conformance-partial.json: merged into tfguide-reports/matrix.md, never published.
    reports, partial = [], []
    for name in ENVIRONMENTS:
        full, part = MATRIX_DIR / name / "conformance.json", MATRIX_DIR / name / "conformance-partial.json"
        chosen = part if part.exists() and not full.exists() else full
        partial += [name] if chosen is part else []
        reports.append(f"{name}={chosen.relative_to(ROOT)}")
    publish = [] if partial else ["--publish", str(PUBLISHED_DIR.relative_to(ROOT))]
    if partial:
        session.log(f"partial runs ({', '.join(partial)}): {PUBLISHED_DIR.relative_to(ROOT)} is left as it was")
    # --allow-missing: an environment that broke before pytest wrote its report still gets a column
    # ("no report") rather than preventing the matrix.
    merged = session.run("python", "-m", "reports", "matrix", "--allow-missing",
                         "--out-dir", str(REPORT_DIR.relative_to(ROOT)),
                         *publish, *reports)
    if merged is None:  # --install-only
        return
    report = json.loads((REPORT_DIR / "matrix.json").read_text())
    problems = {env["name"]: Counter() for env in report["environments"]}
    for recipe in report["recipes"]:
        for env, cell in recipe["cells"].items():
            # Catalogued outcomes (tfguide.catalogue.STATUSES) are what the table is for; anything else is not.
            if cell["status"] not in ("pass", "skip", "known defect", "vulnerable"):
                problems[env][cell["status"]] += 1
    for env in report["environments"]:
        if (env.get("install") or {}).get("problems"):
            problems[env["name"]]["broken install"] += 1
    problems = {env: counts for env, counts in problems.items() if counts}
    if problems:
        session.error("the matrix is written, but not every recipe passes everywhere: " + "; ".join(
            f"{env} ({', '.join(f'{n} {status}' for status, n in counts.items())})"
            for env, counts in problems.items()))
