"""The ``backupguard`` command line. Heavy modules are imported inside the commands that need them."""

from __future__ import annotations

import json
import os
import re
import sys
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Callable, Iterable, Optional

import typer

from backupguard import __version__, typer_light

from backupguard.pipeline import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE

# --help prints option help through Rich markup, where "[default: low]" is a tag (and vanishes).
_OPEN = "\\[" if getattr(typer.core, "DEFAULT_MARKUP_MODE", None) == "rich" else "["


def _default(text: str) -> str:
    """`` [default: text]`` as --help must print it (for options whose default is decided later)."""
    return f" {_OPEN}default: {text}]"


# The exit codes of lint, scan and report (pipeline.exit_status), as --help and docs/cli.md list them.
EXIT_CODE_MEANINGS = (
    (EXIT_OK, "no failing result reaches --fail-on (always, with --soft-fail)"),
    (EXIT_FINDINGS, "a failing result reaches --fail-on"),
    (EXIT_USAGE, "usage or configuration error, an input file that could not be read, or nothing to scan "
                 "(--allow-empty accepts that)"),
    (EXIT_INCOMPLETE, "scan and drift only: an account, Region, service or stack could not be read"),
)
EXIT_CODES = "Exit codes:\n\n" + "\n".join(f"{code}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS)

app = typer.Typer(
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Policy-as-code compliance linter and scanner for AWS Backup.",
    epilog=EXIT_CODES,
)


def _readable_help_types() -> None:
    """typer 0.2x prints Python types in --help (``<list[Path]>`` beside an argument's metavar,
    ``<bool>`` beside every flag): show the metavar alone, and nothing for flags. Older typer
    versions print click's names already and have no such method (then nothing is changed)."""
    from typer import core

    argument, option = getattr(core, "TyperArgument", None), getattr(core, "TyperOption", None)
    if argument is None or option is None or not hasattr(argument, "display_type_rich"):
        return
    shown_argument, shown_option = argument.display_type_rich, option.display_type_rich

    def argument_type(self, ctx):  # type: ignore[no-untyped-def]
        return None if self.metavar else shown_argument(self, ctx)

    def option_type(self, ctx):  # type: ignore[no-untyped-def]
        return None if getattr(self, "is_flag", False) and self.metavar is None else shown_option(self, ctx)

    argument.display_type_rich, option.display_type_rich = argument_type, option_type


_readable_help_types()
typer_light.install()  # typer 0.2x converts option values with pydantic: not on every run (typer_light)


class OutputFormat(str, Enum):
    """Formats of the listing commands (rules, frameworks)."""

    text = "text"
    json = "json"


# The user's own rules and frameworks (docs/custom-rules.md), on every command that runs or lists rules.
RulesDirs = Annotated[list[Path], typer.Option(
    "--rules-dir", metavar="DIR", help="Folder of your own rule files, IDs PREFIX-NAME (repeatable; also config rules_dir).")]
FrameworksDirs = Annotated[list[Path], typer.Option(
    "--frameworks-dir", metavar="DIR", help="Folder of your own framework files (repeatable; also config frameworks_dir).")]


class FailOn(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


def _say(message: str) -> None:
    """One line on stderr; the message may quote input (paths, YAML), so it is made printable."""
    from backupguard.reports.printable import inert_lines, printable

    typer.echo(inert_lines(printable(message)), err=True)


def _fail(message: str) -> typer.Exit:
    _say(f"backupguard: error: {message}")
    return typer.Exit(EXIT_USAGE)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"backupguard {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        Optional[bool], typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Policy-as-code compliance linter and scanner for AWS Backup."""


def _cfn_parameters(pairs: list[str], file: Optional[Path]) -> dict[str, str]:
    """``--parameters-file`` (the AWS CLI's [{"ParameterKey", "ParameterValue"}] or a plain map), then ``--parameter``."""
    from backupguard.scanner.cloudformation import TemplateError
    from backupguard.scanner.cloudformation.parameters import read_parameters_file

    values: dict[str, str] = {}
    if file is not None:
        try:
            values.update(read_parameters_file(file))
        except TemplateError as exc:
            raise _fail(f"{file}:{exc.line}: {exc.message}") from None
    values.update(_pairs(pairs, "--parameter", "Key=Value"))
    return values


def _pairs(pairs: list[str], option: str, form: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _fail(f"{option} {pair!r}: expected {form}")
        try:
            pair.encode("utf-8")
        except UnicodeEncodeError:  # bytes the shell passed that are not UTF-8 (surrogate escapes)
            shown = key.encode("utf-8", "replace").decode("utf-8")
            raise _fail(f"{option} {shown}=...: not UTF-8 text") from None
        values[key] = value
    return values


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    html = "html"
    markdown = "markdown"
    csv_resources = "csv-resources"
    csv_controls = "csv-controls"
    json_resources = "json-resources"
    json_controls = "json-controls"
    codequality = "codequality"


# Options every command that judges results shares (lint, scan, report).
Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No terminal summary, notes or progress; reports given with --output (or --format) are still "
    "written, and errors still go to stderr.")]
NoColor = Annotated[bool, typer.Option(
    "--no-color", help="No colour in the terminal summary (as NO_COLOR=1). Colour is only ever written to a terminal.")]
SoftFail = Annotated[bool, typer.Option(
    "--soft-fail", help="Exit 0 whatever the results (findings, unreadable files, an empty or incomplete scan): a report "
    "without a red build. Usage and configuration errors still exit 2.")]
_SEVERITIES = "info, low, medium, high, critical or never"
FailOnOption = Annotated[Optional[FailOn], typer.Option(
    "--fail-on", metavar="SEVERITY",
    help=f"Exit 1 when a failing result has at least this severity: {_SEVERITIES} (config: fail_on)." + _default("low"))]
FormatOption = Annotated[Optional[Format], typer.Option(
    "--format", "-f", metavar="FORMAT",
    help=f"Format for stdout and for --output PATH: {', '.join(f.value for f in Format)}." + _default("text"))]
OutputOption = Annotated[list[str], typer.Option(
    "--output", "-o", metavar="FORMAT=PATH",
    help="Write FORMAT to PATH (repeatable); PATH '-' is stdout; a bare PATH is in --format. The terminal summary "
    "stays on stdout unless an output is '-' or --quiet.")]


_FORMAT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
Output = tuple[str, Optional[Path]]  # (format, path); no path: stdout


def _outputs(options: list[str], output_format: Optional[Format], quiet: bool = False) -> list[Output]:
    """What to write where. ``--output FORMAT=PATH`` (repeatable; PATH ``-`` is stdout) or
    ``--output PATH`` (in --format); none: --format to stdout. Outputs to files keep the terminal
    summary (text) on stdout, unless one output is stdout already or ``quiet``. ``quiet`` without
    --format or --output writes nothing: the exit code is the answer.

    ``NAME=...`` where NAME is a word but no format is a mistake (a misspelt format), listed with
    the formats; a file name with ``=`` can be given as ``./name=...``."""
    names = {f.value for f in Format}
    default = (output_format or Format.text).value
    outputs: list[Output] = []
    for option in options:
        name, sep, path = option.partition("=")
        if sep and name.lower() in names:
            if not path:
                raise _fail(f"--output {option!r}: expected {name}=PATH (- for stdout)")
            outputs.append((name.lower(), None if path == "-" else Path(path)))
        elif sep and _FORMAT_NAME.fullmatch(name):
            raise _fail(f"--output {option!r}: unknown format {name!r} (formats: {', '.join(sorted(names))})")
        else:
            outputs.append((default, None if option == "-" else Path(option)))
    if sum(path is None for _, path in outputs) > 1:
        raise _fail("--output: only one output can go to stdout (-)")
    if not options:
        if not quiet or output_format is not None:
            outputs.append((default, None))
    elif not quiet and all(path is not None for _, path in outputs):
        outputs.append((Format.text.value, None))  # the terminal summary beside the report files
    return outputs


def _write_reports(doc: dict, outputs: list[Output], show_passed: bool, strict: bool, *,
                   no_color: bool = False, relocate: Optional[Callable[[str], str]] = None) -> bool:
    """Render and write every output; a failed one is named on stderr and the others are still written.

    Colour only for text on a terminal (never in a file or a pipe); ``relocate`` makes SARIF URIs
    relative to the source root. Returns False when any output failed (the run then exits 2).
    """
    from backupguard.reports import stream
    from backupguard.terminal import use_color

    ok = True
    for name, path in outputs:
        color = path is None and name == "text" and use_color(sys.stdout, no_color)
        text = stream(name, doc, show_passed=show_passed, strict=strict, color=color, relocate=relocate)
        try:
            _write_stdout(text) if path is None else _write_atomically(path, text)
        except OSError as exc:
            _say(f"backupguard: error: {'standard output' if path is None else path}: cannot write {name} report: "
                 f"{exc.strerror or exc}")
            ok = False
    return ok


def _write_stdout(text: str | Iterable[str]) -> None:
    """Write (a text, or its pieces as they are rendered) and flush now, so that a full or closed
    stdout is an error we report, not a traceback at exit."""
    if sys.stdout is None:
        raise OSError(9, "standard output is closed")
    try:
        for piece in (text,) if isinstance(text, str) else text:
            sys.stdout.write(piece)
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        # What is still buffered would fail again when Python exits: point stdout at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)
        raise OSError(getattr(exc, "errno", None) or 5, getattr(exc, "strerror", None) or str(exc)) from None


def _write_atomically(path: Path, text: str | Iterable[str]) -> None:
    """A temporary file beside ``path`` (a text, or its pieces written as they are rendered), then a
    rename: a failed write (a full disk) leaves the previous report intact and no truncated one. A
    target that exists and is not a regular file (``/dev/null``, a pipe, ``/dev/stdout``) is written
    in place: renaming over it would replace a device with a file."""
    import stat
    import tempfile

    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False  # absent (or unreadable: the write below says why)
    pieces = (text,) if isinstance(text, str) else text
    if special:
        with open(path, "w", encoding="utf-8") as target:
            for piece in pieces:
                target.write(piece)
        return

    folder = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(handle.name, path.stat().st_mode & 0o7777)
        else:
            os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _shown_from(root: Path, relative: bool) -> Callable[[Optional[str]], Optional[str]]:
    """Root-relative file names (as the scan names them) -> as shown to the user: relative to the
    working directory when below it, else ``../``-relative when the paths were given relative, else absolute."""
    from backupguard.scanner import STDIN_NAME, display_paths, encodable

    cwd = os.path.realpath(Path.cwd())
    display_path = display_paths()  # each folder resolved once

    @lru_cache(maxsize=None)
    def shown(name: Optional[str]) -> Optional[str]:
        if name is None or name == STDIN_NAME:
            return name
        path = root / name
        below = display_path(path)
        if not relative or not Path(below).is_absolute():
            return below
        return encodable(Path(os.path.relpath(path, cwd)).as_posix())

    return shown


_CHECK_HELP = "Run only these rules: IDs, names or globs (BG3*), comma-separated or repeated." + _default("config 'check', else all")
_SKIP_CHECK_HELP = "Leave out these rules: IDs, names or globs, comma-separated or repeated." + _default("config 'skip_check'")
_BASELINE_HELP = ("Fail only on results not in this baseline (written by `backupguard baseline`, or a -f json "
                  "result document); the others are marked unchanged.")


# Options shared by lint, baseline and scan.
FrameworkOption = Annotated[list[str], typer.Option("--framework", metavar="ID", help="Run this framework's controls (repeatable).")]
ParamOption = Annotated[list[str], typer.Option("--param", metavar="RULE.PARAM=VALUE", help="Rule parameter (repeatable).")]
ConfigOption = Annotated[Optional[Path], typer.Option(
        metavar="PATH", help="Config file." + _default(".backupguard.yaml here or in a folder above, up to the repository root"))]
CheckOption = Annotated[list[str], typer.Option("--check", metavar="RULES", help=_CHECK_HELP)]
SkipCheckOption = Annotated[list[str], typer.Option("--skip-check", metavar="RULES", help=_SKIP_CHECK_HELP)]
BaselineOption = Annotated[Optional[Path], typer.Option("--baseline", metavar="FILE", help=_BASELINE_HELP)]
ParameterOption = Annotated[list[str], typer.Option("--parameter", metavar="KEY=VALUE", help="CloudFormation parameter (repeatable).")]
ParametersFileOption = Annotated[Optional[Path], typer.Option(metavar="PATH", help="CloudFormation parameters JSON file.")]
RegionOption = Annotated[Optional[str], typer.Option(
    metavar="REGION", help="Value of AWS::Region in CloudFormation templates (Terraform's Region comes from its providers)."
    + _default("symbolic, ${AWS::Region}"))]
AccountIdOption = Annotated[Optional[str], typer.Option(
    metavar="ACCOUNT", help="Value of AWS::AccountId in CloudFormation templates, and the account of Terraform resources."
    + _default("symbolic, ${AWS::AccountId}"))]
VarOption = Annotated[list[str], typer.Option("--var", metavar="NAME=VALUE", help="Terraform variable (repeatable).")]
VarFileOption = Annotated[list[Path], typer.Option("--var-file", metavar="PATH", help="Terraform .tfvars file (repeatable).")]
ExcludeOption = Annotated[list[str], typer.Option("--exclude", metavar="GLOB", help="Skip files matching this glob (repeatable).")]
ShowPassed = Annotated[bool, typer.Option("--show-passed", help="List passing results in the text output.")]
StrictOption = Annotated[bool, typer.Option("--strict", help="Count unknown results as failures (exit code, JUnit).")]
SarifRootOption = Annotated[Optional[Path], typer.Option(
    metavar="PATH", help="Folder SARIF URIs are relative to." + _default("the git repository of the PATHs, else the working directory"))]
RootOption = Annotated[Optional[Path], typer.Option(
        "--root", metavar="PATH", help="Scan root: no file outside it is read." + _default("the common folder of the PATHs"))]


@app.command(epilog=EXIT_CODES)
def lint(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", show_default=False,
        help="Templates, Terraform folders, plan JSON or policy files, or folders to walk; - reads a template, "
        "Terraform snippet or plan from stdin. Named files that are not IaC are skipped with a note.",
        readable=False,  # an unreadable path is a located error of the scan, not a usage error that stops it
    )],
    output_format: FormatOption = None,
    output: OutputOption = [],
    fail_on: FailOnOption = None,
    framework: FrameworkOption = [],
    param: ParamOption = [],
    config: ConfigOption = None,
    parameter: ParameterOption = [],
    parameters_file: ParametersFileOption = None,
    region: RegionOption = None,
    account_id: AccountIdOption = None,
    var: VarOption = [],
    var_file: VarFileOption = [],
    exclude: ExcludeOption = [],
    show_passed: ShowPassed = False,
    strict: StrictOption = False,
    root: RootOption = None,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Exit 0 when the PATHs hold no template, Terraform configuration, plan or policy (config: "
        "allow_empty); else that exits 2. Named files that are all not IaC exit 0 anyway.")] = False,
    soft_fail: SoftFail = False,
    sarif_root: SarifRootOption = None,
    quiet: Quiet = False,
    no_color: NoColor = False,
    check: CheckOption = [],
    skip_check: SkipCheckOption = [],
    baseline: BaselineOption = None,
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
) -> None:
    """Check CloudFormation, Terraform (HCL and plan JSON) and Organizations backup policies."""
    from backupguard import pipeline

    outputs = _outputs(output, output_format, quiet)
    run = _settings(config, framework, param, fail_on, strict, check, skip_check, baseline, rules_dir, frameworks_dir)
    outcome, options = _lint(paths, run, parameter, parameters_file, region, account_id, var, var_file, exclude, root)
    relocate = None
    if any(name == "sarif" for name, _ in outputs):
        from backupguard.scanner import source_relative

        relocate = source_relative(pipeline.source_root(sarif_root, options.root))
    _finish(outcome, outputs, show_passed, run.threshold, run.strict, soft_fail=soft_fail,
            allow_empty=allow_empty or run.config.allow_empty, no_color=no_color, relocate=relocate)


