"""Which backup plans protect each resource, decided the way AWS Backup decides it.

For every protectable resource and every selection, :mod:`.selection` says
whether the selection picks the resource (ARN wildcards, tags, conditions,
NotResources, Region opt-in). A resource is protected when a selection picks
it; the rules of that selection's plan then describe *how well*: how often,
how long, copied where, into which vault. A match that depends on an unknown
input makes protection unknown, never a silent yes or no.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from backupguard.estate import (
    BackupPlan, BackupSelection, Estate, ProtectedResource, Unknown, derive, in_words, never_pseudo, region_scope,
)
from backupguard.resolve.attributes import name_of
from backupguard.resolve.links import EstateIndex
from backupguard.resolve.plans import copy_facts, crosses, rule_facts
from backupguard.resolve.selection import resource_arn, selection_matches
from backupguard.resolve.services import facts_for


@dataclass
class Coverage:
    """How one resource is protected: plans that certainly or possibly cover it, and their rules."""

    protected: Any  # True, False or Unknown
    plans: list[str] = field(default_factory=list)  # "plan 'daily' (selection 'tagged': tag backup=daily)"
    rules: list[dict[str, Any]] = field(default_factory=list)  # one view per covering plan rule


def opt_in_lookup(assumed: dict[str, bool] | None = None, declared: dict[str, dict[str, Any]] | None = None
                  ) -> Callable[[Any], Callable[[str], Any]]:
    """For a resource's origin, whether a service is opted in there: as the estate declares it for
    that account and Region (or deployment unit), else as the user states it (config), else AWS's
    default for the service."""
    assumed, declared = assumed or {}, declared or {}
    cache: dict[str, Callable[[str], Any]] = {}

    def for_origin(origin: Any) -> Callable[[str], Any]:
        scope = region_scope(origin)
        if scope not in cache:
            here = declared.get(scope, {})

            def opted_in(service: str) -> Any:
                if service in here:
                    return here[service]
                if service in assumed:
                    return assumed[service]
                return facts_for(service).opted_in_by_default

            cache[scope] = opted_in
        return cache[scope]

    return for_origin


def _and(left: Any, right: Any) -> Any:
    if left is False or right is False:
        return False
    if isinstance(left, Unknown):
        return left
    if isinstance(right, Unknown):
        return right
    return True


def _or(values: list[Any]) -> Any:
    if any(v is True for v in values):
        return True
    return next((v for v in values if isinstance(v, Unknown)), False)


def _elsewhere(selection: BackupSelection, resource: ProtectedResource) -> bool:
    """Whether the selection cannot assign the resource: another Region or account.

    When both are known on both sides they decide. Otherwise two deployment units
    (templates, Terraform root modules) are not assumed to share an account: a
    selection is paired with the resources of its own unit only. Passing
    --account-id and --region lets a central backup stack cover the others.
    """
    mine, theirs = selection.origin, resource.origin
    if None not in (mine.region, theirs.region, mine.account, theirs.account):
        return (mine.region, mine.account) != (theirs.region, theirs.account)
    if mine.region is not None and theirs.region is not None and mine.region != theirs.region:
        return True
    return mine.unit != theirs.unit


def _scope(origin: Any) -> tuple[str, str] | None:
    """(account, Region) when both are known: where AWS Backup assigns resources."""
    return (origin.account, origin.region) if origin.account and origin.region else None


class _SelectionsByScope:
    """Selections partitioned by where they can assign resources, so each resource meets only
    the selections of its own account and Region (or deployment unit): an Organization-wide estate
    costs the sum of its accounts, not their product. Exactly the pairs ``_elsewhere`` allows."""

    def __init__(self, selections: list[tuple[BackupSelection, Any]]):
        self.order = {id(pair[0]): index for index, pair in enumerate(selections)}
        self.by_scope: dict[tuple[str, str], list[tuple[BackupSelection, Any]]] = {}
        self.by_unit: dict[Any, list[tuple[BackupSelection, Any]]] = {}
        self.partial_by_unit: dict[Any, list[tuple[BackupSelection, Any]]] = {}
        for pair in selections:
            origin = pair[0].origin
            scope = _scope(origin)
            if scope is not None:
                self.by_scope.setdefault(scope, []).append(pair)
            else:
                self.partial_by_unit.setdefault(origin.unit, []).append(pair)
            self.by_unit.setdefault(origin.unit, []).append(pair)

    def candidates(self, resource: ProtectedResource) -> list[tuple[BackupSelection, Any]]:
        """Selections that may assign ``resource``, in source order."""
        scope = _scope(resource.origin)
        if scope is None:  # the resource's own unit: any selection there (``_elsewhere`` filters Regions)
            pairs = self.by_unit.get(resource.origin.unit, [])
        else:  # its account and Region, plus its unit's selections whose own scope is not known
            fully = self.by_scope.get(scope, [])
            partial = self.partial_by_unit.get(resource.origin.unit, [])
            pairs = fully if not partial else sorted(fully + partial, key=lambda p: self.order[id(p[0])])
        return [p for p in pairs if not _elsewhere(p[0], resource)]


def _resource_facts(resource: ProtectedResource) -> dict[str, Any]:
    """What element-level rules need to know about the protected resource itself."""
    return {
        "resource_cold_storage_supported": facts_for(resource.service).cold_storage,
        "resource_source_key_aws_managed": source_key_aws_managed(resource),
    }


def _cross_any(destinations: list[Any], home: Any, what: str) -> Any:
    """Whether any copy leaves the resource's Region (or account).

    Without --region a literal destination cannot be compared with home, but two
    different literal destinations cannot both be home: one certainly leaves it.
    """
    verdict = _or([crosses(d, home, what) for d in destinations])
    if isinstance(verdict, Unknown) and home is None:
        literal = {d for d in destinations if isinstance(d, str)}
        if len(literal) >= 2:
            return True
    return verdict


def _rule_views(
    plan: BackupPlan, certainty: Any, resource: ProtectedResource, links: EstateIndex
) -> list[dict[str, Any]]:
    views = []
    resource_facts = _resource_facts(resource)
    for index, rule in enumerate(plan.rules):
        view = rule_facts(plan, rule, index, links)
        copies = [
            copy_facts(copy, rule, links.destination(copy.destination_vault_arn, rule.origin), view)
            for copy in rule.copy_actions
        ]
        view["certain"] = certainty
        view.update(resource_facts)
        view["copies"] = copies
        view["copy_regions"] = [c["destination_region"] for c in copies]
        view["copy_accounts"] = [c["destination_account"] for c in copies]
        view["copies_to_regions"] = copies_to(view["copy_regions"], "Region")
        view["copies_to_accounts"] = copies_to(view["copy_accounts"], "account")
        view["cross_region_copy"] = _cross_any([c["destination_region"] for c in copies], resource.origin.region, "Region")
        view["cross_account_copy"] = _cross_any([c["destination_account"] for c in copies], resource.origin.account, "account")
        view["air_gapped"] = _or(
            [view["air_gapped_target"] or False, view["vault_air_gapped"]]
            + [c["destination_air_gapped"] for c in copies]
        )
        views.append(view)
    return views


def _place(destination: Any, what: str) -> str:
    """One copy destination's Region or account in words (None: the source's own)."""
    if destination is None:
        return f"its own {what}"
    if never_pseudo(destination) is not None:
        return repr(destination)  # "another Region than its own"
    return in_words(destination, what)


def copies_to(destinations: list[Any], what: str) -> str:
    """Where a rule's copies go, in words for messages: "makes no copy", "copies it only within its own
    Region", "copies it to us-west-2, its own Region"."""
    if not destinations:
        return "makes no copy"
    if all(destination is None for destination in destinations):
        return f"copies it only within its own {what}"
    return "copies it to " + ", ".join(dict.fromkeys(_place(destination, what) for destination in destinations))


