"""The command line: thin click wrappers over discover, lint and report."""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nglint import __version__, check_crossplane
from nglint.errors import NglintError
from nglint.escape import (
    fence_commands,
    speaks_unicode,
    tolerant_streams,
    visible,
)
from nglint.report.output import Shown, rendering, report, say, say_exact, write
from nglint.versions import DEFAULT_RANGE

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from nglint.cache import Entry
    from nglint.cachedir import Store
    from nglint.engine import Options
    from nglint.findings import Finding
    from nglint.tree import Tree

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: tuple[str, ...]) -> list[str]:
    return [item for value in values for item in value.split(",") if item.strip()]


def guarded(command: Callable[..., int], crossplane: bool = True) -> Callable[..., None]:
    """Run a command; errors become one line on stderr and exit status 2.

    Output never fails on the terminal's encoding (``tolerant_streams``), and every
    message shows its data through ``visible``.  ``crossplane``: check first that the
    crossplane module is ngxparse's (``check`` checks after a cache miss instead: a
    hit needs crossplane's files as they were when a run passed the check)."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> None:
        tolerant_streams()
        try:
            if crossplane:
                check_crossplane()
            _recover()
            status = command(*args, **kwargs)
        except NglintError as error:
            if debug:
                import traceback

                traceback.print_exc()
            say(visible(f"nglint: error: {error}"), err=True)
            sys.exit(EXIT_ERROR)
        except (KeyboardInterrupt, BrokenPipeError):
            sys.exit(EXIT_ERROR)
        except Exception as error:
            if debug:
                import traceback

                traceback.print_exc()
            say(visible(f"nglint: internal error: {type(error).__name__}: {error} "
                               "(run with --debug for a traceback)"), err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(status)

    return click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")(
        wrapper)


def _recover() -> None:
    """Before any command: roll back (or complete) a ``--fix`` a dead run left, one
    line each on stderr (``nglint.journal.recover``; one listdir when there is none)."""
    from nglint.journal import recover

    recover(lambda line: say(visible(f"nglint: {line}"), err=True))


def _refuse_broken(trees: list[Tree], command: str) -> None:
    """``route`` and ``apps`` answer for a configuration nginx loads: a file that does
    not parse (nginx -t fails on it) is a usage error naming the file and line."""
    for tree in trees:
        for problem in tree.problems:
            if problem.kind == "syntax":
                raise NglintError(f"{problem.path}:{problem.line or 1}: {problem.message} "
                                  f"(nglint {command} needs a configuration nginx can read; "
                                  "nglint check lists every problem)")


def entry() -> None:
    """The ``nglint`` program (console script and ``python -m nglint``).

    Runs the command, flushes its output and leaves with ``os._exit``: tearing down a
    large tree's millions of objects one by one at interpreter exit would add about a
    sixth to the run (mypy leaves the same way).  Nothing nglint does needs the
    teardown: files are written and closed before the command returns.

    Click's own usage errors (a bad option value, a missing argument) are shown as
    click shows them, their message through ``visible``: it may quote a file name.
    """
    tolerant_streams()
    status: int | None = 0
    try:
        status = main(standalone_mode=False)  # --help, --version: their exit status
    except SystemExit as done:
        if done.code is not None and not isinstance(done.code, int):
            raise  # a message for Python to print: let it
        status = done.code
    except click.ClickException as error:
        if type(error).__name__ != "NoArgsIsHelpError":  # its message is the help page
            message = error.format_message
            error.format_message = lambda: visible(message())  # type: ignore[method-assign]
        error.show(file=sys.stderr)  # the stream as configured (see say)
        status = error.exit_code
    except click.Abort:
        say("Aborted!", err=True)
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    # the reader went away (| head), or closed the stream (a language client)
    except (BrokenPipeError, OSError, ValueError):
        status = status or EXIT_ERROR
    os._exit(status or 0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nglint")
def main() -> None:
    """Lint, validate and fix nginx configurations."""


FORMATS = ["text", "json", "sarif", "github", "gitlab", "junit"]


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(readable=False))  # discover: one line, exit status 2
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Configuration file for every path (default: .nglint.toml or "
                   "pyproject.toml [tool.nglint], found upward from each path).")
@click.option("--context", type=click.Choice(["main", "http", "server", "location"]),
              help="Context of files that are not a main nginx.conf (default: inferred).")
@click.option("--conf-prefix", type=click.Path(file_okay=False),
              help="Directory relative includes resolve against (default: the main "
                   "config's directory).")
@click.option("--stdin-filename", metavar="PATH",
              help="Name of what - reads from stdin: for reports, the configuration "
                   "lookup and context inference (default: -).")
@click.option("--within-tree", is_flag=True,
              help="Lint each named file inside the tree of the nearest nginx.conf above "
                   "it that includes it; report only findings in the named files.")
@click.option("--nginx-version", metavar="RANGE",
              help="Target nginx versions: 1.22, 1.18-1.30 or 1.25.1- (default: "
              f"{DEFAULT_RANGE.text}, the oldest nginx of a supported LTS distribution to "
              "the newest release nglint knows; see `nglint explain versions`).")
@click.option("--jupyter-prefix", "jupyter_prefixes", multiple=True,
              help="Base URL Jupyter is served at (repeatable); replaces the inference.")
@click.option("--prefix-map", "prefix_map", multiple=True, metavar="OLD=NEW",
              help="Read absolute includes under OLD from NEW (repeatable): "
              "/etc/nginx=etc/nginx for a repo copy.")
@click.option("--select", multiple=True, help="Rules to run (codes, names or prefixes).")
@click.option("--ignore", multiple=True, help="Rules to skip (codes, names or prefixes).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Lowest severity that makes the exit status 1.  [default: error]")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True,
              help="Also count the findings of each rule (on stderr for machine formats).")
@click.option("--output-format", "style", type=click.Choice(["full", "concise"]),
              help="Text output: full (headline, source line, notes) or concise (a line "
                   "each).  [default: full on a terminal, else concise]")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour text output (auto: on a terminal, "
              "NO_COLOR and FORCE_COLOR honoured).")
@click.option("--fix", "apply_fixes", is_flag=True, help="Rewrite the files to fix what can be.")
@click.option("--in-place", is_flag=True,
              help="With --fix: write into each file (same inode) instead of replacing it; "
                   "needed for files with several hard links or another owner.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print the fixes as a unified diff; write nothing.")
@click.option("--no-cache", is_flag=True,
              help="Do not answer from, or write to, the result cache.")
@click.option("--unsafe-fixes", is_flag=True,
              help="Also apply fixes that change behaviour beyond the finding.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
              help="Report only findings not recorded in this baseline; say how many of "
                   "its findings no longer occur.")
@click.option("--write-baseline", "write_baseline", type=click.Path(dir_okay=False),
              help="Record the current findings in this baseline file (then none is new).")
@functools.partial(guarded, crossplane=False)
def check(paths: tuple[str, ...], output_format: str, output: str | None,
          config_file: str | None, context: str | None, conf_prefix: str | None,
          stdin_filename: str | None, within_tree: bool, nginx_version: str | None,
          jupyter_prefixes: tuple[str, ...],
          prefix_map: tuple[str, ...],
          select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str | None,
          exit_zero: bool, quiet: bool, statistics: bool, apply_fixes: bool, show_diff: bool,
          no_cache: bool, unsafe_fixes: bool, style: str | None = None,
          color: str = "auto", in_place: bool = False, baseline_file: str | None = None,
          write_baseline: str | None = None) -> int:
    """Check nginx configuration files and directories."""
    from nglint import config
    from nglint.inputs import Inputs

    started = time.time_ns()  # before any file is read (the result cache's freshness)
    # stdin (-) read, nginx -T dumps split into their files
    inputs = Inputs.read(paths, stdin_filename)
    if in_place and not apply_fixes:
        raise NglintError("--in-place says how --fix writes: give --fix too")
    if apply_fixes and not show_diff and inputs.stdin:
        raise NglintError("--fix does not write stdin: use --diff, or name the file")
    # one group per configuration file: each path is linted with the file found for it
    found_groups = config.group(inputs.paths, config_file)
    shown = Shown.of(output_format, output, quiet, statistics, style, color)

    cache_name = store = None
    # a baseline's (and GitLab's) fingerprints read the tree's statements: not cached
    if not (no_cache or apply_fixes or show_diff or inputs.special or baseline_file
            or write_baseline or output_format == "gitlab"):
        from nglint import cache, cachestate
        from nglint.cachedir import NotPrivate

        try:
            store = cache.private_store()
        except NotPrivate as off:  # anyone who can write there could plant results
            say(visible(f"nglint: note: {off}"), err=True)
        if store is not None:
            # what decides the findings: the options as given and the configuration
            # files' bytes (settled, they would need the rules and the engine)
            from nglint.paths import main_above

            cache_name = cache.key(paths, [
                context, conf_prefix, within_tree, _split(select), _split(ignore),
                nginx_version, list(jupyter_prefixes), list(prefix_map), fail_on,
                [(found.path, cachestate.digest(found.path)) for found, _ in found_groups],
                # --within-tree: the tree each file belongs to (an nginx.conf may have
                # appeared above it since the entry was stored)
                [main_above(path) for path in paths] if within_tree else None])
        hit = (cache.load(store, cache_name, paths, shown.key)
               if store is not None and cache_name is not None else None)
        if hit is not None and store is not None and _answer(hit, shown, store):
            return EXIT_FINDINGS if hit.failing and not exit_zero else EXIT_OK

    check_crossplane()
    # A large tree is millions of small objects that stay alive until the end: the
    # cyclic collector would scan them again and again for nothing (a third of the run
    # on 50k lines); --fix unlinks each round's trees instead (``Tree.release``)
    gc.disable()
    from nglint.discover import targets
    from nglint.engine import lint
    from nglint.findings import Finding, Severity
    from nglint.report.progress import bar

    groups = [(config.settle(found, select=_split(select), ignore=_split(ignore),
                             nginx_version=nginx_version, jupyter_prefixes=jupyter_prefixes,
                             prefix_map=prefix_map,
                             fail_on=fail_on), group_paths)
              for found, group_paths in found_groups]
    # each finding's fail-on, from its group; by identity, as --fix may edit a message
    thresholds: dict[int, Severity] = {}

    previous: list[Tree] = []  # --fix: the last round's trees

    def run(overlay: dict[str, bytes]) -> tuple[list[Tree], list[Finding]]:
        # --fix: the previous round's trees are done with; unlinked, they are freed by
        # reference counting (their analyses were released by lint, and a replaced
        # parse by Overlay.put): no full collection of a large heap between rounds
        for tree in previous:
            tree.release()
        previous.clear()
        loaded = [(settings, group_paths,
                   inputs.discover(group_paths, context=context, conf_prefix=conf_prefix,
                                   overlay=overlay, exclude=settings.config.excluded,
                                   within_tree=within_tree,
                                   prefix_map=settings.options.prefix_map))
                  for settings, group_paths in groups]
        all_trees: list[Tree] = []
        found: dict[tuple[str, str, int, int, str], Finding] = {}
        with bar(sum(len(trees) for _, _, trees in loaded)) as advance:
            for settings, group_paths, trees in loaded:
                wanted = targets(group_paths) if within_tree else None
                all_trees.extend(trees)
                for finding in lint(trees, settings.rules, settings.options, advance,
                                    getattr(overlay, "scope", None)):
                    if settings.config.excluded(finding.path):
                        continue  # an excluded file included by a tree: read, not reported
                    if wanted is not None and not wanted(finding.path):
                        continue
                    if found.setdefault(finding.key, finding) is finding:
                        thresholds[id(finding)] = settings.fail_on
        previous.extend(all_trees)
        return all_trees, sorted(found.values(), key=Finding.sort_key)

    if apply_fixes or show_diff:
        from nglint.fix import fix_to_fixed_point, unified_diff
        from nglint.transaction import Change, commit

        result = fix_to_fixed_point(run, unsafe=unsafe_fixes, original=inputs.original)
        names = {real: source.path for tree in result.trees
                 for real, source in tree.sources.items()}
        if show_diff:  # exact lines (it must apply), fenced off from GitHub's runner
            say_exact(fence_commands(unified_diff(result, names)))
            say(f"{_count(len(result.fixed), 'fix', 'fixes')} in "
                       f"{_count(len(result.changed), 'file', 'files')} would be applied",
                       err=True)
            return EXIT_FINDINGS if result.changed else EXIT_OK
        # every target checked before anything is written (a dump's files: here as dumped)
        mapped = [pair for settings, _ in groups for pair in settings.options.prefix_map]
        written = {real: inputs.target(real, mapped) for real in result.changed}
        # one transaction: every file fixed, or (failure, signal, a file changed since
        # it was read) every file as it was
        commit([Change(written[real], result.originals[real], result.edited[real])
                for real in result.changed], in_place=in_place,
               say=lambda line: say(visible(f"nglint: {line}"), err=True))
        if not quiet:
            # on stderr, so that --format json/sarif on stdout stays one document
            for finding in sorted(result.fixed, key=lambda f: f.sort_key()):
                say(visible(f"fixed {finding.path}:{finding.line}:{finding.column}: "
                            f"{finding.code} ({finding.fix.description})"),  # type: ignore[union-attr]
                    err=True)
            for real in result.changed:
                say(visible(f"rewrote {names.get(real, real)}"), err=True)
            if result.fixed:  # the same count as --diff's (a fix may edit two files)
                say(f"{_count(len(result.fixed), 'fix', 'fixes')} in "
                    f"{_count(len(result.changed), 'file', 'files')} applied", err=True)
        trees, findings = result.trees, result.remaining
    else:
        trees, findings = run({})
    findings = _baseline(findings, baseline_file, write_baseline, quiet)
    counted = {real for tree in trees for real in tree.sources}
    if within_tree:
        counted = {real for real in counted if targets(paths)(real)}
    failing = any(f.severity >= thresholds[id(f)] for f in findings)
    output_text = None  # without a cache to keep it in, ``report`` writes it as rendered
    if store is not None and cache_name is not None:
        output_text = rendering(findings, len(counted), shown) if shown.key else None
        cache.store(store, cache_name, paths, trees, findings, failing, len(counted), started,
                    {shown.key: output_text} if shown.key and output_text else {})
    if output_text is None:
        report(findings, len(counted), output_format, output, quiet, statistics, style, color)
    else:
        write(output_text, output)
    return EXIT_FINDINGS if failing and not exit_zero else EXIT_OK


def _answer(hit: Entry, shown: Shown, store: Store) -> bool:
    """Write a cache entry's answer: the stored output, else rendered from its findings
    (then stored too).  False when its findings are not of the right shape (a miss)."""
    from nglint import cache

    if hit.output is not None:
        write(hit.output, shown.output)
        return True
    findings = hit.findings()
    if findings is None:
        return False
    if shown.colour:
        report(findings, hit.files, shown.output_format, shown.output, shown.quiet,
               shown.statistics, shown.style, shown.color)
        return True
    text = rendering(findings, hit.files, shown)
    if shown.key is not None:
        cache.add_render(store, hit, shown.key, text)
    write(text, shown.output)
    return True


def _baseline(findings: list[Finding], baseline_file: str | None, write_baseline: str | None,
              quiet: bool) -> list[Finding]:
    """``--write-baseline`` records the findings; ``--baseline`` keeps the new ones and
    says on stderr which of its findings no longer occur."""
    if not baseline_file and not write_baseline:
        return findings
    from nglint import baseline

    if write_baseline:
        baseline.write(write_baseline, findings)
        say(visible(f"nglint: recorded {_count(len(findings), 'finding', 'findings')} "
                    f"in {write_baseline}"), err=True)
    if not baseline_file:
        return [] if write_baseline else findings
    new, fixed = baseline.subtract(baseline_file, findings)
    if fixed:
        say(f"nglint: {_count(len(fixed), 'finding', 'findings')} of the baseline no longer "
            "occur (fixed)", err=True)
        for entry in fixed if not quiet else ():
            say(visible(f"fixed since the baseline: {entry['path']}: {entry['code']} "
                        f"{entry.get('message', '')}"), err=True)
    return new


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def list_rules(output_format: str) -> int:
    """List every rule: code, name, default severity, fixable, summary."""
    from nglint.registry import all_rules

    rows = [{"code": r.code, "name": r.name, "severity": str(r.severity),
             "fixable": r.fixable, "summary": r.summary, "options": r.options}
            for r in all_rules()]
    if output_format == "json":
        say(json.dumps(rows, indent=2))
        return EXIT_OK
    say(f"{'CODE':<6} {'NAME':<30} {'SEVERITY':<8} {'FIXABLE':<7} SUMMARY")
    for row in rows:
        fix = "yes" if row["fixable"] else "no"
        say(f"{row['code']:<6} {row['name']:<30} {row['severity']:<8} {fix:<7} "
                   f"{row['summary']}")
    return EXIT_OK


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


@main.command()
@click.argument("rule")
@guarded
def explain(rule: str) -> int:
    """Print a rule's documentation page (or ``versions``: the target nginx versions)."""
    from nglint.registry import lookup

    if rule == "versions":
        import inspect

        from nglint import versions

        click.echo("# Target nginx versions (--nginx-version, nginx-version)\n")
        click.echo(inspect.cleandoc(versions.__doc__ or ""))
        return EXIT_OK
    found = lookup(rule)
    fix = "fixable with --fix" if found.fixable else "not fixable automatically"
    say(f"# {found.code} {found.name} ({found.severity}, {fix})\n")
    say(found.doc)
    return EXIT_OK


