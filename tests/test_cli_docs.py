"""docs/cli.md is generated from the command line (backupguard.cli_docs); the committed page must be current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer

from backupguard import cli_docs
from backupguard.cli import EXIT_CODE_MEANINGS, EXIT_CODES, app
from backupguard.pipeline import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"


def test_the_committed_reference_is_current():
    assert PAGE.read_text("utf-8") == cli_docs.render(), (
        f"docs/cli.md is out of date with the command line: regenerate it with `{cli_docs.GENERATE}` "
        "(from the repository root) and commit it")


def test_every_command_argument_and_option_is_documented():
    text = cli_docs.render()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        section = text.split(f"## `backupguard {name}`\n", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if param.opts[0].startswith("-"):
                for option in (*param.opts, *param.secondary_opts):
                    assert f"`{option}`" in section, f"{name} {option}"
            else:
                assert f"`{param.metavar}" in section, f"{name} {param.metavar}"
    for option in ("--version", "-V", "--install-completion", "--show-completion"):
        assert f"`{option}`" in text


def test_metavars_defaults_and_help_are_shown():
    lines = cli_docs.render().splitlines()

    def row(command: str, option: str) -> str:
        start = lines.index(f"## `backupguard {command}`")
        return next(line for line in lines[start:] if line.startswith(f"| `{option}`"))

    assert row("lint", "--fail-on") == (
        "| `--fail-on` | `SEVERITY` | `low` | Exit 1 when a failing result has at least this severity: info, low, "
        "medium, high, critical or never (config: fail_on). |")
    assert row("report", "--fail-on").split(" | ")[2] == "`never`"
    assert row("scan", "--max-workers") == "| `--max-workers` | `N` | `64` | Concurrent API calls. From 1 to 512. |"
    assert row("rules", "--format").split(" | ")[1:3] == ["`text\\|json`", "`text`"]  # choices, escaped for the table
    assert row("lint", "--exclude").split(" | ")[1] == "`GLOB ...`"  # repeatable
    assert row("lint", "--strict").split(" | ")[1:3] == ["", ""]  # a flag: no value, no default
    assert "BG3\\*" in row("lint", "--check")  # Markdown's characters are escaped, outside code spans
    assert "| `RULE` | yes |  | Rule ID (BG101) or name" in "\n".join(lines)
    assert "| `PATH` | no | `.backupguard.yaml` | Where to write the config file. |" in lines
    assert "backupguard lint [OPTIONS] PATH..." in lines and "backupguard init [OPTIONS] [PATH]" in lines


def test_the_exit_codes_table_is_the_one_help_prints():
    assert [code for code, _ in EXIT_CODE_MEANINGS] == [EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE]
    text = cli_docs.render()
    for code, meaning in EXIT_CODE_MEANINGS:
        assert f"{code}  {meaning}" in EXIT_CODES
        assert f"| {code} | {meaning} |" in text
    assert text.count("Exits by the [exit codes](#exit-codes) table.") == 4  # lint, scan, drift, report
    assert "Exit codes: 0 written, 2 usage error" in text  # baseline states its own


def test_plain_markdown_whatever_the_terminal():
    """No terminal width, colour or Rich markup reaches the page: a narrow and a wide terminal, with
    colour forced, write the same bytes."""
    pages = set()
    for env in ({"COLUMNS": "40", "FORCE_COLOR": "1"}, {"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}):
        done = subprocess.run([sys.executable, "-m", "backupguard.cli_docs"], capture_output=True, text=True,
                              cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, check=True)
        pages.add(done.stdout)
    assert pages == {cli_docs.render()}
    text = pages.pop()
    assert "\x1b" not in text and "\\[default" not in text and "[default:" not in text
    assert not re.search(r"\[/?(bold|dim|red|green|yellow|cyan|italic)\]", text)
    assert not any(ch in text for ch in "╭╰│─")


def test_the_generator_writes_the_page(tmp_path):
    target = tmp_path / "cli.md"
    assert cli_docs.main([str(target)]) == 0
    assert target.read_text("utf-8") == cli_docs.render()
