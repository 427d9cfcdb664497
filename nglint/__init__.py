"""nglint: lint, validate and fix nginx configurations (Jupyter websockets first)."""

from __future__ import annotations

__version__ = "0.1.0"

# crossplane's parser internals are used with exact spans (nglint.source); they
# are only right for the version this release was tested with.
CROSSPLANE_VERSION = "0.5.16"


def repair_command() -> str:
    """The commands that give this interpreter ngxparse's crossplane module back.

    PyPI's ``crossplane`` and ``ngxparse`` install the same files (module
    ``crossplane``): uninstalling the one deletes the other's files too, so ngxparse
    is reinstalled over whatever is left."""
    import shlex
    import sys

    python = shlex.quote(sys.executable)
    return (f"{python} -m pip uninstall -y crossplane && "
            f"{python} -m pip install --force-reinstall --no-deps 'ngxparse=={CROSSPLANE_VERSION}'")


def _clashing_crossplane() -> str | None:
    """The version of PyPI's ``crossplane`` distribution when it is installed."""
    from importlib import metadata

    try:
        return metadata.version("crossplane")
    except metadata.PackageNotFoundError:
        return None


def check_crossplane() -> None:
    from nglint.errors import NglintError

    try:
        import crossplane
    except ImportError:
        crossplane = None
    found = getattr(crossplane, "__version__", None)
    if found == CROSSPLANE_VERSION:
        return
    clash = _clashing_crossplane()
    if clash is not None:
        raise NglintError(
            f"the crossplane module is PyPI's crossplane {clash}, installed over ngxparse "
            f"(both provide module crossplane; nglint needs ngxparse=={CROSSPLANE_VERSION}): "
            f"repair with: {repair_command()}")
    raise NglintError(
        f"nglint needs the crossplane module from ngxparse=={CROSSPLANE_VERSION}, "
        f"found {'crossplane ' + found if found else 'none'} "
        f"(pip install 'ngxparse=={CROSSPLANE_VERSION}')")
