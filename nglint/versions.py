"""Target nginx versions: the range of releases a configuration must work on.

``--nginx-version`` and the ``nginx-version`` key take a ``VersionRange``:

- ``1.22`` or ``1.22.1``: one version (``1.22`` is ``1.22.0``, as nglint always read it);
- ``1.18-1.30``: every release from 1.18.0 to the last 1.30 release (an upper bound
  written ``X.Y`` covers its whole series; ``1.18-1.29.6`` stops at 1.29.6);
- ``1.25.1-``: 1.25.1 and everything newer that nglint knows (up to ``NEWEST_KNOWN``);
- ``-1.24``: from ``OLDEST_SUPPORTED`` to the last 1.24 release.

The default, ``DEFAULT_RANGE``, is nginx 1.18-1.31.4: from the oldest nginx shipped by
an LTS distribution still supported on 2026-11-29 to the newest release nglint knows.

- 1.18.0: Ubuntu 22.04 LTS "jammy" (package ``nginx 1.18.0-6ubuntu14``; standard support
  until 2027-04, https://ubuntu.com/about/release-cycle).  The others are newer:
  RHEL 9 / Rocky / Alma 9 1.20.1 (AppStream, with 1.22 / 1.24 / 1.26 module streams),
  Debian 12 "bookworm" 1.22.1, Ubuntu 24.04 1.24.0, Debian 13 "trixie" 1.26.3
  (https://packages.debian.org/search?keywords=nginx, https://packages.ubuntu.com/nginx).
- 1.31.4: the newest tag of nginx's repository nglint was checked against
  (``release-1.31.4``, 2026-08-19, ``docs/xml/nginx/changes.xml``); the model's newest
  fact is of that release (``nglint.semantics.inherit.HOST_SEPARATE``).

Rules judge a directive, a value or a default across the whole range: an error only when
every version in it refuses the configuration, a warning naming the versions when only
some do (``VersionRange.where`` gives them).  The nginx model is of one version, a
``Tracked`` one: it notes every version it is compared with, so the engine learns where
an answer may change and asks the model again on the other side (``nglint.engine``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

Version = tuple[int, int, int]

SERIES_END = 999_999  # the patch number of "the last release of X.Y" in an upper bound
OLDEST_SUPPORTED: Version = (1, 18, 0)  # Ubuntu 22.04 LTS (see the module doc)
NEWEST_KNOWN: Version = (1, 31, 4)  # nginx release-1.31.4, 2026-08-19
USAGE = "expected X.Y or X.Y.Z, or a range such as 1.18-1.30 or 1.25.1-"


def parse_version(text: str) -> Version:
    """``X.Y`` or ``X.Y.Z`` (ASCII digits) as a triple; ``X.Y`` is ``X.Y.0``.

    Raises ValueError with a one-line message."""
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() and len(p) <= 6
                                           for p in parts):
        raise ValueError(f"invalid nginx version {text.strip()!r}: {USAGE}")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]


def _upper(text: str) -> Version:
    """An upper bound: ``X.Y`` is the last release of the series."""
    version = parse_version(text)
    return version if text.strip().count(".") == 2 else (version[0], version[1], SERIES_END)


def before(version: Version) -> Version:
    """The last release before ``version`` (``1.29.7`` -> 1.29.6, ``1.23.0`` -> 1.22.x)."""
    major, minor, patch = version
    if patch > 0:
        return major, minor, patch - 1
    return major, max(minor - 1, 0), SERIES_END


def show(version: Version, upper: bool = False) -> str:
    """``1.29.6``; ``1.30`` for the end of a series; ``1.18`` for an ``X.Y.0`` lower bound."""
    major, minor, patch = version
    if patch == SERIES_END or (patch == 0 and not upper):
        return f"{major}.{minor}"
    return f"{major}.{minor}.{patch}"


@dataclass(frozen=True, order=True)
class VersionRange:
    """Every nginx release from ``low`` to ``high``, both included."""

    low: Version
    high: Version

    @classmethod
    def single(cls, version: Version) -> VersionRange:
        return cls(version, version)

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """A range as written on the command line or in the configuration (module doc).

        Raises ValueError with a one-line message."""
        text = text.strip().replace("\u2013", "-")
        if "-" not in text:
            return cls.single(parse_version(text))
        first, _, last = text.partition("-")
        if not first.strip() and not last.strip():
            raise ValueError(f"invalid nginx version range {text!r}: {USAGE}")
        low = parse_version(first) if first.strip() else OLDEST_SUPPORTED
        high = _upper(last) if last.strip() else max(low, NEWEST_KNOWN)
        if low > high:
            raise ValueError(f"invalid nginx version range {text!r}: {first.strip()} is "
                             f"newer than {last.strip()}")
        return cls(low, high)

    @property
    def is_single(self) -> bool:
        return self.low == self.high

    def __contains__(self, version: object) -> bool:
        return isinstance(version, tuple) and self.low <= version <= self.high

    def split(self, breakpoints: Iterable[Version]) -> list[VersionRange]:
        """The sub-ranges between the breakpoints (the first version with new behaviour)
        that fall inside this range, in order; nglint's facts do not change inside one."""
        parts: list[VersionRange] = []
        low = self.low
        for point in sorted(set(breakpoints)):
            if low < point <= self.high:
                parts.append(VersionRange(low, before(point)))
                low = point
        parts.append(VersionRange(low, self.high))
        return parts

    def where(self, test: Callable[[Version], bool],
              breakpoints: Iterable[Version]) -> list[VersionRange]:
        """The sub-ranges (adjacent ones joined) whose versions pass ``test``; ``test`` is
        asked once per sub-range of ``split(breakpoints)``, at its first version."""
        found: list[VersionRange] = []
        joined = False
        for part in self.split(breakpoints):
            if not test(part.low):
                joined = False
                continue
            if joined:
                found[-1] = VersionRange(found[-1].low, part.high)
            else:
                found.append(part)
            joined = True
        return found

    @property
    def text(self) -> str:
        """``1.18-1.31.4`` (an en dash), or ``1.22.0`` for one version."""
        if self.is_single:
            return ".".join(str(p) for p in self.low)
        return f"{show(self.low)}\u2013{show(self.high, upper=True)}"

    def __str__(self) -> str:
        return f"nginx {self.text}"


