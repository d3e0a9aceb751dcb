"""The ``backupguard`` command line. Heavy modules are imported inside the commands that need them."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from backupguard import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Policy-as-code compliance linter and scanner for AWS Backup.",
)

from backupguard.pipeline import EXIT_INCOMPLETE, EXIT_USAGE


class OutputFormat(str, Enum):
    """Formats of the listing commands (rules, frameworks)."""

    text = "text"
    json = "json"


# The user's own rules and frameworks (docs/custom-rules.md), on every command that runs or lists rules.
RulesDirs = Annotated[list[Path], typer.Option(
    "--rules-dir", help="Folder of your own rule files, IDs PREFIX-NAME (repeatable; also config rules_dir).")]
FrameworksDirs = Annotated[list[Path], typer.Option(
    "--frameworks-dir", help="Folder of your own framework files (repeatable; also config frameworks_dir).")]


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
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
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


def _outputs(options: list[str], default: Format) -> list[tuple[str, Optional[Path]]]:
    """``--output FORMAT=PATH`` (repeatable) or ``--output PATH`` (in --format); none: --format to stdout."""
    if not options:
        return [(default.value, None)]
    outputs = []
    names = {f.value for f in Format}
    for option in options:
        name, sep, path = option.partition("=")
        if sep and name in names:
            outputs.append((name, Path(path)))
        elif sep and not Path(option).suffix:  # "foo=bar" with an unknown format name
            raise _fail(f"--output {option!r}: unknown format {name!r} (formats: {', '.join(sorted(names))})")
        else:
            outputs.append((default.value, Path(option)))
    return outputs


def _write_reports(doc: dict, outputs: list[tuple[str, Optional[Path]]], show_passed: bool, strict: bool) -> bool:
    """Render and write every output; a failed one is named on stderr and the others are still written.

    Returns False when any output failed (the run then exits 2).
    """
    from backupguard.reports import render

    ok = True
    for name, path in outputs:
        text = render(name, doc, show_passed=show_passed, strict=strict)
        try:
            _write_stdout(text) if path is None else _write_atomically(path, text)
        except OSError as exc:
            _say(f"backupguard: error: {'standard output' if path is None else path}: cannot write {name} report: "
                 f"{exc.strerror or exc}")
            ok = False
    return ok


def _write_stdout(text: str) -> None:
    """Write and flush now, so that a full or closed stdout is an error we report, not a traceback at exit."""
    if sys.stdout is None:
        raise OSError(9, "standard output is closed")
    try:
        sys.stdout.write(text)
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


def _write_atomically(path: Path, text: str) -> None:
    """A temporary file beside ``path``, then a rename: a failed write (a full disk) leaves the
    previous report intact and no truncated one."""
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
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
    from backupguard.scanner import display_path, encodable

    cwd = os.path.realpath(Path.cwd())

    @lru_cache(maxsize=None)
    def shown(name: Optional[str]) -> Optional[str]:
        if name is None:
            return None
        path = root / name
        below = display_path(path)
        if not relative or not Path(below).is_absolute():
            return below
        return encodable(Path(os.path.relpath(path, cwd)).as_posix())

    return shown


_CHECK_HELP = "Run only these rules: IDs, names or globs (BG3*), comma-separated or repeated [default: config 'check', else all]."
_SKIP_CHECK_HELP = "Leave out these rules: IDs, names or globs, comma-separated or repeated [default: config 'skip_check']."
_BASELINE_HELP = ("Fail only on results not in this baseline (written by `backupguard baseline`, or a -f json "
                  "result document); the others are marked unchanged.")


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(
        help="Templates, Terraform folders, plan JSON or policy files, or folders to walk.", show_default=False,
        readable=False,  # an unreadable path is a located error of the scan, not a usage error that stops it
    )],
    output_format: Annotated[Format, typer.Option("--format", "-f", help="Format for stdout and for --output PATH.")] = Format.text,
    output: Annotated[list[str], typer.Option("--output", "-o", help="FORMAT=PATH (repeatable), or PATH in --format.")] = [],
    fail_on: Annotated[
        Optional[FailOn], typer.Option(help="Exit 1 when a failing result has at least this severity [default: low].")
    ] = None,
    framework: Annotated[list[str], typer.Option("--framework", help="Run this framework's controls (repeatable).")] = [],
    param: Annotated[list[str], typer.Option("--param", help="Rule parameter RULE.PARAM=VALUE (repeatable).")] = [],
    config: Annotated[Optional[Path], typer.Option(help="Config file [default: ./.backupguard.yaml if present].")] = None,
    parameter: Annotated[list[str], typer.Option("--parameter", help="CloudFormation parameter Key=Value (repeatable).")] = [],
    parameters_file: Annotated[Optional[Path], typer.Option(help="CloudFormation parameters JSON file.")] = None,
    region: Annotated[Optional[str], typer.Option(help="Value of AWS::Region (else symbolic).")] = None,
    account_id: Annotated[Optional[str], typer.Option(help="Value of AWS::AccountId (else symbolic).")] = None,
    var: Annotated[list[str], typer.Option("--var", help="Terraform variable NAME=VALUE (repeatable).")] = [],
    var_file: Annotated[list[Path], typer.Option("--var-file", help="Terraform .tfvars file (repeatable).")] = [],
    exclude: Annotated[list[str], typer.Option("--exclude", help="Skip files matching this glob (repeatable).")] = [],
    show_passed: Annotated[bool, typer.Option(help="List passing results in the text output.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Count unknown results as failures (exit code, JUnit).")] = False,
    root: Annotated[
        Optional[Path], typer.Option("--root", help="Scan root: no file outside it is read [default: the common folder of PATHS].")
    ] = None,
    check: Annotated[list[str], typer.Option("--check", help=_CHECK_HELP)] = [],
    skip_check: Annotated[list[str], typer.Option("--skip-check", help=_SKIP_CHECK_HELP)] = [],
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help=_BASELINE_HELP)] = None,
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
) -> None:
    """Check CloudFormation, Terraform (HCL and plan JSON) and Organizations backup policies."""
    from backupguard import pipeline
    from backupguard.scanner import ScanOptions, encodable
    from backupguard.scanner.cloudformation import CfnOptions
    from backupguard.scanner.paths import scan_root
    from backupguard.scanner.terraform.source import TerraformOptions

    outputs = _outputs(output, output_format)
    run = _settings(config, framework, param, fail_on, strict, check, skip_check, baseline, rules_dir, frameworks_dir)
    options = ScanOptions(
        cfn=CfnOptions(_cfn_parameters(parameter, parameters_file), region, account_id),
        terraform=TerraformOptions(_pairs(var, "--var", "NAME=VALUE"), tuple(var_file)),
        exclude=tuple(exclude),
        root=scan_root(paths, root),
    )
    scan_info = {"paths": [encodable(p.as_posix()) for p in paths], "region": region, "account_id": account_id}
    shown = _shown_from(options.root, relative=not all(p.is_absolute() for p in paths))
    outcome = pipeline.lint(paths, run, options, scan_info, shown)
    _finish(outcome, outputs, show_passed, run)


def _settings(config: Optional[Path], framework: list[str], param: list[str], fail_on: Optional["FailOn"], strict: bool,
              check: list[str] = [], skip_check: list[str] = [], baseline: Optional[Path] = None,
              rules_dir: list[Path] = (), frameworks_dir: list[Path] = ()):
    """The run's checks and verdict threshold (pipeline.settings), or a usage error."""
    from backupguard import pipeline

    try:
        return pipeline.settings(config, framework, param, fail_on.value if fail_on else None, strict,
                                 check, skip_check, baseline,
                                 rules_dirs=tuple(rules_dir), frameworks_dirs=tuple(frameworks_dir))
    except pipeline.RunError as exc:
        raise _fail(str(exc)) from None


