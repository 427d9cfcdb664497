"""``# nglint: ignore[...] reason``: what a suppression covers, NG009 and NG014."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import findings as lint_all
from tests.helpers import write

# the rules these tests are about: others may fire on the samples as rules are added
RULES = ("NG003", "NG004", "NG009", "NG014")

# NG003 (invalid-value) and NG004 (undefined-variable) report on the directive's own line
BODY = """events {}
http {
    server {
        listen 80;
        location / {
            proxy_read_timeout 10x;{inline}
            proxy_set_header X-Id $nope;
        }
    }
}
"""


def body(inline: str) -> str:
    return BODY.replace("{inline}", inline)


def findings(path: Path) -> list:
    return lint_all(path, select=RULES)


def lint(tmp_path: Path, text: str, select: tuple[str, ...] = RULES) -> list[tuple[str, int]]:
    path = write(tmp_path, text)
    return [(f.code, f.line) for f in lint_all(path, select=select)]


def test_control_without_suppression(tmp_path: Path) -> None:
    assert lint(tmp_path, body("")) == [("NG003", 6), ("NG004", 7)]


def test_on_the_line(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG003] a test of the parser")
    assert lint(tmp_path, text) == [("NG004", 7)]


def test_by_name_case_insensitive_and_several_rules(tmp_path: Path) -> None:
    text = body(" proxy_set_header X-Tag $nope;  "
                "# NGLINT: IGNORE[ng003, Undefined-Variable] legacy include")
    assert lint(tmp_path, text) == [("NG004", 7)]


def test_alone_on_the_line_above(tmp_path: Path) -> None:
    text = body("").replace(
        "            proxy_read_timeout",
        "            # nglint: ignore[invalid-value] rendered by the deploy script\n"
        "            proxy_read_timeout")
    assert lint(tmp_path, text) == [("NG004", 8)]


def test_two_lines_above_covers_nothing(tmp_path: Path) -> None:
    text = body("").replace(
        "            proxy_read_timeout",
        "            # nglint: ignore[NG003] too far away\n\n            proxy_read_timeout")
    assert lint(tmp_path, text) == [("NG009", 6), ("NG003", 8), ("NG004", 9)]


def test_inline_comment_does_not_cover_the_next_line(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG004] meant for the next line")
    assert lint(tmp_path, text) == [("NG003", 6), ("NG009", 6), ("NG004", 7)]


def test_block_opening_line_covers_the_block(tmp_path: Path) -> None:
    text = body("").replace(
        "    server {", "    server {  # nglint: ignore[NG003,NG004] generated server")
    assert lint(tmp_path, text) == []


def test_comment_before_the_brace_covers_the_block(tmp_path: Path) -> None:
    text = body("").replace(
        "        location / {", "        location /  # nglint: ignore[NG003] generated\n"
        "        {")
    assert lint(tmp_path, text) == [("NG004", 8)]


def test_comment_after_a_closing_brace_covers_that_line_only(tmp_path: Path) -> None:
    text = body("").replace(
        "        }\n    }", "        }  # nglint: ignore[NG003] closing line\n    }")
    assert lint(tmp_path, text) == [("NG003", 6), ("NG004", 7), ("NG009", 8)]


def test_without_reason_suppresses_and_warns(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG003]")
    path = write(tmp_path, text)
    found = findings(path)
    assert [(f.code, f.line) for f in found] == [("NG014", 6), ("NG004", 7)]
    assert str(found[0].severity) == "warning" and "without a reason" in found[0].message
    assert found[0].column == 38  # the comment itself


def test_punctuation_is_not_a_reason(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG003] --")
    assert ("NG014", 6) in lint(tmp_path, text)


def test_unknown_rule_and_malformed(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG003,NG999] partly wrong")
    found = findings(write(tmp_path, text))
    assert [(f.code, f.line) for f in found] == [("NG014", 6), ("NG004", 7)]
    assert "'NG999'" in found[0].message
    text = body("  # nglint: ignore NG003 no brackets")
    found = findings(write(tmp_path, text))
    assert [(f.code, f.line) for f in found] == [("NG003", 6), ("NG014", 6), ("NG004", 7)]
    assert "malformed" in found[1].message


def test_unused_is_info_and_names_the_rule(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG003,jupyter-origin-blanked] two reasons")
    found = lint_all(write(tmp_path, text), select=(*RULES, "NG107"))
    unused = [f for f in found if f.code == "NG009"]
    assert len(unused) == 1 and str(unused[0].severity) == "info"
    assert "jupyter-origin-blanked" in unused[0].message and "NG003" not in unused[0].message


def test_unused_only_for_rules_that_ran(tmp_path: Path) -> None:
    text = body("  # nglint: ignore[NG003] a test")
    assert lint(tmp_path, text, select=("NG004", "NG009")) == [("NG004", 7)]
    assert lint(tmp_path, text, select=("NG003", "NG009")) == []


def test_other_comments_are_not_suppressions(tmp_path: Path) -> None:
    text = body("  # nglint: app=jupyter").replace(
        "listen 80;", "listen 80;  # nglint ignore me: not the syntax, not a suppression")
    assert lint(tmp_path, text) == [("NG003", 6), ("NG004", 7)]


def test_same_line_number_in_another_file_is_not_covered(tmp_path: Path) -> None:
    write(tmp_path, "server {\n    listen 80;\n    proxy_read_timeout 10x;\n}\n", "inc.conf")
    main = write(tmp_path, "events {}\nhttp {\n    include inc.conf;  "
                 "# nglint: ignore[NG003] the include is vendored\n}\n")
    found = [(Path(f.path).name, f.code, f.line) for f in findings(main)]
    assert ("inc.conf", "NG003", 3) in found and ("nginx.conf", "NG009", 3) in found


def test_suppression_in_a_file_included_twice_is_used_once(tmp_path: Path) -> None:
    write(tmp_path, "proxy_read_timeout 10x;  # nglint: ignore[NG003] vendored\n",
          "timeouts.conf")
    main = write(tmp_path, "events {}\nhttp {\n"
                 "    server { listen 80; include timeouts.conf; }\n"
                 "    server { listen 81; include timeouts.conf; }\n}\n")
    assert findings(main) == []
