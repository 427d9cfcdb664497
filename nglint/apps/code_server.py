"""code-server and openvscode-server: VS Code in the browser.

The whole workbench talks to its server over one websocket per connection kind
(management, extension host), opened below the deployment's base URL:

- The client opens ``{base}<quality>-<commit>?reconnectionToken=<uuid>&reconnection=false
  &skipWebSocketFrames=false``: VS Code ``src/vs/platform/remote/common/remoteAgentConnection.ts``
  (``connectToRemoteExtensionHostAgent``: path ``RemoteAuthorities.getServerRootPath()``,
  query ``reconnectionToken=...&reconnection=...``), ``src/vs/base/common/network.ts``
  (``getServerRootPath``: ``<quality>-<commit>``, e.g. ``stable-<commit>``), and
  ``browserSocketFactory.ts`` (``BrowserSocketFactory.connect`` appends
  ``&skipWebSocketFrames=false``).  code-server's ``patches/base-path.diff`` prefixes the
  path with the page's own path, so the socket lives below whatever base the proxy uses.
- code-server accepts a websocket on any path below its root: ``src/node/routes/vscode.ts``
  (``wsRouter.ws(/.*/, ...)``, mounted at ``/`` and ``/vscode`` in ``src/node/routes/index.ts``).
- Both ends of VS Code's ``PersistentProtocol`` send a keep-alive message every 5 s
  (``src/vs/base/parts/ipc/common/ipc.net.ts``, ``ProtocolConstants.KeepAliveSendTime = 5000``):
  the socket is never idle for nginx.
- Default port 8080: code-server ``src/node/cli.ts`` (``bind-addr: 127.0.0.1:8080``,
  ``port: 8080``), a port many other apps use too, hence a weak sign.
- The official nginx recipe forwards ``Upgrade``/``Connection``: code-server ``docs/guide.md``
  (https://coder.com/docs/code-server/guide#using-lets-encrypt-with-nginx); without them the
  workbench fails with "WebSocket close with status code 1006"
  (https://github.com/coder/code-server/issues/4443, /issues/6023).

``_static/`` (code-server's own assets), ``healthz``, ``login``, ``proxy/`` and ``absproxy/``
are paths right below its base (``src/node/routes/index.ts``).
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

NAME = r"code-?server|openvscode|(?<![a-z0-9])vscode(?![a-z0-9])"
SAMPLE_COMMIT = "e170252f762678dec6ca2cc69aba1570769a5d39"
SAMPLE_TOKEN = "0f5c2b8e-4d1a-4c3b-9e7f-2a6d8b1c3e5f"

PROFILE = Profile(
    name="code-server",
    title="code-server",
    aliases=("openvscode-server", "openvscode", "vscode", "code_server"),
    signs=(
        Sign(PATH, NAME, STRONG, "the location path names code-server / VS Code"),
        Sign(PATH, r"(?:^|/)code(?:/|$)", WEAK, "a /code/ path"),
        Sign(TARGET, NAME, STRONG, "the proxy target names code-server / VS Code"),
        Sign(TARGET, r":8080\b", WEAK, "port 8080 (code-server's default; shared by many apps)"),
        Sign(COMMENT, r"code-?server|openvscode|vs ?code", STRONG,
             "a comment names code-server / VS Code"),
        Sign(SERVER, r"code-?server|openvscode|vscode|(?<![\w.-])code\.", WEAK,
             "the server's settings name code-server"),
    ),
    endpoints=(
        Endpoint("remote", "workbench connection",
                 "<quality>-<commit>?reconnectionToken=<uuid>&reconnection=false"
                 "&skipWebSocketFrames=false",
                 f"stable-{SAMPLE_COMMIT}?reconnectionToken={SAMPLE_TOKEN}&reconnection=false"
                 "&skipWebSocketFrames=false",
                 ping=5),
    ),
    ui_paths=("_static/", "healthz", "login", "proxy/", "absproxy/"),
    symptom="the workbench fails with 'WebSocket close with status code 1006' and reloads",
    sources=(
        "https://coder.com/docs/code-server/guide (code-server docs/guide.md, the nginx recipe)",
        "code-server src/node/cli.ts (bind-addr 127.0.0.1:8080)",
        "code-server src/node/routes/vscode.ts (wsRouter.ws(/.*/, ...))",
        "code-server patches/base-path.diff (BrowserSocketFactory.connect: path below the page)",
        "vscode src/vs/platform/remote/common/remoteAgentConnection.ts "
        "(connectToRemoteExtensionHostAgent: reconnectionToken query)",
        "vscode src/vs/base/common/network.ts (getServerRootPath: <quality>-<commit>)",
        "vscode src/vs/base/parts/ipc/common/ipc.net.ts (ProtocolConstants.KeepAliveSendTime 5000)",
    ),
)
