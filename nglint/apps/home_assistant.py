"""Home Assistant.

- The frontend, the companion apps and most integrations talk to Home Assistant over
  one websocket at ``/api/websocket``: home-assistant/core
  ``homeassistant/components/websocket_api/const.py`` (``URL = "/api/websocket"``),
  ``websocket_api/http.py`` (``WebsocketAPIView``).  Home Assistant serves from the root
  of its host: it has no base-path setting.
- The server pings: ``WebSocketHandler.__init__`` opens ``web.WebSocketResponse(heartbeat=55)``
  (aiohttp sends a ping every 55 s), just under nginx's 60 s default read timeout.
- Default port 8123: ``homeassistant/const.py`` (``SERVER_PORT: Final = 8123``);
  the NGINX documentation page ("Do not forward port 8123") proxies to
  ``http://localhost:8123`` with the ``$http_upgrade`` map, HTTP/1.1, ``Upgrade`` and
  ``Connection``: home-assistant.io ``source/_docs/ecosystem/nginx.markdown``
  (https://www.home-assistant.io/docs/ecosystem/nginx/).

Without the websocket, the frontend shows "Unable to connect to Home Assistant" and retries.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

NAME = r"home[-_ ]?assistant|(?<![a-z0-9])hass(?![a-z0-9])"

PROFILE = Profile(
    name="home-assistant",
    title="Home Assistant",
    aliases=("homeassistant", "hass", "home_assistant"),
    signs=(
        Sign(PATH, NAME, STRONG, "the location path names Home Assistant"),
        Sign(PATH, r"api/websocket", STRONG, "Home Assistant's websocket API path"),
        Sign(TARGET, NAME, STRONG, "the proxy target names Home Assistant"),
        Sign(TARGET, r":8123\b", STRONG, "port 8123 (Home Assistant's default)"),
        Sign(COMMENT, NAME, STRONG, "a comment names Home Assistant"),
        Sign(SERVER, NAME, WEAK, "the server's settings name Home Assistant"),
    ),
    endpoints=(
        Endpoint("websocket", "websocket API", "api/websocket", "api/websocket", ping=55),
    ),
    ui_paths=("lovelace", "frontend_latest/", "auth/", "api/", "local/", "hacsfiles/"),
    symptom="the frontend shows 'Unable to connect to Home Assistant' and states never update",
    sources=(
        "home-assistant/core homeassistant/components/websocket_api/const.py (URL)",
        "home-assistant/core homeassistant/components/websocket_api/http.py "
        "(WebSocketResponse(heartbeat=55))",
        "home-assistant/core homeassistant/const.py (SERVER_PORT = 8123)",
        "https://www.home-assistant.io/docs/ecosystem/nginx/ "
        "(home-assistant.io source/_docs/ecosystem/nginx.markdown)",
    ),
)
