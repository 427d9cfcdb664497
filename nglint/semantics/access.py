"""Access control in force at a block: ``allow``/``deny``, ``auth_basic``, ``auth_request``.

- ``allow`` and ``deny`` are one list in ``ngx_http_access_module`` (``rules``),
  merged all or nothing: a level with either directive replaces every outer
  ``allow`` and ``deny`` (``ngx_http_access_merge_loc_conf``);
- ``auth_basic`` and ``auth_request`` are standard directives; ``off`` switches
  them off (``auth_basic`` needs ``auth_basic_user_file`` too, checked by nginx);
- ``satisfy`` (``all`` by default) says whether every check must pass or any one:
  it weakens access control, it does not add any.

Sources: https://nginx.org/en/docs/http/ngx_http_access_module.html,
https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html,
https://nginx.org/en/docs/http/ngx_http_auth_request_module.html,
https://nginx.org/en/docs/http/ngx_http_core_module.html#satisfy.
"""

from __future__ import annotations

from nglint.semantics.inherit import Model, Value, levels
from nglint.tree import Node


def access_rules(block: Node) -> list[Value]:
    """The ``allow``/``deny`` lines in force at ``block``, in order (one merged array)."""
    for level in levels(block):
        own = [Value(n.directive, tuple(n.args), n) for n in level.directives()
               if n.directive in ("allow", "deny")]
        if own:
            return own
    return []


def access_controls(model: Model, block: Node) -> list[Value]:
    """Every access check nginx makes at ``block``: its ``allow``/``deny`` rules that
    deny someone, ``auth_basic`` and ``auth_request`` unless ``off``."""
    found: list[Value] = []
    rules = access_rules(block)
    if any(rule.directive == "deny" for rule in rules):
        found.extend(rules)
    for directive in ("auth_basic", "auth_request"):
        value = model.effective(block, directive)
        if value is not None and not value.is_default and value.args and \
                value.args[0] != "off":
            found.append(value)
    return found
