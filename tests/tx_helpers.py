"""Trees for the transaction tests: a site that needs a map in nginx.conf, so a fix
half-written (the site's headers without the map) fails ``nginx -t``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = """server {
    listen 8080;
    server_name notebook%d.example.com;
    location / {
        proxy_pass http://127.0.0.1:8888;
        proxy_set_header Host $host;
    }
}
"""


def build_tree(root: Path, sites: int = 2, padding: int = 0) -> Path:
    """nginx.conf (``padding`` comment lines first) including conf.d/*.conf, and
    ``sites`` Jupyter sites whose fix needs ``$connection_upgrade``'s map."""
    (root / "conf.d").mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    pad = "".join(f"# padding line {n:05d} {'.' * 40}\n" for n in range(padding))
    (root / "nginx.conf").write_text(
        pad + "events {}\nhttp {\n    include conf.d/*.conf;\n}\n")
    for n in range(sites):
        (root / "conf.d" / f"site{n}.conf").write_text(SITE % n)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but logs/, relative path -> bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != "logs"}


def leftovers(root: Path) -> list[str]:
    """Temporary and backup files a transaction may have left (names start with .nglint-)."""
    return sorted(str(p) for p in root.rglob(".nglint-*"))


def journals() -> list[str]:
    """Journal files in this test session's state folder."""
    folder = Path(os.environ["XDG_STATE_HOME"]) / "nglint"
    return sorted(str(p) for p in folder.glob("tx-*")) if folder.is_dir() else []


def nginx_t(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NGINX, "-t", "-q", "-p", f"{root}/", "-c", str(root / "nginx.conf"),
                           "-e", "/dev/stderr"], capture_output=True, text=True, check=False)


def nglint(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``nglint ARGS`` in a new process (a real exit, real signals)."""
    return subprocess.run([sys.executable, "-m", "nglint", *args], capture_output=True,
                          text=True, check=False, **kwargs)  # type: ignore[call-overload]


def fixed_copy(tree: Path, where: Path) -> dict[str, bytes]:
    """What ``--fix`` makes of ``tree``: fixed in a copy, the copy's snapshot."""
    shutil.copytree(tree, where)
    done = nglint("check", "--fix", "-q", str(where))
    assert done.returncode in (0, 1), done.stderr
    return snapshot(where)
