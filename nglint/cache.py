"""A content-hash cache of a run's result, in the user's private cache directory.

A warm re-run of an unchanged tree answers from here without parsing, and without
importing the engine, the rules or the semantic model: it writes the output it
stored.  The entry's name (``key``) covers nglint's version and code (every source
file of nglint, its rules and crossplane), the command-line options and the
configuration files (path and SHA-256) that decide the findings, the paths asked
for and the current directory (paths in findings are relative to it).

An entry (at most ``cachedir.MAX_ENTRY`` bytes) is a compact JSON header followed by
the parts it points at (``[offset, length]`` after the header), so that a hit reads
the header and the one output it writes, not the findings.  The header holds:

- ``files``: how many files were checked (the summary's count);
- ``failing``: whether a finding is at or above its group's fail-on level (exit 1);
- ``findings``: the part holding the findings as JSON, a list of ``ROW`` lists (read
  only to render an output the entry has not stored);
- ``renders``: the output already rendered, by ``render_key`` (format, quiet,
  statistics, text style, ASCII-only JSON): the parts of its stdout and stderr text.
  Colour output (through rich, to a terminal) is never stored: it is rendered from
  the findings;
- ``state``: what the result depends on, answered from only while all of it holds:

  - ``files``: every file read (each tree's entry and every source), by real path:
    ``[SHA-256 of the bytes linted (None: could not be read), stat signature]``.
    The signature (``[st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns]``) lets a
    hit skip hashing; it is None when the file changed within ``RACY_NS`` of the
    run's start (a write in the same timestamp tick could go unseen).  A file without
    a signature, or whose signature differs (touched), is hashed; a hit that finds it
    unchanged and left alone for ``RACY_NS`` records its signature (``_refresh``);
  - ``links``: every path the run went through (the paths asked for, each tree's
    entry, each source as named, each include target, each file a directory walk
    found) and the real path it resolves to: a symlink retargeted on the way is seen;
  - ``includes``: each include pattern's matches (a glob) or what the path is (file,
    directory or missing), so a new ``conf.d/*.conf`` or an include that appears
    invalidates;
  - ``walk``: the files under each directory asked for.

An entry that is not exactly of this shape (``_fits``; a part out of the file or not
UTF-8; the findings' rows by ``_rows`` when they are decoded), does not name every
path asked for, or cannot be read safely (``nglint.cachedir``) is a miss, and the
run rewrites it.
``--no-cache`` bypasses the cache; ``--fix`` and ``--diff`` never use it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nglint import __version__, cachestate
from nglint.cachedir import Opened, Store, default_directory

if TYPE_CHECKING:
    from nglint.findings import Finding
    from nglint.tree import Tree

FORMAT = 7
MAX_RENDERS = 8  # outputs stored per entry (formats, styles); the oldest goes first
SEVERITIES = ("info", "warning", "error")


def directory() -> str:
    """Where entries live (see ``nglint.cachedir``)."""
    return default_directory()


def private_store() -> Store | None:
    """The cache directory, created 0700 and checked private; None when it cannot be
    created or opened (caching silently off).  Raises ``cachedir.NotPrivate`` (its
    message is the one-line note) when another user owns it or others can write to it."""
    store = Store(directory())
    return store if store.check() else None


def key(paths: Sequence[str], settings: Any) -> str | None:
    """The entry's name: SHA-256 (hex) over the entry format, nglint's version and
    code, the current directory, the paths asked for and ``settings`` (JSON, or repr
    where not JSON).  None when the current directory is gone (nothing to cache)."""
    try:
        here = os.getcwd()
    except OSError:
        return None
    text = json.dumps([FORMAT, __version__, code_fingerprint(), here, list(paths), settings],
                      sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def code_fingerprint() -> list[tuple[str, int, int]]:
    """Name, size and modification time (ns) of every file of nglint, its rules and
    crossplane: a changed rule answers differently even when the version number stays
    the same (an editable install, a patched package).  About 150 stat calls; crossplane
    is found, not imported (a hit never parses)."""
    import importlib.util

    import nglint
    import nglint.rules

    spec = importlib.util.find_spec("crossplane")
    roots = [*nglint.__path__, *nglint.rules.__path__,
             *((spec.submodule_search_locations or []) if spec else [])]
    found: list[tuple[str, int, int]] = []
    walked: list[str] = []
    for root in roots:
        # installed from a wheel, nglint/rules/ is inside nglint/: walked already
        real = os.path.realpath(root)
        if any(real.startswith(os.path.join(done, "")) for done in walked):
            continue
        walked.append(real)
        _fingerprint(root, "", found)
    return found


def _fingerprint(folder: str, prefix: str, found: list[tuple[str, int, int]]) -> None:
    """``found`` gets (name under the root, size, mtime) of each ``.py`` and ``.json``
    file under ``folder``, sorted, ``__pycache__`` and linked folders left out."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_dir():
            if entry.name != "__pycache__" and not entry.is_symlink():
                _fingerprint(entry.path, f"{prefix}{entry.name}/", found)
        elif entry.name.endswith((".py", ".json")):
            status = entry.stat()
            found.append((prefix + entry.name, status.st_size, status.st_mtime_ns))


