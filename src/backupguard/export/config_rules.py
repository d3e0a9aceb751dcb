"""Which AWS Config managed rules carry a framework's rules, for a conformance pack.

A rule names its Config rule in ``references.config_rule`` (several comma-separated; ``<type>-``
stands for one rule per resource type). The rest is AWS's, from shared/reference/aws-backup.md
section 2.1: each managed rule's input parameters and the resource types it evaluates (which
decides the variants a framework control's scope keeps).
"""

from __future__ import annotations

from dataclasses import dataclass

from backupguard.export.controls import (
    LEFT_OUT,
    Mapping,
    Source,
    Unmapped,
    framework_rules,
    scope_aws_types,
    tag_elsewhere,
)
from backupguard.frameworks import Framework


@dataclass(frozen=True)
class ConfigRuleSpec:
    covers: tuple[str, ...]  # the CloudFormation types of the resources it evaluates
    parameters: tuple[str, ...] = ()


def _spec(covers: str | tuple[str, ...], *parameters: str) -> ConfigRuleSpec:
    return ConfigRuleSpec((covers,) if isinstance(covers, str) else covers, parameters)


CONFIG_RULES: dict[str, ConfigRuleSpec] = {
    "backup-plan-min-frequency-and-min-retention-check": _spec(
        "AWS::Backup::BackupPlan", "requiredFrequencyUnit", "requiredFrequencyValue", "requiredRetentionDays"),
    "backup-recovery-point-encrypted": _spec("AWS::Backup::RecoveryPoint"),
    "backup-recovery-point-manual-deletion-disabled": _spec("AWS::Backup::BackupVault", "principalArnList"),
    "backup-recovery-point-minimum-retention-check": _spec("AWS::Backup::RecoveryPoint", "requiredRetentionDays"),
    "dynamodb-pitr-enabled": _spec(("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")),
    "dynamodb-table-deletion-protection-enabled": _spec(("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")),
    "db-instance-backup-enabled": _spec(
        "AWS::RDS::DBInstance", "backupRetentionPeriod", "backupRetentionMinimum", "preferredBackupWindow", "checkReadReplicas"),
    "rds-cluster-backup-retention-check": _spec("AWS::RDS::DBCluster", "minimumBackupRetentionPeriod"),
    "docdb-cluster-backup-retention-check": _spec("AWS::DocDB::DBCluster", "minimumBackupRetentionPeriod"),
    "neptune-cluster-backup-retention-check": _spec("AWS::Neptune::DBCluster", "minimumBackupRetentionPeriod"),
    "rds-instance-deletion-protection-enabled": _spec("AWS::RDS::DBInstance", "databaseEngines"),
    "rds-cluster-deletion-protection-enabled": _spec(("AWS::RDS::DBCluster", "AWS::DocDB::DBCluster", "AWS::Neptune::DBCluster")),
    "efs-automatic-backups-enabled": _spec("AWS::EFS::FileSystem"),
    "s3-bucket-versioning-enabled": _spec("AWS::S3::Bucket", "isMfaDeleteEnabled"),
    "s3-bucket-default-lock-enabled": _spec("AWS::S3::Bucket", "mode"),
}

# <prefix>-... families: the resource type of each prefix, and the prefixes AWS has each family for
# (the UNCONFIRMED ones of the reference's table are left out).
PREFIXES = {
    "aurora": ("AWS::RDS::DBCluster",),
    "dynamodb": ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"),
    "ebs": ("AWS::EC2::Volume",),
    "ec2": ("AWS::EC2::Instance",),
    "efs": ("AWS::EFS::FileSystem",),
    "fsx": ("AWS::FSx::FileSystem",),
    "rds": ("AWS::RDS::DBInstance",),
    "s3": ("AWS::S3::Bucket",),
    "storagegateway": ("AWS::StorageGateway::Volume",),
    "virtualmachine": ("AWS::BackupGateway::VirtualMachine",),
}
_ALL = tuple(PREFIXES)
_RESTORE = ("aurora", "dynamodb", "ebs", "ec2", "efs", "fsx", "rds", "s3")
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # suffix -> (prefixes, parameters)
    "resources-protected-by-backup-plan": (_ALL, (
        "resourceTags", "resourceId", "crossRegionList", "crossAccountList", "maxRetentionDays", "minRetentionDays",
        "backupVaultLockCheck")),
    "last-backup-recovery-point-created": (_ALL, ("resourceTags", "resourceId", "recoveryPointAgeValue", "recoveryPointAgeUnit")),
    "meets-restore-time-target": (_RESTORE, ("maxRestoreTime", "resourceTags", "resourceId")),
}
for _suffix, (_prefixes, _parameters) in FAMILIES.items():
    for _prefix in _prefixes:
        CONFIG_RULES[f"{_prefix}-{_suffix}"] = ConfigRuleSpec(PREFIXES[_prefix], _parameters)
