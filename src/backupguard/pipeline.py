"""What a run does, in one place, for every command.

    config -> catalogue -> checks -> source -> subjects -> engine -> suppressions -> result document

(suppressions: inline ones, config waivers and the baseline, applied together by
:mod:`backupguard.suppress`)

``lint`` (files), ``scan`` (live accounts) and ``report`` (saved documents) differ only in where
the Estate or the results come from; the CLI turns options into the arguments of these functions
and renders the document. Nothing here parses options or prints.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
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
    frameworks: dict  # id -> frameworks.Framework (shipped and the user's; ``selected`` names those that run)
    selected: tuple[str, ...]
    threshold: str  # the severity from which a failing result fails the run, or "never"
    strict: bool  # unknown results fail too
    rules: dict = field(default_factory=dict)  # the catalogue: suppressions name its rules
    today: date | None = None  # what waiver expiry is judged against (suppress.today())
    baseline: Any = None  # baseline.Baseline (--baseline), or None


def settings(
    config_path: Path | None,
    frameworks: list[str],
    params: list[str],
    fail_on: str | None = None,
    strict: bool = False,
    check: list[str] | None = None,
    skip_check: list[str] | None = None,
    baseline: Path | None = None,
    *,
    rules_dirs: tuple[Path, ...] = (),
    frameworks_dirs: tuple[Path, ...] = (),
    drift: bool = False,
) -> RunSettings:
    """Config file, catalogue and frameworks -> the checks of this run (raises :class:`RunError`).

    ``check``/``skip_check`` (``--check``/``--skip-check``) replace the config's lists when given;
    ``baseline`` is a baseline file or JSON result document (``--baseline``); ``rules_dirs``/
    ``frameworks_dirs`` (``--rules-dir``, ``--frameworks-dir``) add the user's own rule and framework
    files to those the config file names (``rules_dir``, ``frameworks_dir``).

    Drift rules (``evidence: drift``) need the code and the account side by side: they run in a
    ``drift`` run (``drift=True``, which runs them alone and no framework) and never in lint or scan."""
    from backupguard.baseline import BaselineError, read
    from backupguard.config import ConfigError, build_checks, load_config, parse_param_options
    from backupguard.rules import CatalogueError
    from backupguard.suppress import TodayError, today

    try:
        user = load_config(config_path)
        rules, shipped = _catalogue(user, rules_dirs, frameworks_dirs)
        selected = () if drift else tuple(frameworks or user.frameworks)
        checks = build_checks(rules, shipped, list(selected), user, parse_param_options(params),
                              list(check or []), list(skip_check or []))
        kept = [c for c in checks if (c.rule.evidence == "drift") == drift]
        if checks and not kept:
            raise RunError("the rule selection leaves no rule to run: " + (
                "drift runs only the drift rules (BG7xx)" if drift else
                "drift rules (BG7xx) run only in `backupguard drift`"))
        checks = kept
        accepted = read(baseline) if baseline is not None else None
        on = today()
    except (ConfigError, CatalogueError, BaselineError, TodayError) as exc:
        raise RunError(str(exc)) from None
    threshold = fail_on or user.fail_on or "low"
    if threshold not in SEVERITY_THRESHOLDS:
        raise RunError(f"{user.source}: fail_on must be a severity or 'never', got {threshold!r}")
    return RunSettings(user, checks, shipped, selected, threshold, strict or user.strict, rules, on, accepted)


def catalogue(config_path: Path | None, rules_dirs: tuple[Path, ...] = (),
              frameworks_dirs: tuple[Path, ...] | None = ()) -> tuple[dict, dict]:
    """Rules and frameworks by ID: the shipped ones and the user's (config file and options), for
    the listing commands (``rules``, ``explain``, ``frameworks``); ``frameworks_dirs=None``: the rules
    alone (no framework is loaded). Raises :class:`RunError`."""
    from backupguard.config import ConfigError, load_config
    from backupguard.rules import CatalogueError, load_rules

    try:
        user = load_config(config_path)
        if frameworks_dirs is None:
            return load_rules((*user.rules_dirs, *rules_dirs)), {}
        return _catalogue(user, rules_dirs, frameworks_dirs)
    except (ConfigError, CatalogueError) as exc:
        raise RunError(str(exc)) from None


def _shipped_rules() -> dict:
    from backupguard.rules import load_catalogue

    return load_catalogue()


def _catalogue(user: UserConfig, rules_dirs: tuple[Path, ...], frameworks_dirs: tuple[Path, ...]) -> tuple[dict, dict]:
    """The shipped rules and frameworks with the user's (raises CatalogueError)."""
    from backupguard.frameworks import load_frameworks, load_user_frameworks
    from backupguard.rules import load_rules

    rules = load_rules((*user.rules_dirs, *rules_dirs))
    return rules, {**load_frameworks(), **load_user_frameworks((*user.frameworks_dirs, *frameworks_dirs), rules)}


