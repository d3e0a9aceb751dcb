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
from backupguard.resolve.selection_index import Compiled, Matcher, ResourceView, SelectionIndex
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


def both(left: Any, right: Any) -> Any:
    """Three-valued "and" of two verdicts: False if either is False, else the first Unknown, else True."""
    if left is False or right is False:
        return False
    if isinstance(left, Unknown):
        return left
    if isinstance(right, Unknown):
        return right
    return True


def any_true(values: list[Any]) -> Any:
    """Three-valued "or" of verdicts: True if any is True, else the first Unknown, else False."""
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
    return apart(selection.origin, resource.origin)


def apart(mine: Any, theirs: Any) -> bool:
    """Whether two origins certainly lie in different accounts or Regions (or, when those are not
    both known, in different deployment units): what a selection cannot reach (``_elsewhere``)."""
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
    costs the sum of its accounts, not their product. Exactly the pairs ``_elsewhere`` allows.

    Within a partition a :class:`~.selection_index.SelectionIndex` leaves out the selections
    that cannot select the resource (another tag, another resource type, another referenced
    resource), so a resource meets only its candidates."""

    def __init__(self, selections: list[BackupSelection], compiled: Compiled):
        self.selections, self.compiled = selections, compiled
        self.by_scope: dict[tuple[str, str], list[int]] = {}
        self.by_unit: dict[Any, list[int]] = {}
        self.partial_by_unit: dict[Any, list[int]] = {}
        for ordinal, selection in enumerate(selections):
            origin = selection.origin
            scope = _scope(origin)
            if scope is not None:
                self.by_scope.setdefault(scope, []).append(ordinal)
            else:
                self.partial_by_unit.setdefault(origin.unit, []).append(ordinal)
            self.by_unit.setdefault(origin.unit, []).append(ordinal)
        self._indexes: dict[tuple, SelectionIndex | None] = {}
        self._elsewhere: dict[tuple, set[int]] = {}

    def _index(self, kind: str, key: Any, groups: dict) -> SelectionIndex | None:
        if (kind, key) not in self._indexes:
            ordinals = groups.get(key)
            self._indexes[(kind, key)] = SelectionIndex(ordinals, self.compiled) if ordinals else None
        return self._indexes[(kind, key)]

    def _left_out(self, kind: str, key: Any, groups: dict, resource: ProtectedResource) -> set[int]:
        """The selections of a group that ``_elsewhere`` leaves out for the resource (one declared for
        another Region, say): it reads only the Region, account and unit of each side."""
        place = (kind, key, resource.origin.region, resource.origin.account, resource.origin.unit)
        found = self._elsewhere.get(place)
        if found is None:
            found = self._elsewhere[place] = {o for o in groups[key] if _elsewhere(self.selections[o], resource)}
        return found

    def candidates(self, view: ResourceView) -> tuple[tuple[int, ...], tuple[str, ...] | None]:
        """Selections (by position) that may assign the resource, in source order; and the tag keys
        they read when every answer can be shared with resources alike (None: not shareable)."""
        resource = view.resource
        scope, unit = _scope(resource.origin), resource.origin.unit
        if scope is None:  # the resource's own unit: any selection there that ``_elsewhere`` allows
            groups = [("unit", unit, self.by_unit)]
        else:  # its account and Region (``_elsewhere`` allows them all), plus its unit's selections
            groups = [("scope", scope, self.by_scope), ("partial", unit, self.partial_by_unit)]  # whose scope is not known
        found: set[int] = set()
        keys: dict[str, None] | None = {}
        for kind, key, group in groups:
            index = self._index(kind, key, group)
            if index is None:
                continue
            hits = index.candidates(view)
            if kind != "scope":
                hits -= self._left_out(kind, key, group, resource)
            if keys is not None and hits:
                if index.unshared.isdisjoint(hits) and resource.resource_id not in index.ids:
                    keys.update(dict.fromkeys(index.keys))
                else:
                    keys = None
            found |= hits
        return tuple(sorted(found)), (tuple(keys) if keys is not None else None)


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
    verdict = any_true([crosses(d, home, what) for d in destinations])
    if isinstance(verdict, Unknown) and home is None:
        literal = {d for d in destinations if isinstance(d, str)}
        if len(literal) >= 2:
            return True
    return verdict


def _rule_views(
    plan: BackupPlan, certainty: Any, resource: ProtectedResource, links: EstateIndex, resource_facts: dict[str, Any]
) -> list[dict[str, Any]]:
    views = []
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
        view["air_gapped"] = any_true(
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


def _efs_automatic_view(resource: ProtectedResource, resource_facts: dict[str, Any]) -> dict[str, Any] | None:
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
    return {**view, **resource_facts}


def _policy_status_name(resource: ProtectedResource) -> str:
    """How the file system's source names the status of its EFS backup policy."""
    return name_of(resource.attributes, "backup_policy_status", "BackupPolicy.Status")


