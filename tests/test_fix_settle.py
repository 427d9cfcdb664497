"""``--fix`` writes only a fixed point: rounds that do not settle write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from nglint import fix as fixing
from tests.fix_helpers import cli, fix_paths
from tests.helpers import write


def test_rounds_that_do_not_settle_write_nothing(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration whose fixes take two rounds, with one round allowed: a one-line
    error, exit status 2, no file written (--fix and --diff)."""
    text = ("events {}\nhttp {\n    server {\n        listen 80;\n"
            "        proxy_set_header X-Real-IP $remote_addr;\n        location / {\n"
            "            proxy_pass http://127.0.0.1:8888;\n"
            "            proxy_http_version 1.1;\n            proxy_read_timeout 1d;\n"
            "            client_max_body_size 100m;\n        }\n    }\n}\n")
    path = write(tmp_path, text)
    assert len(fix_paths([path]).applied) == 2  # two rounds settle it
    monkeypatch.setattr(fixing, "MAX_ROUNDS", 1)
    for flag in ("--fix", "--diff"):
        result = cli("check", flag, str(path))
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("nglint: error: ")
        assert "nothing written" in lines[0]
        assert path.read_text() == text
        assert sorted(p.name for p in tmp_path.iterdir()) == ["nginx.conf"]
