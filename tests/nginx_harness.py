"""Running a real nginx (and an echo upstream) for the differential tests.

Shared by ``tests/test_routing_nginx.py`` and ``tests/test_request_nginx.py``.
nginx runs in the foreground, one process (``master_process off``), on
loopback ports picked free for each configuration; requests go over raw sockets
so the request target and the headers reach nginx byte for byte.

Skip rule (``nginx_launcher``): skipped only when no nginx exists (``nginx`` on
PATH or /usr/sbin/nginx) and the CI environment variable is unset; with CI set,
a missing nginx fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nglint.load import Loader
from nglint.tree import Tree

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

# {http} is extra http-level text; PREFIX in any text is the instance's directory
CONFIG = """\
worker_processes 1;
master_process off;
error_log {prefix}/error.log;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type text/plain;
    root {prefix}/empty;
{http}{servers}
}}
"""


def nginx_version(binary: str) -> tuple[int, int, int]:
    """``nginx -v`` of ``binary``, as a version tuple (nginx prints it on stderr)."""
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", result.stderr + result.stdout)
    assert found, result.stderr
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names, the last value of a repeated header
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)  # as received


def http_get(address: str, port: int, target: bytes, host: bytes | None = b"localhost",
             headers: Sequence[tuple[str, str]] = (), timeout: float = 5) -> Response:
    """One ``GET target HTTP/1.1`` over a fresh connection (``Connection: close`` last)."""
    head = b"GET " + target + b" HTTP/1.1\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    for name, value in headers:
        head += f"{name}: {value}\r\n".encode("latin-1")
    head += b"Connection: close\r\n\r\n"
    response = exchange(address, port, head, timeout)
    assert response is not None, f"nothing listens on {address}:{port}"
    return response


def exchange(address: str, port: int, request: bytes, timeout: float = 5) -> Response | None:
    """Send raw ``request`` bytes, read one response (None: connection refused).

    The response ends at its ``Content-Length``, its last chunk or the close,
    so the request need not ask for ``Connection: close``.
    """
    try:
        conn = socket.create_connection((address, port), timeout=timeout)
    except ConnectionRefusedError:
        return None
    with conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
            if complete(data):
                break
    return parse_response(data)


def complete(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            return len(body) >= int(value.strip())
        if name == b"transfer-encoding" and value.strip().lower() == b"chunked":
            return body.endswith(b"0\r\n\r\n")
    return head.startswith(b"HTTP/1.1 304") or head.split(b" ")[1:2] == [b"204"]


def parse_response(data: bytes) -> Response:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    header_list = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        header_list.append((name.strip(), value.strip()))
    headers = {name.lower(): value for name, value in header_list}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return Response(int(lines[0].split()[1]), headers, body, header_list)


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


@dataclass(repr=False)
class Instance:
    port: int
    tree: Tree
    prefix: Path
    ports: list[int] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<nginx on port(s) {self.ports or [self.port]}>"

    def get(self, target: bytes, host: bytes = b"localhost") -> Response:
        return http_get("127.0.0.1", self.port, target, host)


@dataclass
class Launcher:
    binary: str
    base: Path
    running: list[subprocess.Popen] = field(default_factory=list)

    @contextmanager
    def start(self, servers: str, *, http: str = "", files: Mapping[str, str] | None = None,
              ports: Sequence[int] | None = None) -> Iterator[Instance]:
        """nginx running ``servers`` (and ``http`` text) until the block ends.

        Without ``ports``, one free port replaces ``PORT`` in ``servers``; with
        them, the text already names its ports and nginx is waited for on the
        first.  ``files`` (relative name -> text) are written into the prefix
        first, for ``include``; ``PREFIX`` in every text is the prefix directory.
        """
        prefix = Path(tempfile.mkdtemp(dir=self.base))
        (prefix / "empty").mkdir()  # root: no file, so "no location" is a 404 (403 for "/")
        if ports is None:
            ports = [free_port()]
            servers = servers.replace("PORT", str(ports[0]))
        for name, text in (files or {}).items():
            path = prefix / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("PREFIX", str(prefix)), encoding="utf-8")
        conf = prefix / "nginx.conf"
        conf.write_text(CONFIG.format(prefix=prefix, http=http, servers=servers)
                        .replace("PREFIX", str(prefix)), encoding="utf-8")
        tree = Loader(str(prefix)).load(str(conf))
        assert not tree.problems, tree.problems
        with open(prefix / "stderr.log", "wb") as stderr:
            process = subprocess.Popen(
                [self.binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=stderr)
        self.running.append(process)
        try:
            wait_for_port(process, ports[0], prefix)
            yield Instance(ports[0], tree, prefix, list(ports))
        finally:
            stop(process)
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            stop(process)


def free_port() -> int:
    """A port free on every address (nginx may bind ``*:port`` as well as 127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))  # only to ask the kernel for a free number: never listens
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def wait_for_port(process: subprocess.Popen, port: int, prefix: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = "".join(p.read_text() for p in (prefix / "stderr.log", prefix / "error.log")
                          if p.exists())
            pytest.fail(f"nginx exited with {process.returncode}:\n{log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.005)
    pytest.fail(f"nginx did not accept connections on port {port} within 10 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def nginx_launcher(base: Path, what: str) -> Launcher:
    """A launcher, or the skip / failure of the skip rule (module docstring)."""
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but nginx is missing (neither `nginx` on PATH nor "
                        f"/usr/sbin/nginx): {what} cannot be checked")
        pytest.skip("nginx is not installed (no `nginx` on PATH, no /usr/sbin/nginx); "
                    "set CI=1 to make this a failure")
    return Launcher(NGINX, base)


# --------------------------------------------------------------------------- echo upstream

@dataclass(frozen=True)
class Echoed:
    """The request an upstream received: request line parts and every header line."""

    method: str
    target: str
    version: str  # "1.0", "1.1"
    headers: list[tuple[str, str]]  # raw names and values, in order, duplicates kept


class Echo:
    """An HTTP server on 127.0.0.1 answering every request with 200 and, as its body,
    the request head exactly as received (request line, then every header line).

    One thread accepts; each connection is answered inline (nginx opens one
    connection per proxied request and the test sends one request at a time).
    """

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="echo-upstream", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn, suppress(OSError):
                self._answer(conn)

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head = data.partition(b"\r\n\r\n")[0] + b"\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                     + str(len(head)).encode() + b"\r\nConnection: close\r\n\r\n" + head)

    def close(self) -> None:
        self._closing = True
        with suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._sock.close()
        self._thread.join(timeout=5)


def parse_echo(body: bytes) -> Echoed:
    """The echo's body back into its parts."""
    lines = body.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name, value.lstrip(" ")))
    return Echoed(method, target, version.removeprefix("HTTP/"), headers)
