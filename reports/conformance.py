"""The conformance report: one row per catalogue recipe, built from the specs' results.

`ConformancePlugin` is a pytest plugin (registered by the root conftest.py). It
- refuses, as a collection error, a spec under suite/ without exactly one known `recipe` mark;
- tags every spec's reports with its recipe id (user_properties travel from xdist workers);
- in the controlling process, aggregates outcomes per recipe and writes conformance.md/.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reports import catalogue, environment

RECIPE_KEY = "recipe"
NOTE_KEY = "recipe_note"


def recipe_of(item: pytest.Item) -> str:
    """The item's recipe id, or raise CollectError saying what is wrong."""
    marks = list(item.iter_markers(RECIPE_KEY))
    known = catalogue.load()
    if len(marks) != 1 or len(marks[0].args) != 1 or marks[0].kwargs:
        raise pytest.Collector.CollectError(
            f"{item.nodeid}: every spec needs exactly one @pytest.mark.recipe(\"<id>\") "
            f"(found {len(marks)}); ids are listed in reports/catalogue.toml")
    rid = marks[0].args[0]
    if rid not in known:
        raise pytest.Collector.CollectError(
            f"{item.nodeid}: unknown recipe id {rid!r}; known ids: {', '.join(sorted(known))}")
    return rid


@dataclass
class RecipeResult:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    known_defects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failure_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).strip().splitlines()[-1]
    test = report.nodeid.split("::", 1)[-1]
    phase = "" if report.when == "call" else f" (in {report.when})"
    return _short(f"{test}{phase}: {message}")


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


class ConformancePlugin:
    def __init__(self, config: pytest.Config, suite_dir: Path):
        self.config = config
        self.suite_dir = suite_dir.resolve()
        self.report_dir = Path(config.getoption("report_dir"))
        self.is_worker = hasattr(config, "workerinput")
        self.collected: dict[str, set[str]] = {}  # recipe id -> spec node ids (before deselection)
        self.outcomes: dict[str, dict] = {}  # node id -> {"recipe", "outcome", "detail", "notes"}
        self.written: dict | None = None

    def _in_suite(self, path) -> bool:
        try:
            Path(path).resolve().relative_to(self.suite_dir)
            return True
        except ValueError:
            return False

    # -- collection -----------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_pycollect_makeitem(self, collector, name, obj):
        result = yield
        items = result if isinstance(result, list) else [result] if result is not None else []
        for item in items:
            if isinstance(item, pytest.Function) and self._in_suite(item.path):
                item.user_properties.append((RECIPE_KEY, recipe_of(item)))
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items):
        # tryfirst: record every spec before -k/-m deselect some, so "not run" differs from "missing".
        for item in items:
            for key, value in item.user_properties:
                if key == RECIPE_KEY:
                    self.collected.setdefault(value, set()).add(item.nodeid)
        if self.is_worker:
            self.config.workeroutput["recipes"] = {k: sorted(v) for k, v in self.collected.items()}

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is absent or disabled
    def pytest_testnodedown(self, node, error):
        for rid, ids in getattr(node, "workeroutput", {}).get("recipes", {}).items():
            self.collected.setdefault(rid, set()).update(ids)

    # -- results --------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport):
        rid = next((v for k, v in report.user_properties if k == RECIPE_KEY), None)
        if rid is None:
            return
        entry = self.outcomes.setdefault(report.nodeid, {"recipe": rid, "outcome": None, "detail": "", "notes": []})
        entry["notes"] = [v for k, v in report.user_properties if k == NOTE_KEY]
        if report.failed:
            if entry["outcome"] != "failed":
                entry["outcome"], entry["detail"] = "failed", _failure_line(report)
        elif report.skipped and hasattr(report, "wasxfail") and entry["outcome"] is None:
            # A strict xfail: a defect of this version that the catalogue's sentence already explains.
            entry["outcome"], entry["detail"] = "xfailed", report.wasxfail or report.nodeid
        elif report.skipped and entry["outcome"] is None:
            entry["outcome"], entry["detail"] = "skipped", _skip_reason(report)
        elif report.when == "call" and report.passed and entry["outcome"] is None:
            entry["outcome"] = "passed"

    # -- the report -----------------------------------------------------------------------------

    def build(self, env: dict) -> dict:
        results: dict[str, RecipeResult] = {}
        for entry in self.outcomes.values():
            res = results.setdefault(entry["recipe"], RecipeResult())
            res.notes.extend(n for n in entry["notes"] if n not in res.notes)
            if entry["outcome"] == "failed":
                res.failed += 1
                res.failures.append(entry["detail"])
            elif entry["outcome"] == "skipped":
                res.skipped += 1
                if entry["detail"] not in res.skips:
                    res.skips.append(entry["detail"])
            elif entry["outcome"] == "xfailed":
                res.skipped += 1
                res.known_defects.append(entry["detail"])
            elif entry["outcome"] == "passed":
                res.passed += 1
        versions = {"tf": env.get("tensorflow"), "keras": env.get("keras", {}).get("version")}
        rows = []
        for rid, recipe in catalogue.load().items():
            api = recipe.api_state(versions)
            res = results.get(rid, RecipeResult())
            if res.failed:
                status = "fail"
                more = res.failed - 1
                sentence = "Broken: " + res.failures[0] + (
                    f" (and {more} more failing spec{'s' if more > 1 else ''})" if more else "")
            elif res.passed:
                status, sentence = "pass", api.sentence
                if res.skips:
                    sentence += " Not verified here: " + "; ".join(s.rstrip(".") for s in res.skips) + "."
            elif res.skipped:
                status, sentence = "skip", "Not verified here: " + "; ".join(res.skips)
            elif rid in self.collected:
                status, sentence = "not run", "Its specs were deselected in this run (-k, -m or a narrower path)."
            else:
                status, sentence = "missing", "No spec covers this recipe yet."
            if res.notes and status in ("pass", "skip"):
                sentence += " " + " ".join(res.notes)
            rows.append({"id": rid, "section": recipe.section, "title": recipe.title, "status": status,
                         "passed": res.passed, "failed": res.failed, "skipped": res.skipped,
                         "api_state": api.state, "sentence": sentence,
                         "failures": res.failures, "known_defects": res.known_defects, "notes": res.notes})
        counts = {s: sum(r["status"] == s for r in rows) for s in ("pass", "fail", "skip", "not run", "missing")}
        return {"environment": env, "summary": counts, "recipes": rows}

    def pytest_sessionfinish(self, session):
        if self.is_worker or not (self.outcomes or self.collected):
            return
        from reports import render  # tabulate is needed once, here

        report = self.build(environment.for_config(self.config))
        self.report_dir.mkdir(parents=True, exist_ok=True)
        (self.report_dir / "conformance.json").write_text(json.dumps(report, indent=2) + "\n")
        (self.report_dir / "conformance.md").write_text(render.conformance_markdown(report))
        self.written = report

    def pytest_terminal_summary(self, terminalreporter):
        if self.written is None:
            return
        from reports import render

        terminalreporter.section("conformance report")
        terminalreporter.write_line(render.conformance_table(self.written, tablefmt="simple", wide=False))
        counts = ", ".join(f"{n} {s}" for s, n in self.written["summary"].items() if n)
        terminalreporter.write_line(f"\n{counts} -> {self.report_dir / 'conformance.md'} "
                                    f"and {self.report_dir / 'conformance.json'}")