def _finish(outcome, outputs: list[tuple[str, Optional[Path]]], show_passed: bool, run, incomplete: int | None = None) -> None:
    """Write every report, then exit with the documented code."""
    if not _write_reports(outcome.document, outputs, show_passed, run.strict):
        raise typer.Exit(EXIT_USAGE)
    from backupguard.pipeline import exit_code

    code = exit_code(outcome.results, run.threshold, run.strict)
    if incomplete is not None and code == EXIT_USAGE:  # a live scope could not be read: the scan is incomplete
        code = incomplete
    raise typer.Exit(code)


@app.command("baseline")
def write_baseline(
    paths: Annotated[list[Path], typer.Argument(
        help="Templates, Terraform folders, plan JSON or policy files, or folders to walk.", show_default=False,
        readable=False,
    )],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the baseline here [default: stdout].")] = None,
    framework: Annotated[list[str], typer.Option("--framework", help="Run this framework's controls (repeatable).")] = [],
    param: Annotated[list[str], typer.Option("--param", help="Rule parameter RULE.PARAM=VALUE (repeatable).")] = [],
    config: Annotated[Optional[Path], typer.Option(help="Config file [default: ./.backupguard.yaml if present].")] = None,
    parameter: Annotated[list[str], typer.Option("--parameter", help="CloudFormation parameter Key=Value (repeatable).")] = [],
    parameters_file: Annotated[Optional[Path], typer.Option(help="CloudFormation parameters JSON file.")] = None,
    region: Annotated[Optional[str], typer.Option(help="Value of AWS::Region (else symbolic).")] = None,
    account_id: Annotated[Optional[str], typer.Option(help="Value of AWS::AccountId (else symbolic).")] = None,
    var: Annotated[list[str], typer.Option("--var", help="Terraform variable NAME=VALUE (repeatable).")] = [],
    var_file: Annotated[list[Path], typer.Option("--var-file", help="Terraform .tfvars file (repeatable).")] = [],
    exclude: Annotated[list[str], typer.Option("--exclude", help="Skip files matching this glob (repeatable).")] = [],
    root: Annotated[
        Optional[Path], typer.Option("--root", help="Scan root: no file outside it is read [default: the common folder of PATHS].")
    ] = None,
    check: Annotated[list[str], typer.Option("--check", help=_CHECK_HELP)] = [],
    skip_check: Annotated[list[str], typer.Option("--skip-check", help=_SKIP_CHECK_HELP)] = [],
) -> None:
    """Write a baseline of today's failing and unknown findings, so that `lint --baseline` fails only on new ones.

    Takes the same scan options as lint. Suppressed findings are left out: their suppression accepts them.

    Exit codes: 0 written, 2 usage error or an input that could not be read (the baseline is still written).
    """
    from backupguard import pipeline
    from backupguard.baseline import entries, render
    from backupguard.scanner import ScanOptions, encodable
    from backupguard.scanner.cloudformation import CfnOptions
    from backupguard.scanner.paths import scan_root
    from backupguard.scanner.terraform.source import TerraformOptions

    run = _settings(config, framework, param, None, False, check, skip_check)
    options = ScanOptions(
        cfn=CfnOptions(_cfn_parameters(parameter, parameters_file), region, account_id),
        terraform=TerraformOptions(_pairs(var, "--var", "NAME=VALUE"), tuple(var_file)),
        exclude=tuple(exclude),
        root=scan_root(paths, root),
    )
    scan_info = {"paths": [encodable(p.as_posix()) for p in paths], "region": region, "account_id": account_id}
    shown = _shown_from(options.root, relative=not all(p.is_absolute() for p in paths))
    outcome = pipeline.lint(paths, run, options, scan_info, shown)
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


