"""Large inputs that once took quadratic time, checked without a clock (issue 19).

Each test runs the big case at a modest size and checks what is found, or counts the
work done; the time bounds themselves are measured by ``benchmarks/run.py --only
quadratic`` (never asserted here: a loaded machine must not fail the suite).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nglint.semantics import access
from nglint.semantics.inherit import Value
from tests.helpers import findings, write


def _rule(text: str) -> access.Rule:
    action, address = text.split()
    rule = access.parse(Value(action, (address,), None))
    assert rule is not None
    return rule


def _naive(found: list[access.Rule]) -> list[int | None]:
    return [next((i for i in range(index) if found[i].covers(rule)), None)
            for index, rule in enumerate(found)]


ADDRESSES = st.one_of(
    st.sampled_from(["all", "unix:", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "0.0.0.0/0",
                     "::/0", "2001:db8::/32", "2001:db8::1", "::ffff:10.1.2.3"]),
    st.builds(lambda a, p: str(ipaddress.ip_network((a, p), strict=False)),
              st.integers(0, 2**32 - 1), st.integers(0, 32)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["allow", "deny"]), ADDRESSES), max_size=30))
def test_first_covering_agrees_with_pairwise_covers(rules: list[tuple[str, str]]) -> None:
    found = [_rule(f"{action} {address}") for action, address in rules]
    assert access.first_covering(found) == _naive(found)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 32), st.lists(st.tuples(st.sampled_from(["allow", "deny"]),
                                              st.integers(0, 40)), min_size=1, max_size=30),
       st.booleans())
def test_first_covering_of_one_prefix_length(prefix: int, rules: list[tuple[str, int]],
                                             ipv6: bool) -> None:
    """Lists of one family and one prefix length (its own path: a million /32 lines)."""
    kind = ipaddress.IPv6Network if ipv6 else ipaddress.IPv4Network
    found = [_rule(f"{action} {kind((number << 20, prefix), strict=False)}")
             for action, number in rules]
    assert access.first_covering(found) == _naive(found)


def test_many_allow_rules_are_not_compared_pairwise(tmp_path: Path, monkeypatch) -> None:
    """20,000 ``allow`` lines in one location (one pair of them shadowed): NG213 finds
    exactly that pair without ever comparing two rules (it once compared every pair)."""
    calls = 0
    covers = access.Rule.covers

    def counted(self: access.Rule, other: access.Rule) -> bool:
        nonlocal calls
        calls += 1
        return covers(self, other)

    monkeypatch.setattr(access.Rule, "covers", counted)
    allows = "".join(f"allow 10.{i // 65536}.{i // 256 % 256}.{i % 256};\n"
                     for i in range(20_000))
    path = write(tmp_path, "events {}\nhttp {\n server {\n  listen 80;\n"
                 f"  location / {{\n{allows}deny 10.0.0.7;\ndeny all;\n  }}\n }}\n}}\n")
    found = findings(path, select=("NG213",))
    assert [(f.line, f.message.split(":")[0]) for f in found] == [
        (20_006, "deny 10.0.0.7 never applies")], found[:3]
    assert calls == 0


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n\r;{} ", max_size=60))
def test_line_col_agrees_with_counting_newlines(text: str) -> None:
    from nglint.source import SourceFile

    source = SourceFile.from_bytes("x.conf", text.encode("utf-8"))
    for offset in range(len(text) + 1):
        line_start = text.rfind("\n", 0, offset) + 1
        assert source.line_col(offset) == (text.count("\n", 0, offset) + 1,
                                           offset - line_start + 1)


def test_repeated_directive_in_one_block_is_one_ng011_each(tmp_path: Path) -> None:
    """5,000 ``proxy_read_timeout`` in one location: 4,999 NG011 findings, each at its
    own line and column (placing a finding once counted every newline before it)."""
    repeated = "    proxy_read_timeout 60s;\n" * 5_000
    path = write(tmp_path, "events {}\nhttp {\n server {\n  listen 80;\n  location / {\n"
                 f"{repeated}  }}\n }}\n}}\n")
    found = findings(path, select=("NG011",))
    assert [(f.line, f.column) for f in found] == [(line, 5) for line in range(7, 5_006)]
    assert all(f.message.startswith('"proxy_read_timeout" directive is duplicate: '
                                    f"already set at {path}:6") for f in found)


_OCTET = st.one_of(st.integers(0, 300).map(str),
                   st.sampled_from(["", "00", "01", "010", "0255", "255", "256", "0000000001"]))


def _ngx_ptocidr(text: str) -> tuple[int, int, int] | None:
    """A port of nginx's reading, as the reference: ngx_ptocidr over ngx_inet_addr and
    ngx_atoi (src/core/ngx_inet.c, src/core/ngx_string.c) for IPv4; IPv6 as
    ``ipaddress`` reads it without a scope id, which agrees with ngx_inet6_addr on the
    forms generated here (the forms where they differ are pinned against ``nginx -t``
    in tests/test_access_address_nginx.py)."""
    head, slash, length = text.partition("/")
    if ":" in head:
        if "%" in text:
            return None
        try:
            network = ipaddress.IPv6Network(text, strict=False)
        except ValueError:
            return None
        return 6, int(network.network_address), network.prefixlen
    address = octet = dots = 0
    for byte in head.encode("utf-8", "surrogateescape"):
        if 0x30 <= byte <= 0x39:
            octet = octet * 10 + byte - 0x30
            if octet > 255:
                return None
        elif byte == 0x2E:
            address, octet, dots = (address << 8) + octet, 0, dots + 1
        else:
            return None
    if dots != 3:
        return None
    address = (address << 8) + octet
    if address == 0xFFFFFFFF:  # INADDR_NONE: ngx_ptocidr takes it for an error
        return None
    prefix = 32
    if slash:
        if not length or not all(0x30 <= ord(c) <= 0x39 for c in length):
            return None  # ngx_atoi
        prefix = int(length)
        if prefix > 32:
            return None
    return 4, address & (((1 << prefix) - 1) << (32 - prefix)), prefix


@settings(max_examples=600, deadline=None)
@given(st.one_of(
    st.tuples(_OCTET, _OCTET, _OCTET, _OCTET,
              st.one_of(st.none(), st.integers(0, 40).map(str), st.sampled_from(
                  ["08", "032", "0000032", "033", "", "255.255.0.0", "x", "+1"]))).map(
        lambda p: ".".join(p[:4]) + ("" if p[4] is None else "/" + p[4])),
    st.ip_addresses().map(str),
    st.tuples(st.ip_addresses(v=6).map(str), st.integers(0, 130)).map(lambda p: f"{p[0]}/{p[1]}"),
    # what inet_pton, ipaddress and nginx might read differently
    st.sampled_from(["1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\x00", "1.2.3.4/",
                     "\u0661.2.3.4", "1.2.3.4/\u0663", "1.2.3.4/1/2", "0x1.2.3.4", "1..2.3",
                     "...", "::ffff:1.2.3.4", "1.2.3.4%eth0", "fe80::1%eth0", "localhost",
                     "255.255.255.255", "255.255.255.255/8"]),
))
def test_address_read_as_nginx_reads_it(address: str) -> None:
    """``access._ip`` (its ``inet_pton`` fast path and its regular expression) reads
    exactly what nginx's ngx_ptocidr reads, to the same network."""
    expected = _ngx_ptocidr(address)
    assert access._ip(address) == expected
    rule = access.parse(Value("allow", (address,), None))
    if expected is None:
        assert rule is None
    else:
        assert rule is not None and (rule.version, rule.address, rule.prefix) == expected


