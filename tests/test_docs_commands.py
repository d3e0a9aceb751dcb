"""Every command the documentation shows in a ```console block runs, as written (docs/ci.md, "Commands
on this page are tested", states the convention):

* ``$ backupguard ...`` (or ``$ cd FOLDER && backupguard ...``) is a command; the lines after it, up to
  the next ``$`` line, are output it must print, in that order;
* ``# exit: N`` is the exit code it must return (default 0);
* ``# needs: aws`` / ``# needs: network``: not run; the command and each of its options must exist.

The commands of a page run in order (a later one may read what an earlier one wrote) in a temporary
copy of ``examples/``, in-process, with the repository's backupguard.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from backupguard.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(ROOT.joinpath("docs").glob("*.md")) + [ROOT / "README.md"]
MARK = re.compile(r"\s+#\s*(exit|needs):\s*(\S+)\s*$")


@dataclass
class Command:
    page: str
    line: int
    text: str
    argv: list[str]
    cd: str | None = None
    exit: int = 0
    needs: str | None = None
    output: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: $ {self.text}"


def commands(page: Path) -> list[Command]:
    found: list[Command] = []
    in_console = False
    for number, line in enumerate(page.read_text("utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_console = not in_console and stripped == "```console"
            continue
        if not in_console:
            continue
        if not stripped.startswith("$ "):
            if found and found[-1].line < number and stripped:
                found[-1].output.append(line.rstrip())
            continue
        text = stripped[2:]
        command = Command(page.relative_to(ROOT).as_posix(), number, text, [])
        while (mark := MARK.search(text)) is not None:
            kind, value = mark.groups()
            if kind == "exit":
                command.exit = int(value)
            else:
                command.needs = value
            text = text[: mark.start()]
        argv = shlex.split(text, comments=True)
        if argv[:1] == ["cd"] and len(argv) > 3 and argv[2] == "&&":
            command.cd, argv = argv[1], argv[3:]
        command.argv = argv
        found.append(command)
    return found


ALL = {page.relative_to(ROOT).as_posix(): commands(page) for page in PAGES}
RUNNABLE_PAGES = sorted(name for name, found in ALL.items() if any(c.needs is None for c in found))


def _options(command: str) -> set[str]:
    group = typer.main.get_command(app)
    cli = group.commands[command]  # type: ignore[attr-defined]
    return {opt for param in cli.params for opt in (*param.opts, *param.secondary_opts)}


def test_the_convention_finds_the_documented_commands():
    runnable = [c for found in ALL.values() for c in found if c.needs is None]
    assert len(runnable) >= 12
    assert {c.page for c in runnable} >= {"docs/ci.md", "docs/custom-rules.md", "README.md"}
    assert any(c.needs == "aws" for c in ALL["docs/ci.md"])
    assert any(c.exit == 1 for c in runnable) and any(c.output for c in runnable)


@pytest.mark.parametrize("page", sorted(ALL))
def test_commands_that_are_not_run_exist(page):
    """Each command is backupguard (else it must say what it needs), its subcommand and options exist."""
    for command in ALL[page]:
        if command.argv[0] != "backupguard":
            assert command.needs, f"{command}: not backupguard, and no '# needs:' mark"
            continue
        known = _options(command.argv[1])
        for token in command.argv[2:]:
            if token.startswith("--"):
                assert token.split("=", 1)[0] in known, f"{command}: {command.argv[1]} has no option {token}"


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_documented_commands_run_as_written(page, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()
    for command in ALL[page]:
        if command.needs is not None or command.argv[0] != "backupguard":
            continue
        if command.cd:
            os.chdir(command.cd)  # as in a shell session: later commands run there too
        result = runner.invoke(app, command.argv[1:])
        assert result.exception is None or isinstance(result.exception, SystemExit), f"{command}: {result.exception!r}"
        assert result.exit_code == command.exit, f"{command}: exit {result.exit_code}\n{result.stderr}"
        printed = [line.rstrip() for line in result.stdout.splitlines()]
        position = 0
        for expected in command.output:
            assert expected in printed[position:], f"{command}: does not print {expected!r}\n{result.stdout}"
            position = printed.index(expected, position) + 1