@app.command()
def scan(
    profile: Annotated[Optional[str], typer.Option(help="AWS profile [default: the standard credential chain].")] = None,
    region: Annotated[list[str], typer.Option("--region", help="Region to scan (repeatable) [default: every Region enabled for the account].")] = [],
    org: Annotated[bool, typer.Option("--org", help="Scan every active account of the Organization.")] = False,
    role_name: Annotated[Optional[str], typer.Option(help="Role assumed in member accounts (with --org or --account).")] = None,
    external_id: Annotated[Optional[str], typer.Option(help="External ID for assuming --role-name.")] = None,
    ou: Annotated[list[str], typer.Option("--ou", help="Only accounts below this OU or root (repeatable).")] = [],
    account: Annotated[list[str], typer.Option("--account", help="Only this account (repeatable).")] = [],
    accounts_file: Annotated[Optional[Path], typer.Option(help="File of account IDs, one per line (# comments).")] = None,
    exclude_account: Annotated[list[str], typer.Option("--exclude-account", help="Skip this account (repeatable).")] = [],
    max_workers: Annotated[int, typer.Option(min=1, max=512, help="Concurrent API calls.")] = 64,
    shard: Annotated[Optional[str], typer.Option(help="I/N: scan the I-th (0-based) of N deterministic shares of the accounts.")] = None,
    lookback_days: Annotated[int, typer.Option(min=1, max=3650, help="Read recovery points of the last N days.")] = 35,
    output_format: Annotated[Format, typer.Option("--format", "-f", help="Format for stdout and for --output PATH.")] = Format.text,
    output: Annotated[list[str], typer.Option("--output", "-o", help="FORMAT=PATH (repeatable), or PATH in --format.")] = [],
    fail_on: Annotated[Optional[FailOn], typer.Option(help="Exit 1 when a failing result has at least this severity [default: low].")] = None,
    framework: Annotated[list[str], typer.Option("--framework", help="Run this framework's controls (repeatable).")] = [],
    param: Annotated[list[str], typer.Option("--param", help="Rule parameter RULE.PARAM=VALUE (repeatable).")] = [],
    config: Annotated[Optional[Path], typer.Option(help="Config file [default: ./.backupguard.yaml if present].")] = None,
    show_passed: Annotated[bool, typer.Option(help="List passing results in the text output.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Count unknown results as failures (exit code, JUnit).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    check: Annotated[list[str], typer.Option("--check", help=_CHECK_HELP)] = [],
    skip_check: Annotated[list[str], typer.Option("--skip-check", help=_SKIP_CHECK_HELP)] = [],
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help=_BASELINE_HELP)] = None,
    rules_dir: RulesDirs = [],
    frameworks_dir: FrameworksDirs = [],
) -> None:
    """Scan live AWS accounts (read-only) with the same rules: one account, many Regions, or an Organization.

    Exit codes: 0 compliant, 1 findings at --fail-on or above, 2 usage or configuration error,
    3 the scan is incomplete (an account, Region or service could not be read; see the error results).
    """
    from backupguard import pipeline
    from backupguard.scanner.aws.live import LiveOptions, scan_live

    outputs = _outputs(output, output_format)
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
    _finish(outcome, outputs, show_passed, run, incomplete=EXIT_INCOMPLETE)


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


