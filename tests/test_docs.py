"""README.md and docs/*.md say only what holds: every relative link resolves (a file of the checkout, and a
heading of it where the link names one), and every command they show runs, at least as far as `--help`.

A command is a `python -m MODULE [SUBCOMMAND]`, `python tests/...`, `pytest [PATH]`, `pytest-benchmark
SUBCOMMAND` or `nox` in a fenced block or an inline code span; each distinct one is started once with
`--help` in a fresh process (those that import TensorFlow take several seconds each). The few that cannot run
here are in NOT_RUN with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


NOT_RUN = {
    ("python", "-m", "suite.support.distribute_worker"):
        "a worker process the suite starts itself (tfguide/launcher.py) with its arguments; not a person's command",
    ("python", "-m", "tests.test_guide_api_audit"):
        "takes no options; it collects the whole suite, which tests/test_guide_api_audit.py does already",
}

COMMAND = re.compile(r"(?:^|[\s(])(python -m [\w.]+(?: [a-z]+\b)?|python tests/\S+\.py|pytest-benchmark [a-z]+"
                     r"|pytest(?: (?!-)[\w/.]+)?|nox)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _prose_and_code(text: str) -> tuple[list[str], list[str]]:
    """The page's prose lines (inline code spans blanked) and its code: fenced lines, one command a line
    (continuations joined, comments dropped), then the inline code spans."""
    prose, fenced_lines, spans, fenced = [], [], [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            fenced_lines.append("" if line.lstrip().startswith("#") else line.split("  #")[0])
        else:
            spans += re.findall(r"`([^`]+)`", line)
            prose.append(re.sub(r"`[^`]*`", "", line))
    return prose, "\n".join(fenced_lines).replace("\\\n", " ").splitlines() + spans


def commands() -> dict[tuple[str, ...], str]:
    """Each distinct command the pages show, with the first page that shows it."""
    found = {}
    for page in PAGES:
        for code in _prose_and_code(page.read_text(encoding="utf-8"))[1]:
            for command in COMMAND.findall(code):
                found.setdefault(tuple(command.split()), page.relative_to(ROOT).as_posix())
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings (none for any other file)."""
    found, fenced = set(), False
    for line in page.read_text(encoding="utf-8").splitlines() if page.suffix == ".md" else []:
        fenced = fenced != line.startswith("```")
        if not fenced and re.match(r"#+ ", line):
            found.add(_slug(line.lstrip("#")))
    return found


def links() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for line in _prose_and_code(page.read_text(encoding="utf-8"))[0]:
            found += [(page.relative_to(ROOT).as_posix(), target) for target in LINK.findall(line)
                      if not re.match(r"[a-z]+:", target)]
    return found


def test_the_pages_show_the_commands_a_reader_needs():
    shown = {" ".join(c) for c in commands()}
    assert {"pytest suite", "pytest benchmarks", "python -m tfguide.pins", "python -m reports compare",
            "python -m benchmarks.ab", "python -m benchmarks.cluster", "python tests/run_mutants.py",
            "nox"} <= shown


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


@pytest.mark.parametrize("page,target", links(), ids=lambda v: v)
def test_every_relative_link_resolves(page, target):
    path, _, anchor = target.partition("#")
    file = (ROOT / page).parent / path if path else ROOT / page
    name = file.resolve().relative_to(ROOT).as_posix() if file.resolve().is_relative_to(ROOT) else str(file)
    assert file.exists(), f"{page}: the link {target} leads nowhere"
    if anchor:
        assert anchor in anchors(file), f"{page}: {name} has no heading #{anchor}"


def _argv(command: tuple[str, ...]) -> list[str] | None:
    """How to start the command here with --help; None when its tool is not installed."""
    if command[0] == "python":
        return [sys.executable, *command[1:], "--help"]
    if command[0] == "pytest":
        return [sys.executable, "-m", "pytest", *command[1:], "--help"]
    if command[0] == "nox":
        return [sys.executable, "-m", "nox", "--help"] if importlib.util.find_spec("nox") else None
    tool = shutil.which(command[0], path=os.pathsep.join([str(Path(sys.executable).parent),
                                                          os.environ.get("PATH", "")]))
    return [tool, *command[1:], "--help"] if tool else None


@pytest.mark.parametrize("command", sorted(commands()), ids=" ".join)
def test_every_command_shown_accepts_help(command):
    if command in NOT_RUN:
        pytest.skip(NOT_RUN[command])
    argv = _argv(command)
    if argv is None:
        pytest.skip(f"{command[0]} is not installed here (nox: pip install -e '.[matrix]')")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"{' '.join(command)} --help (shown in {commands()[command]}): " \
                                 f"exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
