"""The one way nglint reads a configuration file from disk: bounded, never blocking.

nginx opens a configuration file, ``fstat``s it and reads exactly ``st_size``
bytes (``src/core/ngx_conf_file.c``, ``ngx_conf_parse`` and
``ngx_conf_read_token``: ``file_size = ngx_file_size(&cf->conf_file->file.info)``).
A FIFO blocks that ``open()``, a device or a ``/proc`` entry reports a size
that is not its content, and a directory fails with ``pread() ... (21: Is a
directory)``.  nglint reads only regular files: ``read_file`` opens with
``O_RDONLY | O_NONBLOCK | O_NOCTTY`` (a FIFO or a terminal never blocks it),
refuses anything ``fstat`` does not call a regular file, and reads at most
``MAX_FILE_BYTES + 1`` bytes, so an endless file costs one limit's worth of
memory.  The loader, discovery, ``nginx -T`` dumps and the result cache all
read through it.
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["MAX_FILE_BYTES", "NotARegularFile", "read_file"]

# bytes of one configuration file nglint reads; one more byte read tells "too large"
MAX_FILE_BYTES = 16 * 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


class NotARegularFile(OSError):
    """What is there is no regular file (a FIFO, a device, a socket, a ``/proc``
    entry whose size is not its content); ``strerror`` says which."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({what})", path)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a file"


def _check(path: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        # what nginx says: pread() "PATH" failed (21: Is a directory)
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, _kind(mode))


def read_bounded(descriptor: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes from an open descriptor (one more than allowed
    tells the caller the file is over the limit, whatever its size said)."""
    chunks: list[bytes] = []
    wanted = limit + 1
    while wanted > 0:
        chunk = os.read(descriptor, min(wanted, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def read_file(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The first ``limit + 1`` bytes (at most) of the regular file at ``path``.

    A result longer than ``limit`` means the file is larger (the caller reports
    it).  Raises ``OSError`` with the system's ``strerror``: ``ENOENT``,
    ``EACCES``, ``ELOOP`` (a symlink loop: "Too many levels of symbolic
    links", as nginx's ``open()`` says), ``IsADirectoryError``, and
    ``NotARegularFile`` for a FIFO, device or socket (refused before it is
    opened, and again after, should it have changed) and for a regular file
    whose content is not its reported size (``/proc`` and ``/sys`` entries
    report 0 bytes and hold text; nginx reads ``st_size`` bytes of them).
    Never blocks and never reads more than ``limit + 1`` bytes.
    """
    _check(path, os.stat(path).st_mode)  # a device is never opened (opening may act)
    descriptor = os.open(path, _FLAGS)
    try:
        info = os.fstat(descriptor)
        _check(path, info.st_mode)
        data = read_bounded(descriptor, limit)
    finally:
        os.close(descriptor)
    if len(data) != min(info.st_size, limit + 1):
        raise NotARegularFile(
            path, f"it reports {info.st_size} bytes and holds "
            f"{'more' if len(data) > info.st_size else 'fewer'}: a /proc-like file, "
            "or one written while it was read")
    return data