def _lint(paths: list[Path], run, parameter: list[str], parameters_file: Optional[Path], region: Optional[str],
          account_id: Optional[str], var: list[str], var_file: list[Path], exclude: list[str], root: Optional[Path]):
    """The scan options lint and baseline share, turned into the pipeline's arguments and run."""
    from backupguard import pipeline
    from backupguard.scanner import encodable

    options, shown = _scan_options(paths, parameter, parameters_file, region, account_id, var, var_file, exclude, root)
    scan_info = {"paths": [encodable(p.as_posix()) for p in paths], "region": region, "account_id": account_id}
    return pipeline.lint(paths, run, options, scan_info, shown), options


def _scan_options(paths: list[Path], parameter: list[str], parameters_file: Optional[Path], region: Optional[str],
                  account_id: Optional[str], var: list[str], var_file: list[Path], exclude: list[str], root: Optional[Path]):
    """How the code is read (lint, baseline, drift), and how its file names are shown."""
    from backupguard.scanner import ScanOptions, is_stdin
    from backupguard.scanner.cloudformation import CfnOptions
    from backupguard.scanner.paths import scan_root
    from backupguard.scanner.terraform.source import TerraformOptions

    options = ScanOptions(
        cfn=CfnOptions(_cfn_parameters(parameter, parameters_file), region, account_id),
        terraform=TerraformOptions(_pairs(var, "--var", "NAME=VALUE"), tuple(var_file)),
        exclude=tuple(exclude),
        root=scan_root(paths, root),
    )
    return options, _shown_from(options.root, relative=not all(p.is_absolute() or is_stdin(p) for p in paths))


