"""nginx time and size values, parsed exactly as nginx parses them.

Reimplemented (not copied) from the nginx sources:

* ``src/core/ngx_parse.c``: ``ngx_parse_time(line, is_sec)``, ``ngx_parse_size(line)``
  and ``ngx_parse_offset(line)`` (the versions with the ``NGX_MAX_INT_T_VALUE`` /
  ``NGX_MAX_SIZE_T_VALUE`` / ``NGX_MAX_OFF_T_VALUE`` overflow checks, as in nginx 1.22+);
* ``src/core/ngx_conf_file.c``: ``ngx_conf_set_msec_slot`` (``ngx_parse_time(v, 0)``),
  ``ngx_conf_set_sec_slot`` (``ngx_parse_time(v, 1)``), ``ngx_conf_set_size_slot``
  (``ngx_parse_size``) and ``ngx_conf_set_off_slot`` (``ngx_parse_offset``);
* the ``ngx_command_t`` tables of the http, stream, mail, event and core modules for
  the directive sets below.

User documentation: https://nginx.org/en/docs/syntax.html

Behaviour checked against nginx 1.22.1 (``nginx -t``; values via ``Keep-Alive: timeout=``).
Limits model a 64-bit build, where ``ngx_int_t``, ``size_t`` and ``off_t`` limits are all
``2**63 - 1``.

Time syntax, as ``ngx_parse_time`` reads it:

* units ``ms s m h d w M y`` (case-sensitive); ``M`` is 30 days and ``y`` is 365 days;
* fields must come in strictly decreasing unit order (``1h30m``), each unit at most once;
  spaces may follow a unit (``"1h 30m"``);
* a trailing number without a unit counts as *seconds*, whatever came before it:
  ``30s5`` is 35 s, ``1h 30`` is 3630 s, ``5ms3`` is 3005 ms;
* a space right after a bare number also ends it as seconds, and only units smaller
  than seconds may follow then: ``"1 2"`` is 3 s, ``"1 30m"`` and ``" 5 "`` are invalid;
* a unit may stand without digits (it adds 0): ``h5`` is 5 s, but at least one digit
  must appear somewhere (``ms`` and ``""`` are invalid);
* millisecond values (``is_sec=False``) reject ``M`` and ``y``; second values
  (``is_sec=True``) reject ``ms``;
* no sign, no fraction: ``-1`` and ``1.5s`` are invalid.
"""

from __future__ import annotations

NGX_MAX_INT_T_VALUE = 2**63 - 1
# auto/types/sizeof gives the *signed* maximum for 8-byte types, for size_t too.
NGX_MAX_SIZE_T_VALUE = 2**63 - 1
NGX_MAX_OFF_T_VALUE = 2**63 - 1


class InvalidValue(ValueError):
    """A time or size value that nginx would refuse with "invalid value"."""


# Steps of ngx_parse_time, in the order fields must appear.
_ST_START, _ST_YEAR, _ST_MONTH, _ST_WEEK, _ST_DAY, _ST_HOUR, _ST_MIN, _ST_SEC = range(8)
_ST_MSEC, _ST_LAST = 8, 9

# unit letter -> (step, seconds)
_TIME_UNITS: dict[str, tuple[int, int]] = {
    "y": (_ST_YEAR, 365 * 24 * 3600),
    "M": (_ST_MONTH, 30 * 24 * 3600),
    "w": (_ST_WEEK, 7 * 24 * 3600),
    "d": (_ST_DAY, 24 * 3600),
    "h": (_ST_HOUR, 3600),
    "m": (_ST_MIN, 60),
    "s": (_ST_SEC, 1),
}


