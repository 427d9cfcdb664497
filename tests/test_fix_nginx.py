"""``nginx -t`` accepts what ``--fix`` writes, whenever it accepted the file before.

For every fixture and every ``../shared/corpus`` file: the file is fixed in a scratch
copy (safe fixes, then with ``--unsafe-fixes``; ``--nginx-version`` is the local nginx's,
as a user targeting it would run), and the original and each fixed text
get the same stubbing so nginx can test them here: certificates point at one
self-signed pair, ``ssl_dhparam``/``pid``/``user``/``load_module`` go, log, cache and
temp paths move into the scratch directory, every ``include`` reads an empty stub,
``@PLACEHOLDER@``s of the e2e templates are filled in, and a fragment is wrapped in
``events {} http { ... }`` for the context nglint inferred for it; host names nginx
would resolve at start-up become 127.0.0.1, and a ``listen ... ssl`` server in a file
with no certificate at all gets the test pair.  When nginx -t
accepts the stubbed original, it must accept every stubbed fixed text.  A file nginx
rejects before the fix is skipped with nginx's reason (unless the fixed text is accepted:
the fix repaired it); the counts are summed up in the last test's warning.

Skipped when nginx is missing, except in CI (``CI`` set), where that fails; the corpus
part skips when ``../shared/corpus`` is absent, except in CI.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nglint.edits import Edit, apply
from nglint.engine import Options
from nglint.load import infer_context, parse_file
from nglint.source import SourceFile, Statement, Token
from tests.fix_helpers import fix_paths
from tests.helpers import FIXTURES, SHARED

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                  else None)
CORPUS = SHARED / "corpus"
IN_CI = bool(os.environ.get("CI"))

FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*.conf") if not p.name.endswith(".fixed.conf"))
CORPUS_FILES: list[Path | None] = sorted(CORPUS.glob("*/*.conf")) or [None]

PLACEHOLDERS = {"@NGINX_PORT@": "8080", "@JUPYTER_PORT@": "8888"}  # @PREFIX@: the work dir
REMOVED = {"pid", "user", "load_module", "ssl_dhparam", "lock_file", "ssl_password_file",
           "ssl_stapling_file", "ssl_crl", "working_directory"}
CERTIFICATES = {"ssl_certificate", "ssl_trusted_certificate", "ssl_client_certificate",
                "proxy_ssl_certificate", "proxy_ssl_trusted_certificate"}
KEYS = {"ssl_certificate_key", "proxy_ssl_certificate_key"}
LOGS = {"access_log", "error_log"}
DATA_BLOCKS = {"map", "geo", "types", "split_clients", "charset_map", "match", "upstream"}
KEEP_LOG = ("off", "stderr", "syslog:", "memory:", "/dev/")

OUTCOMES: Counter[str] = Counter()


class Unstubbable(Exception):
    """nglint itself cannot parse the text, so it cannot be stubbed statement by statement."""


@pytest.fixture(scope="module")
def nginx() -> str:
    if NGINX is None:
        if IN_CI:
            pytest.fail("CI is set but nginx is missing (no `nginx` on PATH, no "
                        "/usr/sbin/nginx): fixed files cannot be checked with nginx -t")
        pytest.skip("nginx is not installed (no `nginx` on PATH, no /usr/sbin/nginx); "
                    "set CI=1 to make this a failure")
    return NGINX


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One self-signed certificate and key, and a session ticket key, for every stub."""
    folder = tmp_path_factory.mktemp("pki")
    cert, key = folder / "cert.pem", folder / "key.pem"
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing: no certificate to stub ssl_certificate with")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=test", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    ticket = folder / "ticket.key"
    ticket.write_bytes(os.urandom(80))
    return {"cert": cert, "key": key, "ticket": ticket}


