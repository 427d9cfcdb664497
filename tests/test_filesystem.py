"""Filesystem truth through the real command line: what an include or a folder really is.

The hostile cases of issue #16 (FIFOs, devices, /proc entries, directories, symlink
loops, unreadable folders, NUL bytes, a hostile ``rules`` package in the working
directory), each built here in ``tmp_path``.  Every run has a timeout: a hang fails
the test instead of the suite.  Exit statuses per the README's contract: 1 for
findings, 2 for what the command line names and cannot be read.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nginx_harness import NGINX

TIMEOUT = 30
MAIN = "events {}\nhttp {\n    include %s;\n}\n"
JUPYTER = ("server {\n    listen 8080;\n    server_name notebook.example.com;\n"
           "    location / {\n        proxy_pass http://127.0.0.1:8888;\n    }\n}\n")


def nglint(*args: str, cwd: Path, stdin: int | None = subprocess.DEVNULL,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m nglint ARGS`` with a timeout; never a traceback."""
    proc = subprocess.run([sys.executable, "-m", "nglint", *args], cwd=cwd, stdin=stdin,
                          capture_output=True, text=True, errors="replace",
                          timeout=TIMEOUT, env=env)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


def findings(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    return json.loads(proc.stdout)["findings"]


def tree(tmp_path: Path, include: str) -> Path:
    root = tmp_path / "t"
    (root / "conf.d").mkdir(parents=True)
    (root / "nginx.conf").write_text(MAIN % include)
    return root


def nginx_t(root: Path, main: str = "nginx.conf") -> subprocess.CompletedProcess[str] | None:
    """``nginx -t`` on a tree (None when nginx is missing outside CI)."""
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but nginx is missing")
        return None
    (root / "logs").mkdir(exist_ok=True)
    return subprocess.run([NGINX, "-t", "-q", "-p", str(root), "-c", str(root / main),
                           "-e", "/dev/stderr"], capture_output=True, text=True,
                          timeout=TIMEOUT)


def test_fifo_reached_by_a_glob_is_an_error_finding(tmp_path: Path) -> None:
    root = tree(tmp_path, "conf.d/*.conf")
    os.mkfifo(root / "conf.d" / "zz.conf")
    proc = nglint("check", "--no-cache", "--format", "json", str(root), cwd=tmp_path)
    assert proc.returncode == 1
    [found] = findings(proc)
    assert (found["code"], found["severity"], found["line"]) == ("NG002", "error", 3)
    assert "zz.conf: not a regular file (a FIFO)" in found["message"]


def test_fifo_named_on_the_command_line_exits_2(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "zz.conf")
    proc = nglint("check", "--no-cache", "zz.conf", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("zz.conf: cannot read: not a regular file (a FIFO)")


@pytest.mark.parametrize("target", ["/dev/stdin", "/proc/self/fd/0"])
def test_include_of_stdin_with_an_open_pipe_does_not_block(tmp_path: Path, target: str) -> None:
    (tmp_path / "s.conf").write_text(MAIN % target)
    with subprocess.Popen([sys.executable, "-m", "nglint", "check", "--no-cache",
                           "--format", "json", "s.conf"], cwd=tmp_path,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        out, err = process.communicate(timeout=TIMEOUT)  # stdin stays open until then
    assert process.returncode == 1, err
    messages = [f["message"] for f in json.loads(out)["findings"] if f["severity"] == "error"]
    assert messages == [f"included file {target}: not a regular file (a FIFO)"]


def test_include_dev_zero_with_the_cache_is_bounded(tmp_path: Path) -> None:
    """Was about 1 GB more every second until the OOM killer: /dev/zero is never read,
    neither by the check nor by the cache's digest of the include targets (bytes
    counted in process, no memory gauge), and both runs of the command (the one that
    stores the cache entry, then the one that checks it) report it."""
    from unittest import mock

    from nglint import cachestate
    from tests import helpers

    root = tree(tmp_path, "/dev/zero")
    (root / "conf.d" / "jupyter.conf").write_text(JUPYTER)
    on_disk = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
    total = 0
    read = os.read

    def counted(descriptor: int, size: int) -> bytes:
        nonlocal total
        data = read(descriptor, size)
        total += len(data)
        return data

    with mock.patch.object(os, "read", counted):
        helpers.findings(root)
        with contextlib.suppress(OSError):
            cachestate.digest("/dev/zero")
    assert total <= 3 * on_disk, (total, on_disk)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):
        proc = nglint("check", "--format", "json", str(root), cwd=tmp_path, env=env)
        assert proc.returncode == 1
        messages = [f["message"] for f in findings(proc)]
        assert "included file /dev/zero: not a regular file (a character device)" in messages


def test_proc_entry_is_an_error_finding(tmp_path: Path) -> None:
    root = tree(tmp_path, "/proc/self/status")  # st_size 0, and it holds text
    proc = nglint("check", "--no-cache", "--format", "json", str(root), cwd=tmp_path)
    assert proc.returncode == 1
    errors = [f["message"] for f in findings(proc) if f["severity"] == "error"]
    assert len(errors) == 1 and "/proc/self/status: not a regular file (it reports 0 bytes" \
        in errors[0], errors


@pytest.mark.parametrize(("include", "named"), [("conf.d", "conf.d"),
                                                ("conf.d/*", "conf.d/sub")])
def test_directory_include_fails_as_in_nginx(tmp_path: Path, include: str, named: str) -> None:
    root = tree(tmp_path, include)
    (root / "conf.d" / "sub").mkdir()
    (root / "conf.d" / "a.conf").write_text("# x\n")
    proc = nglint("check", "--no-cache", "--format", "json", str(root), cwd=tmp_path)
    assert proc.returncode == 1
    [found] = findings(proc)
    assert found["message"] == f"included file {root / named}: Is a directory"
    nginx = nginx_t(root)
    if nginx is not None:  # pread() "…/conf.d" failed (21: Is a directory)
        assert nginx.returncode == 1 and "(21: Is a directory)" in nginx.stderr


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.conf").symlink_to("b.conf")
    (tmp_path / "b.conf").symlink_to("a.conf")
    named = nglint("check", "--no-cache", "a.conf", cwd=tmp_path)
    assert named.returncode == 2
    assert named.stderr.strip().endswith("a.conf: too many levels of symbolic links")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "nginx.conf").write_text(MAIN % "../a.conf")
    included = nglint("check", "--no-cache", "--format", "json", "t", cwd=tmp_path)
    assert included.returncode == 1
    [found] = findings(included)
    assert found["message"].endswith("a.conf: Too many levels of symbolic links")
    nginx = nginx_t(tmp_path / "t")
    if nginx is not None:
        assert "(40: Too many levels of symbolic links)" in nginx.stderr


def test_symlink_loop_in_a_linted_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "ok.conf").write_text("server { listen 81; }\n")
    (tmp_path / "conf.d" / "loop.conf").symlink_to("loop.conf")
    proc = nglint("check", "--no-cache", "conf.d", cwd=tmp_path)
    assert proc.returncode == 2
    assert "loop.conf: cannot read: Too many levels of symbolic links" in proc.stderr


