"""``--fix`` as one transaction: a failure at any write, fsync, link, rename or removal
leaves every file as it was (or, once committed, every file new), no temporary file,
no journal, and a tree ``nginx -t`` accepts."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from nglint import journal
from nglint.errors import NglintError
from nglint.transaction import Change, commit
from tests.fix_helpers import cli, fix_paths
from tests.tx_helpers import (
    build_tree,
    fixed_copy,
    journals,
    leftovers,
    nginx_t,
    snapshot,
)


class Injected(OSError):
    pass


def failing_at(*numbers: int, calls: list[str] | None = None) -> Callable[[str], None]:
    """A step hook that fails (ENOSPC) at each of the given step numbers."""
    count = 0

    def step(what: str) -> None:
        nonlocal count
        count += 1
        if calls is not None:
            calls.append(what)
        if count in numbers:
            raise Injected(errno.ENOSPC, f"injected at step {count} ({what})")

    return step


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Change], dict]:
    base = tmp_path_factory.mktemp("tx-template")
    tree = build_tree(base / "tree", sites=3)
    result = fix_paths([tree])
    changes = [Change(real, result.originals[real], result.edited[real])
               for real in result.changed]
    assert len(changes) == 4  # nginx.conf (the map) and the three sites
    return tree, changes, fixed_copy(tree, base / "fixed")


def moved(changes: list[Change], old: Path, new: Path) -> list[Change]:
    return [Change(c.target.replace(str(old), str(new), 1), c.old, c.new) for c in changes]


def steps_of(template: tuple[Path, list[Change], dict], tmp_path: Path,
             in_place: bool = False) -> list[str]:
    tree, changes, fixed = template
    copy = tmp_path / "count"
    shutil.copytree(tree, copy)
    calls: list[str] = []
    commit(moved(changes, tree, copy), in_place=in_place, step=failing_at(calls=calls))
    assert snapshot(copy) == fixed
    shutil.rmtree(copy)
    return calls


def assert_clean(tree: Path, expected: dict[str, bytes]) -> None:
    assert snapshot(tree) == expected
    assert leftovers(tree) == []
    assert journals() == []
    checked = nginx_t(tree)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("in_place", [False, True], ids=["replace", "in-place"])
def test_a_failure_at_every_step_restores_every_file(template, tmp_path: Path,
                                                     in_place: bool) -> None:
    tree, changes, fixed = template
    before = snapshot(tree)
    calls = steps_of(template, tmp_path, in_place)
    committed = len(calls) - calls[::-1].index("journal rename")  # its step: "committed" next
    kinds = {"in-place write", "in-place fsync", "backup write"} if in_place else {
        "temp write", "temp fsync", "backup link", "rename"}
    assert kinds | {"journal write", "journal fsync", "folder fsync", "unlink"} <= set(calls)
    for number in range(1, len(calls) + 1):
        copy = tmp_path / f"n{number}"
        shutil.copytree(tree, copy)
        try:
            commit(moved(changes, tree, copy), in_place=in_place, step=failing_at(number))
        except NglintError as error:
            if number <= committed:  # rolled back at once, no recovery needed
                assert "nothing was written, every file is as it was" in str(error)
                assert_clean(copy, before)
            else:  # written; removing a backup failed: the next run completes it
                assert "the fixes were written" in str(error)
                journal.recover(lambda line: None)
                assert_clean(copy, fixed)
        else:
            pytest.fail(f"step {number} ({calls[number - 1]}) did not fail")
        shutil.rmtree(copy)


@pytest.mark.parametrize("later", [1, 2, 5])
def test_a_failed_rollback_is_finished_by_the_next_run(template, tmp_path: Path,
                                                       later: int) -> None:
    """Failures at the commit's step N and again during the rollback: the journal
    stays, and the next nglint command (any: here ``rules``) rolls back."""
    tree, changes, _ = template
    before = snapshot(tree)
    calls = steps_of(template, tmp_path)
    renames = [n for n, what in enumerate(calls, 1) if what == "rename"]
    for number in (renames[0], renames[-1], renames[-1] + 1):
        copy = tmp_path / f"n{number}"
        shutil.copytree(tree, copy)
        with pytest.raises(NglintError, match="the next nglint run finishes it"):
            commit(moved(changes, tree, copy),
                   step=failing_at(number, *range(number + later, number + 400)))
        assert journals()
        result = cli("rules")
        assert result.exit_code == 0
        assert "nglint: rolled back an interrupted --fix" in result.stderr
        assert_clean(copy, before)
        shutil.rmtree(copy)


def test_file_too_large_midway_through_the_command_line(tmp_path: Path) -> None:
    """``ulimit -f``: the big nginx.conf cannot be written after the site's temporary
    was: nothing is written, the message says so (it said "unchanged" for one file
    while the other stayed rewritten)."""
    tree = build_tree(tmp_path / "tree", sites=1, padding=400)
    before = snapshot(tree)
    assert len(before["nginx.conf"]) > 20 * 1024

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20 * 1024, 20 * 1024))

    done = subprocess.run([sys.executable, "-m", "nglint", "check", "--fix", "-q", str(tree)],
                          capture_output=True, text=True, preexec_fn=small_files, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"nglint: error: {tree / 'nginx.conf'}: cannot write the fixes: File too large; "
        "nothing was written, every file is as it was")
    assert_clean(tree, before)


def test_a_file_changed_after_the_analysis_is_not_overwritten(tmp_path: Path,
                                                              monkeypatch) -> None:
    """Lost update: the user saves a change between nglint's analysis and its writes."""
    tree = build_tree(tmp_path / "tree", sites=2)
    before = snapshot(tree)
    edited = tree / "conf.d" / "site1.conf"
    from nglint import transaction

    class Meddling(transaction.Steps):
        def __call__(self, what: str) -> None:
            if self.count == 0:
                with edited.open("a") as out:
                    out.write("# IMPORTANT user edit\n")
            super().__call__(what)

    monkeypatch.setattr(transaction, "Steps", Meddling)
    result = cli("check", "--fix", "-q", str(tree))
    assert result.exit_code == 2
    assert result.stderr == (f"nglint: error: {edited}: changed since nglint read it: run "
                             "nglint again on the new text; nothing was written, every file "
                             "is as it was\n")
    before["conf.d/site1.conf"] += b"# IMPORTANT user edit\n"
    assert_clean(tree, before)


