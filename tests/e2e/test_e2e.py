"""End-to-end proof: what nglint reports breaks a real Jupyter behind a real nginx, and
``nglint check --fix`` repairs it.

For every ``fixtures/e2e/*.conf`` case:

1. BEFORE: ``nglint check --format json`` reports the expected findings, and a websocket
   client going through nginx fails the way those findings say (handshake status, close
   right after 101, or an idle events socket closed at the read timeout);
2. FIX: ``nglint check --fix`` exits 0 or 1 without a traceback, and ``nginx -t`` accepts
   the rewritten file;
3. AFTER: nginx restarted on the fixed file: a kernel created through nginx runs
   ``1+1`` and returns ``2`` on iopub, a terminal echoes, the events socket opens (and, for
   the timeout case, is still connected after the old timeout + 2 s without traffic).

The client behaves like a browser: it logs in once through nginx (``?token=`` on a REST
call sets Jupyter's login cookie) and opens websockets with that cookie, ``Origin`` and
``Host`` naming the nginx address, and no token in the URL.  A token in the websocket URL
would make Jupyter skip its cross-origin check (``IdentityProvider.should_check_origin``)
and hide the 403 of a dropped ``Host``.

An AFTER step that fails is a failure: every case must work once fixed.  The message
names what ``nglint check`` still reports on the fixed file, to tell a fix that did not
happen from a finding nglint missed.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from nglint.upgrade import STYLES

# conftest.py's Jupyter and Nginx (conftest modules are not imported by tests)
Jupyter = Nginx = Any

REPO = Path(__file__).resolve().parents[2]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

WS_TIMEOUT = 5.0  # connect and single-frame waits
EXECUTE_TIMEOUT = 20.0  # a fresh kernel answering its first execute_request
TERMINAL_TIMEOUT = 20.0  # a fresh shell printing the echo (returns as soon as it does)
SHORT_READ_TIMEOUT = 3.0  # proxy_read_timeout of case f
HTTP_1_1_DEFAULT = (1, 29, 7)  # nginx proxies with HTTP/1.1 by default from here on

# Findings that can explain a websocket that does not open or work, and an idle drop.
WS_CODES = frozenset({"NG005", "NG101", "NG102", "NG103", "NG105", "NG106", "NG107"})
IDLE_CODES = WS_CODES | {"NG104"}
REST_CODES = frozenset({"NG005", "NG106"})


# -- nglint ---------------------------------------------------------------------------------


def run_nglint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nglint", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def assert_no_crash(result: subprocess.CompletedProcess[str], what: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1), (
        f"{what}: exit status {result.returncode}\n{result.stderr}")
    assert "Traceback" not in output and "internal error" not in result.stderr, (
        f"{what}: crashed\n{output}")


def lint(conf: Path, version: str) -> list[dict[str, Any]]:
    result = run_nglint("check", "--format", "json", "--nginx-version", version, str(conf))
    assert_no_crash(result, "nglint check --format json")
    return json.loads(result.stdout)["findings"]


def show(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {f['line']}:{f['column']} {f['code']} [{f['severity']}] "
                     f"{f['message'][:160]}" for f in findings) or "  (none)"


@dataclass(frozen=True)
class Expect:
    """A finding ``code`` on the line of ``anchor`` (a unique line of the config), or on a
    directive in that block (then the block is its related location)."""

    code: str
    anchor: str
    severity: str | None = None


def anchor_line(text: str, anchor: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == anchor]
    assert len(lines) == 1, f"anchor {anchor!r} found on lines {lines}"
    return lines[0]


# -- a browser-like client ------------------------------------------------------------------


@dataclass
class Outcome:
    """What a websocket attempt came to."""

    kind: str  # ok | handshake | closed | timeout | error
    status: int | None = None
    detail: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def __str__(self) -> str:
        status = f" {self.status}" if self.status is not None else ""
        return f"{self.kind}{status} after {self.elapsed:.1f}s: {self.detail[:200]}"


@dataclass
class Browser:
    nginx: Nginx
    jupyter: Jupyter
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}{self.jupyter.base_url}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.nginx.port}{self.jupyter.base_url}"

    def rest(self, method: str, path: str) -> tuple[int, bytes]:
        """A token-authenticated REST call through nginx; keeps the cookies it sets."""
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(f"{self.http}{path}{sep}token={self.jupyter.token}",
                                     method=method, data=b"" if method != "GET" else None)
        try:
            with NO_PROXY.open(req, timeout=10) as resp:
                status, body, headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read(), error.headers
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return status, body

    def login(self) -> None:
        status, body = self.rest("GET", "api/status")
        assert status == 200, f"GET {self.http}api/status through nginx: {status} {body[:300]!r}"
        assert self.cookies, "Jupyter set no login cookie"

    def connect(self, path: str) -> tuple[Any, Outcome | None]:
        import websocket

        start = time.monotonic()
        try:
            sock = websocket.create_connection(
                f"{self.ws_base}{path}", timeout=WS_TIMEOUT, origin=self.nginx.origin,
                host=f"127.0.0.1:{self.nginx.port}", http_no_proxy=["127.0.0.1"],
                cookie="; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        except websocket.WebSocketBadStatusException as error:
            body = (getattr(error, "resp_body", None) or b"").decode("utf-8", "replace")
            return None, Outcome("handshake", error.status_code, body,
                                 time.monotonic() - start)
        except (websocket.WebSocketException, OSError) as error:
            return None, Outcome("closed", None, f"{type(error).__name__}: {error}",
                                 time.monotonic() - start)
        return sock, None


def _closed(start: float, error: BaseException | str) -> Outcome:
    detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Outcome("closed", 101, f"socket closed after 101: {detail}", time.monotonic() - start)


def execute_request(code: str, session: str) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    message = {
        "header": {"msg_id": msg_id, "username": "e2e", "session": session,
                   "msg_type": "execute_request", "version": "5.3",
                   "date": datetime.now(timezone.utc).isoformat()},
        "parent_header": {}, "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        "channel": "shell",
    }
    return msg_id, json.dumps(message)


def kernel_one_plus_one(browser: Browser, kernel_id: str) -> Outcome:
    """Open the kernel's channels, execute ``1+1``, wait for ``2`` on iopub."""
    import websocket

    session = uuid.uuid4().hex
    start = time.monotonic()
    sock, failed = browser.connect(f"api/kernels/{kernel_id}/channels?session_id={session}")
    if failed:
        return failed
    try:
        msg_id, message = execute_request("1+1", session)
        sock.send(message)
        deadline = start + EXECUTE_TIMEOUT
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            raw = sock.recv()
            if raw == "":
                return _closed(start, "close frame")
            if not isinstance(raw, str):
                continue
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = reply.get("msg_type") or reply["header"]["msg_type"]
            if kind == "execute_result" and reply.get("channel") == "iopub":
                text = reply["content"]["data"].get("text/plain")
                if text == "2":
                    return Outcome("ok", 101, "execute_result 2 on iopub",
                                   time.monotonic() - start)
                return Outcome("error", 101, f"execute_result {text!r}",
                               time.monotonic() - start)
            if kind == "error":
                return Outcome("error", 101, f"kernel error {reply['content']}",
                               time.monotonic() - start)
        return Outcome("timeout", 101, "no execute_result", time.monotonic() - start)
    except websocket.WebSocketTimeoutException:
        return Outcome("timeout", 101, "no execute_result", time.monotonic() - start)
    except (websocket.WebSocketException, OSError) as error:
        return _closed(start, error)
    finally:
        with contextlib.suppress(Exception):
            sock.close()


