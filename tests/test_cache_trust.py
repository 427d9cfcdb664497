"""The cache is private and its entries are not trusted: a directory others can
write to turns caching off with a note; an entry that is a symlink, a FIFO, too
large or of another shape is a miss, and the run rewrites it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nglint import cache, cachedir
from nglint.cli import main
from tests.helpers import FIXTURES, write

SEED = (FIXTURES / "examples" / "jupyter-seed.conf").read_text()


def _check(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    return tmp_path / "tree"


def _entry(tree: Path) -> Path:
    """The one cache entry, after a first run."""
    _check(str(tree))
    [entry] = Path(cache.directory()).glob("*.json")
    return entry


def decode(data: bytes) -> dict:
    """An entry's header with its parts in place of their spans: ``findings`` the rows'
    JSON text, ``renders`` each output's [stdout, stderr] (see ``nglint.cache``)."""
    length = int(data[:10])
    header = json.loads(data[11:11 + length])
    body = data[11 + length:]

    def part(span: list[int]) -> str:
        return body[span[0]:span[0] + span[1]].decode("utf-8", "surrogatepass")

    return {**header, "findings": part(header["findings"]),
            "renders": {key: [part(span) for span in spans]
                        for key, spans in header["renders"].items()}}


def encode(document: dict) -> bytes:
    """The entry ``decode`` read (changed or not), laid out again."""
    parts: list[bytes] = []

    def place(value):
        if not isinstance(value, str):
            return value  # a wrong shape kept as it is, for the tests of shapes
        data = value.encode("utf-8", "surrogatepass")
        parts.append(data)
        return [sum(map(len, parts)) - len(data), len(data)]

    renders = document["renders"]
    header = {**document, "findings": place(document["findings"]),
              "renders": {key: [place(text) for text in output] if isinstance(output, list)
                          else output for key, output in renders.items()}
              if isinstance(renders, dict) else renders}
    head = json.dumps(header).encode()
    return b"%010d\n" % len(head) + head + b"".join(parts)


def _parses(tree: Path, monkeypatch) -> bool:
    """Whether a run of ``tree`` parses (else it answered from the cache)."""
    import nglint.load

    calls: list[str] = []
    original = nglint.load.parse_file
    with monkeypatch.context() as patch:
        patch.setattr("nglint.load.parse_file",
                      lambda source: calls.append(source.path) or original(source))
        _check(str(tree))
    return bool(calls)


