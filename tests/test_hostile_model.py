"""Hostile input for the request model, ``nglint route`` and ``nglint apps``: arguments
and configurations that once made them loop, explode, print raw control characters or
answer nothing.  Each test holds its input inline; the ones that once hung run nglint
in a subprocess bounded by a timeout (never a timed assertion)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from nglint.cli import main
from nglint.semantics.inherit import Model
from nglint.semantics.request import requests_for, simulate
from tests.helpers import REPO, load, write

TIMEOUT = 120  # seconds: a hang fails the test instead of stalling the suite


def _nglint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nglint", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=TIMEOUT, check=False)


def _conf(server_body: str) -> str:
    return "events {}\nhttp {\n    server {\n        listen 80;\n" + server_body + "\n    }\n}\n"


# -- if conditions the model cannot evaluate: forks are capped -------------------------

def test_many_unknown_if_conditions_end_as_unknown_instead_of_two_to_the_n_paths(tmp_path):
    """200 ``if ($fooN)`` in a row, each on a ``set`` variable (unknown to the model):
    every one forks, 2**200 paths.  Past MAX_FORKS a path ends as unknown, with why."""
    ifs = "\n".join(f"            if ($foo{i}) {{ set $x{i} 1; }}" for i in range(200))
    path = write(tmp_path, _conf("        set $foo0 1;\n        location / {\n"
                                 "            proxy_pass http://127.0.0.1:8888;\n"
                                 f"{ifs}\n        }}"))
    result = _nglint("route", str(path), "/", "--format", "json")
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    capped = [a for a in answers if a["unknown"]]
    assert capped and len(answers) < 200
    assert all("if conditions nglint cannot evaluate" in a["reason"] for a in capped)


def test_a_few_unknown_if_conditions_still_fork(tmp_path):
    """Below the cap every path is followed: three unknown ``if``s, eight outcomes."""
    ifs = "\n".join(f"            if ($foo{i}) {{ set $x{i} 1; }}" for i in range(3))
    path = write(tmp_path, _conf("        set $foo0 1;\n        location / {\n"
                                 "            proxy_pass http://127.0.0.1:8888;\n"
                                 f"{ifs}\n        }}"))
    answers = json.loads(_nglint("route", str(path), "/", "--format", "json").stdout)
    assert len(answers) == 8 and not any(a["unknown"] for a in answers)


# -- regexes with catastrophic backtracking: a bounded search, then unknown -------------

# exponential on "aaaa...X" in a backtracking engine (PCRE2, Python re); the lookbehind
# keeps it from RE2 (nglint.semantics.linear), so Python's re and its budget decide.
# nginx 1.22.1 answers 500 for SLOW ("pcre2_match() failed: -47", its match limit).
EVIL = "^/?(a+)+(?<!b)$"
SLOW = "/" + "a" * 40 + "X"


def _route_json(tmp_path, conf: str, *args: str) -> list[dict]:
    path = write(tmp_path, conf)
    result = _nglint("route", str(path), *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_backtracking_location_regex_answers_unknown(tmp_path):
    """nginx's PCRE2 stops at its match limit (a 500); Python's re would run for ever:
    the search is stopped and the location is unknown."""
    [answer] = _route_json(tmp_path, _conf(f"        location ~ {EVIL} {{ return 204; }}"),
                           SLOW, "--host", "x")
    assert answer["unknown"] and "location regex" in answer["reason"]


def test_backtracking_server_name_regex_answers_unknown(tmp_path):
    [answer] = _route_json(tmp_path, _conf("        server_name ~^(a+)+(?<!b)$;\n"
                                           "        location / { return 204; }"),
                           "/", "--host", SLOW[1:])
    assert answer["unknown"] and "server_name regex" in answer["reason"]


def test_backtracking_if_and_map_regexes_fork_as_unknown(tmp_path):
    conf = ("events {}\nhttp {\n    map $uri $m { ~" + EVIL + " 1; default 0; }\n"
            "    server {\n        listen 80;\n        location / {\n"
            f"            if ($uri ~ {EVIL}) {{ return 403; }}\n"
            "            if ($m) { return 401; }\n            return 204;\n        }\n    }\n}\n")
    answers = _route_json(tmp_path, conf, SLOW, "--host", "x")
    assert {a["status"] for a in answers} == {403, 401, 204}
    assert all(a["holds"] is None for a in answers)


def test_backtracking_rewrite_regex_answers_unknown(tmp_path):
    [answer] = _route_json(tmp_path, _conf(f"        location / {{ rewrite {EVIL} /b last; }}"),
                           SLOW, "--host", "x")
    assert answer["unknown"] and "takes too long" in answer["reason"]


# -- maps that lead back to themselves ---------------------------------------------------

def test_map_cycles_and_deep_map_chains_are_unknown_not_a_recursion_error(tmp_path):
    """nginx stops with "cycle while evaluating variable" (ngx_http_variable_depth, 100);
    the model answers unknown for such a variable instead of recursing."""
    chain = "\n".join(f"    map $v{i + 1} $v{i} {{ default $v{i + 1}; }}" for i in range(500))
    conf = ("events {}\nhttp {\n    map $b $a { default $b; }\n    map $a $b { default $a; }\n"
            "    map $c $c { default x; }\n" + chain + "\n    server {\n        listen 80;\n"
            "        location / {\n            if ($a) { return 401; }\n"
            "            if ($v0) { return 403; }\n"
            "            proxy_pass http://127.0.0.1:8888;\n"
            "            proxy_set_header X-C $c;\n        }\n    }\n}\n")
    answers = _route_json(tmp_path, conf, "/", "--host", "x")
    assert {a["status"] for a in answers} == {401, 403, None}
    proxied = next(a for a in answers if a["status"] is None)
    assert {"name": "X-C", "value": None} in proxied["upstream"]["sent"]


# -- hostile arguments: one line, exit status 2 ------------------------------------------

PROXY = _conf("        server_name a.example;\n"
              "        location / { proxy_pass http://127.0.0.1:8888; }")


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _usage_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("nglint: error: ") and all(w in line for w in words), line
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line), line


@pytest.mark.parametrize(("target", "words"), [
    ("http://user:pw@a.example/x", ["user info"]),  # nginx 1.22: 400
    ("http://user@a.example/x", ["user info"]),
    ("http:///x", ["without a host"]),  # nginx 1.22: 400
    ("http://a.example:0/", ["not a TCP port"]),  # was: nothing routed, exit 0
    ("http://a.example:65536/", ["not a TCP port"]),
    ("http://a.example:" + "9" * 5000 + "/", ["not a TCP port"]),  # was: int() limit
    ("/a\r\nX-Evil: 1", ["CR or LF"]),  # would end the request line: HTTP/0.9
    ("http://[::1/x", ["full URL"]),
])
def test_route_refuses_targets_it_cannot_route(tmp_path, target, words):
    _usage_error(_cli("route", str(write(tmp_path, PROXY)), target), *words)


@pytest.mark.parametrize("listen", ["[::1", "::1", "\x1b[31m:80", "[zz]:80", ":80", "0",
                                    "65536", "*:", "\u00b2", "1.2.3.4:" + "9" * 5000])
def test_route_refuses_odd_listen_values(tmp_path, listen):
    _usage_error(_cli("route", str(write(tmp_path, PROXY)), "/", "--listen", listen),
                 "--listen")


@pytest.mark.parametrize(("header", "words"), [
    ("X-A: a\r\nX-Evil: b", ["CR, LF or NUL"]),
    ("X-A: a\nb", ["CR, LF or NUL"]),
    ("Host: evil.example", ["--host"]),  # was: silently ignored
    ("host:evil.example", ["--host"]),
])
def test_route_refuses_headers_that_are_not_one_header_line(tmp_path, header, words):
    _usage_error(_cli("route", str(write(tmp_path, PROXY)), "/", "--header", header), *words)


def test_route_refuses_a_nginx_version_of_other_digits(tmp_path):
    _usage_error(_cli("route", str(write(tmp_path, PROXY)), "/", "--nginx-version", "1.\u00b2"),
                 "invalid nginx version")


def test_route_text_shows_control_characters_escaped(tmp_path):
    """A terminal must never receive ESC, CR or C1 from a target, Host or header value."""
    path = str(write(tmp_path, PROXY))
    bad_target = _cli("route", path, "/\x1b[31mred\x7f", "--host", "a.example\x1b]0;x\x07")
    header = _cli("route", path, "/", "--header", "X-A: \x1b[2J\u009b")
    for result in (bad_target, header):
        assert result.exit_code == 0, result.output
        assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0
                       for c in result.stdout), result.stdout
    assert "/\\x1b[31mred\\x7f  Host: a.example\\x1b]0;x\\x07" in bad_target.stdout
    assert "X-A: \\x1b[2J\\x9b" in header.stdout


def test_apps_text_shows_control_characters_of_the_configuration_escaped(tmp_path):
    path = write(tmp_path, _conf("        server_name \"a\x1b[31m.example\";\n"
                                 "        location \"/\x1b[2J\u009b/\" { "
                                 "proxy_pass http://127.0.0.1:8888; }"))
    result = _cli("apps", str(path))
    assert result.exit_code == 0, result.output
    assert "\\x1b[2J\\x9b" in result.stdout and "\x1b" not in result.stdout
    assert "\u009b" not in result.stdout


@pytest.mark.parametrize("command", [["route", "{path}", "/"], ["apps", "{path}"]])
@pytest.mark.parametrize(("text", "line"), [
    ("events {}\nhttp { server { listen 80; location / { proxy_pass http://a; }\n", 2),
    ("events {}\nhttp {\n" + "location / {\n" * 201 + "}\n" * 201 + "}\n", 202),
], ids=["unclosed", "too-deep"])
def test_route_and_apps_refuse_a_configuration_that_does_not_parse(tmp_path, command, text,
                                                                  line):
    """Both answered as if the file were empty (a made-up server at None:0, or
    "no server proxies anything") with exit status 0."""
    path = write(tmp_path, text)
    result = _cli(*[arg.format(path=path) for arg in command])
    _usage_error(result, f"{path}:{line}:")


# -- numbers past Python's int() limit, status codes nginx -t refuses ---------------------

# int() refuses more than 4300 digits (ValueError, an internal error); nginx refuses a
# parameter of 4096 bytes or more (nglint.parameter_limit): the longest number it reads
BIG = "9" * 4094  # `=BIG` in try_files stays under the limit too


def test_huge_numbers_in_listen_return_try_files_and_sizes_are_no_internal_error(tmp_path):
    path = write(tmp_path, "events {}\nhttp {\n    client_max_body_size " + BIG + ";\n"
                 "    server {\n        listen " + BIG + ";\n"
                 "        location / { return " + BIG + "; }\n"
                 "        location /t { try_files $uri =" + BIG + "; }\n"
                 "        location /c { return 1000; }\n    }\n}\n")
    checked = _cli("check", str(path))
    assert checked.exit_code == 1 and "internal error" not in checked.output, checked.output
    result = _cli("route", str(path), "/", "/t", "/c", "--format", "json")
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    assert [a["unknown"] for a in answers] == [True, True, True]
    assert all("nginx -t fails" in a["reason"] for a in answers)


# -- request lines nginx refuses by length ------------------------------------------------

def test_a_request_line_longer_than_a_large_header_buffer_is_a_414(tmp_path):
    """nginx 1.22, large_client_header_buffers 4 8k (the default): a request line of
    8192 bytes with its CRLF is read, 8193 is a 414 (checked on a running nginx)."""
    path = write(tmp_path, PROXY)
    room = 8192 - len("GET / HTTP/1.1\r\n")
    fits, too_long = "/" + "a" * room, "/" + "a" * (room + 1)
    answers = json.loads(_cli("route", str(path), fits, too_long, "--host", "a.example",
                              "--format", "json").stdout)
    assert [a["status"] for a in answers] == [None, 414]
    bigger = write(tmp_path, PROXY.replace("listen 80;", "listen 80;\n"
                                           "        large_client_header_buffers 4 16k;"))
    [answer] = json.loads(_cli("route", str(bigger), too_long, "--host", "a.example",
                               "--format", "json").stdout)
    assert answer["status"] is None


def test_a_megabyte_target_is_answered_quickly_as_a_414(tmp_path):
    path = write(tmp_path, PROXY)
    [request] = requests_for(["/" + "a/../" * 200_000], None, None, None)
    [outcome] = simulate(load(path)[0], request, Model())
    assert outcome.status == 414


# -- $1..$9: one digit --------------------------------------------------------------------

def test_a_capture_is_one_digit(tmp_path):
    """ngx_http_script_compile reads "$" and one digit 1-9 as a capture: "$12" is
    capture 1 and "2" (nginx 1.22 answered "a2" for it; "${1}" and "$0" are unknown
    variables there)."""
    groups = "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)"
    path = write(tmp_path, _conf(f"        location / {{ rewrite ^/{groups} /x$12/$1b last; }}\n"
                                 "        location = /xa2/ab { return 204; }"))
    [answer] = json.loads(_cli("route", str(path), "/abcdefghijkl", "--format", "json").stdout)
    assert answer["status"] == 204, answer


def test_a_capture_followed_by_letters_is_no_undefined_variable(tmp_path):
    """``$1a`` is capture 1 and "a" (nginx 1.22 -t accepts it): NG004 said
    "variable $1a is not defined"."""
    path = write(tmp_path, _conf("        location ~ ^/(a)/ { rewrite ^/(a)/ /x$1a/$12 last; }"))
    assert "NG004" not in _cli("check", str(path)).output
