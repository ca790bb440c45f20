"""Mutants: each breaks ONE documented behaviour of the installed TensorFlow / Keras, in-process.

The conformance suite is judged by running it against TensorFlow builds with deliberately broken
behaviour. These mutants simulate such builds by monkeypatching the installed TensorFlow/Keras before
the specs run (tests/mutant_plugin.py applies the one named by $TFGUIDE_MUTANT), and
tests/run_mutants.py checks that every mutant makes its recipe's specs fail ("killed").

Each mutant names the recipe id whose specs must catch it and the spec modules to run. The patches
target the main version (TF 2.21 + Keras 3); on another flavour a mutant whose patch point does not
exist raises NotApplicable instead of silently doing nothing. Those that patch public TensorFlow/Keras API
or the optimizer/trainer methods that Keras 2, tf_keras and Keras 3 share apply to every Keras flavour.

One module per recipe id, named after it (keras.fit: tests/mutants/keras_fit.py), holds that recipe's
mutants, those of the forms the guide's text allows beside the form its code runs (suite/guide_api_audit.toml,
[[api.forms]]) and those that disarm the recipe's advisory fixes (suite/test_keras_advisories*.py); importing
this package imports every module here whose name does not start with `_`, and each registers its mutants into
CATALOGUE (tests/test_mutants.py checks every recipe has one and every module's mutants name its recipe).
`_core` is the Mutant type and the registry, `_helpers` the patches several recipes share. A new recipe's
mutants are one new module; nothing else is edited.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.mutants._core import CATALOGUE, ENV_VAR, Mutant, NotApplicable, apply, mutant, spec_module

__all__ = ["CATALOGUE", "ENV_VAR", "Mutant", "NotApplicable", "apply", "mutant", "spec_module", "RECIPE_MODULES"]

RECIPE_MODULES = tuple(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
for _name in RECIPE_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
