"""``nglint.paths.realpath`` answers as ``os.path.realpath`` does, though it resolves
a file whose name is not a symbolic link through its folder's real path (one ``lstat``
a file instead of one a component)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nglint import paths


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.conf").write_text("")
    os.symlink(tmp_path / "a", tmp_path / "la")  # a folder link, absolute
    os.symlink("b", tmp_path / "a" / "lb")  # a folder link, relative
    os.symlink("f.conf", tmp_path / "a" / "b" / "lf.conf")  # a file link
    os.symlink("../b/f.conf", tmp_path / "a" / "b" / "up.conf")
    os.symlink("nowhere", tmp_path / "a" / "dangling")
    os.symlink("loop2", tmp_path / "a" / "loop1")
    os.symlink("loop1", tmp_path / "a" / "loop2")
    return tmp_path


def _candidates(root: Path) -> list[str]:
    bases = [str(root), f"{root}/la", f"{root}/a/lb", f"{root}/a/./b", f"{root}/a//b",
             f"{root}/a/b/..", f"{root}/la/../a", "a/b", "la", "./a/lb", "."]
    names = ["f.conf", "lf.conf", "up.conf", "missing.conf", "", ".", "..", "b", "lb",
             "dangling", "loop1", "b/f.conf", "f.conf/"]
    return [os.path.join(base, name) if name else base + "/" for base in bases
            for name in names] + ["a", "..", "x/y/z", "/", "//", "a/b/f.conf\x00"]


def test_realpath_as_os_path_realpath(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    for path in _candidates(tree):
        paths.forget()
        try:
            expected = os.path.realpath(path)
        except ValueError:  # an embedded NUL byte
            with pytest.raises(ValueError):
                paths.realpath(path)
            continue
        assert paths.realpath(path) == expected, path
    paths.forget()


def test_a_link_made_between_runs_is_seen(tree: Path) -> None:
    """``forget`` (each run's start) drops the folders' answers too."""
    path = str(tree / "a" / "b" / "g.conf")
    assert paths.realpath(path) == path
    os.symlink("f.conf", path)
    paths.forget()
    assert paths.realpath(path) == str(tree / "a" / "b" / "f.conf")
    paths.forget()
