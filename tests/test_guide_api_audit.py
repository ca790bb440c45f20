"""The guide audit (suite/guide_api_audit.toml): every API, argument and option the guide names has a spec
that the suite really collects, or a reason why none can; and so has every form of it that the guide's text or
the API's documentation allows (by name / as a callable / as an instance, called directly / inside a model,
NumPy / Dataset, full / partial last batch, default / explicit arguments). `python -m tests.test_guide_api_audit`
prints the forms table.

The spec names are checked against the node ids that `pytest suite --collect-only` reports, so a renamed
or deleted spec, or a misspelt one, fails here rather than leaving a name of the guide silently unverified;
and each row names a spec of its own recipe's module, the one the mutation check runs for that recipe.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.mutants import spec_module
from tfguide.catalogue import load, tomllib

ROOT = Path(__file__).resolve().parent.parent
AUDIT_PATH = ROOT / "suite" / "guide_api_audit.toml"

REQUIRED = {"name", "section", "recipe", "where", "kind", "specs", "forms"}
OPTIONAL = {"reason", "note"}
FORM_REQUIRED = {"form"}
FORM_OPTIONAL = {"specs", "reason", "note"}
WHERE = {"code", "text", "code and text"}
KINDS = {"loss", "metric", "optimizer", "optimizer argument", "callback", "callback argument", "layer",
         "layer argument", "model method", "method argument", "dataset", "transformation",
         "transformation argument", "reader", "reader option", "iterator", "estimator", "estimator argument",
         "estimator method", "feature column", "distribution", "function"}


def load_audit(path: Path = AUDIT_PATH) -> list[dict]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)["api"]


def names_a_collected_spec(spec: str, node_ids: set[str]) -> bool:
    """A spec is a node id, or a parametrized spec's id without its brackets (then every parametrization)."""
    return spec in node_ids or any(node.startswith(spec + "[") for node in node_ids)


def audit_problems(rows: list[dict], node_ids: set[str], recipe_ids: set[str]) -> list[str]:
    """Everything wrong with the audit rows, one line each; empty when every row is sound."""
    problems = []
    duplicates = {name for name, count in Counter(row.get("name") for row in rows).items() if count > 1}
    for index, row in enumerate(rows):
        label = f"row {index + 1} ({row.get('name', '?')!r})"
        if missing := REQUIRED - set(row):
            problems.append(f"{label}: lacks {', '.join(sorted(missing))}")
        if unknown := set(row) - REQUIRED - OPTIONAL:
            problems.append(f"{label}: unknown keys {', '.join(sorted(unknown))}")
        if row.get("name") in duplicates:
            problems.append(f"{label}: the name appears in more than one row")
        if row.get("recipe") not in recipe_ids:
            problems.append(f"{label}: recipe {row.get('recipe')!r} is not in tfguide/catalogue.toml")
        if row.get("where") not in WHERE:
            problems.append(f"{label}: where {row.get('where')!r} is none of {sorted(WHERE)}")
        if row.get("kind") not in KINDS:
            problems.append(f"{label}: kind {row.get('kind')!r} is none of {sorted(KINDS)}")
        specs, reason = row.get("specs") or [], str(row.get("reason") or "").strip()
        if not specs and not reason:
            problems.append(f"{label}: names no spec and gives no reason")
        if specs and reason:
            problems.append(f"{label}: gives a reason although it names specs (a reason is for rows no spec can cover)")
        for spec in specs:
            if not names_a_collected_spec(spec, node_ids):
                problems.append(f"{label}: names the spec {spec}, which `pytest suite` does not collect")
        # The mutation check runs a recipe's own spec module only: a name with specs elsewhere alone would
        # let every mutant of its recipe that breaks it survive.
        own_module = spec_module(str(row.get("recipe"))) + "::"
        if specs and not any(spec.startswith(own_module) for spec in specs):
            problems.append(f"{label}: names no spec of its recipe's module {own_module[:-2]}")
        problems += form_problems(label, row.get("forms"), node_ids)
    return problems


