"""``--fix`` keeps what a file is besides its text: mode (setuid, setgid), owner,
group, POSIX ACLs, extended attributes and hard links; and refuses, before
writing anything, the files it cannot replace keeping them."""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix_helpers import cli
from tests.tx_helpers import build_tree, fixed_copy, journals, leftovers, snapshot

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
USER = "nglinttx"


def fix(tree: Path, *args: str):
    return cli("check", "--fix", "-q", *args, str(tree))


def test_mode_owner_group_and_setuid_are_kept(tmp_path: Path) -> None:
    tree = build_tree(tmp_path / "tree", sites=1)
    site = tree / "conf.d" / "site0.conf"
    if ROOT:  # another owner and group, and chown(2) would clear these bits
        os.chown(site, 65534, 65534)
        os.chmod(site, 0o6755)
    else:
        os.chmod(site, 0o640)
    before = os.stat(site)
    fixed = fixed_copy(tree, tmp_path / "expected")
    assert fix(tree).exit_code in (0, 1)
    after = os.stat(site)
    assert snapshot(tree) == fixed
    assert after.st_ino != before.st_ino  # replaced, not written into
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (
        stat.S_IMODE(before.st_mode), before.st_uid, before.st_gid)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install acl attr)")
    return found


def test_acl_and_extended_attributes_are_kept(tmp_path: Path) -> None:
    """The acl-xattr-perms case: an ACL entry for another user and a user.* attribute
    survive, and the group bits (the ACL mask) are not widened."""
    setfacl, getfacl = _tool("setfacl"), _tool("getfacl")
    tree = build_tree(tmp_path / "tree", sites=1)
    site = tree / "conf.d" / "site0.conf"
    os.chmod(site, 0o640)
    who = pwd.getpwuid(65534).pw_name
    acl = subprocess.run([setfacl, "-m", f"u:{who}:rw", str(site)], capture_output=True,
                         text=True, check=False)
    if acl.returncode:
        pytest.skip(f"no POSIX ACLs on this file system: {acl.stderr.strip()}")
    try:
        os.setxattr(site, "user.deploy", b"keepme")
    except OSError as error:
        if error.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        pytest.skip("no user.* extended attributes on this file system")
    listing = [getfacl, "-c", str(site)]
    acl_before = subprocess.run(listing, capture_output=True, text=True, check=True).stdout
    assert f"user:{who}:rw-" in acl_before and "group::r--" in acl_before
    mode_before = stat.S_IMODE(os.stat(site).st_mode)
    inode = os.stat(site).st_ino
    assert fix(tree).exit_code in (0, 1)
    assert os.stat(site).st_ino != inode and b"Upgrade" in site.read_bytes()
    assert subprocess.run(listing, capture_output=True, text=True, check=True).stdout == acl_before
    assert stat.S_IMODE(os.stat(site).st_mode) == mode_before
    assert os.getxattr(site, "user.deploy") == b"keepme"


def test_a_hard_linked_file_is_refused_unless_in_place(tmp_path: Path) -> None:
    tree = build_tree(tmp_path / "tree", sites=2)
    site = tree / "conf.d" / "site0.conf"
    (tmp_path / "other").mkdir()
    link = tmp_path / "other" / "site0.conf.link"
    os.link(site, link)
    before = snapshot(tree)
    fixed = fixed_copy(tree, tmp_path / "expected")
    refused = fix(tree)
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"nglint: error: {site}: not fixed: has 2 hard links: replacing it would leave the "
        "old text under the other names (--in-place edits the file that every link shares)"
        "; nothing was written\n")
    assert snapshot(tree) == before and leftovers(tree) == []
    inode = os.stat(site).st_ino
    assert fix(tree, "--in-place").exit_code in (0, 1)
    assert snapshot(tree) == fixed
    assert os.stat(site).st_ino == inode == os.stat(link).st_ino
    assert link.read_bytes() == site.read_bytes()
    assert leftovers(tree) == [] and journals() == []


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    tree = build_tree(tmp_path / "tree", sites=1)
    site = tree / "conf.d" / "site0.conf"
    os.chmod(site, 0o444)
    before = snapshot(tree)
    for args in ((), ("--in-place",)):
        refused = fix(tree, *args)
        assert refused.exit_code == 2
        assert refused.stderr == (
            f"nglint: error: {site}: not fixed: read-only (mode 0444): nglint does not write "
            "read-only files; make it writable to fix it; nothing was written\n")
        assert snapshot(tree) == before  # nginx.conf's map not written either
        assert stat.S_IMODE(os.stat(site).st_mode) == 0o444


