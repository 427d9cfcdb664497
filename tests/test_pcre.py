"""nglint.semantics.pcre: nginx (PCRE2, no UTF) regexes as Python byte patterns.

Three oracles: tables, the PCRE2 library nginx links (libpcre2-8 through
ctypes, property-tested on generated patterns with option settings) and a
running nginx (location regexes answering whether they matched).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nglint.semantics.pcre import translate_pcre
from nglint.semantics.uri import normalize_uri, to_bytes
from tests.nginx_harness import http_get, nginx_launcher

# --------------------------------------------------------------------------- tables

@pytest.mark.parametrize(("pcre", "python"), [
    (r"\.php$", rb"\.php$"),
    (r"^/(?<user>\w+)/(?'tab'\d+)$", rb"^/(?P<user>\w+)/(?P<tab>\d+)$"),
    (r"(?<=a)b(?<!c)", rb"(?<=a)b(?<!c)"),  # lookbehinds are not named groups
    (r"(?P<x>a)(?P=x)\k<x>\k'x'\k{x}", rb"(?P<x>a)(?P=x)(?P=x)(?P=x)(?P=x)"),
    (r"\Qa.b*\E+", rb"a\.b\*+"),
    (r"a\z", rb"a\Z"),
    (r"a\Z", rb"a(?=\n?\Z)"),
    (r"[[:alpha:]_]+", rb"[a-zA-Z_]+"),
    (r"x{,3}", rb"x\{,3}"),  # a literal for PCRE2 10.42, a quantifier for Python
    (r"x{2,3}y{2}z{1,}", rb"x{2,3}y{2}z{1,}"),
    (r"(?>a+)b++c*+", rb"(?>a+)b++c*+"),
    (r"[]a]", rb"[]a]"),
    (r"[^]a[]", rb"[^]a\[]"),
    (r"(?i)abc", rb"(?i:abc)"),  # option settings become scoped groups
    (r"a(?#note)b", rb"ab"),
    (r"(a)?(?(1)b|c)", rb"(a)?(?(1)b|c)"),
    ("\\é\\_", "\\é\\_".encode()),  # escaped bytes and symbols are themselves
])
def test_translate_pcre(pcre, python):
    compiled, reason = translate_pcre(pcre)
    assert reason == ""
    assert compiled is not None and compiled.pattern == python


@pytest.mark.parametrize("pcre", [
    r"^/files/\K.*", r"^(\((?R)?\))$", r"(a)(?1)", r"(?<n>a)(?&n)", r"(*UTF)a", r"(*SKIP)a",
    r"\g{1}", r"(a)\g1", r"a\hb", r"a\vb", r"\R", r"\N", r"\x{41}", r"\e", r"\cA",
    r"(?<n>a)?(?(<n>)b|c)", r"(?(R)a|b)", r"(?(?=a)a|b)", r"(?x) a b", r"(?|a|b)",
    r"\p{L}", r"[[:^alpha:]]", r"[[.a.]]", r"[\h]", r"(", r"a**",
])
def test_translate_pcre_unsupported(pcre):
    compiled, reason = translate_pcre(pcre)
    assert compiled is None and reason


def test_translated_regexes_match_bytes_like_pcre_without_utf():
    one_byte, _ = translate_pcre(r"^/.$")
    assert one_byte is not None
    assert one_byte.search("/é".encode()) is None  # two bytes: PCRE (no UTF) sees two
    word, _ = translate_pcre(r"^/\w+$", caseless=True)
    assert word is not None and word.search(b"/Ab_9") and not word.search("/é".encode())


@pytest.mark.parametrize(("pcre", "python"), [
    # pcre2pattern "Internal option setting": to the end of the enclosing group,
    # later alternatives of that group included
    (r"a(?i)b|c", rb"a(?i:b)|(?i:c)"),
    (r"^/(?i)api/", rb"^/(?i:api/)"),
    (r"(a(?i)b|c)d|e", rb"(a(?i:b)|(?i:c))d|e"),
    (r"(?i:a(?-i)b|c)d", rb"(?i:a(?-i:b)|(?-i:c))d"),
    (r"(?i)a(?s)b|c", rb"(?i:a(?s:b))|(?is:c)"),
    (r"(?i)a(?i)b", rb"(?i:ab)"),  # no change, no group
    (r"(?i-s:a)", rb"(?i:a)"),
    (r"(?-i)a", rb"a"),
    (r"(?^)a", rb"a"),
    (r"[(?i)]a", rb"[(?i)]a"),  # in a class: characters
    (r"\((?i)a\)", rb"\((?i:a\))"),  # escaped parentheses are characters
    (r"(?<n>a(?i)b)(?P=n)", rb"(?P<n>a(?i:b))(?P=n)"),
    (r"(?m)^a$", rb"(?:\A|(?<=\n)(?!\Z))a(?=\n|\Z)"),  # PCRE2's multiline ^ and $
    (r"a(?m)|^b$", rb"a|(?:\A|(?<=\n)(?!\Z))b(?=\n|\Z)"),
])
def test_option_settings(pcre, python):
    compiled, reason = translate_pcre(pcre)
    assert reason == ""
    assert compiled is not None and compiled.pattern == python


def test_option_settings_with_caseless_location():
    compiled, _ = translate_pcre(r"a(?-i)b|c", caseless=True)  # location ~* a(?-i)b|c
    assert compiled is not None and compiled.pattern == rb"a(?-i:b)|(?-i:c)"
    assert compiled.search(b"Ab") and not compiled.search(b"AB") and not compiled.search(b"C")
    reset, _ = translate_pcre(r"(?^)a", caseless=True)  # (?^) unsets the caseless option too
    assert reset is not None and not reset.search(b"A")


@pytest.mark.parametrize("pcre", [
    r"a(?x)b", r"(?x:a)", r"a(?xx)b", r"a(?n)b", r"(?J)a", r"(?U)a+", r"(?)a", r"(?-)a",
    r"(?^-i)a", r"(?i", r"a)", r"(a", r"(?ia)b", r"(?L)a",
])
def test_option_settings_refused(pcre):
    compiled, reason = translate_pcre(pcre)
    assert compiled is None and reason


# --------------------------------------------------------------------------- libpcre2 oracle

def _libpcre2() -> ctypes.CDLL | None:
    for name in (ctypes.util.find_library("pcre2-8"), "libpcre2-8.so.0"):
        if name:
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
    return None


LIB = _libpcre2()
PCRE2_CASELESS = 0x00000008
PCRE2_ERROR_NOMATCH = -1


def pcre2_span(pattern: str, subject: bytes, caseless: bool) -> tuple[int, int] | str | None:
    """The span PCRE2 matches (as nginx compiles: only PCRE2_CASELESS), None, or
    "error" when PCRE2 refuses the pattern."""
    assert LIB is not None
    lib = LIB
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
    code_bytes = to_bytes(pattern)
    error, offset = ctypes.c_int(), ctypes.c_size_t()
    code = lib.pcre2_compile_8(code_bytes, ctypes.c_size_t(len(code_bytes)),
                               ctypes.c_uint32(PCRE2_CASELESS if caseless else 0),
                               ctypes.byref(error), ctypes.byref(offset), None)
    if not code:
        return "error"
    data = lib.pcre2_match_data_create_from_pattern_8(ctypes.c_void_p(code), None)
    try:
        found = lib.pcre2_match_8(ctypes.c_void_p(code), subject, ctypes.c_size_t(len(subject)),
                                  ctypes.c_size_t(0), ctypes.c_uint32(0),
                                  ctypes.c_void_p(data), None)
        if found == PCRE2_ERROR_NOMATCH:
            return None
        assert found >= 0, found
        vector = lib.pcre2_get_ovector_pointer_8(ctypes.c_void_p(data))
        return vector[0], vector[1]
    finally:
        lib.pcre2_match_data_free_8(ctypes.c_void_p(data))
        lib.pcre2_code_free_8(ctypes.c_void_p(code))


@pytest.fixture(scope="module")
def libpcre2():
    if LIB is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but libpcre2-8 (the library nginx links) is missing")
        pytest.skip("libpcre2-8 is not installed; set CI=1 to make this a failure")
    return LIB


ATOMS = st.sampled_from(["a", "A", "b", "B", ".", "[ab]", "[^a]", "\\n", "\\w", "a+", "b?"])
ANCHORS = st.sampled_from(["^", "$"])
SETTINGS = st.sampled_from(["(?i)", "(?-i)", "(?s)", "(?-s)", "(?m)", "(?-m)", "(?^)", "(?i-s)",
                            "(?^i)", "(?im)", "(?s-i)", "(?is)", "(?-im)"])
OPENERS = st.sampled_from(["(", "(?:", "(?i:", "(?-i:", "(?^:", "(?s-i:", "(?m:", "(?=", "(?>"])


def _patterns() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        group = st.tuples(OPENERS, inner, st.sampled_from(["", "*", "?", "+"])).map(
            lambda parts: f"{parts[0]}{parts[1]}){parts[2]}")
        item = st.one_of(ATOMS, ANCHORS, SETTINGS, group)
        sequence = st.lists(item, max_size=5).map("".join)
        return st.lists(sequence, min_size=1, max_size=3).map("|".join)

    return st.recursive(st.lists(st.one_of(ATOMS, ANCHORS, SETTINGS), max_size=4).map("".join),
                        extend, max_leaves=12)


SUBJECTS = st.lists(st.binary(max_size=6).map(
    lambda raw: bytes(b"aAbB\n.x"[byte % 7] for byte in raw)), min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(pattern=_patterns(), caseless=st.booleans(), subjects=SUBJECTS)
def test_translation_matches_like_libpcre2(libpcre2, pattern, caseless, subjects):
    if pcre2_span(pattern, b"", caseless) == "error":
        assume(False)  # nginx would refuse the file
    compiled, reason = translate_pcre(pattern, caseless)
    assert compiled is not None, (pattern, reason)  # these are all translatable
    for subject in subjects:
        found = compiled.search(subject)
        ours = None if found is None else found.span()
        assert ours == pcre2_span(pattern, subject, caseless), (pattern, caseless, subject,
                                                                 compiled.pattern)


@pytest.mark.parametrize(("pattern", "subject"), [
    (r"(?m)\n^", b"a\n"), (r"(?m)\n^", b"a\nb"), (r"(?m)^$", b"\n"), (r"(?m)^$", b"a\n\n"),
    (r"(?m)a$", b"a\nb"), (r"a$", b"a\n"), (r"a$", b"a\nb"), (r"(?m)$\n", b"a\n\n"),
    (r"(?s)a.b", b"a\nb"), (r"a.b", b"a\nb"), (r"x(?s)|a.b", b"a\nb"), (r"(?^)a.b", b"a\nb"),
])
def test_anchors_and_dots_match_like_libpcre2(libpcre2, pattern, subject):
    """PCRE2's multiline '^' does not match after a final newline (Python's does)."""
    compiled, _ = translate_pcre(pattern)
    assert compiled is not None
    found = compiled.search(subject)
    assert (None if found is None else found.span()) == pcre2_span(pattern, subject, False)


# --------------------------------------------------------------------------- nginx oracle

NGINX_PATTERNS = [
    ("~", r"^/(?i)api/"), ("~", r"^/a(?i)b|^/c"), ("~", r"^/(x(?i)y|z)w"), ("~", r"(?i)^/MiXeD$"),
    ("~", r"^/(?i:a)(?-i)b|^/q(?i)q"), ("~", r"^/(?s)a.b$"), ("~", r"^/n.b$"), ("~", r"(?m)^b$"),
    ("~", r"^/m(?m)$"), ("~", r"^/(?i)k(?^)k"), ("~*", r"^/j(?-i)j|^/h"), ("~*", r"^/(?^)g"),
    ("~", r"^/u(?i:u(?-i)u|v)v"), ("~", r"(?m)\n^"), ("~", r"^/e(?m)$\n"),
]
NGINX_URIS = [
    "/api/", "/API/", "/Api/x", "/ab", "/aB", "/Ab", "/c", "/C", "/xyw", "/xYw", "/XYw", "/zw",
    "/Zw", "/zW", "/mixed", "/MIXED", "/a%0Ab", "/aXb", "/n%0Ab", "/nxb", "/x%0Ab", "/x%0Ab%0A",
    "/m", "/m%0A", "/m%0Ax", "/kk", "/Kk", "/kK", "/jj", "/Jj", "/jJ", "/h", "/H", "/g", "/G",
    "/a%0A", "/a%0Ab", "/e%0A", "/e%0A%0A", "/uuuv", "/uUuV", "/uUUv", "/uvv", "/uVv", "/uVV",
    "/qq", "/qQ", "/Qq", "/Ab",
]


def test_option_settings_agree_with_nginx(tmp_path_factory):
    launcher = nginx_launcher(tmp_path_factory.mktemp("nginx"), "regex option settings")
    servers = "".join(
        f'server {{ listen 127.0.0.1:PORT; server_name p{index}; '
        f'location / {{ return 200 "none"; }} '
        f'location {modifier} "{pattern}" {{ return 200 "match"; }} }}\n'
        for index, (modifier, pattern) in enumerate(NGINX_PATTERNS))
    rows = []
    try:
        with launcher.start(servers) as instance:
            for index, (modifier, pattern) in enumerate(NGINX_PATTERNS):
                compiled, reason = translate_pcre(pattern, modifier == "~*")
                assert compiled is not None, (pattern, reason)
                for uri in NGINX_URIS:
                    got = http_get("127.0.0.1", instance.port, uri.encode(),
                                   f"p{index}".encode()).body.decode()
                    path = normalize_uri(uri)
                    assert path is not None
                    model = "match" if compiled.search(to_bytes(path)) else "none"
                    if got != model:
                        rows.append(f"{modifier} {pattern!r} {uri!r}: nginx={got} model={model}")
    finally:
        launcher.stop_all()
    assert not rows, "\n".join(rows)
