"""Gradio.

Only Gradio 3.x has a websocket: with the queue on, every event opens
``{root_path}queue/join`` (gradio 3.50 ``gradio/routes.py``: ``@app.websocket("/queue/join")``,
``join_queue``).  Gradio 4.0 replaced it with server-sent events: ``GET queue/join``
(4.0 ``routes.py``: ``@app.get("/queue/join")``), later ``POST {root}gradio_api/queue/join``
plus the ``gradio_api/queue/data`` event stream (``API_PREFIX = "/gradio_api"`` in
``gradio/route_utils.py``); current Gradio registers no websocket route at all.  An event
stream needs no upgrade but must not be buffered (``proxy_buffering off``, as Gradio's
nginx guide says: https://www.gradio.app/guides/running-gradio-on-your-web-server-with-nginx,
gradio ``guides/10_other-tutorials/running-gradio-on-your-web-server-with-nginx.md``);
nglint models only the 3.x websocket here.

- Gradio 3.x serves through uvicorn, whose websocket ping interval defaults to 20 s
  (uvicorn ``config.py``, ``Config(ws_ping_interval=20.0)``; gradio 3.50
  ``networking.py`` sets only ``ws_max_size``).
- Default port 7860: ``gradio/blocks.py`` (``launch``: "will search for an available port
  starting at 7860"), ``gradio/routes.py`` (``server_port: int = 7860``).
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

PROFILE = Profile(
    name="gradio",
    title="Gradio",
    signs=(
        Sign(PATH, r"gradio", STRONG, "the location path names Gradio"),
        Sign(PATH, r"queue/join", WEAK, "Gradio's queue path"),
        Sign(TARGET, r"gradio", STRONG, "the proxy target names Gradio"),
        Sign(TARGET, r":7860\b", STRONG, "port 7860 (Gradio's default)"),
        Sign(COMMENT, r"gradio", STRONG, "a comment names Gradio"),
        Sign(SERVER, r"gradio", WEAK, "the server's settings name Gradio"),
    ),
    endpoints=(
        Endpoint("queue", "queue (Gradio 3.x)", "queue/join", "queue/join", ping=20,
             only="Gradio 3.x"),
    ),
    ui_paths=("gradio_api/", "queue/", "config", "assets/", "theme.css"),
    symptom="events never run: the queue connection fails and outputs show 'Error'",
    sources=(
        "gradio 3.50 gradio/routes.py (@app.websocket(\"/queue/join\"))",
        "gradio 4.0 gradio/routes.py (@app.get(\"/queue/join\"): server-sent events)",
        "gradio gradio/route_utils.py (API_PREFIX = \"/gradio_api\")",
        "gradio gradio/blocks.py, gradio/routes.py (port 7860)",
        "uvicorn config.py (ws_ping_interval 20.0)",
        "https://www.gradio.app/guides/running-gradio-on-your-web-server-with-nginx",
    ),
)
