"""Issue 11: what a CI user coming from Checkov, cfn-lint or Trivy expects of the command line.

Empty scans and non-IaC file names (pre-commit), --soft-fail, outputs beside the terminal
summary, help texts, colour, --quiet, stdin, config discovery and its JSON Schema, ``init``,
--parameter typos, ``report --fail-on``, ``explain`` aliases and SARIF URIs relative to the
repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard import __version__
from backupguard.cli import app

from conftest import PARAM_TEMPLATE
from backupguard.scanner import NOT_IAC

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NONCOMPLIANT = EXAMPLES / "noncompliant" / "backup-estate.yaml"
runner = CliRunner()


# Files pre-commit passes to a hook that matches YAML and JSON: none of them is IaC.
NOT_IAC_FILES = {
    "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n"
                           "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
    ".github/workflows/ci.yml": "name: CI\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                "    steps:\n      - uses: actions/checkout@v4\n",
    "docker-compose.yml": "x-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n    image: nginx\n",
    "package.json": '{"name": "app", "version": "1.0.0", "scripts": {"test": "jest"}}\n',
    "chart/values.yaml": "replicaCount: 1\nimage:\n  repository: nginx\n  tag: {{ .Chart.AppVersion }}\n"
                         "resources:\n  limits: {cpu: 100m}\n",
    "README.md": "# Infra\n\nOur stacks:\n\n```yaml\nResources:\n  Vault:\n    Type: AWS::Backup::BackupVault\n```\n",
}
BROKEN = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Vault:\n    Type: [AWS::Backup::BackupVault\n"


def lint(*args: str, **kwargs):
    return runner.invoke(app, ["lint", *args], **kwargs)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# ---------------------------------------------------------------------------------------------
# an empty scan is not a green build; pre-commit's file names


def test_a_folder_without_iac_exits_2_unless_empty_scans_are_allowed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "notes.yaml").write_text("just: data\n")
    empty = lint("infra")
    assert empty.exit_code == 2
    assert "backupguard: error: nothing to scan: no CloudFormation template, Terraform configuration, plan or " \
           "backup policy in infra" in empty.stderr
    assert "note: nothing to scan:" in empty.stdout  # in the document too (every report)
    assert lint("infra", "--allow-empty").exit_code == 0
    (tmp_path / "allow.yaml").write_text("allow_empty: true\n")
    assert lint("infra", "--config", "allow.yaml").exit_code == 0
    (tmp_path / "infra" / "stack.yaml").write_text(NONCOMPLIANT.read_text())
    assert lint("infra", "--fail-on", "never").exit_code == 0  # something scanned: not empty


def test_a_missing_path_is_an_error_even_with_allow_empty(tmp_path):
    for args in ([str(tmp_path / "nope")], [str(tmp_path / "nope"), "--allow-empty"]):
        result = lint(*args, "-f", "json")
        assert result.exit_code == 2
        errors = [r for r in json.loads(result.stdout)["results"] if r["status"] == "error"]
        assert [e["message"] for e in errors] == ["no such file or directory"]


def test_named_files_that_are_not_iac_are_skipped_with_a_note_and_exit_0(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, NOT_IAC_FILES)
    result = lint(*NOT_IAC_FILES)
    assert result.exit_code == 0, result.output
    for name in NOT_IAC_FILES:
        assert f"note: {name}: {NOT_IAC}" in result.stdout
    assert "nothing to scan: none of the named files" in result.stdout
    assert result.stderr == ""
    # One workflow file in a commit: nothing to check, the hook passes.
    assert lint(".github/workflows/ci.yml").exit_code == 0


def test_a_named_broken_template_is_still_an_error_beside_skipped_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, NOT_IAC_FILES | {"stacks/broken.yaml": BROKEN, "stacks/good.yaml": NONCOMPLIANT.read_text()})
    result = lint(*NOT_IAC_FILES, "stacks/broken.yaml", "stacks/good.yaml", "-f", "json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert [(r["file"], r["line"]) for r in doc["results"] if r["status"] == "error"] == [("stacks/broken.yaml", 4)]
    assert any(r["file"] == "stacks/good.yaml" and r["status"] == "fail" for r in doc["results"])
    assert doc["scan"]["files"] == ["stacks/broken.yaml", "stacks/good.yaml"]
    assert sorted(n.split(":")[0] for n in doc["scan"]["notes"]) == sorted(NOT_IAC_FILES)


# ---------------------------------------------------------------------------------------------
# --soft-fail and the exit-code table


def test_soft_fail_exits_0_for_findings_errors_and_empty_scans_but_not_for_usage_errors(tmp_path):
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "empty").mkdir()
    cases = [([str(NONCOMPLIANT)], 1), ([str(tmp_path / "broken.yaml")], 2), ([str(tmp_path / "empty")], 2)]
    for args, code in cases:
        assert lint(*args).exit_code == code, args
        soft = lint(*args, "--soft-fail")
        assert soft.exit_code == 0, args
    assert "backupguard: warning: nothing to scan" in lint(str(tmp_path / "empty"), "--soft-fail").stderr
    usage = lint(str(NONCOMPLIANT), "--soft-fail", "--param", "BG101.nope=1")
    assert usage.exit_code == 2 and "has no parameter 'nope'" in usage.stderr


def test_the_exit_codes_are_in_the_help_and_the_readme():
    from backupguard import pipeline

    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for code in (pipeline.EXIT_OK, pipeline.EXIT_FINDINGS, pipeline.EXIT_USAGE, pipeline.EXIT_INCOMPLETE):
        assert f" {code}  " in result.stdout
        assert f"\n| {code} | " in readme
    assert "--soft-fail" in result.stdout and "--soft-fail" in readme and "--allow-empty" in readme
    assert "Exit codes:" in runner.invoke(app, ["lint", "--help"], env={"COLUMNS": "200"}).stdout


# ---------------------------------------------------------------------------------------------
# outputs


def test_outputs_to_files_keep_the_terminal_summary_on_stdout_unless_quiet(tmp_path):
    report = tmp_path / "r.json"
    result = lint(str(NONCOMPLIANT), "-o", f"json={report}")
    assert result.exit_code == 1
    assert "files scanned" not in report.read_text() and json.loads(report.read_text())["results"]
    assert "1 file scanned, " in result.stdout and "BG201" in result.stdout
    report.unlink()
    quiet = lint(str(NONCOMPLIANT), "-o", f"json={report}", "--quiet")
    assert quiet.exit_code == 1 and quiet.stdout == "" and report.is_file()
    assert lint(str(NONCOMPLIANT), "-q").stdout == ""  # no --format, no --output: the exit code is the answer
    assert json.loads(lint(str(NONCOMPLIANT), "-q", "-f", "json").stdout)["results"]  # asked for: written


def test_dash_is_stdout_and_only_one_output_can_be_stdout(tmp_path):
    sarif = tmp_path / "r.sarif"
    result = lint(str(NONCOMPLIANT), "-o", "json=-", "-o", f"sarif={sarif}")
    doc = json.loads(result.stdout)  # only the JSON: no summary after it
    assert doc["results"] and json.loads(sarif.read_text())["version"] == "2.1.0"
    assert json.loads(lint(str(NONCOMPLIANT), "-f", "json", "-o", "-").stdout)["results"]
    twice = lint(str(NONCOMPLIANT), "-o", "json=-", "-o", "sarif=-")
    assert twice.exit_code == 2 and "only one output can go to stdout" in twice.stderr


def test_an_unknown_format_name_is_an_error_listing_the_formats(tmp_path):
    result = lint(str(NONCOMPLIANT), "-o", f"sarf={tmp_path / 'r.sarif'}")
    assert result.exit_code == 2
    assert "unknown format 'sarf'" in result.stderr
    for name in ("csv-controls", "html", "json", "junit", "markdown", "sarif", "text"):
        assert name in result.stderr
    assert not (tmp_path / "r.sarif").exists() and not list(tmp_path.iterdir())
    ok = lint(str(NONCOMPLIANT), "-o", f"SARIF={tmp_path / 'r.sarif'}", "-q")  # format names are not case-sensitive
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0" and ok.exit_code == 1


# ---------------------------------------------------------------------------------------------
# help, version, completion


COMMANDS = ["lint", "scan", "report", "rules", "explain", "frameworks", "init", "iam-policy", "baseline"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_shows_defaults_and_types_as_users_read_them(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())  # help cells wrap: read them as running text
    assert "<list[" not in text and "<bool>" not in text and "<str>" not in text and "<path>" not in text
    assert not re.search(r"\w \.\s", text)  # a swallowed "[default: ...]" leaves "severity ."
    if command in ("lint", "scan", "report"):
        assert "--quiet" in text and "--no-color" in text and "--soft-fail" in text
        assert "[default: text]" in text
    if command in ("lint", "scan"):
        assert "[default: low]" in text  # --fail-on
    if command == "report":
        assert "[default: never]" in text


def test_lint_help_via_the_real_entry_point_shows_the_fail_on_default():
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "backupguard", "lint", "--help"], capture_output=True, text=True, env=env)
    line = next(line for line in done.stdout.splitlines() if "--fail-on" in line)
    assert "[default: low]" in line and "SEVERITY" in line


def test_version_short_option_and_completion_options():
    assert runner.invoke(app, ["-V"]).stdout == f"backupguard {__version__}\n"
    assert runner.invoke(app, ["--version"]).stdout == f"backupguard {__version__}\n"
    main = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    assert "--install-completion" in main and "--show-completion" in main
    env = {**os.environ, "_BACKUPGUARD_COMPLETE": "complete_bash", "COMP_WORDS": "backupguard lint --fail-on ", "COMP_CWORD": "3"}
    script = Path(sys.executable).parent / "backupguard"  # completion keys on the program's name
    if script.is_file():
        done = subprocess.run([str(script)], capture_output=True, text=True, env=env)
        assert done.stdout.split() == ["info", "low", "medium", "high", "critical", "never"]


# ---------------------------------------------------------------------------------------------
# colour


class Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colour_only_for_a_terminal_and_never_with_no_color():
    from backupguard.terminal import use_color

    assert use_color(Stream(True), environ={})
    assert not use_color(Stream(False), environ={})  # a file or a pipe
    assert not use_color(Stream(True), environ={"NO_COLOR": "1"})
    assert use_color(Stream(True), environ={"NO_COLOR": ""})  # no-color.org: set and not empty
    assert not use_color(Stream(True), no_color=True, environ={})
    assert not use_color(Stream(True), environ={"TERM": "dumb"})
    assert not use_color(None, environ={})


def test_statuses_are_coloured_in_the_text_report_only_when_asked():
    from backupguard.reports import render

    doc = json.loads(lint(str(NONCOMPLIANT), "-f", "json").stdout)
    coloured = render("text", doc, show_passed=True, color=True)
    assert "\x1b[31mFAIL   \x1b[0m" in coloured and "\x1b[32mPASS   \x1b[0m" in coloured
    assert "\x1b[33mUNKNOWN\x1b[0m" in render("text", json.loads(lint(str(EXAMPLES / "noncompliant"), "-f", "json").stdout),
                                              color=True)
    assert "\x1b" not in render("text", doc, show_passed=True)


def test_no_colour_in_pipes_and_files(tmp_path):
    text = tmp_path / "r.txt"
    result = lint(str(NONCOMPLIANT), "-o", f"text={text}")
    assert "FAIL" in result.stdout and "\x1b" not in result.stdout and "\x1b" not in text.read_text()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("extra_env", "args", "coloured"), [
    ({}, [], True), ({"NO_COLOR": "1"}, [], False), ({}, ["--no-color"], False),
])
def test_a_terminal_gets_colour_unless_no_color(extra_env, args, coloured):
    master, slave = os.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")} | extra_env
    child = subprocess.Popen([sys.executable, "-m", "backupguard", "lint", str(NONCOMPLIANT), *args],
                             stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert child.wait() == 1
    assert b"FAIL" in out
    assert (b"\x1b[31mFAIL" in out) is coloured and (b"\x1b[" in out) is coloured


# ---------------------------------------------------------------------------------------------
# stdin


def test_a_cloudformation_template_on_stdin_is_named_stdin():
    result = lint("-", "-f", "json", input=NONCOMPLIANT.read_text())
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["scan"]["files"] == ["<stdin>"]
    assert {r["file"] for r in doc["results"]} == {"<stdin>"}
    assert any(r["rule_id"] == "BG201" and r["status"] == "fail" and r["line"] == 13 for r in doc["results"])


def test_a_terraform_snippet_on_stdin():
    snippet = 'resource "aws_backup_vault" "main" {\n  name = "main"\n}\n'
    doc = json.loads(lint("-", "-f", "json", input=snippet).stdout)
    vault = [r for r in doc["results"] if r["rule_id"] == "BG202"]
    assert [(r["file"], r["line"], r["resource_id"], r["status"]) for r in vault] == [
        ("<stdin>", 1, "aws_backup_vault.main", "fail")
    ]


def test_a_terraform_plan_on_stdin():
    plan = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [
            {"address": "aws_backup_plan.p", "mode": "managed", "type": "aws_backup_plan", "name": "p",
             "values": {"name": "p", "rule": [{"rule_name": "weekly", "target_vault_name": "v",
                                               "schedule": "cron(0 5 ? * 1 *)", "lifecycle": [{"delete_after": 7}]}]}},
        ]}},
    }
    doc = json.loads(lint("-", "-f", "json", input=json.dumps(plan)).stdout)
    assert doc["scan"]["files"] == ["<stdin>"]
    assert [(r["file"], r["resource_id"], r["status"]) for r in doc["results"] if r["rule_id"] == "BG101"] == [
        ("<stdin>", "aws_backup_plan.p", "fail")
    ]


def test_terraform_files_named_beside_their_module_are_not_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"prod.tfvars": "retention = 7\n", ".terraform.lock.hcl": 'provider "x" {\n  version = "1"\n}\n'})
    result = lint("prod.tfvars", ".terraform.lock.hcl")
    assert result.exit_code == 0 and f"note: prod.tfvars: {NOT_IAC}" in result.stdout


def test_stdin_that_is_not_iac_is_an_error_and_stdin_mixes_with_files(tmp_path):
    junk = lint("-", "-f", "json", input="hello: world\n")
    assert junk.exit_code == 2
    assert [(r["file"], r["status"]) for r in json.loads(junk.stdout)["results"]] == [("<stdin>", "error")]
    assert "standard input is empty" in lint("-", input="").stdout
    (tmp_path / "a.yaml").write_text(PARAM_TEMPLATE)
    both = json.loads(lint(str(tmp_path / "a.yaml"), "-", "-f", "json", input=NONCOMPLIANT.read_text()).stdout)
    assert set(both["scan"]["files"]) == {"<stdin>", str(tmp_path / "a.yaml")}


# ---------------------------------------------------------------------------------------------
# config: found upward, validated by the shipped schema, written by init


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """tmp/outer/.backupguard.yaml (outside the repository) and tmp/outer/repo/.git."""
    outer = tmp_path / "outer"
    (outer / "repo" / ".git").mkdir(parents=True)
    (outer / "repo" / "infra" / "stacks").mkdir(parents=True)
    (outer / "repo" / "infra" / "stacks" / "t.yaml").write_text(PARAM_TEMPLATE)
    (outer / ".backupguard.yaml").write_text("strict: true\n")  # must never apply inside repo/
    return outer / "repo"


def test_the_config_is_found_upward_up_to_the_repository_root(repo, monkeypatch):
    # BG101 is unknown (no value for Days): strict makes it fail.
    monkeypatch.chdir(repo / "infra" / "stacks")
    assert lint("t.yaml").exit_code == 0  # the config above the repository is not read
    (repo / ".backupguard.yaml").write_text("strict: true\n")
    assert lint("t.yaml").exit_code == 1  # the repository root's config applies in its subfolders
    (repo / "infra" / ".backupguard.yml").write_text("strict: false\n")
    assert lint("t.yaml").exit_code == 0  # the nearest wins
    (repo / "infra" / ".backupguard.yml").write_text("strict: maybe\n")
    broken = lint("t.yaml")
    assert broken.exit_code == 2
    assert broken.stderr == "backupguard: error: ../.backupguard.yml:1: 'strict' must be true or false\n"


def test_without_a_repository_the_search_goes_to_the_filesystem_root(tmp_path, monkeypatch):
    from backupguard.config_file import find_config

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".backupguard.yaml").write_text("fail_on: never\n")
    assert find_config(tmp_path / "a" / "b") == Path("../../.backupguard.yaml")
    monkeypatch.chdir(tmp_path / "a" / "b")
    (tmp_path / "a" / "b" / "t.yaml").write_text(NONCOMPLIANT.read_text())
    assert lint("t.yaml").exit_code == 0


@pytest.mark.parametrize(("config", "message"), [
    ("fail_on: high\nopt_in:\n  S3: true\n  S4: true\n",
     ":4: unknown AWS Backup service 'S4' in 'opt_in' (expected one of: Aurora, DocumentDB, DynamoDB, EBS, EC2, EFS, "
     "FSx, Neptune, RDS, S3, Storage Gateway, VirtualMachine)"),
    ("waivers:\n  - rule: BG201\n    reason: legacy\n  - rule: BG202\n    reason: ok\n    expires: 2025-13-1\n",
     ":6: waivers[1]: 'expires' must be a date YYYY-MM-DD"),
    ("waivers:\n  - rule: BG201\n    reason: '  '\n", ":3: waivers[0]: 'reason' must be a non-empty text"),
    ("exclude: []\n\nparamters:\n  BG101: {}\n", ":3: unknown key(s) paramters; expected allow_empty, check, exclude, "
     "fail_on, frameworks, frameworks_dir, opt_in, parameters, rules_dir, skip_check, strict, waivers"),
    ("fail_on: hgih\n", ":1: 'fail_on' must be a severity or 'never'"),
    ("allow_empty: 'no'\n", ":1: 'allow_empty' must be true or false"),
    ("skip_check: BG101\n", ":1: 'skip_check' must be a list of strings"),
])
def test_schema_errors_name_the_file_and_line(tmp_path, config, message):
    path = tmp_path / "bg.yaml"
    path.write_text(config)
    result = lint(str(NONCOMPLIANT), "--config", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {path}{message}\n"


def test_the_schema_accepts_every_key_of_the_suppression_work_and_names_the_services():
    import yaml

    from backupguard.config_file import schema, schema_problem
    from backupguard.resolve.services import SERVICES

    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema()["properties"]["opt_in"]["propertyNames"]["enum"] == sorted(SERVICES)
    text = (
        "check: [BG101, vault-encrypted-with-cmk]\nskip_check: [BG6*]\nallow_empty: true\n"
        "waivers:\n  - rule: BG201\n    reason: legacy\n    resource: 'Legacy*'\n    file: 'stacks/*'\n    owner: ops\n"
        "    ticket: OPS-1\n    expires: 2027-01-31\n    account: '111122223333'\n    region: eu-west-1\n"
        "    arn: 'arn:aws:backup:*'\n"
    )
    assert schema_problem(yaml.safe_load(text), yaml.compose(text), "c.yaml") is None
    assert "unknown key(s) team" in schema_problem(
        {"waivers": [{"rule": "BG201", "reason": "x", "team": "a"}]}, None, "c.yaml")


def test_the_config_loader_imports_jsonschema_only_when_a_config_file_is_found(tmp_path):
    code = (
        "import sys\nfrom backupguard.config import load_config\n"
        "load_config(None)\nprint('jsonschema' in sys.modules)\n"
    )
    run = lambda: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path).stdout  # noqa: E731
    (tmp_path / ".git").mkdir()
    assert run().strip().splitlines()[-1] == "False"
    (tmp_path / ".backupguard.yaml").write_text("fail_on: never\n")
    assert run().strip().splitlines()[-1] == "True"


def test_init_writes_a_starter_that_loads_and_never_overwrites(tmp_path, monkeypatch):
    from backupguard.config import UserConfig, load_config
    from backupguard.config_file import SCHEMA_URL

    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0 and "wrote .backupguard.yaml" in first.stdout
    text = (tmp_path / ".backupguard.yaml").read_text()
    assert text.startswith(f"# yaml-language-server: $schema={SCHEMA_URL}\n")
    loaded = load_config(None)  # found, validated against the schema, parsed
    assert loaded.source == ".backupguard.yaml"
    assert (loaded.fail_on, loaded.strict, loaded.allow_empty, loaded.frameworks, loaded.waivers) == ("low", False, False, [], [])
    assert loaded.parameters == UserConfig().parameters and loaded.opt_in == {}
    assert lint(str(NONCOMPLIANT), "-q").exit_code == 1  # the defaults it states are the defaults
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 2 and ".backupguard.yaml exists; not overwritten" in again.stderr
    assert (tmp_path / ".backupguard.yaml").read_text() == text
    other = runner.invoke(app, ["init", "sub.yaml", "-q"])
    assert other.exit_code == 0 and other.stdout == "" and load_config(Path("sub.yaml")).source == "sub.yaml"


def test_the_schema_url_in_the_starter_is_the_shipped_schema_id():
    from backupguard.config_file import SCHEMA_URL, schema

    assert schema()["$id"] == SCHEMA_URL


# ---------------------------------------------------------------------------------------------
# --parameter typos


def test_a_parameter_no_template_declares_is_a_warning_naming_the_close_match(tmp_path):
    (tmp_path / "t.yaml").write_text(PARAM_TEMPLATE)
    result = lint(str(tmp_path / "t.yaml"), "--parameter", "Dayz=10", "--parameter", "Unrelated=1")
    assert "backupguard: warning: CloudFormation parameter 'Dayz' is not declared by any scanned template " \
           "(did you mean Days?)" in result.stderr
    assert "backupguard: warning: CloudFormation parameter 'Unrelated' is not declared by any scanned template\n" in result.stderr
    assert "warning" not in lint(str(tmp_path / "t.yaml"), "--parameter", "Days=10").stderr


# ---------------------------------------------------------------------------------------------
# report --fail-on


def test_report_honours_fail_on_and_soft_fail(tmp_path):
    saved = tmp_path / "r.json"
    lint(str(EXAMPLES / "noncompliant"), "-o", f"json={saved}", "-q")
    assert runner.invoke(app, ["report", str(saved), "-q"]).exit_code == 0  # re-rendering alone does not fail
    assert runner.invoke(app, ["report", str(saved), "--fail-on", "high", "-q"]).exit_code == 1
    assert runner.invoke(app, ["report", str(saved), "--fail-on", "critical", "-q"]).exit_code == 0
    assert runner.invoke(app, ["report", str(saved), "--fail-on", "high", "--soft-fail", "-q"]).exit_code == 0
    assert runner.invoke(app, ["report", str(saved), "--strict", "--fail-on", "info", "-q"]).exit_code == 1
    summary = runner.invoke(app, ["report", str(saved), "-o", f"markdown={tmp_path / 'r.md'}"])
    assert "1 file scanned, " in summary.stdout and (tmp_path / "r.md").is_file()


def test_report_errors_come_from_the_pipeline(tmp_path):
    from backupguard import pipeline

    (tmp_path / "x.json").write_text("[1]")
    with pytest.raises(pipeline.RunError, match="x.json: not a backupguard result document"):
        pipeline.report([tmp_path / "x.json"])
    result = runner.invoke(app, ["report", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "x.json" in result.stderr


# ---------------------------------------------------------------------------------------------
# explain


@pytest.mark.parametrize(("query", "rule"), [
    ("BG201", "BG201"),
    ("vault-encrypted-with-cmk", "BG201"),
    ("CKV_AWS_166", "BG201"),
    ("checkov ckv_aws_166", "BG201"),
    ("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", "BG101"),
    ("backup-plan-min-frequency-and-min-retention-check", "BG101"),
    ("DynamoDB.6", "BG304"),
    ("dynamodb-resources-protected-by-backup-plan", "BG401"),  # <type>-resources-protected-by-backup-plan
    ("S3.14", "BG309"),
])
def test_explain_accepts_a_rule_by_what_it_corresponds_to(query, rule):
    from backupguard.rules import load_catalogue
    from backupguard.rules.docs import lookup

    rules = load_catalogue()
    found = lookup(query, rules)
    assert [r.id for r in found] == [rule]
    page = runner.invoke(app, ["explain", query])
    assert page.exit_code == 0 and page.stdout.startswith(f"{found[0].id}: ")


def test_an_ambiguous_name_lists_the_candidates():
    result = runner.invoke(app, ["explain", "BACKUP_RECOVERY_POINT_ENCRYPTED"])
    assert result.exit_code == 2
    assert "matches 2 rules" in result.stderr
    assert "  BG406  " in result.stderr and "  BG430  " in result.stderr
    assert runner.invoke(app, ["explain", "CKV_AWS_0"]).exit_code == 2


def test_explain_renders_for_reading():
    from backupguard.terminal import render_markdown

    text = render_markdown("# T\n\nA **bold** `code` paragraph that is long enough to be wrapped at forty columns.\n\n"
                           "```yaml\nResources:\n  A: {Type: X}\n```\n\n- item one\n", width=40)
    assert text == (
        "T\n=\n\nA bold code paragraph that is long\nenough to be wrapped at forty columns.\n\n"
        "    Resources:\n      A: {Type: X}\n\n  - item one\n"
    )
    coloured = render_markdown("## Why\n\nA **b**.\n", color=True)
    assert "\x1b[1mWhy\x1b[0m" in coloured and "\x1b[1mb\x1b[0m" in coloured


# ---------------------------------------------------------------------------------------------
# SARIF URIs relative to the repository


def sarif_uris(path: Path) -> list[tuple[str, str | None]]:
    run = json.loads(path.read_text())["runs"][0]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    return sorted({(a["uri"], a.get("uriBaseId")) for a in locations})


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    (repo / "infra" / "stacks").mkdir(parents=True)
    (repo / "infra" / "stacks" / "estate.yaml").write_text(NONCOMPLIANT.read_text())
    (tmp_path / "elsewhere").mkdir()
    return repo


def test_sarif_uris_are_relative_to_the_repository_wherever_backupguard_runs(checkout, monkeypatch, tmp_path):
    sarif = tmp_path / "r.sarif"
    expected = [("infra/stacks/estate.yaml", "%SRCROOT%")]
    monkeypatch.chdir(tmp_path / "elsewhere")  # outside the repository: paths are ../checkout/...
    result = lint("../checkout/infra", "-o", f"sarif={sarif}", "-f", "json", "-o", "json=-")
    assert {r["file"] for r in json.loads(result.stdout)["results"]} == {"../checkout/infra/stacks/estate.yaml"}
    assert sarif_uris(sarif) == expected
    lint(str(checkout / "infra"), "-o", f"sarif={sarif}", "-q")  # absolute paths
    assert sarif_uris(sarif) == expected
    monkeypatch.chdir(checkout / "infra")  # from a subfolder
    lint("stacks", "-o", f"sarif={sarif}", "-q")
    assert sarif_uris(sarif) == expected
    lint("stacks", "-o", f"sarif={sarif}", "-q", "--sarif-root", str(checkout / "infra"))
    assert sarif_uris(sarif) == [("stacks/estate.yaml", "%SRCROOT%")]
    notes = json.loads(sarif.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert not any("outside" in n["message"]["text"] for n in notes)


def test_without_a_repository_sarif_uris_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "work" / "stacks").mkdir(parents=True)
    (tmp_path / "work" / "stacks" / "estate.yaml").write_text(NONCOMPLIANT.read_text())
    (tmp_path / "other").mkdir()
    sarif = tmp_path / "r.sarif"
    monkeypatch.chdir(tmp_path / "work")
    lint("stacks", "-o", f"sarif={sarif}", "-q")
    assert sarif_uris(sarif) == [("stacks/estate.yaml", "%SRCROOT%")]
    monkeypatch.chdir(tmp_path / "other")
    lint("../work/stacks", "-o", f"sarif={sarif}", "-q")  # outside: GitHub cannot place it, and is told so
    assert sarif_uris(sarif) == [("../work/stacks/estate.yaml", "%SRCROOT%")]
    notes = json.loads(sarif.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("--sarif-root" in n["message"]["text"] for n in notes)


def test_report_relocates_saved_results_for_sarif(checkout, monkeypatch, tmp_path):
    saved, sarif = tmp_path / "r.json", tmp_path / "r.sarif"
    monkeypatch.chdir(checkout / "infra")
    lint("stacks", "-o", f"json={saved}", "-q")
    runner.invoke(app, ["report", str(saved), "-o", f"sarif={sarif}", "-q"])
    assert sarif_uris(sarif) == [("infra/stacks/estate.yaml", "%SRCROOT%")]
