"""Which live entity each code entity became, and how we know (``backupguard drift``).

Strategies, most certain first; each pair records the one that matched it:

1. **CloudFormation stack**: ``cloudformation:ListStackResources`` of the stacks the user names
   (``--stack``) maps a logical ID to the physical ID CloudFormation created (a plan's ID, a
   vault's name, a selection's ID, a KMS key's ID).
2. **Terraform prior state**: the ``prior_state`` of a plan JSON (``terraform show -json plan``)
   gives each address its ``id``, ``arn`` and ``name``. State files themselves are never read
   (they hold secrets); the plan JSON is what the user chose to hand over.
3. **CloudFormation tags**: ``aws:cloudformation:logical-id`` (and ``stack-name``) on a live plan
   or vault.
4. **Names**: the vault's and plan's names in the account and Region (the ARN of a vault is built
   from its name), a selection's name within its plan.

A code entity whose name is undetermined (an unresolved variable) and that no deployment record
names is *unknown*, never reported missing. Live plans and selections that no code entity
matches are unmanaged (AWS Organizations' own plans, ``orgs/...``, excepted: their policy is
compared instead).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from backupguard.estate import (
    BackupPlan, BackupSelection, BackupVault, Estate, OrgBackupPolicy, Reference, StackResource, Unknown,
)

LOGICAL_ID_TAG = "aws:cloudformation:logical-id"
STACK_NAME_TAG = "aws:cloudformation:stack-name"
ORGS_PLAN = ":backup-plan:orgs/"  # plans AWS Organizations creates from a backup policy


class PriorStateError(Exception):
    """A plan JSON whose prior state cannot be read (the message names the file)."""


@dataclass(frozen=True)
class Identity:
    """What a deployment record says a code entity became."""

    how: str  # "CloudFormation stack 'prod'", "Terraform prior state"
    physical_id: str | None = None
    arn: str | None = None
    name: str | None = None
    stack: str | None = None  # the CloudFormation stack that created it (it tags what it creates)


@dataclass
class Identities:
    """Deployment records by the code's resource ID (a logical ID, a Terraform address)."""

    by_id: dict[str, Identity] = field(default_factory=dict)
    stacks: tuple[str, ...] = ()

    def add_stack_resources(self, resources: Iterable[StackResource]) -> None:
        self.stacks = tuple(sorted({*self.stacks, *(r.stack for r in resources)}))
        for resource in resources:
            if resource.physical_id:
                self.by_id.setdefault(resource.logical_id, Identity(
                    f"CloudFormation stack '{resource.stack}' (logical ID {resource.logical_id})", resource.physical_id,
                    stack=resource.stack))

    def add_prior_state(self, source: str, text: str) -> None:
        """Addresses -> id/arn/name from a plan JSON's ``prior_state`` (raises :class:`PriorStateError`)."""
        for address, values in prior_state(source, text).items():
            self.by_id.setdefault(address, Identity(
                f"Terraform prior state ({address})", _text(values.get("id")), _text(values.get("arn")),
                _text(values.get("name"))))


