"""``scan_live``: read one account, or the accounts of an Organization, into one Estate.

Work is split into small tasks (account x Region x service area, plus account-wide S3 and
global settings, plus the Organization's policies once) run on a bounded thread pool. A fault
ends only its own task part: it becomes one located :class:`InputError` naming account, Region,
service and AWS's error code, and the scan goes on. The result is sorted by (account, Region,
ARN), whatever the order the threads finished in.

Importing this module does not import boto3; :func:`scan_live` does (through ``session``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from backupguard.estate import Estate, InputError, ProtectedResource, Unknown, region_scope
from backupguard.scanner.aws import backup, organizations, resources
from backupguard.scanner.aws.faults import fault, scope_origin
from backupguard.scanner.aws.scope import Scope
from backupguard.scanner.aws.session import ClientSettings, Connector, enabled_regions


@dataclass(frozen=True)
class Progress:
    accounts: int
    scopes_total: int
    scopes_done: int
    calls: int
    errors: int


@dataclass(frozen=True)
class LiveOptions:
    profile: str | None = None
    regions: tuple[str, ...] = ()  # empty: every Region enabled for each account
    org: bool = False  # every active account of the Organization
    role_name: str | None = None  # assumed in member accounts (not in the caller's own)
    external_id: str | None = None
    ous: tuple[str, ...] = ()  # only accounts below these OUs (or roots)
    accounts: tuple[str, ...] = ()  # only these accounts
    exclude_accounts: tuple[str, ...] = ()
    max_workers: int = 64
    shard: tuple[int, int] | None = None  # (index, count), 0 <= index < count: a share of the sorted accounts
    lookback_days: int = 35  # recovery points created in the last N days
    progress: Callable[[Progress], None] | None = None
    home_region: str | None = None  # for STS, Organizations, S3's bucket list, Region discovery
    client_settings: ClientSettings = field(default_factory=ClientSettings)
    as_of: datetime | None = None  # the scan's time (default: now, UTC); evidence ages are computed against it


def shard_of(accounts: list[str], shard: tuple[int, int] | None) -> list[str]:
    """A deterministic share of the accounts: every n-th of the sorted list, from index i."""
    ordered = sorted(set(accounts))
    if shard is None:
        return ordered
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {index}/{count}: the index must be between 0 and {count - 1}")
    return ordered[index::count]


class _Run:
    def __init__(self, options: LiveOptions, connector: Any):
        self.options, self.connector = options, connector
        self.as_of = options.as_of or datetime.now(timezone.utc)
        self.since = self.as_of - timedelta(days=options.lookback_days)
        self.scopes: list[Scope] = []
        self.errors: list[InputError] = []
        self.lock = threading.Lock()
        self.total = self.done = 0
        self.accounts = 0

    def scope(self, access: Any, account: str, region: str | None) -> Scope:
        return Scope(access, account, region, self.connector.home_region, self.as_of, self.since,
                     getattr(access, "partition", "aws"))

    def report(self) -> None:
        if self.options.progress:
            errors = len(self.errors) + sum(len(s.estate.errors) for s in self.scopes)
            self.options.progress(Progress(self.accounts, self.total, self.done, getattr(self.connector, "calls", 0), errors))

    def task(self, scope: Scope, service: str, work: Callable[[Scope], None]) -> Scope:
        try:
            work(scope)
        except Exception as exc:  # noqa: BLE001 - a fault ends this task only
            scope.failed(exc, service)
        with self.lock:
            self.scopes.append(scope)
            self.done += 1
        self.report()
        return scope


def _accounts(run: _Run) -> list[str]:
    options, caller = run.options, run.connector.caller()
    if not options.org:
        chosen = [caller.account]
    else:
        client = caller.client("organizations", run.connector.home_region)
        try:
            members = organizations.active_accounts(client)
            chosen = sorted(members)
            if options.ous:
                below = organizations.accounts_under(client, options.ous)
                chosen = [a for a in chosen if a in below]
        except Exception as exc:  # noqa: BLE001
            run.errors.append(fault(exc, caller.account, None, "organizations", "ListAccounts"))
            chosen = [caller.account]
    if options.accounts:
        chosen = [a for a in chosen if a in set(options.accounts)] if options.org else list(options.accounts)
    excluded = set(options.exclude_accounts)
    return shard_of([a for a in chosen if a not in excluded], options.shard)


def _enter(run: _Run, account: str) -> tuple[Any, list[str]] | None:
    """The account's credentials and the Regions to scan in it (None: it cannot be read at all)."""
    try:
        access = run.connector.access(account)
    except Exception as exc:  # noqa: BLE001 - an unassumable role: the account is reported, the rest goes on
        with run.lock:
            run.errors.append(fault(exc, account, None, "sts", "AssumeRole"))
        return None
    home = run.connector.home_region
    try:
        enabled, disabled = enabled_regions(access, home)
    except Exception as exc:  # noqa: BLE001
        if not run.options.regions:
            with run.lock:
                run.errors.append(fault(exc, account, home, "ec2", "DescribeRegions"))
            return access, []
        return access, list(run.options.regions)
    if not run.options.regions:
        return access, enabled
    chosen = []
    for region in run.options.regions:
        if region in enabled:
            chosen.append(region)
            continue
        status = "not enabled for the account" if region in disabled else "not a Region the account knows"
        with run.lock:
            run.errors.append(InputError(
                f"account {account}, Region {region}: the Region is {status} (ec2:DescribeRegions); it was not scanned",
                scope_origin(account, region), code="aws-region-disabled",
            ))
    return access, chosen


