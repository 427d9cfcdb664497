#!/usr/bin/env python3
"""Build ``nglint/data/directives.json``: nginx's directives by context, arguments and version.

Where each fact comes from (recorded per entry in its ``source`` field):

``probe``
    The installed nginx binary (Debian's 1.22.1 with every ``libnginx-mod-*``
    package loaded) answers ``nginx -t`` on one tiny configuration per
    question.  nginx's ``ngx_conf_handler`` (``src/core/ngx_conf_file.c``)
    checks, in this order, that the name is known (``unknown directive``), that
    the block type allows it (``"x" directive is not allowed here``), that it
    has or lacks a block (``has no opening "{"`` / ``is not terminated by ";"``)
    and that its argument count matches its ``NGX_CONF_TAKE*`` / ``FLAG`` /
    ``1MORE`` / ``2MORE`` / ``ANY`` flags (``invalid number of arguments``).
    So one probe per (name, context) gives the ``NGX_*_CONF`` context flags and
    one probe per argument count gives the argument mask, exactly as compiled.
    A single argument ``bogus`` tells ``ngx_conf_set_flag_slot`` directives
    (``it must be "on" or "off"``); a valid statement written twice tells the
    ones nginx refuses to see twice (``is duplicate``); warnings tell deprecated
    and obsolete ones.  Candidate names are crossplane's table, the strings of
    the binary and of every module, and the curated entries below.
``crossplane``
    crossplane's analyzer table (about nginx 1.17, including NGINX Plus-only
    directives): kept for names the binary does not know, marked ``plus`` when
    they are commercial-only, ``removed`` when they are known to be gone.
``curated``
    Directives added after the installed version, and versions ("added",
    "removed", "deprecated") taken from nginx's CHANGES and the "This directive
    appeared in version" lines of https://nginx.org/en/docs/ (module pages and
    https://nginx.org/en/docs/dirindex.html).

Run where nginx and the modules are installed (``apt-get install nginx
libnginx-mod-*``)::

    python tools/build_directives.py            # probe, merge, write the JSON
    python tools/build_directives.py --check    # exit 1 when the JSON is stale

The output is facts (names, flags, versions), not nginx source text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "nglint" / "data" / "directives.json"

# --------------------------------------------------------------------------- contexts

# context name -> (configuration template, the block family nginx checks)
# "{D}" is replaced by the probed statement; it is always alone on its line.
CONTEXTS: dict[str, str] = {
    "main": "{D}\nevents {{}}\n",
    "events": "events {{\n{D}\n}}\n",
    "http": "events {{}}\nhttp {{\n{D}\n}}\n",
    "server": "events {{}}\nhttp {{\nserver {{\n{D}\n}}\n}}\n",
    "location": "events {{}}\nhttp {{\nserver {{\nlocation / {{\n{D}\n}}\n}}\n}}\n",
    "if_in_server": "events {{}}\nhttp {{\nserver {{\nif ($uri) {{\n{D}\n}}\n}}\n}}\n",
    "if_in_location": "events {{}}\nhttp {{\nserver {{\nlocation / {{\nif ($uri) {{\n{D}\n}}\n}}\n}}\n}}\n",  # noqa: E501
    "limit_except": "events {{}}\nhttp {{\nserver {{\nlocation / {{\nlimit_except GET {{\n{D}\n}}\n}}\n}}\n}}\n",  # noqa: E501
    "upstream": "events {{}}\nhttp {{\nupstream u {{\n{D}\nserver 127.0.0.1:9;\n}}\n}}\n",
    "stream": "events {{}}\nstream {{\n{D}\n}}\n",
    "stream_server": "events {{}}\nstream {{\nserver {{\n{D}\n}}\n}}\n",
    "stream_upstream": "events {{}}\nstream {{\nupstream u {{\n{D}\nserver 127.0.0.1:9;\n}}\n}}\n",
    "mail": "events {{}}\nmail {{\n{D}\n}}\n",
    "mail_server": "events {{}}\nmail {{\nserver {{\n{D}\n}}\n}}\n",
}

# crossplane's context bits -> nglint context names
CROSSPLANE_CONTEXTS = {
    0x00040000: ["main"], 0x00080000: ["events"], 0x00100000: ["mail"],
    0x00200000: ["mail_server"], 0x00400000: ["stream"], 0x00800000: ["stream_server"],
    0x01000000: ["stream_upstream"], 0x02000000: ["http"], 0x04000000: ["server"],
    0x08000000: ["location"], 0x10000000: ["upstream"], 0x20000000: ["if_in_server"],
    0x40000000: ["if_in_location"], 0x80000000: ["limit_except"],
}
ARG_BITS = {
    "NGX_CONF_NOARGS": 0x1, "NGX_CONF_TAKE1": 0x2, "NGX_CONF_TAKE2": 0x4,
    "NGX_CONF_TAKE3": 0x8, "NGX_CONF_TAKE4": 0x10, "NGX_CONF_TAKE5": 0x20,
    "NGX_CONF_TAKE6": 0x40, "NGX_CONF_TAKE7": 0x80, "NGX_CONF_BLOCK": 0x100,
    "NGX_CONF_FLAG": 0x200, "NGX_CONF_ANY": 0x400, "NGX_CONF_1MORE": 0x800,
    "NGX_CONF_2MORE": 0x1000,
}
TAKE = ["NGX_CONF_NOARGS", "NGX_CONF_TAKE1", "NGX_CONF_TAKE2", "NGX_CONF_TAKE3",
        "NGX_CONF_TAKE4", "NGX_CONF_TAKE5", "NGX_CONF_TAKE6", "NGX_CONF_TAKE7"]

# --------------------------------------------------------------------------- curated facts

# Official directives added after the probed binary, from nginx's CHANGES and
# the module pages' "This directive appeared in version ..." lines.
H = ["http", "server"]
HSL = ["http", "server", "location"]
HSLI = ["http", "server", "location", "if_in_location"]
CURATED: list[dict] = [
    # 1.25.0: HTTP/3 (ngx_http_v3_module) and QUIC
    {"name": "http3", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_FLAG"], "added": "1.25.0"},
    {"name": "http3_hq", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_FLAG"], "added": "1.25.0"},
    {"name": "http3_max_concurrent_streams", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_TAKE1"], "added": "1.25.0"},
    {"name": "http3_stream_buffer_size", "module": "ngx_http_v3_module", "contexts": HSL,
     "args": ["NGX_CONF_TAKE1"], "added": "1.25.0"},
    {"name": "quic_active_connection_id_limit", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_TAKE1"], "added": "1.25.0"},
    {"name": "quic_bpf", "module": "ngx_core_module", "contexts": ["main"],
     "args": ["NGX_CONF_FLAG"], "added": "1.25.0"},
    {"name": "quic_gso", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_FLAG"], "added": "1.25.0"},
    {"name": "quic_host_key", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_TAKE1"], "added": "1.25.0"},
    {"name": "quic_retry", "module": "ngx_http_v3_module", "contexts": H,
     "args": ["NGX_CONF_FLAG"], "added": "1.25.0"},
    # 1.25.1: per-server HTTP/2
    {"name": "http2", "module": "ngx_http_v2_module", "contexts": H,
     "args": ["NGX_CONF_FLAG"], "added": "1.25.1"},
    # 1.25.5: stream virtual servers and ngx_stream_pass_module
    {"name": "pass", "module": "ngx_stream_pass_module", "contexts": ["stream_server"],
     "args": ["NGX_CONF_TAKE1"], "added": "1.25.5"},
    {"name": "server_name", "module": "ngx_stream_core_module", "contexts": ["stream_server"],
     "args": ["NGX_CONF_1MORE"], "added": "1.25.5"},
    {"name": "server_names_hash_max_size", "module": "ngx_stream_core_module",
     "contexts": ["stream"], "args": ["NGX_CONF_TAKE1"], "added": "1.25.5"},
    {"name": "server_names_hash_bucket_size", "module": "ngx_stream_core_module",
     "contexts": ["stream"], "args": ["NGX_CONF_TAKE1"], "added": "1.25.5"},
    # 1.27.3: re-resolvable servers in upstream blocks
    {"name": "resolver", "module": "ngx_http_upstream_module", "contexts": ["upstream"],
     "args": ["NGX_CONF_1MORE"], "added": "1.27.3"},
    {"name": "resolver_timeout", "module": "ngx_http_upstream_module", "contexts": ["upstream"],
     "args": ["NGX_CONF_TAKE1"], "added": "1.27.3"},
    {"name": "resolver", "module": "ngx_stream_upstream_module",
     "contexts": ["stream_upstream"], "args": ["NGX_CONF_1MORE"], "added": "1.27.3"},
    {"name": "resolver_timeout", "module": "ngx_stream_upstream_module",
     "contexts": ["stream_upstream"], "args": ["NGX_CONF_TAKE1"], "added": "1.27.3"},
    # 1.27.4: certificate caches, keepalive_min_timeout
    {"name": "ssl_object_cache_inheritable", "module": "ngx_core_module", "contexts": ["main"],
     "args": ["NGX_CONF_FLAG"], "added": "1.27.4"},
    {"name": "ssl_certificate_cache", "module": "ngx_http_ssl_module", "contexts": H,
     "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2", "NGX_CONF_TAKE3"], "added": "1.27.4"},
    {"name": "proxy_ssl_certificate_cache", "module": "ngx_http_proxy_module", "contexts": HSL,
     "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2", "NGX_CONF_TAKE3"], "added": "1.27.4"},
    {"name": "grpc_ssl_certificate_cache", "module": "ngx_http_grpc_module", "contexts": HSL,
     "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2", "NGX_CONF_TAKE3"], "added": "1.27.4"},
    {"name": "uwsgi_ssl_certificate_cache", "module": "ngx_http_uwsgi_module", "contexts": HSL,
     "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2", "NGX_CONF_TAKE3"], "added": "1.27.4"},
    {"name": "proxy_ssl_certificate_cache", "module": "ngx_stream_proxy_module",
     "contexts": ["stream", "stream_server"],
     "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2", "NGX_CONF_TAKE3"], "added": "1.27.4"},
    {"name": "keepalive_min_timeout", "module": "ngx_http_core_module", "contexts": HSL,
     "args": ["NGX_CONF_TAKE1"], "added": "1.27.4"},
    # 1.29.x
    {"name": "early_hints", "module": "ngx_http_core_module", "contexts": HSL,
     "args": ["NGX_CONF_1MORE"], "added": "1.29.0"},
    {"name": "ssl_certificate_compression", "module": "ngx_http_ssl_module", "contexts": H,
     "args": ["NGX_CONF_FLAG"], "added": "1.29.1"},
    {"name": "add_header_inherit", "module": "ngx_http_headers_module", "contexts": HSLI,
     "args": ["NGX_CONF_TAKE1"], "added": "1.29.3"},
    {"name": "add_trailer_inherit", "module": "ngx_http_headers_module", "contexts": HSLI,
     "args": ["NGX_CONF_TAKE1"], "added": "1.29.3"},
    {"name": "ssl_ech_file", "module": "ngx_http_ssl_module", "contexts": H,
     "args": ["NGX_CONF_TAKE1"], "added": "1.29.4"},
    {"name": "sticky", "module": "ngx_http_upstream_sticky_module", "contexts": ["upstream"],
     "args": ["NGX_CONF_1MORE"], "added": "1.29.6"},
    # 1.31.x: the ngx_command_t entries new in nginx's source at release-1.31.0 and
    # release-1.31.3 (none new in 1.29.7, 1.29.8 but max_headers, probed above, 1.31.1/2/4)
    {"name": "least_time", "module": "ngx_http_upstream_least_time_module",
     "contexts": ["upstream"], "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2"], "added": "1.31.0"},
    {"name": "least_time", "module": "ngx_stream_upstream_least_time_module",
     "contexts": ["stream_upstream"], "args": ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2"],
     "added": "1.31.0"},
    {"name": "proxy_ssl_alpn", "module": "ngx_stream_proxy_module",
     "contexts": ["stream", "stream_server"], "args": ["NGX_CONF_1MORE"], "added": "1.31.0"},
    *({"name": f"tunnel_{name}", "module": "ngx_http_tunnel_module", "contexts": HSL,
       "args": args, "added": "1.31.0"} for name, args in (
        ("bind", ["NGX_CONF_TAKE1", "NGX_CONF_TAKE2"]), ("buffer_size", ["NGX_CONF_TAKE1"]),
        ("connect_timeout", ["NGX_CONF_TAKE1"]), ("next_upstream", ["NGX_CONF_1MORE"]),
        ("next_upstream_timeout", ["NGX_CONF_TAKE1"]),
        ("next_upstream_tries", ["NGX_CONF_TAKE1"]), ("read_timeout", ["NGX_CONF_TAKE1"]),
        ("send_lowat", ["NGX_CONF_TAKE1"]), ("send_timeout", ["NGX_CONF_TAKE1"]),
        ("socket_keepalive", ["NGX_CONF_FLAG"]))),
    {"name": "tunnel_pass", "module": "ngx_http_tunnel_module",
     "contexts": ["server", "location", "if_in_location"],
     "args": ["NGX_CONF_NOARGS", "NGX_CONF_TAKE1"], "added": "1.31.0"},
    *({"name": f"{kind}_socket_{buffer}", "module": f"ngx_http_{kind}_module", "contexts": HSL,
       "args": ["NGX_CONF_TAKE1"], "added": "1.31.3"}
      for kind in ("proxy", "fastcgi", "grpc", "scgi", "uwsgi", "tunnel")
      for buffer in ("sndbuf", "rcvbuf")),
    *({"name": f"proxy_socket_{buffer}", "module": "ngx_stream_proxy_module",
       "contexts": ["stream", "stream_server"], "args": ["NGX_CONF_TAKE1"], "added": "1.31.3"}
      for buffer in ("sndbuf", "rcvbuf")),
    {"name": "xml_external_entities", "module": "ngx_http_xslt_filter_module", "contexts": HSL,
     "args": ["NGX_CONF_FLAG"], "added": "1.31.3"},
]
for _entry in CURATED:
    _entry.setdefault("source", "curated: nginx CHANGES / docs 'appeared in version'" if
                      tuple(map(int, _entry["added"].split("."))) < (1, 31) else
                      f"curated: ngx_command_t in nginx's source at release-{_entry['added']}")

# When directives appeared, for targets older than the probed binary (CHANGES).
ADDED: dict[str, str] = {
    "keepalive_time": "1.19.10", "ssl_reject_handshake": "1.19.4",
    "ssl_conf_command": "1.19.4", "proxy_ssl_conf_command": "1.19.4",
    "grpc_ssl_conf_command": "1.19.4", "uwsgi_ssl_conf_command": "1.19.4",
    "proxy_cookie_flags": "1.19.3", "userid_flags": "1.19.3", "ssl_ocsp": "1.19.0",
    "ssl_ocsp_cache": "1.19.0", "mp4_start_key_frame": "1.21.4", "proxy_half_close": "1.21.4",
    "ssl_alpn": "1.21.4", "proxy_smtp_auth": "1.19.4", "max_errors": "1.21.0",
    "auth_delay": "1.17.10", "limit_req_dry_run": "1.17.1", "limit_conn_dry_run": "1.17.6",
    "limit_rate_after": "1.0.0", "absolute_redirect": "1.11.8", "add_trailer": "1.13.2",
    "grpc_pass": "1.13.10", "mirror": "1.13.4", "mirror_request_body": "1.13.4",
    "ssl_early_data": "1.15.3", "proxy_socket_keepalive": "1.15.6",
    "ssl_preread": "1.11.5", "proxy_requests": "1.15.7", "random": "1.15.1",
    "subrequest_output_buffer_size": "1.13.10", "proxy_ssl_session_reuse": "1.1.0",
    "http2_max_concurrent_pushes": "1.13.9", "http2_push": "1.13.9",
    "http2_push_preload": "1.13.9", "http2_body_preread_size": "1.11.0",
    "worker_shutdown_timeout": "1.11.11", "ssl_session_ticket_key": "1.5.7",
    "server_tokens": "0.1.0",
}

# Directives that are gone, with the version that refused them and why.
REMOVED: dict[str, dict[str, str]] = {
    "ssl": {"removed": "1.25.1", "deprecated": "1.15.0",
            "note": 'the "ssl" directive is not supported anymore; use "listen ... ssl"'},
    "http2_push": {"removed": "1.25.1", "note": "HTTP/2 server push support has been removed"},
    "http2_push_preload": {"removed": "1.25.1",
                           "note": "HTTP/2 server push support has been removed"},
    "http2_max_concurrent_pushes": {"removed": "1.25.1",
                                    "note": "HTTP/2 server push support has been removed"},
    "http2_idle_timeout": {"deprecated": "1.19.7",
                           "note": 'obsolete, use "keepalive_timeout" instead'},
    "http2_recv_timeout": {"deprecated": "1.19.7",
                           "note": 'obsolete, use "client_header_timeout" instead'},
    "http2_max_requests": {"deprecated": "1.19.7",
                           "note": 'obsolete, use "keepalive_requests" instead'},
    "http2_max_field_size": {"deprecated": "1.19.7",
                             "note": 'obsolete, use "large_client_header_buffers" instead'},
    "http2_max_header_size": {"deprecated": "1.19.7",
                              "note": 'obsolete, use "large_client_header_buffers" instead'},
    "limit_zone": {"removed": "1.7.6", "note": 'use "limit_conn_zone"'},
    "spdy_headers_comp": {"removed": "1.9.5", "note": "SPDY was replaced by HTTP/2"},
    "spdy_chunk_size": {"removed": "1.9.5", "note": "SPDY was replaced by HTTP/2"},
}

# Official modules the probed build leaves out (crossplane's facts are kept).
NOT_BUILT = {"google_perftools_profiles": "ngx_google_perftools_module is not built by default "
                                          "(--with-google_perftools_module)"}
# crossplane names that no current nginx or njs accepts.
DROPPED = {"js_include": "njs 0.7.1 removed it (use js_import)"}

# NGINX Plus (commercial) directives crossplane knows; open-source nginx refuses them.
PLUS_PREFIXES = ("api", "auth_jwt", "health_check", "zone_sync", "keyval",
                 "session_log", "sticky", "ntlm", "queue", "state", "status",
                 "f4f", "hls", "mqtt", "internal_redirect", "least_time", "match",
                 "otel", "ssl_ntls", "proxy_ssl_ntls", "enforce_initial_report",
                 "mgmt", "usage_report", "license_token", "oidc", "acme")

# --------------------------------------------------------------------------- probing


@dataclass
class Nginx:
    binary: str
    modules: list[str]
    workdir: str
    runs: int = 0
    strings: dict[str, set[str]] = field(default_factory=dict)

    def owners(self, name: str) -> list[str]:
        """The dynamic modules whose strings hold ``name`` (load order kept)."""
        if not self.strings:
            self.strings = {m: strings_of(m) for m in self.modules}
        return [m for m in self.modules if name in self.strings[m]]

    def modules_for(self, name: str, context: str) -> list[str]:
        """What to load to probe ``name`` in ``context``: loading every module makes a run
        15 times slower, so only the family's base module and the name's owners."""
        fam = family(context)
        owners = self.owners(name)
        bases = {"stream": ["ngx_stream_module.so"], "mail": ["ngx_mail_module.so"],
                 "core": ["ngx_stream_module.so", "ngx_mail_module.so"]}.get(fam, [])
        chosen = [m for m in self.modules if any(m.endswith("/" + b) for b in bases)]
        for module in owners:
            if fam == "core":  # main-level directives of dynamic modules
                if module not in chosen:
                    chosen.append(module)
                continue
            kind = ("stream" if "/ngx_stream" in module else
                    "mail" if "/ngx_mail" in module else "http")
            if kind == (fam if fam in ("stream", "mail") else "http") and module not in chosen:
                chosen.append(module)
        if any("lua" in m or "set_misc" in m or "srcache" in m for m in chosen):
            # the devel kit first, and once: loaded twice, nginx refuses every probe with
            # 'module "ndk_http_module" is already loaded', which once made ~130 strings of
            # the modules' binaries look like directives allowed everywhere
            kit = [m for m in self.modules if "/ndk_" in m]
            chosen = kit + [m for m in chosen if m not in kit]
        return chosen

    def test(self, body: str, modules: list[str] | None = None) -> tuple[bool, str, int]:
        """(passed, stderr, line offset of body) for one configuration.

        Raises when nginx refuses the modules themselves: every probe would then fail
        for a reason that says nothing about the directive probed.
        """
        prefix = "".join(f"load_module {m};\n" for m in
                         (self.modules if modules is None else modules))
        with tempfile.NamedTemporaryFile("w", suffix=".conf", dir=self.workdir,
                                         delete=False) as handle:
            handle.write(prefix + body)
            path = handle.name
        try:
            proc = subprocess.run(
                [self.binary, "-t", "-q", "-p", self.workdir, "-c", path,
                 "-g", f"pid {self.workdir}/nginx.pid; error_log /dev/null;"],
                capture_output=True, text=True, timeout=30, check=False)
        finally:
            os.unlink(path)
        self.runs += 1
        emerg, line = error_line(proc.stderr)
        if line is not None and line <= prefix.count("\n"):
            raise RuntimeError(f"nginx refuses the modules of a probe: {emerg}")
        return proc.returncode == 0, proc.stderr, prefix.count("\n")

    def version(self) -> str:
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True,
                             check=False).stderr
        found = re.search(r"nginx/(\d+\.\d+\.\d+)", out)
        return found.group(1) if found else "unknown"


def module_order(directory: str) -> list[str]:
    """Dynamic modules in an order they load in (ndk before lua, stream before stream_*)."""
    if not os.path.isdir(directory):
        return []
    names = sorted(n for n in os.listdir(directory) if n.endswith(".so"))

    def key(name: str) -> tuple[int, str]:
        if name.startswith("ndk_"):
            return 0, name
        if name in ("ngx_stream_module.so", "ngx_mail_module.so"):
            return 1, name
        return 2, name

    return [os.path.join(directory, n) for n in sorted(names, key=key)]


def strings_of(path: str) -> set[str]:
    """Identifier-like strings of a binary.  Linkers merge a string into the tail of a
    longer one (``"stream"`` may only exist as the end of ``"upstream"``), so every
    suffix of every run counts."""
    data = Path(path).read_bytes()
    found: set[str] = set()
    for run in re.findall(rb"([a-z0-9_]{2,60})\x00", data):
        text = run.decode()
        found.update(text[i:] for i in range(len(text) - 1) if text[i].isalpha())
    return found


def candidate_names(path: str) -> set[str]:
    """Names worth probing: whole strings, and their parts after an underscore."""
    data = Path(path).read_bytes()
    found: set[str] = set()
    for run in re.findall(rb"([a-z][a-z0-9_]{2,50})\x00", data):
        text = run.decode()
        found.add(text)
        found.update(text[i + 1:] for i, c in enumerate(text) if c == "_" and i + 4 < len(text))
    return found


def statement(name: str, args: Iterable[str], block: bool) -> str:
    text = " ".join([name, *args])
    return text + (" {}" if block else ";")


def error_line(stderr: str) -> tuple[str, int | None]:
    """The first [emerg] message and the line it names."""
    for line in stderr.splitlines():
        if "[emerg]" in line:
            found = re.search(r":(\d+)$", line.strip())
            return line, int(found.group(1)) if found else None
    return "", None


@dataclass
class Probed:
    name: str
    contexts: dict[str, dict] = field(default_factory=dict)  # context -> facts


def probe_context(nginx: Nginx, name: str, context: str) -> dict | None:
    """Facts about ``name`` in ``context``, None when nginx does not allow it there."""
    template = CONTEXTS[context]
    modules = nginx.modules_for(name, context)

    def run(args: list[str], block: bool) -> tuple[bool, str]:
        ok, err, _ = nginx.test(template.format(D=statement(name, args, block)), modules)
        return ok, err

    _, err = run([], False)
    if f'unknown directive "{name}"' in err or f'"{name}" directive is not allowed here' in err:
        return None
    block = f'directive "{name}" has no opening "{{"' in err
    counts = []
    for count in range(10):
        _, err = run(["x"] * count, block)
        if f'invalid number of arguments in "{name}" directive' not in err:
            counts.append(count)
    mask: list[str] = []
    if 0 in counts and 9 in counts:
        mask.append("NGX_CONF_ANY")
    elif 9 in counts and min(counts) == 1:
        mask.append("NGX_CONF_1MORE")
    elif 9 in counts and min(counts) == 2:
        mask.append("NGX_CONF_2MORE")
    else:
        mask.extend(TAKE[c] for c in counts if c < 8)
    flag = False
    if counts == [1]:
        _ok, err = run(["bogus"], block)
        flag = 'it must be "on" or "off"' in err
        if flag:
            mask = ["NGX_CONF_FLAG"]
    if block:
        mask.insert(0, "NGX_CONF_BLOCK")
    return {"args": mask, "block": block, "counts": counts, "flag": flag}


VALUES = ["on", "1", "10s", "1k", "x", "/tmp", "http://127.0.0.1:9", "127.0.0.1:9",
          "$uri", "GET", "main", "1m", "any", "off", "text/plain", "zone=z:1m"]


def valid_arguments(nginx: Nginx, name: str, context: str, facts: dict) -> list[str] | None:
    """Arguments with which ``name`` passes in ``context`` (best effort), or None."""
    if facts["block"]:
        return None
    counts = [c for c in facts["counts"] if c > 0] or facts["counts"]
    template = CONTEXTS[context]
    modules = nginx.modules_for(name, context)
    target = template.split("{D}")[0].count("\n") + 1
    for count in counts[:2]:
        for value in VALUES:
            args = [value] * count
            ok, err, offset = nginx.test(template.format(D=statement(name, args, False)),
                                         modules)
            _, line = error_line(err)
            if ok or line != target + offset:
                return args
    return None


def duplicate_verdict(nginx: Nginx, name: str, context: str, args: list[str]) -> dict:
    template = CONTEXTS[context]
    modules = nginx.modules_for(name, context)
    once = statement(name, args, False)
    _, err, offset = nginx.test(template.format(D=once), modules)
    warn = next((line.split("] ", 1)[-1] for line in err.splitlines()
                 if "[warn]" in line and f'"{name}"' in line), "")
    _ok, err, offset = nginx.test(template.format(D=once + "\n" + once), modules)
    target = template.split("{D}")[0].count("\n") + 2 + offset
    message, line = error_line(err)
    refused = f'"{name}" directive is duplicate' in message
    result: dict = {"duplicate": "error" if line == target and refused
                    else ("ok" if line != target else "unknown")}
    if line == target and not refused:
        text = message.split("] ", 1)[-1].rsplit(" in ", 1)[0]
        # without nginx's "pid#tid: " prefix: the table stays the same from run to run
        result["duplicate_message"] = re.sub(r"^\d+#\d+: ", "", text)
    if warn:
        result["warning"] = re.sub(r" in \S+:\d+$", "", warn.split(": ", 1)[-1])
    return result


def family(context: str) -> str:
    if context.startswith("stream"):
        return "stream"
    if context.startswith("mail"):
        return "mail"
    if context in ("main", "events"):
        return "core"
    return "http"


def probe_name(nginx: Nginx, name: str) -> Probed:
    probed = Probed(name)
    for context in CONTEXTS:
        facts = probe_context(nginx, name, context)
        if facts is not None:
            probed.contexts[context] = facts
    # duplicates, warnings: once per family, in the first context allowed
    seen: set[str] = set()
    for context, facts in probed.contexts.items():
        if family(context) in seen:
            continue
        seen.add(family(context))
        args = valid_arguments(nginx, name, context, facts)
        if args is not None:
            facts.update(duplicate_verdict(nginx, name, context, args))
            facts["example"] = args
    return probed


def is_known(nginx: Nginx, name: str) -> bool:
    for context in ("http", "stream", "mail"):
        modules = nginx.modules_for(name, context)
        if context != "http" and not modules:
            continue
        _, err, _ = nginx.test(CONTEXTS[context].format(D=name + ";"), modules)
        if f'unknown directive "{name}"' not in err:
            return True
    return False


# --------------------------------------------------------------------------- merging

MODULE_PREFIXES = [
    ("proxy_", "ngx_http_proxy_module"), ("fastcgi_", "ngx_http_fastcgi_module"),
    ("uwsgi_", "ngx_http_uwsgi_module"), ("scgi_", "ngx_http_scgi_module"),
    ("grpc_", "ngx_http_grpc_module"), ("memcached_", "ngx_http_memcached_module"),
    ("ssl_", "ngx_http_ssl_module"), ("http2_", "ngx_http_v2_module"),
    ("gzip_static", "ngx_http_gzip_static_module"), ("gunzip", "ngx_http_gunzip_module"),
    ("gzip", "ngx_http_gzip_module"), ("limit_req", "ngx_http_limit_req_module"),
    ("limit_conn", "ngx_http_limit_conn_module"), ("auth_basic", "ngx_http_auth_basic_module"),
    ("auth_request", "ngx_http_auth_request_module"), ("autoindex", "ngx_http_autoindex_module"),
    ("charset", "ngx_http_charset_module"), ("source_charset", "ngx_http_charset_module"),
    ("override_charset", "ngx_http_charset_module"), ("dav_", "ngx_http_dav_module"),
    ("create_full_put_path", "ngx_http_dav_module"), ("mp4", "ngx_http_mp4_module"),
    ("flv", "ngx_http_flv_module"), ("sub_filter", "ngx_http_sub_module"),
    ("ssi", "ngx_http_ssi_module"), ("userid", "ngx_http_userid_module"),
    ("secure_link", "ngx_http_secure_link_module"), ("slice", "ngx_http_slice_module"),
    ("add_header", "ngx_http_headers_module"), ("add_trailer", "ngx_http_headers_module"),
    ("expires", "ngx_http_headers_module"), ("addition_types", "ngx_http_addition_module"),
    ("add_before_body", "ngx_http_addition_module"),
    ("add_after_body", "ngx_http_addition_module"), ("real_ip", "ngx_http_realip_module"),
    ("set_real_ip_from", "ngx_http_realip_module"), ("rewrite", "ngx_http_rewrite_module"),
    ("return", "ngx_http_rewrite_module"), ("set", "ngx_http_rewrite_module"),
    ("break", "ngx_http_rewrite_module"), ("if", "ngx_http_rewrite_module"),
    ("uninitialized_variable_warn", "ngx_http_rewrite_module"),
    ("access_log", "ngx_http_log_module"), ("log_format", "ngx_http_log_module"),
    ("open_log_file_cache", "ngx_http_log_module"), ("map", "ngx_http_map_module"),
    ("geo", "ngx_http_geo_module"), ("split_clients", "ngx_http_split_clients_module"),
    ("allow", "ngx_http_access_module"), ("deny", "ngx_http_access_module"),
    ("index", "ngx_http_index_module"), ("random_index", "ngx_http_random_index_module"),
    ("empty_gif", "ngx_http_empty_gif_module"), ("stub_status", "ngx_http_stub_status_module"),
    ("mirror", "ngx_http_mirror_module"), ("ancient_browser", "ngx_http_browser_module"),
    ("modern_browser", "ngx_http_browser_module"), ("referer", "ngx_http_referer_module"),
    ("valid_referers", "ngx_http_referer_module"), ("upstream", "ngx_http_upstream_module"),
    ("keepalive", "ngx_http_upstream_keepalive_module"), ("hash", "ngx_http_upstream_hash_module"),
    ("ip_hash", "ngx_http_upstream_ip_hash_module"),
    ("least_conn", "ngx_http_upstream_least_conn_module"),
    ("random", "ngx_http_upstream_random_module"), ("zone", "ngx_http_upstream_zone_module"),
    ("image_filter", "ngx_http_image_filter_module"), ("geoip", "ngx_http_geoip_module"),
    ("perl", "ngx_http_perl_module"), ("xslt", "ngx_http_xslt_module"),
    ("worker_", "ngx_core_module"),
]


def guess_module(name: str, contexts: list[str]) -> str:
    fam = family(contexts[0]) if contexts else "http"
    if fam == "stream":
        return "ngx_stream_module"
    if fam == "mail":
        return "ngx_mail_module"
    if "events" in contexts:
        return "ngx_event_core_module"
    if contexts == ["main"]:
        return "ngx_core_module"
    for prefix, module in MODULE_PREFIXES:
        if name.startswith(prefix):
            return module
    return "ngx_http_core_module"


def variants_of(probed: Probed) -> list[dict]:
    """One variant per (family, argument mask): the contexts sharing it."""
    groups: dict[tuple[str, tuple[str, ...]], dict] = {}
    for context, facts in probed.contexts.items():
        key = (family(context), tuple(facts["args"]))
        group = groups.setdefault(key, {"contexts": [], "args": list(facts["args"])})
        group["contexts"].append(context)
        for extra in ("duplicate", "duplicate_message", "warning", "example"):
            if extra in facts:
                group.setdefault(extra, facts[extra])
    return list(groups.values())


def crossplane_variants(name: str) -> list[dict]:
    import crossplane.analyzer as analyzer

    variants = []
    for mask in analyzer.DIRECTIVES.get(name, []):
        contexts = [c for bit, names in CROSSPLANE_CONTEXTS.items() if mask & bit
                    for c in names]
        args = [n for n, bit in ARG_BITS.items() if mask & bit]
        if "NGX_CONF_FLAG" in args or "NGX_CONF_ANY" in args or "NGX_CONF_1MORE" in args \
                or "NGX_CONF_2MORE" in args:
            args = [a for a in args if not a.startswith("NGX_CONF_TAKE")
                    and a != "NGX_CONF_NOARGS"]
        variants.append({"contexts": contexts, "args": args})
    return variants


def third_party(module: str) -> bool:
    official = {"ngx_http_geoip_module", "ngx_http_image_filter_module", "ngx_http_perl_module",
                "ngx_http_xslt_filter_module", "ngx_mail_module", "ngx_stream_module",
                "ngx_stream_geoip_module"}
    return module.endswith(".so") and module[:-3] not in official


def owner_of(nginx: Nginx, name: str, context: str) -> str | None:
    """The dynamic module that brings ``name`` into ``context`` (None: built in)."""
    template = CONTEXTS[context].format(D=name + ";")
    ndk = [m for m in nginx.modules if "/ndk_" in m]
    stream = [m for m in nginx.modules if m.endswith("/ngx_stream_module.so")]
    mail = [m for m in nginx.modules if m.endswith("/ngx_mail_module.so")]

    def known(modules: list[str]) -> bool:
        _, err, _ = nginx.test(template, modules)
        return f'unknown directive "{name}"' not in err and \
            f'"{name}" directive is not allowed here' not in err

    needs = stream if context.startswith("stream") else mail if context.startswith(
        "mail") else []
    if known(needs):
        return os.path.basename(needs[0]) if needs else None
    for module in [*stream, *mail, *nginx.modules_for(name, context)]:
        support = (stream if "/ngx_stream_" in module else mail if "/ngx_mail_" in module
                   else ndk if "/ndk_" not in module else [])
        if known(list(dict.fromkeys([*needs, *support, module]))):
            return os.path.basename(module)
    return None


def build(nginx: Nginx, jobs: int) -> dict:
    import crossplane.analyzer as analyzer

    candidates = set(analyzer.DIRECTIVES) | candidate_names(nginx.binary) | {
        s for m in nginx.modules for s in candidate_names(m)} | {
        e["name"] for e in CURATED} | set(REMOVED)
    candidates = {c for c in candidates if re.fullmatch(r"[a-z][a-z0-9_]*", c)}
    with ThreadPoolExecutor(jobs) as pool:
        known = [n for n, k in zip(sorted(candidates),
                                   pool.map(lambda n: is_known(nginx, n), sorted(candidates)),
                                   strict=True) if k]
        probed = list(pool.map(lambda n: probe_name(nginx, n), known))
    version = nginx.version()
    table: dict[str, list[dict]] = {}
    for item in probed:
        for variant in variants_of(item):
            owner = owner_of(nginx, item.name, variant["contexts"][0])
            module = owner[:-3] if owner else guess_module(item.name, variant["contexts"])
            variant["module"] = module
            if owner and third_party(owner):
                variant["third_party"] = True
            variant["source"] = f"probe: nginx {version} -t" + (
                f" with {owner}" if owner else "")
            table.setdefault(item.name, []).append(variant)
    for name in sorted(set(analyzer.DIRECTIVES) - set(table) - set(DROPPED)):
        for variant in crossplane_variants(name):
            variant["module"] = guess_module(name, variant["contexts"])
            variant["source"] = "crossplane analyzer table (nginx ~1.17)"
            if name in NOT_BUILT:
                variant["note"] = NOT_BUILT[name]
            elif name.startswith(PLUS_PREFIXES) or name not in REMOVED:
                variant["plus"] = True  # not in open-source nginx: NGINX Plus only
            table.setdefault(name, []).append(variant)
    for entry in CURATED:
        variant = {k: v for k, v in entry.items() if k != "name"}
        existing = table.get(entry["name"], [])
        same = [v for v in existing if v["contexts"] == variant["contexts"]
                and not v.get("plus")]
        if same:
            same[0].setdefault("added", entry["added"])
            continue
        table[entry["name"]] = [v for v in existing if not v.get("plus")] + [variant]
    for name, history in REMOVED.items():
        for variant in table.get(name, []):
            variant.update(history)
            variant.pop("plus", None)
    for name, added in ADDED.items():
        for variant in table.get(name, []):
            variant.setdefault("added", added)
    return {
        "_meta": {
            "generator": "tools/build_directives.py",
            "probed_nginx": version,
            "probed_modules": [os.path.basename(m) for m in nginx.modules],
            "probe_runs": nginx.runs,
            "contexts": list(CONTEXTS),
            "notes": "contexts/args per variant; added/removed/deprecated are nginx versions; "
                     "plus=true: NGINX Plus only; third_party=true: not in nginx's source tree",
        },
        "directives": {name: table[name] for name in sorted(table)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    parser.add_argument("--modules-dir", default="/usr/lib/nginx/modules")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--jobs", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    parser.add_argument("--only", nargs="*", help="probe these names and print them")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        nginx = Nginx(options.nginx, module_order(options.modules_dir), workdir)
        if options.only:
            for name in options.only:
                print(name, json.dumps(variants_of(probe_name(nginx, name))))
            return 0
        table = build(nginx, options.jobs)
    text = json.dumps(table, indent=1, sort_keys=False) + "\n"
    Path(options.out).parent.mkdir(parents=True, exist_ok=True)
    Path(options.out).write_text(text, encoding="utf-8")
    print(f"{len(table['directives'])} directives, {nginx.runs} nginx runs -> {options.out}",
          file=sys.stderr)
    return 0


def _iter(values: Iterable[str]) -> Iterator[str]:  # pragma: no cover - helper for REPL use
    yield from values


if __name__ == "__main__":
    sys.exit(main())
