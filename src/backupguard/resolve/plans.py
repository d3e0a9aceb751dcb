"""Facts about backup plans: schedule cadence, retention, cold storage, copies and their target vaults."""

from __future__ import annotations

from typing import Any

from backupguard.estate import (
    BackupPlan, BackupRule, CopyAction, Lifecycle, Reference, Unknown, derive, in_words, never_pseudo,
)
from backupguard.resolve.attributes import name_of as attribute_name
from backupguard.resolve.links import Destination, EstateIndex
from backupguard.resolve.schedule import ScheduleError, ScheduleUnsupported, cadence
from backupguard.native_settings import RULE_DEFAULTS
from backupguard.resolve.vaults import is_locked

# AWS Backup's default when a rule has no schedule (CreateBackupPlan API reference).
DEFAULT_SCHEDULE = RULE_DEFAULTS["schedule"]
CONTINUOUS_MAX_DAYS = 35


def name_of(value: Any, fallback: str) -> str:
    return value if isinstance(value, str) else fallback


def _known_schedule_facts(schedule: Any) -> dict[str, Any]:
    if isinstance(schedule, Reference):
        unknown = Unknown(f"schedule is '{schedule}', known only after deployment")
        return {"max_gap_hours": unknown, "max_gap_days": unknown, "min_gap_minutes": unknown,
                "schedule_valid": unknown, "schedule_error": None}
    if not isinstance(schedule, str):  # AWS takes a string; a list or map is refused, never printed whole
        kind = "list" if isinstance(schedule, list) else "map" if isinstance(schedule, dict) else type(schedule).__name__
        error = f"the schedule is a {kind}, not a cron or rate expression"
        unknown = Unknown(error)
        return {"max_gap_hours": unknown, "max_gap_days": unknown, "min_gap_minutes": unknown,
                "schedule_valid": False, "schedule_error": error}
    try:
        found = cadence(schedule)
    except ScheduleError as exc:
        unknown = Unknown(f"schedule {schedule!r} is not valid: {exc}")
        return {"max_gap_hours": unknown, "max_gap_days": unknown, "min_gap_minutes": unknown,
                "schedule_valid": False, "schedule_error": str(exc)}
    except ScheduleUnsupported as exc:
        unknown = Unknown(f"schedule {schedule!r} cannot be evaluated: {exc}")
        return {"max_gap_hours": unknown, "max_gap_days": unknown, "min_gap_minutes": unknown,
                "schedule_valid": unknown, "schedule_error": None}
    return {
        "max_gap_hours": found.max_gap_hours,
        "max_gap_days": round(found.max_gap_hours / 24, 2),
        "min_gap_minutes": found.min_gap_minutes,
        "schedule_valid": True,
        "schedule_error": None,
    }


def schedule_facts(schedule: Any) -> dict[str, Any]:
    """How often a schedule backs up: the longest gap (hours and days), the shortest (minutes), validity.

    An undetermined schedule with a few possible expressions (``Fn::If``) gives
    each fact's possible values, so a rule they all satisfy is still decided.
    """
    if not isinstance(schedule, Unknown):
        return _known_schedule_facts(schedule)
    keys = ("max_gap_hours", "max_gap_days", "min_gap_minutes", "schedule_valid")
    facts = {key: derive(lambda s, key=key: _known_schedule_facts(s)[key], schedule) for key in keys}
    facts["schedule_error"] = None
    return facts


def is_set(value: Any) -> Any:
    """Whether a property is present: an unknown value is, unless the template may leave it out."""
    if isinstance(value, Unknown):
        return Unknown(value.reason, value.refs, (True, False)) if value.may_be_absent else True
    return value is not None


def retention_text(days: Any, name: str) -> str:
    """Retention in words for messages: an absent ``name`` (DeleteAfterDays, delete_after...) keeps
    recovery points forever; an undetermined one shows the retentions it can be."""
    if days is None:
        return f"forever ({name} not set)"
    if isinstance(days, Unknown):
        if days.candidates:
            return " or ".join(dict.fromkeys(retention_text(candidate, name) for candidate in days.candidates))
        return f"unknown ({days.reason})"
    return f"{days} days"


def delete_after_name(holder: Any) -> str:
    """How the source of a rule or copy action names its lifecycle's DeleteAfterDays."""
    return attribute_name(holder.attributes, "lifecycle.delete_after_days", "DeleteAfterDays")


def days_in_cold_storage(life: Lifecycle) -> Any:
    """DeleteAfterDays - MoveToColdStorageAfterDays; None when either is not set."""

    def difference(delete: Any, cold: Any) -> Any:
        if delete is None or cold is None:
            return None
        if not isinstance(delete, (int, float)) or not isinstance(cold, (int, float)):
            return Unknown("the days before deletion or cold storage are not a number")
        return delete - cold

    return derive(difference, life.delete_after_days, life.move_to_cold_storage_after_days)