def _no_echo(start: float, output: str) -> Outcome:
    return Outcome("timeout", 101, f"no nglint-42-ok in {output[-200:]!r}",
                   time.monotonic() - start)


def terminal_echo(browser: Browser, name: str) -> Outcome:
    """Open the terminal's websocket, run ``echo nglint-$((6*7))-ok``, wait for its result.

    The marker is matched alone, not at the start of a line: the shell may print its
    prompt after the terminal has already echoed the typed command (seen in CI: the
    line ``# nglint-42-ok``), and the echoed command never contains the result.
    """
    import websocket

    start = time.monotonic()
    sock, failed = browser.connect(f"terminals/websocket/{name}")
    if failed:
        return failed
    output = ""
    try:
        sock.send(json.dumps(["stdin", "echo nglint-$((6*7))-ok\r"]))
        deadline = start + TERMINAL_TIMEOUT
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            raw = sock.recv()
            if raw == "":
                return _closed(start, "close frame")
            kind, *rest = json.loads(raw)
            if kind == "stdout":
                output += str(rest[0])
                if "nglint-42-ok" in output:
                    return Outcome("ok", 101, "terminal echoed 42", time.monotonic() - start)
        return _no_echo(start, output)
    except websocket.WebSocketTimeoutException:
        return _no_echo(start, output)
    except (websocket.WebSocketException, OSError) as error:
        return _closed(start, error)
    finally:
        with contextlib.suppress(Exception):
            sock.close()