@dataclass(frozen=True)
class Outcome:
    results: list[Result]
    document: dict[str, Any]
    warnings: tuple[str, ...] = ()  # about the invocation (a --parameter no template declares): for stderr
    empty: str | None = None  # the scan found nothing to check, and why: the run fails unless empty scans are allowed


def evaluate(estate: Estate, run: RunSettings, scan_info: dict[str, Any],
             show: Callable[[str | None], str | None] | None = None,
             by_kind: dict[str, list] | None = None) -> Outcome:
    """Estate -> facts -> results (suppressions, waivers and baseline applied) -> the result document
    every report renders.

    ``show`` turns the file names the sources gave (identities: fingerprints hash them) into the
    names shown to the user, before waivers match them against the user's globs. ``by_kind``
    replaces the estate's subjects (a drift run judges its comparisons, not the estate).
    """
    from backupguard.reports import control_summary
    from backupguard.reports.json_report import document
    from backupguard.resolve import subjects
    from backupguard.resolve.inventory import inventory
    from backupguard.rules.engine import run as run_checks
    from backupguard.suppress import META_RULES, apply, today

    show = show or (lambda name: name)
    if by_kind is None:
        by_kind = subjects(estate, run.config.opt_in)
    found = run_checks(estate, run.checks, by_kind=by_kind, show=show)
    files = sorted({show(f) for f in estate.files})
    accepted = apply(found, estate.suppressions, run.config.waivers, run.rules or _shipped_rules(),
                     {c.rule.id for c in run.checks}, run.today or today(), run.baseline, show, files)
    results = accepted.results
    info = {
        **scan_info,
        "files": files,
        "notes": sorted(set(estate.notes) | set(accepted.notes)),
        "checks": sorted(
            ({"rule_id": c.rule.id, "parameters": c.params, "frameworks": list(c.frameworks)} for c in run.checks),
            key=lambda c: (c["rule_id"], c["frameworks"]),
        ),
    }
    if run.baseline is not None:
        info["baseline"] = {"path": run.baseline.source, "findings": len(run.baseline.entries),
                            "fixed": [entry.to_dict() for entry in accepted.fixed]}
    ran = {c.rule.id: c.rule for c in run.checks}
    meta = [META_RULES[rule_id] for rule_id in sorted({r.rule_id for r in results} & META_RULES.keys())]
    rows = inventory(by_kind.get("resource", []))
    for row in rows:
        row["file"] = show(row.get("file"))
    doc = document(
        results, [r.metadata() for r in ran.values()] + meta, info,
        control_summary(results, [run.frameworks[f].metadata() for f in run.selected]), rows,
    )
    return Outcome(results, doc)


