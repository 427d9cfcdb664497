"""Where and how a report is written: the findings rendered in the chosen format (plain
text, or colour through rich on a terminal) to stdout or an ``--output`` file, and
``--statistics`` to stderr for machine formats (stdout stays one document)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, NamedTuple

from nglint.errors import NglintError
from nglint.escape import colour_wanted, speaks_unicode

if TYPE_CHECKING:
    from nglint.findings import Finding


def say(text: str, err: bool = False, nl: bool = True) -> None:
    """Write ``text`` to stdout (``err``: stderr) exactly: as ``tolerant_streams``
    configured them.  Not ``click.echo``, which drops ANSI sequences in a pipe (a
    diff must stay exact) and writes UTF-8 to a stream that says it is ASCII."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n" if nl else text)
    if err:
        stream.flush()


def say_exact(text: str) -> None:
    """Write ``text`` to stdout as the bytes it was read from, whatever stdout's
    encoding: UTF-8, and a file's undecodable bytes as they were (read with
    ``surrogateescape``).  A diff must apply: ``say`` would write such a byte as the
    text ``\\udcff``, and a character stdout's encoding lacks as its escape."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a stream of text only
        stream.write(text)
        return
    stream.flush()
    buffer.write(text.encode("utf-8", "surrogateescape"))
    buffer.flush()


class Shown(NamedTuple):
    """How the findings are shown: the format and options, resolved for the stream
    they go to (``--output`` file or stdout).  ``key`` names the plain output in the
    result cache; None for colour output (rich, on a terminal: rendered each time)."""

    output_format: str
    output: str | None  # --output: the file, else stdout
    quiet: bool
    statistics: bool
    style: str  # text: full or concise
    color: str  # --color as given
    colour: bool  # resolved
    ascii_only: bool  # json: a stream that cannot encode every character

    @classmethod
    def of(cls, output_format: str, output: str | None, quiet: bool, statistics: bool,
           style: str | None, color: str) -> Shown:
        # an --output file: UTF-8 (see _stream), never a terminal
        tty = not output and sys.stdout.isatty()
        colour = output_format == "text" and colour_wanted(
            Terminal(tty), color, to_file=bool(output))
        return cls(output_format, output, quiet, statistics,
                   style or ("full" if tty else "concise"), color, colour,
                   not output and not speaks_unicode(sys.stdout))

    @property
    def key(self) -> str | None:
        if self.colour:
            return None
        from nglint.cache import render_key

        return render_key([self.output_format, self.quiet, self.statistics, self.style,
                           self.ascii_only])


class Terminal:
    """Stands for the output stream where only whether it is a terminal matters."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def report(findings: list[Finding], files: int, output_format: str, output: str | None,
           quiet: bool, statistics: bool, style: str | None = None,
           color: str = "auto") -> None:
    """Write the findings in ``output_format`` to ``output`` (default: stdout)."""
    shown = Shown.of(output_format, output, quiet, statistics, style, color)
    if shown.output_format == "json" and not output:
        # written to stdout as it is encoded: the text is not kept (``json.pieces``).  An
        # --output file is written once the report is whole (below): an interrupt while
        # encoding then leaves the file as it was
        from nglint.report import json as json_report

        try:
            for piece in json_report.pieces(findings, files, ascii_only=shown.ascii_only):
                sys.stdout.write(piece)
        except BrokenPipeError:  # the reader stopped reading (| head): the rest is not
            _discard_stdout()  # wanted, and the run's status and statistics still hold
        _statistics(findings, shown)
        return
    if not shown.colour:
        write(rendering(findings, files, shown), output)
        return
    from nglint.report import text

    with opened(output) as stream:
        text.render(findings, files, stream, quiet=quiet, statistics=statistics,
                    style=shown.style, color=color, to_file=bool(output))


def rendering(findings: list[Finding], files: int, shown: Shown) -> list[str]:
    """The output without colour, as ``[stdout text, stderr text]`` (what the result
    cache stores): the report, and for machine formats ``--statistics`` on stderr (so
    that stdout stays one document)."""
    if shown.output_format == "text":
        import io

        from nglint.report import text

        buffer = io.StringIO()
        text.render(findings, files, buffer, quiet=shown.quiet, statistics=shown.statistics,
                    style=shown.style, color="never")
        return [buffer.getvalue(), ""]
    if shown.output_format == "json":
        from nglint.report import json as json_report

        # a stream that cannot encode everything gets JSON's own escapes instead
        rendered = json_report.render(findings, files, ascii_only=shown.ascii_only)
    elif shown.output_format == "sarif":
        from nglint.report import sarif

        rendered = sarif.render(findings)
    elif shown.output_format == "gitlab":
        from nglint.report import gitlab

        rendered = gitlab.render(findings)
    elif shown.output_format == "junit":
        from nglint.report import junit

        rendered = junit.render(findings, files)
    else:
        from nglint.report import github

        rendered = github.render(findings)
    return [rendered, _counts(findings, shown)]


def _counts(findings: list[Finding], shown: Shown) -> str:
    """``--statistics`` of a machine format (for stderr), else empty."""
    if not shown.statistics:
        return ""
    from nglint.report.statistics import lines

    return "".join(f"{line}\n" for line in lines(findings))


def _discard_stdout() -> None:
    """Send what is left for stdout to the null device: its reader has gone, and the
    buffered rest would fail again at exit (the Python documentation's idiom for
    SIGPIPE, ``signal`` module notes)."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def _statistics(findings: list[Finding], shown: Shown) -> None:
    counts = _counts(findings, shown)
    if counts:
        say(counts, err=True, nl=False)


def write(output_text: list[str], output: str | None) -> None:
    """Write ``[stdout text, stderr text]``: the first to ``output`` (default: stdout)."""
    report_text, counts = output_text
    with opened(output) as stream:
        stream.write(report_text)
    if counts:
        say(counts, err=True, nl=False)


@contextlib.contextmanager
def opened(output: str | None) -> Iterator[IO[str]]:
    """``output`` opened for writing (UTF-8), or stdout when it is None."""
    if not output:
        yield sys.stdout
        return
    try:
        handle = open(output, "w", encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
    except OSError as error:
        raise NglintError(f"cannot write the report: {error.strerror}", output) from None
    with handle:
        yield handle