def prior_state(source: str, text: str) -> dict[str, dict[str, Any]]:
    """Managed resources of a plan JSON's prior state: address -> values."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PriorStateError(f"{source}: not a Terraform plan JSON ({exc if not isinstance(exc, RecursionError) else 'nested too deeply'})") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise PriorStateError(f"{source}: not a Terraform plan JSON (`terraform show -json PLANFILE` writes one)")
    prior = data.get("prior_state")
    if prior is None:
        raise PriorStateError(f"{source}: the plan has no prior_state (it was made without a state: nothing is deployed yet)")
    found: dict[str, dict[str, Any]] = {}

    def walk(module: Any) -> None:
        if not isinstance(module, dict):
            return
        for resource in module.get("resources") or []:
            if isinstance(resource, dict) and resource.get("mode", "managed") == "managed" \
                    and isinstance(resource.get("address"), str) and isinstance(resource.get("values"), dict):
                found[resource["address"]] = resource["values"]
        for child in module.get("child_modules") or []:
            walk(child)

    values = prior.get("values") if isinstance(prior, dict) else None
    walk(values.get("root_module") if isinstance(values, dict) else None)
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class Pair:
    """A code entity and what it is in the account. ``live`` is None when nothing matched: then
    ``unknown`` says why it cannot be told (an undetermined name), else it is missing live."""

    kind: str  # backup_plan, backup_selection, backup_vault, org_policy
    code: Any | None
    live: Any | None
    how: str  # the strategy that matched it, or how it was looked for
    unknown: str | None = None


@dataclass
class Matching:
    account: str
    region: str
    partition: str = "aws"
    pairs: list[Pair] = field(default_factory=list)
    unmanaged: list[Pair] = field(default_factory=list)  # live plans and selections no code declares
    identities: Identities = field(default_factory=Identities)
    by_code: dict[str, Any] = field(default_factory=dict)  # code resource id -> its live entity

    def of(self, kind: str) -> list[Pair]:
        return [p for p in self.pairs if p.kind == kind]

    def vault_arn(self, name: str) -> str:
        return f"arn:{self.partition}:backup:{self.region}:{self.account}:backup-vault:{name}"


class _Live:
    """The live entities of one kind not yet paired: each is taken by the first test it passes."""

    def __init__(self, entities: list) -> None:
        self.free = list(entities)

    def take(self, test) -> Any | None:
        for entity in self.free:
            if test(entity):
                self.free.remove(entity)
                return entity
        return None


def match(code: Estate, live: Estate, identities: Identities, account: str, region: str,
          partition: str = "aws") -> Matching:
    """Pair the code's vaults, plans and selections of one account and Region with the live ones."""
    result = Matching(account, region, partition, identities=identities)
    here = in_target(code, account, region)

    vaults = _Live([v for v in live.vaults if v.origin.region == region])
    for vault in filter(here, code.vaults):
        _pair(result, "backup_vault", vault, vaults, _vault_tests(vault, identities))

    plans = _Live([p for p in live.plans if p.origin.region == region])
    for plan in filter(here, code.plans):
        _pair(result, "backup_plan", plan, plans, _plan_tests(plan, identities))

    selections = _Live([s for s in live.selections if s.origin.region == region])
    for selection in filter(here, code.selections):
        if isinstance(selection.exists, Unknown):
            result.pairs.append(Pair("backup_selection", selection, None, "", selection.exists.reason))
            continue
        _pair(result, "backup_selection", selection, selections, _selection_tests(selection, identities, result))

    for plan in plans.free:
        if ORGS_PLAN not in plan.resource_id:
            result.unmanaged.append(Pair("backup_plan", None, plan, "declared by no code"))
    managed = {p.live.resource_id for p in result.of("backup_plan") if p.live is not None}
    for selection in selections.free:
        if isinstance(selection.plan_ref, Reference) and selection.plan_ref.target in managed:
            result.unmanaged.append(Pair("backup_selection", None, selection, "declared by no code"))
    return result


def in_target(code: Estate, account: str, region: str) -> Callable[[Any], bool]:
    """Whether a code entity is deployed to the compared account and Region (or says nothing of
    either); the entities of Organizations policy files are compared as policies, not here."""
    policy_files = {p.origin.file for p in code.org_policies}
    return lambda e: (e.origin.region in (None, region) and e.origin.account in (None, account)
                      and e.origin.file not in policy_files)


def _pair(result: Matching, kind: str, entity: Any, live: _Live, tests: list[tuple[str, Any]]) -> None:
    """The first strategy that names a live entity pairs it; one that names a missing one (a deleted
    plan the stack still lists) makes it missing; none at all: missing, or unknown without a name."""
    looked = []
    for how, test in tests:
        if isinstance(test, Unknown):
            result.pairs.append(Pair(kind, entity, None, how, test.reason))
            return
        found = live.take(test)
        if found is not None:
            result.pairs.append(Pair(kind, entity, found, how))
            result.by_code[entity.resource_id] = found
            return
        looked.append(how)
    result.pairs.append(Pair(kind, entity, None, "; ".join(looked) or "nothing to look it up by"))


def _name_test(name: Any, what: str, test) -> tuple[str, Any]:
    if isinstance(name, Unknown):
        return (f"{what} name", Unknown(f"its name is unknown ({name.reason}), so the live {what} cannot be told; "
                                         "name the stack (--stack) or give the plan JSON (--plan-json)"))
    if not isinstance(name, str) or not name:
        return (f"{what} name", Unknown(f"the code gives no {what} name (CloudFormation generates one): "
                                         "name the stack (--stack) to match it"))
    return (f"{what} name '{name}'", test(name))


def _tag_test(entity: Any, identities: Identities) -> tuple[str, Any]:
    def tagged(live: Any) -> bool:
        tags = live.tags if isinstance(live.tags, dict) else {}
        return tags.get(LOGICAL_ID_TAG) == entity.resource_id and (
            not identities.stacks or tags.get(STACK_NAME_TAG) in identities.stacks)
    return (f"tag {LOGICAL_ID_TAG}={entity.resource_id}", tagged)


