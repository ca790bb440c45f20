"""The recipe catalogue (catalogue.toml), read once, and the API state that applies to the
TensorFlow/Keras under test."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11, where TF 2.15 still runs
    import tomli as tomllib

# The data beside its reader, in the core that every other folder imports.
CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.toml"
STATES = ("current", "renamed", "removed")
# The reports' vocabulary, written by suite/support/conformance.py and read by the matrix and the renderers.
# A recipe's status, in this order of precedence: a failing spec makes it `fail` whatever else happened; a
# reproduced advisory `vulnerable` (the guide's code may work, loading files from others is not safe); a
# catalogued defect `known defect`.
STATUSES = ("pass", "known defect", "vulnerable", "fail", "skip", "not run", "missing")
# What the specs of an advisory observed (suite/support/conformance.py, ConformancePlugin._advisories).
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


# The packages a fix record may name: the PyPI distributions behind tf.keras (keras: Keras 3, and the Keras 2 of
# TF <= 2.15; tf-keras) and TensorFlow itself.
FIX_PACKAGES = ("keras", "tf-keras", "tensorflow")
# What the conformance report says when an advisory's verdict (from behaviour) and the installed version (against
# the fix record) disagree. The verdict stays the behaviour's.
IN_RANGE_BUT_REFUSED = "refused (the version is in the advisory's range: patched build?)"
PAST_FIX_BUT_VULNERABLE = "vulnerable (the version is past the recorded fix)"
BEFORE_RANGE_BUT_VULNERABLE = "vulnerable (the version is before the advisory's range)"
_COMMIT = re.compile(r"[0-9a-f]{10}")


@dataclass(frozen=True)
class FixCommit:
    """A commit that fixed (part of) an advisory: `commit` is the 10-hex prefix of the merged commit or of a
    release's squashed cherry-picks, `pr` its pull request (None for a commit pushed without one: then
    `title` or `note` says so), `release` its first tag (None when it is in no tag)."""
    commit: str
    pr: int | None = None
    release: str | None = None
    title: str = ""
    note: str = ""


@dataclass(frozen=True)
class Fix:
    """What a version number implies for one package (FIX_PACKAGES): `fixed_in` holds the first fixed release of
    each release line (empty: no fix released), `introduced` the first affected release where earlier ones are
    not (""), `stated_fixed_in` the advisory's own range where it differs (None: it does not), `python` a
    specifier when the fix depends on the interpreter."""
    package: str
    fixed_in: tuple[str, ...]
    commits: tuple[FixCommit, ...] = ()
    python: str = ""
    stated_fixed_in: tuple[str, ...] | None = None
    stated: str = ""
    note: str = ""
    introduced: str = ""

    def fixes(self, version: str) -> bool | None:
        """True when `version` has the recorded fix, False when it is in the range; None for a pre-release or
        development build, whose version does not say which fixes it has (its commit does)."""
        return _in_fixed(version, self.fixed_in)

    def stated_fixes(self, version: str) -> bool | None:
        return None if self.stated_fixed_in is None else _in_fixed(version, self.stated_fixed_in)


def _line(version: Version) -> tuple[int, int]:
    return (version.release + (0, 0))[:2]


def _in_fixed(version: str, fixed_in: tuple[str, ...]) -> bool | None:
    """A release is fixed when it is at or past the first fixed release of its own line, or at or past the highest
    entry (the mainline fix carries forward to every later line); a line below it without an entry was released
    without the fix. ("3.12.1", "3.13.2", "3.14.0"): 3.12.0 and 3.13.1 are not fixed, 3.13.2 and 3.15.0 are."""
    v = Version(version)
    if v.is_prerelease or v.is_devrelease:
        return None
    fixed = [Version(f) for f in fixed_in]
    if not fixed:
        return False
    return v >= max(fixed) or any(_line(f) == _line(v) and v >= f for f in fixed)


@dataclass(frozen=True)
class VersionCheck:
    """The installed version against an advisory's fix record: `says` is "fixed", "in range", "not affected" (before
    the first affected release) or None (no record for this package, not installed, or a pre-release);
    `disagreement` is set only when the verdict observed
    contradicts it; `stated_says` is the advisory's own range's answer where the record differs from it."""
    package: str | None
    version: str | None
    says: str | None
    disagreement: str | None
    note: str
    stated_says: str | None = None

    def as_dict(self) -> dict:
        return {"package": self.package, "version": self.version, "says": self.says,
                "disagreement": self.disagreement, "note": self.note, "stated_says": self.stated_says}


def installed_packages(env: dict) -> dict[str, str | None]:
    """{package: version} of FIX_PACKAGES from a conformance report's environment: the package behind tf.keras
    (tf-keras when tf.keras is tf_keras, keras otherwise) and tensorflow; None for what is not installed."""
    keras = env.get("keras") or {}
    provider = "tf-keras" if str(keras.get("module", "")).startswith("tf_keras") else "keras"
    return {"keras": None, "tf-keras": None, provider: keras.get("version") or None,
            "tensorflow": env.get("tensorflow") or None}


@dataclass(frozen=True)
class Advisory:
    """A published security advisory (or a reported, not yet fixed, flaw) about loading a file someone else
    wrote, and the spec that reproduces it harmlessly. The verdict comes from what the spec observes the
    crafted file do here (suite/support/untrusted.py): `refused`, `vulnerable` or `not applicable`, never from a
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
    fixes: tuple[Fix, ...] = ()

    def reproduced_by(self, recipe: str, spec: str) -> bool:
        import fnmatch

        return recipe in self.recipes and any(fnmatch.fnmatchcase(spec, p) for p in self.specs)

    def fix_for(self, package: str, python: str | None = None) -> Fix | None:
        """The first record of `package` whose `python` matches (a record without one matches every Python)."""
        return next((f for f in self.fixes if f.package == package
                     and (not f.python or (python is not None and _matches(python, f.python)))), None)

    def version_check(self, verdict: str, packages: dict[str, str | None], python: str | None) -> VersionCheck:
        """The installed version against the fix record, for the report: never a verdict. The package is the one
        behind tf.keras (`packages` from installed_packages) when the advisory has a record for it, else
        tensorflow's record; only a `refused` or `vulnerable` verdict can disagree with it."""
        provider = next((p for p in ("keras", "tf-keras") if packages.get(p)), "keras")
        chosen = next((p for p in (provider, "tensorflow") if self.fix_for(p, python)), None)
        if chosen is None:
            return VersionCheck(None, None, None, None, f"no fix record for {provider} or tensorflow")
        fix, version = self.fix_for(chosen, python), packages.get(chosen)
        if not version:
            return VersionCheck(chosen, None, None, None, f"{chosen} is not installed here")
        fixed = fix.fixes(version)
        where = ", ".join(fix.fixed_in)
        if fixed is None:
            return VersionCheck(chosen, version, None, None,
                                f"{chosen} {version} is a pre-release or development build: its version does not "
                                "say which fixes it has")
        if fix.introduced and Version(version) < Version(fix.introduced):
            return VersionCheck(chosen, version, "not affected",
                                BEFORE_RANGE_BUT_VULNERABLE if verdict == "vulnerable" else None,
                                f"{chosen} {version} is before the first affected release ({fix.introduced})")
        says = "fixed" if fixed else "in range"
        note = (f"{chosen} {version} {'has' if fixed else 'is before'} the recorded fix ({where})" if fix.fixed_in
                else f"no release of {chosen} has a fix ({chosen} {version} here)")
        disagreement = (IN_RANGE_BUT_REFUSED if verdict == "refused" and not fixed
                        else PAST_FIX_BUT_VULNERABLE if verdict == "vulnerable" and fixed else None)
        stated = fix.stated_fixes(version)
        stated_says = None if stated is None else "fixed" if stated else "in range"
        if stated_says is not None and stated_says != says:
            published = fix.stated or f"fixed in {', '.join(fix.stated_fixed_in) or 'no release'}"
            note += f"; the advisory's own range ({published}) says {stated_says}"
        return VersionCheck(chosen, version, says, disagreement, note, stated_says)


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
        fixes = tuple(_fix(path, item["id"], raw) for raw in item.get("fix", []))
        advisory = Advisory(item["id"], tuple(item.get("aliases", ())), recipes, tuple(item["specs"]),
                            item["format"], item["api"], item["payload"], item["recognised"], item["fixed"],
                            item["upstream"], item["sentence"], fixes)
        if not set(advisory.recipes) <= set(known) or advisory.id in found or advisory.id in defect_ids:
            raise ValueError(f"{path}: advisory {advisory.id}: unknown recipe {advisory.recipes!r} or id given twice")
        found[advisory.id] = advisory
    return found