@contextlib.contextmanager
def other_user() -> Iterator[pwd.struct_passwd]:
    if not ROOT or not shutil.which("useradd"):
        pytest.skip("needs root and useradd to run nglint as another user")
    try:
        yield pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", USER], check=True)
        yield pwd.getpwnam(USER)


def as_user(user: pwd.struct_passwd, *args: str, env: dict[str, str]) -> tuple[int, str]:
    """``nglint ARGS`` as ``user``: a forked child of this process drops to the user's
    ids (setgroups, setgid, setuid) and runs the command line; (exit status, stderr).
    Forked, not ``runuser python``: the interpreter may live where the user cannot
    read (a root-only pyenv)."""
    log = Path(tempfile.mkstemp(prefix="nglint-user-")[1])
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(log, os.O_WRONLY | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (pytest captures sys.*)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            os.environ.update(env)
            os.chdir("/")
            sys.argv = ["nglint", *args]
            from nglint.cli import entry

            entry()
        finally:
            os._exit(70)
    _, status = os.waitpid(pid, 0)
    said = log.read_text()
    log.unlink()
    return os.waitstatus_to_exitcode(status), said


@needs_root
def test_files_of_another_owner_are_refused_for_a_non_owner() -> None:
    """The non-owner-readonly case: run by a user who owns the folder but not the file
    (which it may write), replacing would make the file the user's: refused, unless
    --in-place, which keeps the owner.  Not writable, read-only, a folder it cannot
    write: refused too."""
    with other_user() as user:
        warm = build_tree(Path(tempfile.mkdtemp(prefix="nglint-warm-")), sites=1)
        assert fix(warm).exit_code in (0, 1)  # every module the user's run needs, imported
        shutil.rmtree(warm)
        base = Path(tempfile.mkdtemp(prefix="nglint-owner-"))
        try:
            os.chmod(base, 0o755)
            state = base / "state"
            state.mkdir()
            os.chown(state, user.pw_uid, user.pw_gid)
            env = {"XDG_STATE_HOME": str(state), "XDG_CACHE_HOME": str(state),
                   "HOME": str(state)}
            cases = {
                "shared": (0, 0o666, f"owned by root: replacing it as {USER} would make it "
                                     "yours (--in-place writes into the file and keeps the "
                                     "owner)"),
                "foreign": (0, 0o644, f"not writable by {USER}"),
                "readonly": (user.pw_uid, 0o444, "read-only (mode 0444): nglint does not "
                                                 "write read-only files; make it writable "
                                                 "to fix it"),
            }
            for name, (owner, mode, message) in cases.items():
                tree = build_tree(base / name, sites=1)
                for path in [tree, *tree.rglob("*")]:
                    os.chown(path, user.pw_uid, user.pw_gid)
                site = tree / "conf.d" / "site0.conf"
                os.chown(site, owner, owner)
                os.chmod(site, mode)
                before = snapshot(tree)
                code, said = as_user(user, "check", "--fix", "-q", str(tree), env=env)
                assert code == 2, said
                assert said == (f"nglint: error: {site}: not fixed: {message}; "
                                       "nothing was written\n")
                assert snapshot(tree) == before and leftovers(tree) == []
                assert (os.stat(site).st_uid, stat.S_IMODE(os.stat(site).st_mode)) == (
                    owner, mode)
            # a folder the user cannot write: the new file cannot be made there
            tree = base / "shared"
            os.chown(tree / "conf.d" / "site0.conf", user.pw_uid, user.pw_gid)
            os.chown(tree / "conf.d", 0, 0)
            code, said = as_user(user, "check", "--fix", "-q", str(tree), env=env)
            assert code == 2
            assert f"{USER} cannot create files in {tree / 'conf.d'}" in said
            # --in-place writes into a file it may write, keeping the owner
            os.chown(tree / "conf.d" / "site0.conf", 0, 0)
            fixed = fixed_copy(tree, base / "expected")
            code, said = as_user(user, "check", "--fix", "-q", "--in-place", str(tree),
                                 env=env)
            assert code in (0, 1), said
            assert snapshot(tree) == fixed
            assert os.stat(tree / "conf.d" / "site0.conf").st_uid == 0
            assert not list((state / "nglint").glob("tx-*"))
        finally:
            shutil.rmtree(base)


def test_in_place_needs_fix(tmp_path: Path) -> None:
    tree = build_tree(tmp_path / "tree", sites=1)
    before = snapshot(tree)
    for args in (("--in-place",), ("--in-place", "--diff")):
        result = cli("check", "-q", *args, str(tree))
        assert result.exit_code == 2
        assert result.stderr == "nglint: error: --in-place says how --fix writes: give --fix too\n"
    assert snapshot(tree) == before
