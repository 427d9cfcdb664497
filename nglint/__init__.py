"""nglint: lint, validate and fix nginx configurations (Jupyter websockets first)."""

from __future__ import annotations

__version__ = "0.1.0"

# crossplane's parser internals are used with exact spans (nglint.source); they
# are only right for the version this release was tested with.
CROSSPLANE_VERSION = "0.5.16"


def check_crossplane() -> None:
    import crossplane

    from nglint.errors import NglintError

    if getattr(crossplane, "__version__", None) != CROSSPLANE_VERSION:
        raise NglintError(
            f"nglint needs the crossplane module from ngxparse=={CROSSPLANE_VERSION}, "
            f"found crossplane {getattr(crossplane, '__version__', 'unknown')} "
            f"(pip install 'ngxparse=={CROSSPLANE_VERSION}')"
        )
