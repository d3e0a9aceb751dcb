"""Which AWS Backup Audit Manager controls carry a framework's rules, with which input parameters and scope.

The AWS semantics of ``backupguard export``, in one place (shared/reference/aws-backup.md sections
1.1 and 1.2): each control's input parameters and their ranges, which scopes it takes, and how a
rule's parameters become the control's. Which control a rule corresponds to is data: the rule's
``references.audit_manager_control``. The renderers only spell what is decided here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from backupguard.frameworks import SOURCE_TYPES, Framework


@dataclass(frozen=True)
class ControlSpec:
    """What Audit Manager accepts for one control."""

    parameters: tuple[str, ...] = ()
    types: bool = True  # the scope may name resource types
    tags: bool = True  # the scope may name (one) tag
    evaluates: str = "resource"  # what AWS evaluates, and so what the scope's tag is looked up on (a rule's subject kind)


# Resource controls take resource types and a tag; plan, vault and recovery-point controls a tag
# only; the logically air-gapped vault control no tag (section 1.2, "Scope options").
AUDIT_CONTROLS: dict[str, ControlSpec] = {
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN": ControlSpec(),
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": ControlSpec(
        ("requiredFrequencyUnit", "requiredFrequencyValue", "requiredRetentionDays"), types=False, evaluates="backup_plan"),
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": ControlSpec(("principalArnList",), types=False, evaluates="backup_vault"),
    "BACKUP_RECOVERY_POINT_ENCRYPTED": ControlSpec(types=False, evaluates="recovery_point"),
    "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK": ControlSpec(("requiredRetentionDays",), types=False,
                                                                 evaluates="recovery_point"),
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": ControlSpec(("crossRegionList",)),
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT": ControlSpec(("crossAccountList",)),
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": ControlSpec(("minRetentionDays", "maxRetentionDays")),
    "BACKUP_LAST_RECOVERY_POINT_CREATED": ControlSpec(("recoveryPointAgeUnit", "recoveryPointAgeValue")),
    "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET": ControlSpec(("maxRestoreTime",)),
    "RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT": ControlSpec(("recoveryPointAgeUnit", "recoveryPointAgeValue"), tags=False),
}

# A rule parameter is named after the AWS input parameter in snake case (required_retention_days ->
# requiredRetentionDays), except these. A parameter in days only sets the unit too.
RENAMED = {
    "max_restore_time_minutes": "maxRestoreTime",
    "minimum_retention_days": "minimumBackupRetentionPeriod",  # the RDS, DocumentDB and Neptune Config rules
}
IN_DAYS = {
    "recovery_point_age_days": ("recoveryPointAgeUnit", "recoveryPointAgeValue"),
    "max_age_days": ("recoveryPointAgeUnit", "recoveryPointAgeValue"),
}
# Optional inputs a rule turns off with 0 or an empty list: then absent, as AWS's "not set".
OPTIONAL = frozenset({"principalArnList", "crossRegionList", "crossAccountList", "minRetentionDays", "maxRetentionDays"})
# Lists AWS takes as comma-separated text, and how many items at most.
LIST_LIMITS = {"principalArnList": 5, "crossAccountList": 5, "crossRegionList": None}
# A value with a unit, and its range per unit (section 1.2); keyed by control or Config rule family.
UNITS = {"requiredFrequencyValue": "requiredFrequencyUnit", "recoveryPointAgeValue": "recoveryPointAgeUnit"}
RANGES: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", "requiredFrequencyValue"): {"hours": (1, 24), "days": (1, 31)},
    ("BACKUP_LAST_RECOVERY_POINT_CREATED", "recoveryPointAgeValue"): {"hours": (1, 744), "days": (1, 31)},
    ("RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT", "recoveryPointAgeValue"): {"hours": (24, 2184), "days": (1, 91)},
    ("last-backup-recovery-point-created", "recoveryPointAgeValue"): {"hours": (1, 744), "days": (1, 31)},
}

# A framework scope names CloudFormation types; Audit Manager's ComplianceResourceTypes names AWS
# Backup's resource types.
BACKUP_TYPES = {
    "AWS::EC2::Instance": "EC2",
    "AWS::EC2::Volume": "EBS",
    "AWS::RDS::DBInstance": "RDS",
    "AWS::RDS::DBCluster": "Aurora",
    "AWS::DocDB::DBCluster": "DocumentDB",
    "AWS::Neptune::DBCluster": "Neptune",
    "AWS::DynamoDB::Table": "DynamoDB",
    "AWS::DynamoDB::GlobalTable": "DynamoDB",
    "AWS::EFS::FileSystem": "EFS",
    "AWS::FSx::FileSystem": "FSx",
    "AWS::S3::Bucket": "S3",
    "AWS::StorageGateway::Volume": "Storage Gateway",
    "AWS::BackupGateway::VirtualMachine": "VirtualMachine",
}


@dataclass(frozen=True)
class Source:
    """The framework control and rule an exported control or Config rule comes from."""

    control: str
    rule: str

    def __str__(self) -> str:
        return f"{self.control} {self.rule}"


@dataclass(frozen=True)
class Unmapped:
    """A rule of the framework that is not exported, and why (listed in the file and on stderr)."""

    control: str
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.control}): {self.reason}"


@dataclass(frozen=True)
class NativeControl:
    """One Audit Manager control as it is exported: ``resource_types`` None is every resource."""

    name: str
    parameters: tuple[tuple[str, str], ...]
    resource_types: tuple[str, ...] | None
    tags: tuple[tuple[str, str], ...]
    sources: tuple[Source, ...]


@dataclass
class Mapping:
    """What a framework becomes: the native items, the rules left out, and notes on approximations."""

    items: list = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def translate(self, control_id: str, rule_id: str, name: str, family: str, params: dict[str, Any],
                  accepted: Iterable[str]) -> dict[str, str] | None:
        """The rule's parameters as the input parameters of ``name`` (see :func:`inputs`); None, and
        the rule listed, when a value is beyond AWS's range; a parameter without counterpart is a note."""
        try:
            values, extra = inputs(family, params, accepted)
        except ParameterProblem as exc:
            self.unmapped.append(Unmapped(control_id, rule_id, f"{name}: {exc}"))
            return None
        for parameter in extra:
            self.notes.append(f"{control_id} {rule_id}: parameter {parameter} has no counterpart in {name}; "
                              "AWS evaluates without it")
        return values


