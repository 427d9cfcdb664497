"""RStudio Server and Posit Workbench.

- Default port 8787 (``www-port``): Posit Workbench admin guide, "Running with a Proxy"
  (https://docs.posit.co/ide/server-pro/access_and_security/running_with_a_proxy.html,
  "Determine server addresses": "The default www-port is 8787"); the same page gives the
  nginx recipe (a ``/rstudio/`` prefix removed by ``rewrite ... break``, the ``$http_upgrade``
  map, HTTP/1.1, ``Upgrade``/``Connection``, a long ``proxy_read_timeout``) and says the
  websockets are what Shiny applications run from the IDE need: without them they "gray out
  and close".  Older text of the same guide: the RStudio Server admin guide "Running with a
  Proxy" (https://docs.rstudio.com/ide/server-pro/access_and_security/running_with_a_proxy.html)
  and the support article "Running RStudio Server with a Proxy"
  (https://support.rstudio.com/hc/en-us/articles/200552326).
- Apps and servers started in the session are reached through rserver's port proxy,
  ``{base}p/<port-token>/`` (a token instead of the port since RStudio 1.2:
  https://github.com/yihui/servr/issues/38).  A Shiny app's websocket is ``websocket/``
  relative to its page (shiny's ``shiny.js``; https://github.com/trestletech/shiny/commit/
  d377b04dad5a337c9ea47f34e1ee01ea37d72ffe "Make websocket path relative to Shiny page
  path"), hence ``p/<port-token>/websocket/``.
- The Terminal tab is a websocket served by the session on its own port
  (``src/cpp/session/SessionConsoleProcessSocket.cpp``, ``ConsoleProcessSocket::getHandle``:
  the handle is the last part of ``terminal/<handle>/``), reached through the same port
  proxy: ``p/<port-token>/terminal/<handle>/``.  The session only answers the client's
  keep-alive packets (``onMessage`` -> ``sendPong``); it sends no ping of its own.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

PROFILE = Profile(
    name="rstudio",
    title="RStudio Server",
    aliases=("rstudio-server", "posit-workbench", "workbench", "rserver"),
    signs=(
        Sign(PATH, r"rstudio|rserver", STRONG, "the location path names RStudio"),
        Sign(TARGET, r"rstudio|rserver", STRONG, "the proxy target names RStudio"),
        Sign(TARGET, r":8787\b", STRONG, "port 8787 (RStudio Server's default www-port)"),
        Sign(COMMENT, r"rstudio|posit workbench", STRONG, "a comment names RStudio"),
        Sign(SERVER, r"rstudio|rserver", WEAK, "the server's settings name RStudio"),
    ),
    endpoints=(
        Endpoint("shiny", "Shiny app", "p/<port-token>/websocket/", "p/58fab3e4/websocket/"),
        Endpoint("terminal", "terminal", "p/<port-token>/terminal/<handle>/",
                 "p/7c3d9a1e/terminal/U7x2kQ9p/"),
    ),
    ui_paths=("auth-sign-in", "p/", "rpc/", "events/"),
    symptom="Shiny apps gray out and close and the Terminal tab never connects",
    sources=(
        "https://docs.posit.co/ide/server-pro/access_and_security/running_with_a_proxy.html",
        "https://support.rstudio.com/hc/en-us/articles/200552326 "
        "(Running RStudio Server with a Proxy)",
        "rstudio src/cpp/session/SessionConsoleProcessSocket.cpp (ConsoleProcessSocket::getHandle)",
        "https://github.com/trestletech/shiny/commit/d377b04dad5a337c9ea47f34e1ee01ea37d72ffe",
        "https://github.com/yihui/servr/issues/38 (p/<token>/ since RStudio 1.2)",
    ),
)
