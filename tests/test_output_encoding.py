"""Output never fails on the terminal's encoding, and click's own errors are escaped.

Run as the real program (``python -m nglint``): the stream encoding comes from the
environment (``PYTHONIOENCODING``, the C locale without UTF-8 coercion).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

# a Cyrillic "o" (U+043E) in an unknown directive, a name outside latin-1 and outside the BMP
CONF = ("server {\n    listen 80;\n    pr\u043exy_buffering off;\n"
        "    location / { proxy_pass http://127.0.0.1:8888; }\n}\n")
NAME = "sité-😀.conf"
ENCODINGS = [{"PYTHONIOENCODING": "latin-1"}, {"PYTHONIOENCODING": "ascii"},
             {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}]


def _nglint(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONIOENCODING", "LC_ALL", "LC_CTYPE", "LANG", "PYTHONUTF8",
                                "GITHUB_ACTIONS")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "nglint", *args], cwd=cwd,
                          capture_output=True, timeout=60, env=environment)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / NAME).write_text(CONF, encoding="utf-8")
    return tmp_path


def _shown_name(env: dict[str, str]) -> str:
    """NAME as the report shows it: in the C locale Python reads file names as bytes
    (surrogateescape), shown byte by byte; else by code point, as the stream escapes it."""
    if env.get("LC_ALL") == "C":
        return "sit\\xc3\\xa9-\\xf0\\x9f\\x98\\x80.conf"
    return "sit\\xe9-\\U0001f600.conf" if "ascii" in env.values() else "sit\xe9-\\U0001f600.conf"


def _same_name(value: str) -> bool:
    return os.fsencode(value) == NAME.encode()  # in the C locale: the bytes, decoded


@pytest.mark.parametrize("env", ENCODINGS, ids=["latin-1", "ascii", "C-locale"])
@pytest.mark.parametrize("output_format", ["text", "json", "github", "sarif"])
def test_check_writes_any_data_in_any_encoding(tree, env, output_format):
    done = _nglint("check", "--no-cache", "--format", output_format, NAME, cwd=tree, **env)
    assert done.returncode == 1, done.stderr
    assert not done.stderr
    codec = "latin-1" if "latin-1" in env.values() else "ascii"
    out = done.stdout.decode(codec)  # nothing the stream's encoding lacks reached it
    if output_format in ("json", "sarif"):  # JSON's own escapes: the data comes back exact
        document = json.loads(out)
        if output_format == "json":
            assert all(_same_name(f["path"]) for f in document["findings"])
            assert any("pr\u043exy_buffering" in f["message"] for f in document["findings"])
        else:
            uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            assert unquote(uri["artifactLocation"]["uri"]) == NAME
    else:  # what the encoding cannot show, as backslash escapes
        assert _shown_name(env) in out and "pr\\u043exy_buffering" in out


@pytest.mark.parametrize("env", ENCODINGS[1:], ids=["ascii", "C-locale"])
@pytest.mark.parametrize("command", [["route", NAME, "/"], ["apps", NAME],
                                     ["route", NAME, "/", "--format", "json"]])
def test_route_and_apps_write_in_any_encoding(tree, env, command):
    done = _nglint(*command, cwd=tree, **env)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("ascii")  # nothing but ASCII reached the stream
    if "json" in command:
        assert _same_name(json.loads(out)[0]["server"]["file"])
    else:
        assert f"{_shown_name(env)}:1" in out


def test_errors_in_any_encoding(tree):
    done = _nglint("check", "--fix", "missing-é\x1b[2J.conf", cwd=tree, **ENCODINGS[1])
    assert done.returncode == 2
    assert done.stderr == b"nglint: error: missing-\\xe9\\x1b[2J.conf: no such file or directory\n"


def test_click_usage_errors_show_their_values_escaped(tmp_path):
    done = _nglint("check", "--format", "##[error]é\x9b", "x.conf", cwd=tmp_path,
                   GITHUB_ACTIONS="true", **ENCODINGS[1])
    assert done.returncode == 2
    error = done.stderr.decode("ascii")
    assert error.startswith("Usage: ") and error.count("\n") == 4
    assert "'##\\x5berror]\\xe9\\x9b' is not one of" in error


def test_help_stays_help(tmp_path):
    done = _nglint(cwd=tmp_path)  # no command: the help page, as click shows it
    assert b"Commands:\n" in done.stderr + done.stdout
