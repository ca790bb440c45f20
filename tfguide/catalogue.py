"""The recipe catalogue (catalogue.toml), read once, and the API state that applies to the
TensorFlow/Keras under test."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11, where TF 2.15 still runs
    import tomli as tomllib

# The data stays in reports/ (its documented place, the contract between folders); both packages sit side
# by side in a checkout and in site-packages.
CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "reports" / "catalogue.toml"
STATES = ("current", "renamed", "removed")
# The reports' vocabulary, written by reports/conformance.py and read by the matrix and the renderers.
# A recipe's status, in this order of precedence: a failing spec makes it `fail` whatever else happened; a
# reproduced advisory `vulnerable` (the guide's code may work, loading files from others is not safe); a
# catalogued defect `known defect`.
STATUSES = ("pass", "known defect", "vulnerable", "fail", "skip", "not run", "missing")
# What the specs of an advisory observed (reports/conformance.py, ConformancePlugin._advisories).
VERDICTS = ("vulnerable", "refused", "not applicable", "undetermined", "not run")


@dataclass(frozen=True)
class ApiState:
    state: str
    sentence: str
    when: dict


@dataclass(frozen=True)
class Recipe:
    id: str
    section: str
    title: str
    api: tuple[ApiState, ...]

    def api_state(self, versions: dict[str, str]) -> ApiState:
        """The first api entry whose `when` matches `versions` ({"tf": "2.21.0", "keras": "3.15.1"})."""
        for entry in self.api:
            if all(_matches(versions.get(key), spec) for key, spec in entry.when.items()):
                return entry
        raise LookupError(f"{self.id}: no api entry matches {versions}")


def _matches(version: str | None, spec: str) -> bool:
    if version is None:
        return False
    # Nightlies and release candidates ("2.22.0-dev20261101") count as their release.
    release = ".".join(str(part) for part in Version(version).release)
    return SpecifierSet(spec).contains(release, prereleases=True)


@dataclass(frozen=True)
class Defect:
    """A defect of some TensorFlow/Keras releases, recognised by what it does: a spec of `recipe` whose
    name matches one of `specs` (fnmatch) fails with one of `raises` (the exception's class or a base
    class, by name) and a message matching `match` (a regex). Never by version: the same behaviour gets the
    same verdict on every version that has it, and a version without it simply passes."""
    id: str
    recipes: tuple[str, ...]
    specs: tuple[str, ...]
    raises: tuple[str, ...]
    match: str
    sentence: str
    upstream: str
    security: bool
    observed: str

    def recognises(self, recipe: str, spec: str, exc: BaseException) -> bool:
        import fnmatch
        import re

        return (recipe in self.recipes and any(fnmatch.fnmatchcase(spec, p) for p in self.specs)
                and bool(set(self.raises) & {cls.__name__ for cls in type(exc).__mro__})
                and re.search(self.match, str(exc)) is not None)


@dataclass(frozen=True)
class Advisory:
    """A published security advisory (or a reported, not yet fixed, flaw) about loading a file someone else
    wrote, and the spec that reproduces it harmlessly. The verdict comes from what the spec observes the
    crafted file do here (suite/untrusted.py): `refused`, `vulnerable` or `not applicable`, never from a
    version number. `recipes`: the guide's recipe(s) whose API reads the crafted file (a `.keras` or `.h5`
    model through load_model is keras.save_model, a weights file through load_weights keras.save_weights).
    `fixed` is the evidence of the fix (PR, commit, first release as read in the source); `sentence` is what
    a user must know and do when it reproduces."""
    id: str
    aliases: tuple[str, ...]
    recipes: tuple[str, ...]
    specs: tuple[str, ...]
    format: str
    api: str
    payload: str
    recognised: str
    fixed: str
    upstream: str
    sentence: str

    def reproduced_by(self, recipe: str, spec: str) -> bool:
        import fnmatch

        return recipe in self.recipes and any(fnmatch.fnmatchcase(spec, p) for p in self.specs)


class AdvisoryReproduced(AssertionError):
    """Raised by an advisory spec when the crafted file took effect here: `advisory` is the catalogue id,
    the message says what the payload achieved. The conformance report turns it into the verdict
    `vulnerable` when the catalogue names that spec for that advisory (and a plain failure otherwise)."""

    def __init__(self, advisory: str, effect: str):
        super().__init__(f"{advisory} reproduced: {effect}")
        self.advisory = advisory
        self.effect = effect


ADVISORY_FIELDS = ("id", "recipe", "specs", "format", "api", "payload", "recognised", "fixed", "upstream",
                   "sentence")


def recognise(recipe: str, spec: str, exc: BaseException) -> Defect | None:
    """The catalogued defect that this spec's failure is, if any."""
    return next((d for d in defects().values() if d.recognises(recipe, spec, exc)), None)


@functools.lru_cache(maxsize=None)
def _raw(path: Path = CATALOGUE_PATH) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@functools.lru_cache(maxsize=None)
def defects(path: Path = CATALOGUE_PATH) -> dict[str, Defect]:
    found: dict[str, Defect] = {}
    known = load(path)
    for item in _raw(path).get("defect", []):
        raises = (item["raises"],) if isinstance(item["raises"], str) else tuple(item["raises"])
        recipes = (item["recipe"],) if isinstance(item["recipe"], str) else tuple(item["recipe"])
        defect = Defect(item["id"], recipes, tuple(item["specs"]), raises, item["match"],
                        item["sentence"], item.get("upstream", ""), bool(item.get("security", False)),
                        item.get("observed", ""))
        if not set(defect.recipes) <= set(known) or defect.id in found:
            raise ValueError(f"{path}: defect {defect.id}: unknown recipe {defect.recipes!r} or id given twice")
        found[defect.id] = defect
    return found


@functools.lru_cache(maxsize=None)
def advisories(path: Path = CATALOGUE_PATH) -> dict[str, Advisory]:
    found: dict[str, Advisory] = {}
    known, defect_ids = load(path), set(defects(path))
    for item in _raw(path).get("advisory", []):
        lacking = [key for key in ADVISORY_FIELDS if not item.get(key)]
        if lacking:
            raise ValueError(f"{path}: advisory {item.get('id', '?')}: lacks {', '.join(lacking)}")
        recipes = (item["recipe"],) if isinstance(item["recipe"], str) else tuple(item["recipe"])
        advisory = Advisory(item["id"], tuple(item.get("aliases", ())), recipes, tuple(item["specs"]),
                            item["format"], item["api"], item["payload"], item["recognised"], item["fixed"],
                            item["upstream"], item["sentence"])
        if not set(advisory.recipes) <= set(known) or advisory.id in found or advisory.id in defect_ids:
            raise ValueError(f"{path}: advisory {advisory.id}: unknown recipe {advisory.recipes!r} or id given twice")
        found[advisory.id] = advisory
    return found


@functools.lru_cache(maxsize=None)
def load(path: Path = CATALOGUE_PATH) -> dict[str, Recipe]:
    raw = _raw(path)
    recipes: dict[str, Recipe] = {}
    for item in raw["recipe"]:
        api = tuple(ApiState(e["state"], e["sentence"], dict(e.get("when", {}))) for e in item["api"])
        bad = [e.state for e in api if e.state not in STATES]
        if bad or not api or api[-1].when:
            raise ValueError(f"{path}: recipe {item['id']}: states must be {STATES} and the last "
                             "api entry must have no `when` (it is the default)")
        if item["id"] in recipes:
            raise ValueError(f"{path}: recipe id {item['id']} appears twice")
        recipes[item["id"]] = Recipe(item["id"], item["section"], item["title"], api)
    return recipes