# A rule that checks DocumentDB and Neptune clusters too (BG303) names the RDS rule; the same check
# has its own Config rule for each.
ALSO = {"rds-cluster-backup-retention-check": ("docdb-cluster-backup-retention-check", "neptune-cluster-backup-retention-check")}
# The ranges of section 2.1, by family (controls.RANGES is keyed by family or control).
FAMILY_OF = {name: suffix for name in CONFIG_RULES for suffix in FAMILIES if name.endswith("-" + suffix)}


@dataclass(frozen=True)
class ConfigRule:
    """One Config managed rule as a conformance pack declares it."""

    name: str  # ConfigRuleName (unique in the pack)
    identifier: str  # Source.SourceIdentifier
    parameters: tuple[tuple[str, str], ...]
    tag: tuple[str, str] | None
    sources: tuple[Source, ...]


def identifier(name: str) -> str:
    return name.upper().replace("-", "_")


def expand(reference: str) -> list[str]:
    """``references.config_rule`` -> managed rule names: comma-separated, ``<type>-`` for each prefix."""
    names: list[str] = []
    for part in (p.strip() for p in reference.split(",")):
        if part.startswith("<type>-"):
            suffix = part[len("<type>-"):]
            names += [f"{prefix}-{suffix}" for prefix in FAMILIES.get(suffix, ((),))[0]]
        elif part:
            names += [part, *ALSO.get(part, ())]
    return list(dict.fromkeys(names))


def config_rules(framework: Framework, checks: list) -> Mapping:
    """The framework's rules as Config managed rules; a scope's resource types keep the variants
    that evaluate them, a scope's one tag becomes the rule's tag scope."""
    result = Mapping()
    by_key: dict[tuple, ConfigRule] = {}
    taken: dict[str, int] = {}
    for control_id, rule_id, check in framework_rules(framework, checks):
        if check is None:
            result.unmapped.append(Unmapped(control_id, rule_id, LEFT_OUT))
            continue
        reference = check.rule.references.get("config_rule")
        names = [n for n in expand(str(reference or "")) if n in CONFIG_RULES]
        if not names:
            result.unmapped.append(Unmapped(control_id, rule_id, "no AWS Config managed rule corresponds"
                                            + (f" that backupguard knows ({reference})" if reference else "")))
            continue
        aws_types = scope_aws_types(check.scope.resource_types)
        if aws_types:
            names = [n for n in names if set(CONFIG_RULES[n].covers) & set(aws_types)]
            if not names:
                result.unmapped.append(Unmapped(control_id, rule_id, f"no AWS Config managed rule for {', '.join(aws_types)}"))
                continue
        tags = tuple(check.scope.tags)
        if len(tags) > 1:
            result.notes.append(f"{control_id} {rule_id}: a Config rule takes one tag; exported without the scope's tags "
                                f"{', '.join(f'{k}={v}' for k, v in tags)}")
        tag = tags[0] if len(tags) == 1 else None
        for name in names:
            values = result.translate(control_id, rule_id, name, FAMILY_OF.get(name, name), check.params,
                                      CONFIG_RULES[name].parameters)
            if values is None:
                continue
            key = (name, tuple(values.items()), _tag_for(name, tag, check.rule.subject, control_id, rule_id, result.notes))
            source = Source(control_id, rule_id)
            if key in by_key:
                earlier = by_key[key]
                by_key[key] = ConfigRule(earlier.name, earlier.identifier, earlier.parameters, key[2], (*earlier.sources, source))
                continue
            taken[name] = taken.get(name, 0) + 1
            unique = name if taken[name] == 1 else f"{name}-{taken[name]}"
            by_key[key] = ConfigRule(unique, identifier(name), tuple(values.items()), key[2], (source,))
    result.items = list(by_key.values())
    return result


# What a Config rule evaluates, as a rule's subject kind, when it is not the protected resources.
_EVALUATES = {"AWS::Backup::BackupPlan": "backup_plan", "AWS::Backup::BackupVault": "backup_vault",
              "AWS::Backup::RecoveryPoint": "recovery_point"}


def _tag_for(name: str, tag: tuple[str, str] | None, subject: str, control_id: str, rule_id: str,
             notes: list[str]) -> tuple[str, str] | None:
    """The scope's tag where the Config rule reads it on what the rule checks; else none, with a note
    (BG413 checks resources tagged env=prod; backup-recovery-point-minimum-retention-check would read
    the tag on recovery points)."""
    evaluates = _EVALUATES.get(CONFIG_RULES[name].covers[0], "resource")
    if tag is None or evaluates == subject:
        return tag
    notes.append(tag_elsewhere(control_id, rule_id, tag, subject, name, evaluates))
    return None
