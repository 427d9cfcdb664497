"""Whether ``--fix`` may replace a file, and how a replacement keeps the file's metadata.

A fix replaces a file by renaming a new one over it (``nglint.transaction``), so the
new inode must carry everything the old one had.  ``copy_metadata`` gives it, in
this order: owner and group (``fchown``), then mode (``fchmod``: chown(2) clears the
setuid and setgid bits, so chmod must come after it), then every extended
attribute (``listxattr``/``setxattr``).  On Linux a POSIX ACL *is* an extended
attribute, ``system.posix_acl_access`` (acl(5)); setting it last also sets the
group bits of the mode to the ACL mask, as they were.  Sources: chown(2), chmod(2),
xattr(7), acl(5) Linux man pages.

``refusal`` says, before anything is written, why a file must not be replaced:

- not a regular file;
- read-only (no write bit in its mode), even for root, who may write anything:
  a read-only configuration file says "do not edit" and nglint obeys;
- not writable by this user (access(2) with the real uid, as a shell's ``test -w``);
- replacing only: its directory is not writable (the new file is created there);
  it belongs to another user or a group this user is not in, and this user cannot
  give it back (only root may chown, chown(2)): the file would change owner;
  it has several hard links (``st_nlink`` > 1): a rename gives *this* name a new
  inode and every other name keeps the old text, silently splitting them.
  ``--in-place`` writes into the file itself instead (same inode: links, owner and
  attributes stay by construction), which is why those refusals name it.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat

# errors that mean "this file system has no extended attributes": nothing to copy
NO_XATTRS = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def refusal(path: str, in_place: bool = False) -> str | None:
    """Why ``--fix`` must not write the file at ``path`` (a resolved path), or None.

    ``in_place``: the file will be written into, not replaced (``--in-place``), so
    the directory, owner and hard-link checks do not apply.  Reads metadata only.
    """
    try:
        status = os.stat(path)
    except OSError as error:
        return f"cannot read its metadata: {error.strerror}"
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    mode = stat.S_IMODE(status.st_mode)
    if not mode & 0o222:
        return (f"read-only (mode {mode:04o}): nglint does not write read-only files; "
                "make it writable to fix it")
    me = os.geteuid()
    if not os.access(path, os.W_OK):
        return f"not writable by {_user(me)}"
    if in_place:
        return None
    directory = os.path.dirname(path) or "."
    if not os.access(directory, os.W_OK | os.X_OK):
        return (f"{_user(me)} cannot create files in {directory} (a fix writes a new file "
                "there and renames it over the old; --in-place writes into the file)")
    if me != 0 and status.st_uid != me:
        return (f"owned by {_user(status.st_uid)}: replacing it as {_user(me)} would make "
                "it yours (--in-place writes into the file and keeps the owner)")
    if me != 0 and status.st_gid not in {os.getegid(), *os.getgroups()}:
        return (f"group {_group(status.st_gid)}: replacing it as {_user(me)} would change "
                "its group (--in-place writes into the file and keeps it)")
    if status.st_nlink > 1:
        return (f"has {status.st_nlink} hard links: replacing it would leave the old text "
                "under the other names (--in-place edits the file that every link shares)")
    return None


def xattrs(path: str) -> dict[str, bytes]:
    """Every extended attribute of ``path`` (ACLs included), name -> value; empty on a
    file system without them.  OSError for any other failure."""
    try:
        names = os.listxattr(path)
    except OSError as error:
        if error.errno in NO_XATTRS:
            return {}
        raise
    return {name: os.getxattr(path, name) for name in names}


def copy_metadata(source: os.stat_result, attributes: dict[str, bytes], fd: int) -> None:
    """Give the open file ``fd`` the owner, group, mode (setuid/setgid/sticky included)
    and extended attributes of the file ``source``/``attributes`` were read from.

    OSError when one cannot be given (a non-root user cannot chown to another
    user): the caller then must not use the file, as it would change the metadata.
    """
    if (source.st_uid, source.st_gid) != (os.fstat(fd).st_uid, os.fstat(fd).st_gid):
        os.fchown(fd, source.st_uid, source.st_gid)
    os.fchmod(fd, stat.S_IMODE(source.st_mode))  # after chown, which clears setuid/setgid
    for name, value in attributes.items():
        os.setxattr(fd, name, value)