@app.command()
def report(
    documents: Annotated[list[Path], typer.Argument(help="JSON result documents (backupguard lint --format json).", show_default=False)],
    output_format: Annotated[Format, typer.Option("--format", "-f", help="Format for stdout and for --output PATH.")] = Format.text,
    output: Annotated[list[str], typer.Option("--output", "-o", help="FORMAT=PATH (repeatable), or PATH in --format.")] = [],
    fail_on: Annotated[Optional[FailOn], typer.Option(help="Exit 1 when a failing result has at least this severity.")] = None,
    show_passed: Annotated[bool, typer.Option(help="List passing results in the text output.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Count unknown results as failures (exit code, JUnit).")] = False,
) -> None:
    """Re-render saved JSON results in any format, merging several (shards, repositories) into one."""
    from backupguard.reports.json_report import DocumentError, merge, results_of, upgrade, validate

    outputs = _outputs(output, output_format)
    docs = []
    for path in documents:
        try:
            doc = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise _fail(f"{path}: cannot read result document: {exc.strerror or exc}") from None
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a 5,000-digit number, too deep
            raise _fail(f"{path}: not a JSON result document: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}") from None
        try:
            validate(doc, str(path))
        except DocumentError as exc:
            raise _fail(str(exc)) from None
        docs.append(upgrade(doc))
    doc = docs[0] if len(docs) == 1 else merge(docs)
    if not _write_reports(doc, outputs, show_passed, strict):
        raise typer.Exit(EXIT_USAGE)
    from backupguard.pipeline import exit_code

    raise typer.Exit(exit_code(results_of(doc), (fail_on.value if fail_on else "never"), strict))


def _catalogue(config: Optional[Path], rules_dir: list[Path], frameworks_dir: Optional[list[Path]] = None) -> tuple[dict, dict]:
    """Rules (and, given ``frameworks_dir``, frameworks), shipped and the user's (config file, --rules-dir,
    --frameworks-dir), or a usage error."""
    from backupguard import pipeline

    try:
        return pipeline.catalogue(config, tuple(rules_dir), None if frameworks_dir is None else tuple(frameworks_dir))
    except pipeline.RunError as exc:
        raise _fail(str(exc)) from None


ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="Config file [default: ./.backupguard.yaml if present].")]


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
    rule_id: Annotated[str, typer.Argument(help="Rule ID (BG101) or name.")],
    rules_dir: RulesDirs = [],
    config: ConfigOption = None,
) -> None:
    """Print a rule's documentation: what it checks, why, how to fix it, examples."""
    from backupguard.rules.docs import page

    rules, _ = _catalogue(config, rules_dir)
    wanted = rule_id.strip()
    rule = rules.get(wanted.upper()) or next((r for r in rules.values() if r.name == wanted), None)
    if rule is None:
        raise _fail(f"no rule {rule_id!r}; `backupguard rules` lists them")
    typer.echo(page(rule))


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


def main() -> None:
    """Console entry point: no traceback ever reaches the user."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("backupguard: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported as a usage/input error
        _say(f"backupguard: internal error: {type(exc).__name__}: {exc} (please report this)")
        sys.exit(EXIT_USAGE)
