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
