"""Grafana: Grafana Live.

- Grafana Live is one websocket per browser tab at ``{base}api/live/ws``: grafana
  ``pkg/services/live/live.go`` (``RouteRegister.Group("/api/live", ...)``:
  ``group.Get("/ws", g.websocketHandler)``).  The push endpoints below ``api/live/push/``
  (``/push/:streamId``, ``/pipeline/push/*``) are for data senders such as Telegraf, not
  browsers; they are not modelled.
- The tutorial "Run Grafana behind a reverse proxy"
  (https://grafana.com/tutorials/run-grafana-behind-a-proxy/, grafana
  ``docs/sources/tutorials/run-grafana-behind-a-proxy/index.md``) gives the nginx recipe:
  the ``$http_upgrade`` map "required to proxy Grafana Live WebSocket connections", and a
  location for ``api/live/`` with HTTP/1.1, ``Upgrade`` and ``Connection``.
- Live runs on centrifuge, which pings every 25 s unless configured
  (centrifuge ``config.go``: ``defaultPingInterval = 25 * time.Second``,
  ``getPingPongPeriodValues``); ``live.go`` sets no ping of its own
  (``centrifuge.WebsocketConfig`` with buffer sizes only).
- Default port 3000: grafana ``conf/defaults.ini`` (``http_port = 3000``), a port many
  Node apps share, hence a weak sign.

Without the websocket, panels fed by Live (dashboard change notices, streaming data
sources) never update; Grafana retries the connection.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

PROFILE = Profile(
    name="grafana",
    title="Grafana",
    aliases=("grafana-live",),
    signs=(
        Sign(PATH, r"grafana", STRONG, "the location path names Grafana"),
        Sign(PATH, r"api/live", STRONG, "a Grafana Live path (api/live)"),
        Sign(TARGET, r"grafana", STRONG, "the proxy target names Grafana"),
        Sign(TARGET, r":3000\b", WEAK, "port 3000 (Grafana's default; shared by many apps)"),
        Sign(COMMENT, r"grafana", STRONG, "a comment names Grafana"),
        Sign(SERVER, r"grafana", WEAK, "the server's settings name Grafana"),
    ),
    endpoints=(
        Endpoint("live", "Live", "api/live/ws", "api/live/ws", ping=25),
    ),
    ui_paths=("api/", "public/", "d/", "dashboards", "explore", "login", "avatar/"),
    symptom="live dashboards never update (streaming panels and dashboard change notices)",
    sources=(
        "https://grafana.com/tutorials/run-grafana-behind-a-proxy/",
        "grafana pkg/services/live/live.go (RouteRegister.Group(\"/api/live\"): /ws)",
        "centrifuge config.go (defaultPingInterval = 25 * time.Second)",
        "grafana conf/defaults.ini (http_port = 3000)",
    ),
)
