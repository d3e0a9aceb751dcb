"""The CLI reference, ``docs/cli.md``, generated from the command line's own definitions.

``python -m backupguard.cli_docs docs/cli.md`` regenerates it (without a path it prints the page);
``tests/test_cli_docs.py`` fails when the committed page differs from what this module writes.

The page is read from the click command tree that typer builds (``typer.main.get_command``): each
command's usage, description, arguments and options with their metavar, default and help, and the
exit codes (``cli.EXIT_CODE_MEANINGS``, which ``--help`` prints too). It is plain Markdown: no
terminal width, no Rich markup, no colour, so the same code always writes the same page.
"""

from __future__ import annotations

import enum
import re
import sys
import typing
from pathlib import Path, PurePath
from typing import Any, Iterable

import typer

GENERATE = "python -m backupguard.cli_docs docs/cli.md"

# "[default: X]" at the end of a help text (Rich mode escapes its bracket: "\[default: X]").
_DEFAULT_IN_HELP = re.compile(r"\s*\\?\[default: (?P<value>[^\]]*)\]\s*$")
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def _plain(text: str) -> str:
    """Help text as written in cli.py: Rich's escaped brackets unescaped, whitespace folded."""
    return " ".join(text.replace("\\[", "[").split())


def _inline(text: str) -> str:
    """Text for a Markdown table cell: characters Markdown would read as markup are escaped
    outside code spans, and ``|`` everywhere (GitHub tables split on it, even in a code span)."""
    out = []
    for part in _CODE_SPAN.split(text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(part.replace("|", "\\|"))
        else:
            part = re.sub(r"([\\*|\[\]])", r"\\\1", part)
            part = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", part)  # fail_on stays as it is
            out.append(part.replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(out)


def _code(text: str) -> str:
    return f"`{text}`".replace("|", "\\|")


def _annotation(param: Any) -> Any:
    """The parameter's Python type: typer's own record of it, else click's type (older typer)."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return descriptor.annotation
    return None


def _repeatable(param: Any) -> bool:
    if getattr(param, "multiple", False):
        return True
    return typing.get_origin(_annotation(param)) in (list, tuple)


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False)) or _annotation(param) is bool


def _choices(param: Any) -> tuple[str, ...]:
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(member.value) for member in annotation)
    choices = getattr(getattr(param, "type", None), "choices", None)  # click.Choice (older typer)
    return tuple(str(choice) for choice in choices) if choices else ()


def _value(param: Any) -> str:
    """What the option takes, as --help names it: its metavar, its choices, else its type."""
    if param.metavar:
        return param.metavar
    if _is_flag(param):
        return ""
    choices = _choices(param)
    if choices:
        return "|".join(choices)
    annotation = _annotation(param)
    if typing.get_origin(annotation) in (list, tuple):
        annotation = (typing.get_args(annotation) or (str,))[0]
    names = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH"}
    return names.get(annotation, getattr(annotation, "__name__", "TEXT").upper())


def _shown_default(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _help_and_default(param: Any) -> tuple[str, str]:
    """The help text and the default as a Markdown cell, as --help shows them. A default the help
    states itself wins; it is a value (code) when it is one of the option's choices, else words."""
    text = _plain(param.help or "")
    stated = _DEFAULT_IN_HELP.search(text)
    if stated:
        value = stated.group("value")
        return text[: stated.start()], _code(value) if value in _choices(param) else _inline(value)
    default = param.default
    if _is_flag(param) or default is None or default == [] or default == () or not getattr(param, "show_default", True):
        return text, ""
    return text, _code(_shown_default(default))


def _range(param: Any) -> str:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is None and high is None:
        return ""
    if low is not None and high is not None:
        return f" From {low} to {high}."
    return f" At least {low}." if low is not None else f" At most {high}."


def _argument_usage(param: Any) -> str:
    name = param.metavar or param.name.upper()
    if param.nargs == -1:
        name += "..."
    return name if param.required else f"[{name}]"


def _is_argument(param: Any) -> bool:
    return not getattr(param, "opts", [""])[0].startswith("-")


def _visible(params: Iterable[Any]) -> list[Any]:
    return [p for p in params if not getattr(p, "hidden", False)]


def _paragraphs(text: str) -> list[str]:
    return [_plain(block) for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]


def _options_table(options: list[Any]) -> list[str]:
    rows = ["| option | value | default | description |", "| --- | --- | --- | --- |"]
    for option in options:
        names = ", ".join(_code(name) for name in (*option.opts, *option.secondary_opts))
        value = _value(option)
        if value and _repeatable(option):
            value += " ..."
        help_text, default = _help_and_default(option)
        rows.append(f"| {names} | {_code(value) if value else ''} | {default} | "
                    f"{_inline(help_text + _range(option))} |")
    return rows


def _arguments_table(arguments: list[Any]) -> list[str]:
    rows = ["| argument | required | default | description |", "| --- | --- | --- | --- |"]
    for argument in arguments:
        help_text, default = _help_and_default(argument)
        shown = (argument.metavar or argument.name.upper()) + ("..." if argument.nargs == -1 else "")
        rows.append(f"| {_code(shown)} | {'yes' if argument.required else 'no'} | {default} | {_inline(help_text)} |")
    return rows


def _exit_codes() -> list[str]:
    from backupguard.cli import EXIT_CODE_MEANINGS

    rows = ["| code | meaning |", "| --- | --- |"]
    rows += [f"| {code} | {_inline(meaning)} |" for code, meaning in EXIT_CODE_MEANINGS]
    return rows


def _command_section(name: str, command: Any, exit_epilog: str) -> list[str]:
    params = _visible(command.params)
    arguments = [p for p in params if _is_argument(p)]
    options = [p for p in params if not _is_argument(p)]
    usage = " ".join(["backupguard", name, "[OPTIONS]", *(_argument_usage(a) for a in arguments)])
    out = [f"## `backupguard {name}`", "", "```text", usage, "```", ""]
    for paragraph in _paragraphs(command.help or ""):
        out += [_inline(paragraph), ""]
    if arguments:
        out += ["Arguments:", "", *_arguments_table(arguments), ""]
    if options:
        out += ["Options:", "", *_options_table(options), ""]
    if command.epilog and command.epilog.strip() == exit_epilog.strip():
        out += ["Exits by the [exit codes](#exit-codes) table.", ""]
    elif command.epilog:
        out += [*(_inline(p) for p in _paragraphs(command.epilog)), ""]
    return out


def render() -> str:
    """The whole page."""
    from backupguard.cli import EXIT_CODES, app

    group = typer.main.get_command(app)
    names = [name for name, command in group.commands.items() if not getattr(command, "hidden", False)]
    out = [
        "# Command-line reference",
        "",
        f"<!-- Generated from the command line's definitions by `{GENERATE}`; do not edit by hand. -->",
        "",
        "Every command, argument and option of `backupguard`, as `backupguard COMMAND --help` prints them. "
        "This page is generated from the command line itself, and `tests/test_cli_docs.py` fails when it "
        "is out of date. Every command also takes `--help`.",
        "",
        "```text",
        "backupguard [OPTIONS] COMMAND [ARGS]...",
        "```",
        "",
    ]
    out += [_inline(p) for p in _paragraphs(group.help or "")] + [""]
    out += ["| command | what it does |", "| --- | --- |"]
    for name in names:
        summary = _paragraphs(group.commands[name].help or "")
        out.append(f"| [`{name}`](#backupguard-{name}) | {_inline(summary[0]) if summary else ''} |")
    out += ["", "Options of `backupguard` itself (before the command):", ""]
    out += _options_table([p for p in _visible(group.params) if not _is_argument(p)])
    out += ["", "## Exit codes", "", *_exit_codes(), ""]
    for name in names:
        out += _command_section(name, group.commands[name], EXIT_CODES)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if not argv:
        sys.stdout.write(text)
        return 0
    Path(argv[0]).write_text(text, encoding="utf-8")
    print(argv[0])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
