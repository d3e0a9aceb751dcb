"""Issue 8 item 2: names, tags, messages and file names cannot inject into terminals or CI logs.

A vault named ``x\\n::error file=README.md,line=1::Injected`` used to print a forged result line
and a GitHub Actions workflow command in the text output of ``lint`` and ``report``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports.printable import inert_lines, printable

runner = CliRunner()

HOSTILE = "x\n::error file=README.md,line=1::Injected\x1b]8;;http://evil\x07\x1b[31m\u202eevil\x9b"
TEMPLATE = """\
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: {name}
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: {name}
        BackupPlanRule:
          - RuleName: {name}
            TargetBackupVault: !Ref Vault
            ScheduleExpression: cron(0 5 ? * * *)
            Lifecycle:
              DeleteAfterDays: 3
"""
# Raw control characters never reach a human-facing output; tab and newline only as the format's own.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
COMMAND = re.compile(r"^\s*(::|##\[|##vso\[)", re.MULTILINE)


def test_printable_escapes_controls_separators_bidi_and_surrogates():
    assert printable("a\nb\t\x1b[31m\x7f\x85\u2028\u202e\udcff") == "a\\x0ab\\x09\\x1b[31m\\x7f\\x85\\u2028\\u202e\\udcff"
    assert printable("plain ünïcödé ✓") == "plain ünïcödé ✓"


def test_inert_lines_defuses_workflow_commands_only_at_line_start():
    text = "::error x\n  ::add-mask::y\n##[error]z\n##vso[task.setvariable]v\n### heading\na::b"
    assert inert_lines(text) == (
        "\\x3a:error x\n  \\x3a:add-mask::y\n\\x23#[error]z\n\\x23#vso[task.setvariable]v\n### heading\na::b"
    )


@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "estate.yaml").write_text(TEMPLATE.format(name=json.dumps(HOSTILE)), "utf-8")
    (folder / "::error file=a::b.yaml").write_text("Resources: [\n", "utf-8")  # a forged command as a file name
    (folder / "x\x1b[2Jy.yaml").write_text("Resources: [\n", "utf-8")
    return folder


FORMATS = ["text", "markdown", "json", "sarif", "junit", "html", "csv-resources", "csv-controls", "json-resources", "json-controls"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_prints_a_raw_control_or_a_workflow_command(hostile: Path, monkeypatch, fmt: str):
    monkeypatch.chdir(hostile)
    result = runner.invoke(app, ["lint", ".", "--format", fmt])
    assert result.exit_code == 2, result.output
    assert not COMMAND.search(result.stdout), [line for line in result.stdout.splitlines() if "::" in line][:3]
    assert not RAW.search(result.stdout) or fmt.startswith("csv"), fmt  # CSV keeps data exactly


def test_text_output_of_lint_and_report_shows_the_escaped_value(hostile: Path, monkeypatch, tmp_path: Path):
    monkeypatch.chdir(hostile)
    saved = tmp_path / "doc.json"
    runner.invoke(app, ["lint", ".", "-o", f"json={saved}"])
    for args in (["lint", "."], ["report", str(saved)]):
        out = runner.invoke(app, args).stdout
        assert "x\\x0a::error file=README.md,line=1::Injected\\x1b]8;;http://evil\\x07\\x1b[31m\\u202eevil\\x9b" in out
        assert "\\x3a:error file=a::b.yaml\n" in out
        assert "x\\x1b[2Jy.yaml\n" in out


def test_error_messages_on_stderr_are_escaped(tmp_path: Path):
    config = tmp_path / "bad\x1b[31m.yaml"
    config.write_text("frameworks: [\n")
    result = runner.invoke(app, ["lint", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "bad\\x1b[31m.yaml" in result.stderr


@pytest.mark.parametrize("raw, written", [
    ("plain ASCII, untouched", "plain ASCII, untouched"),
    ("delete \x7f is ASCII but escaped", "delete \\u007f is ASCII but escaped"),
    ("C1 \x9b control", "C1 \\u009b control"),
    ("bidi \u202e override", "bidi \\u202e override"),
    ("line \u2028 separator", "line \\u2028 separator"),
    ("caf\u00e9 stays", "caf\u00e9 stays"),
])
def test_json_text_escapes_what_a_terminal_would_obey(raw, written):
    """json_safe skips its search for plain ASCII text without DEL, and escapes the rest as before."""
    from backupguard.reports.printable import json_safe

    assert json_safe(raw) == written
