"""App profiles: one module per application behind nginx, each exposing ``PROFILE``.

``profiles()`` lists them (module order, by file name); ``by_name`` finds one by
its name or an alias, as ``# nglint: app=NAME`` writes it.  What a profile holds
is documented in ``nglint.apps.profile``; how profiles are applied to a tree, in
``nglint.apps.view``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from nglint.apps.profile import Profile

__all__ = ["Profile", "by_name", "profiles"]

_NOT_PROFILES = frozenset({"profile", "report", "view"})


@lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    """Every profile shipped in this package."""
    found: list[Profile] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name in _NOT_PROFILES or module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        profile = getattr(loaded, "PROFILE", None)
        if isinstance(profile, Profile):
            found.append(profile)
    return tuple(found)


def by_name(name: str) -> Profile | None:
    """The profile called ``name`` (or with that alias), case-insensitively."""
    wanted = name.lower()
    return next((p for p in profiles() if wanted in p.names()), None)
