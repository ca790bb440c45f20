"""Installing the suite into an existing TensorFlow environment leaves what TensorFlow needs as it is.

The pins (`python -m tfguide.pins`) are checked on synthetic installed distributions; the install itself
is checked for real: a fresh virtual environment holding this TensorFlow and the OLDEST numpy it accepts,
then README's two commands, then numpy and everything TensorFlow requires must be as before and
`pip check` clean. That part needs the package index (or pip's cache), so it runs when
TFGUIDE_NETWORK_TESTS=1 (CI sets it) and is skipped otherwise, offline.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import venv
from importlib import metadata
from pathlib import Path

import pytest

from tfguide import pins
from tfguide import catalogue

ROOT = Path(__file__).resolve().parents[1]


# -- the pins, on synthetic distributions --------------------------------------------------------------

def make_dist(site: Path, name: str, version: str, requires: list[str] = ()) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    make_dist(site, "tensorflow-cpu", "2.13.1", ["numpy<=1.24.3,>=1.22", "Protobuf>=3.20.3",
                                                 "keras<2.14,>=2.13.1", "tensorflow-io-gcs-filesystem>=0.23.1",
                                                 "tensorflow-intel==2.13.1; platform_system == 'Windows'",
                                                 "nvidia-cudnn-cu11; extra == 'and-cuda'"])
    make_dist(site, "numpy", "1.24.3")
    make_dist(site, "protobuf", "4.25.8")
    make_dist(site, "keras", "2.13.1")
    make_dist(site, "nvidia-cudnn-cu11", "8.6.0")  # installed, but only the and-cuda extra asks for it
    make_dist(site, "h5py", "3.9.0", ["numpy>=1.17.3"])
    make_dist(site, "matplotlib", "3.7.2", ["numpy>=1.20"])  # not something TensorFlow needs
    return site


def installed_in(site: Path) -> dict:
    return {pins.canonical(d.metadata["Name"]): d for d in metadata.distributions(path=[str(site)])}


def test_pins_are_the_installed_versions_of_what_tensorflow_requires(site):
    assert pins.closure(installed_in(site)) == {
        "tensorflow-cpu": "2.13.1", "numpy": "1.24.3", "protobuf": "4.25.8", "keras": "2.13.1"}


def test_pins_follow_requirements_transitively(site):
    make_dist(site, "tf-keras", "2.16.0", ["tensorflow<2.17,>=2.16", "h5py"])
    got = pins.closure(installed_in(site))
    assert got["h5py"] == "3.9.0"  # tf-keras -> h5py
    assert "matplotlib" not in got and "nvidia-cudnn-cu11" not in got and "tensorflow-intel" not in got


def test_pins_render_as_pip_constraints(site):
    text = pins.render(pins.closure(installed_in(site)))
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["keras==2.13.1", "numpy==1.24.3", "protobuf==4.25.8", "tensorflow-cpu==2.13.1"]


def run_pins(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # -I: ignore the environment's PYTHONPATH and user site, so only `path` below is searched.
    return subprocess.run([sys.executable, "-m", "tfguide.pins", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env)


def test_without_tensorflow_pins_exit_2_with_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    # A Python whose only site directory is empty: no TensorFlow, Keras or tf_keras to keep.
    code = ("import sys; sys.path[:] = [p for p in sys.path if 'site-packages' not in p] + [sys.argv[1]]; "
            "from tfguide import pins; sys.exit(pins.main([]))")
    proc = subprocess.run([sys.executable, "-c", code, str(empty)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "no TensorFlow, Keras or tf_keras" in proc.stderr


def test_an_unwritable_output_is_exit_2_with_one_line(tmp_path):
    proc = run_pins("-o", str(tmp_path / "no-such-dir" / "pins.txt"))
    if "no TensorFlow" in proc.stderr:
        pytest.skip("no TensorFlow in this interpreter")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot write" in proc.stderr


# -- the real install ------------------------------------------------------------------------------------

NETWORK = os.environ.get("TFGUIDE_NETWORK_TESTS") == "1"


def tensorflow_requirement() -> tuple[str, str]:
    """(distribution, version) of the TensorFlow this test runs with."""
    from tfguide.environment import tensorflow_distribution

    name = tensorflow_distribution()
    if name is None:
        pytest.skip("no TensorFlow distribution installed")
    return name, metadata.version(name)


def oldest_numpy_accepted(tf_dist: str) -> str:
    """The lower bound of TensorFlow's own numpy requirement (e.g. 'numpy>=1.26.0' -> '1.26.0')."""
    for req in metadata.requires(tf_dist) or ():
        match = re.match(r"numpy\s*(?:\(\s*)?([^;)]*)", req)
        if match and ";" not in req:
            lower = re.search(r">=\s*([0-9][0-9.]*)", match.group(1))
            if lower:
                return lower.group(1)
    pytest.skip(f"{tf_dist} states no lower bound for numpy")


def freeze(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--exclude-editable"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return {pins.canonical(p["name"]): p["version"] for p in json.loads(out)}


def pip(python: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(python), "-m", "pip", *args, "--disable-pip-version-check", "-q"], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"pip {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.skipif(not NETWORK, reason="installs packages: needs the package index or pip's cache; "
                                        "set TFGUIDE_NETWORK_TESTS=1 (CI does)")
def test_readme_install_into_an_existing_environment_keeps_its_numpy(tmp_path):
    tf_dist, tf_version = tensorflow_requirement()
    numpy_floor = oldest_numpy_accepted(tf_dist)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The existing environment: this TensorFlow with the oldest numpy it accepts (older than the newest,
    # which is what pip would pick for anything that asks for "numpy").
    pip(python, "install", f"{tf_dist}=={tf_version}", f"numpy=={numpy_floor}")
    before = freeze(python)
    assert before["numpy"] == numpy_floor

    # README, "An existing TensorFlow environment": the pins, then the suite with its plots.
    readme = (ROOT / "README.md").read_text()
    assert "python -m tfguide.pins -o pins.txt" in readme and 'pip install -e ".[plots]" -c pins.txt' in readme
    pins_file = tmp_path / "pins.txt"
    proc = subprocess.run([str(python), "-m", "tfguide.pins", "-o", str(pins_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    pip(python, "install", "-e", ".[plots]", "-c", str(pins_file))

    after = freeze(python)
    assert after["numpy"] == numpy_floor
    kept = {name for name in pins_file.read_text().split() if "==" in name}
    changed = {line.split("==")[0]: (line.split("==")[1], after.get(line.split("==")[0]))
               for line in kept if after.get(line.split("==")[0]) != line.split("==")[1]}
    assert changed == {}, f"the install changed what {tf_dist} requires: {changed}"
    assert "matplotlib" in after, "the plots extra was not installed"
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    # And the suite runs there: the tooling imports and renders without touching the network.
    smoke = subprocess.run([str(python), "-c", textwrap.dedent("""
        import matplotlib, numpy, pytest, tabulate, tensorboard
        from tfguide import catalogue
        print(len(catalogue.load()))
    """)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.strip() == str(len(catalogue.load()))   # the installed suite reads the same catalogue
