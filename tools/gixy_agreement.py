"""Run nglint's security rules over gixy's reference configurations and compare.

gixy's convention (``tests/plugins/simply/<plugin>/`` in yandex/gixy): ``*_fp.conf``
must not fire, every other ``*.conf`` must.  Usage::

    python tools/gixy_agreement.py [../shared/reference/gixy/simply]

Prints one line per configuration, the agreement per plugin, and exits 1 when any
configuration disagrees.  Not part of the test suite (the suite must not read the
reference copy; each rule has its own fixtures under ``fixtures/rules/``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from nglint import registry
from nglint.discover import discover
from nglint.engine import Options, lint


def _any(_message: str) -> bool:
    return True


# gixy plugin -> the nglint rule that covers it, and which of its findings count
COUNTERPARTS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "ssrf": ("NG201", _any),
    "host_spoofing": ("NG202", _any),
    "http_splitting": ("NG203", _any),
    "alias_traversal": ("NG210", _any),
    "add_header_redefinition": ("NG211", lambda message: "several lines" not in message),
    "add_header_multiline": ("NG211", lambda message: "several lines" in message),
    "origins": ("NG220", _any),
    "valid_referers": ("NG220", _any),
}


def _options(path: Path) -> Options:
    """gixy's per-file options (a first line ``# Options: {...}``), as nglint's."""
    options = Options()
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if first and first[0].startswith("# Options:"):
        given = json.loads(first[0].partition(":")[2])
        options.rule_options = {"origin-referer-regex": {
            "https-only": bool(given.get("https_only"))}}
    return options


def main(root: str) -> int:
    disagreements = 0
    for plugin, (code, counts) in COUNTERPARTS.items():
        agree = total = 0
        for path in sorted((Path(root) / plugin).glob("*.conf")):
            expected = not path.name.endswith("_fp.conf")
            found = [f for f in lint(discover([str(path)]), registry.select([code]),
                                     _options(path))
                     if f.code == code and counts(f.message)]
            total += 1
            ok = bool(found) == expected
            agree += ok
            print(f"{'ok ' if ok else 'DIS'} {plugin}/{path.name}: gixy "
                  f"{'fires' if expected else 'silent'}, {code} "
                  f"{'fires' if found else 'silent'}")
        disagreements += total - agree
        print(f"== {plugin} vs {code}: {agree}/{total} agree")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/gixy/simply"))