def _settings(config: Optional[Path], framework: list[str], param: list[str], fail_on: Optional["FailOn"], strict: bool,
              check: list[str] = [], skip_check: list[str] = [], baseline: Optional[Path] = None,
              rules_dir: list[Path] = (), frameworks_dir: list[Path] = (), drift: bool = False):
    """The run's checks and verdict threshold (pipeline.settings), or a usage error."""
    from backupguard import pipeline

    try:
        return pipeline.settings(config, framework, param, fail_on.value if fail_on else None, strict,
                                 check, skip_check, baseline,
                                 rules_dirs=tuple(rules_dir), frameworks_dirs=tuple(frameworks_dir), drift=drift)
    except pipeline.RunError as exc:
        raise _fail(str(exc)) from None


def _finish(outcome, outputs: list[Output], show_passed: bool, threshold: str, strict: bool, *, soft_fail: bool = False,
            allow_empty: bool = False, incomplete: int | None = None, no_color: bool = False,
            relocate: Optional[Callable[[str], str]] = None) -> None:
    """Warn, write every report, then exit with the documented code (pipeline.exit_status)."""
    from backupguard.pipeline import exit_status

    for warning in outcome.warnings:
        _say(f"backupguard: warning: {warning}")
    if not _write_reports(outcome.document, outputs, show_passed, strict, no_color=no_color, relocate=relocate):
        raise typer.Exit(EXIT_USAGE)
    if outcome.empty and not allow_empty:
        level = "warning" if soft_fail else "error"
        _say(f"backupguard: {level}: nothing to scan: {outcome.empty} (--allow-empty or allow_empty: true accepts this)")
    raise typer.Exit(exit_status(outcome, threshold, strict, soft_fail=soft_fail, allow_empty=allow_empty, incomplete=incomplete))


