"""noVNC and websockify: a VNC desktop in the browser.

- noVNC's client connects to ``{base}websockify`` unless told otherwise: noVNC
  ``app/ui.js`` (``UI.initSetting('path', 'websockify')``); the page itself is
  ``vnc.html`` (or ``vnc_lite.html``).
- ``utils/novnc_proxy`` starts websockify (serving noVNC's files and the websocket) on
  port 6080 by default (``PORT="6080"``, "Default: 6080").
- websockify pings only when asked: ``websockify/websocketproxy.py`` (``--heartbeat``,
  ``default=0``).  The VNC protocol is silent while the screen does not change, so an
  idle desktop drops at the read timeout.
- The noVNC wiki's nginx recipe ("Proxying with nginx",
  https://github.com/novnc/noVNC/wiki/Proxying-with-nginx) forwards ``Upgrade`` and
  ``Connection`` on the websockify location with HTTP/1.1.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

NAME = r"novnc|websockify"

PROFILE = Profile(
    name="novnc",
    title="noVNC",
    aliases=("websockify", "vnc"),
    signs=(
        Sign(PATH, NAME, STRONG, "the location path names noVNC / websockify"),
        Sign(PATH, r"vnc(?:_lite)?\.html", STRONG, "noVNC's page (vnc.html)"),
        Sign(TARGET, NAME, STRONG, "the proxy target names noVNC / websockify"),
        Sign(TARGET, r":6080\b", STRONG, "port 6080 (novnc_proxy's default)"),
        Sign(COMMENT, NAME, STRONG, "a comment names noVNC / websockify"),
        Sign(SERVER, r"novnc|websockify|(?<![a-z0-9])vnc(?![a-z0-9])", WEAK,
             "the server's settings name VNC"),
    ),
    endpoints=(
        Endpoint("websockify", "VNC", "websockify", "websockify"),
    ),
    ui_paths=("vnc.html", "vnc_lite.html", "app/", "core/", "vendor/"),
    symptom="the viewer shows 'Failed to connect to server' or disconnects when the screen "
            "is idle",
    sources=(
        "noVNC app/ui.js (path setting, default 'websockify')",
        "noVNC utils/novnc_proxy (PORT=\"6080\")",
        "websockify websockify/websocketproxy.py (--heartbeat, default 0)",
        "https://github.com/novnc/noVNC/wiki/Proxying-with-nginx",
    ),
)