def scan_live(options: LiveOptions, connector: Any = None) -> Estate:
    """Read the accounts and Regions ``options`` name into one Estate (entities sorted by account,
    Region and ARN). ``connector`` replaces the boto3 one (tests, benchmark)."""
    if connector is None:
        connector = Connector(options.profile, options.role_name, options.external_id, options.home_region,
                              options.client_settings)
    run = _Run(options, connector)
    accounts = _accounts(run)
    run.accounts = len(accounts)
    workers = max(1, options.max_workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backupguard-scan") as pool:
        entered = dict(zip(accounts, pool.map(lambda a: _enter(run, a), accounts)))
        jobs: list[tuple[Scope, str, Callable[[Scope], None]]] = []
        first_shard = options.shard is None or options.shard[0] == 0
        if options.org and first_shard:
            jobs.append((run.scope(connector.caller(), connector.caller().account, None), "organizations",
                         organizations.backup_policies))
        for account, found in entered.items():
            if found is None:
                continue
            access, regions = found
            if regions:
                jobs.append((run.scope(access, account, None), "s3", lambda s, r=frozenset(regions): resources.s3(s, set(r))))
                jobs.append((run.scope(access, account, None), "backup", backup.collect_global_settings))
            for region in regions:
                jobs.append((run.scope(access, account, region), "backup", backup.collect))
                for service, collect in resources.REGIONAL:
                    jobs.append((run.scope(access, account, region), service, collect))
        run.total = len(jobs)
        for future in [pool.submit(run.task, *job) for job in jobs]:
            future.result()
    return _assemble(run)


def _assemble(run: _Run) -> Estate:
    estate = Estate()
    estate.errors.extend(run.errors)
    for scope in run.scopes:
        estate.extend(scope.estate)
    _attach_evidence(estate, run.scopes)
    estate.opt_in.update(_opt_in_by_scope(run.scopes))
    _sort(estate)
    return estate


def _attach_evidence(estate: Estate, scopes: list[Scope]) -> None:
    """Evidence onto the resources it is about; a protected resource of a type no collector reads
    (Redshift, VMware...) is added from what AWS Backup says about it."""
    by_arn = {(r.origin.account, r.arn): r for r in estate.resources}
    for scope in scopes:
        for arn, evidence in scope.evidence.items():
            resource = by_arn.get((scope.account, arn))
            if resource is not None:
                resource.evidence = evidence
                continue
            kind, name = scope.protected_types.get(arn, ("", None))
            if kind in resources.COLLECTED_TYPES:
                continue  # gone since its last backup, or its collector failed (and said so)
            resource = ProtectedResource(arn, f"AWS::Backup::ProtectedResource::{kind or 'Unknown'}", kind or "Unknown",
                                         scope.origin(arn), {}, {}, arn=arn, name=name, evidence=evidence)
            by_arn[(scope.account, arn)] = resource
            estate.resources.append(resource)


def _opt_in_by_scope(scopes: list[Scope]) -> dict[str, dict[str, Any]]:
    """Each account and Region's service opt-in (DescribeRegionSettings), keyed as the resolver looks it up."""
    return {region_scope(scope.origin(None)): dict(scope.opt_in) for scope in scopes if scope.opt_in}


def _key(entity: Any) -> tuple:
    origin = entity.origin
    ident = getattr(entity, "resource_id", None) or getattr(entity, "arn", "") or ""
    return (origin.account or "", origin.region or "", origin.arn or "", ident)


def _sort(estate: Estate) -> None:
    for name in ("plans", "selections", "vaults", "frameworks", "report_plans", "restore_testing_plans",
                 "restore_testing_selections", "org_policies", "resources", "recovery_points", "restore_jobs"):
        getattr(estate, name).sort(key=_key)
    estate.errors.sort(key=lambda e: (e.origin.account or "", e.origin.region or "", e.origin.arn or "", e.message))
    estate.global_settings = dict(sorted(estate.global_settings.items()))
