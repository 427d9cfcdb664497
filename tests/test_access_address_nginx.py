"""NG008 reads an ``allow``/``deny`` address as nginx does (``ngx_ptocidr``), against
``nginx -t`` on each address: a regular expression does the reading (1,000,000 ``allow``
lines are checked in one run), so its edges are pinned here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rules.invalid_arguments import _address_ok
from tests.nginx_harness import NGINX

ADDRESSES = [
    "1.2.3.4", "0.0.0.0", "255.255.255.254", "199.249.250.9",
    "1..2.3", "...", ".1.2.3", "1.2.3.",  # an empty octet is 0 (ngx_inet_addr)
    "001.2.3.4", "0001.2.3.4", "1.2.3.0255",  # leading zeros
    "1.2.3.256", "1.2.300.4", "1.2.3.4.5", "1.2.3", "a.b.c.d", "1.2.3.4x",
    "255.255.255.255", "0255.255.255.255/8",  # INADDR_NONE, nginx's error value
    "\u0661.2.3.4",  # a digit, but not an ASCII one
    "10.0.0.0/8", "1.2.3.4/0", "1.2.3.4/32", "1.2.3.4/032", "1.2.3.4/00000000032",
    "1.2.3.4/33", "1.2.3.4/033", "1.2.3.4/", "1.2.3.4/x", "1.2.3.4/8/8",
    "all", "unix:", "::1", "2001:db8::/32", "2001:db8::/129", "fe80::1%eth0",
    # ngx_inet6_addr is not RFC 4291: where it and Python's ipaddress disagree
    "1:2:3:4:5:6:7::", ":1:2:3:4:5:6:7:8", "::ffff:01.2.3.4", "::ffff:255.255.255.255",
    "::ffff:1..2.3", "1:2:3:4:5:6:7:1.2.3.4", "1::2::3", ":::", "::", "::/0128",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_address_as_nginx_reads_it(tmp_path: Path, address: str) -> None:
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but nginx is missing")
        pytest.skip("nginx is not installed")
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp {\n    server {\n        listen 127.0.0.1:8999;\n"
                    f"        location / {{ allow {address}; }}\n    }}\n}}\n")
    proc = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(conf),
                           "-e", "/dev/stderr"], capture_output=True, text=True, timeout=30)
    refused = proc.returncode != 0
    if refused:
        assert "invalid parameter" in proc.stderr, proc.stderr
    assert _address_ok(address) is not refused, proc.stderr


def test_allow_deny_order_reads_addresses_as_nginx(tmp_path: Path) -> None:
    """NG213 reads the rules with the same reader: ``010.0.0.1`` is 10.0.0.1 to nginx,
    so the ``deny`` after it never applies (review of 2026-11-30: an address Python's
    ``ipaddress`` refuses was left out of the list)."""
    import json

    from click.testing import CliRunner

    from nglint.cli import main

    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp {\n    server {\n        listen 127.0.0.1:8999;\n"
                    "        location / { allow 010.0.0.1; deny 10.0.0.1; deny all; }\n"
                    "    }\n}\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json",
                                       "--select", "NG213", str(conf)])
    findings = json.loads(result.output)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("NG213", 5)], result.output
    assert "deny 10.0.0.1 never applies" in findings[0]["message"]


@pytest.mark.parametrize(("first", "second"), [
    ("::ffff:1.2.3.4", "::ffff:01.2.3.4"),  # the embedded IPv4 as ngx_inet_addr reads it
    (":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),  # one leading colon skipped
])
def test_allow_deny_order_reads_ipv6_as_nginx(tmp_path: Path, first: str, second: str) -> None:
    """NG213 reads IPv6 as ``ngx_inet6_addr`` does: the second address is the first."""
    import json

    from click.testing import CliRunner

    from nglint.cli import main

    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp {\n    server {\n        listen 127.0.0.1:8999;\n"
                    f"        location / {{ allow {first}; deny {second}; deny all; }}\n"
                    "    }\n}\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json",
                                       "--select", "NG213", str(conf)])
    findings = json.loads(result.output)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("NG213", 5)], result.output
    assert f"deny {second} never applies" in findings[0]["message"]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_quick_readings_are_parses(address: str) -> None:
    """``readable`` and ``rules`` read a usual dotted quad in one step: for every
    address above they answer as ``parse`` (nginx's reading, pinned above) does."""
    from nglint.semantics import access
    from nglint.semantics.inherit import Value

    for directive in ("allow", "deny"):
        value = Value(directive, (address,), None)
        parsed = access.parse(value)
        assert access.rules([value]) == ([] if parsed is None else [parsed])
        assert access.readable(address) == (parsed is not None)
