"""Agreement of nglint's security checks with gixy's reference configurations.

Not part of the test suite (which must not read /work/shared/reference): run it by
hand, ``python tools/gixy_compare.py [GIXY_SIMPLY_DIR]``.  gixy's convention: every
``*_fp.conf`` must stay silent, every other ``*.conf`` must fire.  Prints one line per
config and the agreement per gixy plugin; exit status 1 on any disagreement.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nglint import registry
from nglint.discover import discover
from nglint.engine import Options, lint

DEFAULT = Path("/work/shared/reference/gixy/simply")
# gixy plugin -> (nglint code, does this finding belong to the plugin)
PLUGINS = {
    "alias_traversal": ("NG210", lambda message: True),
    "add_header_redefinition": ("NG211", lambda message: "several lines" not in message),
    "add_header_multiline": ("NG211", lambda message: "several lines" in message),
}


def main(argv: list[str]) -> int:
    base = Path(argv[1]) if len(argv) > 1 else DEFAULT
    disagreements = 0
    for plugin, (code, belongs) in PLUGINS.items():
        agree = total = 0
        for conf in sorted((base / plugin).glob("*.conf")):
            expect = not conf.name.endswith("_fp.conf")
            found = [f for f in lint(discover([str(conf)]), registry.select([code]), Options())
                     if belongs(f.message)]
            ok = bool(found) == expect
            total += 1
            agree += ok
            disagreements += not ok
            print(f"{'ok ' if ok else 'DIS'} {plugin}/{conf.name}: gixy "
                  f"{'fires' if expect else 'silent'}, nglint "
                  f"{'fires' if found else 'silent'}"
                  + "".join(f"\n      {f.line}: [{f.severity.name.lower()}] {f.message}"
                            for f in found))
        print(f"== {plugin} -> {code}: {agree}/{total} agree\n")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