def test_directory_is_created_0700_and_entries_0600(tree):
    entry = _entry(tree)
    assert stat.S_IMODE(os.stat(cache.directory()).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600


def test_a_directory_others_can_write_is_not_used(tree, monkeypatch):
    """The shared-cache poisoning: another user planted an entry for this run."""
    entry = _entry(tree)
    planted = decode(entry.read_bytes())
    planted.update(findings="[]", renders={})  # "all good"
    entry.write_bytes(encode(planted))
    os.chmod(cache.directory(), 0o777)
    status, report, error = _check(str(tree))
    assert status == 1 and report["findings"]  # the real answer, not the planted one
    assert error == (f"nglint: note: cache off: others can write to {cache.directory()} "
                     "(chmod 700 it)\n")
    assert decode(entry.read_bytes())["findings"] == "[]"  # neither read nor written


def test_the_note_shows_a_hostile_directory_name_escaped(tmp_path, monkeypatch):
    base = tmp_path / "\x1b]0;T\x07\u202e\n::warning::x"
    monkeypatch.setenv("XDG_CACHE_HOME", str(base))
    write(tmp_path / "tree", SEED)
    os.makedirs(base / "nglint", mode=0o777)
    os.chmod(base / "nglint", 0o777)
    error = _check(str(tmp_path / "tree"))[2]
    assert error == (f"nglint: note: cache off: others can write to {tmp_path}/"
                     "\\x1b]0;T\\x07\\u202e\\x0a::warning::x/nglint (chmod 700 it)\n")


def _owned_by_someone_else(monkeypatch, folder: str) -> None:
    if os.geteuid() == 0:  # really: root may give it away
        os.chown(folder, 65534, 65534)
    else:  # as seen by a process of another user
        monkeypatch.setattr(cachedir.os, "geteuid", lambda: os.getuid() + 1)


def test_a_directory_of_another_user_is_not_used(tree, monkeypatch):
    entry = _entry(tree)
    planted = decode(entry.read_bytes())
    planted["state"] = {"files": {}, "links": {str(tree): str(tree)}, "includes": {},
                        "walk": {str(tree): [str(tree / "nginx.conf")]}}
    planted.update(findings="[]", renders={})
    entry.write_bytes(encode(planted))
    _owned_by_someone_else(monkeypatch, cache.directory())
    status, report, error = _check(str(tree))
    assert status == 1 and report["findings"]
    assert error.startswith(f"nglint: note: cache off: {cache.directory()} belongs to "
                            "another user") and error.count("\n") == 1


def test_a_closed_directory_of_another_user_is_reported_too(tree, monkeypatch):
    """The attacker's 0700 directory: not even readable, still a note, not silence."""
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    os.makedirs(cache.directory())
    os.chmod(cache.directory(), 0)
    monkeypatch.setattr(cachedir.os, "geteuid", lambda: os.getuid() + 1)
    try:
        assert "belongs to another user" in _check(str(tree))[2]
    finally:
        os.chmod(cache.directory(), 0o700)


def _rewritten_and_served(tree: Path, entry: Path, cold: tuple[int, dict], monkeypatch) -> None:
    """The invalid entry was a miss, was replaced by a valid one, which serves next."""
    status, report, error = _check(str(tree))
    assert (status, report) == cold and error == ""
    assert not entry.is_symlink() and entry.is_file()
    data = entry.read_bytes()
    assert cache._header(data[11:11 + int(data[:10])]) is not None
    assert not _parses(tree, monkeypatch)


def _valid(tree: Path) -> dict:
    return decode(_entry(tree).read_bytes())


def _with(document: dict, change) -> bytes:
    change(document)
    return encode(document)


def _raw(document: dict, change) -> bytes:
    """The entry laid out, then its bytes changed (a span out of the file, a part
    that is not UTF-8)."""
    return change(encode(document))


def _with_rows(document: dict, change) -> bytes:
    """The entry with its findings' rows changed and no stored output: the rows must be
    read to answer."""
    rows = json.loads(document["findings"])
    change(rows)
    document.update(findings=json.dumps(rows), renders={})
    return encode(document)


def _a_file(document: dict) -> str:
    return next(iter(document["state"]["files"]))


NAMING_NOTHING = {"state": {"files": {}, "links": {}, "includes": {}, "walk": {}},
                  "findings": "[]", "renders": {}, "failing": False}

SHAPES = {
    "not an object": lambda tree: "[]",
    "format only": lambda tree: b'0000000013\n{"format": 7}',
    "a header longer than the file": lambda tree: _raw(
        _valid(tree), lambda data: b"9999999999" + data[10:]),
    "a header length that is not a number": lambda tree: _raw(
        _valid(tree), lambda data: b"-000000001" + data[10:]),
    "a part out of the file": lambda tree: _raw(_valid(tree), lambda data: data[:-1]),
    "a part that is not UTF-8": lambda tree: _raw(_valid(tree), lambda data: data[:-1] + b"\xff"),
    "files as a list": lambda tree: _with(_valid(tree), lambda d: d["state"].update(files=[])),
    "a file record of another shape": lambda tree: _with(_valid(tree), lambda d: d["state"][
        "files"].update({_a_file(d): ["0" * 64]})),
    "a signature of another shape": lambda tree: _with(_valid(tree), lambda d: d["state"][
        "files"].update({_a_file(d): ["0" * 64, [1, 2]]})),
    "nested too deep": lambda tree: "[" * 100_000 + "]" * 100_000,
    "failing as a number": lambda tree: _with(_valid(tree), lambda d: d.update(failing=1)),
    "a stored output of another shape": lambda tree: _with(_valid(tree), lambda d: d.update(
        renders={key: ["stdout only"] for key in d["renders"]})),
    "findings that are not JSON": lambda tree: _with(_valid(tree), lambda d: d.update(
        findings="[", renders={})),
    "unknown severity": lambda tree: _with_rows(
        _valid(tree), lambda rows: rows[0].__setitem__(2, "fatal")),
    "a line that is a boolean": lambda tree: _with_rows(
        _valid(tree), lambda rows: rows[0].__setitem__(4, True)),
    "an extra field": lambda tree: _with_rows(_valid(tree), lambda rows: rows[0].append(1)),
    "a missing field": lambda tree: _with_rows(_valid(tree), lambda rows: rows[0].pop(1)),
    "related of another shape": lambda tree: _with_rows(
        _valid(tree), lambda rows: rows[0].__setitem__(13, [[1]])),
    "no paths named": lambda tree: _with(_valid(tree), lambda d: d.update(NAMING_NOTHING)),
    "another format": lambda tree: _with(_valid(tree), lambda d: d.update(format=6)),
    "not UTF-8": lambda tree: b"\xff\xfe{}",
}


def test_an_entry_naming_no_file_is_not_valid_forever(tree, monkeypatch):
    """For a file asked for there is no walk: an entry whose state lists nothing
    would hold whatever the file becomes."""
    path = str(tree / "nginx.conf")
    cold = _check("--no-cache", path)[:2]
    _check(path)
    [entry] = Path(cache.directory()).glob("*.json")
    entry.write_bytes(_with(decode(entry.read_bytes()), lambda d: d.update(NAMING_NOTHING)))
    assert _check(path)[:2] == cold


@pytest.mark.parametrize("shape", SHAPES)
def test_an_entry_of_another_shape_is_a_miss_and_is_rewritten(tree, monkeypatch, shape):
    cold = _check("--no-cache", str(tree))[:2]
    entry = _entry(tree)
    bad = SHAPES[shape](tree)
    entry.write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    _rewritten_and_served(tree, entry, cold, monkeypatch)


def test_an_entry_over_the_size_bound_is_a_miss(tree, monkeypatch):
    entry = _entry(tree)
    with monkeypatch.context() as patch:
        patch.setattr(cachedir, "MAX_ENTRY", entry.stat().st_size - 1)
        assert _parses(tree, monkeypatch)
        assert not entry.exists()  # too large to store: removed, not left to miss
    assert _parses(tree, monkeypatch) and not _parses(tree, monkeypatch)


def test_an_entry_that_is_a_symlink_is_not_followed(tree, monkeypatch):
    """Even to a valid entry: a link in the cache could point anywhere."""
    cold = _check("--no-cache", str(tree))[:2]
    entry = _entry(tree)
    elsewhere = tree.parent / "elsewhere.json"
    valid = entry.read_bytes()
    elsewhere.write_bytes(valid)
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert _parses(tree, monkeypatch)
    entry.unlink()
    entry.symlink_to(elsewhere)
    _rewritten_and_served(tree, entry, cold, monkeypatch)
    assert elsewhere.read_bytes() == valid  # the link was replaced, not written through


@pytest.mark.parametrize("link", [True, False])
def test_an_entry_that_is_a_fifo_does_not_hang(tree, link):
    entry = _entry(tree)
    entry.unlink()
    fifo = tree.parent / "fifo"
    os.mkfifo(fifo)
    if link:
        entry.symlink_to(fifo)
    else:
        os.mkfifo(entry)
    done = subprocess.run([sys.executable, "-m", "nglint", "check", "-q", str(tree)],
                          capture_output=True, timeout=60,
                          env={**os.environ, "XDG_CACHE_HOME": str(tree.parent / "cache")})
    assert done.returncode == 1 and b"NG101" in done.stdout, done.stderr
    assert stat.S_ISREG(os.lstat(entry).st_mode)  # rewritten as a file
