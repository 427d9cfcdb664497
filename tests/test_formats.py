"""``--format sarif|github|json`` and ``--output``: every formatter reads the same findings."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from nglint.cli import main
from nglint.findings import Finding, Severity
from nglint.registry import all_rules
from nglint.report import github, sarif
from tests.helpers import FIXTURES, write

SEED = FIXTURES / "examples" / "jupyter-seed.conf"
# the official schema (OASIS, errata01); where the copy comes from: tests/data/README.md
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json")
                    .read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA,
                                       format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in VALIDATOR.iter_errors(document)]


def finding(**changes: object) -> Finding:
    values: dict = {"code": "NG102", "rule": "websocket-upgrade-header",
                    "severity": Severity.ERROR, "path": "conf.d/a.conf", "line": 3, "column": 5,
                    "end_line": 3, "end_column": 17, "message": "Upgrade is not forwarded"}
    values.update(changes)
    return Finding(**values)


def test_sarif_is_valid_against_the_official_schema() -> None:
    status, out, _ = check("--format", "sarif", str(SEED))
    assert status == 1
    document = json.loads(out)
    assert errors(document) == []
    # the control: the validator does reject what the schema forbids
    broken = copy.deepcopy(document)
    broken["runs"][0]["results"][0]["level"] = "info"
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"][
        "startLine"] = 0
    assert len(errors(broken)) == 2


def test_sarif_rules_and_results() -> None:
    _, out, _ = check("--format", "sarif", "--select", "NG1", str(SEED))
    run = json.loads(out)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "nglint"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {rule.code for rule in all_rules()}
    upgrade = rules["NG102"]
    assert upgrade["name"] == "websocket-upgrade-header"
    assert upgrade["defaultConfiguration"]["level"] == "error"
    assert "## Why is this bad?" in upgrade["help"]["text"]
    assert rules["NG009"]["defaultConfiguration"]["level"] == "note"  # info
    results = run["results"]
    assert {r["ruleId"] for r in results} >= {"NG101", "NG102", "NG103"}
    first = results[0]
    assert driver["rules"][first["ruleIndex"]]["id"] == first["ruleId"]
    assert first["level"] == "error" and first["message"]["text"]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == SEED.as_uri()  # given as an absolute path
    assert location["region"] == {"startLine": 15, "startColumn": 9, "endLine": 15,
                                  "endColumn": 21}
    warnings = [r for r in results if r["level"] == "warning"]
    assert warnings, "NG102/NG103 hard-coded headers are warnings"


def test_sarif_uris_and_empty_regions() -> None:
    assert sarif.uri("sites-enabled/my site.conf") == "sites-enabled/my%20site.conf"
    assert sarif.uri("./conf.d/a.conf") == "conf.d/a.conf"
    assert sarif.uri("/etc/nginx/nginx.conf") == "file:///etc/nginx/nginx.conf"
    assert sarif.uri("bad\udcff.conf") == "bad%FF.conf"  # a name that is not UTF-8
    point = finding(column=4, end_column=4, code="NG001", rule="syntax-error")
    document = sarif.document([point, finding(path="/abs/x y.conf", severity=Severity.INFO)])
    assert errors(document) == []
    assert "endColumn" not in document["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["region"]
    assert document["runs"][0]["results"][1]["level"] == "note"


def test_github_workflow_commands() -> None:
    line = github.line(finding())
    assert line == ("::error file=conf.d/a.conf,line=3,col=5,endLine=3,endColumn=17,"
                    "title=NG102 websocket-upgrade-header::Upgrade is not forwarded")
    odd = finding(path="a,b:c%d.conf", message="50% of lines\r\nsecond: a, b",
                  severity=Severity.WARNING, end_line=4)
    assert github.line(odd) == ("::warning file=a%2Cb%3Ac%25d.conf,line=3,col=5,"
                                "title=NG102 websocket-upgrade-header::"
                                "50%25 of lines%0D%0Asecond: a, b")
    assert github.line(finding(severity=Severity.INFO)).startswith("::notice ")
    assert "\x1b" not in github.line(finding(message="evil\x1b]0;x\x07"))


def test_github_format_end_to_end() -> None:
    status, out, _ = check("--format", "github", "--select", "NG1", str(SEED))
    assert status == 1
    lines = out.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ")) for line in lines)
    assert f"::error file={str(SEED).replace(':', '%3A')},line=15,col=9," in lines[0]


def test_json_document_shape() -> None:
    _, out, _ = check("--format", "json", str(SEED))
    document = json.loads(out)
    assert set(document) == {"version", "findings", "summary"}
    assert set(document["findings"][0]) == {"code", "rule", "severity", "path", "line",
                                            "column", "end_line", "end_column", "message",
                                            "fixable", "headline", "notes", "related", "via"}
    assert set(document["summary"]) == {"files", "findings", "error", "warning", "info",
                                        "fixable", "files_with_findings"}
    assert document["summary"]["files_with_findings"] == 1
    # message stays the whole text; the headline and notes are its readable parts
    first = document["findings"][0]
    assert first["code"] == "NG101" and first["headline"] in first["message"].replace(
        " (the nginx default)", "")
    assert any(note.startswith("affects the Jupyter") for note in first["notes"])
    hard = [f for f in document["findings"] if f["code"] == "NG102" and f["line"] == 25]
    assert hard and hard[0]["related"] == [
        {"path": str(SEED), "line": 21, "column": 9, "role": "location",
         "message": "served by `location ~ /api/kernels/`"}]


def test_sarif_related_locations() -> None:
    """A finding at a directive carries the serving location as a related location."""
    _, out, _ = check("--format", "sarif", str(SEED))
    results = json.loads(out)["runs"][0]["results"]
    hard = [r for r in results if r["ruleId"] == "NG103"
            and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 26]
    assert hard, results
    (related,) = hard[0]["relatedLocations"]
    assert related["physicalLocation"]["region"] == {"startLine": 21, "startColumn": 9}
    assert related["message"]["text"] == "served by `location ~ /api/kernels/`"
    missing = [r for r in results if r["ruleId"] == "NG102"
               and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 15]
    assert missing and "relatedLocations" not in missing[0]


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_output_file(tmp_path: Path, output_format: str) -> None:
    target = tmp_path / "report.out"
    status, out, _ = check("--format", output_format, "--output", str(target), str(SEED))
    assert status == 1 and out == ""
    written = target.read_text(encoding="utf-8")
    assert "NG102" in written
    if output_format in ("json", "sarif"):
        json.loads(written)


def test_output_to_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    status, _, err = check("--output", str(tmp_path / "no" / "r.json"), str(SEED))
    assert status == 2 and "cannot write the report" in err


def test_statistics(tmp_path: Path) -> None:
    status, out, _ = check("--statistics", "--select", "NG1", str(SEED))
    assert status == 1
    lines = out.splitlines()
    assert "3  NG102  websocket-upgrade-header  (3 fixable)" in lines
    assert "1  NG108  jupyter-body-size" in lines
    counts = [line for line in lines if "  NG" in line and ":" not in line]
    assert counts[0].split()[1] in ("NG102", "NG103")  # most frequent first
    for cache in ([], ["--no-cache"]):  # rendered whole and stored, or written as encoded
        status, out, err = check("--statistics", "--select", "NG1", "--format", "json",
                                 *cache, str(SEED))
        json.loads(out)  # stdout stays one document
        assert "3  NG103  websocket-connection-header  (3 fixable)" in err.splitlines()


def test_sarif_of_a_clean_run_is_valid(tmp_path: Path) -> None:
    conf = write(tmp_path, "events {}\nhttp {}\n")
    status, out, _ = check("--format", "sarif", "--select", "NG1", str(conf))
    assert status == 0
    document = json.loads(out)
    assert document["runs"][0]["results"] == [] and errors(document) == []


@pytest.mark.parametrize("style", ["concise", "full"])
def test_findings_at_one_place_through_two_includes_print_apart(
        tmp_path: Path, style: str) -> None:
    """A snippet included by two servers gives a finding per server at the snippet's
    line; their headlines are the same, so each names the include it came through
    (they printed as one line twice)."""
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "proxy.conf").write_text(
        "proxy_http_version 1.1;\nproxy_set_header Upgrade $http_upgrade;\n"
        'proxy_set_header Connection "upgrade";\nproxy_read_timeout 1d;\n'
        "proxy_set_header Host $proxy_host;\n")
    servers = "".join(
        f"    server {{\n        listen {port};\n        server_name {name}.example;\n"
        f"        location / {{\n            include snippets/proxy.conf;\n"
        "            proxy_pass http://127.0.0.1:8888;\n        }\n    }\n"
        for name, port in (("a", 80), ("b", 8080)))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"events {{}}\nhttp {{\n{servers}}}\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--select", "NG106,NG103",
                                       "--output-format", style, str(conf)])
    heads = [line for line in result.output.splitlines() if "NG106" in line]
    assert len(heads) == 2 and heads[0] != heads[1], result.output
    assert heads[0].endswith(f"(via {conf}:7)") and heads[1].endswith(f"(via {conf}:15)")
    # one finding for both sites (NG103: the same hard-coded line, the same message) is
    # printed as before, without an include
    (alone,) = [line for line in result.output.splitlines() if "NG103" in line]
    assert "(via" not in alone


@pytest.mark.parametrize("ascii_only", [False, True])
def test_json_is_written_as_json_dumps_indents_it(ascii_only: bool) -> None:
    """``json.render`` joins pieces of a few thousand encoder strings: the text is the
    document exactly as ``json.dumps(..., indent=2)`` writes it, for no finding, one,
    and more findings than fit in one piece (non-ASCII and a lone surrogate from a
    file name that is not UTF-8 included)."""
    from nglint.report import json as json_report

    many = [finding(line=n, path=f"conf.d/caf\u00e9-{n}.conf" if n % 7 else "bad\udcff.conf",
                    message=f"n\u2013{n} \U0001f600", notes=[f"note {n}"] * 3)
            for n in range(1, 700)]
    for findings in ([], many[:1], many):
        text = json.dumps(json_report.document(findings, 9), indent=2,
                          ensure_ascii=ascii_only) + "\n"
        expected = text.replace("\udcff", "\\udcff")
        assert len(list(json_report.pieces(findings, 9, ascii_only))) >= (
            3 if len(findings) > 100 else 1)
        assert json_report.render(findings, 9, ascii_only) == expected
        if not ascii_only:
            assert json.loads(expected.replace("\\udcff", "?"))["summary"]["findings"] == \
                len(findings)


def test_json_written_as_encoded_equals_the_cached_text(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """Without a cache the JSON report is written piece by piece; with one it is
    rendered whole and stored: the same bytes, to stdout and to ``--output``."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    outputs = []
    for args in (["--no-cache"], [], []):  # cold, then stored, then a hit
        _, out, _ = check("--format", "json", *args, str(SEED))
        outputs.append(out)
        target = tmp_path / "report.json"
        check("--format", "json", "--output", str(target), *args, str(SEED))
        outputs.append(target.read_text(encoding="utf-8"))
    assert (tmp_path / "cache" / "nglint").is_dir()
    assert len(set(outputs)) == 1 and json.loads(outputs[0])["findings"]


def test_an_output_file_is_written_once_the_report_is_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt while the JSON report is encoded leaves ``--output`` as it was
    (stdout gets the report as it is encoded; a file only the whole report)."""
    from nglint.report import json as json_report

    pieces = json_report.pieces

    def interrupted(*args: object, **kwargs: object) -> Iterator[str]:
        iterator = pieces(*args, **kwargs)  # type: ignore[arg-type]
        yield next(iterator)
        raise KeyboardInterrupt

    target = tmp_path / "report.json"
    target.write_text("the last report\n")
    monkeypatch.setattr(json_report, "pieces", interrupted)
    status, out, _ = check("--no-cache", "--format", "json", "--output", str(target),
                           str(SEED))
    assert status == 2 and out == ""
    assert target.read_text() == "the last report\n"
    status, out, _ = check("--no-cache", "--format", "json", str(SEED))
    assert status == 2 and out.startswith('{\n  "version"')  # stdout: as encoded