def _one_path(path: str, stdin_filename: str | None, config_file: str | None,
              context: str | None, conf_prefix: str | None, nginx_version: str | None,
              jupyter_prefixes: tuple[str, ...] = ()) -> tuple[list[Tree], Options]:
    """The trees of one path (``-`` is stdin, an ``nginx -T`` dump is split) and the
    options its configuration file and the command line give (``route``, ``apps``)."""
    from nglint import config
    from nglint.inputs import Inputs

    inputs = Inputs.read([path], stdin_filename)
    [(found, _)] = config.group(inputs.paths, config_file)
    settings = config.settle(found, nginx_version=nginx_version,
                             jupyter_prefixes=jupyter_prefixes)
    trees = inputs.discover(inputs.paths, context=context, conf_prefix=conf_prefix,
                            prefix_map=settings.options.prefix_map)
    return trees, settings.options


def _emit(answers: list[dict[str, Any]], output_format: str,
          render_text: Callable[[list[dict[str, Any]]], str]) -> int:
    if output_format == "json":
        say(json.dumps(answers, indent=2, ensure_ascii=not speaks_unicode(sys.stdout)))
    else:
        say(render_text(answers), nl=False)
    return EXIT_OK


@main.command("lsp")
@guarded
def lsp_command() -> int:
    """Run the language server on stdin and stdout (needs the ``lsp`` extra)."""
    try:
        from nglint.lsp.server import serve
    except ImportError as error:
        if not (error.name or "").startswith(("pygls", "lsprotocol")):
            raise
        raise NglintError("nglint lsp needs pygls, not installed here: "
                          "pip install 'nglint[lsp]'") from None
    serve()
    return EXIT_OK