@contextmanager
def batch_collector() -> Iterator[None]:
    """A run builds a large graph of objects that lives until the run ends (the estate, its subjects,
    the results, the rendered reports) and makes few reference cycles: reference counting frees
    nearly everything it discards. The cyclic collector would only walk that graph again and again as
    it grows (a tenth to a quarter of a 10,000-resource run, whatever its thresholds: each collection
    visits every object allocated since the last), to find almost nothing. So a command runs with it
    off: measured, peak RSS is the same with and without it (200 MiB at 10,000 CloudFormation
    resources, 210 MiB at 10,000 Terraform ones, 52 MiB on the shared corpus; benchmarks/scale.py,
    org_estate.py). The collector is switched back on afterwards, so a process that embeds the
    pipeline keeps its own."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def drift(paths: list[Path], run: RunSettings, options: Any, source: Any, scan_info: dict[str, Any],
          show: Callable[[str | None], str | None] | None = None, plan_json: Path | None = None) -> Outcome:
    """Code and account side by side -> drift results (BG7xx) -> result document.

    ``source`` is the live side (:class:`backupguard.scanner.aws.drift_source.LiveDriftSource`: boto3 is
    imported only there): its target account and Region are decided first, so that the templates'
    ``AWS::AccountId`` and ``AWS::Region`` are the account's. The code is read as ``lint`` reads it;
    the account as ``scan`` reads it, restricted to that account and Region, with the named stacks'
    resources; ``plan_json`` (a Terraform plan JSON) gives its prior state's identities. Then
    :mod:`backupguard.resolve.drift_match` pairs both sides and :mod:`backupguard.resolve.drift_subjects`
    compares them. Raises :class:`RunError` for a plan JSON that cannot be read."""
    from backupguard.estate import Estate
    from backupguard.resolve import drift_subjects
    from backupguard.resolve.drift_match import Identities, PriorStateError, match
    from backupguard.scanner import root_relative, scan

    identities = Identities()
    if plan_json is not None:
        from backupguard.scanner.terraform.budget import MAX_FILE_BYTES, read_capped

        try:
            data = read_capped(plan_json)  # as the scanner reads a plan JSON: a hostile size costs 20 MiB
            text = None if data is None else data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{plan_json}: cannot read plan JSON: {getattr(exc, 'strerror', None) or exc}") from None
        if text is None:
            raise RunError(f"{plan_json}: the plan JSON is larger than {MAX_FILE_BYTES // 2**20} MiB")
        try:
            identities.add_prior_state(str(plan_json), text)
        except PriorStateError as exc:
            raise RunError(str(exc)) from None
    try:
        target = source.target()
    except Exception as exc:  # noqa: BLE001 - no credentials, an unknown profile, no endpoint: nothing to compare with
        raise RunError(f"cannot read the account: {type(exc).__name__}: {exc}") from None
    cfn = replace(options.cfn, region=options.cfn.region or target.region,
                  account_id=options.cfn.account_id or target.account)
    options = replace(options, cfn=cfn, exclude=tuple(options.exclude) + tuple(run.config.exclude))
    code = scan(paths, options, name=root_relative(options.root))
    live = source.read(target, org_policies=bool(code.org_policies), region_settings=bool(code.resources))
    identities.add_stack_resources(live.stack_resources)
    matching = match(code, live.estate, identities, target.account, target.region, target.partition)
    estate = Estate(errors=code.errors + live.estate.errors, files=code.files, notes=list(code.notes),
                    suppressions=code.suppressions)
    by_kind = drift_subjects.subjects(code, live.estate, live.effective_policy, matching, run.config.opt_in,
                                      estate.errors, live_tags=lambda arns: source.tags(arns, estate.errors))
    if not code.files and not code.errors:
        estate.notes.append("nothing to compare: no CloudFormation template, Terraform configuration, plan or backup "
                            "policy in the paths")
    info = {**scan_info, "kind": "drift", "account_id": target.account, "region": target.region,
            "stacks": sorted(identities.stacks), "errors": len(live.estate.errors)}
    return evaluate(estate, run, info, show, by_kind)


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
