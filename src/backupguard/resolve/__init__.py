"""Estate -> facts. AWS semantics live here, once, in Python; rules only compare facts with thresholds.

:func:`subjects` turns the Estate into flat, rule-ready views ("subjects"),
grouped by kind. Each view is a plain dict of facts; a fact the input does not
determine is an :class:`~backupguard.estate.Unknown` carrying the reason, so a
rule that needs it reports *unknown* and says why.

Kinds (the ``subject`` a rule names):

=================  ===========================================================
``backup_plan``    a plan, with ``rules``: the list of its ``backup_rule`` views
``backup_rule``    one rule of a plan: schedule cadence, retention, cold storage,
                   continuous backup, copies
``lifecycle``      one lifecycle: a rule's or a copy action's
``backup_vault``   a vault (standard or logically air-gapped): key, lock
``database``       an RDS instance or an Aurora/RDS/DocumentDB/Neptune cluster
``dynamodb_table`` a DynamoDB table (also global tables and SAM SimpleTables)
=================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backupguard.estate import (
    BackupPlan,
    BackupRule,
    BackupVault,
    Estate,
    Lifecycle,
    Origin,
    ProtectedResource,
    Reference,
    Unknown,
)
from backupguard.resolve.schedule import ScheduleError, cadence

# AWS Backup's default when a rule has no schedule (CreateBackupPlan API reference).
DEFAULT_SCHEDULE = "cron(0 5 ? * * *)"
# Engines' automated-backup retention when BackupRetentionPeriod is omitted (CloudFormation default).
DEFAULT_DB_RETENTION_DAYS = 1


@dataclass(slots=True)
class Subject:
    """One thing a rule is evaluated against, with its facts and where it was declared."""

    kind: str
    resource_id: str
    resource_type: str
    origin: Origin
    facts: dict[str, Any]
    element: str | None = None  # which part of the resource ("rule 'Daily'"), for messages and fingerprints
    tags: Any = field(default_factory=dict)


def _name(value: Any, fallback: str) -> str:
    return value if isinstance(value, str) else fallback


def _rule_facts(plan: BackupPlan, rule: BackupRule, index: int) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "plan": _name(plan.name, plan.resource_id),
        "rule": _name(rule.name, f"#{index + 1}"),
        "schedule": rule.schedule if rule.schedule is not None else DEFAULT_SCHEDULE,
        "schedule_is_default": rule.schedule is None,
        "continuous_backup": rule.continuous_backup,
        "start_window_minutes": rule.start_window_minutes,
        "copy_count": len(rule.copy_actions),
    }
    facts.update(_schedule_facts(facts["schedule"]))
    life = rule.lifecycle or Lifecycle()
    facts["retention_days"] = life.delete_after_days  # None: kept forever
    facts["retention"] = retention_text(life.delete_after_days)
    facts["cold_storage_after_days"] = life.move_to_cold_storage_after_days
    return facts


def _schedule_facts(schedule: Any) -> dict[str, Any]:
    """How often a schedule backs up: the longest gap (hours and days) and the shortest (minutes)."""
    error = None
    if isinstance(schedule, Unknown):
        unknown = schedule
    elif isinstance(schedule, Reference):
        unknown = Unknown(f"schedule is '{schedule}', known only after deployment")
    else:
        try:
            found = cadence(str(schedule))
        except ScheduleError as exc:
            error = str(exc)
            unknown = Unknown(f"schedule {schedule!r} is not valid: {exc}")
        else:
            return {
                "max_gap_hours": found.max_gap_hours,
                "max_gap_days": round(found.max_gap_hours / 24, 2),
                "min_gap_minutes": found.min_gap_minutes,
                "schedule_error": None,
            }
    return {"max_gap_hours": unknown, "max_gap_days": unknown, "min_gap_minutes": unknown, "schedule_error": error}


def retention_text(days: Any) -> str:
    """Retention in words for messages: an absent DeleteAfterDays keeps recovery points forever."""
    if days is None:
        return "forever (no DeleteAfterDays)"
    if isinstance(days, Unknown):
        return f"unknown ({days.reason})"
    return f"{days} days"


def days_in_cold_storage(life: Lifecycle) -> Any:
    """DeleteAfterDays - MoveToColdStorageAfterDays; None when either is not set."""
    delete, cold = life.delete_after_days, life.move_to_cold_storage_after_days
    if delete is None or cold is None:
        return None
    for value, name in ((delete, "DeleteAfterDays"), (cold, "MoveToColdStorageAfterDays")):
        if isinstance(value, Unknown):
            return value
        if not isinstance(value, (int, float)):
            return Unknown(f"{name} is not a number")
    return delete - cold


def _plan_subjects(plan: BackupPlan, out: dict[str, list[Subject]]) -> None:
    rule_views = []
    for index, rule in enumerate(plan.rules):
        facts = _rule_facts(plan, rule, index)
        rule_views.append(facts)
        element = f"rule '{facts['rule']}'"
        out["backup_rule"].append(
            Subject("backup_rule", plan.resource_id, plan.resource_type, rule.origin, facts, element, plan.tags)
        )
        lifecycles = [(rule.lifecycle, element)]
        lifecycles += [
            (copy.lifecycle, f"{element} copy to {copy.destination_vault_arn}") for copy in rule.copy_actions
        ]
        for life, where in lifecycles:
            if life is None:
                continue
            life_facts = {
                "plan": facts["plan"],
                "rule": facts["rule"],
                "where": where,
                "delete_after_days": life.delete_after_days,
                "cold_storage_after_days": life.move_to_cold_storage_after_days,
                "days_in_cold_storage": days_in_cold_storage(life),
            }
            out["lifecycle"].append(
                Subject("lifecycle", plan.resource_id, plan.resource_type, life.origin, life_facts, where, plan.tags)
            )
    plan_facts = {"plan": _name(plan.name, plan.resource_id), "rules": rule_views, "rule_count": len(rule_views)}
    out["backup_plan"].append(
        Subject("backup_plan", plan.resource_id, plan.resource_type, plan.origin, plan_facts, None, plan.tags)
    )


def key_kind(key: Any) -> Any:
    """Who manages a vault's KMS key: ``customer`` or ``aws`` (AWS Backup's default ``aws/backup``)."""
    if key is None or key == "":
        return "aws"
    if isinstance(key, Unknown):
        return key
    if isinstance(key, Reference):
        if key.target_type in ("AWS::KMS::Key", "AWS::KMS::ReplicaKey", "AWS::KMS::Alias"):
            return "customer"
        return Unknown(f"key is '{key}', a {key.target_type or 'resource'} rather than a KMS key")
    if not isinstance(key, str):
        return Unknown("key is not a string")
    if ":alias/aws/" in key or key.startswith("alias/aws/"):
        return "aws"
    if ":key/" in key or ":alias/" in key or key.startswith("alias/") or _is_key_id(key):
        return "customer"
    return Unknown(f"key {key!r} is not a KMS key ARN")


def _is_key_id(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4 or text.startswith("mrk-")


def is_locked(vault: BackupVault) -> Any:
    """Whether the vault has a Vault Lock at all (air-gapped vaults always do)."""
    if vault.air_gapped:
        return True
    if vault.lock is None:
        return False
    return vault.lock.present


def lock_mode(vault: BackupVault) -> Any:
    """``none``, ``governance`` or ``compliance``.

    Compliance mode is a lock with ChangeableForDays (or an air-gapped vault).
    A ChangeableForDays whose value is unknown but which is certainly set (a
    parameter without a default) is still compliance mode: AWS rejects values
    below 3 rather than falling back to governance.
    """
    locked = is_locked(vault)
    if locked is not True:
        return "none" if locked is False else locked
    if vault.air_gapped:
        return "compliance"
    days = vault.lock.changeable_for_days
    if isinstance(days, Unknown):
        return days if days.may_be_absent else "compliance"
    return "governance" if days is None else "compliance"


def key_description(vault: BackupVault, managed_by: Any) -> str:
    """How the vault's recovery points are encrypted, in words for messages."""
    if managed_by == "customer":
        return f"the customer-managed key {vault.encryption_key_arn}"
    if vault.encryption_key_arn in (None, ""):
        return "an AWS owned key (no EncryptionKeyArn)" if vault.air_gapped else "the AWS managed key aws/backup (no EncryptionKeyArn)"
    if managed_by == "aws":
        return f"the AWS managed key {vault.encryption_key_arn}"
    return f"the key {vault.encryption_key_arn}"


