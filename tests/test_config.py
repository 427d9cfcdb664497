"""Configuration files: found upward, validated strictly, overridden by the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nglint import config
from nglint.cli import main
from nglint.errors import NglintError
from nglint.findings import Severity
from nglint.registry import Rule, all_rules, lookup
from nglint.versions import VersionRange
from tests.helpers import FIXTURES, write

SEED = (FIXTURES / "examples" / "jupyter-seed.conf").read_text(encoding="utf-8")
# Jupyter at / with a proxy_read_timeout of 1h and a 50m body limit: clean by default
TUNED = """events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            client_max_body_size 50m;
        }
    }
}
"""


def run(*args: str) -> tuple[int, list[dict], str]:
    """Exit status, findings of ``check --format json``, stderr."""
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    found = json.loads(result.stdout)["findings"] if result.stdout.strip() else []
    return result.exit_code, found, result.stderr


def codes(found: list[dict]) -> set[str]:
    return {f["code"] for f in found}


def test_pyproject_is_found_upward_from_the_linted_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "deploy" / "nginx", SEED, "jupyter.conf")
    status, found, _ = run(str(conf))
    assert "NG108" in codes(found) and status == 1  # the control: it fires without config
    write(tmp_path, '[project]\nname = "x"\n\n[tool.nglint]\nignore = ["NG108"]\n',
          "pyproject.toml")
    _, found, _ = run(str(conf))
    assert "NG108" not in codes(found) and "NG101" in codes(found)


def test_pyproject_without_an_nglint_table_is_passed_over(tmp_path: Path) -> None:
    conf = write(tmp_path / "deploy", SEED, "jupyter.conf")
    write(tmp_path / "deploy", '[tool.black]\nline-length = 90\n', "pyproject.toml")
    write(tmp_path, 'ignore = ["jupyter-body-size"]\n', ".nglint.toml")
    assert config.find(str(conf)) == str(tmp_path / ".nglint.toml")
    _, found, _ = run(str(conf))
    assert "NG108" not in codes(found)


def test_nglint_toml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    write(tmp_path, '[tool.nglint]\nignore = ["NG101"]\n', "pyproject.toml")
    write(tmp_path, 'ignore = ["NG102"]\n', ".nglint.toml")
    conf = write(tmp_path, SEED, "jupyter.conf")
    _, found, _ = run(str(conf))
    assert "NG102" not in codes(found) and "NG101" in codes(found)


def test_each_path_is_linted_with_its_own_configuration(tmp_path: Path) -> None:
    first = write(tmp_path / "a", SEED, "jupyter.conf")
    second = write(tmp_path / "b", SEED, "jupyter.conf")
    write(tmp_path / "a", 'ignore = ["NG101"]\n', ".nglint.toml")
    write(tmp_path / "b", 'select = ["NG101"]\n', ".nglint.toml")
    _, found, _ = run(str(first), str(second))
    by_file = {path: {f["code"] for f in found if f["path"] == path}
               for path in (str(first), str(second))}
    assert "NG101" not in by_file[str(first)] and "NG102" in by_file[str(first)]
    assert by_file[str(second)] == {"NG101"}


def test_command_line_replaces_configured_keys(tmp_path: Path) -> None:
    write(tmp_path, 'select = ["NG101"]\nfail-on = "warning"\n', ".nglint.toml")
    conf = write(tmp_path, SEED, "jupyter.conf")
    _, found, _ = run(str(conf))
    assert codes(found) == {"NG101"}
    _, found, _ = run("--select", "NG104", str(conf))
    assert codes(found) == {"NG104"}
    status, _, _ = run("--select", "NG104", str(conf))  # a warning, fail-on from the file
    assert status == 1
    status, _, _ = run("--select", "NG104", "--fail-on", "error", str(conf))
    assert status == 0


def test_explicit_config_option(tmp_path: Path) -> None:
    conf = write(tmp_path / "etc", SEED, "jupyter.conf")
    settings = write(tmp_path / "elsewhere", 'select = ["NG102"]\n', "lint.toml")
    _, found, _ = run("--config", str(settings), str(conf))
    assert codes(found) == {"NG102"}


def test_severity_overrides_by_code_and_name(tmp_path: Path) -> None:
    write(tmp_path, '[severity]\nNG104 = "error"\njupyter-body-size = "info"\n',
          ".nglint.toml")
    conf = write(tmp_path, SEED, "jupyter.conf")
    _, found, _ = run(str(conf))
    levels = {f["code"]: f["severity"] for f in found}
    assert levels["NG104"] == "error" and levels["NG108"] == "info"


def test_rule_options_thresholds_and_fix_value(tmp_path: Path) -> None:
    conf = write(tmp_path, TUNED, "jupyter.conf")
    _, found, _ = run("--select", "NG1", str(conf))
    assert found == []  # the control: 1h and 50m pass the default thresholds
    write(tmp_path, 'select = ["NG1"]\n'
          '[rules.websocket-read-timeout]\nthreshold = "2h"\nfix-value = "3d"\n'
          '[rules.jupyter-body-size]\nthreshold = "100m"\n', ".nglint.toml")
    _, found, _ = run(str(conf))
    assert {f["code"]: f["severity"] for f in found} == {"NG104": "error", "NG108": "warning"}
    diff = CliRunner().invoke(main, ["check", "--diff", str(conf)])
    assert "+            proxy_read_timeout 3d;" in diff.stdout


def test_nginx_version_and_jupyter_prefix_reach_the_options(tmp_path: Path) -> None:
    path = write(tmp_path, 'nginx-version = "1.24"\njupyter-prefix = "/lab"\n', ".nglint.toml")
    settings = config.settle(config.load(str(path)))
    assert settings.options.nginx_version == VersionRange.single((1, 24, 0))
    assert settings.options.jupyter_prefixes == ("/lab/",)
    overridden = config.settle(config.load(str(path)), nginx_version="1.22-1.29.7",
                               jupyter_prefixes=["/hub/"])
    assert overridden.options.nginx_version == VersionRange((1, 22, 0), (1, 29, 7))
    assert overridden.options.jupyter_prefixes == ("/hub/",)


def test_exclude_skips_fragments_and_hides_included_files(tmp_path: Path) -> None:
    write(tmp_path / "legacy", "server { listen 80\n", "broken.conf")  # a syntax error
    write(tmp_path, "events {}\nhttp { include legacy/old.conf; }\n", "nginx.conf")
    write(tmp_path / "legacy", "server { listen 80; location / { proxy_read_timeout 5x; } }\n",
          "old.conf")
    status, found, _ = run("--select", "NG001,NG003", str(tmp_path))
    assert {(Path(f["path"]).name, f["code"]) for f in found} == {
        ("broken.conf", "NG001"), ("old.conf", "NG003")}  # the control
    write(tmp_path, 'exclude = ["legacy"]\nselect = ["NG001", "NG003"]\n', ".nglint.toml")
    status, found, _ = run(str(tmp_path))
    assert found == [] and status == 0


def test_exclude_globs() -> None:
    settings = config.Config(path="/srv/conf/.nglint.toml",
                             exclude=["legacy/*", "*.tmpl.conf", "sites-available"])
    assert settings.excluded("/srv/conf/legacy/a.conf")
    assert settings.excluded("/srv/conf/legacy/deep/a.conf")
    assert settings.excluded("/srv/conf/x/site.tmpl.conf")
    assert settings.excluded("/srv/conf/sites-available/default")
    assert not settings.excluded("/srv/conf/sites-enabled/default")
    assert not settings.excluded("/srv/other/legacy/a.conf")  # outside the file's folder


BAD = [
    ("bogus = 1\n", "bogus"),
    ('select = "NG101"\n', "select"),
    ('select = ["NG999"]\n', "select"),
    ('ignore = ["no-such-rule"]\n', "ignore"),
    ("nginx-version = 1.24\n", "nginx-version"),
    ('nginx-version = "one"\n', "nginx-version"),
    ('nginx-version = "1.30-1.18"\n', "nginx-version"),
    ('jupyter-prefix = "jupyter"\n', "jupyter-prefix"),
    ('fail-on = "fatal"\n', "fail-on"),
    ('exclude = "legacy"\n', "exclude"),
    ('severity = "error"\n', "severity"),
    ('[severity]\nNG104 = "critical"\n', "severity.NG104"),
    ('[severity]\nNG999 = "error"\n', "severity.NG999"),
    ("[rules.no-such-rule]\nx = 1\n", "rules.no-such-rule"),
    ('[rules.websocket-read-timeout]\nthreshhold = "1h"\n',
     "rules.websocket-read-timeout.threshhold"),
    ('[rules.websocket-read-timeout]\nthreshold = "soon"\n',
     "rules.websocket-read-timeout.threshold"),
    ('[rules.websocket-read-timeout]\nfix-value = "2k"\n',
     "rules.websocket-read-timeout.fix-value"),
    ("[rules.websocket-read-timeout]\nthreshold = true\n",
     "rules.websocket-read-timeout.threshold"),
    ('[rules.jupyter-body-size]\nthreshold = "big"\n', "rules.jupyter-body-size.threshold"),
    ("[rules.syntax-error]\nx = 1\n", "rules.syntax-error.x"),
]


@pytest.mark.parametrize(("text", "key"), BAD, ids=[key for _, key in BAD])
def test_bad_configuration_exits_2_naming_key_and_file(tmp_path: Path, text: str,
                                                       key: str) -> None:
    path = write(tmp_path, text, ".nglint.toml")
    conf = write(tmp_path, SEED, "jupyter.conf")
    status, found, stderr = run(str(conf))
    assert status == 2 and found == []
    assert f"'{key}'" in stderr and str(path) in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1


def test_bad_pyproject_key_is_named_with_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool.nglint]\nselet = ["NG101"]\n', "pyproject.toml")
    status, _, stderr = run(str(write(tmp_path, SEED, "jupyter.conf")))
    assert status == 2 and "'tool.nglint.selet'" in stderr and str(path) in stderr


def test_invalid_toml_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "select = [\n", ".nglint.toml")
    status, _, stderr = run(str(write(tmp_path, SEED, "jupyter.conf")))
    assert status == 2 and str(path) in stderr and "invalid TOML" in stderr


def test_list_option(tmp_path: Path) -> None:
    if "unknown-directive" not in {rule.name for rule in all_rules()}:
        pytest.skip("no rule with a list option (unknown-directive) in this checkout")
    path = write(tmp_path, '[rules.unknown-directive]\nextra-directives = ["rtmp", "vod_*"]\n',
                 ".nglint.toml")
    assert config.load(str(path)).rule_options == {
        "unknown-directive": {"extra-directives": ["rtmp", "vod_*"]}}
    path.write_text('[rules.unknown-directive]\nextra-directives = "rtmp"\n')
    with pytest.raises(NglintError, match=r"rules\.unknown-directive\.extra-directives"):
        config.load(str(path))


def test_option_kinds_declared_and_inferred() -> None:
    timeout = lookup("websocket-read-timeout")
    assert config.option_kind(timeout, "threshold") == "time"  # "60s" is only a time
    sized = Rule("NG999", "sized", Severity.WARNING, False, "", lambda context: iter(()),
                 {"threshold": "2m"}, option_kinds={"threshold": "size"})
    reader = config._Reader("x.toml", "")
    assert reader.options("rules.sized", sized, {"threshold": "1g"}) == {"threshold": "1g"}
    with pytest.raises(NglintError, match=r"rules\.sized\.threshold"):
        reader.options("rules.sized", sized, {"threshold": "1h"})  # a time, not a size
    undeclared = Rule("NG998", "undeclared", Severity.WARNING, False, "",
                      lambda context: iter(()), {"threshold": "2m"})
    assert config.option_kind(undeclared, "threshold") == "time-or-size"  # "2m" is both
    flags = Rule("NG997", "flags", Severity.INFO, False, "", lambda context: iter(()),
                 {"strict": False, "names": []})
    assert reader.options("rules.flags", flags, {"strict": True, "names": ["a"]}) == {
        "strict": True, "names": ["a"]}
    with pytest.raises(NglintError, match=r"rules\.flags\.strict"):
        reader.options("rules.flags", flags, {"strict": "yes"})