def parse_time(text: str, *, is_sec: bool = False) -> int:
    """Parse an nginx time: milliseconds when ``is_sec`` is false, else seconds."""

    def bad(why: str) -> InvalidValue:
        return InvalidValue(f'invalid time value "{text}": {why}')

    per_sec = 1 if is_sec else 1000
    step = _ST_START if is_sec else _ST_MONTH
    total = value = 0
    seen_digit = False
    i, n = 0, len(text)

    while i < n:
        ch = text[i]
        i += 1
        if "0" <= ch <= "9":
            value = value * 10 + ord(ch) - ord("0")
            if value > NGX_MAX_INT_T_VALUE:
                raise bad("number too large")
            seen_digit = True
            continue

        if ch == "m" and i < n and text[i] == "s":
            i += 1
            if is_sec:
                raise bad('"ms" is not allowed, the value is in seconds')
            if step >= _ST_MSEC:
                raise bad('"ms" out of order')
            step, scale, limit = _ST_MSEC, 1, NGX_MAX_INT_T_VALUE
        elif ch in _TIME_UNITS:
            unit_step, seconds = _TIME_UNITS[ch]
            if not is_sec and ch in "My":
                raise bad(f'"{ch}" is not allowed, the value is in milliseconds')
            if step >= unit_step:
                raise bad(f'"{ch}" out of order, units must decrease and not repeat')
            step = unit_step
            scale, limit = seconds * per_sec, NGX_MAX_INT_T_VALUE // seconds // per_sec
        elif ch == " ":
            # a space right after a number (or at the start) closes a seconds field
            if step >= _ST_SEC:
                raise bad("unexpected space")
            step, scale, limit = _ST_LAST, per_sec, NGX_MAX_INT_T_VALUE // per_sec
        else:
            raise bad(f'unknown unit "{ch}"')

        if value > limit:
            raise bad("too large")
        value *= scale
        if total > NGX_MAX_INT_T_VALUE - value:
            raise bad("too large")
        total += value
        value = 0
        while i < n and text[i] == " ":
            i += 1

    if not seen_digit:
        raise bad("no number")
    # the trailing bare number is seconds
    if value > NGX_MAX_INT_T_VALUE // per_sec:
        raise bad("too large")
    value *= per_sec
    if total > NGX_MAX_INT_T_VALUE - value:
        raise bad("too large")
    return total + value


_SIZE_UNITS = {"k": 1024, "K": 1024, "m": 1024**2, "M": 1024**2}
_OFFSET_UNITS = {**_SIZE_UNITS, "g": 1024**3, "G": 1024**3}


def _parse_bytes(text: str, units: dict[str, int], max_value: int) -> int:
    scale = units.get(text[-1:], 1)
    digits = text[:-1] if scale != 1 else text
    if not digits or not all("0" <= c <= "9" for c in digits):
        raise InvalidValue(f'invalid size value "{text}"')
    if len(digits.lstrip("0")) > 20:  # past any off_t: no int() of thousands of digits
        raise InvalidValue(f'invalid size value "{text[:30]}...": too large')
    number = int(digits)
    if number > max_value // scale:
        raise InvalidValue(f'invalid size value "{text}": too large')
    return number * scale


def parse_size(text: str) -> int:
    """Parse an nginx size (``ngx_parse_size``): digits with ``k``/``K``/``m``/``M``."""
    return _parse_bytes(text, _SIZE_UNITS, NGX_MAX_SIZE_T_VALUE)


def parse_offset(text: str) -> int:
    """Parse an nginx offset (``ngx_parse_offset``): like a size, ``g``/``G`` allowed too."""
    return _parse_bytes(text, _OFFSET_UNITS, NGX_MAX_OFF_T_VALUE)


# Units used when rendering milliseconds (weeks, months and years are left out on purpose).
_RENDER_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def format_time_ms(ms: int) -> str:
    """Render milliseconds as nginx time text, e.g. 90000 -> "1m30s", 0 -> "0"."""
    if ms < 0:
        raise ValueError(f"negative time: {ms}")
    if ms == 0:
        return "0"
    parts = []
    for unit, size in _RENDER_UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def describe_ms(ms: int) -> str:
    """Human text for a message, one unit where exact: "60s", "5m", "1d", "500ms"."""
    if ms < 0:
        raise ValueError(f"negative time: {ms}")
    if ms == 0:
        return "0s"
    if ms % 1000 == 0 and ms < 120_000:
        return f"{ms // 1000}s"
    for unit, size in _RENDER_UNITS[:-1]:
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


