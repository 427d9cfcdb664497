#!/usr/bin/env python3
"""Run nglint's security checks over gixy's reference configurations and report agreement.

gixy's convention: in ``<dir>/<plugin>/``, a ``*_fp.conf`` must not fire, every
other ``*.conf`` must.  Usage::

    python tools/compare_gixy.py /work/shared/reference/gixy/simply

Not part of the test suite (the reference configurations are not shipped);
nglint's own equivalents live in ``fixtures/rules/<rule-name>/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nglint import registry
from nglint.discover import discover
from nglint.engine import Options, lint

PLUGINS = {"ssrf": "NG201", "host_spoofing": "NG202", "http_splitting": "NG203"}


def main(root: str) -> int:
    total_disagree = 0
    for plugin, code in PLUGINS.items():
        folder = Path(root) / plugin
        agree = 0
        rows = []
        for path in sorted(folder.glob("*.conf")):
            expected = not path.name.endswith("_fp.conf")
            found = [f for f in lint(discover([str(path)]), registry.select([code]), Options())
                     if f.code == code]
            ok = bool(found) == expected
            agree += ok
            verdict = "ok  " if ok else "DIFF"
            rows.append(f"  {verdict} {path.name:45} gixy={'fire' if expected else 'silent'}"
                        f" nglint={'fire' if found else 'silent'}")
        print(f"{plugin} ({code}): {agree}/{len(rows)} agree")
        print("\n".join(rows))
        total_disagree += len(rows) - agree
    return 1 if total_disagree else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/gixy/simply"))