@st.composite
def _edits(draw: st.DrawFn) -> list:
    """Edits of one text that do not overlap (what ``apply`` takes), in any order:
    insertions (several at one point too) and replacements."""
    from nglint.edits import Edit

    points = sorted(draw(st.lists(st.integers(0, 200), max_size=12)))
    found, at = [], 0
    for point in points:
        if point < at:
            continue
        end = draw(st.sampled_from([point, point, min(point + draw(st.integers(1, 9)), 200)]))
        found.append(Edit("f", point, end, draw(st.text("ab\n", max_size=6))))
        at = end if end > point else point
    return draw(st.permutations(found))


@settings(max_examples=300, deadline=None)
@given(_edits(), st.lists(st.integers(0, 210), min_size=1, max_size=20))
def test_shifter_moves_offsets_as_the_loop_does(edits: list, offsets: list[int]) -> None:
    """``edits.shifter`` (bisect over the edits, for the fix log of thousands of fixes)
    moves every offset where ``edits.shifted`` (a loop over every edit) does."""
    from nglint.edits import shifted, shifter

    move = shifter(edits)
    assert [move(offset) for offset in offsets] == [shifted(offset, edits)
                                                    for offset in offsets]


def test_fix_log_of_many_fixes_in_one_file(tmp_path: Path) -> None:
    """Two thousand fixes in one file (400 Jupyter servers, five fixes each): the fix
    log gives every fixed finding its place in the file as written, where each later
    server has moved down by the lines the fixes above it inserted (the positions go
    through one ``edits.shifter`` per round and one line index per file)."""
    import re
    import subprocess
    import sys

    servers = 400
    body = "".join(f"  server {{\n    listen 80;\n    server_name j{i}.example.com;\n"
                   "    location / {\n        proxy_pass http://127.0.0.1:8888;\n    }\n  }\n"
                   for i in range(servers))
    conf = write(tmp_path, "events {}\nhttp {\n" + body + "}\n")
    done = subprocess.run([sys.executable, "-m", "nglint", "check", "--no-cache", "--fix",
                           str(conf)], capture_output=True, text=True, check=False)
    fixed = re.findall(r"^fixed \S+:(\d+):(\d+): (NG\d+)", done.stderr, re.MULTILINE)
    assert len(fixed) == 5 * servers, done.stdout[-2000:] + done.stderr
    lines = conf.read_text().splitlines()
    places = sorted({(int(line), int(column)) for line, column, _ in fixed})
    assert len(places) == servers
    for line, column in places:
        assert lines[line - 1][column - 1:].startswith("location / {"), (line, column)
