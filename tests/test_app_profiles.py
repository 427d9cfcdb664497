"""App profiles (``nglint/apps/``): the data is well-formed, and each app's fixtures and the
public corpus give what the websocket rules (NG101-NG105) should say about them.

- every profile: unique names and aliases, endpoints with samples of their template's
  shape, sources, compiling sign patterns of a known kind and weight;
- every app with fixtures (``fixtures/rules/websocket-upgrade-header/<module>_fp.conf`` and
  ``<module>_missing.conf``): the documented recipe is silent for NG101-NG105, the recipe
  without ``Upgrade`` gets NG102 naming the app (``Profile.title``);
- ``../shared/corpus`` (``MANIFEST.tsv``, the ``general`` files): no NG101-NG105 error.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import pytest

import nglint.apps
from nglint.apps import by_name, profiles
from nglint.apps.profile import KINDS, STRONG, WEAK, Profile
from tests.helpers import FIXTURES, SHARED, findings

UPGRADE_FIXTURES = FIXTURES / "rules" / "websocket-upgrade-header"
WEBSOCKET_CODES = ("NG101", "NG102", "NG103", "NG104", "NG105")
CORPUS = SHARED / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"
# apps whose profiles come with an _fp/_missing pair of fixtures (the Jupyter profiles have
# their own fixture folders)
APPS_WITH_FIXTURES = ("code_server", "rstudio", "grafana", "home_assistant", "streamlit",
                      "gradio", "novnc", "node_red")

HAS_VIEW = importlib.util.find_spec("nglint.apps.view") is not None
needs_view = pytest.mark.skipif(not HAS_VIEW, reason="nglint.apps.view (applying profiles to "
                                "a tree) has not landed yet")


def _modules() -> dict[str, Profile]:
    """Module name -> its PROFILE, for every profile module of nglint.apps."""
    found: dict[str, Profile] = {}
    for module in pkgutil.iter_modules(nglint.apps.__path__):
        loaded = importlib.import_module(f"nglint.apps.{module.name}")
        profile = getattr(loaded, "PROFILE", None)
        if isinstance(profile, Profile):
            found[module.name] = profile
    return found


def _shape(template: str) -> re.Pattern[str]:
    """A template's shape: its literal text, each ``<placeholder>`` one or more characters
    that are not a separator (``/``, ``?``, ``&``)."""
    parts = re.split(r"<[^<>]+>", template)
    return re.compile("[^/?&]+".join(re.escape(part) for part in parts))


# --- (a) the data --------------------------------------------------------------------------


def test_profile_names_and_aliases_are_unique() -> None:
    seen: dict[str, str] = {}
    for profile in profiles():
        for name in profile.names():
            assert name == name.lower(), f"{profile.name}: {name!r} is not lower case"
            assert name not in seen, f"{name!r} is both {seen[name]}'s and {profile.name}'s"
            seen[name] = profile.name
            assert by_name(name) is profile
    titles = [p.title for p in profiles()]
    assert len(titles) == len(set(titles))


def test_every_expected_app_has_a_profile_module() -> None:
    modules = _modules()
    for module in APPS_WITH_FIXTURES:
        assert module in modules, f"nglint/apps/{module}.py has no PROFILE"


@pytest.mark.parametrize("profile", profiles(), ids=lambda p: p.name)
def test_profile_is_well_formed(profile: Profile) -> None:
    assert profile.title and profile.symptom
    assert profile.sources and all(s.strip() for s in profile.sources)
    assert profile.endpoints, "no websocket endpoint"
    keys = [e.key for e in profile.endpoints]
    assert len(keys) == len(set(keys)), f"duplicate endpoint keys {keys}"
    for endpoint in profile.endpoints:
        assert endpoint.label
        assert not endpoint.template.startswith("/"), "endpoints are below the base URL"
        assert "<" not in endpoint.sample and ">" not in endpoint.sample
        assert _shape(endpoint.template).fullmatch(endpoint.sample), \
            f"{endpoint.key}: sample {endpoint.sample!r} is not of the shape {endpoint.template!r}"
        assert endpoint.ping is None or endpoint.ping > 0
    for template, sample in profile.mounts:
        assert "<" not in sample
        assert _shape(template).fullmatch(sample), f"mount {sample!r} is not {template!r}"
    assert profile.signs
    for sign in profile.signs:
        assert sign.kind in KINDS
        assert sign.weight in (STRONG, WEAK)
        assert sign.why
        re.compile(sign.pattern)
        assert sign.regex.flags & re.IGNORECASE
    assert profile.needs <= {"http11", "upgrade", "connection", "timeout", "origin"}


@pytest.mark.parametrize("profile", [p for p in profiles() if not p.jupyter],
                         ids=lambda p: p.name)
def test_app_signs_never_claim_jupyter_words(profile: Profile) -> None:
    """Jupyter's own ports, paths and names must never count for another app."""
    jupyter_texts = ("http://127.0.0.1:8888", "/api/kernels/", "jupyter", "jupyterhub",
                     "http://127.0.0.1:8081", "/hub/", "/user/alice/", "/services/x/")
    for sign in profile.signs:
        for text in jupyter_texts:
            assert not sign.regex.search(text), f"{sign.pattern!r} matches {text!r}"


