"""Access control: ``allow``/``deny`` rules as nginx's access module reads them, and
every check nginx makes at a block (``auth_basic``, ``auth_request`` too).

nginx checks a client against the rules of its address family in order and the
first match decides (``ngx_http_access_inet``, ``ngx_http_access_inet6``,
``ngx_http_access_unix``); when none matches the request is allowed.  ``all``
goes into every family's list; ``unix:`` matches UNIX-domain sockets only; an
address with host bits set is masked (``ngx_ptocidr``: "low address bits of ...
are meaningless").  Which rules are in force at a block is the model's
``Model.access`` (both directives form one list, inherited all or nothing).

``auth_basic`` and ``auth_request`` are standard directives that ``off`` switches
off; ``satisfy`` (``all`` by default) says whether every check must pass or any
one: it weakens access control, it does not add any.

Sources: https://nginx.org/en/docs/http/ngx_http_access_module.html,
nginx ``src/http/modules/ngx_http_access_module.c``,
https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html,
https://nginx.org/en/docs/http/ngx_http_auth_request_module.html,
https://nginx.org/en/docs/http/ngx_http_core_module.html#satisfy.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from nglint.semantics.inherit import Model, Value
from nglint.tree import Node

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rule:
    """One ``allow`` or ``deny`` in force."""

    value: Value
    action: str  # "allow" or "deny"
    address: str  # as written
    network: Network | None  # None for "all" and "unix:"
    kind: str  # "all", "unix", "ip"

    def covers(self, other: Rule) -> bool:
        """Whether every client ``other`` matches is matched by this rule."""
        if self.kind == "all":
            return True
        if self.kind != other.kind:
            return False
        if self.kind == "unix":
            return True
        assert self.network is not None and other.network is not None
        return (self.network.version == other.network.version
                and other.network.subnet_of(self.network))  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        return f"{self.action} {self.address}"


def parse(value: Value) -> Rule | None:
    """The rule of an ``allow``/``deny`` value (None: an address nginx refuses)."""
    if len(value.args) != 1:
        return None
    address = value.args[0]
    if address == "all":
        return Rule(value, value.directive, address, None, "all")
    if address == "unix:":
        return Rule(value, value.directive, address, None, "unix")
    try:
        network = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None
    return Rule(value, value.directive, address, network, "ip")


def rules(values: list[Value]) -> list[Rule]:
    return [rule for rule in (parse(v) for v in values) if rule is not None]


def restrictive(found: list[Rule]) -> bool:
    """Whether the list ends by refusing everyone its earlier rules did not allow."""
    return bool(found) and found[-1].action == "deny" and found[-1].kind == "all"


def access_controls(model: Model, block: Node) -> list[Value]:
    """Every access check nginx makes at ``block``: its ``allow``/``deny`` rules when
    one of them denies someone, and ``auth_basic``/``auth_request`` unless ``off``."""
    found: list[Value] = []
    in_force = model.access(block)
    if any(value.directive == "deny" for value in in_force):
        found.extend(in_force)
    for directive in ("auth_basic", "auth_request"):
        value = model.effective(block, directive)
        if value is not None and not value.is_default and value.args and \
                value.args[0] != "off":
            found.append(value)
    return found