@app.command("baseline")
def write_baseline(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", help="Templates, Terraform folders, plan JSON or policy files, or folders to walk.", show_default=False,
        readable=False,
    )],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="PATH", help="Write the baseline here." + _default("stdout"))] = None,
    framework: FrameworkOption = [],
    param: ParamOption = [],
    config: ConfigOption = None,
    parameter: ParameterOption = [],
    parameters_file: ParametersFileOption = None,
    region: RegionOption = None,
    account_id: AccountIdOption = None,
    var: VarOption = [],
    var_file: VarFileOption = [],
    exclude: ExcludeOption = [],
    root: RootOption = None,
    check: CheckOption = [],
    skip_check: SkipCheckOption = [],
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
) -> None:
    """Write a baseline of today's failing and unknown findings, so that `lint --baseline` fails only on new ones.

    Takes the same scan options as lint. Suppressed findings are left out: their suppression accepts them.

    Exit codes: 0 written, 2 usage error or an input that could not be read (the baseline is still written).
    """
    from backupguard.baseline import entries, render

    run = _settings(config, framework, param, None, False, check, skip_check, None, rules_dir, frameworks_dir)
    outcome, _ = _lint(paths, run, parameter, parameters_file, region, account_id, var, var_file, exclude, root)
    text = render(outcome.results)
    try:
        _write_stdout(text) if output is None else _write_atomically(output, text)
    except OSError as exc:
        raise _fail(f"{'standard output' if output is None else output}: cannot write baseline: {exc.strerror or exc}") from None
    count = len(entries(outcome.results))
    _say(f"backupguard: baseline of {count} finding{'' if count == 1 else 's'}"
         + (f" written to {output}" if output is not None else ""))
    errors = [r for r in outcome.results if r.status == "error"]
    for error in errors[:20]:
        _say(f"backupguard: error: {error.file or ''}:{error.line}: {error.rule_id} {error.message}")
    raise typer.Exit(EXIT_USAGE if errors else 0)


