"""nginx time and size values: tables derived from src/core/ngx_parse.c.

Every row was also checked against nginx 1.22.1 with ``nginx -t``
(proxy_read_timeout for msec, ssl_session_timeout for sec, client_max_body_size for
offsets, sendfile_max_chunk for sizes); ``test_agrees_with_real_nginx`` repeats that
check where an nginx binary is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nglint.semantics.values import (
    OFFSET_DIRECTIVES,
    SIZE_DIRECTIVES,
    TIME_MS_DIRECTIVES,
    TIME_SEC_DIRECTIVES,
    InvalidValue,
    describe_ms,
    format_time_ms,
    parse_offset,
    parse_size,
    parse_time,
)

MAX = 2**63 - 1
S, MIN, H, D, W = 1, 60, 3600, 86400, 7 * 86400
MON, Y = 30 * D, 365 * D

# (text, is_sec, expected): ms when is_sec is False, seconds when True
TIME_OK = [
    ("0", False, 0),
    ("0", True, 0),
    ("1", False, 1000),
    ("60", True, 60),
    ("60s", False, 60_000),
    ("500ms", False, 500),
    ("1m", False, 60_000),
    ("1h30m", False, 5_400_000),
    ("1h 30m", False, 5_400_000),
    ("1h  30m  ", False, 5_400_000),
    ("1d", False, 86_400_000),
    ("1w", False, 7 * 86_400_000),
    ("1w 1d", False, 8 * 86_400_000),
    ("1y", True, Y),
    ("1M", True, MON),
    ("1y 1M 1w 1d 1h 1m 1s", True, Y + MON + W + D + H + MIN + S),
    ("1m1ms", False, 60_001),
    ("1s500ms", False, 1500),
    ("007s", False, 7000),
    # a trailing bare number is seconds, whatever unit came before it
    ("30s5", False, 35_000),
    ("30s5", True, 35),
    ("1h 30", True, 3630),
    ("1h 30 ", False, 3_630_000),
    ("1m1", True, 61),
    ("5ms3", False, 3005),
    ("1h5m3", False, 3_903_000),
    # a space after a bare number closes a seconds field; smaller units may follow
    ("1 2", False, 3000),
    ("5 ", False, 5000),
    (" 5", True, 5),
    ("1M 1", True, MON + 1),
    # a unit without digits adds 0, as long as some digit appears
    ("h5", True, 5),
    ("1hm", True, 3600),
    ("s5", False, 5000),
    ("ms5", False, 5000),
    # overflow limits (64-bit ngx_int_t)
    ("9223372036854775807ms", False, MAX),
    ("9223372036854775807", True, MAX),
    ("9223372036854775", False, 9_223_372_036_854_775_000),
    ("9223372036854775s1ms", False, 9_223_372_036_854_775_001),
    ("106751991167d", False, 106_751_991_167 * 86_400_000),
    ("2562047788015h", False, 2_562_047_788_015 * 3_600_000),
    ("153722867280912m", False, 153_722_867_280_912 * 60_000),
    ("15250284452w", False, 15_250_284_452 * W * 1000),
    ("292471208677y", True, 292_471_208_677 * Y),
]

TIME_BAD = [
    ("", False),
    ("", True),
    ("ms", False),
    ("s", True),
    (" ", False),
    ("5x", False),
    ("5S", True),
    ("1D", True),
    ("1.5s", False),
    ("-1", False),
    ("+1", False),
    ("1m1h", False),  # increasing order
    ("1d1w", False),
    ("1M1y", True),
    ("1s1s", False),  # same unit twice
    ("1y1y", True),
    ("5ms5ms", False),
    ("1ms1s", False),
    ("5ms", True),  # ms in a seconds value
    ("1M", False),  # months in a milliseconds value
    ("1y", False),
    ("1 2 3", False),
    ("1 30m", False),
    (" 5s", False),
    (" 5 ", True),
    ("1h\t30m", False),
    ("9223372036854775808ms", False),
    ("9223372036854775808", True),
    ("9223372036854776", False),
    ("9223372036854775806ms1", False),
    ("106751991168d", False),
    ("2562047788016h", False),
    ("153722867280913m", False),
    ("15250284453w", False),
    ("292471208678y", True),
    ("99999999999999999999999", True),
]

SIZE_OK = [
    ("0", 0),
    ("1", 1),
    ("10k", 10 * 1024),
    ("10K", 10 * 1024),
    ("1m", 1024**2),
    ("1M", 1024**2),
    ("01k", 1024),
    ("9223372036854775807", MAX),
    ("9007199254740991k", 9_007_199_254_740_991 * 1024),
    ("8796093022207m", 8_796_093_022_207 * 1024**2),
]

SIZE_BAD = [
    "",
    "k",
    "1g",
    "1G",
    "1.5m",
    "-1",
    " 1k",
    "1k ",
    "1kk",
    "1b",
    "9223372036854775808",
    "9007199254740992k",
    "8796093022208m",
]

OFFSET_OK = [
    *SIZE_OK,
    ("1g", 1024**3),
    ("1G", 1024**3),
    ("8589934591g", 8_589_934_591 * 1024**3),
]

OFFSET_BAD = [v for v in SIZE_BAD if v not in ("1g", "1G")] + ["8589934592g", "1t"]


@pytest.mark.parametrize(("text", "is_sec", "expected"), TIME_OK)
def test_time_accepted(text, is_sec, expected):
    assert parse_time(text, is_sec=is_sec) == expected


@pytest.mark.parametrize(("text", "is_sec"), TIME_BAD)
def test_time_rejected(text, is_sec):
    with pytest.raises(InvalidValue, match=re.escape(f'invalid time value "{text}"')):
        parse_time(text, is_sec=is_sec)


def test_invalid_value_is_value_error():
    assert issubclass(InvalidValue, ValueError)
    with pytest.raises(ValueError, match="out of order"):
        parse_time("1m1h")


@pytest.mark.parametrize(("text", "expected"), SIZE_OK)
def test_size_accepted(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", SIZE_BAD)
def test_size_rejected(text):
    with pytest.raises(InvalidValue, match="invalid size value"):
        parse_size(text)


@pytest.mark.parametrize(("text", "expected"), OFFSET_OK)
def test_offset_accepted(text, expected):
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", OFFSET_BAD)
def test_offset_rejected(text):
    with pytest.raises(InvalidValue, match="invalid size value"):
        parse_offset(text)


def test_client_max_body_size_zero_is_unlimited():
    assert "client_max_body_size" in OFFSET_DIRECTIVES
    assert parse_offset("0") == 0


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0"),
        (1, "1ms"),
        (1500, "1s500ms"),
        (60_000, "1m"),
        (90_000, "1m30s"),
        (3_600_000, "1h"),
        (86_400_000, "1d"),
        (7 * 86_400_000, "7d"),
        (90_061_001, "1d1h1m1s1ms"),
    ],
)
def test_format_time_ms(ms, text):
    assert format_time_ms(ms) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (500, "500ms"),
        (1500, "1500ms"),
        (5000, "5s"),
        (60_000, "60s"),
        (75_000, "75s"),
        (150_000, "150s"),
        (300_000, "5m"),
        (3_600_000, "1h"),
        (86_400_000, "1d"),
    ],
)
def test_describe_ms(ms, text):
    assert describe_ms(ms) == text


def test_negative_times_cannot_be_rendered():
    with pytest.raises(ValueError, match="negative"):
        format_time_ms(-1)
    with pytest.raises(ValueError, match="negative"):
        describe_ms(-1)


def test_directive_sets():
    for name in (
        "proxy_read_timeout",
        "proxy_cache_lock_age",
        "keepalive_timeout",
        "uwsgi_send_timeout",
        "grpc_connect_timeout",
        "resolver_timeout",
        "lingering_time",
    ):
        assert name in TIME_MS_DIRECTIVES
    assert {"ssl_session_timeout", "open_file_cache_valid"} <= TIME_SEC_DIRECTIVES
    assert {"client_max_body_size", "proxy_buffer_size", "client_body_buffer_size"} <= (
        SIZE_DIRECTIVES
    )
    assert OFFSET_DIRECTIVES <= SIZE_DIRECTIVES
    assert "proxy_buffer_size" not in OFFSET_DIRECTIVES
    assert not TIME_MS_DIRECTIVES & TIME_SEC_DIRECTIVES
    assert not (TIME_MS_DIRECTIVES | TIME_SEC_DIRECTIVES) & SIZE_DIRECTIVES
    # custom handlers with extra syntax are not plain time values
    assert "expires" not in TIME_SEC_DIRECTIVES


@given(st.integers(min_value=0, max_value=10**12))
def test_format_round_trips(ms):
    assert parse_time(format_time_ms(ms)) == ms
    assert parse_time(describe_ms(ms)) == ms


MS_UNITS = [("w", W * 1000), ("d", D * 1000), ("h", H * 1000), ("m", MIN * 1000)]
MS_UNITS += [("s", 1000), ("ms", 1)]
SEC_UNITS = [("y", Y), ("M", MON), ("w", W), ("d", D), ("h", H), ("m", MIN), ("s", S)]


@st.composite
def time_fields(draw, units):
    chosen = draw(st.lists(st.sampled_from(range(len(units))), unique=True, min_size=1))
    fields = [(units[i][0], draw(st.integers(0, 10**6)), units[i][1]) for i in sorted(chosen)]
    sep = draw(st.sampled_from(["", " ", "  "]))
    text = sep.join(f"{n}{unit}" for unit, n, _ in fields)
    return text, sum(n * size for _, n, size in fields)


@given(time_fields(MS_UNITS), st.one_of(st.none(), st.integers(0, 10**6)))
def test_decreasing_units_sum_ms(field, trailing):
    text, expected = field
    if trailing is not None:  # a bare trailing number always counts as seconds
        text, expected = f"{text}{trailing}", expected + trailing * 1000
    assert parse_time(text) == expected


@given(time_fields(SEC_UNITS))
def test_decreasing_units_sum_sec(field):
    text, expected = field
    assert parse_time(text, is_sec=True) == expected


@given(st.integers(0, 2**40), st.sampled_from([("", 1), ("k", 1024), ("M", 1024**2)]))
def test_size_units(n, unit):
    suffix, scale = unit
    assert parse_size(f"{n}{suffix}") == n * scale
    assert parse_offset(f"{n}{suffix}") == n * scale


# --- oracle: the real nginx, where one is installed ---------------------------------

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def _nginx_version() -> tuple[int, ...]:
    if not NGINX:
        return ()
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=False).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in found.groups()) if found else ()


def _nginx_accepts(tmp_path, directive, value, where):
    body = f'{directive} "{value}";'
    if where == "location":
        body = f"server {{ listen 127.0.0.1:18999; location / {{ {body} }} }}"
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"events {{}}\nhttp {{ {body} }}\n")
    globals_ = f"error_log stderr; pid {tmp_path}/nginx.pid;"
    run = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(conf), "-g", globals_],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode == 0


ORACLE_CASES = (
    [("proxy_read_timeout", "location", t) for t, s, *_ in TIME_OK + TIME_BAD if not s]
    + [("ssl_session_timeout", "http", t) for t, s, *_ in TIME_OK + TIME_BAD if s]
    + [("sendfile_max_chunk", "location", t) for t, *_ in SIZE_OK]
    + [("sendfile_max_chunk", "location", t) for t in SIZE_BAD]
    + [("client_max_body_size", "location", t) for t, *_ in OFFSET_OK]
    + [("client_max_body_size", "location", t) for t in OFFSET_BAD]
)


@pytest.mark.skipif(_nginx_version() < (1, 22), reason="needs nginx >= 1.22 installed")
@pytest.mark.parametrize(("directive", "where", "value"), ORACLE_CASES)
def test_agrees_with_real_nginx(tmp_path, directive, where, value):
    if directive in TIME_MS_DIRECTIVES:
        parse = parse_time
    elif directive in TIME_SEC_DIRECTIVES:

        def parse(text):
            return parse_time(text, is_sec=True)

    else:
        parse = parse_offset if directive in OFFSET_DIRECTIVES else parse_size
    try:
        parse(value)
        ours = True
    except InvalidValue:
        ours = False
    assert _nginx_accepts(tmp_path, directive, value, where) == ours
