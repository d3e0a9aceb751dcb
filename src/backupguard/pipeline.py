"""What a run does, in one place, for every command.

    config -> catalogue -> checks -> source -> subjects -> engine -> waivers -> result document

``lint`` (files), ``scan`` (live accounts) and ``report`` (saved documents) differ only in where
the Estate or the results come from; the CLI turns options into the arguments of these functions
and renders the document. Nothing here parses options or prints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # the CLI imports this module for its exit codes: nothing heavy at start-up
    from backupguard.config import UserConfig
    from backupguard.estate import Estate
    from backupguard.results import Result

SEVERITY_THRESHOLDS = ("never", "info", "low", "medium", "high", "critical")

# Exit codes of every command (README, --help).
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class RunError(Exception):
    """A mistake in the run's configuration (config file, --param, framework): exit code 2."""


@dataclass(frozen=True)
class RunSettings:
    """Everything decided before reading the input: the checks and how to judge their results."""

    config: UserConfig
    checks: list  # rules.engine.Check
    frameworks: dict  # id -> frameworks.Framework (all shipped; ``selected`` names those that run)
    selected: tuple[str, ...]
    threshold: str  # the severity from which a failing result fails the run, or "never"
    strict: bool  # unknown results fail too


def settings(
    config_path: Path | None,
    frameworks: list[str],
    params: list[str],
    fail_on: str | None = None,
    strict: bool = False,
) -> RunSettings:
    """Config file, catalogue and frameworks -> the checks of this run (raises :class:`RunError`)."""
    from backupguard.config import ConfigError, build_checks, load_config, parse_param_options
    from backupguard.frameworks import load_frameworks
    from backupguard.rules import CatalogueError, load_catalogue

    try:
        user = load_config(config_path)
        shipped = load_frameworks()
        selected = tuple(frameworks or user.frameworks)
        checks = build_checks(load_catalogue(), shipped, list(selected), user, parse_param_options(params))
    except (ConfigError, CatalogueError) as exc:
        raise RunError(str(exc)) from None
    threshold = fail_on or user.fail_on or "low"
    if threshold not in SEVERITY_THRESHOLDS:
        raise RunError(f"{user.source}: fail_on must be a severity or 'never', got {threshold!r}")
    return RunSettings(user, checks, shipped, selected, threshold, strict or user.strict)


@dataclass(frozen=True)
class Outcome:
    results: list[Result]
    document: dict[str, Any]
    warnings: tuple[str, ...] = ()  # about the invocation (a --parameter no template declares): for stderr
    empty: str | None = None  # the scan found nothing to check, and why: the run fails unless empty scans are allowed


def evaluate(estate: Estate, run: RunSettings, scan_info: dict[str, Any],
             show: Callable[[str | None], str | None] | None = None) -> Outcome:
    """Estate -> facts -> results (waivers applied) -> the result document every report renders.

    ``show`` turns the file names the sources gave (identities: fingerprints hash them) into the
    names shown to the user, before waivers match them against the user's globs.
    """
    from backupguard.reports import control_summary
    from backupguard.reports.json_report import document
    from backupguard.resolve import subjects
    from backupguard.resolve.inventory import inventory
    from backupguard.rules.engine import run as run_checks
    from backupguard.waivers import apply_waivers

    show = show or (lambda name: name)
    by_kind = subjects(estate, run.config.opt_in)
    found = [replace(r, file=show(r.file)) for r in run_checks(estate, run.checks, by_kind=by_kind)]
    results, unused = apply_waivers(found, run.config.waivers)
    notes = sorted(set(estate.notes)) + [f"waiver for {w.rule} ({w.resource}) matched nothing" for w in unused]
    info = {
        **scan_info,
        "files": sorted({show(f) for f in estate.files}),
        "notes": notes,
        "checks": sorted(
            ({"rule_id": c.rule.id, "parameters": c.params, "frameworks": list(c.frameworks)} for c in run.checks),
            key=lambda c: (c["rule_id"], c["frameworks"]),
        ),
    }
    ran = {c.rule.id: c.rule for c in run.checks}
    doc = document(
        results, [r.metadata() for r in ran.values()], info,
        control_summary(results, [run.frameworks[f].metadata() for f in run.selected]),
        [{**row, "file": show(row.get("file"))} for row in inventory(by_kind["resource"])],
    )
    return Outcome(results, doc)