def _shard(value: Optional[str]) -> Optional[tuple[int, int]]:
    if value is None:
        return None
    index, sep, count = value.partition("/")
    if not (sep and index.isascii() and index.isdigit() and count.isascii() and count.isdigit()) or not 0 <= int(index) < int(count):
        raise _fail(f"--shard {value!r}: expected I/N with 0 <= I < N (0-based, as Kubernetes and AWS Batch array indexes)")
    return int(index), int(count)


@app.command(epilog=EXIT_CODES)
def scan(
    profile: Annotated[Optional[str], typer.Option(metavar="NAME", help="AWS profile." + _default("the standard credential chain"))] = None,
    region: Annotated[list[str], typer.Option("--region", metavar="REGION", help="Region to scan (repeatable)." + _default("every Region enabled for the account"))] = [],
    org: Annotated[bool, typer.Option("--org", help="Scan every active account of the Organization.")] = False,
    role_name: Annotated[Optional[str], typer.Option(metavar="NAME", help="Role assumed in member accounts (with --org or --account).")] = None,
    external_id: Annotated[Optional[str], typer.Option(metavar="ID", help="External ID for assuming --role-name.")] = None,
    ou: Annotated[list[str], typer.Option("--ou", metavar="ID", help="Only accounts below this OU or root (repeatable).")] = [],
    account: Annotated[list[str], typer.Option("--account", metavar="ACCOUNT", help="Only this account (repeatable).")] = [],
    accounts_file: Annotated[Optional[Path], typer.Option(metavar="PATH", help="File of account IDs, one per line (# comments).")] = None,
    exclude_account: Annotated[list[str], typer.Option("--exclude-account", metavar="ACCOUNT", help="Skip this account (repeatable).")] = [],
    max_workers: Annotated[int, typer.Option(min=1, max=512, metavar="N", help="Concurrent API calls.")] = 64,
    shard: Annotated[Optional[str], typer.Option(metavar="I/N", help="Scan the I-th (0-based) of N deterministic shares of the accounts.")] = None,
    lookback_days: Annotated[int, typer.Option(min=1, max=3650, metavar="DAYS", help="Read recovery points of the last DAYS days.")] = 35,
    output_format: FormatOption = None,
    output: OutputOption = [],
    fail_on: FailOnOption = None,
    framework: FrameworkOption = [],
    param: ParamOption = [],
    config: ConfigOption = None,
    show_passed: ShowPassed = False,
    strict: StrictOption = False,
    soft_fail: SoftFail = False,
    quiet: Quiet = False,
    no_color: NoColor = False,
    check: CheckOption = [],
    skip_check: SkipCheckOption = [],
    baseline: BaselineOption = None,
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
) -> None:
    """Scan live AWS accounts (read-only) with the same rules: one account, many Regions, or an Organization."""
    from backupguard import pipeline
    from backupguard.scanner.aws.live import LiveOptions, scan_live

    outputs = _outputs(output, output_format, quiet)
    run = _settings(config, framework, param, fail_on, strict, check, skip_check, baseline, rules_dir, frameworks_dir)
    accounts = list(account)
    if accounts_file is not None:
        try:
            lines = accounts_file.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"{accounts_file}: cannot read accounts file: {exc}") from None
        accounts += [entry for line in lines if (entry := line.split("#", 1)[0].strip())]
    bad = [a for a in accounts + list(exclude_account) if not (len(a) == 12 and a.isascii() and a.isdigit())]
    if bad:
        raise _fail(f"not a 12-digit AWS account ID: {', '.join(map(repr, bad[:5]))}")
    if accounts and not org and role_name is None:
        raise _fail("--account without --org needs --role-name to enter the accounts")
    import importlib.util

    if importlib.util.find_spec("boto3") is None:
        raise _fail("live scanning needs boto3: pip install \"backupguard[aws]\"")
    options = LiveOptions(
        profile=profile, regions=tuple(region), org=org, role_name=role_name, external_id=external_id,
        ous=tuple(ou), accounts=tuple(accounts), exclude_accounts=tuple(exclude_account), max_workers=max_workers,
        shard=_shard(shard), lookback_days=lookback_days, progress=None if quiet else _progress_printer(),
    )
    scan_info = {
        "kind": "live", "profile": profile, "regions": sorted(region), "org": org, "shard": shard,
        "ous": sorted(ou), "lookback_days": lookback_days,
    }

    def read():
        estate = scan_live(options)
        _progress_done(options.progress)
        return estate

    outcome = pipeline.live(read, run, scan_info)
    _summarise_incomplete(outcome.results)
    if any(name == "sarif" for name, _ in outputs):
        _say("backupguard: warning: GitHub code scanning refuses a SARIF upload whose results have no file; "
             "live results carry ARNs (use JSON, HTML or JUnit for live scans, SARIF for lint)")
    _finish(outcome, outputs, show_passed, run.threshold, run.strict, soft_fail=soft_fail, incomplete=EXIT_INCOMPLETE,
            no_color=no_color)


