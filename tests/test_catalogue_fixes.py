"""The advisories' fix records (tfguide/catalogue.toml, [[advisory.fix]]): every commit named is the 10-character
prefix of a commit the entry also names by its pull request, and the installed version is set against the
record the way the conformance report does it (tfguide.catalogue.Advisory.version_check). No TensorFlow.

With TFGUIDE_KERAS_GIT (and TFGUIDE_TF_KERAS_GIT) pointing at a clone of keras-team/keras (keras-team/tf-keras),
the records are also checked against that history: each commit exists outside contributors' pull-request refs,
its subject names its PR, and its first tag is the recorded release (`git tag --contains`)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path

import pytest

from reports import render
from tfguide import catalogue

ADVISORIES = catalogue.advisories()
HASH = re.compile(r"\b(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")
# Commits of a contributor's rebased branch (refs/pull/23109/head and the patch-release PRs' heads): not
# keras-team/keras history. The catalogue named the first two until issue 27; the merged commits replace them.
NOT_HISTORY = ("6b08a3845d", "a9f091030a", "aa913ba5e5", "9af589a2b4")


def _commits(advisory) -> dict[str, catalogue.FixCommit]:
    return {c.commit: c for fix in advisory.fixes for c in fix.commits}


@pytest.mark.parametrize("aid", list(ADVISORIES))
def test_every_commit_the_fixed_text_names_is_a_recorded_10_character_prefix_with_its_pr(aid):
    advisory = ADVISORIES[aid]
    recorded = _commits(advisory)
    for named in HASH.findall(advisory.fixed):
        assert len(named) == 10, f"{aid}: {named} is not written as a 10-character prefix"
        assert named in recorded, f"{aid}: {named} is in `fixed` but in no [[advisory.fix]] commits"
        commit = recorded[named]
        if commit.pr is not None:
            assert re.search(rf"#{commit.pr}\b", advisory.fixed), f"{aid}: {named} is PR #{commit.pr}, which `fixed` does not name"
        else:  # pushed without a PR: the text says so, with the commit's title where it has one
            assert "without a PR" in advisory.fixed or commit.note, f"{aid}: {named} has no PR and nothing says why"
            assert not commit.title or commit.title in advisory.fixed


@pytest.mark.parametrize("aid", list(ADVISORIES))
def test_every_recorded_pr_is_named_and_every_fixed_release_line_is_said(aid):
    advisory = ADVISORIES[aid]
    for commit in _commits(advisory).values():
        assert commit.pr is None or commit.commit in advisory.fixed or f"#{commit.pr}" in advisory.fixed, (
            f"{aid}: PR #{commit.pr} ({commit.commit}) is recorded but `fixed` names neither")
    for fix in advisory.fixes:
        for release in fix.fixed_in:
            short = release.removesuffix(".0")
            assert re.search(rf"(?<![\d.]){re.escape(short)}(?![\d])", advisory.fixed + advisory.sentence), (
                f"{aid}: {fix.package} {release} is recorded as a first fixed release but the text never says it")


def test_no_commit_of_a_contributors_branch_is_named():
    text = catalogue.CATALOGUE_PATH.read_text()
    assert [h for h in NOT_HISTORY if h in text] == []


def test_the_corrected_entries_of_issue_27():
    assert "CVE-2024-55459" not in ADVISORIES["CVE-2025-12060"].aliases
    assert {"CVE-2025-12638", "GHSA-9g7v-8wxv-mwxp"} <= set(ADVISORIES["CVE-2025-12060"].aliases)
    assert ADVISORIES["CVE-2024-55459"].aliases == ("GHSA-cjgq-5qmw-rcj6",)
    assert "disputed" in ADVISORIES["CVE-2024-55459"].payload
    assert "GHSA-gfmx-qqqh-f38q" in ADVISORIES["CVE-2026-1669"].aliases
    assert "PYSEC-2026-73" in ADVISORIES["CVE-2026-0897"].aliases
    assert ADVISORIES["CVE-2025-12058"].upstream.endswith("/GHSA-qg93-c7p6-gg7f")
    # 3.13.2 and 3.12.1 (January) came before 3.14.0 (April): the text must not read as if they came later.
    assert "first in 3.14.0" not in ADVISORIES["CVE-2026-1462"].fixed
    assert ADVISORIES["CVE-2026-1462"].fix_for("keras").fixed_in == ("3.12.1", "3.13.2", "3.14.0")


# --- what a version implies -----------------------------------------------------------------------------------

ENV = {"python": "3.11.7", "tensorflow": "2.21.0",
       "keras": {"name": "Keras 3", "version": "3.15.1", "module": "keras._tf_keras.keras"}}


def _check(aid: str, verdict: str, keras: str | None = "3.15.1", module: str = "keras._tf_keras.keras",
           tensorflow: str = "2.21.0", python: str = "3.11.7") -> catalogue.VersionCheck:
    env = {"python": python, "tensorflow": tensorflow,
           "keras": {"version": keras, "module": module} if keras else {}}
    return ADVISORIES[aid].version_check(verdict, catalogue.installed_packages(env), python)


@pytest.mark.parametrize("version, fixed", [
    ("3.12.0", False), ("3.12.1", True), ("3.12.4", True), ("3.13.0", False), ("3.13.1", False), ("3.13.2", True),
    ("3.14.0", True), ("3.15.1", True), ("3.11.3", False), ("2.15.0", False), ("3.13.2.post1", True)])
def test_a_release_is_fixed_from_its_lines_first_fix_or_past_the_mainline_fix(version, fixed):
    assert ADVISORIES["CVE-2026-1462"].fix_for("keras").fixes(version) is fixed


def test_a_refusal_on_a_version_in_the_range_is_flagged_as_a_patched_build():
    check = _check("CVE-2026-1462", "refused", keras="3.13.1")
    assert (check.says, check.disagreement) == ("in range", catalogue.IN_RANGE_BUT_REFUSED)
    assert check.note == "keras 3.13.1 is before the recorded fix (3.12.1, 3.13.2, 3.14.0)"


def test_a_reproduction_on_a_version_past_the_fix_is_flagged():
    check = _check("CVE-2026-12570", "vulnerable", keras="3.12.3")
    assert (check.says, check.disagreement) == ("fixed", catalogue.PAST_FIX_BUT_VULNERABLE)
    assert check.note.startswith("keras 3.12.3 has the recorded fix (3.12.3, 3.15.0)")


@pytest.mark.parametrize("aid, verdict, keras", [("CVE-2026-1462", "refused", "3.13.2"),
                                                  ("CVE-2026-1462", "vulnerable", "3.13.1"),
                                                  ("KERAS-23654", "vulnerable", "3.15.1")])
def test_agreement_and_verdicts_without_a_claim_say_nothing(aid, verdict, keras):
    assert _check(aid, verdict, keras=keras).disagreement is None
    for verdict in ("not applicable", "undetermined", "not run"):
        assert _check(aid, verdict, keras="3.13.1").disagreement is None


def test_a_package_that_is_not_installed_is_not_compared():
    check = _check("CVE-2025-9905", "vulnerable", keras=None)
    assert (check.package, check.version, check.says, check.disagreement) == ("keras", None, None, None)
    assert check.note == "keras is not installed here"


@pytest.mark.parametrize("version", ["3.16.0.dev2026080603", "3.15.0rc1", "3.13.2a1"])
def test_a_pre_release_or_development_build_is_not_compared(version):
    check = _check("CVE-2026-12570", "vulnerable", keras=version)
    assert (check.says, check.disagreement) == (None, None)
    assert "pre-release or development build" in check.note


def test_tf_keras_is_compared_with_its_own_record_and_tensorflow_where_only_it_has_one():
    check = _check("KERAS-NPZ-PICKLE", "vulnerable", keras="2.20.1", module="tf_keras.src")
    assert (check.package, check.says, check.disagreement) == ("tf-keras", "fixed", catalogue.PAST_FIX_BUT_VULNERABLE)
    assert _check("KERAS-NPZ-PICKLE", "vulnerable", keras="2.20.0", module="tf_keras.src").disagreement is None
    check = _check("CVE-2021-37678", "refused", keras="2.5.0", module="tensorflow.keras", tensorflow="2.5.0")
    assert (check.package, check.says, check.disagreement) == ("tensorflow", "in range", catalogue.IN_RANGE_BUT_REFUSED)


def test_a_fix_that_depends_on_the_python_uses_the_record_of_this_python():
    # As filter='data' reached get_file: with 3.12.0 on Python 3.12+, with 3.12.3 / 3.15.0 on Python 3.11.
    base = ADVISORIES["CVE-2025-12060"]
    advisory = dataclasses.replace(base, fixes=(catalogue.Fix("keras", ("3.12.0",), python=">=3.12"),
                                                catalogue.Fix("keras", ("3.12.3", "3.15.0"))))
    packages = {"keras": "3.12.0", "tf-keras": None, "tensorflow": "2.20.0"}
    assert advisory.version_check("refused", packages, "3.12.4").disagreement is None
    assert advisory.version_check("refused", packages, "3.11.7").disagreement == catalogue.IN_RANGE_BUT_REFUSED
    assert advisory.version_check("refused", packages, None).disagreement == catalogue.IN_RANGE_BUT_REFUSED


def test_a_version_before_the_first_affected_release_is_not_in_the_range():
    # Keras 2.12's configs name no module (it refuses the crafted file); the new serialization came with 2.13.
    check = _check("CVE-2025-1550", "refused", keras="2.12.0", module="keras.api._v2.keras")
    assert (check.says, check.disagreement) == ("not affected", None)
    assert _check("CVE-2025-1550", "vulnerable", keras="2.12.0").disagreement == catalogue.BEFORE_RANGE_BUT_VULNERABLE
    assert _check("CVE-2025-1550", "vulnerable", keras="2.13.1").disagreement is None


def test_the_advisorys_own_range_is_said_where_it_differs_from_the_record():
    check = _check("CVE-2026-1669", "vulnerable", keras="3.13.1")
    assert (check.says, check.stated_says, check.disagreement) == ("in range", "fixed", None)
    assert check.note.endswith("the advisory's own range (the CVE record) says fixed")


def test_a_malformed_fix_record_is_refused(tmp_path):
    base = catalogue.CATALOGUE_PATH.read_text()
    for bad, message in [('commit = "ac5c97fb57"', 'commit = "ac5c97fb5"'),
                         ('fixed_in = ["3.11.3", "3.12.0"]', 'fixed_in = ["3.12.0", "3.11.3"]')]:
        path = tmp_path / f"{len(message)}.toml"
        path.write_text(base.replace(bad, message, 1))
        with pytest.raises(ValueError, match="10-hex|ascend"):
            catalogue.advisories(path)


def test_the_report_lists_the_disagreements_and_nothing_when_there_are_none():
    agree = {"id": "CVE-2026-1462", "version_check": _check("CVE-2026-1462", "refused").as_dict()}
    assert render.version_disagreements([agree, {"id": "OLD"}]) == []
    disagree = {"id": "CVE-2026-1462", "version_check": _check("CVE-2026-1462", "refused", keras="3.13.1").as_dict()}
    lines = render.version_disagreements([agree, disagree])
    assert lines[0] == "### Behaviour and version disagree"
    assert ("- [CVE-2026-1462](#cve-2026-1462): refused (the version is in the advisory's range: patched build?): "
            "keras 3.13.1 is before the recorded fix (3.12.1, 3.13.2, 3.14.0).") in lines


def test_the_matrix_says_per_environment_where_behaviour_and_version_disagree():
    from reports import matrix

    def report(keras, verdict):
        return {"environment": {"python": "3.11.7", "tensorflow": "2.21.0",
                                "keras": {"version": keras, "module": "keras._tf_keras.keras"}},
                "advisories": [{"id": "CVE-2026-1462", "verdict": verdict, "detail": "ValueError: refused"}]}

    # A vendor's Keras 3.13.1 with the backport, beside the upstream 3.13.2: only the first disagrees.
    rows = matrix._merge_advisories({"vendor-3.13.1": report("3.13.1", "refused"), "3.13.2": report("3.13.2", "refused")})
    cells = next(r for r in rows if r["id"] == "CVE-2026-1462")["cells"]
    assert cells["vendor-3.13.1"]["disagreement"] == catalogue.IN_RANGE_BUT_REFUSED
    assert cells["3.13.2"]["disagreement"] is None
    lines = matrix.findings_grid({"environments": [{"name": "vendor-3.13.1"}, {"name": "3.13.2"}], "defects": [],
                                  "advisories": rows})
    said = [line for line in lines if "disagree" in line or line.startswith("- [CVE-2026-1462](#cve-2026-1462) on")]
    assert said[1:] == ["- [CVE-2026-1462](#cve-2026-1462) on vendor-3.13.1: refused (the version is in the advisory's "
                        "range: patched build?): keras 3.13.1 is before the recorded fix (3.12.1, 3.13.2, 3.14.0)."]


# --- against the git history, where a clone is at hand ---------------------------------------------------------

CLONES = {"keras": os.environ.get("TFGUIDE_KERAS_GIT"), "tf-keras": os.environ.get("TFGUIDE_TF_KERAS_GIT")}


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout


@pytest.mark.parametrize("package", list(CLONES))
def test_the_records_match_the_git_history(package):
    repo = CLONES[package]
    if not repo or not Path(repo).exists():
        pytest.skip(f"set TFGUIDE_{package.upper().replace('-', '_')}_GIT to a clone of keras-team/{package}")
    for aid, advisory in ADVISORIES.items():
        for fix in (f for f in advisory.fixes if f.package == package):
            for c in fix.commits:
                subject = _git(repo, "log", "-1", "--format=%s", c.commit).strip()
                refs = _git(repo, "for-each-ref", "--contains", c.commit, "--format=%(refname)").split()
                assert any(not r.startswith("refs/pull/") for r in refs), f"{aid}: {c.commit} is only on PR refs"
                assert c.pr is None or f"(#{c.pr})" in subject, f"{aid}: {c.commit} is '{subject}', not #{c.pr}"
                assert c.title in subject
                tags = sorted((t[1:] for t in _git(repo, "tag", "--contains", c.commit).split() if t[:1] == "v"),
                              key=catalogue.Version)
                assert (tags[0] if tags else None) == c.release, f"{aid}: {c.commit} first in {tags[:1]}, not {c.release}"
