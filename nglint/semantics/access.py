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


def first_covering(found: list[Rule]) -> list[int | None]:
    """For each rule of ``found`` (in order), the index of the first earlier rule that
    covers it (``Rule.covers``), or None: one entry per rule.

    Linear in the rules times the distinct prefix lengths written: an earlier IP rule
    covers a network exactly when it is one of that network's supernets, so each rule
    looks its supernets up by (version, prefix length, masked address) instead of
    comparing itself with every earlier rule (100,000 ``allow`` lines took minutes).
    """
    every: int | None = None  # the first "all"
    unix: int | None = None  # the first "unix:"
    first: dict[tuple[int, int, int], int] = {}  # (version, prefix, address) -> index
    lengths: dict[int, set[int]] = {4: set(), 6: set()}  # prefix lengths seen per version
    result: list[int | None] = []
    for index, rule in enumerate(found):
        candidates = [every] if every is not None else []
        if rule.kind == "unix" and unix is not None:
            candidates.append(unix)
        elif rule.kind == "ip":
            assert rule.network is not None
            version, prefix = rule.network.version, rule.network.prefixlen
            address = int(rule.network.network_address)
            bits = rule.network.max_prefixlen
            for length in lengths[version]:
                if length <= prefix:
                    mask = ((1 << length) - 1) << (bits - length)
                    earlier = first.get((version, length, address & mask))
                    if earlier is not None:
                        candidates.append(earlier)
            first.setdefault((version, prefix, address), index)
            lengths[version].add(prefix)
        elif rule.kind == "all" and every is None:
            every = index
        elif rule.kind == "unix" and unix is None:
            unix = index
        result.append(min(candidates) if candidates else None)
    return result


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
