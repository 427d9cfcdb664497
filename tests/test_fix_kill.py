"""Killing ``nglint check --fix`` at any moment: after the next nglint command (any),
every file is all old or all new byte for byte, no ``.nglint-*`` file or journal is
left, and ``nginx -t`` accepts the tree.

Each run is a forked child of this process running the command line (``entry``,
as the console script does), so a kill point costs milliseconds, not an
interpreter start.  Kill points: SIGKILL and SIGTERM at every step of the
transaction (``NGLINT_TEST_KILL_AT``), SIGKILL at every step of an ``--in-place``
run, and seeded random times while the steps are slowed down
(``NGLINT_TEST_STEP_DELAY``).  The next command is ``nglint rules``, forked the same
way, and every tenth time a real ``python -m nglint rules`` process.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from nglint.transaction import Change, commit
from tests.fix_helpers import cli, fix_paths
from tests.tx_helpers import (
    build_tree,
    fixed_copy,
    journals,
    leftovers,
    nginx_t,
    nglint,
    snapshot,
)

RANDOM_KILLS = 80
SEED = 20261129


def run_forked(args: list[str], env: dict[str, str], log: Path) -> int:
    """``nglint ARGS`` in a forked child, its output in ``log``; returns the pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (pytest's capture is not fd 1)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.environ.update(env)
            sys.argv = ["nglint", *args]
            from nglint.cli import entry

            entry()
        finally:
            os._exit(70)
    return pid


def status_of(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict, int, int]:
    base = tmp_path_factory.mktemp("kill")
    tree = build_tree(base / "tree", sites=3)
    old, new = snapshot(tree), fixed_copy(tree, base / "fixed")
    assert old != new
    warm = base / "warm"  # the command line's lazy imports, done once for every child
    shutil.copytree(tree, warm)
    assert cli("check", "--fix", "-q", str(warm)).exit_code in (0, 1)
    assert cli("rules").exit_code == 0
    counts = []
    for in_place in (False, True):
        counting = base / f"count-{in_place}"
        shutil.copytree(tree, counting)
        result = fix_paths([counting])
        calls: list[str] = []
        commit([Change(r, result.originals[r], result.edited[r]) for r in result.changed],
               in_place=in_place, step=calls.append)
        assert snapshot(counting) == new
        counts.append(len(calls))
    return tree, old, new, counts[0], counts[1]


class Killer:
    def __init__(self, tree: Path, old: dict, new: dict, work: Path) -> None:
        self.tree, self.old, self.new, self.work = tree, old, new, work
        self.points = 0
        self.outcomes = {"old": 0, "new": 0}

    def attempt(self, env: dict[str, str], args: tuple[str, ...] = (),
                at: float | None = None, sig: int = signal.SIGKILL) -> None:
        copy = self.work / f"run{self.points}"
        shutil.copytree(self.tree, copy)
        pid = run_forked(["check", "--fix", "-q", *args, str(copy)], env,
                         self.work / "child.log")
        if at is not None:
            time.sleep(at)
            os.kill(pid, sig)
        code = status_of(pid)
        said = (self.work / "child.log").read_text(errors="replace")
        if env.get("NGLINT_TEST_KILL_SIGNAL") == "TERM" or sig == signal.SIGTERM:
            # SIGTERM is handled: rolled back (or finished) at once, no journal left
            assert code in (-signal.SIGTERM, 0, 1, 2), said
            assert journals() == [], said
            assert snapshot(copy) in (self.old, self.new)
            if code == 2:
                assert said.count("\n") == 1 and "Traceback" not in said, said
        self.points += 1
        # the next command, whatever it is, finishes what the killed one left
        if self.points % 10 == 0:
            nxt = nglint("rules")
            assert nxt.returncode == 0, nxt.stderr
        else:
            assert status_of(run_forked(["rules"], {}, self.work / "next.log")) == 0
        state = snapshot(copy)
        assert state in (self.old, self.new), f"mixed after kill point {self.points}: {said}"
        self.outcomes["old" if state == self.old else "new"] += 1
        assert leftovers(copy) == []
        assert journals() == []
        checked = nginx_t(copy)
        assert checked.returncode == 0, checked.stderr
        shutil.rmtree(copy)


def test_kill_at_every_step_and_at_random_times(trees, tmp_path: Path) -> None:
    tree, old, new, steps, in_place_steps = trees
    killer = Killer(tree, old, new, tmp_path)
    for number in range(1, steps + 1):
        for name in ("KILL", "TERM"):
            killer.attempt({"NGLINT_TEST_KILL_AT": str(number), "NGLINT_TEST_KILL_SIGNAL": name})
    for number in range(1, in_place_steps + 1):  # --in-place: its own steps
        killer.attempt({"NGLINT_TEST_KILL_AT": str(number)}, ("--in-place",))
    deterministic = killer.points
    # random moments, steps slowed to 3 ms: a full run is about its lint plus 3 ms a step
    started = time.monotonic()
    killer.attempt({"NGLINT_TEST_STEP_DELAY": "0.003"})
    span = time.monotonic() - started
    chance = random.Random(SEED)
    for n in range(RANDOM_KILLS):
        killer.attempt({"NGLINT_TEST_STEP_DELAY": "0.003"}, at=chance.uniform(0, span),
                       sig=signal.SIGTERM if n % 3 == 2 else signal.SIGKILL)
    assert deterministic >= 2 * steps > 60
    assert killer.points >= 200
    # the kills landed on both sides of the commit point
    assert killer.outcomes["old"] > 20 and killer.outcomes["new"] > 20, killer.outcomes
    print(f"{steps} steps, {in_place_steps} in place: {deterministic} kills at steps, "
          f"{RANDOM_KILLS} at random times; after them {killer.outcomes}")