def _vault_tests(vault: BackupVault, identities: Identities) -> list[tuple[str, Any]]:
    tests: list[tuple[str, Any]] = []
    known = identities.by_id.get(vault.resource_id)
    if known is not None:
        names = {known.physical_id, known.name}
        tests.append((known.how, lambda live: live.name in names or live.resource_id == known.arn))
        return tests
    tests.append(_tag_test(vault, identities))
    tests.append(_name_test(vault.name, "vault", lambda name: lambda live: live.name == name))
    return tests


def _plan_tests(plan: BackupPlan, identities: Identities) -> list[tuple[str, Any]]:
    known = identities.by_id.get(plan.resource_id)
    if known is not None:
        return [(known.how, lambda live: live.resource_id == known.arn
                 or bool(known.physical_id) and live.resource_id.endswith(f":backup-plan:{known.physical_id}"))]
    return [_tag_test(plan, identities), _name_test(plan.name, "plan", lambda name: lambda live: live.name == name)]


def _selection_tests(selection: BackupSelection, identities: Identities, result: Matching) -> list[tuple[str, Any]]:
    known = identities.by_id.get(selection.resource_id)
    if known is not None and known.physical_id:
        # CloudFormation's physical ID of a selection is its SelectionId (Terraform's id too).
        return [(known.how, lambda live: live.resource_id.endswith(f"/selection/{known.physical_id}"))]
    plan = plan_target(selection.plan_ref)
    live_plan = result.by_code.get(plan) if plan is not None else None
    if live_plan is None:
        reason = ("its plan is not in the account" if plan is not None and plan in {p.code.resource_id for p in result.of("backup_plan")}
                  else "its plan is not known")
        return [(f"selection name in its plan ({reason})", lambda live: False)]
    return [_name_test(selection.name, "selection", lambda name: lambda live: live.name == name
                       and isinstance(live.plan_ref, Reference) and live.plan_ref.target == live_plan.resource_id)]


def plan_target(ref: Any) -> str | None:
    if isinstance(ref, Reference):
        return ref.target
    if isinstance(ref, str):
        return ref
    if isinstance(ref, Unknown) and len(ref.refs) == 1:
        return ref.refs[0]
    return None


# -- what code values are in the account ------------------------------------------------------


@dataclass(frozen=True)
class PhysicalId:
    """A resource the code names by reference, known in the account only by its physical ID (a KMS
    key's ID from a stack): an ARN matches it when it ends with that ID."""

    value: str

    def matches(self, arn: Any) -> bool:
        return isinstance(arn, str) and (arn == self.value or arn.endswith(("/" + self.value, ":" + self.value)))

    def __str__(self) -> str:
        return self.value


def resolve(value: Any, matching: Matching) -> Any:
    """A code value as the account sees it: a reference to a paired entity becomes its name or ARN,
    one a deployment record names becomes its physical ID or ARN; anything else unresolved stays
    Unknown (and is compared as unknown, never as a difference)."""
    if isinstance(value, Reference):
        live = matching.by_code.get(value.target)
        wants_arn = bool(value.attribute) and value.attribute.lower().endswith("arn")
        if live is not None:
            if wants_arn:
                return live.resource_id
            return live.name if isinstance(live, BackupVault) else live.resource_id.rsplit(":", 1)[-1]
        known = matching.identities.by_id.get(value.target)
        if known is not None:
            if wants_arn:
                return known.arn or (PhysicalId(known.physical_id) if known.physical_id else _unresolved(value))
            return known.physical_id or _unresolved(value)
        return _unresolved(value)
    if isinstance(value, Unknown) and value.text is not None and value.refs:
        text = value.text
        for target in value.refs:
            resolved = resolve(Reference(target), matching)
            if not isinstance(resolved, str):
                return value
            text = text.replace("${" + target + "}", resolved)
        return value if "${" in text else text
    if isinstance(value, list):
        return [resolve(item, matching) for item in value]
    return value


def _unresolved(value: Reference) -> Unknown:
    return Unknown(f"'{value}' is known only after deployment: name its stack (--stack) or give the plan JSON (--plan-json)")


def org_policy_pairs(code: list[OrgBackupPolicy], live: list[OrgBackupPolicy]) -> list[Pair]:
    """A policy file and the live policy of the same name (the file's name without .json)."""
    pool = _Live(list(live))
    pairs = []
    for policy in code:
        stem = str(policy.name).rsplit(".", 1)[0]
        found = pool.take(lambda p, s=stem: p.name == s)
        pairs.append(Pair("org_policy", policy, found, f"policy name '{stem}'"))
    return pairs