@dataclass
class Stubber:
    """Rewrites one configuration text so this machine's nginx can test it."""

    work: Path
    pki: dict[str, Path]
    count: int = 0
    created: list[Path] = field(default_factory=list)

    def fresh(self, kind: str, suffix: str = "") -> Path:
        self.count += 1
        path = self.work / kind / f"{self.count}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def include(self, pattern: str) -> str:
        if glob.has_magic(pattern):
            folder = self.fresh("stubs")
            folder.mkdir()
            return str(folder / "*.conf")  # matches nothing, as a glob may
        target = self.fresh("stubs", ".conf")
        target.write_text("")
        return str(target)

    def host(self, token: Token, upstreams: set[str]) -> list[tuple[int, int, str]]:
        """A host name nginx would resolve at start-up becomes 127.0.0.1 (an upstream
        name, an address or a variable stays)."""
        value = token.value
        match = re.match(r"^([a-z]+://)?([^/:$\[\]]+)", value)
        if not match or match.group(2) in upstreams or match.group(2) == "localhost" \
                or re.fullmatch(r"[\d.]+", match.group(2)) or value.startswith("unix:"):
            return []
        start = token.start + (1 if token.quoted else 0) + match.start(2)
        return [(start, start + len(match.group(2)), "127.0.0.1")]

    def edits(self, statement: Statement, parent: str,
              upstreams: set[str]) -> list[tuple[int, int, str]]:
        name = statement.directive.value
        args = statement.args
        if statement.terminator is None:
            return []
        if name in REMOVED:
            return [(statement.start, statement.end, "")]
        if name == "proxy_pass" and args:
            return self.host(args[0], upstreams)
        if name == "server" and parent == "upstream" and args:
            return self.host(args[0], set())
        replace: str | None = None
        if not args or "$" in args[0].value:
            replace = None
        elif name in CERTIFICATES:
            replace = str(self.pki["cert"])
        elif name in KEYS:
            replace = str(self.pki["key"])
        elif name == "ssl_session_ticket_key":
            replace = str(self.pki["ticket"])
        elif name in LOGS and not args[0].value.startswith(KEEP_LOG):
            replace = str(self.fresh("logs", ".log"))
        elif name.endswith(("_cache_path", "_temp_path")):
            replace = str(self.fresh("cache"))
        elif name == "include":
            replace = self.include(args[0].value)
        if replace is None:
            return []
        return [(args[0].start, args[0].end, replace)]

    def stub(self, text: str, name: str) -> tuple[str, str]:
        """The stubbed text and the context nglint reads it in."""
        text = text.replace("@PREFIX@", str(self.work))
        for placeholder, value in PLACEHOLDERS.items():
            text = text.replace(placeholder, value)
        source = SourceFile.from_bytes(name, text.encode("utf-8", "surrogateescape"))
        parsed = parse_file(source)
        if parsed.error is not None or parsed.statements is None:
            raise Unstubbable(parsed.error.message if parsed.error else "spans do not align")
        found: list[tuple[int, int, str]] = []
        upstreams: set[str] = set()
        every: list[tuple[Statement, str]] = []
        stack = [(statement, "") for statement in parsed.statements]
        while stack:
            statement, parent = stack.pop()
            every.append((statement, parent))
            name = statement.directive.value
            if name == "upstream" and statement.args:
                upstreams.add(statement.args[0].value)
            if name not in DATA_BLOCKS or name == "upstream":
                stack.extend((child, name) for child in statement.children)
        has_certificate = any(s.directive.value == "ssl_certificate" for s, _ in every)
        for statement, parent in every:
            found.extend(self.edits(statement, parent, upstreams))
            if statement.directive.value == "server" and parent != "upstream" \
                    and not has_certificate and statement.terminator is not None \
                    and any(c.directive.value == "listen" and "ssl" in [a.value for a in c.args]
                            for c in statement.children):
                # `listen ... ssl` without any certificate: give the server the test pair
                end = statement.terminator.end
                found.append((end, end, f" ssl_certificate {self.pki['cert']}; "
                                        f"ssl_certificate_key {self.pki['key']};"))
        edited = apply(source.text, [Edit(name, s, e, t) for s, e, t in found])
        context = infer_context(source)
        if context == "main" and not any(s.directive.value == "events"
                                          for s in parsed.statements):
            edited += source.newline + "events {}" + source.newline
        return edited, context


def wrap(context: str, fragment: str) -> str:
    include = f"include {fragment};"
    if context == "http":
        return f"events {{}}\nhttp {{\n    {include}\n}}\n"
    if context == "server":
        return f"events {{}}\nhttp {{\n    server {{\n        {include}\n    }}\n}}\n"
    return ("events {}\nhttp {\n    server {\n        listen 8080;\n        location / {\n"
            f"            {include}\n        }}\n    }}\n}}\n")


def nginx_test(binary: str, text: str, context: str, work: Path) -> tuple[bool, str]:
    """nginx -t on ``text`` read in ``context``: (accepted, nginx's first complaint)."""
    conf = work / "conf"
    if conf.exists():
        shutil.rmtree(conf)
    conf.mkdir(parents=True)
    (work / "logs").mkdir(exist_ok=True)
    (conf / "fragment.conf").write_bytes(text.encode("utf-8", "surrogateescape"))
    main = conf / "nginx.conf"
    if context == "main":
        shutil.copyfile(conf / "fragment.conf", main)
    else:
        main.write_text(wrap(context, str(conf / "fragment.conf")))
    run = subprocess.run(
        [binary, "-t", "-q", "-p", f"{work}/", "-c", str(main), "-g",
         f"pid {work}/nginx.pid; error_log {work}/logs/error.log;"],
        capture_output=True, text=True, timeout=60)
    complaints = [line for line in run.stderr.splitlines() if "[emerg]" in line]
    reason = complaints[0].split("[emerg]", 1)[1].strip() if complaints else run.stderr.strip()
    reason = re.sub(r"^\d+#\d+: ", "", reason)  # pid#tid
    return run.returncode == 0, reason.replace(str(conf) + "/", "")


