"""``--diff`` writes the unified diff from the edits that made each file
(``nglint.patch``): the diff applies and gives the edited file, it is what
``difflib.unified_diff`` writes for the fixtures' fixes and the benchmark tree's, and
the stretches the edits keep are followed through every round."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nglint import fix, patch
from nglint.edits import Edit, apply
from tests.fix_helpers import cli, fix_paths
from tests.helpers import FIXTURES, REPO

HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@\n")


def _joined(diff: list[str]) -> list[str]:
    """A diff's lines, each ``\\ No newline at end of file`` taken off the line before
    it with that line's line feed (the line is the last of its file, without one)."""
    out: list[str] = []
    for line in diff:
        if line == "\\ No newline at end of file\n":
            assert out and out[-1].endswith("\n")
            out[-1] = out[-1][:-1]
        else:
            out.append(line)
    return out


def _applied(before: list[str], diff: list[str]) -> list[str]:
    """``before`` with the hunks of a unified diff applied, each checked: its context
    and removed lines are ``before``'s, its counts are its lines'."""
    out: list[str] = []
    at = 0  # lines of ``before`` taken
    lines = iter(_joined(diff)[2:])
    for header in lines:
        found = HUNK.fullmatch(header)
        assert found, header
        start = int(found[1]) - (0 if found[2] == "0" else 1)
        old_count = int(found[2] or 1)
        new_count = int(found[4] or 1)
        assert start >= at
        out += before[at:start]
        at = start
        taken = written = 0
        while taken < old_count or written < new_count:
            line = next(lines)
            kind, text = line[0], line[1:]
            if kind in " -":
                assert before[at] == text
                at += 1
                taken += 1
            if kind in " +":
                out.append(text)
                written += 1
    return out + before[at:]


def _both(before: str, rounds: list[list[Edit]]) -> tuple[list[str], list[str], str]:
    text = before
    for edits in rounds:
        text = apply(text, edits)
    old, new = patch.lines(before), patch.lines(text)
    ours = patch.lines("".join(patch.file_diff(before, text, rounds, "a/x", "b/x")))
    assert _applied(old, ours) == new if ours else old == new
    return ours, list(difflib.unified_diff(old, new, "a/x", "b/x")), text


LINES = st.sampled_from(["a\n", "b\n", "}\n", "    x;\n", "\n", "c", "\r\n", "d\r", "{\n",
                         "e\x0bf\n", "g\u2028h\n", "\x85\n"])


@st.composite
def _rounds(draw: st.DrawFn) -> tuple[str, list[list[Edit]]]:
    text = "".join(draw(st.lists(LINES, max_size=30)))
    before = text
    rounds = []
    for _ in range(draw(st.integers(1, 3))):
        points = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=5))))
        edits, position = [], 0
        for point in points:
            if point < position:
                continue
            end = draw(st.integers(point, min(len(text), point + 4)))
            inserted = "".join(draw(st.lists(LINES, max_size=3)))
            edits.append(Edit("x", point, end, inserted))
            position = end
        rounds.append(edits)
        text = apply(text, edits)
    return before, rounds


@settings(max_examples=1500, deadline=None)
@given(_rounds())
@example(("a\nb\n", [[Edit("x", 2, 2, "a\n")]]))  # an inserted line like its neighbour
@example(("a\r\nb\n", [[Edit("x", 1, 2, "\r")]]))  # an edit that writes what it replaces
@example(("a\rb\n", [[Edit("x", 2, 2, "\n")]]))  # a CR that meets an LF
def test_the_diff_applies_and_gives_the_edited_text(case):
    before, rounds = case
    _both(before, rounds)


def test_the_diff_shows_only_the_lines_the_edits_changed():
    """A large file repeats ``    }``: difflib counts such a line as junk (its
    ``autojunk``) and shows some unchanged ones removed and added again; this diff
    shows the lines inserted and the lines changed, no other."""
    before = "".join(f"server {{\n    listen {n};\n    location / {{\n        x;\n    }}\n}}\n"
                     for n in range(40))
    at = [i for i in range(len(before)) if before.startswith("    }\n", i)]
    rounds = [[Edit("x", p, p, "        proxy_http_version 1.1;\n") for p in at[::3]], []]
    text = apply(before, rounds[0])
    again = [i for i in range(len(text)) if text.startswith("        x;\n", i)]
    rounds[1] = [Edit("x", p, p + 10, "        y;") for p in again[::5]]
    ours, theirs, _ = _both(before, rounds)
    removed = [line for line in ours[2:] if line.startswith("-")]
    added = [line for line in ours[2:] if line.startswith("+")]
    assert removed == ["-        x;\n"] * len(again[::5])
    assert sorted(added) == sorted(["+        proxy_http_version 1.1;\n"] * len(at[::3])
                                   + ["+        y;\n"] * len(again[::5]))
    assert ours != theirs  # difflib's heuristic shows more (why the test exists)