@pytest.mark.parametrize("body", [b'proxy_set_header X-A "a\x00b";', b"# a\x00b",
                                  b"proxy_set_header X-A 'a\x00b';", b"set $x a\x00b;"])
def test_nul_byte_is_an_ordinary_byte(tmp_path: Path, body: bytes) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "nginx.conf").write_bytes(
        b"events {}\nhttp {\n    server {\n        listen 8080;\n        location / {\n"
        b"            " + body + b"\n            return 204;\n        }\n    }\n}\n")
    proc = nglint("check", "--no-cache", "--format", "json", str(root), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    nginx = nginx_t(root)
    if nginx is not None:  # ngx_conf_read_token copies NUL as any other byte
        assert nginx.returncode == 0, nginx.stderr


def _unreadable_folder(folder: Path) -> list[str]:
    """A command prefix under which ``folder`` (mode 000) cannot be listed."""
    folder.chmod(0)
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and setpriv (to drop CAP_DAC_*) is missing")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_unreadable_subfolder_exits_2(tmp_path: Path) -> None:
    private = tmp_path / "t" / "sites-enabled" / "private"
    private.mkdir(parents=True)
    (private.parent / "ok.conf").write_text("server { listen 81; }\n")
    (private / "jupyter.conf").write_text(JUPYTER)
    prefix = _unreadable_folder(private)
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "nglint", "check", "--no-cache",
                               "t"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=TIMEOUT)
    finally:
        private.chmod(0o755)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (
        "nglint: error: t/sites-enabled/private: cannot read folder: Permission denied")