def nginx_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=30)
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out.stderr + out.stdout)
    assert found, f"cannot read the version of {binary}: {out.stderr!r}"
    major, minor, patch = (int(g) for g in found.groups())
    return major, minor, patch


def fixed_texts(path: Path, scratch: Path, version: tuple[int, int, int]) -> dict[str, str]:
    """The file after ``--fix`` and after ``--fix --unsafe-fixes`` (scratch copies), for
    the nginx version that tests them (``--nginx-version``)."""
    out: dict[str, str] = {}
    for label, unsafe in (("--fix", False), ("--fix --unsafe-fixes", True)):
        folder = scratch / label.replace(" ", "").replace("-", "")
        folder.mkdir(parents=True)
        copy = folder / path.name
        shutil.copyfile(path, copy)
        result = fix_paths([copy], unsafe=unsafe, options=Options(nginx_version=version))
        data = result.edited.get(os.path.realpath(copy), copy.read_bytes())
        assert copy.read_bytes() == path.read_bytes()  # fix_paths writes nothing
        for real in result.changed:  # only the copy: includes outside it are never edited
            assert real == os.path.realpath(copy), real
        out[label] = data.decode("utf-8", "surrogateescape")
    return out


def check_file(binary: str, pki: dict[str, Path], path: Path, tmp_path: Path) -> None:
    original = path.read_bytes().decode("utf-8", "surrogateescape")
    work = tmp_path / "work"
    work.mkdir()
    stubber = Stubber(work, pki)
    fixed = fixed_texts(path, tmp_path / "fix", nginx_version(binary))
    try:
        stubbed, context = stubber.stub(original, path.name)
    except Unstubbable as error:
        assert all(text == original for text in fixed.values()), (
            "nglint cannot parse the file, yet --fix changed it")
        OUTCOMES["skipped: nglint cannot parse it (NG001)"] += 1
        pytest.skip(f"{path.name}: nglint cannot parse it, so --fix leaves it alone: {error}")
    accepted, reason = nginx_test(binary, stubbed, context, work)
    if not accepted:
        repaired = [label for label, text in fixed.items() if text != original
                    and nginx_test(binary, stubber.stub(text, path.name)[0], context, work)[0]]
        what = reason.split(" in ")[0]
        if repaired:  # e.g. the map of an undefined $connection_upgrade, added by --fix
            OUTCOMES[f"rejected before, accepted after --fix: {what}"] += 1
            return
        OUTCOMES[f"skipped: nginx -t rejects the original: {what}"] += 1
        pytest.skip(f"{path.name}: nginx -t rejects the stubbed original: {reason}")
    changed = 0
    for label, text in fixed.items():
        if text == original:
            continue
        changed += 1
        stubbed_fixed, fixed_context = stubber.stub(text, path.name)
        assert fixed_context == context
        ok, why = nginx_test(binary, stubbed_fixed, context, work)
        assert ok, f"nginx -t accepts the original but not the output of {label}: {why}"
    OUTCOMES["checked, fixed" if changed else "checked, no fix"] += 1


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_stays_valid_for_nginx(nginx: str, pki: dict[str, Path], path: Path,
                                       tmp_path: Path) -> None:
    check_file(nginx, pki, path, tmp_path)


@pytest.mark.parametrize("path", CORPUS_FILES,
                         ids=lambda p: p.name[:60] if p is not None else "absent")
def test_corpus_file_stays_valid_for_nginx(nginx: str, pki: dict[str, Path],
                                           path: Path | None, tmp_path: Path) -> None:
    if path is None:
        if IN_CI:
            pytest.fail(f"{CORPUS} is missing in CI: the corpus cannot be checked")
        pytest.skip(f"shared corpus not found at {CORPUS}")
    check_file(nginx, pki, path, tmp_path)


class NginxCheckSummary(UserWarning):
    """How many files nginx -t checked before and after --fix, and why others were skipped."""


def test_summary() -> None:
    """Runs last in this module: the counts, in pytest's warnings summary."""
    if not OUTCOMES:
        pytest.skip("no file was checked in this run")
    lines = [f"{count:3d} {what}" for what, count in sorted(OUTCOMES.items())]
    warnings.warn(NginxCheckSummary("nginx -t before/after --fix:\n" + "\n".join(lines)),
                  stacklevel=1)