# --- the entry's shape -------------------------------------------------------------------

class MapOf:
    """A JSON object of any keys: every key a string, every value of ``value``'s shape."""

    def __init__(self, value: Any) -> None:
        self.value = value


TEXT_OR_NONE = (str, None)
SIGNATURE = ([int], None)
SPAN = [int]  # [offset, length] of a part, after the header
ENTRY = {
    "format": int, "files": int, "failing": bool, "findings": SPAN,
    "renders": MapOf([SPAN]),
    "state": {"files": MapOf(list), "links": MapOf(str),
              "includes": MapOf(([str], str)), "walk": MapOf([str])},
}


def _fits(value: Any, shape: Any) -> bool:
    """Whether JSON ``value`` has ``shape``: a type (``int`` excludes ``bool``), None,
    a frozenset of allowed strings, a tuple of alternatives, ``[item shape]``, ``{key:
    shape}`` (exactly these keys) or ``MapOf``."""
    if shape is None:
        return value is None
    if isinstance(shape, type):
        return type(value) is shape
    if isinstance(shape, frozenset):
        return isinstance(value, str) and value in shape
    if isinstance(shape, tuple):
        return any(_fits(value, option) for option in shape)
    if isinstance(shape, list):
        return isinstance(value, list) and all(_fits(item, shape[0]) for item in value)
    if isinstance(shape, MapOf):
        return isinstance(value, dict) and all(_fits(item, shape.value)
                                               for item in value.values())
    return (isinstance(value, dict) and value.keys() == shape.keys()
            and all(_fits(value[name], part) for name, part in shape.items()))


def _state_fits(state: dict[str, Any]) -> bool:
    """Each file's record is ``[sha or None, signature or None]``, the signature five
    integers."""
    return all(len(record) == 2 and _fits(record[0], TEXT_OR_NONE)
               and _fits(record[1], SIGNATURE) and (record[1] is None or len(record[1]) == 5)
               for record in state["files"].values())


# A finding as a row: code, rule, severity, path, line, column, end line, end column,
# message, fixable, unsafe-fixable, headline, notes, related ([path, line, column,
# message, role] each)
ROW = (str, str, str, str, int, int, int, int, str, bool, bool, str, list, list)
RELATED = (str, int, int, str, str)


def _row(finding: Finding) -> list[Any]:
    return [finding.code, finding.rule, str(finding.severity), finding.path, finding.line,
            finding.column, finding.end_line, finding.end_column, finding.message,
            finding.fixable, finding.unsafe_fixable, finding.headline, list(finding.notes),
            [[r.path, r.line, r.column, r.message, r.role] for r in finding.related]]


def _typed(values: Any, types: tuple[type, ...]) -> bool:
    return (type(values) is list and len(values) == len(types)
            and all(type(v) is t for v, t in zip(values, types, strict=True)))


def _rows(rows: Any) -> bool:
    """Whether ``rows`` (decoded JSON) are findings of exactly the ``ROW`` shape."""
    return type(rows) is list and all(
        _typed(row, ROW) and row[2] in SEVERITIES
        and all(type(note) is str for note in row[12])
        and all(_typed(related, RELATED) for related in row[13])
        for row in rows)


@dataclass
class Entry:
    """An entry read back and still valid.  ``output`` is the stored rendering asked
    for (``[stdout, stderr]``); when None, ``stored`` holds every part (findings and
    outputs), to render from ``findings()`` and write the entry again."""

    name: str
    header: dict[str, Any]
    output: list[str] | None
    stored: dict[str, Any] | None = None

    @property
    def files(self) -> int:
        return int(self.header["files"])

    @property
    def failing(self) -> bool:
        return bool(self.header["failing"])

    def findings(self) -> list[Finding] | None:
        """The findings, rebuilt; None when the stored rows are not of the right shape."""
        from nglint.findings import Finding, Related, Severity

        try:
            rows = json.loads((self.stored or {})["findings"])
        except (KeyError, ValueError, RecursionError):
            return None
        if not _rows(rows):
            return None
        return [Finding(code, rule, Severity.parse(severity), path, line, column, end_line,
                        end_column, message, fixable, unsafe_fixable=unsafe,
                        headline=headline, notes=notes,
                        related=[Related(*related) for related in related_rows])
                for (code, rule, severity, path, line, column, end_line, end_column, message,
                     fixable, unsafe, headline, notes, related_rows) in rows]


# The entry's file: the header's length (ten ASCII digits and a newline), the header
# (JSON, ASCII), then the parts it points at (UTF-8; lone surrogates kept): the
# findings' rows (JSON) and each stored output's stdout and stderr.  A hit reads the
# header and the one output it writes, never the findings.
LENGTH = 11


def _header(data: bytes) -> dict[str, Any] | None:
    """The header in ``data``, if it is JSON of exactly the expected shape."""
    try:
        header = json.loads(data)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
        return None
    if (not _fits(header, ENTRY) or header["format"] != FORMAT or header["files"] < 0
            or not _state_fits(header["state"]) or len(header["findings"]) != 2
            or not all(len(output) == 2 and all(len(span) == 2 for span in output)
                       for output in header["renders"].values())):
        return None
    return header


