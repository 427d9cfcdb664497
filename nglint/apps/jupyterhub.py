"""JupyterHub: the hub, single-user servers, named servers and services.

The hub serves its pages and API below ``{base}hub/`` (``JupyterHub.base_url``,
default ``/``) and has no websockets of its own.  Its proxy (configurable-http-proxy,
port 8000 by default; the hub itself on 8081) routes ``{base}user/<name>/`` to
each user's single-user Jupyter Server, ``{base}user/<name>/<server>/`` to named
servers and ``{base}services/<name>/`` to services, which may be notebook servers
with kernels of their own: every Jupyter Server websocket exists below each of
these mounts.  Sources: JupyterHub docs ``howto/configuration/config-proxy.md``
(the nginx example: map, HTTP/1.1, Upgrade/Connection on the whole prefix),
``reference/urls.md`` (``/user/:name``, ``/user/:name/:server_name``,
``/services/:name``), ``reference/services.md``; ``jupyterhub/app.py``
(``port`` 8000, ``hub_port`` 8081).
"""

from __future__ import annotations

from nglint.apps.jupyter_server import ENDPOINTS, NEEDS
from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Profile, Sign

SAMPLE_USER = "nglint"
SAMPLE_NAMED_SERVER = "nglint-named"
SAMPLE_SERVICE = "nglint-service"

PROFILE = Profile(
    name="jupyterhub",
    title="JupyterHub",
    aliases=("hub", "jhub"),
    signs=(
        Sign(PATH, r"jupyterhub|jhub", STRONG, "the location path names JupyterHub"),
        Sign(PATH, r"(?:^|/|\()hub(?:/|\b)", WEAK, "a /hub/ path"),
        Sign(PATH, r"(?:^|/|\()user(?:/|\b)|services/", WEAK, "a /user/ or /services/ path"),
        Sign(TARGET, r"jupyterhub|jhub|proxy-public|(?<![a-z0-9])hub(?![a-z0-9])", STRONG,
             "the proxy target names JupyterHub"),
        Sign(TARGET, r":8000\b", WEAK, "port 8000 (JupyterHub's proxy)"),
        Sign(TARGET, r":8081\b", STRONG, "port 8081 (the hub)"),
        Sign(COMMENT, r"jupyterhub|jhub", STRONG, "a comment names JupyterHub"),
        Sign(SERVER, r"jupyterhub|jhub", WEAK, "the server's settings name JupyterHub"),
        Sign(SERVER, r"(?<![a-z0-9])hub(?![a-z0-9])", WEAK,
             "the word hub in the server's names or settings"),
    ),
    endpoints=ENDPOINTS,
    mounts=(
        ("user/<name>/", f"user/{SAMPLE_USER}/"),
        ("user/<name>/<server>/", f"user/{SAMPLE_USER}/{SAMPLE_NAMED_SERVER}/"),
        ("services/<name>/", f"services/{SAMPLE_SERVICE}/"),
    ),
    ui_paths=("hub/", "user/", "services/"),
    symptom="the kernel stays 'Connecting'",
    sources=(
        "https://jupyterhub.readthedocs.io/en/stable/howto/configuration/config-proxy.html",
        "https://jupyterhub.readthedocs.io/en/stable/reference/urls.html",
        "https://jupyterhub.readthedocs.io/en/stable/reference/services.html",
        "jupyterhub/app.py (port 8000, hub_port 8081)",
    ),
    needs=NEEDS,
    jupyter=True,
)
