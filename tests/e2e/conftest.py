"""End-to-end harness: a real Jupyter Server behind a real nginx.

Session scope: one Jupyter Server per ``base_url`` (``/`` and ``/jupyter/``), started on a
free 127.0.0.1 port with a random token and killed at session end.  Function scope: an
``nginx`` factory that renders a ``fixtures/e2e/*.conf`` template (placeholders
``@PREFIX@``, ``@NGINX_PORT@``, ``@JUPYTER_PORT@``) into a scratch directory, runs nginx in
the foreground on it and stops it (SIGTERM, SIGKILL to its process group after 5 s)
however the test ends.

The suite skips when nginx or the Jupyter packages are missing, except in CI (``CI`` set),
where their absence fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
E2E_FIXTURES = REPO / "fixtures" / "e2e"

REQUIRED_MODULES = {
    "jupyter_server": "jupyter_server",
    "ipykernel": "ipykernel",
    "jupyter_server_terminals": "jupyter_server_terminals",
    "websocket": "websocket-client",
}
JUPYTER_START_TIMEOUT = 30.0
NGINX_START_TIMEOUT = 10.0
STOP_GRACE = 5.0
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def find_nginx() -> str | None:
    """``$NGLINT_E2E_NGINX`` when set, else ``nginx`` on PATH, else ``/usr/sbin/nginx``."""
    chosen = os.environ.get("NGLINT_E2E_NGINX")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def missing_requirements() -> list[str]:
    missing = ["nginx (not on PATH nor /usr/sbin/nginx, or $NGLINT_E2E_NGINX)"
               ] if find_nginx() is None else []
    missing += [package for module, package in REQUIRED_MODULES.items()
                if importlib.util.find_spec(module) is None]
    return missing


def nginx_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True)
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out.stderr + out.stdout)
    assert match, f"cannot read the nginx version from {out.stderr!r}"
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def scratch_dir(prefix: str) -> Path:
    """A scratch directory nginx's unprivileged workers can enter (pytest's is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


def _descendants(pid: int) -> list[object]:
    try:
        import psutil  # a dependency of ipykernel

        return psutil.Process(pid).children(recursive=True)
    except Exception:
        return []


