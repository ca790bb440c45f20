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

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")
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


@functools.lru_cache(maxsize=None)
def load(path: Path = CATALOGUE_PATH) -> dict[str, Recipe]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
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