def events_socket(browser: Browser, idle: float = 0.0) -> Outcome:
    """Open ``api/events/subscribe``, stay silent ``idle`` seconds, then ping it.

    Nothing is sent while idle: traffic in either direction resets nginx's read timeout.
    Frames Jupyter sends meanwhile restart the idle clock.
    """
    import websocket

    start = time.monotonic()
    sock, failed = browser.connect("api/events/subscribe")
    if failed:
        return failed
    try:
        last = time.monotonic()
        while (remaining := last + idle - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                opcode, _ = sock.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return _closed(start, "close frame")
            last = time.monotonic()
        sock.settimeout(WS_TIMEOUT)
        sock.ping(b"nglint")
        while True:
            opcode, _ = sock.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_PONG:
                return Outcome("ok", 101, f"open, pong after {idle:.0f}s idle",
                               time.monotonic() - start)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return _closed(start, "close frame")
    except websocket.WebSocketTimeoutException:
        return Outcome("timeout", 101, "no pong", time.monotonic() - start)
    except (websocket.WebSocketException, OSError) as error:
        return _closed(start, error)
    finally:
        with contextlib.suppress(Exception):
            sock.close()


# -- the cases ------------------------------------------------------------------------------


@dataclass
class Run:
    """One case in progress: the servers, the client and what to clean up."""

    jupyter: Jupyter
    nginx: Nginx
    version: str
    original: str = ""
    kernels: list[str] = field(default_factory=list)
    terminals: list[str] = field(default_factory=list)

    def browser(self) -> Browser:
        browser = Browser(self.nginx, self.jupyter)
        browser.login()
        return browser

    def kernel_direct(self) -> str:
        """A kernel created straight at Jupyter: BEFORE isolates the websocket path."""
        status, body = self.jupyter.request("POST", "api/kernels")
        assert status == 201, f"POST api/kernels to Jupyter: {status} {body[:300]!r}"
        self.kernels.append(json.loads(body)["id"])
        return self.kernels[-1]

    def kernel_via(self, browser: Browser) -> tuple[int, str]:
        status, body = browser.rest("POST", "api/kernels")
        if status == 201:
            self.kernels.append(json.loads(body)["id"])
            return status, self.kernels[-1]
        return status, body[:300].decode("utf-8", "replace")

    def terminal_via(self, browser: Browser) -> tuple[int, str]:
        status, body = browser.rest("POST", "api/terminals")
        if status == 200:
            self.terminals.append(json.loads(body)["name"])
            return status, self.terminals[-1]
        return status, body[:300].decode("utf-8", "replace")

    def cleanup(self) -> None:
        for kernel in self.kernels:
            with contextlib.suppress(Exception):
                self.jupyter.request("DELETE", f"api/kernels/{kernel}")
        for name in self.terminals:
            with contextlib.suppress(Exception):
                self.jupyter.request("DELETE", f"api/terminals/{name}")

    def context(self) -> str:
        diff = "".join(difflib.unified_diff(
            self.original.splitlines(True), self.nginx.conf.read_text().splitlines(True),
            "before", "after"))
        return (f"\n--- fix diff ---\n{diff or '(no change)'}\n--- nginx error.log ---\n"
                f"{self.nginx.logs()}\n--- jupyter log ---\n{self.jupyter.logs()}")


def expect_handshake(outcome: Outcome, status: int, body: str, run: Run) -> None:
    assert outcome.kind == "handshake" and outcome.status == status, (
        f"expected a {status} handshake, got {outcome}{run.context()}")
    assert body in outcome.detail, f"expected {body!r} in {outcome.detail!r}{run.context()}"


def before_seed(run: Run) -> None:
    browser = run.browser()
    # NG102/NG103 on `location /`: Jupyter refuses the events socket without Upgrade.
    events = events_socket(browser)
    expect_handshake(events, 400, 'Can "Upgrade" only to "WebSocket"', run)
    # NG106 on the kernels regex: `Host $host` drops the port the Origin carries.
    kernel = kernel_one_plus_one(browser, run.kernel_direct())
    expect_handshake(kernel, 403, "Cross origin websockets not allowed", run)


def before_no_http_version(run: Run) -> None:
    # NG101: Jupyter answers 101 to the HTTP/1.0 request, then the tunnel drops at once.
    kernel = kernel_one_plus_one(run.browser(), run.kernel_direct())
    assert kernel.kind == "closed" and kernel.status == 101, (
        f"expected a close right after 101, got {kernel}{run.context()}")


def before_no_upgrade(run: Run) -> None:
    # NG102: without Upgrade, Tornado refuses the handshake.
    kernel = kernel_one_plus_one(run.browser(), run.kernel_direct())
    expect_handshake(kernel, 400, 'Can "Upgrade" only to "WebSocket"', run)


def before_regex_only(run: Run) -> None:
    browser = run.browser()
    # The regex location does serve kernel channels...
    kernel = kernel_one_plus_one(browser, run.kernel_direct())
    assert kernel.ok, f"the kernels regex location should work: {kernel}{run.context()}"
    # ...but NG101-NG103 on `location /`: the events socket is refused.
    events = events_socket(browser)
    expect_handshake(events, 400, 'Can "Upgrade" only to "WebSocket"', run)


def before_host_dropped(run: Run) -> None:
    # NG005/NG106: Jupyter sees Host 127.0.0.1:<its own port>, the Origin names nginx's.
    kernel = kernel_one_plus_one(run.browser(), run.kernel_direct())
    expect_handshake(kernel, 403, "Cross origin websockets not allowed", run)


def before_short_timeout(run: Run) -> None:
    # NG104: the events socket (no server ping) is closed after 3 s without traffic.
    events = events_socket(run.browser(), idle=SHORT_READ_TIMEOUT + 4)
    assert events.kind == "closed" and events.status == 101, (
        f"expected the idle events socket to be closed, got {events}{run.context()}")
    assert SHORT_READ_TIMEOUT - 0.5 <= events.elapsed <= SHORT_READ_TIMEOUT + 2.5, (
        f"closed after {events.elapsed:.1f}s, expected about {SHORT_READ_TIMEOUT:.0f}s")


def before_prefix(run: Run) -> None:
    # NG102 under /jupyter/: no Upgrade, Tornado refuses the handshake.
    kernel = kernel_one_plus_one(run.browser(), run.kernel_direct())
    expect_handshake(kernel, 400, 'Can "Upgrade" only to "WebSocket"', run)


@dataclass(frozen=True)
class Case:
    name: str
    base_url: str
    expect: tuple[Expect, ...]
    before: Callable[[Run], None]
    idle_after: float = 0.0  # events socket silence the fixed config must survive
    style: str = "strict"  # the upgrade style the fix writes (`upgrade-style`)
    fixture: str = ""  # the template, when it is another case's

    @property
    def template(self) -> str:
        return f"{self.fixture or self.name}.conf"


ROOT = "location / {"
KERNELS = "location ~ /api/kernels/ {"
TERMINALS = "location ~ /terminals/ {"

CASES = [
    Case("a_seed", "/", (
        Expect("NG101", ROOT, "error"), Expect("NG102", ROOT, "error"),
        Expect("NG103", ROOT, "error"), Expect("NG106", ROOT),
        Expect("NG102", KERNELS, "warning"), Expect("NG103", KERNELS, "warning"),
        Expect("NG106", KERNELS),
        Expect("NG102", TERMINALS, "warning"), Expect("NG103", TERMINALS, "warning"),
        Expect("NG106", TERMINALS)), before_seed),
    Case("b_no_http_version", "/", (Expect("NG101", ROOT, "error"),), before_no_http_version),
    Case("c_no_upgrade", "/", (Expect("NG102", ROOT, "error"),), before_no_upgrade),
    Case("d_regex_only", "/", (
        Expect("NG101", ROOT, "error"), Expect("NG102", ROOT, "error"),
        Expect("NG103", ROOT, "error")), before_regex_only),
    Case("e_host_dropped", "/", (Expect("NG005", ROOT), Expect("NG106", ROOT)),
         before_host_dropped),
    Case("f_short_timeout", "/", (Expect("NG104", ROOT, "error"),), before_short_timeout,
         idle_after=SHORT_READ_TIMEOUT + 2),
    Case("g_prefix", "/jupyter/", (Expect("NG102", "location /jupyter/ {", "error"),),
         before_prefix),
    # an upstream with keepalive: the fix's Connection map keeps it (default "")
    Case("h_keepalive", "/", (Expect("NG102", ROOT, "error"), Expect("NG103", ROOT, "error")),
         before_no_upgrade),
    # every upgrade style carries a real kernel websocket (`upgrade-style = "classic"`)
    Case("a_seed_classic", "/", (Expect("NG102", ROOT, "error"),), before_seed,
         style="classic", fixture="a_seed"),
    Case("h_keepalive_classic", "/", (Expect("NG103", ROOT, "error"),), before_no_upgrade,
         style="classic", fixture="h_keepalive"),
]


def after_step(what: str, outcome: Outcome, codes: frozenset[str], run: Run) -> None:
    """Pass, or fail saying what nglint still reports on the fixed file."""
    if outcome.ok:
        return
    left = [f for f in lint(run.nginx.conf, run.version)
            if f["code"] in codes and f["severity"] in ("error", "warning")]
    if left:
        pytest.fail(f"AFTER {what} failed ({outcome}): `nglint check --fix` did not fix "
                    + "; ".join(f"{f['code']} line {f['line']}: {f['message'][:120]}"
                                for f in left) + run.context())
    pytest.fail(f"AFTER {what} failed: {outcome}; nglint reports nothing that explains "
                f"it{run.context()}")


def test_cases_cover_every_fixture():
    assert {c.template for c in CASES} == {
        p.name for p in (REPO / "fixtures" / "e2e").glob("*.conf")}
    assert {c.style for c in CASES} == set(STYLES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_e2e(case: Case, jupyter, nginx, e2e_tools):
    version = ".".join(map(str, e2e_tools["nginx_version"]))
    if case.name == "b_no_http_version" and e2e_tools["nginx_version"] >= HTTP_1_1_DEFAULT:
        pytest.skip(f"nginx {version} proxies with HTTP/1.1 by default: case b cannot fail")
    server = jupyter(case.base_url)
    run = Run(server, nginx(server.port), version)
    conf = run.nginx.render(case.template)
    run.original = conf.read_text()
    try:
        # BEFORE: the findings, then the failure they announce.
        found = lint(conf, version)
        for expect in case.expect:
            line = anchor_line(run.original, expect.anchor)
            # at the location, or at a directive written in it (the location related)
            assert any(f["code"] == expect.code
                       and (f["line"] == line or any(r["role"] == "location"
                                                     and r["line"] == line
                                                     for r in f["related"]))
                       and (expect.severity is None or f["severity"] == expect.severity)
                       for f in found), (
                f"{case.name}: expected {expect.code} [{expect.severity or 'any'}] on line "
                f"{line} ({expect.anchor}); nglint reported:\n{show(found)}")
        check = run.nginx.test_config()
        assert check.returncode == 0, f"nginx -t on the original:\n{check.stderr}"
        run.nginx.start()
        case.before(run)

        # FIX: in place, in the case's upgrade style, then nginx must accept the result.
        (conf.parent / ".nglint.toml").write_text(f'upgrade-style = "{case.style}"\n')
        fixed = run_nglint("check", "--fix", "--nginx-version", version, str(conf))
        written = conf.read_text()
        codes = {expect.code for expect in case.expect}
        if "NG102" in codes:  # the Upgrade line is the style's
            assert ("$websocket_upgrade" in written) == (case.style == "strict"), written
        if "NG103" in codes:  # an upstream with keepalive keeps it alive
            assert ("_keepalive" in written) == ("keepalive" in case.name), written
        assert_no_crash(fixed, "nglint check --fix")
        check = run.nginx.test_config()
        assert check.returncode == 0, (
            f"nginx -t rejects the fixed file:\n{check.stderr}{run.context()}")

        # AFTER: restart on the fixed file; kernel, terminal and events all work.
        run.nginx.restart()
        browser = run.browser()
        status, kernel = run.kernel_via(browser)
        if status != 201:
            after_step("POST api/kernels through nginx",
                       Outcome("error", status, kernel), REST_CODES, run)
        after_step("kernel channels 1+1", kernel_one_plus_one(browser, kernel), WS_CODES, run)
        status, name = run.terminal_via(browser)
        if status != 200:
            after_step("POST api/terminals through nginx",
                       Outcome("error", status, name), REST_CODES, run)
        after_step("terminal websocket", terminal_echo(browser, name), WS_CODES, run)
        events = events_socket(browser, idle=case.idle_after)
        after_step(f"events socket ({case.idle_after:.0f}s idle)", events,
                   IDLE_CODES if case.idle_after else WS_CODES, run)
    finally:
        run.cleanup()
