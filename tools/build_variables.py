#!/usr/bin/env python3
"""Build ``nglint/data/variables.json``: the variables nginx and the installed modules define.

Where each name comes from (recorded per entry in its ``source`` field):

``source``
    ``ngx_string("name")`` entries of the ``ngx_http_variable_t`` /
    ``ngx_stream_variable_t`` arrays in the nginx source at the given tag
    (``git show <tag>:src/...`` of a bare clone), each kept only when the
    installed nginx confirms it (``probe``) or marked ``not-built`` when this
    build lacks its module (``$spdy``, ``$secure_link``...).
``probe``
    The installed nginx (Debian's 1.22.1 with every ``libnginx-mod-*`` module
    loaded) answers ``nginx -t`` on ``set $vN $name;`` lines.  nginx checks
    every variable used against every variable defined when it reads the
    configuration (``ngx_http_variables_init_vars``, ``ngx_stream_variables_init_vars``)
    and names the first unknown one (``unknown "name" variable``): removing it
    and running again until the test passes sorts every candidate.  Candidates
    are the source's names, nglint's curated list and the identifier-like
    strings of each module's binary that start with the module's own prefix
    (``echo_``, ``nchan_``, ``memc_``, ``srcache_``, ``geoip_``...).
``prefixes``
    The families nginx resolves by prefix (``$http_*``, ``$arg_*``...):
    ``ngx_http_variables_init_vars`` / ``ngx_http_upstream_module`` prefix
    tables, each probed with a made-up suffix.

Usage (where nginx and the modules are installed)::

    python tools/build_variables.py [--repo /work/.mirror/nginx+nginx/repo] [--tag release-1.22.1]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "nglint" / "data" / "variables.json"
sys.path.insert(0, str(REPO / "tools"))

from build_directives import module_order, strings_of  # noqa: E402

MODULE_DIR = "/usr/lib/nginx/modules"
# module file stem -> the prefixes of the variables it defines (candidates from its strings)
MODULE_PREFIXES = {
    "ngx_http_echo_module": ("echo_",), "ngx_nchan_module": ("nchan_",),
    "ngx_http_memc_module": ("memc_",), "ngx_http_srcache_filter_module": ("srcache_",),
    "ngx_http_geoip_module": ("geoip_",), "ngx_stream_geoip_module": ("geoip_",),
    "ngx_http_uploadprogress_module": ("upload",), "ngx_http_brotli_filter_module": ("brotli",),
    "ngx_http_lua_module": ("lua_",), "ngx_http_js_module": ("js_",),
    "ngx_http_perl_module": ("perl_",), "ngx_http_auth_pam_module": ("pam_",),
    "ngx_http_fancyindex_module": ("fancyindex",), "ngx_http_cache_purge_module": ("purge",),
}
# families resolved by prefix (ngx_http_variables.c ngx_http_variable_prefixes and
# the upstream module's; nginx_variables docs), probed with a made-up suffix
HTTP_PREFIXES = ("http_", "sent_http_", "sent_trailer_", "cookie_", "arg_",
                 "upstream_http_", "upstream_trailer_", "upstream_cookie_")
STREAM_PREFIXES: tuple[str, ...] = ()
ARRAY = re.compile(r"static\s+ngx_(http|stream)_variable_t\s+\w+\[\]\s*=\s*\{(.*?)\n\};",
                   re.S)
NAME = re.compile(r'ngx_string\("([A-Za-z0-9_]+)"\)')
UNKNOWN = re.compile(r'unknown "([^"]+)" variable')
MADE_UP = "nglint_made_up_zz"


def source_names(repo: str, tag: str) -> dict[str, set[str]]:
    """{"http": names, "stream": names} from the variable arrays at ``tag``."""
    files = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", tag, "src/"],
                           capture_output=True, text=True, check=True).stdout.split()
    found: dict[str, set[str]] = {"http": set(), "stream": set()}
    for name in files:
        if not name.endswith(".c"):
            continue
        text = subprocess.run(["git", "-C", repo, "show", f"{tag}:{name}"],
                              capture_output=True, text=True, check=True).stdout
        for match in ARRAY.finditer(text):
            # "arg_", "http_"...: the prefix tables are variable arrays too (HTTP_PREFIXES)
            found[match.group(1)].update(n for n in NAME.findall(match.group(2))
                                         if not n.endswith("_"))
    return found


def config(kind: str, names: list[str], modules: list[str], workdir: str) -> str:
    loads = "".join(f"load_module {m};\n" for m in modules)
    sets = "".join(f"        set $nglint_v{i} ${name};\n" for i, name in enumerate(names))
    if kind == "http":
        body = f"http {{\n    server {{\n        listen 127.0.0.1:1;\n{sets}    }}\n}}\n"
    else:
        body = (f"stream {{\n    server {{\n        listen 127.0.0.1:1;\n{sets}"
                "        return x;\n    }\n}\n")
    return f"{loads}pid {workdir}/nginx.pid;\nevents {{}}\n{body}"


def nginx_test(binary: str, text: str, workdir: str) -> str:
    """stderr of ``nginx -t`` on ``text`` ('' when it passes)."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf", dir=workdir, delete=False) as handle:
        handle.write(text)
    try:
        proc = subprocess.run([binary, "-t", "-q", "-p", workdir, "-c", handle.name,
                               "-g", "error_log /dev/null;"],
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        os.unlink(handle.name)
    return "" if proc.returncode == 0 else proc.stderr


def probe(binary: str, kind: str, candidates: list[str], modules: list[str],
          workdir: str) -> tuple[set[str], set[str]]:
    """(known, unknown) among ``candidates`` (the elimination loop of the docstring)."""
    left = list(dict.fromkeys(candidates))
    unknown: set[str] = set()
    while left:
        err = nginx_test(binary, config(kind, left, modules, workdir), workdir)
        if not err:
            break
        found = UNKNOWN.search(err)
        if not found or found.group(1) not in left:
            raise RuntimeError(f"unexpected nginx -t answer: {err.strip()}")
        unknown.add(found.group(1))
        left.remove(found.group(1))
    return set(left), unknown


def module_candidates(modules: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module in modules:
        stem = Path(module).stem
        prefixes = MODULE_PREFIXES.get(stem)
        if not prefixes:
            continue
        found[stem] = {s for s in strings_of(module)
                       if s.startswith(prefixes) and re.fullmatch(r"[a-z][a-z0-9_]{2,60}", s)}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default="/work/.mirror/nginx+nginx/repo")
    parser.add_argument("--tag", default="release-1.22.1")
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from nglint.semantics.variables import CURATED

    modules = module_order(MODULE_DIR)
    version = subprocess.run([args.nginx, "-v"], capture_output=True, text=True,
                             check=False).stderr.strip().split("/")[-1]
    from_source = source_names(args.repo, args.tag)
    by_module = module_candidates(modules)
    out: dict[str, object] = {
        "generated": datetime.date.today().isoformat(),
        "nginx": version,
        "source": (f"nginx source {args.tag} (ngx_*_variable_t arrays) and nginx -t on the "
                   f"installed nginx {version} with {len(modules)} dynamic modules loaded "
                   "(tools/build_variables.py)"),
        "modules": [Path(m).name for m in modules],
    }
    with tempfile.TemporaryDirectory() as workdir:
        os.makedirs(os.path.join(workdir, "logs"), exist_ok=True)
        for kind in ("http", "stream"):
            candidates = sorted(from_source[kind] | (set(CURATED) if kind == "http" else set()))
            owners: dict[str, str] = {}
            for stem, names in by_module.items():
                if ("stream" in stem) == (kind == "stream"):
                    for name in names:
                        owners.setdefault(name, stem)
            candidates += sorted(set(owners) - set(candidates))
            known, _ = probe(args.nginx, kind, candidates, modules, workdir)
            table = {}
            for name in sorted(set(candidates)):
                if name in known:
                    table[name] = {"source": "source+probe" if name in from_source[kind]
                                   else "probe", "module": owners.get(name, "nginx")}
                elif name in from_source[kind]:
                    table[name] = {"source": "source", "built": False}
            out[kind] = table
            prefixes = HTTP_PREFIXES if kind == "http" else STREAM_PREFIXES
            ok, _ = probe(args.nginx, kind, [p + "nglint_x" for p in prefixes], modules,
                          workdir)
            out[f"{kind}_prefixes"] = sorted(p for p in prefixes if p + "nglint_x" in ok)
        made_up, _ = probe(args.nginx, "http", [MADE_UP], modules, workdir)
        if made_up:
            raise RuntimeError("nginx accepted a made-up variable: the probe is broken")
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(out['http'])} http, {len(out['stream'])} stream names")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
