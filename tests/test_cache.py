"""The result cache: a warm re-run answers the same, and any change invalidates it."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from nglint import cache
from nglint.cli import main
from tests.helpers import FIXTURES, write

SEED = (FIXTURES / "examples" / "jupyter-seed.conf").read_text()


def _check(*args: str):
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    return result.exit_code, json.loads(result.output)


def _entries() -> list[str]:
    folder = cache.directory()
    return sorted(os.listdir(folder)) if os.path.exists(folder) else []


def test_warm_run_answers_the_same_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    cold = _check(str(tmp_path / "tree"))
    assert len(_entries()) == 1
    # prove the second answer comes from the cache: break parsing, answer unchanged
    monkeypatch.setattr("nglint.load.parse_file", lambda source: 1 / 0)
    assert _check(str(tmp_path / "tree")) == cold


def _invalidated_by(tmp_path, monkeypatch, change) -> bool:
    """Whether, after ``change``, the second run parses again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tree = tmp_path / "tree"
    write(tree, SEED.replace("events {}", "events {}\ninclude extra.conf;"))
    write(tree, "", "extra.conf")
    _check(str(tree))
    change(tree)
    calls = []
    import nglint.load

    original = nglint.load.parse_file
    monkeypatch.setattr("nglint.load.parse_file",
                        lambda source: calls.append(source.path) or original(source))
    _check(str(tree))
    return bool(calls)  # the run parsed again instead of answering from the cache


def test_a_changed_file_invalidates(tmp_path, monkeypatch):
    assert _invalidated_by(tmp_path, monkeypatch, lambda tree: write(
        tree, "# changed\n", "extra.conf"))


def test_a_new_file_in_the_tree_invalidates(tmp_path, monkeypatch):
    assert _invalidated_by(tmp_path, monkeypatch, lambda tree: write(
        tree, "server { listen 81; }\n", "conf.d/new.conf"))


def test_a_missing_include_that_appears_invalidates(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tree = tmp_path / "tree"
    write(tree, SEED.replace("events {}", "events {}\ninclude /" + str(tmp_path).strip("/")
                             + "/outside/late.conf;"))
    _, first = _check(str(tree))
    assert "NG002" in {f["code"] for f in first["findings"]}
    write(tmp_path / "outside", "", "late.conf")
    _, second = _check(str(tree))
    # what is left is the note that the include leaves the linted tree (info)
    assert not [f for f in second["findings"] if f["code"] == "NG002"
                and f["severity"] != "info"]


def test_configuration_and_version_are_part_of_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    _, everything = _check(str(tmp_path / "tree"))
    _, selected = _check("--select", "NG101", str(tmp_path / "tree"))
    assert {f["code"] for f in selected["findings"]} == {"NG101"} != \
        {f["code"] for f in everything["findings"]}
    key = cache.key([str(tmp_path)], ["settings"])
    monkeypatch.setattr(cache, "__version__", "9.9.9")
    assert cache.key([str(tmp_path)], ["settings"]) != key


def test_no_cache_bypasses(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    _check("--no-cache", str(tmp_path / "tree"))
    assert _entries() == []


def test_unchanged_tree_is_not_parsed_again(tmp_path, monkeypatch):
    assert not _invalidated_by(tmp_path, monkeypatch, lambda tree: None)


def test_a_change_to_nglint_itself_is_part_of_the_key(tmp_path, monkeypatch):
    """A rule edited without a new version number (an editable install) must not be
    answered by results cached before the edit."""
    key = cache.key([str(tmp_path)], ["settings"])
    assert cache.key([str(tmp_path)], ["settings"]) == key  # the control: stable
    from nglint.rules import websocket_http_version

    rule = websocket_http_version.__file__
    stat = os.stat(rule)
    try:
        os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert cache.key([str(tmp_path)], ["settings"]) != key
    finally:
        os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns))
