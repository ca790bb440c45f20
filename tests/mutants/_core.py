"""The mutation check's core: the Mutant type, the CATALOGUE every recipe module registers into (`@mutant`),
ENV_VAR, `apply`, and the helpers that reach the installed TensorFlow / Keras (`_tf`, `_keras`, `_keras3_src`,
`_wrap`). Nothing here patches anything; tests/mutants/__init__.py says what a mutant is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

ENV_VAR = "TFGUIDE_MUTANT"


class NotApplicable(RuntimeError):
    """The mutant's patch point does not exist in this TensorFlow/Keras."""


@dataclass(frozen=True)
class Mutant:
    name: str
    recipe: str
    modules: tuple[str, ...]
    breaks: str                      # the documented behaviour it breaks, in words
    apply: Callable[[], None]
    subprocess: bool = False         # must also be applied in the specs' child processes


CATALOGUE: dict[str, Mutant] = {}


def spec_module(recipe: str) -> str:
    """The spec module of a recipe id (docs/adding-a-recipe.md): keras.fit -> suite/test_keras_fit.py."""
    return f"suite/test_{recipe.replace('.', '_')}.py"


def mutant(recipe: str, breaks: str, *, subprocess: bool = False, module: str | None = None):
    """Register a mutant of `recipe`'s specs; `module` when they live elsewhere than the recipe's own spec
    module (the advisory specs of keras.save_model: suite/test_keras_advisories.py)."""
    def register(fn):
        CATALOGUE[fn.__name__] = Mutant(fn.__name__, recipe, (module or spec_module(recipe),), breaks, fn,
                                        subprocess)
        return fn
    return register


def _tf():
    import tensorflow as tf
    return tf


def _keras():
    return _tf().keras


def _wrap(owner, attr: str, make: Callable, static: bool = False) -> None:
    """Replace owner.attr by make(original); keep it a staticmethod where it was one."""
    if not hasattr(owner, attr):
        raise NotApplicable(f"{owner!r} has no attribute {attr!r}")
    original = getattr(owner, attr)
    replacement = functools.wraps(original)(make(original))
    setattr(owner, attr, staticmethod(replacement) if static else replacement)


def _keras3_src():
    try:
        import keras.src as src  # noqa: F401
    except ImportError as exc:
        raise NotApplicable("needs Keras 3 internals") from exc
    import keras
    if int(keras.__version__.split(".")[0]) < 3:  # keras 2.13-2.15 have a keras.src package too
        raise NotApplicable(f"needs Keras 3 internals; keras {keras.__version__} here")
    if _keras() is not keras and not getattr(_keras(), "__name__", "").startswith("keras"):
        raise NotApplicable("tf.keras is not Keras 3 here")
    return src


_APPLIED: set[str] = set()


def apply(name: str) -> Mutant:
    """Apply the named mutant to this process (once, however often it is asked)."""
    try:
        chosen = CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown mutant {name!r}; known: {', '.join(sorted(CATALOGUE))}") from None
    if name not in _APPLIED:
        chosen.apply()
        _APPLIED.add(name)
    return chosen
