"""The conformance report: one row per catalogue recipe, built from the specs' results.

`ConformancePlugin` is a pytest plugin (registered by the root conftest.py). It
- refuses, as a collection error, a spec under suite/ without exactly one known `recipe` mark;
- tags every spec's reports with its recipe id (user_properties travel from xdist workers);
- turns a spec failure that a catalogued defect recognises (by its exception and message, never by
  version) into a `known defect` outcome carrying the catalogue's sentence;
- in the controlling process, aggregates outcomes per recipe and writes conformance.json, or, for a
  narrower run (a path, -k, -m, -x), conformance-partial.json, leaving the full report as it was; then
  `python -m reports conformance DIR` (reports/conformance.py, a process of its own: suite/ never imports
  reports/) renders the Markdown beside it and the summary pytest prints at the end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tfguide import atomic, catalogue, environment, launcher, text
from tfguide.provenance import report_provenance

RECIPE_KEY = "recipe"
NOTE_KEY = "recipe_note"
DEFECT_KEY = "known_defect"
ADVISORY_KEY = "advisory"          # a verdict a spec recorded: {"id", "verdict", "detail"}
VULNERABLE_KEY = "vulnerable"      # the advisory id whose crafted file took effect
STATUSES, VERDICTS = catalogue.STATUSES, catalogue.VERDICTS
FULL_NAME, PARTIAL_NAME = "conformance", "conformance-partial"
RENDER_TIMEOUT_S = 120.0
# conformance.json's contract (docs/contracts.md, "conformance.json"). 2: `schema_version`, `provenance`; per recipe
# `known_defect_specs`, `vulnerable_specs`, `api_sentence`, `skips`; `skipped` counts skipped specs only (in 1 it
# also counted known defects); `sentence` is the table cell (at most tfguide.text.CELL_LIMIT characters), no
# longer the API sentence with every defect, skip and note appended. A report without `schema_version` is 1.
SCHEMA_VERSION = 2
_MARK = re.compile(r"""mark\.recipe\(\s*["']([^"']+)["']""")


def spec_recipes(suite_dir: Path) -> dict[str, set[str]]:
    """{recipe id: spec module names} read from the source of suite/test_*.py, without collecting it:
    what a narrower run did not collect is `not run`, and only a recipe no module names is `missing`."""
    found: dict[str, set[str]] = {}
    for module in sorted(Path(suite_dir).glob("test_*.py")):
        for rid in _MARK.findall(module.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(rid, set()).add(module.name)
    return found


def recipe_of(item: pytest.Item) -> str:
    """The item's recipe id, or raise CollectError saying what is wrong."""
    marks = list(item.iter_markers(RECIPE_KEY))
    known = catalogue.load()
    if len(marks) != 1 or len(marks[0].args) != 1 or marks[0].kwargs:
        raise pytest.Collector.CollectError(
            f"{item.nodeid}: every spec needs exactly one @pytest.mark.recipe(\"<id>\") "
            f"(found {len(marks)}); ids are listed in tfguide/catalogue.toml")
    rid = marks[0].args[0]
    if rid not in known:
        raise pytest.Collector.CollectError(
            f"{item.nodeid}: unknown recipe id {rid!r}; known ids: {', '.join(sorted(known))}")
    return rid


@dataclass
class RecipeResult:
    passed: int = 0
    failed: int = 0
    known: int = 0             # specs that failed the way a catalogued defect (or their xfail mark) says
    vulnerable_specs: int = 0  # specs whose advisory's crafted file took effect
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    known_defects: list[dict] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _status(res: RecipeResult, ran: bool) -> str:
    """A recipe's status, in the precedence of tfguide.catalogue.STATUSES."""
    if res.failed:
        return "fail"
    if res.vulnerable:
        return "vulnerable"
    if res.known_defects:
        return "known defect"
    if res.passed:
        return "pass"
    if res.skipped:
        return "skip"
    return "not run" if ran else "missing"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _cell_sentence(status: str, res: RecipeResult, api_sentence: str) -> str:
    """The table cell: one sentence of at most text.CELL_LIMIT characters. Where the recipe works (with or
    without known defects) it is the start of the API sentence, whose rest the report's details carry;
    otherwise what happened, in words no detail repeats."""
    if status in ("pass", "known defect"):
        return text.lead(api_sentence)[0]
    if status == "fail":
        return f"Broken: {_plural(res.failed, 'spec')} failed in a way no catalogued defect explains."
    if status == "vulnerable":
        return text.lead(f"Unsafe with files from others: {', '.join(res.vulnerable)} "
                         f"reproduce{'s' if len(res.vulnerable) == 1 else ''} here.")[0]
    return {"skip": "Not verified here: every spec was skipped.",
            "not run": "Not run in this (narrower) run.",
            "missing": "No spec covers this recipe yet."}[status]


def _short(line: str, limit: int = 220) -> str:
    line = text.squash(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _failure_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).strip().splitlines()[-1]
    test = report.nodeid.split("::", 1)[-1]
    phase = "" if report.when == "call" else f" (in {report.when})"
    return _short(f"{test}{phase}: {message}")


def render(report_dir: Path, partial: bool) -> tuple[list[str], str]:
    """The Markdown beside the JSON just written, by `python -m reports conformance DIR [--partial]` in a process
    of its own: (the summary it prints for the terminal, why it failed or ""). TFGUIDE_MUTANT is emptied for it:
    a renderer runs no spec, so no mutant under test (tests/mutant_site) applies to it."""
    task = launcher.Task(launcher.python("-m", "reports", "conformance", str(report_dir),
                                         *(["--partial"] if partial else [])),
                         env={"TFGUIDE_MUTANT": ""}, name="render-conformance")
    result = launcher.run([task], RENDER_TIMEOUT_S)
    if not result.ok:
        return [], result.failure()
    return result.processes[0].stdout.splitlines(), ""


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


class ConformancePlugin:
    def __init__(self, config: pytest.Config, suite_dir: Path):
        self.config = config
        self.suite_dir = suite_dir.resolve()
        self.report_dir = Path(config.getoption("report_dir")).resolve()  # the renderer starts in the checkout
        self.is_worker = hasattr(config, "workerinput")
        self.collected: dict[str, set[str]] = {}  # recipe id -> spec node ids (before deselection)
        self.deselected = 0
        self.outcomes: dict[str, dict] = {}  # node id -> {"recipe", "outcome", "detail", "notes"}
        self.written: dict | None = None
        self.written_to: Path | None = None
        self.summary: list[str] = []   # what the renderer printed for the terminal
        self.render_failure = ""

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

    def pytest_deselected(self, items):
        self.deselected += sum(1 for item in items if self._in_suite(item.path))
        if self.is_worker:
            self.config.workeroutput["deselected"] = self.deselected

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is absent or disabled
    def pytest_testnodedown(self, node, error):
        output = getattr(node, "workeroutput", {})
        for rid, ids in output.get("recipes", {}).items():
            self.collected.setdefault(rid, set()).update(ids)
        # Every worker collects and deselects the same specs.
        self.deselected = max(self.deselected, output.get("deselected", 0))

    # -- results --------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        rid = next((v for k, v in report.user_properties if k == RECIPE_KEY), None)
        if rid is None or not report.failed or call.excinfo is None or hasattr(report, "wasxfail"):
            return report
        exc = call.excinfo.value
        if isinstance(exc, catalogue.AdvisoryReproduced):
            advisory = catalogue.advisories().get(exc.advisory)
            if advisory is not None and advisory.reproduced_by(rid, item.name):
                # The crafted file did what the advisory says: catalogued, so not a failure of the suite,
                # but never a pass either.
                report.outcome = "skipped"
                report.wasxfail = f"vulnerable {advisory.id}"
                report.user_properties.append((VULNERABLE_KEY, advisory.id))
            return report
        defect = catalogue.recognise(rid, item.name, exc)
        if defect is not None:
            # The spec asserted the documented behaviour and this build breaks it exactly the way the
            # catalogue describes: a known defect, shown as an expected failure.
            report.outcome = "skipped"
            report.wasxfail = f"known defect {defect.id}"
            report.user_properties.append((DEFECT_KEY, defect.id))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport):
        rid = next((v for k, v in report.user_properties if k == RECIPE_KEY), None)
        if rid is None:
            return
        entry = self.outcomes.setdefault(report.nodeid, {"recipe": rid, "outcome": None, "detail": "", "notes": [],
                                                         "name": report.nodeid.split("::")[-1],
                                                         "advisories": []})
        entry["notes"] = [v for k, v in report.user_properties if k == NOTE_KEY]
        entry["advisories"] = [v for k, v in report.user_properties if k == ADVISORY_KEY]
        defect = next((v for k, v in report.user_properties if k == DEFECT_KEY), None)
        vulnerable = next((v for k, v in report.user_properties if k == VULNERABLE_KEY), None)
        if report.failed:
            if entry["outcome"] != "failed":
                entry["outcome"], entry["detail"] = "failed", _failure_line(report)
        elif vulnerable is not None and entry["outcome"] is None:
            entry["outcome"], entry["detail"] = "vulnerable", vulnerable
        elif defect is not None and entry["outcome"] is None:
            entry["outcome"], entry["detail"] = "known defect", defect
        elif report.skipped and hasattr(report, "wasxfail") and entry["outcome"] is None:
            # An xfail mark in a spec (the catalogue's [[defect]] entries are the usual way): its reason.
            entry["outcome"], entry["detail"] = "xfailed", report.wasxfail or report.nodeid
        elif report.skipped and entry["outcome"] is None:
            entry["outcome"], entry["detail"] = "skipped", _skip_reason(report)
        elif report.when == "call" and report.passed and entry["outcome"] is None:
            entry["outcome"] = "passed"

    # -- the report -----------------------------------------------------------------------------

    def _coverage(self) -> dict:
        """What this run covered of the suite; `partial` when any spec was left out."""
        static = spec_recipes(self.suite_dir)
        collected = {nid for ids in self.collected.values() for nid in ids}  # before deselection
        ran = {nid for nid, e in self.outcomes.items() if e["outcome"] is not None}
        uncollected = sorted(rid for rid in static if rid not in self.collected)
        unfinished = max(0, len(collected) - self.deselected - len(ran))
        reasons = []
        if uncollected:
            reasons.append(f"{len(uncollected)} recipe(s) not collected (a narrower path)")
        if self.deselected:
            reasons.append(f"{self.deselected} spec(s) deselected (-k/-m)")
        if unfinished:
            reasons.append(f"{unfinished} spec(s) did not finish (-x, --maxfail or an interrupted run)")
        return {"partial": bool(reasons), "why": reasons, "specs_run": len(ran), "static": static}

    def build(self, env: dict, coverage: dict | None = None, provenance: dict | None = None) -> dict:
        coverage = coverage or self._coverage()
        results = self._results()
        versions = {"tf": env.get("tensorflow"), "keras": env.get("keras", {}).get("version")}
        rows = []
        for rid, recipe in catalogue.load().items():
            api = recipe.api_state(versions)
            res = results.get(rid, RecipeResult())
            status = _status(res, ran=rid in self.collected or rid in coverage["static"])
            rows.append({"id": rid, "section": recipe.section, "title": recipe.title, "status": status,
                         "passed": res.passed, "failed": res.failed, "known_defect_specs": res.known,
                         "vulnerable_specs": res.vulnerable_specs, "skipped": res.skipped,
                         "api_state": api.state, "api_sentence": api.sentence,
                         "sentence": _cell_sentence(status, res, api.sentence),
                         "failures": res.failures, "known_defects": res.known_defects,
                         "advisories": res.vulnerable, "skips": res.skips, "notes": res.notes})
        counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
        run = {"partial": coverage["partial"], "why": coverage["why"], "specs_run": coverage["specs_run"]}
        return {"schema_version": SCHEMA_VERSION, "provenance": provenance, "environment": env, "run": run,
                "summary": counts, "recipes": rows, "advisories": self._advisories(env)}

    def _results(self) -> dict[str, RecipeResult]:
        """Each recipe's specs, counted by how they ended, with what the report says about them."""
        defects = catalogue.defects()
        results: dict[str, RecipeResult] = {}
        # In node-id order, not the order xdist finished the specs in: the same run writes the same report.
        for _, entry in sorted(self.outcomes.items()):
            res = results.setdefault(entry["recipe"], RecipeResult())
            if entry["outcome"] == "skipped":
                res.skipped += 1
                # A spec that left a note when it skipped wrote that note for the report: it replaces the
                # skip reason (written for the terminal), which would otherwise say the same thing again.
                for reason in entry["notes"] or [entry["detail"]]:
                    if reason not in res.skips:
                        res.skips.append(reason)
                continue
            res.notes.extend(n for n in entry["notes"] if n not in res.notes)
            if entry["outcome"] == "failed":
                res.failed += 1
                res.failures.append(entry["detail"])
            elif entry["outcome"] == "known defect":
                res.known += 1
                if entry["detail"] not in [d["id"] for d in res.known_defects]:
                    d = defects[entry["detail"]]
                    res.known_defects.append({"id": d.id, "sentence": d.sentence, "upstream": d.upstream,
                                              "security": d.security})
            elif entry["outcome"] == "vulnerable":
                res.vulnerable_specs += 1
                if entry["detail"] not in res.vulnerable:
                    res.vulnerable.append(entry["detail"])
            elif entry["outcome"] == "xfailed":
                res.known += 1
                res.known_defects.append({"id": None, "sentence": entry["detail"], "upstream": "",
                                          "security": False})
            elif entry["outcome"] == "passed":
                res.passed += 1
        order = {did: index for index, did in enumerate([*defects, *catalogue.advisories()])}
        for res in results.values():  # catalogue order
            res.known_defects.sort(key=lambda d: (order.get(d["id"], len(order)), d["sentence"]))
            res.vulnerable.sort(key=lambda aid: (order.get(aid, len(order)), aid))
        return results

    def _advisories(self, env: dict | None = None) -> list[dict]:
        """One verdict per catalogued advisory, from what its specs observed: `vulnerable` when any of them
        saw the crafted file take effect, else `undetermined` when one failed (the reproduction itself
        broke: its failure is the detail), else `refused` when any saw it refused, else `not applicable`
        (with the reason); `not run` when none of its specs ran."""
        rows = []
        env = env or {}
        packages = catalogue.installed_packages(env)
        for advisory in catalogue.advisories().values():
            entries = [e for e in self.outcomes.values() if e["outcome"] is not None
                       and advisory.reproduced_by(e["recipe"], e["name"])]
            seen = [v for e in entries for v in e["advisories"] if v.get("id") == advisory.id]
            by_verdict = {verdict: [v["detail"] for v in seen if v.get("verdict") == verdict] for verdict in VERDICTS}
            failed = [e["detail"] for e in entries if e["outcome"] == "failed"]
            skipped = [e["detail"] for e in entries if e["outcome"] == "skipped"]
            if by_verdict["vulnerable"]:
                verdict, details = "vulnerable", by_verdict["vulnerable"]
            elif failed:
                verdict, details = "undetermined", failed
            elif by_verdict["refused"]:
                verdict, details = "refused", by_verdict["refused"]
            elif by_verdict["not applicable"] or skipped:
                verdict, details = "not applicable", by_verdict["not applicable"] or skipped
            else:
                verdict, details = "not run", []
            # `recipe` (the first) stays as it was for readers of older reports; `recipes` names them all.
            rows.append({"id": advisory.id, "aliases": list(advisory.aliases), "recipe": advisory.recipes[0],
                         "recipes": list(advisory.recipes), "format": advisory.format, "verdict": verdict,
                         "detail": "; ".join(dict.fromkeys(details)), "payload": advisory.payload,
                         "sentence": advisory.sentence, "fixed": advisory.fixed, "upstream": advisory.upstream,
                         # What the installed version implies against the catalogue's fix record, and where the
                         # verdict (from behaviour alone) contradicts it: a vendor backport, or a wrong record.
                         "version_check": advisory.version_check(verdict, packages, env.get("python")).as_dict()})
        return rows

    def pytest_sessionfinish(self, session):
        if self.is_worker or not (self.outcomes or self.collected):
            return
        report = self.build(environment.for_config(self.config), provenance=report_provenance())
        name = PARTIAL_NAME if report["run"]["partial"] else FULL_NAME
        self.report_dir.mkdir(parents=True, exist_ok=True)
        # whole or not at all (tfguide/atomic.py): an interrupted write keeps the previous report
        atomic.write_text(self.report_dir / f"{name}.json", json.dumps(report, indent=2) + "\n")
        self.written, self.written_to = report, self.report_dir / name
        self.summary, self.render_failure = render(self.report_dir, report["run"]["partial"])

    def pytest_terminal_summary(self, terminalreporter):
        if self.written is None:
            return
        terminalreporter.section("conformance report")
        for line in self.summary:
            terminalreporter.write_line(line)
        if self.render_failure:
            terminalreporter.write_line(f"conformance.md not rendered: {self.render_failure}", red=True, bold=True)
        counts = ", ".join(f"{n} {s}" for s, n in self.written["summary"].items() if n)
        out = self.written_to
        terminalreporter.write_line(f"\n{counts} -> {out}.md and {out}.json")
        if self.written["run"]["partial"]:
            full = self.report_dir / f"{FULL_NAME}.md"
            terminalreporter.write_line(
                f"partial run ({'; '.join(self.written['run']['why'])}): written to {out.name}.md/.json; "
                + (f"the full report {full} is left as it was." if full.exists()
                   else f"no full report is written ({full}) until a run of the whole suite."),
                yellow=True, bold=True)
