"""Start-up (issue 12): what ``lint`` imports, and Typer's option conversion without pydantic.

Speed itself is measured by ``benchmarks/startup.py``, never asserted here; these tests keep the
heavy packages off the ``lint`` path: jsonschema (the shipped catalogue is validated by
tests/test_catalogue_schema.py, not on every run), pydantic (Typer 0.2x converts option values
with it: backupguard.typer_light), rich (only --help and errors use it), jinja2 (HTML only).
"""

from __future__ import annotations

import json
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest
import typer

from backupguard import typer_light
from backupguard.cli import app

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "compliant" / "backup-estate.yaml"
CUSTOM = ROOT / "examples" / "custom-rules"

# Runs the console entry point in a fresh interpreter, then lists the watched packages it imported.
RUN = r"""
import json, sys
from backupguard.cli import main
sys.argv = ["backupguard", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
watched = ("jsonschema", "pydantic", "pydantic_core", "rich", "jinja2", "importlib.metadata")
print(json.dumps({"code": code, "imported": [m for m in watched if m in sys.modules]}))
"""


def _run(tmp_path: Path, *args: object) -> dict:
    (tmp_path / ".git").mkdir(exist_ok=True)  # no config file above the working directory is found
    out = subprocess.run([sys.executable, "-c", RUN, *map(str, args)], capture_output=True, text=True, cwd=tmp_path,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_lint_of_a_small_template_imports_neither_jsonschema_nor_pydantic(tmp_path):
    assert _run(tmp_path, "lint", SMALL) == {"code": 0, "imported": []}
    assert _run(tmp_path, "lint", SMALL, "--fail-on", "high", "--format", "json", "-o", tmp_path / "r.json",
                "--framework", "aws-backup-audit-manager", "--check", "BG1*") == {"code": 0, "imported": []}


def test_the_users_rule_and_framework_files_are_still_validated_against_the_schema(tmp_path):
    result = _run(tmp_path, "lint", CUSTOM / "stacks", "--rules-dir", CUSTOM / "rules",
                  "--frameworks-dir", CUSTOM / "frameworks", "--fail-on", "never")
    assert result == {"code": 0, "imported": ["jsonschema"]}


def test_a_misspelt_choice_is_typers_own_error(tmp_path):
    """Errors go through Typer's own converter (pydantic, only then) and rich: the message is Typer's."""
    result = _run(tmp_path, "lint", SMALL, "--fail-on", "hihg")
    assert result["code"] == 2 and "pydantic" in result["imported"]


# -- the light converter against Typer's own ---------------------------------------------------

class Colour(str, Enum):
    red = "red"
    green = "green"


def _parameters():
    command = typer.main.get_command(app)
    found = []
    for name, sub in sorted(command.commands.items()):
        for param in sub.params:
            if getattr(param, "type_descriptor", None) is not None:
                found.append(pytest.param(sub, param, id=f"{name}:{param.name}"))
    return found


VALUES = ["x", "", "-", "\udcff", "a\x00b", "nope/missing.yaml", str(SMALL), "json", "JSON", "high", "HIGH", "hihg",
          ("a", "b"), (), ("json", "x"), b"bytes", 3, True, None]


def _outcome(runtime, value, param, ctx):
    try:
        return ("ok", runtime.coerce(value, param=param, ctx=ctx))
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return ("error", type(exc).__name__, getattr(exc, "message", str(exc)))


@pytest.mark.parametrize(("command", "param"), _parameters())
def test_every_option_converts_as_typer_converts_it(command, param):
    from typer import _click, _coercion

    assert typer_light.install()
    ctx = _click.Context(command)
    light, own = param.get_runtime_param(), _coercion.build_runtime_param(param.type_descriptor)
    for value in VALUES:
        assert _outcome(light, value, param, ctx) == _outcome(own, value, param, ctx), (param.name, value)


def test_the_light_converter_covers_backupguards_options_and_leaves_the_others_to_typer():
    light = {p.values[1].name for p in _parameters() if type(p.values[1].get_runtime_param()).__name__ == "LightRuntimeParam"}
    assert {"paths", "fail_on", "output_format", "output", "config", "rules_dir", "parameter"} <= light
    assert "max_workers" not in light  # a number range: Typer's own


def test_enum_and_list_annotations_convert_alike():
    from typer import _click, _coercion
    from typer.core import TyperOption

    def option(annotation):
        from typer._coercion import resolve_type_descriptor
        from typer.models import OptionInfo

        return TyperOption(param_decls=["--x"], type_descriptor=resolve_type_descriptor(annotation, OptionInfo()))

    for annotation, values in ((Colour, ["red", "RED", "blue", Colour.green]), (list[Colour], [("red", "green"), ("red", "x")]),
                               (list[str], [("a", ""), "a"]), (list[Path], [("a", "b/"), ()]), (bool, [True, "yes", "x"])):
        param = option(annotation)
        ctx = _click.Context(typer.main.get_command(app))
        light, own = param.get_runtime_param(), _coercion.build_runtime_param(param.type_descriptor)
        assert type(light).__name__ == "LightRuntimeParam", annotation
        for value in values:
            assert _outcome(light, value, param, ctx) == _outcome(own, value, param, ctx), (annotation, value)


def test_the_process_ends_at_once_with_mains_status_and_every_byte_written(tmp_path):
    """``python -m backupguard`` skips Python's teardown of the run's objects (cli.console): the
    exit status is main's and a report streamed through a pipe arrives whole."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "backupguard", "lint", str(root / "examples"), "-f", "json"],
                          capture_output=True, text=True, cwd=tmp_path)
    document = json.loads(done.stdout)  # complete JSON: nothing left in a buffer
    failing = sum(1 for r in document["results"] if r["status"] == "fail" and not r["suppression"])
    assert failing and done.returncode == 1
    usage = subprocess.run([sys.executable, "-m", "backupguard", "lint", "--no-such-option"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert usage.returncode == 2 and "no-such-option" in usage.stderr


@pytest.mark.parametrize(("code", "status", "printed"), [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("bye", 1, "bye\n")])
def test_exit_status_is_the_one_python_gives_a_system_exit(code, status, printed, capsys):
    from backupguard.cli import _exit_status

    assert _exit_status(code) == status
    assert capsys.readouterr().err == printed


def _command_names() -> list[str]:
    from typer.main import get_command_name

    return [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands]


@pytest.mark.parametrize("name", _command_names())
def test_a_command_built_alone_has_the_whole_apps_help_and_errors(name):
    """cli.app_for builds only the command a line names; what that command prints must not differ."""
    from typer.testing import CliRunner

    from backupguard.cli import app_for

    alone = app_for(["backupguard", name, "--help"])
    assert alone is not app and len(alone.registered_commands) == 1
    runner = CliRunner()
    for args in ([name, "--help"], [name, "--no-such-option"]):
        whole, single = runner.invoke(app, args), runner.invoke(alone, args)
        assert (single.exit_code, single.output) == (whole.exit_code, whole.output)


@pytest.mark.parametrize("argv", [["backupguard"], ["backupguard", "--version"], ["backupguard", "lnt"],
                                  ["backupguard", "--help", "lint"]])
def test_the_whole_app_runs_what_names_no_command_first(argv):
    from backupguard.cli import app_for

    assert app_for(argv) is app