@app.command(epilog=EXIT_CODES)
def drift(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", show_default=False, readable=False,
        help="The code of the account: templates, Terraform folders, plan JSON or policy files, or folders to walk.")],
    profile: Annotated[Optional[str], typer.Option(metavar="NAME", help="AWS profile." + _default("the standard credential chain"))] = None,
    region: Annotated[Optional[str], typer.Option(
        metavar="REGION", help="The Region to compare (also AWS::Region in templates)." + _default("the profile's Region"))] = None,
    account: Annotated[Optional[str], typer.Option(
        metavar="ACCOUNT", help="The account to compare, entered with --role-name (also AWS::AccountId in templates)."
        + _default("the credentials' own account"))] = None,
    role_name: Annotated[Optional[str], typer.Option(metavar="NAME", help="Role assumed in --account.")] = None,
    external_id: Annotated[Optional[str], typer.Option(metavar="ID", help="External ID for assuming --role-name.")] = None,
    stack: Annotated[list[str], typer.Option(
        "--stack", metavar="NAME", help="CloudFormation stack deployed from the templates: pairs logical IDs with what "
        "the stack created (repeatable).")] = [],
    plan_json: Annotated[Optional[Path], typer.Option(
        metavar="FILE", help="Terraform plan JSON (terraform show -json PLANFILE): pairs addresses with the IDs of its "
        "prior state. State files are never read.")] = None,
    output_format: FormatOption = None,
    output: OutputOption = [],
    fail_on: FailOnOption = None,
    param: ParamOption = [],
    config: ConfigOption = None,
    parameter: ParameterOption = [],
    parameters_file: ParametersFileOption = None,
    var: VarOption = [],
    var_file: VarFileOption = [],
    exclude: ExcludeOption = [],
    root: RootOption = None,
    show_passed: ShowPassed = False,
    strict: StrictOption = False,
    soft_fail: SoftFail = False,
    sarif_root: SarifRootOption = None,
    quiet: Quiet = False,
    no_color: NoColor = False,
    check: CheckOption = [],
    skip_check: SkipCheckOption = [],
    baseline: BaselineOption = None,
    rules_dir: RulesDirs = [],
) -> None:
    """Compare the code with one account and Region (read-only): changes made in the console, and what no code declares."""
    from backupguard import pipeline
    from backupguard.scanner import encodable, source_relative

    outputs = _outputs(output, output_format, quiet)
    run = _settings(config, [], param, fail_on, strict, check, skip_check, baseline, rules_dir, drift=True)
    if account is not None and not (len(account) == 12 and account.isascii() and account.isdigit()):
        raise _fail(f"--account {account!r}: not a 12-digit AWS account ID")
    import importlib.util

    if importlib.util.find_spec("boto3") is None:
        raise _fail("drift reads the account: it needs boto3: pip install \"backupguard[aws]\"")
    from backupguard.scanner.aws.drift_source import LiveDriftSource

    options, shown = _scan_options(paths, parameter, parameters_file, region, account, var, var_file, exclude, root)
    source = LiveDriftSource(profile, region, account, role_name, external_id, tuple(stack))
    scan_info = {"paths": [encodable(p.as_posix()) for p in paths], "profile": profile}
    try:
        outcome = pipeline.drift(paths, run, options, source, scan_info, shown, plan_json)
    except pipeline.RunError as exc:
        raise _fail(str(exc)) from None
    _summarise_incomplete([r for r in outcome.results if r.status == "error" and r.is_live])
    relocate = None
    if any(name == "sarif" for name, _ in outputs):
        relocate = source_relative(pipeline.source_root(sarif_root, options.root))
    if any(name == "sarif" for name, _ in outputs) and any(not r.file for r in outcome.results if r.status == "fail"):
        _say("backupguard: warning: GitHub code scanning refuses a SARIF upload whose results have no file; unmanaged "
             "plans (BG703) have only their ARN (--skip-check BG703 for the upload, see docs/drift.md)")
    unread = any(r.status == "error" and r.is_live for r in outcome.results)  # the account, not the code
    _finish(outcome, outputs, show_passed, run.threshold, run.strict, soft_fail=soft_fail,
            incomplete=EXIT_INCOMPLETE if unread else None, no_color=no_color, relocate=relocate)


def _summarise_incomplete(results: list) -> None:
    """On stderr, what could not be read (each is also an error result in every report)."""
    errors = [r for r in results if r.status == "error"]
    if errors:
        _say(f"backupguard: the scan is incomplete: {len(errors)} scope(s) could not be read")
        for error in errors[:20]:
            _say(f"  {error.message}")
        if len(errors) > 20:
            _say(f"  ... and {len(errors) - 20} more (see the reports)")


def _progress_printer():
    """A one-line progress display on stderr when it is a terminal (and NO_COLOR-safe: no colour)."""
    if not sys.stderr.isatty():
        return None
    import time

    last = [0.0]

    def show(progress) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and progress.scopes_done < progress.scopes_total:
            return
        last[0] = now
        sys.stderr.write(
            f"\rscanning: {progress.accounts} accounts, {progress.scopes_done}/{progress.scopes_total} account-Regions, "
            f"{progress.calls} calls, {progress.errors} errors "
        )
        sys.stderr.flush()

    return show


def _progress_done(progress) -> None:
    if progress is not None:
        sys.stderr.write("\n")
        sys.stderr.flush()


