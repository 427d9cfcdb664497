"""Hostile trees, generated: every run ends, reads what is on disk and no more, and
reports the hostile part (issue #16).

Each example is an nginx tree with one or more hostile parts: an include of a FIFO,
a device, a ``/proc`` entry, a directory or a symlink loop; a parameter past
nginx's limit (quoted or not, closed or not); NUL bytes; a location regex that
backtracks without end in Python's ``re``.  The whole pipeline runs in process
(discovery, loading, every rule, the cache's digests) and counts the bytes it
reads: at most the bytes on disk, read a few times over, plus ``READ_SLACK`` per
hostile include (a ``/proc`` entry holds text its size does not report).  No clock
and no memory gauge decides (issue 19: a loaded machine must not fail the suite);
the time and memory of a long line and of many includes are measured by
``benchmarks/run.py --only quadratic``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nglint import cachestate
from nglint.errors import NglintError
from nglint.findings import Severity
from tests.helpers import findings

READS = 4  # each file read: loading, the include's check, the cache's digest, slack
READ_SLACK = 64 << 10  # bytes: a /proc entry's text (nginx reads st_size = 0 of it)

SPECIAL = ["/dev/zero", "/dev/urandom", "/dev/null", "/proc/self/status", "/proc/self/stat"]
REGEXES = [
    r"^/(?:[\w-]+/?)+\.(?:png|css|js)$",
    r"^(/|[a-z0-9-]+|.)+Q$",
    r"^/(a+)+$",
    r"^(\w+\s?)*$",
    r"^/(?:[\w-]+/?)+(?<!~)\.png$",  # a lookbehind: Python's re, under the time budget
    r"^/(?:(?:\w|-)+/?)+(?<=x)$",
]


@st.composite
def hostile_trees(draw: st.DrawFn) -> tuple[list[str], dict[str, bytes], list[str]]:
    """(include targets, extra files by relative name, statements in `location /`)."""
    includes: list[str] = []
    files: dict[str, bytes] = {}
    statements: list[str] = []
    for kind in draw(st.lists(st.sampled_from(
            ["fifo", "special", "directory", "glob-directory", "loop", "long", "nul",
             "regex"]), min_size=1, max_size=4)):
        if kind == "fifo":
            includes.append("conf.d/fifo.conf")
            files["conf.d/fifo.conf"] = b"FIFO"
        elif kind == "special":
            includes.append(draw(st.sampled_from(SPECIAL)))
        elif kind == "directory":
            includes.append("conf.d")
        elif kind == "glob-directory":
            files["conf.d/sub/.keep"] = b""
            includes.append("conf.d/*")
        elif kind == "loop":
            files["conf.d/a.loop"] = b"LOOP"
            includes.append("conf.d/a.loop")
        elif kind == "long":
            size = draw(st.one_of(st.integers(4000, 4200), st.integers(1 << 20, 3 << 20)))
            quote = draw(st.sampled_from(['"', "'", ""]))
            closed = draw(st.booleans())
            statements.append(f"set $long {quote}{'q' * size}{quote if closed else ''};")
        elif kind == "nul":
            statements.append(draw(st.sampled_from(
                ['set $n "a\x00b";', "# a\x00b", "set $n a\x00b;"])))
        else:
            pattern = draw(st.sampled_from(REGEXES))
            modifier = draw(st.sampled_from(["~", "~*"]))
            statements.append(f"}}\n        location {modifier} {pattern} {{ return 204;")
    return includes, files, statements


def _build(root: Path, tree: tuple[list[str], dict[str, bytes], list[str]]) -> int:
    includes, files, statements = tree
    (root / "conf.d").mkdir()
    written = 0
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data == b"FIFO":
            os.mkfifo(path)
        elif data == b"LOOP":
            os.symlink(path.name, path)
        else:
            path.write_bytes(data)
    lines = "".join(f"    include {target};\n" for target in includes)
    body = "\n            ".join(statements)
    text = ("events {}\nhttp {\n" + lines + "    server {\n        listen 8080;\n"
            "        location / {\n            proxy_pass http://127.0.0.1:8888;\n"
            f"            {body}\n        }}\n    }}\n}}\n")
    data = text.encode("utf-8")
    (root / "nginx.conf").write_bytes(data)
    return written + len(data)


def _counting_reads() -> tuple[mock._patch, list[int]]:
    """Patch ``os.read`` to add up the bytes it returns (nglint reads files only
    through ``nglint.reader``, which reads with ``os.read``)."""
    total = [0]
    read = os.read

    def counted(descriptor: int, size: int) -> bytes:
        data = read(descriptor, size)
        total[0] += len(data)
        return data

    return mock.patch.object(os, "read", counted), total


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_trees())
def test_hostile_trees_are_bounded(tree: tuple[list[str], dict[str, bytes], list[str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        size = _build(root, tree)
        patch, total = _counting_reads()
        with patch:
            try:
                found = findings(root)
                refused = False
            except NglintError:  # exit 2: a symlink loop in the folder, never included
                found, refused = [], True
            sources = [os.path.join(root, "nginx.conf"), *tree[0]]
            for path in sources:  # what the result cache hashes, include targets too
                cachestate.digest(path if os.path.isabs(path) else str(root / path))
    # an endless device or FIFO is never read; a file is read a bounded number of times
    assert total[0] <= READS * size + READ_SLACK * len(tree[0]), (total[0], size, tree[0])
    if tree[0]:  # a hostile include target is an error finding (or a syntax error)
        assert refused or any(f.severity == Severity.ERROR for f in found), found
    longest = max((len(s) for s in tree[2] if s.startswith("set $long")), default=0)
    if longest > 4200 and not refused:  # past nginx's 4 KiB: NG001, with a short message
        assert any(f.code == "NG001" for f in found), found
        assert all(len(f.message) < 1000 for f in found), [f.message[:80] for f in found]


REDOS_TREE = ("events {}\nhttp {\n    server {\n        listen 8080;\n"
              "        server_name jupyter.example.com;\n"
              "        location / { proxy_pass http://127.0.0.1:8888; }\n"
              "        location %s { root /srv/static; }\n    }\n}\n")


@pytest.mark.parametrize("location", [r"~* ^/(?:[\w-]+/?)+\.(?:png|css|js)$",
                                      r"~ ^(/|[a-z0-9-]+|.)+Q$"])
def test_redos_location_check_and_route(tmp_path: Path, location: str) -> None:
    """Valid for nginx -t; nglint never finished (Python's re backtracking on the kernel
    channels URI).  Now RE2 decides: the findings of `location /` and a definite
    route for a UUID-like URI (the subprocess timeout only stops a hang)."""
    from nglint.semantics.linear import linear
    from nglint.semantics.pcre import translate_pcre

    compiled, _ = translate_pcre(location.split(" ", 1)[1], location.startswith("~*"))
    assert compiled is not None and linear(compiled) is not None  # RE2 decides, linearly
    (tmp_path / "nginx.conf").write_text(REDOS_TREE % location)
    check = subprocess.run([sys.executable, "-m", "nglint", "check", "--no-cache",
                            "--format", "json", "nginx.conf"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    codes = {f["code"] for f in json.loads(check.stdout)["findings"]}
    assert {"NG101", "NG102", "NG103"} <= codes and "NG013" not in codes, codes
    route = subprocess.run([sys.executable, "-m", "nglint", "route", "nginx.conf",
                            "/api/kernels/4c1d1f3e-aaaa-bbbb-cccc-dddddddddddd/channels"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "unknown" not in route.stdout and "location /  " in route.stdout, route.stdout


def test_backtracking_regex_re2_cannot_take_is_ng013(tmp_path: Path) -> None:
    """A lookbehind keeps the pattern in Python's re: its 0.2 s budget runs out on the
    kernel channels URI, routing through it is unknown, and NG013 says why."""
    (tmp_path / "nginx.conf").write_text(REDOS_TREE % r"~ ^/(?:[\w-]+/?)+(?<!~)\.png$")
    check = subprocess.run([sys.executable, "-m", "nglint", "check", "--no-cache",
                            "--format", "json", "nginx.conf"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    findings = json.loads(check.stdout)["findings"]
    [found] = [f for f in findings if f["code"] != "NG223"]  # NG223: the ReDoS itself
    assert found["code"] == "NG013" and "gave up evaluating the regex" in found["message"]
    assert [f["code"] for f in findings if f["code"] == "NG223"] == ["NG223"]