def test_kept_follows_stretches_through_rounds():
    # "abcdef": round 1 replaces "cd" with "X"; round 2 inserts "Y" at 1 ("aYbXef")
    assert patch.kept(6, [[Edit("x", 2, 4, "X")], [Edit("x", 1, 1, "Y")]]) == \
        [(0, 1, 0), (1, 2, 2), (4, 6, 4)]
    assert patch.kept(0, [[Edit("x", 0, 0, "a")]]) == []
    # an edit that writes what it replaces keeps the stretch whole
    assert patch.kept(4, [[Edit("x", 1, 2, "b")]]) == [(0, 1, 0), (2, 4, 2)]


def _per_file(result: fix.FixResult) -> list[tuple[list[str], list[str], list[str]]]:
    """Each edited file's lines before and after, and the lines of its diff."""
    found = []
    for real in result.changed:
        before = result.originals[real].decode("utf-8", "surrogateescape")
        after = result.edited[real].decode("utf-8", "surrogateescape")
        one = fix.FixResult(originals={real: result.originals[real]},
                            edited={real: result.edited[real]},
                            applied=[a for a in result.applied if a[0] == real])
        found.append((patch.lines(before), patch.lines(after),
                       patch.lines(fix.unified_diff(one, {real: "x"}))))
    return found


def _changed_lines(diff: list[str]) -> int:
    return sum(1 for line in diff[2:] if line[0] in "+-")


@pytest.mark.parametrize("folder", ["rules", "apps", "layouts"])
def test_the_fixtures_diffs_apply_and_show_no_more_than_difflib(folder):
    """Where a fix inserts a block after one that ends the same way (a ``map`` after
    a ``map``), difflib may show the inserted lines shifted by one; this diff shows
    them as the fix wrote them.  It never shows more changed lines."""
    found = _per_file(fix_paths([FIXTURES / folder], unsafe=True))
    assert found
    for before, after, diff in found:
        assert _applied(before, diff) == after
        assert _changed_lines(diff) <= _changed_lines(
            list(difflib.unified_diff(before, after, "a/x", "b/x")))


def test_the_benchmark_trees_diff_is_difflibs(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    generate(tmp_path, 200)
    found = _per_file(fix_paths([tmp_path]))
    assert len(found) > 3
    for before, after, diff in found:
        assert diff == list(difflib.unified_diff(before, after, "a/x", "b/x"))


@pytest.mark.skipif(shutil.which("patch") is None or shutil.which("git") is None,
                    reason="patch(1) and git (CI installs both)")
@pytest.mark.parametrize("text", [
    b"listen 80;\nlocation / { proxy_pass http://127.0.0.1:8888; }",  # no final LF
    b"server {\n  add_header X-A \"a\x0bb\x0cc\";\n  location / {\n"
    b"    proxy_pass http://127.0.0.1:8888;\n  }\n}\n",  # VT, FF: not line ends to patch
    b"server {\n  add_header X-A \"\xff\xc3(\";\n  location / {\n"
    b"    proxy_pass http://127.0.0.1:8888;\n  }\n}\n",  # bytes that are not UTF-8
    "server {\n  add_header X-A \"\u2028\u0085\";\n  location / {\n"
    "    proxy_pass http://127.0.0.1:8888;\n  }\n}\n".encode(),  # NEL, U+2028
])
def test_the_printed_diff_applies_with_patch_and_git(tmp_path, text):
    """``check --diff``'s bytes, applied by ``patch`` and by ``git apply``, give what
    ``check --fix`` writes: every byte of a context line as the file has it, lines
    split at LF only, and a last line without one marked."""
    (tmp_path / "a").mkdir()
    target = tmp_path / "a" / "x.conf"
    target.write_bytes(text)
    fixed = tmp_path / "fixed.conf"
    fixed.write_bytes(text)
    diff = cli("check", "--no-cache", "--diff", str(target))
    assert diff.exit_code == 1 and diff.stdout_bytes
    cli("check", "--no-cache", "--fix", str(fixed))
    assert fixed.read_bytes() != text
    (tmp_path / "fix.diff").write_bytes(diff.stdout_bytes)
    out = tmp_path / "patched.conf"
    subprocess.run(["patch", "-s", "-o", str(out), str(target), str(tmp_path / "fix.diff")],
                   check=True, capture_output=True)
    assert out.read_bytes() == fixed.read_bytes()
    subprocess.run(["git", "apply", "--check", "-p" + str(len(target.parts) - 1),
                    str(tmp_path / "fix.diff")], cwd=tmp_path / "a", check=True,
                   capture_output=True)
