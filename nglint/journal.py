"""The ``--fix`` journal: what a transaction is doing, so a crash can be undone.

Where: ``$XDG_STATE_HOME/nglint`` or, without it, ``~/.local/state/nglint`` (the
XDG Base Directory specification's default for state that survives restarts).
nglint creates it mode 0700; one it did not make private (owned by another user,
or open to group or others) is not used: ``--fix`` refuses to write, as a journal
there could be read or planted by someone else, and recovery ignores it.

What: one JSON file per transaction, ``tx-<id>.json``, rewritten atomically
(temporary file, fsync, rename, fsync of the folder).  It lists, for every file
the transaction edits: ``target`` (the resolved path), ``temp`` (the new text,
``.nglint-<id>-<n>.new`` beside the target), ``backup`` (the old file,
``.nglint-<id>-<n>.old`` beside it: a hard link to the very inode, or a copy with
the same metadata when the file system refuses the link; with ``--in-place`` a
copy in the state folder), the sha256 of the ``old`` and ``new`` bytes, whether it
is written ``in_place`` and, for those, whether ``writing`` began.  ``state`` is
``prepared`` until every file is new, then ``committed``.  The names start with a
dot and do not end in ``.conf``: nginx's ``include conf.d/*.conf`` and ``*``
globs never read them (glob(7): ``*`` does not match a leading dot).

Recovery (``recover``): every nglint command first lists the state folder; a
journal left there belongs to a run that died (a live run holds the lock, see
``locked``).  A ``prepared`` journal is rolled back: a target holding the new
bytes gets its backup renamed back (the original inode, so links, metadata and
all); one holding the old bytes is left; one holding anything else was changed by
someone since and is left as it is, and reported.  A ``committed`` journal is
completed (its backups removed).  Either way its temporary files and the journal
go, and one line on stderr says what happened.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from nglint.errors import NglintError
from nglint.reader import read_file

LOCK_WAIT_SECONDS = 30.0
PREFIX = ".nglint-"


def digest(data: bytes) -> str:
    """sha256 of ``data``, 64 lowercase hex digits (what the journal records)."""
    import hashlib  # only when a journal is written or recovered (start-up)

    return hashlib.sha256(data).hexdigest()


def file_digest(path: str) -> str | None:
    """sha256 of a file's bytes (read by ``nglint.reader.read_file``: regular files
    only, never blocking); None when it cannot be read (gone, or not a file)."""
    try:
        return digest(read_file(path))
    except OSError:
        return None


def state_dir() -> str:
    """Where journals live: ``$XDG_STATE_HOME/nglint``, else ``~/.local/state/nglint``
    (XDG Base Directory Specification 0.8, ``XDG_STATE_HOME``).  Not created here."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "nglint")


def _private(path: str) -> bool:
    try:
        status = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(status.st_mode) and status.st_uid == os.geteuid()
            and not stat.S_IMODE(status.st_mode) & 0o077)


def ensure_state_dir() -> str:
    """The state folder, created 0700 if missing; NglintError when it is not usable."""
    path = state_dir()
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as error:
        raise NglintError(f"cannot create the --fix journal folder: {error.strerror}; "
                          "nothing was written (set XDG_STATE_HOME)", path) from None
    if not _private(path):
        raise NglintError("the --fix journal folder is not private to this user (want "
                          "owner only, mode 0700); nothing was written", path)
    return path


@contextlib.contextmanager
def locked(directory: str, wait: float | None = None) -> Iterator[None]:
    """Hold the state folder's lock (flock(2) through ``filelock``): one transaction
    or recovery at a time for this user.  The kernel drops it when a run dies.
    ``filelock`` is imported here: a run with no journal to recover never needs it."""
    from filelock import FileLock, Timeout

    lock = FileLock(os.path.join(directory, "lock"))
    try:
        lock.acquire(timeout=LOCK_WAIT_SECONDS if wait is None else wait)
    except Timeout:
        raise NglintError("another nglint --fix is writing files; nothing was written",
                          os.path.join(directory, "lock")) from None
    try:
        yield
    finally:
        lock.release()


@dataclass
class Entry:
    """One file of a transaction, as the journal stores it (see the module docstring)."""

    target: str
    temp: str
    backup: str
    old: str  # sha256 hex of the bytes nglint read
    new: str  # sha256 hex of the bytes it writes
    in_place: bool = False
    writing: bool = False


@dataclass
class Journal:
    """A transaction's journal: its file ``path``, its files, its ``state``
    (``prepared`` or ``committed``), the writing ``pid`` and the ``started`` time
    (seconds since the epoch)."""

    path: str
    entries: list[Entry] = field(default_factory=list)
    state: str = "prepared"
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)

    def save(self, step: Callable[[str], None]) -> None:
        """Write the journal atomically and durably."""
        body = {"version": 1, "state": self.state, "pid": self.pid, "started": self.started,
                "files": [asdict(entry) for entry in self.entries]}
        temporary = self.path + ".tmp"
        step("journal write")
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(body, out)
            out.flush()
            step("journal fsync")
            os.fsync(out.fileno())
        step("journal rename")
        os.replace(temporary, self.path)
        sync_dir(os.path.dirname(self.path), step)

    @classmethod
    def load(cls, path: str) -> Journal:
        """Read a journal; OSError, ValueError (bad JSON, or a name that is not one
        nglint makes), KeyError or TypeError (missing or odd fields)."""
        with open(path, encoding="utf-8") as handle:
            body = json.load(handle)
        entries = [Entry(**item) for item in body["files"]]
        for entry in entries:  # only ever our own names: never remove anything else
            for name in (entry.temp, entry.backup):
                if name and not os.path.basename(name).startswith((PREFIX, "tx-")):
                    raise ValueError(f"not a journal name: {name}")
        return cls(path, entries, body["state"], body["pid"], body["started"])


