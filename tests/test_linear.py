"""RE2 answers exactly as Python's re wherever nglint lets it (nglint.semantics.linear)."""

from __future__ import annotations

import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nglint.semantics import pcre
from nglint.semantics.linear import captures_repeated, linear, usable
from nglint.semantics.pcre import RegexTooCostly, search, translate_pcre

# pieces of nginx regexes as written in location and server_name blocks
ATOMS = st.sampled_from([
    "a", "b", "/", "-", ".", "\\.", "\\w", "\\W", "\\d", "\\s", "\\S", "[a-z]", "[^/]",
    "[\\w-]", "[[:alpha:]]", "x", "K", "\\b", "\\B", "^", "$", "\\z", "\\Z", "\\A",
])
QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "*?", "+?"])


@st.composite
def patterns(draw: st.DrawFn, depth: int = 2) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth and draw(st.booleans()):
            inner = [draw(patterns(depth - 1)) for _ in range(draw(st.integers(1, 3)))]
            kind = draw(st.sampled_from(["(", "(?:", "(?i:", f"(?<n{depth}>"]))
            parts.append(kind + "|".join(inner) + ")")
        else:
            parts.append(draw(ATOMS))
        parts[-1] += draw(QUANTIFIERS)
    return "".join(parts)


SUBJECTS = st.text(alphabet="abAB/-._xK0 \t\n\x0b\xe9\xc9", max_size=12).map(
    lambda text: text.encode("latin-1"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns(), st.booleans(), st.lists(SUBJECTS, min_size=1, max_size=5))
def test_re2_agrees_with_re(pattern: str, caseless: bool, subjects: list[bytes]) -> None:
    compiled, _reason = translate_pcre(pattern, caseless)
    if compiled is None:
        return
    fast = linear(compiled)
    if fast is None:
        return
    for subject in subjects:
        if not usable(subject):
            continue
        slow = compiled.search(subject)
        found = fast.search(subject)
        assert (found is None) == (slow is None), (pattern, caseless, subject)
        if slow is not None and not captures_repeated(compiled):
            # (a repeated group's last capture differs: search() asks re for those)
            assert found.span() == slow.span(), (pattern, subject)
            assert found.groups() == slow.groups(), (pattern, subject)
        if slow is not None:
            assert search(compiled, subject).groups() == slow.groups(), (pattern, subject)


@pytest.mark.parametrize(("pattern", "caseless", "subject"), [
    ("a$", False, b"a\n"),  # PCRE and re: $ before a final newline; RE2: the end only
    ("a\\sb", False, b"a\x0bb"),  # \s holds VT in PCRE2 and re, not in RE2
    ("\\B", False, b""),  # \B: no match on b"" in Python, a match in PCRE2 and RE2
])
def test_subjects_where_re2_differs_go_to_re(pattern: str, caseless: bool,
                                             subject: bytes) -> None:
    compiled, _ = translate_pcre(pattern, caseless)
    assert compiled is not None and linear(compiled) is not None
    fast, slow = linear(compiled).search(subject), compiled.search(subject)
    assert (fast is None) != (slow is None)  # the engines disagree on this subject...
    assert not usable(subject)  # ...so search() does not ask RE2
    assert (search(compiled, subject) is None) == (compiled.search(subject) is None)


def test_redos_pattern_is_linear() -> None:
    compiled, _ = translate_pcre("^/(?:[\\w-]+/?)+\\.(?:png|css|js)$", True)
    assert compiled is not None and linear(compiled) is not None
    subject = b"/api/kernels/0b6d3f50-9c1e-4c5e-8f3e-6a2f9d1c7b42" * 20 + b"/channels"
    assert search(compiled, subject) is None  # re alone backtracks for ages here


def test_backtracking_fallback_pays_once_and_says_unknown() -> None:
    compiled, _ = translate_pcre("^(?:a+)+(?<!~)$")  # a lookbehind: not for RE2
    assert compiled is not None and linear(compiled) is None
    subject = b"a" * 40 + b"!"
    with pytest.raises(RegexTooCostly):
        search(compiled, subject)
    assert pcre.ran_out(compiled) == subject
    with pytest.raises(RegexTooCostly):  # at once, for any subject
        search(compiled, b"aaa")


def test_fallback_outside_the_main_thread_is_bounded() -> None:
    compiled, _ = translate_pcre("^(?:b+)+(?<!~)$")
    outcome: list[object] = []

    def worker() -> None:
        try:
            outcome.append(search(compiled, b"b" * 40 + b"!"))
        except RegexTooCostly as error:
            outcome.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], RegexTooCostly)


def test_rewrites() -> None:
    assert linear(re.compile(rb"a\Z")).search(b"a") is not None
    assert linear(re.compile(rb"(a)\1")) is None


def test_without_lookarounds_keeps_classes_escapes_and_the_rest():
    """The RE2 prefilter's pattern: every lookaround removed, nothing else (a ``(`` in a
    character class or after a backslash opens no group)."""
    from nglint.semantics.linear import without_lookarounds

    cases = {
        r"a(?<![\w.-])b(?!c[)])d\(?=x": r"abd\(?=x",
        r"[(?=]x": r"[(?=]x",
        r"x(?=[)])y": "xy",
        r"[]a]b(?!z)": "[]a]b",
        r"[^]]q(?<=q)": "[^]]q",
        r"(?:^|/)code(?:/|$)": r"(?:^|/)code(?:/|$)",
        r"(?<![a-z0-9])hub(?![a-z0-9])": "hub",
    }
    for pattern, expected in cases.items():
        assert without_lookarounds(pattern) == expected, pattern