def describe(parts: Iterable[VersionRange]) -> str:
    """``nginx 1.18-1.22 and 1.29.7-1.31.4``: some sub-ranges of a target, for a message."""
    texts = [part.text for part in parts]
    if not texts:
        return "no nginx version"
    return "nginx " + (texts[0] if len(texts) == 1 else
                       ", ".join(texts[:-1]) + " and " + texts[-1])


DEFAULT_RANGE = VersionRange(OLDEST_SUPPORTED, NEWEST_KNOWN)


_PLAIN: dict[tuple[int, ...], Version] = {}


def plain(version: Version) -> Version:
    """``version`` as a plain tuple, not ``Tracked`` (comparing it notes nothing): one
    object per version, as the answers stored with the version they were built at keep
    one each."""
    key = tuple(version)
    found = _PLAIN.get(key)
    if found is None:
        found = _PLAIN[key] = (key[0], key[1], key[2])
    return found


def same_cell(built: Version, now: Version, consulted: Iterable[Version]) -> bool:
    """Whether an answer worked out at ``built`` holds at ``now`` too: the two fall on
    the same side of every version the answer was compared with (``Tracked``), so every
    comparison it made answers the same.  Compares plain tuples (nothing is noted).
    Shapes: versions are (major, minor, patch) tuples."""
    first, second = tuple(built), tuple(now)
    return all((first >= point) == (second >= point) for point in consulted)


class Tracked(tuple[int, int, int]):
    """A version that notes, in ``consulted``, every version it is compared with: the
    first version of the other behaviour (``version >= (1, 29, 7)`` notes 1.29.7).

    The model's version is one; whatever it answers from a comparison, wherever the
    comparison is written, then says which versions it depends on."""

    consulted: set[Version]

    def __new__(cls, version: Version, consulted: set[Version]) -> Tracked:
        made = super().__new__(cls, version)
        made.consulted = consulted
        return made

    def __ge__(self, other: tuple[int, ...]) -> bool:
        self.consulted.add(_three(other))
        return tuple.__ge__(self, other)

    def __lt__(self, other: tuple[int, ...]) -> bool:
        self.consulted.add(_three(other))
        return tuple.__lt__(self, other)

    def __gt__(self, other: tuple[int, ...]) -> bool:
        self.consulted.add(_after(other))
        return tuple.__gt__(self, other)

    def __le__(self, other: tuple[int, ...]) -> bool:
        self.consulted.add(_after(other))
        return tuple.__le__(self, other)

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def __eq__(self, other: object) -> bool:
        return tuple.__eq__(self, other)


def _three(version: tuple[int, ...]) -> Version:
    padded = (*version, 0, 0, 0)
    return padded[0], padded[1], padded[2]


def _after(version: tuple[int, ...]) -> Version:
    """The first version ``> version`` holds for (where ``<=`` stops holding).  Shorter
    tuples compare below every longer one they begin: ``(1, 29, 0) > (1, 29)``, so for
    ``(1, 29)`` that is 1.29.0 itself."""
    if len(version) < 3:
        return _three(version)
    major, minor, patch = _three(version)
    return major, minor, patch + 1


class recording:  # used as a function: ``with recording(consulted) as found``
    """The versions consulted inside the block, alone (the outer ones are kept): a memo
    stores them with its answer and notes them again each time it answers.

    A class rather than a ``contextmanager`` generator: every memo of the model enters
    one, thousands of times on a large tree."""

    __slots__ = ("consulted", "found", "outer")

    def __init__(self, consulted: set[Version]) -> None:
        self.consulted = consulted
        self.found: set[Version] = set()
        self.outer: set[Version] = set()

    def __enter__(self) -> set[Version]:
        self.outer = set(self.consulted)
        self.consulted.clear()
        return self.found

    def __exit__(self, *exc: object) -> None:
        self.found |= self.consulted
        self.consulted |= self.outer