# Directives whose value is parsed by ngx_conf_set_msec_slot (milliseconds).  Names are
# shared between http, stream and mail where they mean the same kind of value.
TIME_MS_DIRECTIVES: frozenset[str] = frozenset(
    {
        # core / events
        "worker_shutdown_timeout",
        "timer_resolution",
        "accept_mutex_delay",
        # ngx_http_core_module
        "client_header_timeout",
        "client_body_timeout",
        "send_timeout",
        "keepalive_time",
        "keepalive_min_timeout",  # newer nginx only
        # custom handler ngx_http_core_keepalive: first argument is msec (the optional
        # second, header_timeout, is seconds); in upstream{} it is an msec slot
        "keepalive_timeout",
        "auth_delay",
        "lingering_time",
        "lingering_timeout",
        "resolver_timeout",  # http, stream and mail
        # proxy / fastcgi / uwsgi / scgi
        *(
            f"{p}_{d}"
            for p in ("proxy", "fastcgi", "uwsgi", "scgi")
            for d in (
                "connect_timeout",
                "send_timeout",
                "read_timeout",
                "next_upstream_timeout",
                "cache_lock_timeout",
                "cache_lock_age",
            )
        ),
        # grpc / memcached (no cache)
        *(
            f"{p}_{d}"
            for p in ("grpc", "memcached")
            for d in ("connect_timeout", "send_timeout", "read_timeout", "next_upstream_timeout")
        ),
        # stream (proxy_connect_timeout, proxy_next_upstream_timeout shared with http)
        "proxy_timeout",  # stream and mail
        "preread_timeout",
        "proxy_protocol_timeout",
        "ssl_handshake_timeout",
        # mail
        "timeout",
        "smtp_greeting_delay",
        "auth_http_timeout",
    }
)
# Left out: http2_idle_timeout and http2_recv_timeout, obsolete since 1.19.7 (ignored).

# Directives whose value is parsed by ngx_conf_set_sec_slot (seconds).  "expires",
# "userid_expires", "*_cache_valid" and the "inactive=" parameters also use
# ngx_parse_time(..., 1) but through custom handlers with extra syntax
# ("max", "off", "epoch", "@", "-", status codes), so they are not listed here.
TIME_SEC_DIRECTIVES: frozenset[str] = frozenset(
    {
        "open_file_cache_valid",
        "ssl_session_timeout",  # http, stream and mail
    }
)

# Directives whose value is parsed by ngx_conf_set_off_slot (ngx_parse_offset, g/G allowed).
OFFSET_DIRECTIVES: frozenset[str] = frozenset(
    {
        # "client_max_body_size 0" disables the check: unlimited; parse_offset returns 0
        "client_max_body_size",
        "directio_alignment",
        "worker_rlimit_core",
        "proxy_cache_max_range_offset",
        "fastcgi_cache_max_range_offset",
        "uwsgi_cache_max_range_offset",
        "scgi_cache_max_range_offset",
    }
)
# Left out: "directio", a custom handler taking "off" or an offset.

# Directives whose value is a size: ngx_conf_set_size_slot (parse_size) plus the
# OFFSET_DIRECTIVES (parse_offset).  "*_buffers" (ngx_conf_set_bufs_slot, "number size")
# are not single sizes and are not listed.
SIZE_DIRECTIVES: frozenset[str] = OFFSET_DIRECTIVES | frozenset(
    {
        # ngx_http_core_module
        "connection_pool_size",
        "request_pool_size",
        "client_header_buffer_size",
        "client_body_buffer_size",
        "sendfile_max_chunk",
        "subrequest_output_buffer_size",
        "read_ahead",
        "send_lowat",
        "postpone_output",
        # complex-value size slots since 1.17.0: a "$variable" is only known at run time
        "limit_rate",
        "limit_rate_after",
        # upstream modules
        *(
            f"{p}_{d}"
            for p in ("proxy", "fastcgi", "uwsgi", "scgi")
            for d in (
                "buffer_size",
                "busy_buffers_size",
                "max_temp_file_size",
                "temp_file_write_size",
                "limit_rate",
            )
        ),
        "proxy_send_lowat",
        "fastcgi_send_lowat",
        "grpc_buffer_size",
        "memcached_buffer_size",
        # other http modules
        "ssl_buffer_size",
        "gzip_min_length",
        "gzip_hash",
        "gzip_window",
        "postpone_gzipping",
        "ssi_min_file_chunk",
        "ssi_value_length",
        "mp4_buffer_size",
        "mp4_max_buffer_size",
        "slice",
        "image_filter_buffer",
        "http2_chunk_size",
        "http2_body_preread_size",
        "http2_recv_buffer_size",
        "http2_pool_size",
        "http3_stream_buffer_size",
        "quic_mtu",
        # stream (proxy_buffer_size shared with http)
        "preread_buffer_size",
        "proxy_upload_rate",
        "proxy_download_rate",
        "proxy_downstream_buffer",  # deprecated alias of proxy_buffer_size
        "proxy_upstream_buffer",  # deprecated alias of proxy_buffer_size
        # mail
        "proxy_buffer",
        "imap_client_buffer",
        "smtp_client_buffer",
    }
)
