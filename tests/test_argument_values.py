"""NG008's keyword arguments and NG011's values taken once: each bad line of the
fixtures is reported on its own line, and the good fixtures stay silent."""

from __future__ import annotations

import pytest

from tests.helpers import FIXTURES, findings

KEYWORDS = FIXTURES / "rules" / "invalid-arguments" / "keywords.conf"
VALUES = FIXTURES / "rules" / "duplicate-directive" / "values.conf"


def _lines(path, code: str) -> dict[int, str]:
    return {f.line: f.message for f in findings(path) if f.code == code}


@pytest.mark.parametrize(("needle", "message"), [
    ("error_log stderr always", 'invalid log level "always"'),
    ("listen ssl", 'the address of "listen" is missing'),
    ("TLSv1.4", 'invalid value "TLSv1.4" in "ssl_protocols"'),
    ("gzip_static yes", 'invalid value "yes" in "gzip_static"'),
    ("expires 7d http2", 'only "modified" may come first'),
    ("public sometimes", 'invalid parameter "sometimes" in "add_header"'),
    ("SCRIPT_FILENAME on", 'invalid parameter "$document_root$fastcgi_script_name"'),
    ("deny ON", 'invalid parameter "ON" in "deny"'),
    ("limit_req 1", 'invalid parameter "1" in "limit_req"'),
    ("http_418", 'invalid value "http_418" in "proxy_next_upstream"'),
    ("fastcgi_pass 127.0.0.1", 'no port in upstream "127.0.0.1"'),
])
def test_each_bad_keyword_is_reported_on_its_line(needle: str, message: str) -> None:
    line = next(i for i, text in enumerate(KEYWORDS.read_text().splitlines(), 1)
                if needle in text)
    found = _lines(KEYWORDS, "NG008")
    assert line in found, f"no NG008 on line {line} ({needle}): {found}"
    assert message in found[line]


@pytest.mark.parametrize(("line", "message"), [
    (4, 'duplicate "log_format" name "main"'),
    (5, 'duplicate "log_format" name "combined" (nginx predefines it)'),
    (7, 'limit_req_zone "one" is already declared'),
    (8, 'the shared memory zone "one" is already declared for a different use'),
    (11, "a duplicate listen 0.0.0.0:8081"),
    (13, "a duplicate listen [::]:8081"),
    (19, "a duplicate default server for 0.0.0.0:80"),
])
def test_each_value_taken_once_is_reported(line: int, message: str) -> None:
    found = _lines(VALUES, "NG011")
    assert line in found, f"no NG011 on line {line}: {found}"
    assert message in found[line]
    assert set(found) == {4, 5, 7, 8, 11, 13, 19}  # and nothing else


def test_a_port_less_upstream_is_not_judged_in_a_fragment(tmp_path) -> None:
    """A site file linted alone: its upstream block may live in the main config."""
    site = tmp_path / "site.conf"
    site.write_text("server {\n    listen 80;\n    location / {\n        fastcgi_pass php;\n"
                    "    }\n}\n")
    assert not [f for f in findings(site) if f.code == "NG008"]
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp {\n    include site.conf;\n}\n")
    found = [f for f in findings(main) if f.code == "NG008"]
    assert [f.message.split(":")[0] for f in found] == ['no port in upstream "php"']


@pytest.mark.parametrize(("http", "server", "expected"), [
    ("", "", 'no "ssl_certificate" is defined for the "listen ... ssl" directive'),
    ("ssl_certificate /c.pem;", "", 'no "ssl_certificate_key" is defined for certificate '
                                    '"/c.pem"'),
    ("ssl_certificate /c.pem; ssl_certificate_key /c.key;", "", None),
    ("", "ssl_certificate /c.pem; ssl_certificate_key /c.key;", None),
    ("ssl_certificate_key /c.key;", "ssl_certificate /a.pem; ssl_certificate /b.pem;",
     'no "ssl_certificate_key" is defined for certificate "/b.pem"'),
    ("", "ssl_reject_handshake on;", None),
    ("ssl_reject_handshake on;", "", None),
])
def test_an_ssl_listen_needs_a_certificate_in_force(tmp_path, http: str, server: str,
                                                     expected: str | None) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"events {{}}\nhttp {{\n    {http}\n    server {{\n        listen 443 ssl;"
                    f"\n        {server}\n    }}\n}}\n")
    found = [f for f in findings(conf) if f.code == "NG008"]
    if expected is None:
        assert not found, [f.message for f in found]
    else:
        assert [f.line for f in found] == [5]
        assert expected in found[0].message


def test_an_ssl_listen_is_not_judged_in_a_fragment(tmp_path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server {\n    listen 443 ssl;\n}\n")
    assert not [f for f in findings(site) if f.code == "NG008"]


@pytest.mark.parametrize(("location", "message"), [
    ("~~ /x", 'location: invalid location modifier "~~"'),
    ("@x /y", 'location: invalid location modifier "@x"'),
])
def test_a_bad_location_is_reported(tmp_path, location: str, message: str) -> None:
    """_value_problems reads location (its modifier), not only the directives of its
    value tables (VALUES_PARSED)."""
    site = tmp_path / "nginx.conf"
    site.write_text("events {}\nhttp {\n    server {\n        location " + location
                    + " {\n            return 404;\n        }\n    }\n}\n")
    found = [f.message for f in findings(site) if f.code == "NG008"]
    assert any(message in text for text in found), found
