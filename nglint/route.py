"""``nglint route``: what nginx does with a request, and what is in force where it lands.

Each answer comes from the request model (``nglint.semantics.request``); this
module only shapes it for JSON and text.  The JSON shape is documented in the
README (section "nglint route").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nglint.escape import visible
from nglint.semantics import locations
from nglint.semantics.inherit import Model, Value
from nglint.semantics.request import Outcome, Request, branches, simulate
from nglint.semantics.upstream import Header, upstream_for
from nglint.tree import Node, Tree

REPORTED = ("proxy_pass", "proxy_http_version", "proxy_read_timeout", "proxy_send_timeout",
            "proxy_buffering", "client_max_body_size")


def _where(node: Node | None) -> dict[str, Any]:
    return {"file": node.path if node else None, "line": node.line if node else None}


def _value(value: Value | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": value.value, **_where(value.node)}


def effective(model: Model, block: Node) -> dict[str, Any]:
    """Standard values in force at ``block`` and its ``proxy_set_header`` list, in order."""
    result: dict[str, Any] = {name: _value(model.effective(block, name)) for name in REPORTED}
    upstream = upstream_for(model, block)
    headers: list[Header] = []
    if upstream is not None:
        headers = [*upstream.host_lines, *upstream.headers]
    else:  # not proxied: the lines in force, as written
        for value in model.array(block, "proxy_set_header"):
            if len(value.args) == 2:
                headers.append(Header(value.args[0], value.args[1], value.node))
    result["proxy_set_header"] = [
        {"name": header.name, "value": header.value, "sent": not header.blank,
         **_where(header.node)} for header in headers]
    return result


def _block(node: Node | None) -> dict[str, Any] | None:
    if node is None:
        return None
    if node.directive == "location":
        info = locations.location_info(node)
        return {"kind": "location", "modifier": info.modifier, "path": info.path,
                **_where(node)}
    if node.directive == "if":
        return {"kind": "if", "condition": "(" + " ".join(node.args) + ")", **_where(node)}
    return {"kind": node.directive, **_where(node)}


def _upstream(outcome: Outcome) -> dict[str, Any] | None:
    upstream = outcome.upstream
    if upstream is None:
        return None
    sent = outcome.sent()
    return {"target": upstream.target, "http_version": upstream.http_version.value,
            "keepalive": _value(upstream.keepalive),
            "sent": [{"name": name, "value": value} for name, value in sent]}


def _outcome(model: Model, outcome: Outcome) -> dict[str, Any]:
    block = outcome.block or outcome.server
    return {
        "status": outcome.status,
        "reason": outcome.reason,
        "unknown": outcome.unknown,
        "holds": outcome.holds,
        "serving": _block(outcome.block if outcome.block is not outcome.server else None),
        "steps": [{"kind": step.kind, "target": step.target, **_where(step.node)}
                  for step in outcome.steps],
        "upstream": _upstream(outcome),
        "effective": effective(model, block) if block is not None else None,
    }


def _first_location(outcome: Outcome) -> Node | None:
    """The location the URI selected before any internal redirect."""
    if outcome.steps:
        node: Node | None = outcome.steps[0].node
        while node is not None and node.directive not in ("location", "server"):
            node = node.parent
        return node if node is not None and node.directive == "location" else None
    return outcome.location


def _nobody(request: Request) -> dict[str, Any]:
    """No server of the tree listens where the request arrives: nginx refuses the
    connection, nothing is routed."""
    where = f"{request.address or '*'}:{request.port}" if request.port is not None \
        else (request.address or "any address")
    return {"uri": request.uri, "host": request.host, "listen": None, "server": None,
            "location": None, "redirect": False, "status": None,
            "reason": f"no server listens on {where}", "unknown": False, "holds": True,
            "serving": None, "steps": [], "upstream": None, "effective": None,
            "branches": []}


def route(trees: Sequence[Tree], requests: Sequence[Request],
          model: Model) -> list[dict[str, Any]]:
    """One object per request and address:port group (and server, without a Host)."""
    answers = []
    for request in requests:
        for tree in trees:
            outcomes = simulate(tree, request, model)
            if not outcomes:
                answers.append(_nobody(request))
            for outcome in outcomes:
                server = outcome.server
                answer: dict[str, Any] = {
                    "uri": request.uri,
                    "host": request.host,
                    "listen": outcome.listen.text if outcome.listen else None,
                    "server": {**_where(server),
                               "names": [a for n in server.directives("server_name")
                                         for a in n.args]} if server else None,
                    "location": _block(_first_location(outcome)),
                    "redirect": outcome.redirect,
                    **_outcome(model, outcome),
                    "branches": [{"condition": branch.condition, **_outcome(model, branch)}
                                 for branch in branches(outcome, model)],
                }
                answers.append(answer)
    return answers


def render_text(answers: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for answer in answers:
        host = f"  Host: {answer['host']}" if answer["host"] is not None else ""
        lines.append(f"{answer['uri']}{host}")
        server = answer["server"]
        if server is None:
            lines.append(f"  {answer['reason']}: nginx refuses the connection")
            continue
        names = " ".join(server["names"]) or "(no server_name)"
        lines.append(f"  listen   {answer['listen']}")
        lines.append(f"  server   {names}  {server['file']}:{server['line']}")
        location = answer["location"]
        if location is not None:
            lines.append(f"  location {_describe(location)}")
        _render_outcome(lines, answer, "  ")
        for branch in answer["branches"]:
            holds = {True: "holds for this request", False: "does not hold for this request",
                     None: "may hold"}[branch["holds"]]
            lines.append(f"  if {branch['condition']}  {branch['serving']['file']}:"
                         f"{branch['serving']['line']}  ({holds})")
            _render_outcome(lines, branch, "    ")
    # targets, headers and configuration text may hold control characters: shown escaped
    return "\n".join(visible(line) for line in lines) + "\n"


def _describe(block: dict[str, Any]) -> str:
    where = f"{block['file']}:{block['line']}"
    if block["kind"] == "location":
        modifier = f"{block['modifier']} " if block["modifier"] not in ("", "@") else ""
        return f"{modifier}{block['path']}  {where}"
    if block["kind"] == "if":
        return f"if {block['condition']}  {where}"
    return f"{block['kind']}  {where}"


def _render_outcome(lines: list[str], outcome: dict[str, Any], indent: str) -> None:
    for step in outcome["steps"]:
        lines.append(f"{indent}-> {step['kind']} {step['target']}  "
                     f"{step['file']}:{step['line']}")
    if outcome["unknown"]:
        lines.append(f"{indent}unknown: {outcome['reason']} (nglint cannot decide it: see NG013)")
        return
    serving = outcome["serving"]
    if serving is not None and (outcome["steps"] or serving["kind"] == "if"):
        lines.append(f"{indent}serving  {_describe(serving)}")
    if outcome["status"] is not None:
        lines.append(f"{indent}status   {outcome['status']}  ({outcome['reason']})")
    upstream = outcome["upstream"]
    effective = outcome["effective"] or {}
    for name, value in effective.items():
        if name == "proxy_set_header":
            for header in value:
                if header["file"] is None and (not header["sent"]
                                               or "$proxy_internal_" in header["value"]):
                    continue  # nginx's blanked defaults and request-body headers: noise
                note = "" if header["sent"] else "  [empty: not sent]"
                lines.append(f"{indent}{'proxy_set_header ' + header['name']:<34} "
                             f"{_show(header)}{note}")
        elif outcome["status"] is None or name == "client_max_body_size":
            lines.append(f"{indent}{name:<34} {_show(value)}")
    if upstream is not None:
        if upstream["keepalive"] is not None:
            lines.append(f"{indent}{'keepalive (upstream block)':<34} "
                         f"{_show(upstream['keepalive'])}")
        lines.append(f"{indent}sent upstream (HTTP/{upstream['http_version']}):")
        for header in upstream["sent"]:
            value = header["value"] if header["value"] is not None else "(depends on the request)"
            lines.append(f"{indent}  {header['name']}: {value}")


def _show(value: dict[str, Any] | None) -> str:
    if value is None:
        return "-"
    where = f"{value['file']}:{value['line']}" if value["file"] else "nginx default"
    return f"{value['value'] or chr(34) * 2}  ({where})"