def _releases(where: str, values) -> tuple[str, ...]:
    """Release versions, ascending, at most one per release line, none a pre-release."""
    if not isinstance(values, list):
        raise ValueError(f"{where}: a list of versions is expected")
    try:
        versions = [Version(v) for v in values]
    except InvalidVersion as exc:
        raise ValueError(f"{where}: {exc}") from None
    lines = [_line(v) for v in versions]
    if versions != sorted(versions) or len(set(lines)) != len(lines) or any(v.is_prerelease for v in versions):
        raise ValueError(f"{where}: releases must ascend, one per release line, none a pre-release: {values}")
    return tuple(values)


def _fix(path: Path, advisory: str, raw: dict) -> Fix:
    where = f"{path}: advisory {advisory}: fix {raw.get('package', '?')}"
    unknown = set(raw) - {"package", "fixed_in", "commits", "python", "stated_fixed_in", "stated", "note",
                          "introduced"}
    if raw.get("package") not in FIX_PACKAGES or "fixed_in" not in raw or unknown:
        raise ValueError(f"{where}: needs `package` (one of {FIX_PACKAGES}) and `fixed_in`; unknown keys "
                         f"{sorted(unknown)}")
    if raw.get("python"):
        try:
            SpecifierSet(raw["python"])
        except InvalidSpecifier as exc:
            raise ValueError(f"{where}: python: {exc}") from None
    commits = []
    for entry in raw.get("commits", []):
        commit = FixCommit(entry.get("commit", ""), entry.get("pr"), entry.get("release"), entry.get("title", ""),
                           entry.get("note", ""))
        if not _COMMIT.fullmatch(commit.commit):
            raise ValueError(f"{where}: commit {commit.commit!r} is not a 10-hex-character prefix")
        if commit.pr is None and not (commit.title or commit.note):
            raise ValueError(f"{where}: commit {commit.commit} has no `pr`, and no `title` or `note` saying why")
        if commit.pr is not None and not (isinstance(commit.pr, int) and commit.pr > 0):
            raise ValueError(f"{where}: commit {commit.commit}: pr must be a pull request number")
        if commit.release is not None:
            _releases(where, [commit.release])
        commits.append(commit)
    stated = raw.get("stated_fixed_in")
    introduced = raw.get("introduced", "")
    if introduced:
        _releases(f"{where} (introduced)", [introduced])
    return Fix(raw["package"], _releases(where, raw["fixed_in"]), tuple(commits), raw.get("python", ""),
               None if stated is None else _releases(f"{where} (stated)", stated), raw.get("stated", ""),
               raw.get("note", ""), introduced)


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