def _one_tree_options(command: F) -> F:
    """The options of the commands that answer for one path (``apps``, ``route``):
    output format, how the path is read, the target version, the configuration."""
    for option in reversed((
        click.option("--format", "output_format", type=click.Choice(["text", "json"]),
                     default="text", show_default=True),
        click.option("--context", type=click.Choice(["main", "http", "server", "location"])),
        click.option("--conf-prefix", type=click.Path(file_okay=False)),
        click.option("--nginx-version", metavar="VERSION",
                     help="Target nginx version (default: the configuration's "
                     "nginx-version); the answer is for the oldest version of a range."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="Configuration file to use instead of the one found upward."),
        click.option("--stdin-filename", metavar="PATH",
                     help="Name of what - reads from stdin."),
    )):
        command = option(command)
    return command


@main.command("apps")
@click.argument("path", type=click.Path())
@click.option("--jupyter-prefix", "jupyter_prefixes", multiple=True,
              help="Where Jupyter is served (replaces the inference).")
@_one_tree_options
@guarded
def apps_command(path: str, output_format: str, context: str | None, conf_prefix: str | None,
                 jupyter_prefixes: tuple[str, ...], nginx_version: str | None,
                 config_file: str | None, stdin_filename: str | None) -> int:
    """Show which app each location serves, the base URLs and the evidence behind them."""
    from nglint.apps.report import render_text, survey
    from nglint.semantics.inherit import Model

    trees, options = _one_path(path, stdin_filename, config_file, context, conf_prefix,
                               nginx_version, jupyter_prefixes)
    _refuse_broken(trees, "apps")
    answers = survey(trees, Model(options.nginx_version.low), options.jupyter_prefixes)
    return _emit(answers, output_format, render_text)