def stop_process(proc: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """SIGTERM the process, then SIGKILL its process group and leftovers after ``grace``."""
    children = _descendants(proc.pid)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # nginx workers, a shell a terminal left
    for child in children:  # kernels and terminals live in their own sessions
        with contextlib.suppress(Exception):
            child.wait(grace if child.is_running() else 0)  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            if child.is_running():  # type: ignore[attr-defined]
                child.kill()  # type: ignore[attr-defined]


# -- the tools ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def e2e_tools() -> dict[str, object]:
    """nginx and the Jupyter packages, or a skip (outside CI) / a failure (in CI)."""
    missing = missing_requirements()
    if missing:
        reason = ("end-to-end tests need nginx and jupyter_server, ipykernel, "
                  f"jupyter_server_terminals, websocket-client; missing: {', '.join(missing)} "
                  "(pip install -e '.[e2e]'; apt-get install nginx)")
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    binary = find_nginx()
    assert binary
    return {"nginx": binary, "nginx_version": nginx_version(binary)}


# -- Jupyter Server -------------------------------------------------------------------------


@dataclass
class Jupyter:
    port: int
    base_url: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    def request(self, method: str, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        """A REST call straight to Jupyter (not through nginx), token-authenticated."""
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(f"{self.url}{path}{sep}token={self.token}",
                                     method=method, data=b"" if method != "GET" else None)
        try:
            with NO_PROXY.open(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def logs(self) -> str:
        return tail(self.log)


def _start_jupyter(base_url: str, workdir: Path, attempts: int = 3) -> Jupyter:
    """Start Jupyter Server and wait for ``api/status``; retry if the port was taken."""
    for attempt in range(attempts):
        server = _try_jupyter(base_url, workdir / f"try{attempt}")
        if server is not None:
            return server
    pytest.fail(f"Jupyter Server ({base_url}): port taken {attempts} times in a row")


def _try_jupyter(base_url: str, workdir: Path) -> Jupyter | None:
    port, token = free_port(), secrets.token_hex(16)
    root = workdir / "root"
    root.mkdir(parents=True)
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(workdir / "config"),
               JUPYTER_DATA_DIR=str(workdir / "data"),
               JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
               IPYTHONDIR=str(workdir / "ipython"),
               JUPYTER_PLATFORM_DIRS="1")
    cmd = [sys.executable, "-m", "jupyter_server",
           f"--IdentityProvider.token={token}", "--ServerApp.ip=127.0.0.1",
           f"--port={port}", "--no-browser", f"--ServerApp.root_dir={root}",
           "--ServerApp.open_browser=False", f"--ServerApp.base_url={base_url}",
           "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = workdir / "jupyter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=root, start_new_session=True)
    server = Jupyter(port, base_url, token, root, log, proc)
    deadline = time.monotonic() + JUPYTER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if "already in use" in server.logs():
                return None
            pytest.fail(f"Jupyter Server exited with {proc.returncode}:\n{server.logs()}")
        with contextlib.suppress(OSError):
            status, _ = server.request("GET", "api/status", timeout=2)
            if status == 200:
                return server
        time.sleep(0.2)
    stop_process(proc)
    pytest.fail(f"Jupyter Server did not answer {base_url}api/status within "
                f"{JUPYTER_START_TIMEOUT:.0f} s:\n{server.logs()}")


@pytest.fixture(scope="session")
def jupyter(e2e_tools: dict[str, object]) -> Iterator[Callable[[str], Jupyter]]:
    """``jupyter(base_url)``: the session's Jupyter Server for that base URL."""
    servers: dict[str, Jupyter] = {}
    workdir = scratch_dir("nglint-e2e-jupyter-")

    def get(base_url: str = "/") -> Jupyter:
        if base_url not in servers:
            name = base_url.strip("/") or "root"
            servers[base_url] = _start_jupyter(base_url, workdir / name)
        server = servers[base_url]
        if server.proc.poll() is not None:
            pytest.fail(f"Jupyter Server ({base_url}) died:\n{server.logs()}")
        return server

    try:
        yield get
    finally:
        for server in servers.values():
            stop_process(server.proc, grace=10.0)
        if not os.environ.get("NGLINT_E2E_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)


# -- nginx ----------------------------------------------------------------------------------


@dataclass
class Nginx:
    binary: str
    version: tuple[int, int, int]
    prefix: Path
    port: int
    jupyter_port: int
    proc: subprocess.Popen[bytes] | None = None
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def render(self, template: str | Path) -> Path:
        """``fixtures/e2e/<template>`` with its placeholders filled, as ``nginx.conf``."""
        return self.write((E2E_FIXTURES / template).read_text(encoding="utf-8"))

    def write(self, text: str) -> Path:
        """Config text with placeholders ``@PREFIX@``, ``@NGINX_PORT@``, ``@JUPYTER_PORT@``
        filled in, written to ``<prefix>/nginx.conf``."""
        text = (text.replace("@PREFIX@", str(self.prefix))
                .replace("@NGINX_PORT@", str(self.port))
                .replace("@JUPYTER_PORT@", str(self.jupyter_port)))
        leftover = re.findall(r"@[A-Z_]+@", text)
        assert not leftover, f"unknown placeholders {leftover}"
        self.conf.write_text(text, encoding="utf-8")
        return self.conf

    def test_config(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.binary, "-t", "-p", str(self.prefix), "-c", str(self.conf)],
                              capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        """Run nginx in the foreground on ``nginx.conf`` and wait for its port."""
        assert self.proc is None or self.proc.poll() is not None, "nginx already running"
        error_log = self.prefix / "error.log"
        offset = error_log.stat().st_size if error_log.exists() else 0
        with (self.prefix / "nginx.stderr").open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "-p", str(self.prefix), "-c", str(self.conf),
                 "-g", "daemon off;"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(self.proc)
        deadline = time.monotonic() + NGINX_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = error_log.read_text(errors="replace")[offset:] if error_log.exists() else ""
                pytest.fail(f"nginx exited with {self.proc.returncode}:\n{log}\n"
                            f"{tail(self.prefix / 'nginx.stderr')}")
            if port_open(self.port):
                return
            time.sleep(0.05)
        pytest.fail(f"nginx did not listen on 127.0.0.1:{self.port} within "
                    f"{NGINX_START_TIMEOUT:.0f} s:\n{tail(error_log)}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def logs(self) -> str:
        return tail(self.prefix / "error.log")


@pytest.fixture
def nginx(e2e_tools: dict[str, object]) -> Iterator[Callable[[int], Nginx]]:
    """``nginx(jupyter_port)``: an nginx on a free port with its own scratch prefix.

    Render a template with ``.render(name)`` (or config text with ``.write(text)``), then
    ``.start()``/``.restart()``; every nginx started is stopped at the end of the test,
    pass or fail.
    """
    made: list[Nginx] = []

    def make(jupyter_port: int) -> Nginx:
        server = Nginx(str(e2e_tools["nginx"]), e2e_tools["nginx_version"],  # type: ignore[arg-type]
                       scratch_dir("nglint-e2e-nginx-"), free_port(), jupyter_port)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            for proc in server.started:
                stop_process(proc)
        for server in made:
            if not os.environ.get("NGLINT_E2E_KEEP"):
                shutil.rmtree(server.prefix, ignore_errors=True)
