"""Helpers shared by the tests of reading and parsing an edited file again
(``tests/test_relex.py``, ``tests/test_reparse.py``): text changes, generated and made."""

from __future__ import annotations

from hypothesis import strategies as st

# (start, end, text): replace ``old[start:end]`` with ``text`` (``nglint.relex.Change``)
Change = tuple[int, int, str]


def edited(text: str, changes: list[Change]) -> str:
    """``text`` with ``changes`` made, in the order ``nglint.edits.apply`` makes them."""
    pieces, position = [], 0
    for start, end, inserted in sorted(changes, key=lambda c: (c[0], c[1])):
        pieces += [text[position:start], inserted]
        position = end
    return "".join([*pieces, text[position:]])


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
