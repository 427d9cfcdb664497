"""What a check builds at start-up (issue 19: a 20-line file end to end).

A frozen dataclass compiles six generated functions when its module is imported
(``__init__``, ``__repr__``, ``__eq__``, ``__setattr__``, ``__delattr__``,
``__hash__``): about half a millisecond each class on this machine, 11 ms for the
20 immutable records a check imported.  Those are ``typing.NamedTuple`` classes now,
built without generated source.  These tests keep it so: a frozen dataclass that a
check imports must be one of the few that need what a tuple cannot give.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AFTER_A_CHECK = """\
import contextlib, dataclasses, io, json, sys
from nglint.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["check", "--no-cache", *sys.argv[1:]], standalone_mode=False)
    except SystemExit:
        pass
built = sorted({f"{cls.__module__}.{cls.__qualname__}": cls.__dataclass_params__.frozen
                for name, module in list(sys.modules.items()) if name.startswith("nglint")
                for cls in vars(module).values()
                if isinstance(cls, type) and dataclasses.is_dataclass(cls)
                and cls.__module__ == name}.items())
sys.stderr.write("\\n" + json.dumps({"modules": sorted(sys.modules), "dataclasses": built}))
"""


def _after_a_check(*arguments: str) -> dict:
    """What a check of ``arguments`` left loaded: ``modules`` (names) and ``dataclasses``
    ([qualified name, frozen] of each in nglint's modules)."""
    done = subprocess.run([sys.executable, "-c", AFTER_A_CHECK, *arguments],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stderr.rsplit("\n", 1)[-1])  # type: ignore[no-any-return]


# the README's example and the reference configuration: Jupyter behind nginx, broken
# and fixed (findings, fixes, the app view, the request model)
EXAMPLES = Path(__file__).parent.parent / "fixtures" / "examples"
CONFS = [str(EXAMPLES / "jupyter-seed.conf"), str(EXAMPLES / "jupyter-reference.conf")]

# frozen dataclasses a check may build, each with what a NamedTuple would not give
NEEDS_A_DATACLASS = {
    # fields left out of equality and order (compare=False): where a later round inserts
    "nglint.edits.Edit",
    # a range is no tuple of versions: ``version in range`` and isinstance(x, tuple)
    # tell a version from a range (nglint.versions, nglint.engine.Options)
    "nglint.versions.VersionRange",
    # a per-instance cached_property (its compiled regex): a tuple has no __dict__
    "nglint.apps.profile.Sign",
    # mutable defaults (option_kinds: a dict per rule) built by a default factory
    "nglint.registry.Rule",
}


def _frozen_built(*options: str) -> tuple[list[str], list[str]]:
    seen = _after_a_check(*options, *CONFS)["dataclasses"]
    return [name for name, frozen in seen if frozen], [name for name, _ in seen]


@pytest.mark.parametrize("options", [[], ["--format", "json"], ["--diff"]])
def test_a_check_builds_no_other_frozen_dataclass(options):
    frozen, every = _frozen_built(*options)
    assert "nglint.findings.Finding" in every  # the control: the listing sees a check
    assert set(frozen) <= NEEDS_A_DATACLASS, sorted(set(frozen) - NEEDS_A_DATACLASS)


def test_the_records_that_were_frozen_dataclasses_are_immutable_tuples():
    """What ``frozen=True`` gave them, a NamedTuple gives: no attribute can be set,
    equal fields are equal records, and equal records hash alike."""
    from nglint.findings import Related
    from nglint.semantics.request import Request
    from nglint.semantics.servers import Listen

    listen = Listen("*", 80, False)
    assert listen == Listen("*", 80, False) and hash(listen) == hash(Listen("*", 80, False))
    with pytest.raises(AttributeError):
        listen.port = 81  # type: ignore[misc]
    related = Related("a.conf", 1, 1, "set here")
    assert related.role == "provenance" and related._replace(line=2).line == 2
    assert Request().uri == "/" and Request(uri="/x").uri == "/x"


def _imported(*paths: str) -> set[str]:
    return set(_after_a_check(*paths)["modules"])


def test_the_dump_reader_is_imported_for_a_dump_only():
    """``nglint.dump`` (an ``nginx -T`` dump's reader) is no part of a plain check."""
    assert "nglint.dump" not in _imported(*CONFS)
    assert "nglint.dump" in _imported(str(EXAMPLES / "nginx-T.txt"))  # the control