# Every fact a coverage rule may read from a covering rule's view.
RULE_VIEW_FACTS = (
    "plan", "rule", "schedule", "max_gap_hours", "max_gap_days", "retention_days", "retention",
    "cold_storage_after_days", "cold_storage_set", "opt_in_to_archive", "continuous_backup", "vault_declared", "vault_locked", "vault_lock_min_days",
    "vault_lock_max_days", "vault_air_gapped", "copy_regions", "copy_accounts", "copies_to_regions",
    "copies_to_accounts", "cross_region_copy",
    "cross_account_copy", "air_gapped", "copies",
)


def _outside_view(certainty: Any, plan: Any) -> dict[str, Any]:
    """A covering rule we cannot see: its plan is not declared in the scanned files."""
    unknown = plan if isinstance(plan, Unknown) else Unknown("the selection's plan is not declared in the scanned files")
    view: dict[str, Any] = {name: unknown for name in RULE_VIEW_FACTS}
    view.update(plan="(outside this template)", rule="(unknown)", certain=certainty)
    return view


def _unreadable_rules(plan_name: str, certainty: Any) -> dict[str, Any]:
    """A selecting plan with no rule we can read (rules from an unknown ``dynamic`` block; AWS rejects a
    plan without rules): how it protects the resource is unknown, never "no backup plan selects it"."""
    view = _outside_view(certainty, Unknown(f"plan '{plan_name}' has no rule that can be read"))
    view.update(plan=plan_name, rule="(none readable)")
    return view


def source_key_aws_managed(resource: ProtectedResource) -> Any:
    """Whether the backups of a source-key type would be encrypted with an AWS managed key.

    Such recovery points cannot be copied to another account (AWS managed keys
    cannot be shared). Fully managed types use the vault's key instead: False.
    """
    if facts_for(resource.service).vault_key:
        return False
    from backupguard.resolve.vaults import key_kind

    settings = resource.settings

    def aws_managed(encrypted: Any, key: Any) -> Any:
        if not encrypted:
            return False  # unencrypted: another rule's problem, and copyable
        if key is None:
            return True  # encrypted with the service's default key (aws/ebs, aws/rds)
        return derive(lambda kind: kind == "aws", key_kind(key))

    return derive(aws_managed, settings.get("encrypted", settings.get("storage_encrypted")), settings.get("kms_key_id"))