def retention_vs_lock(retention: Any, vault: Any) -> Any:
    """Where a retention falls against a locked vault's bounds.

    ``inside``, ``below_minimum``, ``above_maximum`` (a retention of "forever"
    against a maximum is above it), or ``unlocked`` when the vault has no lock;
    AWS fails backup and copy jobs whose retention is outside the bounds.
    """
    if isinstance(vault, Unknown):
        return Unknown(vault.reason, vault.refs)
    if vault is None:
        return Unknown("the target vault is not declared here, so its lock is unknown")
    lock = vault.lock

    def place(locked: Any, low: Any, high: Any, days: Any) -> Any:
        if locked is not True:
            return "unlocked"
        if days is None:
            return "above_maximum" if high is not None else "inside"
        if low is not None and days < low:
            return "below_minimum"
        if high is not None and days > high:
            return "above_maximum"
        return "inside"

    return derive(
        place, is_locked(vault), lock.min_retention_days if lock else None,
        lock.max_retention_days if lock else None, retention,
    )


def _vault_facts(vault: Any, prefix: str) -> dict[str, Any]:
    if isinstance(vault, Unknown) or vault is None:
        unknown = vault if isinstance(vault, Unknown) else Unknown("the vault is not declared in this template")
        return {f"{prefix}_declared": False, f"{prefix}_locked": unknown, f"{prefix}_lock_min_days": unknown,
                f"{prefix}_lock_max_days": unknown, f"{prefix}_air_gapped": unknown}
    lock = vault.lock
    return {
        f"{prefix}_declared": True,
        f"{prefix}_locked": is_locked(vault),
        f"{prefix}_lock_min_days": lock.min_retention_days if lock else None,
        f"{prefix}_lock_max_days": lock.max_retention_days if lock else None,
        f"{prefix}_air_gapped": vault.air_gapped,
    }


def crosses(value: Any, home: Any, what: str) -> Any:
    """Whether a copy destination's Region/account (None: the source's own) differs from ``home``."""

    def differs(destination: Any) -> Any:
        if destination is None:  # same template, or ${AWS::Region}: the source's own
            return False
        if home is None:
            option = "region" if what == "Region" else "account-id"
            return Unknown(f"the resource's {what} is not known (pass --{option})")
        return destination != home

    if never_pseudo(value) == ("AWS::Region" if what == "Region" else "AWS::AccountId"):
        return True  # never the deployment's own, wherever it deploys
    return derive(differs, value)


def copy_facts(copy: CopyAction, rule: BackupRule, destination: Destination, base: dict[str, Any]) -> dict[str, Any]:
    """One copy action: where it goes and how long the copy is kept (its own lifecycle, else the rule's)."""
    life = copy.lifecycle or rule.lifecycle or Lifecycle()
    retention = life.delete_after_days
    holder = copy if copy.lifecycle is not None else rule
    vault = destination.vault
    return {
        "plan": base["plan"],
        "rule": base["rule"],
        "where": f"rule '{base['rule']}' copy to {in_words(copy.destination_vault_arn, 'vault')}",
        "destination": str(copy.destination_vault_arn),
        "destination_region": destination.region,
        "destination_account": destination.account,
        "retention_days": retention,
        "retention": retention_text(retention, delete_after_name(holder)),
        "continuous_backup": base["continuous_backup"],
        "retention_vs_lock": retention_vs_lock(retention, vault),
        "cross_account": crosses(destination.account, rule.origin.account, "account"),
        **_vault_facts(vault, "destination"),
    }


def rule_facts(plan: BackupPlan, rule: BackupRule, index: int, links: EstateIndex) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "plan": name_of(plan.name, plan.resource_id),
        "rule": name_of(rule.name, f"#{index + 1}"),
        "schedule": rule.schedule if rule.schedule is not None else DEFAULT_SCHEDULE,
        "schedule_is_default": rule.schedule is None,
        "timezone": rule.timezone,
        "continuous_backup": rule.continuous_backup,
        "start_window_minutes": rule.start_window_minutes,
        "completion_window_minutes": rule.completion_window_minutes,
        "copy_count": len(rule.copy_actions),
        "target_vault": str(rule.target_vault) if rule.target_vault is not None else None,
        "air_gapped_target": rule.target_air_gapped_vault_arn is not None,
    }
    facts.update(schedule_facts(facts["schedule"]))
    life = rule.lifecycle or Lifecycle()
    facts["retention_days"] = life.delete_after_days  # None: kept forever
    facts["retention"] = retention_text(life.delete_after_days, delete_after_name(rule))
    facts["cold_storage_after_days"] = life.move_to_cold_storage_after_days
    facts["cold_storage_set"] = is_set(life.move_to_cold_storage_after_days)
    facts["opt_in_to_archive"] = life.opt_in_to_archive or False
    vault = links.vault_named(rule.target_vault, rule.origin)
    facts.update(_vault_facts(vault, "vault"))
    facts["retention_vs_lock"] = retention_vs_lock(life.delete_after_days, vault)
    # A logically air-gapped target holds recovery points under the rule's lifecycle too (for the
    # resource types AWS Backup writes there directly or copies to), within its own min/max.
    air_gapped = None
    if rule.target_air_gapped_vault_arn is not None:
        air_gapped = links.destination(rule.target_air_gapped_vault_arn, rule.origin).vault
    facts["air_gapped_vault"] = name_of(air_gapped.name, air_gapped.resource_id) if air_gapped is not None else None
    facts["air_gapped_declared"] = air_gapped is not None
    facts["air_gapped_min_days"] = air_gapped.lock.min_retention_days if air_gapped and air_gapped.lock else None
    facts["air_gapped_max_days"] = air_gapped.lock.max_retention_days if air_gapped and air_gapped.lock else None
    facts["air_gapped_retention_vs_lock"] = retention_vs_lock(life.delete_after_days, air_gapped)
    return facts
