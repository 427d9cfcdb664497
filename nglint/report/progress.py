"""A progress bar on stderr for long runs: only on a terminal and for many trees.

rich is imported only when the bar is shown, so machine runs (CI, pre-commit,
``--format json``) never pay for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

MIN_TREES = 20  # below this a run takes well under a second: a bar would only flicker


def _nothing() -> None:
    return None


@contextmanager
def bar(total: int, stream: IO[str] | None = None,
        label: str = "Linting") -> Iterator[Callable[[], None]]:
    """Yield a function to call once per tree; it draws only when worth it."""
    stream = stream or sys.stderr
    if total < MIN_TREES or not stream.isatty():
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(file=stream, stderr=stream is sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