@main.command("route")
@click.argument("path", type=click.Path())
@click.argument("uris", nargs=-1, required=True)
@click.option("--host", help="Host header of the request (default: every server; a full "
              "URL gives its own).")
@click.option("--listen", "listen", metavar="ADDR:PORT",
              help="Where the request arrives (127.0.0.1:8080, [::1]:443, 8080).")
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'",
              help="A client header, e.g. 'Upgrade: websocket' (repeatable).")
@_one_tree_options
@guarded
def route_command(path: str, uris: tuple[str, ...], host: str | None, listen: str | None,
                  headers: tuple[str, ...], output_format: str, context: str | None,
                  conf_prefix: str | None, nginx_version: str | None,
                  config_file: str | None, stdin_filename: str | None) -> int:
    """Show what nginx does with each request (URI or full URL): server, location,
    internal redirects, if branches, and what is sent upstream."""
    from nglint.route import render_text, route
    from nglint.semantics.inherit import Model
    from nglint.semantics.request import parse_listen_option, requests_for

    try:
        address, port = parse_listen_option(listen) if listen else (None, None)
        requests = requests_for(uris, host, address, port, headers)
    except ValueError as error:
        raise NglintError(str(error)) from None
    trees, options = _one_path(path, stdin_filename, config_file, context, conf_prefix,
                               nginx_version)
    # given a tree, only what nginx loads: not the fragments nothing includes
    whole = [tree for tree in trees if tree.context == "main"]
    _refuse_broken(whole or trees, "route")
    answers = route(whole or trees, requests, Model(options.nginx_version.low))
    return _emit(answers, output_format, render_text)