@app.command("iam-policy")
def iam_policy() -> None:
    """Print the minimal read-only IAM policy the scanning role needs (the scanner refuses every other call)."""
    from backupguard.scanner.aws.readonly import iam_policy as policy

    typer.echo(json.dumps(policy(), indent=2))


@app.command(epilog=EXIT_CODES)
def report(
    documents: Annotated[list[Path], typer.Argument(
        metavar="DOCUMENT", help="JSON result documents (backupguard lint --format json).", show_default=False)],
    output_format: FormatOption = None,
    output: OutputOption = [],
    fail_on: Annotated[Optional[FailOn], typer.Option(
        "--fail-on", metavar="SEVERITY",
        help=f"Exit 1 when a failing result has at least this severity: {_SEVERITIES}." + _default("never"))] = None,
    show_passed: ShowPassed = False,
    strict: StrictOption = False,
    soft_fail: SoftFail = False,
    sarif_root: Annotated[Optional[Path], typer.Option(
        metavar="PATH", help="Folder SARIF URIs are relative to; the documents' file names are read relative to the "
        "working directory." + _default("the git repository of the working directory, else the working directory"))] = None,
    quiet: Quiet = False,
    no_color: NoColor = False,
) -> None:
    """Re-render saved JSON results in any format, merging several (shards, repositories) into one."""
    from backupguard import pipeline

    outputs = _outputs(output, output_format, quiet)
    try:
        outcome = pipeline.report(documents)
    except pipeline.RunError as exc:
        raise _fail(str(exc)) from None
    relocate = None
    if any(name == "sarif" for name, _ in outputs):
        from backupguard.scanner import source_relative

        relocate = source_relative(pipeline.source_root(sarif_root, Path.cwd()))
    _finish(outcome, outputs, show_passed, fail_on.value if fail_on else "never", strict, soft_fail=soft_fail,
            no_color=no_color, relocate=relocate)


def _catalogue(config: Optional[Path], rules_dir: list[Path], frameworks_dir: Optional[list[Path]] = None) -> tuple[dict, dict]:
    """Rules (and, given ``frameworks_dir``, frameworks), shipped and the user's (config file, --rules-dir,
    --frameworks-dir), or a usage error."""
    from backupguard import pipeline

    try:
        return pipeline.catalogue(config, tuple(rules_dir), None if frameworks_dir is None else tuple(frameworks_dir))
    except pipeline.RunError as exc:
        raise _fail(str(exc)) from None


@app.command("rules")
def list_rules(
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    rules_dir: RulesDirs = [],
    config: ConfigOption = None,
) -> None:
    """List the rule catalogue with each rule's references."""
    rules, _ = _catalogue(config, rules_dir)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps([r.metadata() for r in rules.values()], indent=2))
        return
    for rule in rules.values():
        refs = [v if isinstance(v, str) else ", ".join(v) for v in rule.references.values()]
        typer.echo(f"{rule.id}  {rule.severity:<8} {rule.title}")
        if refs:
            typer.echo(f"       references: {'; '.join(refs)}")


@app.command()
def explain(
    rule: Annotated[str, typer.Argument(
        metavar="RULE", help="Rule ID (BG101) or name, or what it corresponds to: an Audit Manager control, AWS Config "
        "rule, Security Hub control or Checkov ID (CKV_AWS_166).")],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the page's Markdown source (as in docs/rules/).")] = False,
    no_color: Annotated[bool, typer.Option(
        "--no-color", help="No bold or colour (as NO_COLOR=1); they are only ever written to a terminal.")] = False,
    rules_dir: RulesDirs = [],
    config: ConfigOption = None,
) -> None:
    """Print a rule's documentation: what it checks, why, how to fix it, examples."""
    from backupguard.rules.docs import lookup, page

    rules, _ = _catalogue(config, rules_dir)
    found = lookup(rule, rules)
    if not found:
        raise _fail(f"no rule {rule!r}; `backupguard rules` lists them")
    if len(found) > 1:
        _say(f"backupguard: error: {rule!r} matches {len(found)} rules; explain one of them:")
        for candidate in found:
            _say(f"  {candidate.id}  {candidate.title}")
        raise typer.Exit(EXIT_USAGE)
    text = page(found[0])
    if markdown:
        typer.echo(text)
        return
    from backupguard.terminal import render_markdown, use_color, wrap_width

    typer.echo(render_markdown(text, wrap_width(sys.stdout), use_color(sys.stdout, no_color)).rstrip("\n"))


@app.command()
def init(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write the config file.")] = Path(".backupguard.yaml"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing when the file is written.")] = False,
) -> None:
    """Write a commented starter .backupguard.yaml (with its JSON Schema for editors); never over an existing file."""
    from backupguard.config_file import write_starter

    try:
        write_starter(path)
    except FileExistsError:
        raise _fail(f"{path} exists; not overwritten (edit it, or remove it and run init again)") from None
    except OSError as exc:
        raise _fail(f"{path}: cannot write: {exc.strerror or exc}") from None
    if not quiet:
        typer.echo(f"wrote {path}: every key with its default, commented; `backupguard lint` reads it from here and the folders below")