def sync_dir(directory: str, step: Callable[[str], None]) -> None:
    """fsync a folder, so renames and removals in it survive a power cut."""
    step("folder fsync")
    folder = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(folder)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise  # those: a file system that cannot sync folders (fsync(2)); nothing to do
    finally:
        os.close(folder)


def _remove(path: str, step: Callable[[str], None]) -> None:
    if os.path.lexists(path):
        step("unlink")
        os.unlink(path)


def write_into(path: str, data: bytes, step: Callable[[str], None]) -> None:
    """Overwrite a file's bytes keeping its inode (``--in-place``): not atomic.
    OSError when it cannot be opened, written or synced."""
    step("in-place write")
    with open(path, "r+b") as out:
        out.write(data)
        out.truncate()
        out.flush()
        step("in-place fsync")
        os.fsync(out.fileno())


def roll_back(journal: Journal, step: Callable[[str], None]) -> list[str]:
    """Put every target of a ``prepared`` journal back as it was, remove its
    temporary files and the journal.  Returns the targets left alone because someone
    changed them since.  OSError when a step fails: the journal then stays, and the
    next run tries again."""
    left: list[str] = []
    for entry in journal.entries:
        now = file_digest(entry.target)
        has_backup = os.path.lexists(entry.backup)
        if entry.in_place:
            if has_backup and (entry.writing or now == entry.new) and now != entry.old:
                write_into(entry.target, read_file(entry.backup), step)
            elif now not in (entry.old, entry.new):
                left.append(entry.target)
        elif now == entry.old:
            pass  # never replaced
        elif (now == entry.new or now is None) and has_backup:
            step("restore rename")
            os.replace(entry.backup, entry.target)
        else:
            left.append(entry.target)
    _clean(journal, step)
    return left


def complete(journal: Journal, step: Callable[[str], None]) -> None:
    """Finish a ``committed`` journal: every target is new; drop backups and journal.
    OSError when a removal fails (the journal then stays for the next run)."""
    _clean(journal, step)


def _clean(journal: Journal, step: Callable[[str], None]) -> None:
    folders = set()
    for entry in journal.entries:
        for name in (entry.temp, entry.backup):
            if name:
                _remove(name, step)
                folders.add(os.path.dirname(name))
    for folder in sorted(folders):
        sync_dir(folder, step)
    _remove(journal.path + ".tmp", step)
    _remove(journal.path, step)
    sync_dir(os.path.dirname(journal.path), step)


def journals(directory: str, unfinished: bool = False) -> list[str]:
    """The journals in the state folder, oldest first (one listdir); ``unfinished``:
    also a first journal save that never completed (``.json.tmp``: nothing written)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    ends = (".json", ".json.tmp") if unfinished else (".json",)
    return sorted(os.path.join(directory, name) for name in names
                  if name.startswith("tx-") and name.endswith(ends))


def _no_step(what: str) -> None:
    return None


def recover(say: Callable[[str], None], step: Callable[[str], None] = _no_step,
            directory: str | None = None, lock: bool = True) -> None:
    """Roll back (or complete) every transaction a dead run left, saying one line for
    each.  Cheap when there is none: one listdir.  Never raises for a journal it
    cannot handle: it says so and leaves the journal for the next run."""
    directory = directory or state_dir()
    if not journals(directory, unfinished=True) or not _private(directory):
        return
    context = locked(directory, wait=0) if lock else contextlib.nullcontext()
    try:
        with context:
            for path in journals(directory, unfinished=True):
                if path.endswith(".tmp"):
                    if not os.path.exists(path[:-len(".tmp")]):
                        with contextlib.suppress(OSError):  # died in its first save
                            os.unlink(path)
                    continue
                say(_recover_one(path, step))
    except NglintError:
        return  # a live run holds the lock: the journals are its own


def _recover_one(path: str, step: Callable[[str], None]) -> str:
    try:
        journal = Journal.load(path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"cannot read the interrupted --fix journal {path}: {error}; left as it is"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(journal.started))
    what = f"an interrupted --fix (pid {journal.pid}, {when})"
    try:
        if journal.state == "committed":
            complete(journal, step)
            return f"completed {what}: its {len(journal.entries)} files were written"
        left = roll_back(journal, step)
    except OSError as error:
        return (f"cannot roll back {what}: {error}; the journal {path} is kept "
                "for the next run")
    restored = len(journal.entries) - len(left)
    line = f"rolled back {what}: {restored} of {len(journal.entries)} files as they were"
    if left:
        line += f"; changed since, left as they are: {', '.join(left)}"
    return line
