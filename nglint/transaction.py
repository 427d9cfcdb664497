"""``--fix`` writes as one transaction: every edited file new, or every one as it was.

``commit`` takes the edited files (resolved path, the bytes the analysis read, the
new bytes) and, in this order:

1. refuses, before anything is written, any file ``nglint.filemeta.refusal``
   names (read-only, not writable, another owner, several hard links, ...);
2. takes this user's lock and rolls back what a dead run left
   (``nglint.journal``);
3. writes the journal, then for every file a temporary ``.nglint-<id>-<n>.new``
   beside it (owner, mode and extended attributes copied, see ``nglint.filemeta``),
   fsyncs the temporaries (several at a time: concurrent fsyncs share the file
   system's journal commits), then makes each file's backup
   ``.nglint-<id>-<n>.old``: a hard link to the file itself, so a rollback puts
   back the very inode; a copy with the same metadata when the file system refuses
   the link;
4. checks that every file still holds the bytes the analysis read (sha256): a
   file changed meanwhile (an editor, a checkout) stops the run, nothing written
   (no lost update);
5. renames every temporary over its file and fsyncs the folders;
6. marks the journal ``committed``, removes the backups, then the journal.

A failure anywhere in 3-5 (full disk, ``ulimit -f``, a rename refused) and
SIGTERM, SIGINT or SIGHUP put every file back from its backup and remove every
temporary, then the run ends with one line and exit status 2.  A SIGKILL or a
power cut leaves the journal: the next nglint command, whatever it is, rolls the
transaction back (or, after step 6 began, completes it) before anything else.

``--in-place`` (``in_place``) writes the new bytes into each file instead of
renaming (same inode: hard links, owner, attributes stay); the backup is then a
copy in the state folder and the journal marks the file before writing into it,
so an interrupted write is put back too.  Readers may see a half-written file
while it is written: nginx reloading at that moment could read it.

Every write, fsync, link, rename and removal first calls ``step(what)``: the
tests inject failures there.  Two environment variables exist for the tests that
kill a real process: ``NGLINT_TEST_KILL_AT=N`` sends this process
``NGLINT_TEST_KILL_SIGNAL`` (KILL or TERM, default KILL) at the N-th step and
``NGLINT_TEST_STEP_DELAY`` sleeps that many seconds at each step.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import NamedTuple

from nglint import filemeta
from nglint.errors import NglintError
from nglint.journal import (
    PREFIX,
    Entry,
    Journal,
    complete,
    digest,
    ensure_state_dir,
    file_digest,
    locked,
    recover,
    roll_back,
    sync_dir,
    write_into,
)
from nglint.reader import read_file

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# os.link errors that mean "no hard link here": back up by copying instead
NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS,
           errno.EXDEV}


class Change(NamedTuple):
    """One file ``commit`` writes: where, the bytes it must still hold, the new bytes."""

    target: str  # resolved path of the file to write
    old: bytes  # the bytes the analysis read (what the file must still hold)
    new: bytes


class Interrupted(BaseException):
    """A termination signal arrived while files were being written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Steps:
    """The step counter the module docstring describes (test hooks from the environment)."""

    def __init__(self) -> None:
        self.count = 0
        self.kill_at = int(os.environ.get("NGLINT_TEST_KILL_AT", "0") or 0)
        name = os.environ.get("NGLINT_TEST_KILL_SIGNAL", "KILL")
        self.signal = signal.SIGTERM if name == "TERM" else signal.SIGKILL
        self.delay = float(os.environ.get("NGLINT_TEST_STEP_DELAY", "0") or 0)

    def __call__(self, what: str) -> None:
        self.count += 1
        if self.delay:
            time.sleep(self.delay)
        if self.count == self.kill_at:
            os.kill(os.getpid(), self.signal)


