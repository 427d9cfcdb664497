"""Run nglint's security rules over gixy's reference configurations and compare.

gixy's convention (``tests/plugins/simply/<plugin>/``): ``*_fp.conf`` must not fire,
every other ``*.conf`` must.  Usage::

    python tools/gixy_agreement.py /work/shared/reference/gixy/simply

Prints one line per configuration and the agreement per plugin.  Not part of the test
suite (the suite must not read the reference copy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nglint import registry
from nglint.discover import discover
from nglint.engine import Options, lint

# gixy plugin -> the nglint rule that covers it
COUNTERPARTS = {"origins": "NG220", "valid_referers": "NG220"}


def main(root: str) -> int:
    for plugin, code in COUNTERPARTS.items():
        agree = total = 0
        for path in sorted((Path(root) / plugin).glob("*.conf")):
            expected = not path.name.endswith("_fp.conf")
            options = Options()
            first = path.read_text(encoding="utf-8").splitlines()[:1]
            if first and first[0].startswith("# Options:"):  # gixy's per-file options
                given = json.loads(first[0].partition(":")[2])
                options.rule_options = {"origin-referer-regex": {
                    "https-only": bool(given.get("https_only"))}}
            found = [f for f in lint(discover([str(path)]), registry.select([code]), options)
                     if f.code == code]
            total += 1
            agree += bool(found) == expected
            verdict = "agree" if bool(found) == expected else "DISAGREE"
            print(f"{plugin}/{path.name}: gixy {'fires' if expected else 'silent'}, "
                  f"{code} {'fires' if found else 'silent'}: {verdict}")
        print(f"== {plugin} vs {code}: {agree}/{total} agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/gixy/simply"))
