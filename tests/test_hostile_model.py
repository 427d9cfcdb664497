"""Hostile input for the request model, ``nglint route`` and ``nglint apps``: arguments
and configurations that once made them loop, explode, print raw control characters or
answer nothing.  Each test holds its input inline; the ones that once hung run nglint
in a subprocess bounded by a timeout (never a timed assertion)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO, write

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

EVIL = "^/?(a+)+$"  # exponential on "aaaa...X" in a backtracking engine (PCRE2, Python re)
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
    [answer] = _route_json(tmp_path, _conf("        server_name ~^(a+)+$;\n"
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
