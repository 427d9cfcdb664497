"""Configuration files: ``[tool.nglint]`` in ``pyproject.toml`` or a ``.nglint.toml``.

The file is found upward from each linted path (the first directory holding a
``.nglint.toml``, or a ``pyproject.toml`` with a ``[tool.nglint]`` table, wins;
``.nglint.toml`` before ``pyproject.toml`` in the same directory).  Every key and
value is checked strictly: a typo must not silently lint with the defaults, so
an unknown key or a bad value is a usage error (exit status 2) naming the key
and the file.  Options given on the command line replace the key of the same
name.

```toml
[tool.nglint]
select = ["NG1", "NG004"]          # codes, names or code prefixes (default: all)
ignore = ["jupyter-host-header"]
nginx-version = "1.22-1.30"        # a version or a range (default: 1.18-1.31.4)
jupyter-prefix = ["/jupyter/"]     # a string or a list
exclude = ["legacy/*"]             # globs relative to this file's directory
fail-on = "warning"
upgrade-style = "strict"           # the websocket idiom fixes write: strict or classic

[tool.nglint.severity]
NG104 = "warning"                  # code or name -> error, warning or info

[tool.nglint.rules.websocket-read-timeout]
threshold = "1h"
fix-value = "1d"
```

A ``.nglint.toml`` holds the same keys at its top level (``[severity]``,
``[rules.websocket-read-timeout]``).
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nglint.errors import NglintError

if TYPE_CHECKING:
    from nglint.engine import Options
    from nglint.findings import Severity
    from nglint.registry import Rule
    from nglint.versions import VersionRange


def _toml():  # noqa: ANN202 - the module; imported only when a file is read (start-up)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib

OWN_FILE = ".nglint.toml"
PYPROJECT = "pyproject.toml"
KEYS = ("select", "ignore", "exclude", "nginx-version", "jupyter-prefix", "prefix-map",
        "fail-on", "upgrade-style",
        "severity", "rules")
LEVELS = ("error", "warning", "info")


def parse_version(text: str) -> VersionRange:
    """The target nginx versions (``1.22``, ``1.18-1.30``, ``1.25.1-``: see
    ``nglint.versions``); NglintError with a one-line message otherwise."""
    from nglint.versions import VersionRange

    try:
        return VersionRange.parse(text)
    except ValueError as error:
        raise NglintError(str(error)) from None


def parse_prefix(text: str) -> str:
    if not text.startswith("/"):
        raise NglintError(f"invalid Jupyter prefix {text!r}: it must start with '/'")
    return text if text.endswith("/") else text + "/"


# nglint.semantics and nglint.upgrade are imported where a value is checked: finding
# and reading a configuration file (a warm run from the cache) imports neither


def _is_time(text: str) -> bool:
    from nglint.semantics.values import InvalidValue, parse_time

    try:
        parse_time(text)
    except InvalidValue:
        return False
    return True


def _is_size(text: str) -> bool:
    from nglint.semantics.values import InvalidValue, parse_offset

    try:
        parse_offset(text)
    except InvalidValue:
        return False
    return True


def option_kind(rule: Rule, name: str) -> str:
    """``time``, ``size``, ``text``, ``list``, ``bool`` or ``time-or-size`` (an undeclared
    default like ``2m``, a time and a size alike)."""
    declared = rule.option_kinds.get(name)
    if declared:
        return declared
    default = rule.options.get(name, "")
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, (list, tuple)):
        return "list"  # of strings, such as directive names
    default = str(default)
    time, size = _is_time(default), _is_size(default)
    if time and size:
        return "time-or-size"
    return "time" if time else "size" if size else "text"


def _check_value(kind: str, text: str) -> str | None:
    """Why ``text`` is not a value of ``kind`` (None when it is)."""
    checks = {"time": _is_time, "size": _is_size,
              "time-or-size": lambda t: _is_time(t) or _is_size(t)}
    check = checks.get(kind)
    if check is None or check(text):
        return None
    described = {"time": "an nginx time such as 90s or 1h",
                 "size": "an nginx size such as 512k or 2m",
                 "time-or-size": "an nginx time or size"}[kind]
    return f"invalid value {text!r}: expected {described}"


@dataclass
class Config:
    """One configuration file, validated; every field None or empty when not set."""

    path: str | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    nginx_version: VersionRange | None = None
    jupyter_prefixes: tuple[str, ...] | None = None
    prefix_map: tuple[tuple[str, str], ...] | None = None
    fail_on: str | None = None
    upgrade_style: str | None = None
    severity: dict[str, Severity] = field(default_factory=dict)  # rule code -> level
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> values

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()

    def excluded(self, path: str) -> bool:
        """True when ``path`` matches an ``exclude`` glob (relative to the file's folder)."""
        if not self.exclude:
            return False
        relative = os.path.relpath(os.path.abspath(path), self.directory).replace(os.sep, "/")
        if relative.startswith("../"):
            return False
        parts = relative.split("/")
        # a glob names the file or any folder above it ("legacy" excludes legacy/a.conf);
        # one without a slash matches a name at any depth, as in .gitignore
        candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        for pattern in self.exclude:
            pattern = pattern.rstrip("/")
            if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
                return True
            if "/" not in pattern and any(fnmatch.fnmatchcase(p, pattern) for p in parts):
                return True
        return False


class _Reader:
    """Validates one file's table, naming ``prefix + key`` in every error."""

    def __init__(self, path: str, prefix: str) -> None:
        self.path = path
        self.prefix = prefix

    def fail(self, key: str, message: str) -> NglintError:
        return NglintError(f"configuration key '{self.prefix}{key}': {message}", self.path)

    def strings(self, key: str, value: Any, allow_single: bool = False) -> list[str]:
        if allow_single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            expected = "a string or a list of strings" if allow_single else "a list of strings"
            raise self.fail(key, f"expected {expected}, got {value!r}")
        return value

    def rule(self, key: str, token: Any) -> Rule:
        from nglint import registry

        try:
            return registry.lookup(str(token))
        except NglintError:
            raise self.fail(key, f"unknown rule {token!r} (see `nglint rules`)") from None

    def read(self, table: Mapping[str, Any]) -> Config:
        from nglint import registry

        config = Config(path=self.path)
        for key, value in table.items():
            if key not in KEYS:
                raise self.fail(key, f"unknown key (known: {', '.join(KEYS)})")
            if key in ("select", "ignore"):
                tokens = self.strings(key, value)
                for token in registry.unknown(tokens):
                    raise self.fail(key, f"unknown rule {token!r} (see `nglint rules`)")
                setattr(config, key, tokens)
            elif key == "exclude":
                config.exclude = self.strings(key, value)
            elif key == "nginx-version":
                if not isinstance(value, str):
                    raise self.fail(key, 'expected a string such as "1.24" or "1.18-1.30", '
                                        f"got {value!r}")
                config.nginx_version = self.convert(key, parse_version, value)
            elif key == "jupyter-prefix":
                config.jupyter_prefixes = tuple(
                    self.convert(key, parse_prefix, p)
                    for p in self.strings(key, value, allow_single=True))
            elif key == "prefix-map":
                config.prefix_map = tuple(
                    self.convert(key, parse_prefix_map, p)
                    for p in self.strings(key, value, allow_single=True))
            elif key == "fail-on":
                config.fail_on = self.level(key, value).name.lower()
            elif key == "upgrade-style":
                from nglint.upgrade import STYLES

                if value not in STYLES:
                    raise self.fail(key, f"expected one of {', '.join(STYLES)}, got {value!r}")
                config.upgrade_style = value
            elif key == "severity":
                self.table(key, value)
                for name, level in value.items():
                    rule = self.rule(f"severity.{name}", name)
                    config.severity[rule.code] = self.level(f"severity.{name}", level)
            else:
                self.table(key, value)
                for name, options in value.items():
                    rule = self.rule(f"rules.{name}", name)
                    config.rule_options[rule.name] = self.options(f"rules.{name}", rule,
                                                                  options)
        return config

    def table(self, key: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {value!r}")

    def level(self, key: str, value: Any) -> Severity:
        from nglint.findings import Severity

        if value not in LEVELS:
            raise self.fail(key, f"expected one of {', '.join(LEVELS)}, got {value!r}")
        return Severity.parse(value)

    def convert(self, key: str, parse: Callable[[str], Any], value: str) -> Any:
        try:
            return parse(value)
        except NglintError as error:
            raise self.fail(key, error.message) from None

    def options(self, key: str, rule: Rule, values: Any) -> dict[str, Any]:
        self.table(key, values)
        checked: dict[str, Any] = {}
        for name, value in values.items():
            where = f"{key}.{name}"
            if name not in rule.options:
                known = ", ".join(rule.options) or "none"
                raise self.fail(where, f"{rule.name} has no such option (its options: {known})")
            kind = option_kind(rule, name)
            if kind == "list":
                checked[name] = self.strings(where, value)
                continue
            if kind == "bool":
                if not isinstance(value, bool):
                    raise self.fail(where, f"expected true or false, got {value!r}")
                checked[name] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise self.fail(where, f"expected a string, got {value!r}")
            text = str(value)  # a bare number is seconds for a time, bytes for a size
            problem = _check_value(kind, text)
            if problem:
                raise self.fail(where, problem)
            checked[name] = text
        return checked


def load(path: str) -> Config:
    """Read and validate one configuration file."""
    tomllib = _toml()
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise NglintError(f"cannot read configuration: {error.strerror}", path) from None
    except tomllib.TOMLDecodeError as error:
        raise NglintError(f"invalid TOML: {error}", path) from None
    except UnicodeDecodeError as error:
        raise NglintError(f"invalid TOML: {error}", path) from None
    if os.path.basename(path) == PYPROJECT:
        table = document.get("tool", {}).get("nglint", {})
        if not isinstance(table, dict):
            raise NglintError("configuration key 'tool.nglint': expected a table", path)
        return _Reader(path, "tool.nglint.").read(table)
    return _Reader(path, "").read(document)


def _has_table(pyproject: str) -> bool:
    """Whether a pyproject.toml configures nglint (most configure other tools only)."""
    tomllib = _toml()
    try:
        with open(pyproject, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, UnicodeDecodeError):
        return False
    except tomllib.TOMLDecodeError as error:
        raise NglintError(f"invalid TOML: {error}", pyproject) from None
    tool = document.get("tool")
    return isinstance(tool, dict) and "nglint" in tool


def find(path: str) -> str | None:
    """The configuration file that governs ``path``, searched upward from it."""
    current = os.path.abspath(path)
    if not os.path.isdir(current):
        current = os.path.dirname(current)
    while True:
        own = os.path.join(current, OWN_FILE)
        if os.path.isfile(own):
            return own
        pyproject = os.path.join(current, PYPROJECT)
        if os.path.isfile(pyproject) and _has_table(pyproject):
            return pyproject
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def group(paths: Sequence[str], explicit: str | None = None) -> list[tuple[Config, list[str]]]:
    """Paths grouped by the configuration that governs them, in command-line order."""
    if explicit is not None:
        return [(load(explicit), list(paths))]
    groups: dict[str | None, tuple[Config, list[str]]] = {}
    for path in paths:
        found = find(path)
        if found is not None:
            found = os.path.abspath(found)
        if found not in groups:
            groups[found] = (load(found) if found else Config(), [])
        groups[found][1].append(path)
    return list(groups.values())


@dataclass
class Settings:
    """A configuration with the command line laid over it: what one group of paths runs."""

    config: Config
    rules: list[Rule]
    options: Options  # imported lazily at run time: the engine loads the whole model
    fail_on: Severity


def parse_prefix_map(text: str) -> tuple[str, str]:
    """``OLD=NEW``: absolute include paths under OLD (as deployed, ``/etc/nginx``) are read
    under NEW (the checkout).  Raises ValueError otherwise."""
    old, equals, new = text.partition("=")
    if not equals or not old.startswith("/") or not new:
        raise ValueError(f"expected OLD=NEW with an absolute OLD (/etc/nginx=etc/nginx), "
                         f"got {text!r}")
    return old, new


def settle(config: Config, *, select: Iterable[str] = (), ignore: Iterable[str] = (),
           nginx_version: str | None = None, jupyter_prefixes: Iterable[str] = (),
           fail_on: str | None = None, prefix_map: Iterable[str] = ()) -> Settings:
    """Command-line values (empty or None when not given) replace the configured ones."""
    from nglint import registry
    from nglint.engine import Options
    from nglint.findings import Severity

    selected = list(select) or config.select or []
    ignored = list(ignore) or config.ignore or []
    rules = registry.select(selected, ignored)
    options = Options(severity_overrides=dict(config.severity),
                      rule_options={k: dict(v) for k, v in config.rule_options.items()})
    if nginx_version:
        options.nginx_version = parse_version(nginx_version)
    elif config.nginx_version:
        options.nginx_version = config.nginx_version
    prefixes = tuple(parse_prefix(p) for p in jupyter_prefixes) or config.jupyter_prefixes
    if prefixes:
        options.jupyter_prefixes = prefixes
    try:
        mapped = tuple(parse_prefix_map(p) for p in prefix_map) or config.prefix_map
    except ValueError as error:
        raise NglintError(f"--prefix-map: {error}") from None
    if mapped:
        options.prefix_map = mapped
    if config.upgrade_style:
        options.upgrade_style = config.upgrade_style
    level = Severity.parse(fail_on or config.fail_on or "error")
    return Settings(config, rules, options, level)
