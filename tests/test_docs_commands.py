"""Every command the documentation shows in a ```console block runs, as written (docs/ci.md, "Commands
on this page are tested", states the convention):

* ``$ backupguard ...`` (or ``$ cd FOLDER && backupguard ...``) is a command; the lines after it, up to
  the next ``$`` line, are output it must print, in that order;
* ``$ NAME=VALUE backupguard ...`` sets environment variables for that command alone, as a shell
  does (``BACKUPGUARD_TODAY=2026-06-30`` fixes the date waivers expire against);
* ``# exit: N`` is the exit code it must return (default 0);
* ``# needs: aws`` / ``# needs: network``: not run; the command and each of its options must exist.

Commands in the other blocks (``sh``, ``yaml``, a Jenkinsfile...) are illustrations with your paths
(``infra/``): not run, but each ``backupguard COMMAND`` in them is checked as a ``# needs:`` command.

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
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Command:
    page: str
    line: int
    text: str
    argv: list[str]
    cd: str | None = None
    exit: int = 0
    needs: str | None = None
    env: dict[str, str] = field(default_factory=dict)
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
        while argv and ASSIGNMENT.match(argv[0]):
            name, _, value = argv.pop(0).partition("=")
            command.env[name] = value
        command.argv = argv
        found.append(command)
    return found


COMMAND_NAMES = ("lint", "baseline", "scan", "drift", "iam-policy", "report", "rules", "explain", "init", "frameworks", "export")
MENTION = re.compile(r"(?:^|(?<=[\s/\"'(]))backupguard\s+(?:%s)(?![\w-])" % "|".join(map(re.escape, COMMAND_NAMES)))


def illustrated(page: Path) -> list[tuple[int, list[str]]]:
    """``backupguard COMMAND ...`` in the page's code blocks other than ``console``: (line, argv from
    COMMAND on), up to the first shell operator or comment. A line ending in ``\\``, or followed by
    lines that go on with ``-o``/``--option`` (a folded YAML scalar), continues the command."""
    found: list[tuple[int, list[str]]] = []
    lines = page.read_text("utf-8").splitlines()
    fence: str | None = None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip() or "text"
            continue
        if fence is None or fence == "console":
            continue
        for match in MENTION.finditer(line):
            text = line[match.start():]
            following = number
            while following < len(lines) and (text.endswith("\\") or re.match(r"\s*-[-\w]", lines[following])):
                text = text.rstrip("\\") + " " + lines[following].strip()
                following += 1
            found.append((number, _words(text)[1:]))
    return found


def _words(text: str) -> list[str]:
    """Shell words up to the first operator (; | & > < parentheses) or comment; an unbalanced quote ends them."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = []
    try:
        while (word := lexer.get_token()) not in (None, lexer.eof):
            if set(word) <= set(lexer.punctuation_chars):
                break
            words.append(word)
    except ValueError:
        pass
    return words


ALL = {page.relative_to(ROOT).as_posix(): commands(page) for page in PAGES}
ILLUSTRATED = {page.relative_to(ROOT).as_posix(): illustrated(page) for page in PAGES}
RUNNABLE_PAGES = sorted(name for name, found in ALL.items() if any(c.needs is None for c in found))


def _options(command: str) -> set[str]:
    """The options of a subcommand, or of backupguard itself (``backupguard --version``)."""
    group = typer.main.get_command(app)
    cli = group if command.startswith("-") else group.commands[command]  # type: ignore[attr-defined]
    return {"--help"} | {opt for param in cli.params for opt in (*param.opts, *param.secondary_opts)}


def test_the_convention_finds_the_documented_commands():
    runnable = [c for found in ALL.values() for c in found if c.needs is None]
    assert len(runnable) >= 40
    assert {c.page for c in runnable} >= {
        "docs/ci.md", "docs/custom-rules.md", "README.md", "docs/getting-started.md", "docs/frameworks.md",
        "docs/suppressions.md", "docs/live-scanning.md"}
    assert any(c.needs == "aws" for c in ALL["docs/ci.md"]) and any(c.needs == "aws" for c in ALL["docs/live-scanning.md"])
    assert any(c.exit == 1 for c in runnable) and any(c.exit == 2 for c in runnable) and any(c.output for c in runnable)
    assert any(c.env == {"BACKUPGUARD_TODAY": "2026-06-30"} and c.cd for c in ALL["docs/suppressions.md"])
    assert any(c.argv == ["backupguard", "--version"] for c in ALL["docs/getting-started.md"])


@pytest.mark.parametrize("page", sorted(ALL))
def test_commands_that_are_not_run_exist(page):
    """Each command is backupguard (else it must say what it needs), its subcommand and options exist."""
    for command in ALL[page]:
        if command.argv[0] != "backupguard":
            assert command.needs, f"{command}: not backupguard, and no '# needs:' mark"
            continue
        known = _options(command.argv[1])
        for token in command.argv[1 if command.argv[1].startswith("-") else 2:]:
            if token.startswith("--"):
                assert token.split("=", 1)[0] in known, f"{command}: {command.argv[1]} has no option {token}"


@pytest.mark.parametrize("page", sorted(name for name, found in ILLUSTRATED.items() if found))
def test_commands_in_illustrations_exist(page):
    """``backupguard lint infra/ --fail-on high`` in a ``sh`` or ``yaml`` block: lint has --fail-on."""
    for line, argv in ILLUSTRATED[page]:
        known = _options(argv[0])
        for token in argv[1:]:
            if token.startswith("--"):
                assert token.split("=", 1)[0] in known, f"{page}:{line}: {argv[0]} has no option {token}"


def test_illustrations_are_found():
    found = {page: [argv[0] for _, argv in commands] for page, commands in ILLUSTRATED.items()}
    assert {"lint", "report", "scan", "baseline", "iam-policy"} <= set(found["README.md"])
    assert "scan" in found["docs/live-scanning.md"] and "lint" in found["docs/ci.md"]
    # ~/.local/bin/backupguard in a quoted Groovy string: read up to the quote
    assert ["lint", "infra/", "-o", "junit=backupguard-junit.xml", "-o"] in [argv for _, argv in ILLUSTRATED["docs/ci.md"]]
    folded = [argv for line, argv in ILLUSTRATED["docs/ci.md"] if "--framework" in argv and "-o" in argv]
    assert folded and "codequality=gl-code-quality-report.json" in folded[0]  # a folded YAML scalar


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
        result = runner.invoke(app, command.argv[1:], env=command.env)
        assert result.exception is None or isinstance(result.exception, SystemExit), f"{command}: {result.exception!r}"
        assert result.exit_code == command.exit, f"{command}: exit {result.exit_code}\n{result.stderr}"
        printed = [line.rstrip() for line in result.stdout.splitlines()]
        position = 0
        for expected in command.output:
            assert expected in printed[position:], f"{command}: does not print {expected!r}\n{result.stdout}"
            position = printed.index(expected, position) + 1
