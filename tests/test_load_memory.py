"""What a loaded tree keeps, counted in objects (peak memory, issue 19): statements as
columns, one list per distinct argument list, and no file's payload alive after its
expansion."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from nglint.load import Loader, ParsedFile
from nglint.source import Statement
from nglint.tree import Node, Tree

SITE = ("server {{\n    listen 80;\n    server_name s{0}.example.com;\n"
        "    location / {{ deny all; include snippets/proxy.conf; }}\n}}\n")


def _tree(tmp_path: Path, files: int = 3) -> Path:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "proxy.conf").write_text(
        "proxy_set_header Host # the client's\n    $host;\nproxy_http_version 1.1;\n")
    for index in range(files):
        (tmp_path / "conf.d" / f"s{index}.conf").write_text(SITE.format(index))
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp {\n    include conf.d/*.conf;\n}\n")
    return main


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for found in gc.get_objects() if type(found) is kind)


def test_statements_are_columns(tmp_path: Path) -> None:
    before = _live(Statement)
    tree = Loader(str(tmp_path)).load(str(_tree(tmp_path)))
    assert _live(Statement) == before  # none kept: built on demand from ``Spans``
    server = tree.servers[0]
    statement = server.statement
    assert statement is not None and statement.directive.value == "server"
    assert statement.close is not None and statement.close.value == "}"
    header = next(n for n in tree.nodes if n.directive == "proxy_set_header")
    assert [t.value for t in header.statement.args] == ["Host", "$host"]  # type: ignore
    assert header.statement.skip  # type: ignore[union-attr]  # the comment between


def test_equal_args_share_one_exact_list(tmp_path: Path) -> None:
    tree = Loader(str(tmp_path)).load(str(_tree(tmp_path)))
    denies = [n for n in tree.nodes if n.directive == "deny"]
    assert len(denies) == 3 and all(n.args is denies[0].args for n in denies)
    assert denies[0].args == ["all"]
    names = [n.args for n in tree.nodes if n.directive == "server_name"]
    assert len({id(args) for args in names}) == 3  # distinct lists stay distinct
    # the snippet included three times: its nodes are equal at every site
    hosts = [n for n in tree.nodes if n.directive == "proxy_set_header"]
    assert len(hosts) == 3 and len({id(n.args) for n in hosts}) == 1
    assert len({n.statement for n in hosts}) == 1
    assert tree.sites(hosts[0]) == hosts


def test_lines_and_statement_indexes_are_shared_ints(tmp_path: Path) -> None:
    """A node's line and statement index are one int object per value across files
    (read from machine-integer columns, an object per node was 2 MB of 46,000 nodes);
    a file with more statements than lines has an index for each."""
    (tmp_path / "conf.d").mkdir()
    wide = "server { " + " ".join(f"set $v{n} {n};" for n in range(400)) + " }\n"
    for name in ("a", "b"):
        (tmp_path / "conf.d" / f"{name}.conf").write_text("\n" * 300 + wide)
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp {\n    include conf.d/*.conf;\n}\n")
    tree = Loader(str(tmp_path)).load(str(main))
    first, second = ([n for n in tree.nodes if n.path and n.path.endswith(name)]
                     for name in ("a.conf", "b.conf"))
    assert len(first) == len(second) == 401
    assert [n.line for n in first] == [301] * 401
    assert [n.span for n in first] == list(range(401))
    for one, other in zip(first, second, strict=True):
        assert one.line is other.line and one.span is other.span
        assert one.statement is not None and one.statement.directive.line == one.line


def test_shared_ints_are_only_the_values_nodes_take(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """200,000 blank lines before two statements: two lines and two indexes are kept,
    not an int per line (a table sized by the highest line held 16,000,000 ints for a
    16 MiB file of newlines), and nothing is kept once the load ends."""
    conf = tmp_path / "nginx.conf"
    conf.write_text("\n" * 200_000 + "events {}\nhttp {}\n")
    sizes: list[int] = []
    release = Loader._release

    def counted(self: Loader) -> None:
        sizes.append(len(self._ints))
        release(self)
        sizes.append(len(self._ints))

    monkeypatch.setattr(Loader, "_release", counted)
    tree = Loader(str(tmp_path)).load(str(conf))
    assert [n.line for n in tree.nodes if n.source is not None] == [200_001, 200_002]
    assert sizes == [4, 0]


def test_payload_freed_after_expansion(tmp_path: Path) -> None:
    main = _tree(tmp_path)
    loader = Loader(str(tmp_path))
    alive: list[int] = []  # payload statements alive when each site file is expanded
    expand = loader._expand

    def counting(tree: Tree, file: ParsedFile, parent: Node, via: Node | None,
                 chain: list[str]) -> None:
        if "conf.d" in file.source.path:
            alive.append(sum(len(p.ast) for p in loader.cache.values()
                             if "conf.d" in p.source.path))
        expand(tree, file, parent, via, chain)

    loader._expand = counting  # type: ignore[method-assign]
    tree = loader.load(str(main))
    # each site file's payload is freed once expanded: one alive at a time
    assert alive == [1, 1, 1]
    assert len([n for n in tree.nodes if n.directive == "proxy_http_version"]) == 3


def test_expansion_stops_at_the_directive_budget(tmp_path: Path, monkeypatch) -> None:
    """A tree that expands past ``MAX_NODES`` directives (includes multiplying a file)
    is cut there, with one problem saying so, wherever the budget runs out (in a file,
    or between an include's files)."""
    from nglint import load

    main = _tree(tmp_path, files=6)  # 7 nodes a site with the snippet, 13 in nginx.conf
    full = len(Loader(str(tmp_path)).load(str(main)).nodes)
    for budget in (5, 20, 21, 22, full - 1):
        monkeypatch.setattr(load, "MAX_NODES", budget)
        tree = Loader(str(tmp_path)).load(str(main))
        stopped = [p for p in tree.problems if "analysis stopped" in p.message]
        assert len(stopped) == 1, (budget, tree.problems)
        assert f"more than {budget} directives" in stopped[0].message
        assert len(tree.nodes) <= budget + 1, budget  # the root block is not counted
    monkeypatch.setattr(load, "MAX_NODES", 2 * full)  # include targets count too
    tree = Loader(str(tmp_path)).load(str(main))
    assert not [p for p in tree.problems if "analysis stopped" in p.message]