# --- (b), (c) the fixtures -----------------------------------------------------------------


def _fixture_cases(kind: str) -> list[tuple[str, Profile]]:
    modules = _modules()
    return [(module, modules[module]) for module in APPS_WITH_FIXTURES if module in modules
            and (UPGRADE_FIXTURES / f"{module}_{kind}.conf").exists()]


def test_every_app_has_both_fixtures() -> None:
    for module in APPS_WITH_FIXTURES:
        for kind in ("fp", "missing"):
            path = UPGRADE_FIXTURES / f"{module}_{kind}.conf"
            assert path.exists(), f"no {path.relative_to(FIXTURES)}"
        assert (UPGRADE_FIXTURES / f"{module}_missing.fixed.conf").exists()


@needs_view
@pytest.mark.parametrize(("module", "profile"), _fixture_cases("fp"), ids=lambda v: str(v)
                         if isinstance(v, str) else "")
def test_documented_recipe_is_silent(module: str, profile: Profile) -> None:
    found = [f for f in findings(UPGRADE_FIXTURES / f"{module}_fp.conf")
             if f.code in WEBSOCKET_CODES]
    assert found == [], [f"{f.code} {f.line}: {f.message}" for f in found]


@needs_view
@pytest.mark.parametrize(("module", "profile"), _fixture_cases("missing"),
                         ids=lambda v: str(v) if isinstance(v, str) else "")
def test_missing_upgrade_is_reported_for_the_app(module: str, profile: Profile) -> None:
    found = [f for f in findings(UPGRADE_FIXTURES / f"{module}_missing.conf")
             if f.code == "NG102"]
    assert found, f"NG102 did not fire on {module}_missing.conf"
    for finding in found:
        assert profile.title in finding.message, finding.message
        # an endpoint only some versions have (Endpoint.only) is a warning, else an error
        limited = all(endpoint.only for endpoint in profile.endpoints)
        assert str(finding.severity) == ("warning" if limited else "error")
    # nothing else of NG101-NG105: the fixture lacks Upgrade only
    others = [f.code for f in findings(UPGRADE_FIXTURES / f"{module}_missing.conf")
              if f.code in WEBSOCKET_CODES and f.code != "NG102"]
    assert others == []


# --- (d) the public corpus -----------------------------------------------------------------


def _general_corpus() -> list[str]:
    if not MANIFEST.exists():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row["file"] for row in rows if row.get("category") == "general"]


@needs_view
@pytest.mark.skipif(not MANIFEST.exists(),
                    reason=f"{CORPUS} is absent (the shared corpus of public configurations)")
@pytest.mark.parametrize("relative", _general_corpus() or ["-"])
def test_general_corpus_has_no_websocket_error(relative: str) -> None:
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"{path} is listed in MANIFEST.tsv but absent")
    found = [f for f in findings(path) if f.code in WEBSOCKET_CODES
             and str(f.severity) == "error"]
    assert found == [], [f"{f.code} {f.line}: {f.message}" for f in found]


def test_corpus_paths_are_relative_to_the_corpus() -> None:
    """MANIFEST.tsv names files as <category>/<name> (guards the reader above)."""
    for relative in _general_corpus():
        assert relative.startswith("general/") and not Path(relative).is_absolute()


def test_sign_set_finds_what_python_finds():
    """The RE2 set of the signs (``signs._sign_set``: each sign without its lookarounds,
    then confirmed by Python's ``re``) gives exactly the hits of Python's patterns alone
    (``signs._python_hits``): over texts made of every sign's own words, their
    neighbours, cases and separators."""
    import random

    from nglint.apps import signs

    pieces = {" ", "-", "_", ".", "/", ":", "0", "a", "X", "hub", "lab", "8888", "^", "\\"}
    for profile in profiles():
        for sign in profile.signs:
            pieces.update(re.findall(r"[A-Za-z0-9:/._-]{2,}", sign.pattern))
    pieces_list = sorted(pieces)
    generator = random.Random(7)
    checked = 0
    for kind in KINDS:
        assert signs._sign_set(kind) is not None, f"RE2 refused the {kind} signs"
        for _ in range(3000):
            text = "".join(generator.choice(pieces_list)
                           for _ in range(generator.randint(1, 6)))
            text = text.upper() if generator.random() < 0.2 else text
            exact = signs._python_hits(kind, text)
            checked += bool(exact)
            assert signs._search_hits(kind, text) == exact, (kind, text)
    assert checked > 500  # the texts do hold signs: the test compares something
