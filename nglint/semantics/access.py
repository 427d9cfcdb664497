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
import re
from dataclasses import dataclass
from operator import attrgetter
from socket import AF_INET, inet_pton

from nglint.semantics.inherit import Model, Value
from nglint.tree import Node

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(slots=True, unsafe_hash=True)
class Rule:
    """One ``allow`` or ``deny`` in force.

    An IP rule's network is kept as integers (``version``, ``address``: the masked
    network address, ``prefix``): 100,000 ``allow`` lines would otherwise be 100,000
    ``ipaddress`` objects; ``network`` builds one when asked.  Read-only by convention,
    not ``frozen``: a frozen dataclass's ``__init__`` costs five times a plain one's."""

    value: Value
    action: str  # "allow" or "deny"
    text_address: str  # as written
    kind: str  # "all", "unix", "ip"
    version: int = 0  # 4 or 6 for an IP rule
    address: int = 0  # the network address (host bits cleared)
    prefix: int = 0  # its prefix length

    @property
    def network(self) -> Network | None:
        """The rule's network (None for "all" and "unix:")."""
        if self.kind != "ip":
            return None
        kind = ipaddress.IPv4Network if self.version == 4 else ipaddress.IPv6Network
        return kind((self.address, self.prefix))

    def covers(self, other: Rule) -> bool:
        """Whether every client ``other`` matches is matched by this rule."""
        if self.kind == "all":
            return True
        if self.kind != other.kind:
            return False
        if self.kind == "unix":
            return True
        if self.version != other.version or other.prefix < self.prefix:
            return False
        bits = 32 if self.version == 4 else 128
        mask = ((1 << self.prefix) - 1) << (bits - self.prefix)
        return other.address & mask == self.address

    @property
    def text(self) -> str:
        return f"{self.action} {self.text_address}"


# ngx_inet_addr: four dot-separated octets of ASCII digits, each below 256 and each
# possibly empty (0) or with leading zeros; ngx_atoi: a mask length of ASCII digits
_OCTET = r"0*(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])?"
_NGX_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
_LENGTH = re.compile(r"0*([0-9]{1,3})")
_INADDR_NONE = 0xFFFFFFFF


def _ip(address: str) -> tuple[int, int, int] | None:
    """(version, masked network address, prefix length) of an ``allow``/``deny``
    address as nginx reads it (``ngx_ptocidr``), or None when nginx refuses it
    (``nginx -t``: invalid parameter).

    The part before the first ``/`` is tried as IPv4 (``ngx_inet_addr``: empty octets
    and leading zeros are read, and 255.255.255.255 is refused: it is ``INADDR_NONE``,
    the function's error value), then as IPv6 (``ngx_inet6_addr``, ``_inet6``).  The
    prefix length is ASCII digits (``ngx_atoi``), at most 32 or 128.  A dotted quad in
    the usual form is read by ``socket.inet_pton`` (1,000,000 ``allow`` lines are read
    in one check).  Source: nginx ``src/core/ngx_inet.c`` (ngx_inet_addr,
    ngx_inet6_addr, ngx_ptocidr), ``src/core/ngx_string.c`` (ngx_atoi);
    tests/test_access_address_nginx.py."""
    if "/" not in address and ":" not in address:  # an address alone: IPv4 or nothing
        value = _ipv4(address)
        return None if value is None else (4, value, 32)
    head, slash, length = address.partition("/")
    value = _ipv4(head) if "." in head else None
    if value is not None:
        version, bits = 4, 32
    else:
        value = _inet6(head)
        if value is None:
            return None
        version, bits = 6, 128
    prefix = bits
    if slash:
        found = _LENGTH.fullmatch(length)
        if found is None or int(found.group(1)) > bits:
            return None
        prefix = int(found.group(1))
    return version, value & (((1 << prefix) - 1) << (bits - prefix)), prefix


def _ipv4(text: str) -> int | None:
    """``ngx_inet_addr``: the address as an integer, or None."""
    try:
        value = int.from_bytes(inet_pton(AF_INET, text), "big")  # the usual form
    except (OSError, ValueError):  # not a plain dotted quad: empty octets, zeros, a name
        found = _NGX_IPV4.fullmatch(text)
        if found is None:
            return None
        value = 0
        for octet in found.groups():
            value = value << 8 | int(octet or 0)
    return None if value == _INADDR_NONE else value


_HEX = frozenset("0123456789abcdefABCDEF")


