"""``nglint route``: which server and location serve a URI, and what is in force there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nglint.semantics import locations, routing
from nglint.semantics.inherit import Model, Value
from nglint.tree import Node, Tree

REPORTED = ("proxy_pass", "proxy_http_version", "proxy_read_timeout", "proxy_send_timeout",
            "proxy_buffering", "client_max_body_size")


def _value(value: Value | None) -> dict[str, Any] | None:
    if value is None:
        return None
    node = value.node
    return {"value": value.value, "file": node.path if node else None,
            "line": node.line if node else None}


def effective(model: Model, block: Node) -> dict[str, Any]:
    result: dict[str, Any] = {name: _value(model.effective(block, name)) for name in REPORTED}
    result["proxy_set_header"] = {
        value.args[0]: _value(Value("proxy_set_header", value.args[1:], value.node))
        for value in model.proxy_headers(block).values()
    }
    return result


def route(trees: Sequence[Tree], uris: Sequence[str], host: str | None,
          model: Model) -> list[dict[str, Any]]:
    """One object per URI and server that may serve it (every server without a host)."""
    answers = []
    for uri in uris:
        for tree in trees:
            for server, match in routing.route(tree, uri, host=host):
                location = match.location
                answer: dict[str, Any] = {
                    "uri": uri,
                    "server": {"file": server.path, "line": server.line,
                               "names": [a for n in server.directives("server_name")
                                         for a in n.args]},
                    "location": None,
                    "unknown": match.unknown,
                    "redirect": match.redirect,
                    "effective": effective(model, location or server),
                }
                if location is not None:
                    info = locations.location_info(location)
                    answer["location"] = {"file": location.path, "line": location.line,
                                          "modifier": info.modifier, "path": info.path}
                answers.append(answer)
    return answers


def render_text(answers: list[dict[str, Any]]) -> str:
    lines = []
    for answer in answers:
        server = answer["server"]
        names = " ".join(server["names"]) or "(no server_name)"
        lines.append(f"{answer['uri']}")
        lines.append(f"  server   {names}  {server['file']}:{server['line']}")
        location = answer["location"]
        if location is None:
            state = "unknown (nglint cannot decide it: see NG013)" if answer["unknown"] else "none"
            lines.append(f"  location {state}")
        else:
            modifier = f"{location['modifier']} " if location["modifier"] else ""
            redirect = "  (301 to the path with a slash)" if answer["redirect"] else ""
            lines.append(f"  location {modifier}{location['path']}  "
                         f"{location['file']}:{location['line']}{redirect}")
        for name, value in answer["effective"].items():
            if name == "proxy_set_header":
                for header, header_value in value.items():
                    lines.append(f"  {'proxy_set_header ' + header:<34} "
                                 f"{_show(header_value)}")
            else:
                lines.append(f"  {name:<34} {_show(value)}")
    return "\n".join(lines) + "\n"


def _show(value: dict[str, Any] | None) -> str:
    if value is None:
        return "-"
    where = f"{value['file']}:{value['line']}" if value["file"] else "nginx default"
    return f"{value['value'] or chr(34) * 2}  ({where})"