@app.command("frameworks")
def list_frameworks(
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
    config: ConfigOption = None,
) -> None:
    """List the frameworks (shipped and your own) and the rules each control maps to."""
    _, frameworks = _catalogue(config, rules_dir, frameworks_dir)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps([f.metadata() for f in frameworks.values()], indent=2))
        return
    for fw in frameworks.values():
        typer.echo(f"{fw.id}  {fw.title}")
        for control in fw.controls:
            typer.echo(f"  {control.id}: {', '.join(r.rule_id for r in control.rules)}")


class ExportFormat(str, Enum):
    cloudformation = "cloudformation"
    terraform = "terraform"
    conformance_pack = "conformance-pack"


class ReportTemplate(str, Enum):
    control = "control"
    resource = "resource"


@app.command()
def export(
    framework: Annotated[str, typer.Option("--framework", metavar="ID", help="The framework to export (`backupguard frameworks` lists them).")],
    output_format: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="cloudformation or terraform: an AWS Backup Audit Manager framework; conformance-pack: "
        "the AWS Config managed rules.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write here." + _default("stdout"))] = None,
    name: Annotated[Optional[str], typer.Option(
        metavar="NAME", help="The framework's name in AWS ([a-zA-Z][_a-zA-Z0-9]*)." + _default("the ID, hyphens as underscores"))] = None,
    report_plan: Annotated[Optional[ReportTemplate], typer.Option(
        "--report-plan", metavar="TEMPLATE", help="Also a report plan on the framework: control or resource (compliance report).")] = None,
    report_bucket: Annotated[Optional[str], typer.Option(
        metavar="BUCKET", help="S3 bucket of the report plan." + _default("a template parameter, a Terraform variable"))] = None,
    param: ParamOption = [],
    config: ConfigOption = None,
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
) -> None:
    """Write a framework as native AWS resources: an Audit Manager framework (CloudFormation, Terraform) or a Config conformance pack.

    Parameters come from the framework, the config file and --param, as for lint. Rules with no
    native equivalent are listed in a comment at the top of the file and on stderr.

    Exit codes: 0 written, 2 usage error (an unknown framework, an invalid name) or the file could not be written.
    """
    from backupguard.export import ExportError, Request, export as exported

    run = _settings(config, [framework], param, None, False, rules_dir=rules_dir, frameworks_dir=frameworks_dir)
    request = Request(output_format.value, name, report_plan.value if report_plan else None, report_bucket)
    try:
        result = exported(run.frameworks[framework], run.checks, request)
    except ExportError as exc:
        raise _fail(str(exc)) from None
    try:
        _write_stdout(result.text) if output is None else _write_atomically(output, result.text)
    except OSError as exc:
        raise _fail(f"{'standard output' if output is None else output}: cannot write: {exc.strerror or exc}") from None
    _say(f"backupguard: exported {result.count} {result.kind} from {framework}"
         + (f" to {output}" if output is not None else ""))
    if result.unmapped:
        _say(f"backupguard: not exported, {len(result.unmapped)} rule(s) AWS has no equivalent for here:")
        for entry in result.unmapped:
            _say(f"  {entry}")
    for note in result.notes:
        _say(f"backupguard: note: {note}")


def console() -> None:
    """The ``backupguard`` process (console script and ``python -m backupguard``): :func:`main`,
    then the process ends at once.

    A large run leaves hundreds of MiB of objects behind, some in reference cycles (Terraform's
    module graph). Python's shutdown would free them one by one and run the cyclic collector over
    them, for a process about to end: 0.5 s of a 10,000-resource Terraform run. By the time
    :func:`main` returns, every report is written and closed and standard output has been flushed
    (a failure to write it is reported there); nothing of backupguard's registers work for exit. So
    the streams are flushed once more and the process exits with :func:`main`'s status, as Python
    would have. The cyclic collector is off from here on (main would switch it back on, through
    pipeline.batch_collector, and its first collection would then walk every object of the run).
    Callers that embed the CLI call :func:`main` instead."""
    import gc

    gc.disable()
    try:
        main()
        status: int = 0
    except SystemExit as exc:
        status = _exit_status(exc.code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # already reported by main (_write_stdout), or nobody reads it
            pass
    os._exit(status)


def _exit_status(code: object) -> int:
    """The status Python gives ``SystemExit(code)``: None is 0, a number is itself, anything else
    is printed to standard error and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def app_for(argv: list[str]) -> typer.Typer:
    """The app that runs this command line: when it names one of the commands first (``backupguard
    lint ...``), a copy of :data:`app` that holds that command alone, else :data:`app` itself.

    Typer builds every command's options from its signature on every run (27 ms for eleven: a tenth
    of linting one small template, which pre-commit does on every commit); the command that runs is
    built the same way either way, so its options, help and errors are the same (tests compare them).
    The group's own options (``--version``), its help and a misspelt command get the whole app."""
    import copy

    from typer.main import get_command_name

    name = argv[1] if len(argv) > 1 else None
    chosen = [c for c in app.registered_commands
              if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == name]
    if len(chosen) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = chosen
    return one


def main() -> None:
    """The command line, in-process (the ``backupguard`` process runs it through :func:`console`):
    no traceback ever reaches the user."""
    from backupguard.pipeline import batch_collector

    try:
        with batch_collector():
            app_for(sys.argv)()
    except KeyboardInterrupt:
        typer.echo("backupguard: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported as a usage/input error
        _say(f"backupguard: internal error: {type(exc).__name__}: {exc} (please report this)")
        sys.exit(EXIT_USAGE)
