"""`python -m tfguide.pins`: pip constraints that keep an existing TensorFlow environment as it is.

    python -m tfguide.pins -o pins.txt
    pip install -e ".[plots]" -c pins.txt

pip weighs only the requirements of what it is installing, not those of packages already installed: a
dependency whose newest release needs a newer numpy upgrades numpy even when the installed TensorFlow pins
an older one (TF 2.13 pins numpy <= 1.24.3; matplotlib's contourpy needs >= 1.25 today). Pinning every
installed distribution that TensorFlow, Keras or tf_keras requires, directly or not, to its installed
version makes pip choose releases of the suite's dependencies that fit what is there, or refuse with a
ResolutionImpossible that names the conflict before anything is changed.

Standard library only, and runnable from a checkout before the suite is installed. Exit status 0 with the
constraints written, 2 when no TensorFlow, Keras or tf_keras is installed in this interpreter.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

# Every distribution that provides the `tensorflow` module, and the Kerases tf.keras may resolve to.
ROOTS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
         "tensorflow-rocm", "intel-tensorflow", "tf-nightly", "tf-nightly-cpu", "keras", "tf-keras",
         "tf-keras-nightly")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503 normalisation: 'Tf_Keras' and 'tf.keras' both name 'tf-keras'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            found.setdefault(canonical(name), dist)  # the first on sys.path is the one imported
    return found


def _applies(requirement: str) -> bool:
    """Whether a Requires-Dist line applies to this interpreter without extras. Without `packaging`
    (TensorFlow brings it, so this is rare) a marker counts as applying: one pin too many only keeps an
    installed package as it is."""
    if ";" not in requirement:
        return True
    try:
        from packaging.markers import Marker
    except ImportError:
        return "extra" not in requirement.split(";", 1)[1]
    marker = Marker(requirement.split(";", 1)[1])
    try:
        return marker.evaluate({"extra": ""})
    except Exception:  # an unusual marker: keep the pin rather than guess
        return True


def closure(installed: dict[str, metadata.Distribution]) -> dict[str, str]:
    """{distribution: installed version} for the installed roots and everything they require, transitively."""
    pins: dict[str, str] = {}
    todo = [name for name in ROOTS if name in installed]
    while todo:
        name = todo.pop()
        if name in pins:
            continue
        dist = installed[name]
        pins[name] = dist.version
        for requirement in dist.requires or ():
            match = _NAME.match(requirement)
            if match and _applies(requirement):
                dep = canonical(match.group(1))
                if dep in installed and dep not in pins:
                    todo.append(dep)
    return pins


def snapshot() -> dict:
    """What is installed in this interpreter and what the installed TensorFlow / Keras / tf_keras require, as
    JSON-ready data: `installed` {name: version}, `required` (the pins: closure) and `requires` {name: its
    requirement strings}. The version matrix (noxfile.py) records it before and after installing the suite."""
    found = installed()
    return {"installed": {n: d.version for n, d in found.items()}, "required": closure(found),
            "requires": {n: list(d.requires or ()) for n, d in found.items()}}


def render(pins: dict[str, str]) -> str:
    head = ("# pip constraints: what the installed TensorFlow / Keras / tf_keras require, as installed.\n"
            f"# Written by `python -m tfguide.pins` with {sys.executable}.\n")
    return head + "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tfguide.pins", description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the constraints here (default: standard output)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    pins = closure(installed())
    if not pins:
        print("pins: no TensorFlow, Keras or tf_keras is installed for this Python "
              f"({sys.executable}); nothing to keep", file=sys.stderr)
        return 2
    text = render(pins)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text)
    except OSError as exc:
        print(f"pins: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"pins: {len(pins)} distributions kept as installed -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