def coverage(
    estate: Estate, links: EstateIndex, opt_in_at: Callable[[Any], Callable[[str], Any]]
) -> dict[int, Coverage]:
    """Coverage of every protectable resource, keyed by ``id(resource)``.

    Each resource meets only the selections of its account and Region (or deployment unit)
    that can select it (:mod:`.selection_index`); its facts (ARN, opt-in, tags) are computed
    once, and so are each selection's. Resources that no selection can tell apart (the same
    candidates, service, opt-in, values of the tags they read, place and resource-type facts)
    share one answer. Rule views are shared between resources that see them identically (same
    plan, certainty, Region, account and resource-type facts): thousands of resources under a
    few plans cost a few views, and the engine evaluates a shared view once per rule.
    """
    plans = [links.plan_of(s) for s in estate.selections]
    compiled = Compiled(estate.selections)
    partition = _SelectionsByScope(estate.selections, compiled)
    matcher = Matcher(compiled)
    described: dict[tuple[int, str], str] = {}  # "plan 'p' (selection 's': how)", per selection and how
    shared: dict[tuple, list[dict[str, Any]]] = {}
    alike: dict[tuple, tuple[list[str], list[dict[str, Any]], list[Any]]] = {}
    result: dict[int, Coverage] = {}
    for resource in estate.resources:
        view = ResourceView(resource, opt_in_at(resource.origin))  # opt-in: its own account and Region
        resource_facts = _resource_facts(resource)
        facts_key = tuple(resource_facts.items())
        ordinals, keys = partition.candidates(view)  # its own account and Region only
        kind = None
        if keys is not None and type(view.gate) is bool:
            signature = view.signature(keys)
            if signature is not None:
                kind = (ordinals, resource.service, view.gate, signature, resource.origin.region,
                        resource.origin.account, facts_key)
                try:
                    hash(kind)
                except TypeError:  # a fact that cannot be compared this way: this resource alone
                    kind = None
        part = alike.get(kind) if kind is not None else None
        if part is None:
            part = _selected(resource, view, ordinals, plans, matcher, links, resource_facts, facts_key,
                             described, shared)
            if kind is not None:
                alike[kind] = part
        plans_of, rules, verdicts = part
        automatic = _efs_automatic_view(resource, resource_facts)
        if automatic is None:
            # Resources that share an answer share its lists too (nothing changes them afterwards): the
            # engine reads a list of rule views it has seen before by its identity, not view by view.
            found = Coverage(protected=any_true(verdicts), plans=plans_of, rules=rules)
        else:
            found = Coverage(protected=any_true([*verdicts, automatic["certain"]]), rules=[*rules, automatic], plans=[
                *plans_of, f"plan '{EFS_AUTOMATIC_PLAN}' (EFS automatic backups: {_policy_status_name(resource)} ENABLED)"])
        result[id(resource)] = found
    return result


def _selected(resource: ProtectedResource, view: ResourceView, ordinals: tuple[int, ...], plans: list[Any],
              matcher: Matcher, links: EstateIndex, resource_facts: dict[str, Any], facts_key: tuple,
              described: dict[tuple[int, str], str], shared: dict[tuple, list[dict[str, Any]]]
              ) -> tuple[list[str], list[dict[str, Any]], list[Any]]:
    """The plans that the candidate selections give the resource: their descriptions, covering rule
    views and certainties."""
    selections = matcher.compiled.selections
    found_plans: list[str] = []
    rules: list[dict[str, Any]] = []
    verdicts: list[Any] = []
    covered_plans: set[int] = set()
    for ordinal in ordinals:
        selection, plan = selections[ordinal], plans[ordinal]
        match = matcher.match(ordinal, view)
        if match.selected is False:
            continue
        certainty = both(
            both(match.selected, selection.exists), True if isinstance(plan, BackupPlan) or plan is None else plan
        )
        verdicts.append(certainty)
        if certainty is False:  # a selection or plan that is not deployed (its Condition is false)
            continue
        text = described.get((ordinal, match.how))
        if text is None:
            sel_name = selection.name if isinstance(selection.name, str) else selection.resource_id
            if isinstance(plan, BackupPlan):
                plan_name = plan.name if isinstance(plan.name, str) else plan.resource_id
                text = f"plan '{plan_name}' (selection '{sel_name}': {match.how})"
            else:
                where = "an undetermined plan" if isinstance(plan, Unknown) else "a plan outside this template"
                text = f"{where} (selection '{sel_name}': {match.how})"
            described[(ordinal, match.how)] = text
        found_plans.append(text)
        if isinstance(plan, BackupPlan):
            if certainty is True and id(plan) in covered_plans:
                continue  # the same plan through another selection: its rules are already counted
            covered_plans.add(id(plan))
            key = (id(plan), certainty if certainty is True else id(certainty), resource.origin.region,
                   resource.origin.account, facts_key)
            if key not in shared:
                plan_name = plan.name if isinstance(plan.name, str) else plan.resource_id
                shared[key] = (_rule_views(plan, certainty, resource, links, resource_facts)
                               or [_unreadable_rules(plan_name, certainty)])
            rules.extend(shared[key])
        else:
            rules.append({**_outside_view(certainty, plan), **resource_facts})
    return found_plans, rules, verdicts
