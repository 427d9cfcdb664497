"""Helpers shared by the tests of reading and parsing an edited file again
(``tests/test_relex.py``, ``tests/test_reparse.py``): text changes, generated and made."""

from __future__ import annotations

from hypothesis import strategies as st

from nglint.edits import Edit, apply

# (start, end, text): replace ``old[start:end]`` with ``text``, as a test writes it
Change = tuple[int, int, str]


def as_edits(changes: list[Change]) -> list[Edit]:
    """The ``Edit``s of ``changes``, in a file named ``x.conf``."""
    return [Edit("x.conf", start, end, text) for start, end, text in changes]


def edited(text: str, changes: list[Change]) -> str:
    """``text`` with ``changes`` made (``nglint.edits.apply``)."""
    return apply(text, as_edits(changes))


def change_cases(texts: st.SearchStrategy[str], inserts: st.SearchStrategy[str], reach: int,
            min_points: int = 0, max_points: int = 6
            ) -> st.SearchStrategy[tuple[str, list[Change]]]:
    """A text drawn from ``texts`` and changes apart from one another, in order: each
    replaces up to ``reach`` characters from a drawn point with a drawn insert."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, list[Change]]:
        old = draw(texts)
        points = sorted(draw(st.lists(st.integers(0, len(old)), min_size=min_points,
                                      max_size=max_points)))
        found: list[Change] = []
        position = 0
        for point in points:
            if point < position:
                continue
            end = draw(st.integers(point, min(len(old), point + reach)))
            found.append((point, end, draw(inserts)))
            position = end
        return old, found

    return build()