def form_problems(label: str, forms, node_ids: set[str]) -> list[str]:
    """Everything wrong with a row's forms: each form is asserted by specs the suite collects, or says why
    none is needed, exactly one of the two."""
    if forms is None:
        return []  # reported as a missing key
    if not isinstance(forms, list) or not forms:
        return [f"{label}: lists no form (the guide's own form at least)"]
    problems = []
    names = Counter(form.get("form") for form in forms if isinstance(form, dict))
    for index, form in enumerate(forms):
        if not isinstance(form, dict):
            problems.append(f"{label}, form {index + 1}: is not a table")
            continue
        where = f"{label}, form {index + 1} ({form.get('form', '?')!r})"
        if missing := FORM_REQUIRED - set(form):
            problems.append(f"{where}: lacks {', '.join(sorted(missing))}")
        if unknown := set(form) - FORM_REQUIRED - FORM_OPTIONAL:
            problems.append(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if names[form.get("form")] > 1:
            problems.append(f"{where}: the form appears more than once in the row")
        specs, reason = form.get("specs") or [], str(form.get("reason") or "").strip()
        if not specs and not reason:
            problems.append(f"{where}: names no spec and gives no reason")
        if specs and reason:
            problems.append(f"{where}: gives a reason although it names specs")
        for spec in specs:
            if not names_a_collected_spec(spec, node_ids):
                problems.append(f"{where}: names the spec {spec}, which `pytest suite` does not collect")
    return problems


def forms_table(rows: list[dict]) -> list[tuple[str, str, int, int, int]]:
    """Per name: (recipe, name, forms, forms with specs, forms with a reason)."""
    table = []
    for row in rows:
        forms = row.get("forms") or []
        table.append((row["recipe"], row["name"], len(forms), sum(1 for f in forms if f.get("specs")),
                      sum(1 for f in forms if not f.get("specs") and f.get("reason"))))
    return table


@pytest.fixture(scope="module")
def suite_node_ids(tmp_path_factory) -> set[str]:
    """The node ids of every spec `pytest suite` collects here (parametrized ones with their brackets)."""
    report_dir = tmp_path_factory.mktemp("collect-reports")
    proc = subprocess.run([sys.executable, "-m", "pytest", "suite", "--collect-only", "-q", "-p", "no:xdist",
                           "--report-dir", str(report_dir)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    node_ids = {line.strip() for line in proc.stdout.splitlines() if line.startswith("suite/") and "::" in line}
    assert len(node_ids) > 100, proc.stdout[-3000:]
    return node_ids


def test_every_name_of_the_audit_has_specs_the_suite_collects_or_a_reason(suite_node_ids):
    rows = load_audit()
    assert audit_problems(rows, suite_node_ids, set(load())) == []


def test_forms_table_counts_each_names_forms_with_specs_and_with_reasons():
    rows = [row(), row(name="Dataset.batch", forms=[form(), form(form="drop_remainder=True"),
                                                    form(form="a list", specs=[], reason="why not")])]
    assert forms_table(rows) == [("data.batch", "Dataset.zip", 1, 1, 0), ("data.batch", "Dataset.batch", 3, 2, 1)]


def test_every_recipe_of_the_catalogue_owns_names_in_the_audit():
    owned = {row["recipe"] for row in load_audit()}
    assert sorted(set(load()) - owned) == []


# --- the checker itself, on rows made up here -------------------------------------------------------------

NODES = {"suite/test_data_batch.py::test_zip_stops_at_the_shortest_input",
         "suite/test_data_batch.py::test_last_batch_holds_count_mod_n_elements[10-4]",
         "suite/test_estimator_dnn_classifier.py::TestDNNClassifier::test_train_runs_exactly_the_requested_steps"}
RECIPES = {"data.batch", "estimator.dnn_classifier"}


def form(**overrides) -> dict:
    return {"form": "a tuple of datasets", "specs": ["suite/test_data_batch.py::test_zip_stops_at_the_shortest_input"],
            **overrides}


def row(**overrides) -> dict:
    base = {"name": "Dataset.zip", "section": "2.3", "recipe": "data.batch", "where": "code",
            "kind": "transformation", "specs": ["suite/test_data_batch.py::test_zip_stops_at_the_shortest_input"],
            "forms": [form()]}
    return {**base, **overrides}


@pytest.mark.parametrize("recipe, spec", [
    ("data.batch", "suite/test_data_batch.py::test_zip_stops_at_the_shortest_input"),
    ("data.batch", "suite/test_data_batch.py::test_last_batch_holds_count_mod_n_elements"),  # every parametrization
    ("data.batch", "suite/test_data_batch.py::test_last_batch_holds_count_mod_n_elements[10-4]"),  # one of them
    ("estimator.dnn_classifier",
     "suite/test_estimator_dnn_classifier.py::TestDNNClassifier::test_train_runs_exactly_the_requested_steps"),
])
def test_a_row_naming_collected_specs_is_sound(recipe, spec):
    assert audit_problems([row(recipe=recipe, specs=[spec], forms=[form(specs=[spec])])], NODES, RECIPES) == []


def test_a_row_with_a_reason_and_no_spec_is_sound():
    assert audit_problems([row(specs=[], reason="needs more than 2 GB of memory",
                               forms=[form(specs=[], reason="needs more than 2 GB of memory")])], NODES, RECIPES) == []


def test_forms_with_specs_of_any_module_or_a_reason_are_sound():
    forms = [form(), form(form="datasets as separate arguments",
                          specs=["suite/test_data_batch.py::test_last_batch_holds_count_mod_n_elements"]),
             form(form="a list of datasets", specs=[], reason="a list is refused the same way in every version"),
             form(form="other module", note="the spec lives elsewhere",
                  specs=["suite/test_estimator_dnn_classifier.py::TestDNNClassifier::"
                         "test_train_runs_exactly_the_requested_steps"])]
    assert audit_problems([row(forms=forms)], NODES, RECIPES) == []


@pytest.mark.parametrize("bad, problem", [
    (row(specs=[]), "names no spec and gives no reason"),
    (row(specs=[], reason="  "), "names no spec and gives no reason"),
    (row(specs=["suite/test_data_batch.py::test_zip_stops_at_the_longest_input"]),
     "names the spec suite/test_data_batch.py::test_zip_stops_at_the_longest_input, which `pytest suite` does not collect"),
    # A prefix of a spec's name is not that spec.
    (row(specs=["suite/test_data_batch.py::test_zip"]), "which `pytest suite` does not collect"),
    (row(specs=["suite/test_estimator_dnn_classifier.py::test_train_runs_exactly_the_requested_steps"]),
     "which `pytest suite` does not collect"),
    (row(reason="covered elsewhere"), "gives a reason although it names specs"),
    (row(recipe="estimator.dnn_classifier"), "names no spec of its recipe's module suite/test_estimator_dnn_classifier.py"),
    (row(recipe="data.shuffle"), "recipe 'data.shuffle' is not in tfguide/catalogue.toml"),
    (row(kind="magic"), "kind 'magic' is none of"),
    (row(where="docs"), "where 'docs' is none of"),
    ({k: v for k, v in row().items() if k != "specs"}, "lacks specs"),
    (row(spec=["a typo of specs"]), "unknown keys spec"),
    ({k: v for k, v in row().items() if k != "forms"}, "lacks forms"),
    (row(forms=[]), "lists no form"),
    (row(forms=[form(specs=[])]), "form 1 ('a tuple of datasets'): names no spec and gives no reason"),
    (row(forms=[form(specs=[], reason=" ")]), "names no spec and gives no reason"),
    (row(forms=[form(reason="covered")]), "form 1 ('a tuple of datasets'): gives a reason although it names specs"),
    (row(forms=[form(specs=["suite/test_data_batch.py::test_zip"])]),
     "form 1 ('a tuple of datasets'): names the spec suite/test_data_batch.py::test_zip, which `pytest suite` does "
     "not collect"),
    (row(forms=[form(), form()]), "the form appears more than once in the row"),
    (row(forms=[{"specs": ["suite/test_data_batch.py::test_zip_stops_at_the_shortest_input"]}]), "lacks form"),
    (row(forms=[form(spec=["typo"])]), "unknown keys spec"),
])
def test_the_checker_names_each_unsound_row(bad, problem):
    problems = audit_problems([bad], NODES, RECIPES)
    assert len(problems) >= 1 and any(problem in p for p in problems), problems
    assert all(p.startswith("row 1 ('Dataset.zip')") for p in problems), problems


def test_the_checker_refuses_a_name_listed_twice():
    problems = audit_problems([row(), row(section="3.1")], NODES, RECIPES)
    assert [p for p in problems if "more than one row" in p] == [
        "row 1 ('Dataset.zip'): the name appears in more than one row",
        "row 2 ('Dataset.zip'): the name appears in more than one row"]


def main() -> None:
    """Print the forms table (Markdown): per name of the audit, its forms, how many have specs, how many a reason."""
    table = forms_table(load_audit())
    print("| recipe | name | forms | with spec | with reason |")
    print("|---|---|---|---|---|")
    for recipe, name, forms, with_spec, with_reason in table:
        print(f"| {recipe} | {name.replace('|', '/')} | {forms} | {with_spec} | {with_reason} |")
    print(f"| **total** | {len(table)} names | {sum(t[2] for t in table)} | {sum(t[3] for t in table)} | "
          f"{sum(t[4] for t in table)} |")


if __name__ == "__main__":
    main()