def _part(entry: Opened, start: int, span: list[int]) -> str | None:
    data = entry.read(start + span[0], span[1]) if span[0] >= 0 else None
    try:
        return data.decode("utf-8", "surrogatepass") if data is not None else None
    except UnicodeDecodeError:
        return None


def _read(entry: Opened, render: str | None) -> tuple[bytes, dict[str, Any], Any] | None:
    """The header (as read, and decoded) and the output ``render`` ([stdout, stderr]),
    or, when that is not stored, every part ({"findings": text, "renders": {key:
    [stdout, stderr]}})."""
    head = entry.read(0, LENGTH)
    if head is None or not head[:10].isdigit() or head[10:] != b"\n":
        return None
    length = int(head[:10])
    data = entry.read(LENGTH, length)
    if data is None:
        return None
    header = _header(data)
    if header is None:
        return None
    start = LENGTH + length
    renders = header["renders"]
    if render is not None and render in renders:
        output = [_part(entry, start, span) for span in renders[render]]
        return (data, header, output) if None not in output else None
    stored: dict[str, Any] = {"findings": _part(entry, start, header["findings"]),
                              "renders": {}}
    for name, spans in renders.items():
        output = [_part(entry, start, span) for span in spans]
        if None in output:
            return None
        stored["renders"][name] = output
    return (data, header, stored) if stored["findings"] is not None else None


def render_key(parts: Sequence[Any]) -> str:
    """The name of a stored output: what decides its text (format and options)."""
    return json.dumps(list(parts))


def load(store: Store, name: str, paths: Sequence[str], render: str | None) -> Entry | None:
    """The entry, if it can be read, has the right shape and still holds; its ``output``
    is the stored rendering ``render`` (None: not stored, or colour output)."""
    with store.opened(f"{name}.json") as entry:
        found = _read(entry, render) if entry is not None else None
    if found is None:
        return None
    data, header, parts = found
    fresh = cachestate.still_valid(header["state"], paths)
    if fresh is None:
        return None
    if fresh:
        _refresh(store, name, data, header, fresh)
    if isinstance(parts, list):
        return Entry(name, header, parts)
    return Entry(name, header, None, parts)


def _refresh(cache: Store, name: str, read: bytes, header: dict[str, Any],
             fresh: dict[str, list[int]]) -> None:
    """Record the stat signatures of files a hit had to hash (their bytes unchanged),
    so that the next hit need not: the header is rewritten, the parts kept as they are
    (their offsets count from the header's end).  Skipped when the entry was replaced
    since it was read."""
    data = cache.read(f"{name}.json")
    if data is None or data[LENGTH:LENGTH + len(read)] != read:
        return
    files = header["state"]["files"]
    for path, signature in fresh.items():
        files[path] = [files[path][0], signature]
    head = json.dumps(header, separators=(",", ":")).encode("ascii")
    cache.write(f"{name}.json", b"".join([b"%010d\n" % len(head), head,
                                          data[LENGTH + len(read):]]))


def _write(cache: Store, name: str, header: dict[str, Any], findings: str,
           renders: dict[str, list[str]]) -> None:
    parts: list[bytes] = []
    offset = 0

    def place(text: str) -> list[int]:
        nonlocal offset
        data = text.encode("utf-8", "surrogatepass")
        parts.append(data)
        offset += len(data)
        return [offset - len(data), len(data)]

    header = {**header, "findings": place(findings),
              "renders": {key: [place(out), place(err)] for key, (out, err) in renders.items()}}
    # compact, ASCII: a file name that is not UTF-8 (surrogates) is kept as a JSON escape
    head = json.dumps(header, separators=(",", ":")).encode("ascii")
    cache.write(f"{name}.json", b"".join([b"%010d\n" % len(head), head, *parts]))


def store(cache: Store, name: str, paths: Sequence[str], trees: Sequence[Tree],
          findings: Sequence[Finding], failing: bool, files: int, started: int,
          renders: dict[str, list[str]]) -> None:
    """Save the run's result and the output rendered for it (``renders``: render key ->
    [stdout, stderr]); ``started``: the run's start (``time.time_ns()``).  A cache that
    cannot be written is silently skipped."""
    rows = json.dumps([_row(f) for f in findings], separators=(",", ":"))
    header = {"format": FORMAT, "state": cachestate.state(trees, paths, started), "files": files,
              "failing": failing}
    _write(cache, name, header, rows, renders)


def add_render(cache: Store, entry: Entry, render: str, output: list[str]) -> None:
    """Store one more rendering in an entry that answered from its findings (at most
    ``MAX_RENDERS``, the oldest dropped first)."""
    if entry.stored is None:
        return
    renders = {**entry.stored["renders"], render: output}
    while len(renders) > MAX_RENDERS:
        del renders[next(iter(renders))]
    header = {k: v for k, v in entry.header.items() if k not in ("findings", "renders")}
    _write(cache, entry.name, header, entry.stored["findings"], renders)
