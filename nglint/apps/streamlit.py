"""Streamlit.

- The browser runs every script session over one websocket at ``{base}_stcore/stream``
  (``server.baseUrlPath`` is the base): streamlit ``lib/streamlit/web/server/server.py``
  (``STREAM_ENDPOINT = r"_stcore/stream"``, routed with ``make_url_path_regex(base, ...)``
  to ``BrowserWebSocketHandler``).  Before 1.18 the same socket was ``{base}stream``
  (renamed by "Rename endpoints (#5534)", first released in 1.18.0).
- The server pings every second: ``server.py`` ``TORNADO_SETTINGS``
  (``"websocket_ping_interval": 1``, since 2021: streamlit/streamlit#3196).
- Default port 8501: ``lib/streamlit/config.py`` (``server.port``, ``default_val=8501``).
- Streamlit's "App is not loading when running remotely"
  (https://docs.streamlit.io/knowledge-base/deploy/remote-start), symptom 2: the app says
  "Please wait..." (skeleton elements from 1.29) forever when the proxy strips the websocket
  headers.
"""

from __future__ import annotations

from nglint.apps.profile import COMMENT, PATH, SERVER, STRONG, TARGET, WEAK, Endpoint, Profile, Sign

PROFILE = Profile(
    name="streamlit",
    title="Streamlit",
    signs=(
        Sign(PATH, r"streamlit", STRONG, "the location path names Streamlit"),
        Sign(PATH, r"_stcore", STRONG, "a Streamlit path (_stcore)"),
        Sign(TARGET, r"streamlit", STRONG, "the proxy target names Streamlit"),
        Sign(TARGET, r":8501\b", STRONG, "port 8501 (Streamlit's default)"),
        Sign(COMMENT, r"streamlit", STRONG, "a comment names Streamlit"),
        Sign(SERVER, r"streamlit", WEAK, "the server's settings name Streamlit"),
    ),
    endpoints=(
        Endpoint("stream", "app stream", "_stcore/stream", "_stcore/stream", ping=1),
        Endpoint("stream-legacy", "app stream (before 1.18)", "stream", "stream", ping=1),
    ),
    ui_paths=("_stcore/", "static/", "media/", "healthz"),
    symptom="the app says 'Please wait...' (or shows skeletons) forever and never runs",
    sources=(
        "streamlit lib/streamlit/web/server/server.py (STREAM_ENDPOINT, TORNADO_SETTINGS "
        "websocket_ping_interval 1)",
        "streamlit lib/streamlit/config.py (server.port 8501)",
        "streamlit commit 3664a850db 'Rename endpoints (#5534)' (stream -> _stcore/stream, 1.18)",
        "https://docs.streamlit.io/knowledge-base/deploy/remote-start",
    ),
)