def lint(paths: list[Path], run: RunSettings, options: Any, scan_info: dict[str, Any],
         show: Callable[[str | None], str | None] | None = None) -> Outcome:
    """Files (CloudFormation, Terraform, plans, Organizations policies) -> result document.

    ``options`` is a :class:`backupguard.scanner.ScanOptions` with its root set; results are
    identified by their path below that root (the same finding keeps its fingerprint wherever
    backupguard runs from) and shown through ``show``."""
    from backupguard.scanner import encodable, is_stdin, root_relative, scan

    options = replace(options, exclude=tuple(options.exclude) + tuple(run.config.exclude))
    estate = scan(paths, options, name=root_relative(options.root))
    empty = None
    if not estate.files and not estate.errors:
        if paths and all(not is_stdin(p) and not p.is_dir() for p in paths):
            # Named files, none of them IaC (pre-commit names every staged YAML file): nothing to do, and fine.
            estate.notes.append("nothing to scan: none of the named files is a template, Terraform file, plan or backup policy")
        else:  # a folder without IaC: a wrong path or a broken checkout, not a green build
            empty = ("no CloudFormation template, Terraform configuration, plan or backup policy in "
                     + ", ".join(encodable(p.as_posix()) for p in paths))
            estate.notes.append(f"nothing to scan: {empty}")
    outcome = evaluate(estate, run, scan_info, show)
    warnings = parameter_warnings(options.cfn.parameters, estate.declared_parameters)
    return replace(outcome, warnings=tuple(warnings), empty=empty)


def parameter_warnings(given: dict[str, str], declared: list[str]) -> list[str]:
    """A CloudFormation parameter value no scanned template declares is most likely a typo: name the
    closest declared parameter."""
    import difflib

    known = sorted(set(declared))
    warnings = []
    for name in sorted(set(given) - set(known)):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"CloudFormation parameter {name!r} is not declared by any scanned template{hint}")
    return warnings


def live(read: Callable[[], Estate], run: RunSettings, scan_info: dict[str, Any]) -> Outcome:
    """Live accounts -> result document; ``read`` is the live source (boto3 is imported only there).

    The scan information says which accounts and Regions were read, so that merged shards show
    what the whole nightly scan covered."""
    estate = read()
    origins = [e.origin for name in estate.__dataclass_fields__ for e in getattr(estate, name)
               if isinstance(getattr(estate, name), list) and hasattr(e, "origin")]
    info = {
        **scan_info,
        "accounts": sorted({o.account for o in origins if o.account}),
        "regions_read": sorted({o.region for o in origins if o.region}),
        "errors": len(estate.errors),
    }
    return evaluate(estate, run, info)


def report(documents: list[Path]) -> Outcome:
    """Saved result documents -> one document: each read, validated against the schema, upgraded
    to this version's shape, then merged (shards, repositories). Raises :class:`RunError` naming
    the document that cannot be read."""
    import json

    from backupguard.reports.json_report import DocumentError, merge, results_of, upgrade, validate

    docs = []
    for path in documents:
        try:
            doc = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise RunError(f"{path}: cannot read result document: {exc.strerror or exc}") from None
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a 5,000-digit number, too deep
            raise RunError(f"{path}: not a JSON result document: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}") from None
        try:
            validate(doc, str(path))
        except DocumentError as exc:
            raise RunError(str(exc)) from None
        docs.append(upgrade(doc))
    doc = docs[0] if len(docs) == 1 else merge(docs)
    return Outcome(results_of(doc), doc)


def source_root(explicit: Path | None, scanned: Path) -> Path:
    """The folder SARIF URIs are relative to: ``explicit`` (--sarif-root), else the git repository
    holding ``scanned`` (GitHub resolves URIs against the repository root), else the working directory."""
    from backupguard.scanner.paths import repository_root

    if explicit is not None:
        return explicit
    return repository_root(scanned) or Path.cwd()


def exit_status(outcome: Outcome, threshold: str, strict: bool, *, soft_fail: bool = False,
                allow_empty: bool = False, incomplete: int | None = None) -> int:
    """The run's exit code (README, --help): :func:`exit_code`, with an unread live scope as
    ``incomplete`` (3), an empty scan as a usage error (2) unless allowed, and 0 whatever the
    results with ``soft_fail`` (a report without a red build)."""
    code = exit_code(outcome.results, threshold, strict)
    if incomplete is not None and code == EXIT_USAGE:  # a live scope could not be read: the scan is incomplete
        code = incomplete
    if outcome.empty and not allow_empty:
        code = EXIT_USAGE
    return EXIT_OK if soft_fail else code


def exit_code(results: list[Result], threshold: str, strict: bool) -> int:
    """2 on input errors; 1 when a failing result (with ``strict``, also an unwaived unknown one)
    reaches the threshold severity; else 0."""
    from backupguard.results import severity_rank

    if any(r.status == "error" for r in results):
        return EXIT_USAGE  # input errors (lint) or unread scopes (scan maps this to EXIT_INCOMPLETE)
    if threshold != "never" and any(
        (r.counts_as_failure or strict and r.status == "unknown" and not r.accepted)
        and severity_rank(r.severity) >= severity_rank(threshold)
        for r in results
    ):
        return EXIT_FINDINGS
    return EXIT_OK