def _inet6(text: str) -> int | None:
    """``ngx_inet6_addr``: the address as an integer, or None.

    Read as nginx reads it, which is not quite RFC 4291 (nor Python's ``ipaddress``):
    one leading ``:`` is skipped (``:1:2:3:4:5:6:7:8`` is read), ``::`` must stand for
    at least one group (``1:2:3:4:5:6:7::`` is refused), an embedded IPv4 address is
    read by ``ngx_inet_addr`` (``::ffff:01.2.3.4`` is read, ``::ffff:255.255.255.255``
    is refused) and a scope id (``%eth0``) is refused."""
    if not text:
        return None
    if text[0] == ":":
        text = text[1:]
    groups: list[int] = []
    zero: int | None = None  # where "::" stands, as an index into groups
    after = -1  # where the text after the last ":" starts
    nibbles = word = 0
    left = 8  # groups still to be written
    ended = False  # the text ended with an embedded IPv4 address
    for index, char in enumerate(text):
        if char == ":":
            if nibbles:
                after = index + 1
                groups.append(word)
                left -= 1
                if left:
                    nibbles = word = 0
                    continue
            elif zero is None:
                after = index + 1
                zero = len(groups)
                continue
            return None
        if char == "." and nibbles:
            if left < 2 or after < 0:
                return None
            embedded = _ipv4(text[after:])
            if embedded is None:
                return None
            groups.append(embedded >> 16)
            left -= 1
            word = embedded & 0xFFFF
            ended = True
            break
        nibbles += 1
        if nibbles > 4 or char not in _HEX:
            return None
        word = word * 16 + int(char, 16)
    if not ended and nibbles == 0 and zero is None:
        return None
    groups.append(word)
    left -= 1
    if left:
        if zero is None:
            return None
        groups[zero:zero] = [0] * left
    elif zero is not None:
        return None
    value = 0
    for group in groups:
        value = value << 16 | group
    return value


def readable(address: str) -> bool:
    """Whether nginx reads ``address`` as an ``allow``/``deny`` argument
    (``ngx_http_access_rule``: ``all``, ``unix:``, or what ``ngx_ptocidr`` reads)."""
    if "/" not in address and ":" not in address:  # "all" or an address alone
        return address == "all" or _ipv4(address) is not None
    return address == "unix:" or _ip(address) is not None


def parse(value: Value) -> Rule | None:
    """The rule of an ``allow``/``deny`` value (None: an address nginx refuses)."""
    if len(value.args) != 1:
        return None
    address = value.args[0]
    if address == "all":
        return Rule(value, value.directive, address, "all")
    if address == "unix:":
        return Rule(value, value.directive, address, "unix")
    read = _ip(address)
    if read is None:
        return None
    return Rule(value, value.directive, address, "ip", *read)


def rules(values: list[Value]) -> list[Rule]:
    """The rules of ``values`` (``parse``), those nginx refuses left out.  A dotted
    quad in the usual form is read here in one step (``_ipv4``'s first; 1,000,000
    ``allow`` lines are read in one check); anything else by ``parse``."""
    found: list[Rule] = []
    append = found.append
    for value in values:
        args = value.args
        if len(args) == 1:
            address = args[0]
            if "/" not in address and ":" not in address and address != "all":
                try:
                    number = int.from_bytes(inet_pton(AF_INET, address), "big")
                except (OSError, ValueError):
                    number = _INADDR_NONE  # not the usual form: ``parse`` reads it
                if number != _INADDR_NONE:
                    append(Rule(value, value.directive, address, "ip", 4, number, 32))
                    continue
        rule = parse(value)
        if rule is not None:
            append(rule)
    return found


_SHAPE = attrgetter("kind", "version", "prefix")
_ADDRESS = attrgetter("address")


def first_covering(found: list[Rule]) -> list[int | None]:
    """For each rule of ``found`` (in order), the index of the first earlier rule that
    covers it (``Rule.covers``), or None: one entry per rule.

    Linear in the rules times the distinct prefix lengths written: an earlier IP rule
    covers a network exactly when it is one of that network's supernets, so each rule
    looks its supernets up by (version, prefix length, masked address) instead of
    comparing itself with every earlier rule (100,000 ``allow`` lines took minutes).
    """
    if found and len(set(map(_SHAPE, found))) == 1 and found[0].kind == "ip":
        # one family and one prefix length (a list of /32 addresses): a rule is covered
        # exactly by the first earlier rule of its own network
        networks = list(map(_ADDRESS, found))
        firsts = dict(zip(reversed(networks), range(len(networks) - 1, -1, -1), strict=True))
        return [None if first == index else first
                for index, first in enumerate(map(firsts.__getitem__, networks))]
    every: int | None = None  # the first "all"
    unix: int | None = None  # the first "unix:"
    # (version, prefix, address) -> index, the three packed in one int (a million
    # tuples as keys cost twice the time)
    first: dict[int, int] = {}
    # per version, the prefix lengths seen so far and their masks
    masks: dict[int, dict[int, int]] = {4: {}, 6: {}}
    result: list[int | None] = []
    for index, rule in enumerate(found):
        best = every
        kind = rule.kind
        if kind == "ip":
            version, prefix, address = rule.version, rule.prefix, rule.address
            seen = masks[version]
            tag = version == 6
            for length, mask in seen.items():
                if length <= prefix:
                    earlier = first.get((address & mask) << 9 | length << 1 | tag)
                    if earlier is not None and (best is None or earlier < best):
                        best = earlier
            key = address << 9 | prefix << 1 | tag
            if key not in first:
                first[key] = index
                if prefix not in seen:
                    bits = 32 if version == 4 else 128
                    seen[prefix] = ((1 << prefix) - 1) << (bits - prefix)
        elif kind == "unix":
            if unix is None:
                unix = index
            elif best is None or unix < best:
                best = unix
        elif kind == "all" and every is None:
            every = index
        result.append(best)
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