HOSTILE_CODE = ("import os\nopen(os.path.join({marker!r}), 'w').write('ran')\n")


@pytest.mark.parametrize("shape", ["package", "module"])
def test_python_m_nglint_ignores_rules_in_the_working_directory(tmp_path: Path,
                                                                shape: str) -> None:
    marker = tmp_path / "PWNED"
    repo = tmp_path / "repo"
    (repo / "site").mkdir(parents=True)
    if shape == "package":
        (repo / "rules").mkdir()
        (repo / "rules" / "__init__.py").write_text(HOSTILE_CODE.format(marker=str(marker)))
    else:
        (repo / "rules.py").write_text(HOSTILE_CODE.format(marker=str(marker)))
    (repo / "site" / "nginx.conf").write_text(MAIN.replace("%s", "conf.d/*.conf"))
    (repo / "site" / "conf.d").mkdir()
    (repo / "site" / "conf.d" / "jupyter.conf").write_text(JUPYTER)
    proc = nglint("check", "--no-cache", "--format", "json", "site", cwd=repo)
    assert proc.returncode == 1
    assert {"NG101", "NG102", "NG103"} <= {f["code"] for f in findings(proc)}
    assert not marker.exists()


def test_glob_over_an_unreadable_folder_matches_nothing_as_in_nginx(tmp_path: Path) -> None:
    """nginx's glob() runs without GLOB_ERR (src/os/unix/ngx_files.c, ngx_open_glob): a
    folder it cannot list adds no match and no error; the main file named on its own
    (no folder walk) gets the same answer from nglint."""
    root = tree(tmp_path, "conf.d/*/*.conf")
    private = root / "conf.d" / "private"
    private.mkdir()
    (private / "x.conf").write_text("bogus;\n")
    prefix = _unreadable_folder(private)
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "nglint", "check", "--no-cache",
                               "t/nginx.conf"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=TIMEOUT)
        nginx = None
        if NGINX is not None:
            (root / "logs").mkdir()
            nginx = subprocess.run([*prefix, NGINX, "-t", "-q", "-p", str(root), "-c",
                                    str(root / "nginx.conf"), "-e", "/dev/stderr"],
                                   capture_output=True, text=True, timeout=TIMEOUT)
    finally:
        private.chmod(0o755)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if nginx is not None:
        assert nginx.returncode == 0, nginx.stderr
    readable = nglint("check", "--no-cache", "t/nginx.conf", cwd=tmp_path)
    assert readable.returncode == 1  # the control: `bogus` is found when readable


def test_a_folder_a_thousand_levels_deep_is_read(tmp_path: Path) -> None:
    """Walking the folder and resolving real paths go folder by folder in loops: 1,100
    nested folders (well past Python's recursion limit) are read like any other
    (review of 2026-11-30: an internal RecursionError)."""
    root = tmp_path / "t"
    root.mkdir()
    folder = root
    for _ in range(1100):
        folder = folder / "d"
        folder.mkdir()
    (folder / "deep.conf").write_text("server {\n    listen 80;\n    location / {\n"
                                      "        proxy_pass http://127.0.0.1:8888\n"
                                      "    }\n}\n")  # a missing ';': one finding
    try:
        proc = nglint("check", "--no-cache", "--format", "json", "t", cwd=tmp_path)
    finally:
        # removed here, bottom up: pytest's own clean-up of old temporary folders
        # (shutil.rmtree) recurses, and this one would crash a later session's
        (folder / "deep.conf").unlink()
        while folder != root:
            folder.rmdir()
            folder = folder.parent
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)["findings"]
    assert [f["path"].rsplit("/", 1)[-1] for f in found] == ["deep.conf"], found
