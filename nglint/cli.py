"""The command line: thin click wrappers over discover, lint and report."""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from nglint import __version__, check_crossplane
from nglint.errors import NglintError
from nglint.findings import Finding, Severity
from nglint.tree import Tree

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def parse_version(text: str) -> tuple[int, int, int]:
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise NglintError(f"invalid nginx version {text!r}: expected X.Y or X.Y.Z")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]


def _prefix(text: str) -> str:
    if not text.startswith("/"):
        raise NglintError(f"invalid Jupyter prefix {text!r}: it must start with '/'")
    return text if text.endswith("/") else text + "/"


def _split(values: tuple[str, ...]) -> list[str]:
    return [item for value in values for item in value.split(",") if item.strip()]


def guarded(command: Callable[..., int]) -> Callable[..., None]:
    """Run a command; errors become one line on stderr and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> None:
        try:
            check_crossplane()
            status = command(*args, **kwargs)
        except NglintError as error:
            if debug:
                traceback.print_exc()
            click.echo(f"nglint: error: {error}", err=True)
            sys.exit(EXIT_ERROR)
        except (KeyboardInterrupt, BrokenPipeError):
            sys.exit(EXIT_ERROR)
        except Exception as error:
            if debug:
                traceback.print_exc()
            click.echo(f"nglint: internal error: {type(error).__name__}: {error} "
                       "(run with --debug for a traceback)", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(status)

    return click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")(
        wrapper)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nglint")
def main() -> None:
    """Lint, validate and fix nginx configurations."""


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(readable=False))  # discover: one line, exit status 2
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--context", type=click.Choice(["main", "http", "server", "location"]),
              help="Context of files that are not a main nginx.conf (default: inferred).")
@click.option("--conf-prefix", type=click.Path(file_okay=False),
              help="Directory relative includes resolve against (default: the main "
                   "config's directory).")
@click.option("--nginx-version", help="Target nginx version for defaults (default: before "
              "1.29.7).")
@click.option("--jupyter-prefix", "jupyter_prefixes", multiple=True,
              help="Base URL Jupyter is served at (repeatable); replaces the inference.")
@click.option("--select", multiple=True, help="Rules to run (codes, names or prefixes).")
@click.option("--ignore", multiple=True, help="Rules to skip (codes, names or prefixes).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error",
              show_default=True, help="Lowest severity that makes the exit status 1.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--fix", "apply_fixes", is_flag=True, help="Rewrite the files to fix what can be.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print the fixes as a unified diff; write nothing.")
@click.option("--unsafe-fixes", is_flag=True,
              help="Also apply fixes that change behaviour beyond the finding.")
@guarded
def check(paths: tuple[str, ...], output_format: str, output: str | None,
          context: str | None, conf_prefix: str | None, nginx_version: str | None,
          jupyter_prefixes: tuple[str, ...], select: tuple[str, ...], ignore: tuple[str, ...],
          fail_on: str, exit_zero: bool, quiet: bool, apply_fixes: bool, show_diff: bool,
          unsafe_fixes: bool) -> int:
    """Check nginx configuration files and directories."""
    from nglint import registry
    from nglint.discover import discover
    from nglint.engine import Options, lint

    options = Options()
    if nginx_version:
        options.nginx_version = parse_version(nginx_version)
    if jupyter_prefixes:
        options.jupyter_prefixes = tuple(_prefix(p) for p in jupyter_prefixes)
    rules = registry.select(_split(select), _split(ignore))

    def run(overlay: dict[str, bytes]) -> tuple[list[Tree], list[Finding]]:
        trees = discover(paths, context=context, conf_prefix=conf_prefix, overlay=overlay)
        return trees, lint(trees, rules, options)

    if apply_fixes or show_diff:
        from nglint.fix import fix_to_fixed_point, unified_diff, write_atomically

        result = fix_to_fixed_point(run, unsafe=unsafe_fixes)
        names = {real: source.path for tree in result.trees
                 for real, source in tree.sources.items()}
        if show_diff:
            click.echo(unified_diff(result, names), nl=False)
            click.echo(f"{len(result.fixed)} fix(es) in {len(result.changed)} file(s) "
                       "would be applied", err=True)
            return EXIT_FINDINGS if result.changed else EXIT_OK
        for real in result.changed:
            write_atomically(real, result.edited[real])
        if not quiet and output_format == "text":
            for real in result.changed:
                count = sum(1 for f in result.fixed
                            if any(e.path == real for e in f.fix.edits))  # type: ignore[union-attr]
                click.echo(f"fixed {names.get(real, real)}: {count} fix(es)", err=True)
        trees, findings = result.trees, result.remaining
    else:
        trees, findings = run({})
    files = len({real for tree in trees for real in tree.sources})
    stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        if output_format == "json":
            from nglint.report import json as json_report

            stream.write(json_report.render(findings, files))
        else:
            from nglint.report import text

            text.render(findings, files, stream, quiet=quiet)
    finally:
        if output:
            stream.close()
    threshold = Severity.parse(fail_on)
    if not exit_zero and any(f.severity >= threshold for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def list_rules(output_format: str) -> int:
    """List every rule: code, name, default severity, fixable, summary."""
    from nglint.registry import all_rules

    rows = [{"code": r.code, "name": r.name, "severity": str(r.severity),
             "fixable": r.fixable, "summary": r.summary} for r in all_rules()]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return EXIT_OK
    click.echo(f"{'CODE':<6} {'NAME':<30} {'SEVERITY':<8} {'FIXABLE':<7} SUMMARY")
    for row in rows:
        fix = "yes" if row["fixable"] else "no"
        click.echo(f"{row['code']:<6} {row['name']:<30} {row['severity']:<8} {fix:<7} "
                   f"{row['summary']}")
    return EXIT_OK


@main.command()
@click.argument("rule")
@guarded
def explain(rule: str) -> int:
    """Print a rule's documentation page."""
    from nglint.registry import lookup

    found = lookup(rule)
    fix = "fixable with --fix" if found.fixable else "not fixable automatically"
    click.echo(f"# {found.code} {found.name} ({found.severity}, {fix})\n")
    click.echo(found.doc)
    return EXIT_OK


@main.command("route")
@click.argument("path", type=click.Path())
@click.argument("uris", nargs=-1, required=True)
@click.option("--host", help="Host header of the request (default: every server).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--context", type=click.Choice(["main", "http", "server", "location"]))
@click.option("--conf-prefix", type=click.Path(file_okay=False))
@click.option("--nginx-version", help="Target nginx version for defaults.")
@guarded
def route_command(path: str, uris: tuple[str, ...], host: str | None, output_format: str,
                  context: str | None, conf_prefix: str | None,
                  nginx_version: str | None) -> int:
    """Show which server and location serve each URI, and the proxy settings there."""
    from nglint.discover import discover
    from nglint.route import render_text, route
    from nglint.semantics.inherit import Model

    trees = discover([path], context=context, conf_prefix=conf_prefix)
    model = Model(parse_version(nginx_version)) if nginx_version else Model()
    answers = route(trees, uris, host, model)
    if output_format == "json":
        click.echo(json.dumps(answers, indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(answers), nl=False)
    return EXIT_OK