def _vault_subject(vault: BackupVault) -> Subject:
    lock = vault.lock
    managed_by = key_kind(vault.encryption_key_arn)
    facts = {
        "vault": _name(vault.name, vault.resource_id),
        "air_gapped": vault.air_gapped,
        "kms_key": vault.encryption_key_arn,
        "key_managed_by": managed_by,
        "key_description": key_description(vault, managed_by),
        "locked": is_locked(vault),
        "lock_mode": lock_mode(vault),
        "lock_min_retention_days": lock.min_retention_days if lock else None,
        "lock_max_retention_days": lock.max_retention_days if lock else None,
        "lock_changeable_for_days": lock.changeable_for_days if lock else None,
    }
    if isinstance(facts["kms_key"], Reference):
        facts["kms_key"] = str(facts["kms_key"])
    return Subject("backup_vault", vault.resource_id, vault.resource_type, vault.origin, facts, None, vault.tags)


_DATABASE_SERVICES = {"RDS", "Aurora", "DocumentDB", "Neptune"}


def _database_subject(resource: ProtectedResource) -> Subject:
    settings = resource.settings
    retention = settings.get("backup_retention_days")
    replica = settings.get("read_replica", False)
    if retention is not None:
        source = "BackupRetentionPeriod"
    elif replica:
        retention, source = 0, "BackupRetentionPeriod not set: read replicas start with automated backups off"
    else:
        retention, source = DEFAULT_DB_RETENTION_DAYS, "BackupRetentionPeriod not set: engine default"
    facts = {
        "service": resource.service,
        "backup_retention_days": retention,
        "retention_source": source,
        "cluster_member": settings.get("cluster_member", False),
        "read_replica": replica,
        "deletion_protection": settings.get("deletion_protection"),
    }
    return Subject("database", resource.resource_id, resource.resource_type, resource.origin, facts, None, resource.tags)


def _table_subject(resource: ProtectedResource) -> Subject:
    facts = {
        "pitr_enabled": resource.settings.get("pitr_enabled"),  # None: not set, which means off
        "pitr_recovery_period_days": resource.settings.get("pitr_recovery_period_days"),
        "simple_table": resource.resource_type == "AWS::Serverless::SimpleTable",
    }
    return Subject(
        "dynamodb_table", resource.resource_id, resource.resource_type, resource.origin, facts, None, resource.tags
    )


SUBJECT_KINDS = ("backup_plan", "backup_rule", "lifecycle", "backup_vault", "database", "dynamodb_table")


def subjects(estate: Estate) -> dict[str, list[Subject]]:
    """Every subject of the estate, grouped by kind, in source order."""
    out: dict[str, list[Subject]] = {kind: [] for kind in SUBJECT_KINDS}
    for plan in estate.plans:
        _plan_subjects(plan, out)
    out["backup_vault"] = [_vault_subject(vault) for vault in estate.vaults]
    for resource in estate.resources:
        if resource.service in _DATABASE_SERVICES:
            out["database"].append(_database_subject(resource))
        elif resource.service == "DynamoDB":
            out["dynamodb_table"].append(_table_subject(resource))
    return out
