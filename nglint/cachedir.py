"""The result cache's directory: private to the user, its entries read without trust.

The directory (``$XDG_CACHE_HOME/nglint``, else ``~/.cache/nglint``) is created
0700 and used only while the current user owns it and neither group nor others
can write to it: otherwise anyone who can write there could plant the findings
of someone else's run.  It is held open and every entry is opened relative to it
(``dir_fd``), so a directory swapped in after the check is never used.  An entry
is opened without following a symlink and without blocking (a FIFO planted as an
entry cannot hang the run), must be a regular file of this user and at most
``MAX_ENTRY`` bytes; anything else reads as no entry.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator

MAX_ENTRY = 64 * 1024 * 1024  # bytes; a 50k-line tree's entry is a few MB
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_ENTRY = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_CLOEXEC", 0))


class Opened:
    """An entry open for reading: ``size`` bytes (as ``fstat`` said when opened)."""

    def __init__(self, handle: int, size: int) -> None:
        self.handle = handle
        self.size = size

    def read(self, offset: int, length: int) -> bytes | None:
        """``length`` bytes at ``offset``, or None: outside the entry, or the file
        changed size (a short read) or cannot be read."""
        if offset < 0 or length < 0 or offset + length > self.size:
            return None
        chunks: list[bytes] = []
        while length > 0:
            try:
                chunk = os.pread(self.handle, min(length, 1 << 24), offset)
            except OSError:
                return None
            if not chunk:
                return None
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class NotPrivate(Exception):
    """The cache directory exists but others could write to it: caching is off.
    ``str()`` is the one-line note for the user."""


def default_directory() -> str:
    """``$XDG_CACHE_HOME/nglint`` (when set and not empty), else ``~/.cache/nglint``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nglint")


class Store:
    """Entries (bytes, by name) in the private cache directory ``path``."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or default_directory()

    def check(self) -> bool:
        """Create the directory (0700) if missing and check it is private.

        Returns False when it cannot be created or opened (a read-only home: caching
        is silently off); raises NotPrivate when another user owns it or group or
        others can write to it.  Off, too, where entries cannot be opened relative to
        the checked directory or there is no user id to check (not POSIX)."""
        if os.open not in os.supports_dir_fd or not hasattr(os, "geteuid"):
            return False
        try:
            with self._opened():
                return True
        except OSError:
            return False

    @contextlib.contextmanager
    def _opened(self) -> Iterator[int]:
        """The directory, open and checked; OSError or NotPrivate otherwise."""
        parent = os.path.dirname(self.path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.path, 0o700)
        try:
            folder = os.open(self.path, _DIRECTORY)
        except PermissionError:  # another user's private directory: say so
            self._refuse(os.stat(self.path))
            raise
        try:
            self._refuse(os.fstat(folder))
            yield folder
        finally:
            os.close(folder)

    def _refuse(self, status: os.stat_result) -> None:
        if not stat.S_ISDIR(status.st_mode):
            raise NotADirectoryError(self.path)
        if status.st_uid != os.geteuid():
            raise NotPrivate(f"cache off: {self.path} belongs to another user "
                             "(use a cache directory of your own: XDG_CACHE_HOME)")
        if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise NotPrivate(f"cache off: others can write to {self.path} (chmod 700 it)")

    def read(self, name: str) -> bytes | None:
        """Entry ``name``'s bytes, or None: missing, not a regular file of this user
        (a symlink, a FIFO, a directory), larger than MAX_ENTRY, or unreadable."""
        with self.opened(name) as entry:
            return entry.read(0, entry.size) if entry is not None else None

    @contextlib.contextmanager
    def opened(self, name: str) -> Iterator[Opened | None]:
        """Entry ``name`` open for reads of parts of it (``Opened``), or None: missing,
        not a regular file of this user (a symlink, a FIFO, a directory), larger than
        MAX_ENTRY, or unreadable."""
        try:
            with self._opened() as folder:
                handle = os.open(name, _ENTRY, dir_fd=folder)
        except (OSError, NotPrivate):
            yield None
            return
        try:
            status = os.fstat(handle)
            usable = (stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid()
                      and status.st_size <= MAX_ENTRY)
        except OSError:
            usable = False
        try:
            yield Opened(handle, status.st_size) if usable else None
        finally:
            os.close(handle)

    def write(self, name: str, data: bytes) -> None:
        """Replace entry ``name`` atomically (whatever it was: a symlink, a FIFO, a
        corrupt file), mode 0600.  An entry over MAX_ENTRY is removed instead; a
        directory that cannot be written is skipped silently."""
        try:
            with self._opened() as folder:
                if len(data) > MAX_ENTRY:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=folder)
                    return
                self._replace(folder, name, data)
        except (OSError, NotPrivate):  # a full disk must not fail the lint
            return

    @staticmethod
    def _replace(folder: int, name: str, data: bytes) -> None:
        # a name no other process uses, created exclusively (tempfile would cost more
        # start-up than a small file's whole lint)
        temporary = f".entry-{os.getpid()}-{time.monotonic_ns()}"
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_NOFOLLOW", 0), 0o600, dir_fd=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
