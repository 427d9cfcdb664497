"""Jupyter Server: JupyterLab, Notebook 7 and the classic Notebook (6.x).

Every handler is mounted below ``base_url`` (``ServerApp.base_url``, which begins
and ends with ``/``).  Websockets and what they need:

- ``api/kernels/<id>/channels``: jupyter_server
  ``jupyter_server/services/kernels/websocket.py`` (``KernelWebsocketHandler``);
  pings every 30 s (``WebSocketMixin``, ``ws_ping_interval`` default 30000 ms in
  ``jupyter_server/base/websocket.py``); notebook 6.5 ``notebook/base/zmqhandlers.py``
  (``WS_PING_INTERVAL = 30000``);
- ``terminals/websocket/<name>``: jupyter_server_terminals ``handlers.py``
  (``TermSocket``, a ``WebSocketMixin``: pings);
- ``api/events/subscribe``: jupyter_server ``services/events/handlers.py``
  (``SubscribeWebsocket``: a plain tornado ``WebSocketHandler``, no ping);
- ``api/collaboration/room/<id>``: jupyter-collaboration (``YDocWebSocketHandler``,
  no ping); ``api/yjs/<room>``: JupyterLab 3 real-time collaboration;
- ``lsp/ws/<server>``: jupyter-lsp ``jupyter_lsp/handlers.py`` (``LanguageServerWebSocketHandler``,
  a ``WebSocketMixin``: pings).

The UI paths (``lab``, ``tree``, ``notebooks``, ``edit``, ``terminals``) show the
base URL.  Tornado refuses an upgrade without ``Upgrade``/``Connection``
(``tornado/websocket.py``: ``Can "Upgrade" only to "WebSocket".``, ``"Connection"
must be "Upgrade".``) and a websocket whose ``Origin`` differs from ``Host``
(``check_origin``, 403).  Facts: ``../shared/guide/JUPYTER-FACTS.md``.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

SAMPLE_KERNEL = "0b6d3f50-9c1e-4c5e-8f3e-6a2f9d1c7b42"
JUPYTER_NAME = r"jupyter|(?<![a-z0-9])notebook(?![a-z0-9])|jupyterlab"

# Tornado's check_origin refuses a websocket whose Origin differs from Host (403)
NEEDS = frozenset({"http11", "upgrade", "connection", "timeout", "origin"})

ENDPOINTS = (
    Endpoint("kernels", "kernel channels", "api/kernels/<id>/channels",
             f"api/kernels/{SAMPLE_KERNEL}/channels", ping=30),
    Endpoint("terminals", "terminals", "terminals/websocket/<name>", "terminals/websocket/1",
             ping=30),
    Endpoint("events", "events", "api/events/subscribe", "api/events/subscribe"),
    Endpoint("collaboration", "collaboration", "api/collaboration/room/<id>",
             "api/collaboration/room/json:notebook:4c1d1f3e"),
    Endpoint("yjs", "real-time collaboration (JupyterLab 3)", "api/yjs/<room>",
             "api/yjs/json:notebook:4c1d1f3e"),
    Endpoint("lsp", "language server", "lsp/ws/<server>", "lsp/ws/pylsp", ping=30),
)

PROFILE = Profile(
    name="jupyter-server",
    title="Jupyter",
    aliases=("jupyter", "jupyterlab", "notebook", "jupyter_server"),
    signs=(
        Sign(PATH, r"api/kernels|terminals/websocket|api/events/subscribe|api/contents|lsp/ws",
             STRONG, "a Jupyter endpoint in the location path"),
        Sign(PATH, JUPYTER_NAME, STRONG, "the location path names Jupyter"),
        Sign(PATH, r"^/?(?:[\w.-]+/)*(?:lab|tree|notebooks)/?$", WEAK,
             "a Jupyter UI path (lab, tree, notebooks)"),
        Sign(TARGET, JUPYTER_NAME, STRONG, "the proxy target names Jupyter"),
        Sign(TARGET, r":8888\b", STRONG, "port 8888 (Jupyter's default)"),
        Sign(COMMENT, r"jupyter(?!hub)", STRONG, "a comment names Jupyter"),
        Sign(SERVER, r"jupyter(?!hub)", WEAK, "the server's settings name Jupyter"),
    ),
    endpoints=ENDPOINTS,
    ui_paths=("lab", "tree", "notebooks", "edit", "terminals", "api/kernels", "api/contents",
              "api/events", "lsp/", "static/"),
    symptom="the kernel stays 'Connecting'",
    sources=(
        "jupyter_server/services/kernels/websocket.py",
        "jupyter_server/base/websocket.py (ws_ping_interval, 30 s)",
        "jupyter_server/services/events/handlers.py",
        "jupyter_server_terminals/handlers.py",
        "jupyter_lsp/handlers.py",
        "https://jupyter-server.readthedocs.io/en/latest/operators/public-server.html",
    ),
    needs=NEEDS,
    jupyter=True,
)

# samples the Jupyter-only rules send: static assets (NG109) and a contents save (NG108)
STATIC_SAMPLES = ("static/lab/main.3b1f.js", "static/notebook/app.css")
CONTENTS_SAMPLE = "api/contents/Untitled.ipynb"
