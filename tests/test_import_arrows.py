"""Imports run one way: reference/ is the guide's recipes and imports nothing of the project but itself (and the
core package); suite/ and benchmarks/ import reference/ and tfguide/, never each other; reports/ imports only
tfguide/ and reads what suite/ and benchmarks/ wrote (files, or a command started as a process); tfguide/ imports
no other package of the project. A static scan of every import statement, at module level or inside a
function. The root conftest.py (which wires the report plugin into pytest) and tests/ are outside the packages.
"""

from __future__ import annotations

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tfguide", "reference", "suite", "benchmarks", "reports")
ALLOWED = {
    "tfguide": {"tfguide"},
    "reference": {"reference", "tfguide"},
    "suite": {"suite", "reference", "tfguide"},
    "benchmarks": {"benchmarks", "reference", "tfguide"},
    "reports": {"reports", "tfguide"},
}


def project_imports(path: Path) -> set[str]:
    """The project packages a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(PACKAGES)
    return found


def arrows() -> dict[tuple[str, str], str]:
    """(file, package it imports) for every import that crosses from one package into another."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for target in project_imports(path) - {package}:
                out[(rel, target)] = package
    return out


def test_every_import_runs_along_an_allowed_arrow():
    wrong = [f"{rel} imports {target}" for (rel, target), package in arrows().items()
             if target not in ALLOWED[package]]
    assert wrong == [], "imports against the arrows (tests/test_import_arrows.py):\n" + "\n".join(wrong)


def test_the_scan_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from reports import compare\n    import benchmarks.stats\n")
    assert project_imports(module) == {"reports", "benchmarks"}
