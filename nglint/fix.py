"""``--fix`` and ``--diff``: apply fixes to a fixed point, in memory.

Each round lints the configuration as it would be after the edits so far (kept
in memory, never on disk), takes every fix whose edits do not overlap an edit
already chosen this round, and applies them.  Rounds repeat until no fix is
left: a second ``--fix`` then changes nothing.  A file whose edited text no
longer parses is left as it was.  Each file's original is the bytes the round
that first edited it parsed (never a second read of the disk), so the writer
(``nglint.transaction``, one transaction over every file; a symlink is written
through, at its target) can check the file still holds them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nglint.edits import Edit, apply, overlaps
from nglint.findings import Finding
from nglint.fixes import not_fixed
from nglint.load import Overlay, parse_file
from nglint.source import SourceFile
from nglint.tree import Tree

MAX_ROUNDS = 25
Lint = Callable[[dict[str, bytes]], tuple[list[Tree], list[Finding]]]


@dataclass
class FixResult:
    originals: dict[str, bytes] = field(default_factory=dict)  # real path -> bytes on disk
    edited: dict[str, bytes] = field(default_factory=dict)  # real path -> bytes after fixes
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    # every edit kept, in order: (real path, the edits of one round, in that round's text)
    applied: list[tuple[str, tuple[Edit, ...]]] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return sorted(p for p, data in self.edited.items() if data != self.originals.get(p))


def _choose(findings: Sequence[Finding], unsafe: bool) -> list[Finding]:
    chosen: list[Finding] = []
    taken: dict[str, list[Edit]] = {}  # by file: edits in two files never overlap
    seen: set[tuple[Edit, ...]] = set()
    for finding in findings:
        fix = finding.fix
        if fix is None or (fix.unsafe and not unsafe) or not fix.edits:
            continue
        key = tuple(sorted(fix.edits))
        if key in seen:
            continue  # the same file reached from two include sites
        if any(overlaps(edit, other) for edit in fix.edits
               for other in taken.get(edit.path, ())):
            continue  # next round, on the text this round produces
        seen.add(key)
        for edit in fix.edits:
            taken.setdefault(edit.path, []).append(edit)
        chosen.append(finding)
    return chosen


def withhold_broken(trees: Sequence[Tree], findings: Sequence[Finding]) -> None:
    """No fix for a finding of a tree holding a file that does not parse.

    What that file says is unknown (it may define the map, set the header), so a
    fix computed without it can be wrong; the finding says why it is not fixed.
    """
    broken = {id(tree.root): tree for tree in trees if tree.broken_files}
    if not broken:
        return
    for finding in findings:
        if finding.fix is None or finding.node is None:
            continue
        root = finding.node
        while root.parent is not None:
            root = root.parent
        tree = broken.get(id(root))
        if tree is None:
            continue
        names = sorted(source.path for real, source in tree.sources.items()
                       if real in tree.broken_files)
        reason = f"{', '.join(names)} does not parse; fix it first"
        finding.fix = None
        finding.fixable = False
        finding.message += not_fixed(reason)
        # the readable form too: its "fix:" note no longer holds
        finding.notes = [note for note in finding.notes if not note.startswith("fix: ")]
        finding.notes.append(f"not fixed automatically: {reason}")


def fix_to_fixed_point(lint: Lint, unsafe: bool = False,
                       original: Callable[[str, SourceFile], bytes] | None = None) -> FixResult:
    """``original`` gives a file's bytes before the fixes (default: the bytes the
    round parsed, ``source.raw``; stdin and ``nginx -T`` dumps give theirs)."""
    result = FixResult()
    original = original or _parsed_bytes
    overlay = Overlay()
    for _ in range(MAX_ROUNDS):
        trees, findings = lint(overlay)
        withhold_broken(trees, findings)
        chosen = _choose(findings, unsafe)
        if not chosen:
            result.trees, result.remaining = trees, findings
            break
        sources = {real: source for tree in trees for real, source in tree.sources.items()}
        by_file: dict[str, list[Edit]] = {}
        for finding in chosen:
            for edit in finding.fix.edits:  # type: ignore[union-attr]
                by_file.setdefault(edit.path, []).append(edit)
        applied: set[str] = set()
        for real, edits in by_file.items():
            source = sources[real]
            if real not in result.originals:
                result.originals[real] = original(real, source)
            text = apply(source.text, edits)
            data = text.encode("utf-8", "surrogateescape")
            parsed = parse_file(SourceFile.from_bytes(source.path, data))
            if parsed.error is not None:
                continue  # never leave a file nginx cannot parse
            overlay.put(real, data, parsed)
            applied.add(real)
            result.applied.append((real, tuple(sorted(edits))))
        for finding in chosen:
            if all(e.path in applied for e in finding.fix.edits):  # type: ignore[union-attr]
                finding.node = None  # the round's tree is done with: let it go
                result.fixed.append(finding)
        if not applied:
            result.trees, result.remaining = trees, findings
            break
    else:
        result.trees, result.remaining = lint(overlay)
        withhold_broken(result.trees, result.remaining)
    result.edited = {real: data for real, data in overlay.items()
                     if data != result.originals.get(real)}
    return result


def _parsed_bytes(real: str, source: SourceFile) -> bytes:
    return source.raw


def unified_diff(result: FixResult, display: dict[str, str] | None = None) -> str:
    """One unified diff over every edited file, as ``diff -u`` would print it."""
    chunks = []
    for real in result.changed:
        name = (display or {}).get(real, real)
        before = result.originals[real].decode("utf-8", "surrogateescape")
        after = result.edited[real].decode("utf-8", "surrogateescape")
        chunks.extend(difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True),
            fromfile=f"a/{name.lstrip('/')}", tofile=f"b/{name.lstrip('/')}"))
        if chunks and not chunks[-1].endswith("\n"):
            chunks.append("\n\\ No newline at end of file\n")
    return "".join(chunks)