class _Trap:
    """SIGTERM, SIGINT and SIGHUP raise ``Interrupted`` while files are written;
    while rolling back or cleaning up they are only recorded."""

    def __init__(self) -> None:
        self.deferred = False
        self.caught: int | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.caught = self.caught or signum
        if not self.deferred:
            self.deferred = True  # raised once: the rollback it starts is not interrupted
            raise Interrupted(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[_Trap]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _say_nothing(line: str) -> None:
    return None


def commit(changes: Sequence[Change], in_place: bool = False,
           say: Callable[[str], None] = _say_nothing,
           step: Callable[[str], None] | None = None) -> None:
    """Write every change or none (see the module docstring).  ``say`` gets the
    one-line report of a recovered earlier run.  NglintError (one line, naming a
    file) when a file is refused, changed since it was read, cannot be written, or
    a signal interrupted the run: in each case every file is as it was."""
    step = step or Steps()
    for change in changes:
        why = filemeta.refusal(change.target, in_place)
        if why:
            raise NglintError(f"not fixed: {why}; nothing was written", change.target)
    if not changes:
        return
    directory = ensure_state_dir()
    with locked(directory):
        recover(say, directory=directory, lock=False)
        record = _plan(directory, changes, in_place)
        trap = _Trap()
        with trap.installed():
            try:
                try:
                    _write(record, changes, step)
                    trap.deferred = True
                    complete(record, step)
                except BaseException as error:
                    _give_up(record, trap, error, step)
                    raise  # _give_up raises; this line satisfies the reader
            except Interrupted as error:  # only before the inner try: nothing written
                raise NglintError(f"{_why(error)}; nothing was written") from None
        if trap.caught:
            raise NglintError(f"{signal.Signals(trap.caught).name} arrived after every fix "
                              "was written: the files are fixed")


def _plan(directory: str, changes: Sequence[Change], in_place: bool) -> Journal:
    tx_id = f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
    record = Journal(os.path.join(directory, f"tx-{tx_id}.json"))
    for n, change in enumerate(changes):
        folder = os.path.dirname(change.target)
        base = os.path.join(folder, f"{PREFIX}{tx_id}-{n}")
        if in_place:
            entry = Entry(change.target, "", os.path.join(directory, f"tx-{tx_id}-{n}.old"),
                          digest(change.old), digest(change.new), in_place=True)
        else:
            entry = Entry(change.target, base + ".new", base + ".old",
                          digest(change.old), digest(change.new))
        record.entries.append(entry)
    return record


def _write(record: Journal, changes: Sequence[Change], step: Callable[[str], None]) -> None:
    record.save(step)
    folders = {os.path.dirname(entry.backup) for entry in record.entries}
    folders |= {os.path.dirname(entry.target) for entry in record.entries}
    for entry, change in zip(record.entries, changes, strict=True):
        _attempt(entry.target, _prepare, entry, change, step)
    _sync_temporaries([entry for entry in record.entries if not entry.in_place], step)
    for entry in record.entries:
        if not entry.in_place:
            _attempt(entry.target, _backup, entry, step)
    for folder in sorted(folders):
        sync_dir(folder, step)
    _check_unchanged(record)
    for entry, change in zip(record.entries, changes, strict=True):
        if entry.in_place:
            entry.writing = True
            record.save(step)
            _attempt(entry.target, write_into, entry.target, change.new, step)
        else:
            step("rename")
            _attempt(entry.target, os.replace, entry.temp, entry.target)
    for folder in sorted(folders):
        sync_dir(folder, step)
    record.state = "committed"
    record.save(step)


class _Failed(Exception):
    def __init__(self, target: str, error: OSError) -> None:
        super().__init__(target)
        self.target, self.error = target, error


def _attempt(target: str, action: Callable[..., object], *args: object) -> None:
    """``action(*args)``; an OSError is tagged with the file it was for."""
    try:
        action(*args)
    except OSError as error:
        raise _Failed(target, error) from error


def _prepare(entry: Entry, change: Change, step: Callable[[str], None]) -> None:
    """The temporary of one file: new bytes, old metadata (its fsync and the backup
    follow for every file at once: ``_sync_temporaries``, ``_backup``).  With
    ``--in-place``, the backup copy."""
    if entry.in_place:
        _copy(entry.target, entry.backup, None, step)
        return
    status = os.stat(entry.target)
    attributes = filemeta.xattrs(entry.target)
    step("temp create")
    fd = os.open(entry.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        step("temp write")
        _write_all(fd, change.new)
        step("temp metadata")
        filemeta.copy_metadata(status, attributes, fd)
    finally:
        os.close(fd)


# temporaries flushed to disk at once: one fsync waits for the file system's journal
# commit (2-3 ms here), and concurrent ones share commits (200 files: 0.5 s one by one)
_SYNC_THREADS = 16


def _sync_temporaries(entries: Sequence[Entry], step: Callable[[str], None]) -> None:
    """fsync every temporary before any backup or rename, several at a time (the
    calls release the GIL): each is durable before the journal lets a rename
    happen, as one at a time would make it.  ``step("temp fsync")`` is called for
    each file first, in order (the tests inject failures there)."""
    for _entry in entries:
        step("temp fsync")
    if not entries:
        return

    def sync(entry: Entry) -> None:
        _attempt(entry.target, _fsync_path, entry.temp)

    if len(entries) == 1:
        sync(entries[0])
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(_SYNC_THREADS, len(entries))) as pool:
        for done in [pool.submit(sync, entry) for entry in entries]:
            done.result()  # the first failure, tagged with its file, is raised


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _backup(entry: Entry, step: Callable[[str], None]) -> None:
    """The backup of one file: a hard link to it (the very inode, for a rollback), or a
    durable copy with its metadata where the file system refuses links."""
    step("backup link")
    try:
        os.link(entry.target, entry.backup)
    except OSError as error:
        if error.errno not in NO_LINK:
            raise
        _copy(entry.target, entry.backup, os.stat(entry.target), step)


def _copy(source: str, destination: str, status: os.stat_result | None,
          step: Callable[[str], None]) -> None:
    """A durable copy of ``source``; with ``status``, its owner, mode and attributes too."""
    data = read_file(source)
    attributes = filemeta.xattrs(source) if status is not None else {}
    step("backup create")
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        step("backup write")
        _write_all(fd, data)
        if status is not None:
            step("backup metadata")
            filemeta.copy_metadata(status, attributes, fd)
        step("backup fsync")
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Changed(Exception):
    def __init__(self, changed: list[str]) -> None:
        super().__init__(changed[0])
        self.changed = changed


def _check_unchanged(record: Journal) -> None:
    """Every file still holds the bytes the analysis read, and its backup is it."""
    changed = []
    for entry in record.entries:
        same = file_digest(entry.target) == entry.old
        if same and not entry.in_place:
            same = (os.path.samefile(entry.target, entry.backup)
                    or file_digest(entry.backup) == entry.old)
        if same and entry.in_place:
            same = file_digest(entry.backup) == entry.old
        if not same:
            changed.append(entry.target)
    if changed:
        raise _Changed(changed)


def _give_up(record: Journal, trap: _Trap, error: BaseException,
             step: Callable[[str], None]) -> None:
    """Roll back after ``error``, then raise the one-line NglintError that says why.

    After the journal's ``committed`` state reached the disk, the transaction is
    done (a recovery would complete it): finishing it is then the consistent end."""
    if record.state == "committed" and _on_disk_state(record.path) != "prepared":
        # "committed" on disk, or the journal already removed by ``complete``
        trap.deferred = True
        with contextlib.suppress(OSError):
            complete(record, step)
        detail = _why(error)
        if isinstance(error, OSError):
            detail = f"removing the backups failed ({error.strerror or error})"
        raise NglintError(f"the fixes were written, but {detail}; the next nglint run "
                          "finishes it if needed", _where(error)) from None
    record.state = "prepared"
    while True:
        try:
            trap.deferred = True
            left = roll_back(record, step)
            break
        except Interrupted:
            continue  # landed before deferral: rolling back again is harmless
        except OSError as failure:
            raise NglintError(f"{_why(error)}; rolling back failed too "
                              f"({failure.strerror or failure}): the next nglint run "
                              f"finishes it from the journal {record.path}",
                              _where(error)) from None
    after = "nothing was written, every file is as it was"
    if isinstance(error, _Changed):  # never written: left as the user saved them
        left = [target for target in left if target not in error.changed]
    if left:
        after = f"rolled back, but changed meanwhile and left as they are: {', '.join(left)}"
    if isinstance(error, (Interrupted, _Failed, _Changed, OSError)):
        raise NglintError(f"{_why(error)}; {after}", _where(error)) from None
    raise error


def _on_disk_state(path: str) -> str | None:
    """The state the journal file holds; None when it is gone (or unreadable)."""
    try:
        return Journal.load(path).state
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _why(error: BaseException) -> str:
    if isinstance(error, Interrupted):
        return f"interrupted by {signal.Signals(error.signum).name}"
    if isinstance(error, _Changed):
        more = f" (and {len(error.changed) - 1} more)" if len(error.changed) > 1 else ""
        return f"changed since nglint read it{more}: run nglint again on the new text"
    if isinstance(error, _Failed):
        error = error.error
    if isinstance(error, OSError):
        return f"cannot write the fixes: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def _where(error: BaseException) -> str | None:
    if isinstance(error, _Failed):
        return error.target
    if isinstance(error, _Changed):
        return error.changed[0]
    return None
