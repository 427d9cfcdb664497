"""What an app profile declares: how the app is recognised, where its base URL shows,
its websocket endpoints and what each needs.

A profile is data, one module per application in ``nglint/apps/`` exposing
``PROFILE``.  ``nglint.apps.view`` reads every profile: it attributes each
proxying location to the app whose signs weigh most there, infers each
deployment's base URL from evidence, and sends a websocket request for every
endpoint below it through the request model (``nglint.semantics.request``).
Rules ask that view; they never look for app paths themselves.

Weights: a strong sign weighs ``STRONG`` (3), a weak one ``WEAK`` (2); a
location is attributed to an app when its signs reach ``THRESHOLD`` (3): one
strong sign, or two weak ones of different kinds.  Each sign counts once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

__all__ = ["STRONG", "THRESHOLD", "WEAK", "Endpoint", "Profile", "Sign"]

STRONG = 3
WEAK = 2
THRESHOLD = 3

# where a sign is looked for
PATH = "path"  # the location's path or regex, as written
TARGET = "target"  # the proxy_pass URL and the servers of the upstream it names
COMMENT = "comment"  # comments on, above or atop the location or its server
SERVER = "server"  # the server's names and settings (server_name, log file names...)
KINDS = (PATH, TARGET, COMMENT, SERVER)


@dataclass(frozen=True)
class Sign:
    """A sign that a location fronts the app: ``pattern`` (a case-insensitive regex)
    found in the location's ``kind`` of text, worth ``weight``."""

    kind: str
    pattern: str
    weight: int
    why: str  # shown by `nglint apps`: "port 8888 (Jupyter's default)"

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


class Endpoint(NamedTuple):
    """A websocket endpoint, below the app's base URL.

    ``template`` is the path as the app's docs write it (``api/kernels/<id>/channels``);
    ``sample`` a concrete path of that shape, sent through the request model.
    ``ping`` is the server's ping interval in seconds (None: the server never
    pings, so an idle socket lives only as long as ``proxy_read_timeout``).
    ``only`` names the versions that have the endpoint: the rules then report a
    warning, not an error (a current version may not use it).
    """

    key: str
    label: str
    template: str
    sample: str
    ping: int | None = None
    only: str = ""  # the app versions that have it ("Gradio 3.x"); "" for every version


class Profile(NamedTuple):
    """One application behind nginx.

    - ``name``: what ``# nglint: app=NAME`` says (``aliases`` too);
    - ``signs``: how it is recognised;
    - ``ui_paths``: paths right below the base URL that only this app serves
      (``lab``, ``hub/``): a location ending in one shows the base before it;
    - ``endpoints``: its websockets below the base URL; ``mounts`` the sub-paths
      below the base where they live (JupyterHub: ``user/<name>/``...), each a
      (template, sample) pair, ``("", "")`` for the base itself;
    - ``symptom``: what the user sees when its websockets fail;
    - ``needs``: what a block serving its websockets must have, each checked by one
      rule: ``http11`` (NG101), ``upgrade`` (NG102), ``connection`` (NG103),
      ``timeout`` (a read timeout above the endpoint's idle time, NG104) and
      ``origin`` (the app refuses a websocket whose Origin differs from Host, so
      Host must carry the browser's host and port and Origin must pass: NG106,
      NG107);
    - ``sources``: the app docs or source lines each fact comes from.
    """

    name: str
    title: str
    signs: tuple[Sign, ...]
    endpoints: tuple[Endpoint, ...]
    symptom: str
    sources: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    ui_paths: tuple[str, ...] = ()
    mounts: tuple[tuple[str, str], ...] = (("", ""),)
    needs: frozenset[str] = frozenset({"http11", "upgrade", "connection", "timeout"})
    jupyter: bool = False  # Jupyter's own rules (NG106-NG110) apply

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)
