"""No reference cycle per file or per server: the command line runs with the cyclic
collector off (``gc.disable`` in ``nglint.cli``: a large tree's collections took a
tenth of a run), so every cycle a run builds stays allocated to its end.  Measured by
counting what ``gc.collect`` finds unreachable after a check of trees of two sizes:
a cycle per file or per server shows as a difference that grows with the tree.

Seen before: the app view's recursive closures (a function and its cell per server,
3 MB on 2,000 servers) and crossplane's parser, a recursive closure holding the payload
(8 MB on 2,000 files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.generate import generate, generate_flat

# a fresh process a count: a run's structures that an earlier run in the same process
# left to a module-level memo would be freed, and counted, in the next one (a memo that
# keeps a tree reachable would hide its cycles: the trees are unlinked before counting)
_COUNT = """
import gc, os, sys
gc.disable()
from nglint.cli import main
out = sys.stdout
sys.stdout = open(os.devnull, "w")
try:
    main(["check", "--no-cache", "-q", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    pass
# the trees' nodes: a node and its parent are a cycle by design, unlinked as
# Tree.release unlinks them where a run needs them freed (--fix rounds); whatever else
# is cyclic counts
from nglint.tree import Node
for node in [found for found in gc.get_objects() if type(found) is Node]:
    node.parent = node.children = node._by_name = None
out.write(str(gc.collect()))
"""


def _unreachable_after_check(tree: Path, *options: str) -> int:
    done = subprocess.run([sys.executable, "-c", _COUNT, *options, str(tree)],
                          capture_output=True, text=True, timeout=300, cwd=tree.parent)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.mark.parametrize(("build", "options"), [
    (generate_flat, ()),  # a file a server: per-file cycles
    (generate, ()),  # 50 servers a file: per-server cycles
    (generate, ("--diff",)),  # the --fix rounds
], ids=["flat", "servers", "diff"])
def test_no_cycle_grows_with_the_tree(tmp_path: Path, build, options) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    build(small, 40)
    build(large, 200)
    few = _unreachable_after_check(small, *options)
    many = _unreachable_after_check(large, *options)
    # 160 more servers (and files): a cycle of even 2 objects each would add 320
    assert many - few < 100, (few, many)


@pytest.mark.parametrize(("lines", "young"), [(1, 0), (1000, 0), (1, 5000)])
def test_crossplane_parser_cycle_is_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           lines: int, young: int) -> None:
    """A large file's parse is freed by emptying crossplane's ``_parse`` cell
    (``load._note_parser`` finds the function with the crossplane installed; were it
    not found, each file would fall back to a collection: 0.9 s more on 1,000,000
    directives), a small one's by collecting the young generation, unless that holds
    much else (``young`` objects made since the last collection)."""
    import gc
    from types import FunctionType, SimpleNamespace

    from nglint import load
    from nglint.source import SourceFile

    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { server { location / {\n"
                    + "allow 10.0.0.1;\n" * lines + "} } }\n")
    collections: list[int] = []
    monkeypatch.setattr(load, "gc", SimpleNamespace(
        collect=lambda *args: collections.append(1) or 0, get_count=gc.get_count))
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()  # what is already garbage is not counted below
        made = [[] for _ in range(young)]  # noqa: F841 - young objects, alive
        parsed = load.parse_file(SourceFile.read(str(conf)))
        assert parsed.error is None and parsed.ast
        noted = len(parsed.source.tokens.values) >= load._NOTE_PARSER_FROM or young > 0
        assert noted == (lines > 1 or young > 0)
        assert collections == ([] if noted else [1])
        if noted:
            # nothing of crossplane's parser left to the cyclic collector (what else it
            # finds is earlier tests' trees, let go of by a memo during the parse)
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            left = [found for found in gc.garbage if isinstance(found, FunctionType)
                    and found.__module__ == "crossplane.parser"]
            assert left == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