class ParameterProblem(Exception):
    """A rule parameter whose value the AWS counterpart cannot take (out of its range)."""


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def text(value: Any) -> str:
    """An input parameter value as AWS takes it: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def inputs(family: str, params: dict[str, Any], accepted: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """A rule's parameters -> the input parameters of ``family`` (a control or Config rule) that
    ``accepted`` names, as strings, checked against AWS's ranges; and the rule parameters that have
    no counterpart. Raises :class:`ParameterProblem`."""
    accepted = set(accepted)
    values: dict[str, str] = {}
    extra = []
    for name, value in params.items():
        if name in IN_DAYS:
            unit, target = IN_DAYS[name]
            if {unit, target} <= accepted:
                values[unit], values[target] = "days", text(value)
            else:
                extra.append(name)
            continue
        target = RENAMED.get(name, camel(name))
        if target not in accepted:
            extra.append(name)
        elif not (target in OPTIONAL and value in (0, [], (), "")):
            limit = LIST_LIMITS.get(target)
            if limit is not None and isinstance(value, (list, tuple)) and len(value) > limit:
                raise ParameterProblem(f"{target} takes at most {limit} items, {name} has {len(value)}")
            values[target] = text(value)
    _in_range(family, values)
    return dict(sorted(values.items())), extra


def _in_range(family: str, values: dict[str, str]) -> None:
    """Check (and normalise) a value with a unit: 48 hours beyond a 24-hour maximum is 2 days."""
    for target, unit_name in UNITS.items():
        ranges = RANGES.get((family, target))
        if ranges is None or target not in values or not values[target].lstrip("-").isdigit():
            continue
        unit, number = values.get(unit_name, "days"), int(values[target])
        low, high = ranges.get(unit, (1, None))
        if unit == "hours" and high is not None and number > high and number % 24 == 0 and "days" in ranges:
            unit, number = "days", number // 24
            low, high = ranges["days"]
            values[unit_name], values[target] = unit, str(number)
        if number < low or (high is not None and number > high):
            raise ParameterProblem(f"{target} {number} {unit} is outside the range AWS accepts ({low}-{high} {unit})")


def scope_aws_types(resource_types: Iterable[str]) -> tuple[str, ...]:
    """A check's scope types (expanded to every source's names) -> the AWS (CloudFormation) types."""
    terraform = {name for names in SOURCE_TYPES.values() for name in names if not name.startswith("AWS::")}
    return tuple(sorted(t for t in dict.fromkeys(resource_types) if t not in terraform and t.startswith("AWS::")))


def framework_rules(framework: Framework, checks: list) -> Iterable[tuple[str, Any, Any]]:
    """(control id, rule id, the run's check or None) for each rule of each control, in the
    framework's order; None when the config's check/skip_check left the rule out."""
    found = {(label.partition(":")[2], check.rule.id): check
             for check in checks for label in check.frameworks if label.partition(":")[0] == framework.id}
    for control in framework.controls:
        for mapped in control.rules:
            yield control.id, mapped.rule_id, found.get((control.id, mapped.rule_id))


LEFT_OUT = "left out by the configuration's check/skip_check"


def audit_manager(framework: Framework, checks: list) -> Mapping:
    """The framework's rules as Audit Manager controls. A control is exported once: rules that map
    to the same control with the same parameters and tags add their resource types to its scope;
    one with other parameters or tags is listed as not exported."""
    result = Mapping()
    by_name: dict[str, NativeControl] = {}
    for control_id, rule_id, check in framework_rules(framework, checks):
        if check is None:
            result.unmapped.append(Unmapped(control_id, rule_id, LEFT_OUT))
            continue
        reference = str(check.rule.references.get("audit_manager_control") or "").split()
        if not reference:
            config = check.rule.references.get("config_rule")
            hint = " (an AWS Config rule does: --format conformance-pack)" if config else ""
            result.unmapped.append(Unmapped(control_id, rule_id, f"no Audit Manager control corresponds{hint}"))
            continue
        name = reference[0]
        spec = AUDIT_CONTROLS.get(name)
        if spec is None:
            result.unmapped.append(Unmapped(control_id, rule_id, f"references {name}, which is not an Audit Manager control backupguard knows"))
            continue
        values = result.translate(control_id, rule_id, name, name, check.params, spec.parameters)
        if values is None:
            continue
        types, tags = _scope(name, spec, control_id, rule_id, check.scope, check.rule.subject, result.notes)
        exported = NativeControl(name, tuple(values.items()), types, tags, (Source(control_id, rule_id),))
        earlier = by_name.get(name)
        if earlier is None:
            by_name[name] = exported
        elif (earlier.parameters, earlier.tags) != (exported.parameters, exported.tags):
            result.unmapped.append(Unmapped(control_id, rule_id, (
                f"{name} is exported already with other parameters or tags (for {earlier.sources[0]}); "
                "a framework holds each control once")))
        else:
            merged = None if earlier.resource_types is None or types is None else tuple(sorted({*earlier.resource_types, *types}))
            by_name[name] = NativeControl(name, earlier.parameters, merged, earlier.tags, (*earlier.sources, *exported.sources))
    result.items = list(by_name.values())
    return result


def _scope(name: str, spec: ControlSpec, control_id: str, rule_id: str, scope: Any, subject: str,
           notes: list[str]) -> tuple[tuple[str, ...] | None, tuple[tuple[str, str], ...]]:
    """The framework control's scope as the control takes it; what it cannot take is a note (the
    control then evaluates more resources than the framework's, never fewer)."""
    aws_types = scope_aws_types(scope.resource_types)
    types: tuple[str, ...] | None = None
    if aws_types:
        backup_types = tuple(sorted({BACKUP_TYPES[t] for t in aws_types if t in BACKUP_TYPES}))
        if not spec.types:
            notes.append(f"{control_id} {rule_id}: {name} takes no resource types; exported for every resource "
                         f"instead of {', '.join(aws_types)}")
        elif not backup_types:
            notes.append(f"{control_id} {rule_id}: {', '.join(aws_types)} are not AWS Backup resource types; "
                         f"{name} is exported for every resource")
        else:
            types = backup_types
    tags = tuple(scope.tags)
    if tags and spec.tags and len(tags) == 1 and subject != spec.evaluates:
        # BG402 checks resources tagged env=prod; the plan-level control would check plans tagged env=prod
        notes.append(tag_elsewhere(control_id, rule_id, tags[0], subject, name, spec.evaluates))
        tags = ()
    if tags and (not spec.tags or len(tags) > 1):
        why = "takes no tags" if not spec.tags else "takes one tag"
        notes.append(f"{control_id} {rule_id}: {name} {why}; exported without the scope's tags "
                     f"{', '.join(f'{k}={v}' for k, v in tags)}")
        tags = ()
    return types, tags


def tag_elsewhere(control_id: str, rule_id: str, tag: tuple[str, str], subject: str, name: str, evaluates: str) -> str:
    """The note for a scope's tag left out because the exported control or Config rule would look it
    up on other things (``evaluates``) than those the rule checks (``subject``)."""
    return (f"{control_id} {rule_id}: the scope's tag {tag[0]}={tag[1]} selects {_kind_words(subject)} here, "
            f"but {name} would look it up on {_kind_words(evaluates)}; exported without it")


def _kind_words(subject: str) -> str:
    """A rule's subject kind in words, plural (what a scope's tag is read on)."""
    return {"resource": "resources", "backup_plan": "backup plans", "backup_vault": "backup vaults",
            "recovery_point": "recovery points"}.get(subject, subject.replace("_", " ") + "s")


AUDIT_NAME_LIMIT = 256


def valid_name(name: str) -> bool:
    """Framework and report plan names: [a-zA-Z][_a-zA-Z0-9]*, at most 256 characters (BG601, BG602)."""
    from backupguard.resolve.builders import AUDIT_NAME

    return bool(AUDIT_NAME.fullmatch(name)) and len(name) <= AUDIT_NAME_LIMIT


def derived_name(framework_id: str) -> str:
    """A valid framework name from a framework ID, the same every time: every other character
    becomes an underscore (aws-backup-audit-manager -> aws_backup_audit_manager)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", framework_id)
    if not name[:1].isascii() or not name[:1].isalpha():
        name = "bg_" + name
    return name[:AUDIT_NAME_LIMIT]
