"""The ``backupguard`` command line. Heavy modules are imported inside the commands that need them."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from backupguard import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Policy-as-code compliance linter and scanner for AWS Backup.",
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class FailOn(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"backupguard: error: {message}", err=True)
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
    values: dict[str, str] = {}
    if file is not None:
        try:
            data = json.loads(file.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise _fail(f"{file}: cannot read parameters file: {exc}") from None
        if isinstance(data, list) and all(isinstance(d, dict) and "ParameterKey" in d for d in data):
            values.update({str(d["ParameterKey"]): str(d.get("ParameterValue", "")) for d in data})
        elif isinstance(data, dict):
            values.update({str(k): str(v) for k, v in data.items()})
        else:
            raise _fail(f"{file}: expected [{{\"ParameterKey\": ..., \"ParameterValue\": ...}}] or a JSON object")
    values.update(_pairs(pairs, "--parameter", "Key=Value"))
    return values


def _pairs(pairs: list[str], option: str, form: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _fail(f"{option} {pair!r}: expected {form}")
        values[key] = value
    return values


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Templates, Terraform folders, plan JSON or policy files, or folders to walk.", show_default=False)],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")] = None,
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
) -> None:
    """Check CloudFormation, Terraform (HCL and plan JSON) and Organizations backup policies."""
    from backupguard.config import ConfigError, build_checks, load_config, parse_param_options
    from backupguard.frameworks import load_frameworks
    from backupguard.results import severity_rank
    from backupguard.rules import CatalogueError, load_catalogue
    from backupguard.rules.engine import run
    from backupguard.scanner import ScanOptions, scan
    from backupguard.scanner.cloudformation import CfnOptions
    from backupguard.scanner.terraform.source import TerraformOptions

    try:
        user = load_config(config)
        rules = load_catalogue()
        frameworks = load_frameworks()
        selected = framework or user.frameworks
        checks = build_checks(rules, frameworks, selected, user, parse_param_options(param))
    except (ConfigError, CatalogueError) as exc:
        raise _fail(str(exc)) from None
    threshold = (fail_on.value if fail_on else None) or user.fail_on or "low"
    if threshold not in ("never", "info", "low", "medium", "high", "critical"):
        raise _fail(f"{user.source}: fail_on must be a severity or 'never', got {threshold!r}")

    options = ScanOptions(
        cfn=CfnOptions(_cfn_parameters(parameter, parameters_file), region, account_id),
        terraform=TerraformOptions(_pairs(var, "--var", "NAME=VALUE"), tuple(var_file)),
        exclude=tuple(exclude) + tuple(user.exclude),
    )
    estate = scan(paths, options)
    results = run(estate, checks, opt_in=user.opt_in)
    from backupguard.reports import control_summary

    controls = control_summary(results, [frameworks[f].metadata() for f in selected])

    if output_format is OutputFormat.json:
        from backupguard.reports import json_report

        ran = {c.rule.id: c.rule for c in checks}
        scan_info = {
            "paths": [p.as_posix() for p in paths],
            "files": sorted(set(estate.files)),
            "region": region,
            "account_id": account_id,
            "checks": sorted(
                ({"rule_id": c.rule.id, "parameters": c.params, "frameworks": list(c.frameworks)} for c in checks),
                key=lambda c: (c["rule_id"], c["frameworks"]),
            ),
        }
        text = json_report.render(results, [r.metadata() for r in ran.values()], scan_info, controls)
    else:
        from backupguard.reports import text as text_report

        text = text_report.render(
            results, files_scanned=len(set(estate.files)), show_passed=show_passed, frameworks=controls
        )
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{output}: cannot write report: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)

    if any(r.status == "error" for r in results):
        raise typer.Exit(EXIT_USAGE)
    if threshold != "never" and any(
        r.status == "fail" and severity_rank(r.severity) >= severity_rank(threshold) for r in results
    ):
        raise typer.Exit(EXIT_FINDINGS)


@app.command("rules")
def list_rules(
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
) -> None:
    """List the rule catalogue with each rule's references."""
    from backupguard.rules import load_catalogue

    rules = load_catalogue()
    if output_format is OutputFormat.json:
        typer.echo(json.dumps([r.metadata() for r in rules.values()], indent=2))
        return
    for rule in rules.values():
        refs = [v if isinstance(v, str) else ", ".join(v) for v in rule.references.values()]
        typer.echo(f"{rule.id}  {rule.severity:<8} {rule.title}")
        if refs:
            typer.echo(f"       references: {'; '.join(refs)}")


@app.command()
def explain(rule_id: Annotated[str, typer.Argument(help="Rule ID (BG101) or name.")]) -> None:
    """Print a rule's documentation: what it checks, why, how to fix it, examples."""
    from backupguard.rules import load_catalogue
    from backupguard.rules.docs import page

    rules = load_catalogue()
    wanted = rule_id.strip()
    rule = rules.get(wanted.upper()) or next((r for r in rules.values() if r.name == wanted), None)
    if rule is None:
        raise _fail(f"no rule {rule_id!r}; `backupguard rules` lists them")
    typer.echo(page(rule))


@app.command("frameworks")
def list_frameworks(
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
) -> None:
    """List the shipped frameworks and the rules each control maps to."""
    from backupguard.frameworks import load_frameworks

    frameworks = load_frameworks()
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
        typer.echo(f"backupguard: internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
        sys.exit(EXIT_USAGE)