def test_the_original_is_what_the_analysis_parsed(tmp_path: Path, monkeypatch) -> None:
    """A change saved while the rounds run is caught too: the bytes checked are those
    the analysis parsed, not a later read of the disk."""
    tree = build_tree(tmp_path / "tree", sites=1)
    before = snapshot(tree)
    site = tree / "conf.d" / "site0.conf"
    from nglint import engine

    real_lint = engine.lint
    calls = []

    def lint_then_edit(*args, **kwargs):
        found = list(real_lint(*args, **kwargs))
        if not calls:
            site.write_bytes(site.read_bytes() + b"# saved meanwhile\n")
        calls.append(1)
        return found

    monkeypatch.setattr(engine, "lint", lint_then_edit)
    result = cli("check", "--fix", "-q", str(tree))
    assert result.exit_code == 2
    assert f"{site}: changed since nglint read it" in result.stderr
    before["conf.d/site0.conf"] += b"# saved meanwhile\n"
    assert_clean(tree, before)


def test_recovery_leaves_a_file_changed_since_and_says_so(template, tmp_path: Path) -> None:
    tree, changes, _ = template
    before = snapshot(tree)
    calls = steps_of(template, tmp_path)
    last_rename = len(calls) - calls[::-1].index("rename")
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    with pytest.raises(NglintError):  # crashed after every rename, rollback impossible
        commit(moved(changes, tree, copy), step=failing_at(*range(last_rename + 1, 999)))
    assert journals()
    site = copy / "conf.d" / "site2.conf"
    site.write_bytes(b"# rewritten by someone\n")
    lines: list[str] = []
    journal.recover(lines.append)
    assert len(lines) == 1
    assert lines[0].startswith("rolled back an interrupted --fix (pid ")
    assert lines[0].endswith(f"3 of 4 files as they were; changed since, left as they are: "
                             f"{site}")
    before["conf.d/site2.conf"] = b"# rewritten by someone\n"
    assert snapshot(copy) == before
    assert leftovers(copy) == [] and journals() == []


def test_a_live_run_holding_the_lock_is_left_alone(template, tmp_path: Path,
                                                   monkeypatch) -> None:
    tree, changes, _ = template
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    before = snapshot(copy)
    folder = journal.ensure_state_dir()
    lock = FileLock(os.path.join(folder, "lock"))
    with lock:
        monkeypatch.setattr(journal, "LOCK_WAIT_SECONDS", 0.2)
        with pytest.raises(NglintError, match="another nglint --fix is writing files; "
                                              "nothing was written"):
            commit(moved(changes, tree, copy))
        assert snapshot(copy) == before and not leftovers(copy)
        (Path(folder) / "tx-0-live.json").write_text('{"state": "prepared", "files": []}')
        said: list[str] = []
        journal.recover(said.append)  # the lock is taken: the journal is someone's live one
        assert said == [] and journals()
    os.unlink(os.path.join(folder, "tx-0-live.json"))


def test_an_unsafe_state_folder_is_refused_before_writing(template, tmp_path: Path,
                                                          monkeypatch) -> None:
    tree, changes, _ = template
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    before = snapshot(copy)
    state = tmp_path / "state"
    (state / "nglint").mkdir(parents=True, mode=0o755)
    os.chmod(state / "nglint", 0o755)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    with pytest.raises(NglintError, match="not private to this user"):
        commit(moved(changes, tree, copy))
    assert snapshot(copy) == before and not leftovers(copy)


def test_temporary_names_escape_include_globs(template, tmp_path: Path) -> None:
    """While a transaction runs its files sit beside the configuration: neither
    ``*.conf`` nor ``*`` (glob(7): no leading dot) may pick them up."""
    tree, changes, _ = template
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    seen: list[list[str]] = []

    def look(what: str) -> None:
        seen.append([p.name for p in (copy / "conf.d").iterdir()])

    commit(moved(changes, tree, copy), step=look)
    names = {name for listing in seen for name in listing}
    assert any(name.startswith(".nglint-") for name in names)
    for name in names - {"site0.conf", "site1.conf", "site2.conf"}:
        assert name.startswith(".nglint-") and not name.endswith(".conf")
