"""``nglint check -`` (stdin, ``--stdin-filename``) and ``nginx -T`` dumps.

The dump tests run the real nginx (``nginx -T``) on a small tree and check that
linting the dump answers exactly as linting the tree: same codes, same paths,
same lines.  Skipped when nginx is missing, except in CI (as tests/nginx_harness).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from nglint.cli import main
from nglint.dump import is_dump, split
from nglint.errors import NglintError
from tests.helpers import write
from tests.nginx_harness import NGINX

IN_CI = bool(os.environ.get("CI"))

MAIN = """\
pid {prefix}/nginx.pid;
events {{}}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    access_log off;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    include conf.d/*.conf;
}}
"""
SITE = """\
server {
    listen 127.0.0.1:8080;
    server_name notebook.example.org;
    location / {
        proxy_pass http://127.0.0.1:8888;
        include conf.d/../snippets/common.conf;
    }
}
"""
OTHER = """\
server {
    listen 127.0.0.1:8081;
    server_name hub.example.org;

    location /user/ {
        proxy_pass http://127.0.0.1:8000;
        proxy_http_version 1.1;
        include snippets/common.conf;
    }
}"""  # no newline at the end: nginx's dump adds one
COMMON = "proxy_set_header X-Real-IP $remote_addr;\n"


def make_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write(root, MAIN.format(prefix=root))
    write(root, SITE, "conf.d/jupyter.conf")
    write(root, OTHER, "conf.d/hub.conf")
    write(root, COMMON, "snippets/common.conf")
    write(root, "# not included\n", "snippets/unused.conf")
    return root


@pytest.fixture
def nginx() -> str:
    if NGINX is None:
        if IN_CI:
            pytest.fail("CI is set but nginx is missing: the nginx -T tests need it")
        pytest.skip("nginx is not installed (no `nginx` on PATH, no /usr/sbin/nginx)")
    return NGINX


def nginx_dump(binary: str, root: Path) -> bytes:
    """``nginx -T`` of the tree at ``root`` (stdout: the dump)."""
    result = subprocess.run([binary, "-T", "-q", "-e", "stderr", "-p", f"{root}/",
                             "-c", str(root / "nginx.conf")],
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def found(output: str) -> list[tuple[str, str, int, int]]:
    return [(f["code"], f["path"], f["line"], f["column"])
            for f in json.loads(output)["findings"]]


def test_dump_of_the_real_nginx_lints_as_the_tree(nginx: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path.resolve() / "etc")
    data = nginx_dump(nginx, root)
    assert is_dump(data)
    assert re.findall(rb"^# configuration file (.*):$", data, re.MULTILINE) == [
        f"{root}/{name}".encode() for name in ("nginx.conf", "conf.d/hub.conf",
                                               "snippets/common.conf", "conf.d/jupyter.conf",
                                               "conf.d/../snippets/common.conf")]
    dumped = split(data, "dump")
    assert len(dumped.files) == 4 and not dumped.notes  # common.conf once
    assert dumped.main.data == (root / "nginx.conf").read_bytes()
    assert dumped.files[f"{root}/conf.d/hub.conf"].data == OTHER.encode()
    write(tmp_path, data.decode(), "nginx-T.txt")

    status, direct, _ = run("check", "--format", "json", "--no-cache", str(root))
    assert status == 1 and found(direct)
    assert {code for code, *_ in found(direct)} >= {"NG101", "NG102", "NG103"}
    for args, stdin in (([str(tmp_path / "nginx-T.txt")], None), (["-"], data)):
        status, output, errors = run("check", "--format", "json", *args, stdin=stdin)
        assert status == 1, errors
        assert found(output) == found(direct)
        summary, expected = json.loads(output)["summary"], json.loads(direct)["summary"]
        assert summary | {"files": 0} == expected | {"files": 0}
        assert summary["files"] == 4  # common.conf is one file; unused.conf is not dumped


def test_dump_with_nginx_lines_first(nginx: str, tmp_path: Path) -> None:
    """``nginx -T 2>&1``: nginx's own lines come before the first marker."""
    root = make_tree(tmp_path.resolve() / "etc")
    data = (f"nginx: the configuration file {root}/nginx.conf syntax is ok\n"
            f"nginx: configuration file {root}/nginx.conf test is successful\n").encode()
    data += nginx_dump(nginx, root)
    status, output, _ = run("check", "--format", "json", "-", stdin=data)
    _, direct, _ = run("check", "--format", "json", "--no-cache", str(root))
    assert status == 1 and found(output) == found(direct)


def test_fix_and_diff_of_a_dump_edit_the_originals(nginx: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path.resolve() / "etc")
    twin = make_tree(tmp_path.resolve() / "twin")
    data = nginx_dump(nginx, root)
    dump = write(tmp_path, data.decode(), "nginx-T.txt")

    status, diff, _ = run("check", "--diff", str(dump))
    assert status == 1
    assert f"--- a/{str(root / 'conf.d/jupyter.conf').lstrip('/')}\n" in diff
    assert (root / "conf.d/jupyter.conf").read_text() == SITE  # --diff writes nothing

    status, _, errors = run("check", "--fix", str(dump))
    assert f"rewrote {root}/conf.d/jupyter.conf" in errors
    run("check", "--fix", "--no-cache", str(twin))
    for name in ("nginx.conf", "conf.d/jupyter.conf", "conf.d/hub.conf",
                 "snippets/common.conf"):
        expected = (twin / name).read_text().replace(str(twin), str(root))
        assert (root / name).read_text() == expected, name
    assert (root / "conf.d/jupyter.conf").read_text() != SITE


def test_fix_of_a_dump_refuses_a_file_that_changed(nginx: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path.resolve() / "etc")
    dump = write(tmp_path, nginx_dump(nginx, root).decode(), "nginx-T.txt")
    site = root / "conf.d/jupyter.conf"
    site.write_text(SITE.replace("8888", "8889"))
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    status, _, errors = run("check", "--fix", str(dump))
    assert status == 2
    assert errors.strip() == (f"nglint: error: {site}: cannot fix the nginx -T dump in "
                              "place: the file here differs from the dumped copy (nothing "
                              "was written; --diff shows the fixes)")
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_stdin_with_stdin_filename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name gives the reports' path, the configuration found upward, the context
    and where includes resolve; the file itself need not exist."""
    repo = tmp_path / "repo"
    write(repo, '[tool.nglint]\nignore = ["NG108"]\n', "pyproject.toml")
    write(repo, "proxy_set_header X-Real-IP $remote_addr;\n", "snippets/common.conf")
    site = "location / {\n    proxy_pass http://127.0.0.1:8888;\n" \
           "    include snippets/common.conf;\n}\n"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    name = str(repo / "sites-available" / "jupyter")
    status, output, _ = run("check", "--format", "json", "-", "--stdin-filename", name,
                            stdin=site.encode())
    got = found(output)
    assert status == 1 and got
    assert {path for _, path, *_ in got} == {name}
    assert "NG108" not in {code for code, *_ in got}  # repo/pyproject.toml was read
    assert "NG002" not in {code for code, *_ in got}  # the include resolved above
    # without a name: -, the working directory's configuration (none here)
    status, output, _ = run("check", "--format", "json", "-", stdin=site.encode())
    assert {path for _, path, *_ in found(output)} == {"-"}
    assert "NG108" in {code for code, *_ in found(output)}
    # nginx.conf is a main configuration: a server there is out of context
    status, output, _ = run("check", "--format", "json", "-", "--stdin-filename",
                            str(repo / "nginx.conf"), stdin=b"server { listen 80; }\n")
    assert ("NG007", str(repo / "nginx.conf"), 1, 1) in found(output)


def test_stdin_diff_and_fix(tmp_path: Path) -> None:
    site = write(tmp_path, "location / {\n    proxy_pass http://127.0.0.1:8888;\n}\n",
                 "conf.d/jupyter.conf")
    text = site.read_bytes()
    site.write_text("# a different file on disk\n")
    status, diff, _ = run("check", "--diff", "-", "--stdin-filename", str(site), stdin=text)
    assert status == 1
    assert "-    proxy_pass http://127.0.0.1:8888;\n" not in diff  # against stdin's text
    assert "+    proxy_read_timeout" in diff and "a different file" not in diff
    status, _, errors = run("check", "--fix", "-", stdin=text)
    assert status == 2 and "--fix does not write stdin" in errors
    assert run("check", "--stdin-filename", "x.conf", str(site))[0] == 2


def test_hostile_dumps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names leading out of the working directory, control characters, a device, a
    missing file, a truncated end, 10k markers: findings or one-line errors, no
    traceback, nothing written, an end."""
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "victim.conf"
    fixable = "server {\n    location / {\n        proxy_pass http://127.0.0.1:8888;\n" \
              "    }\n}\n"
    victim.write_text("# other text\n")
    dump = (f"# configuration file {tmp_path}/nginx.conf:\n"
            "events {}\nhttp {\n    include ../../etc/passwd;\n    include /dev/zero;\n"
            f"    include {victim};\n    include evil*;\n    include missing.conf;\n}}\n\n"
            f"# configuration file ../../etc/passwd:\n{fixable}\n"
            f"# configuration file /dev/zero:\n{fixable}\n"
            f"# configuration file {victim}:\n{fixable}\n"
            f"# configuration file {tmp_path}/evil\x1b[31m\x07.conf:\n{fixable}\n"
            f"# configuration file {tmp_path}/evil\r.conf:\n{fixable}\n"
            f"# configuration file {tmp_path}/nginx.conf:\n# twice\n\n"
            f"# configuration file {tmp_path}/unreached.conf:\nserver {{}}")  # cut short
    status, output, errors = run("check", "-", stdin=dump.encode())
    assert status == 1, errors
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output
    assert "Traceback" not in output + errors
    status, output, errors = run("check", "--format", "json", "-", stdin=dump.encode())
    messages = "\n".join(f["message"] for f in json.loads(output)["findings"])
    for expected in ("evil\\x1b[31m\\x07.conf", "missing.conf: not found",
                     "dumped twice", "may be truncated", "unreached.conf is dumped but no "
                     "include", "../../etc/passwd is dumped but no include"):
        assert expected in messages, expected
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    status, _, errors = run("check", "--fix", "-", stdin=dump.encode())
    assert status == 2 and errors.startswith("nglint: error: ") and errors.count("\n") == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    status, diff, _ = run("check", "--diff", "-", stdin=dump.encode())  # /dev/zero unread
    assert status == 1 and "+++ b/dev/zero" in diff

    many = f"# configuration file {tmp_path}/nginx.conf:\nevents {{}}\nhttp {{\n" \
           "    include conf.d/*.conf;\n}\n\n"
    many += "".join(f"# configuration file {tmp_path}/conf.d/{n}.conf:\n"
                    f"server {{ listen {8000 + n % 1000}; include conf.d/*.conf; }}\n\n"
                    for n in range(10_000))
    status, output, errors = run("check", "--format", "json", "-", stdin=many.encode())
    assert status == 1 and "Traceback" not in output + errors
    # every file includes them all: the include depth limit ends it (its time is not
    # asserted, issue 19: a loaded machine must not fail the suite)
    messages = [f["message"] for f in json.loads(output)["findings"]]
    assert any("includes nested deeper than 32" in m for m in messages), messages[:5]
    assert any("includes itself" in m for m in messages), messages[:5]


def test_not_a_dump(tmp_path: Path) -> None:
    """A marker-like comment further down is an ordinary comment."""
    text = b"events {}\n# configuration file /etc/nginx/nginx.conf:\nhttp {}\n"
    assert not is_dump(text)
    path = write(tmp_path, text.decode())
    assert run("check", str(path))[0] == 0


@pytest.mark.skipif(shutil.which("nglint") is None, reason="nglint is not installed")
def test_nglint_reads_a_pipe(tmp_path: Path) -> None:
    result = subprocess.run(["nglint", "check", "-", "--stdin-filename", "site.conf"],
                            input=b"location / { proxy_pass http://127.0.0.1:8888; }\n",
                            capture_output=True, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 1 and result.stdout.startswith(b"site.conf:1:1: NG101")


def test_fix_target_after_a_prefix_map(tmp_path: Path) -> None:
    """A dump of /etc/nginx is fixed in a repo copy named by a prefix map."""
    from nglint.inputs import Inputs

    copy = write(tmp_path / "repo", "server {}\n", "etc/nginx/conf.d/site.conf")
    dumped = b"# configuration file /etc/nginx/nginx.conf:\nevents {}\n\n" \
             b"# configuration file /etc/nginx/conf.d/site.conf:\nserver {}\n\n"
    inputs = Inputs.read(["-"], stdin=io.BytesIO(dumped))
    (dump,) = inputs.dumps.values()
    key = dump.key("/etc/nginx/conf.d/site.conf")
    mapping = [("/etc/nginx/", str(tmp_path / "repo/etc/nginx"))]
    assert inputs.target(key, mapping) == os.path.realpath(copy)
    copy.write_text("server { }\n")
    with pytest.raises(NglintError, match=r"\(.*site\.conf here\): the file here differs"):
        inputs.target(key, mapping)
