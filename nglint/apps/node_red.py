"""Node-RED: the flow editor.

- The editor keeps one websocket at ``{httpAdminRoot}comms``: node-red
  ``packages/node_modules/@node-red/editor-api/lib/editor/comms.js`` (``start``: ``commsPath``
  is ``httpAdminRoot`` plus ``comms``, matched exactly on ``upgrade``) and
  ``@node-red/editor-client/src/js/comms.js`` (the client's ``wspath``).
- The server sends a heartbeat (``hb``) message to every connection that has been quiet
  for ``webSocketKeepAliveTime`` (15 s), checked every 15 s (``comms.js``, ``heartbeatTimer``):
  an idle editor hears from it at least every 30 s.
- Default port 1880: ``packages/node_modules/node-red/settings.js`` (``uiPort: process.env.PORT
  || 1880``), ``red.js``; ``httpAdminRoot`` moves the editor (and ``comms``) below a path.

Without the websocket, the editor shows "Lost connection to server, reconnecting..." and
node status and debug messages never arrive.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

NAME = r"node[-_]?red"

PROFILE = Profile(
    name="node-red",
    title="Node-RED",
    aliases=("nodered", "node_red"),
    signs=(
        Sign(PATH, NAME, STRONG, "the location path names Node-RED"),
        Sign(PATH, r"(?:^|/)comms/?$", WEAK, "Node-RED's editor websocket path (comms)"),
        Sign(TARGET, NAME, STRONG, "the proxy target names Node-RED"),
        Sign(TARGET, r":1880\b", STRONG, "port 1880 (Node-RED's default)"),
        Sign(COMMENT, NAME, STRONG, "a comment names Node-RED"),
        Sign(SERVER, NAME, WEAK, "the server's settings name Node-RED"),
    ),
    endpoints=(
        Endpoint("comms", "editor", "comms", "comms", ping=30),
    ),
    ui_paths=("comms", "red/", "flows", "icons/", "vendor/", "locales/"),
    symptom="the editor shows 'Lost connection to server, reconnecting...' and debug "
            "messages never arrive",
    sources=(
        "node-red packages/node_modules/@node-red/editor-api/lib/editor/comms.js "
        "(commsPath, webSocketKeepAliveTime 15000, heartbeatTimer)",
        "node-red packages/node_modules/@node-red/editor-client/src/js/comms.js (wspath)",
        "node-red packages/node_modules/node-red/settings.js (uiPort 1880, httpAdminRoot)",
    ),
)