# EFS automatic backups are an AWS Backup plan that AWS creates: daily, kept 35 days, in the
# unlocked vault aws/efs/automatic-backup-vault (https://docs.aws.amazon.com/efs/latest/ug/automatic-backups.html).
EFS_AUTOMATIC_PLAN = "aws/efs/automatic-backup-plan"


def _efs_automatic_view(resource: ProtectedResource) -> dict[str, Any] | None:
    """The covering rule of EFS automatic backups, when the file system turns them on."""
    status = resource.settings.get("backup_policy_status")
    if resource.service != "EFS" or status in (None, "DISABLED", "DISABLING"):
        return None
    name = _policy_status_name(resource)

    def enabled(value: Any) -> Any:
        if value in ("ENABLED", "ENABLING"):
            return True
        return False if value in ("DISABLED", "DISABLING") else Unknown(f"{name} {value!r} is not known")

    # an undetermined status (Fn::If) keeps its candidates as booleans: "DISABLED" must never read as true
    certain: Any = status.map(enabled) if isinstance(status, Unknown) else enabled(status)
    view: dict[str, Any] = {
        "plan": EFS_AUTOMATIC_PLAN, "rule": "automatic", "schedule": "daily (AWS-managed)",
        "max_gap_hours": 24, "max_gap_days": 1, "retention_days": 35, "retention": "35 days",
        "cold_storage_after_days": None, "cold_storage_set": False, "opt_in_to_archive": False,
        "continuous_backup": False, "vault_declared": False,
        "vault_locked": False, "vault_lock_min_days": None, "vault_lock_max_days": None,
        "vault_air_gapped": False, "copy_regions": [], "copy_accounts": [], "copies_to_regions": copies_to([], "Region"),
        "copies_to_accounts": copies_to([], "account"), "cross_region_copy": False,
        "cross_account_copy": False, "air_gapped": False, "copies": [], "certain": certain,
    }
    return {**view, **_resource_facts(resource)}


def _policy_status_name(resource: ProtectedResource) -> str:
    """How the file system's source names the status of its EFS backup policy."""
    return name_of(resource.attributes, "backup_policy_status", "BackupPolicy.Status")


def coverage(
    estate: Estate, links: EstateIndex, opt_in_at: Callable[[Any], Callable[[str], Any]]
) -> dict[int, Coverage]:
    """Coverage of every protectable resource, keyed by ``id(resource)``.

    Rule views are shared between resources that see them identically (same
    plan, certainty, Region, account and resource-type facts): thousands of
    resources under a few plans cost a few views, and the engine evaluates a
    shared view once per rule.
    """
    selections: list[tuple[BackupSelection, Any]] = [(s, links.plan_of(s)) for s in estate.selections]
    partition = _SelectionsByScope(selections)
    shared: dict[tuple, list[dict[str, Any]]] = {}
    result: dict[int, Coverage] = {}
    for resource in estate.resources:
        found = Coverage(protected=False)
        verdicts = []
        covered_plans: set[int] = set()
        arn = resource_arn(resource)
        opted_in = opt_in_at(resource.origin)  # the Region settings of the resource's account and Region
        for selection, plan in partition.candidates(resource):  # its own account and Region only
            match = selection_matches(selection, resource, opted_in, arn)
            if match.selected is False:
                continue
            certainty = _and(
                _and(match.selected, selection.exists), True if isinstance(plan, BackupPlan) or plan is None else plan
            )
            verdicts.append(certainty)
            if certainty is False:  # a selection or plan that is not deployed (its Condition is false)
                continue
            sel_name = selection.name if isinstance(selection.name, str) else selection.resource_id
            if isinstance(plan, BackupPlan):
                plan_name = plan.name if isinstance(plan.name, str) else plan.resource_id
                found.plans.append(f"plan '{plan_name}' (selection '{sel_name}': {match.how})")
                if certainty is True and id(plan) in covered_plans:
                    continue  # the same plan through another selection: its rules are already counted
                covered_plans.add(id(plan))
                key = (id(plan), certainty if certainty is True else id(certainty), resource.origin.region,
                       resource.origin.account, tuple(_resource_facts(resource).items()))
                if key not in shared:
                    shared[key] = _rule_views(plan, certainty, resource, links) or [_unreadable_rules(plan_name, certainty)]
                found.rules.extend(shared[key])
            else:
                where = "an undetermined plan" if isinstance(plan, Unknown) else "a plan outside this template"
                found.plans.append(f"{where} (selection '{sel_name}': {match.how})")
                found.rules.append({**_outside_view(certainty, plan), **_resource_facts(resource)})
        automatic = _efs_automatic_view(resource)
        if automatic is not None:
            verdicts.append(automatic["certain"])
            found.plans.append(f"plan '{EFS_AUTOMATIC_PLAN}' (EFS automatic backups: {_policy_status_name(resource)} ENABLED)")
            found.rules.append(automatic)
        found.protected = _or(verdicts)
        result[id(resource)] = found
    return result
