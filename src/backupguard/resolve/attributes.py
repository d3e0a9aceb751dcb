"""Which source attribute each fact reads, so a result can name it and point at it.

A fact is derived from one setting of the entity (``max_gap_hours`` from the rule's schedule,
``retention_days`` from its lifecycle's DeleteAfterDays); the tables below say which, by the
keys the sources record their :class:`~backupguard.estate.Attribute` under (see
``native_settings``). The subjects carry the result (``Subject.attributes``: fact -> Attribute),
and the engine takes a result's position and a message's ``{@input}`` name from it. A fact that
comes from elsewhere (coverage, a target vault, a derived verdict) has no attribute of its own;
another entity's setting lends its name only, never its position: a rule's result is never
placed inside the vault it targets.
"""

from __future__ import annotations

from typing import Any

from backupguard.estate import Attribute, Attributes

# Facts of a plan rule (resolve.plans.rule_facts) -> the rule's attribute keys.
RULE_FACTS = {
    **dict.fromkeys(("schedule", "schedule_is_default", "max_gap_hours", "max_gap_days", "min_gap_minutes",
                     "schedule_valid", "schedule_error"), "schedule"),
    "start_window_minutes": "start_window_minutes",
    "completion_window_minutes": "completion_window_minutes",
    "continuous_backup": "continuous_backup",
    **dict.fromkeys(("retention_days", "retention", "retention_vs_lock", "air_gapped_retention_vs_lock"),
                    "lifecycle.delete_after_days"),
    **dict.fromkeys(("cold_storage_after_days", "cold_storage_set"), "lifecycle.move_to_cold_storage_after_days"),
    "opt_in_to_archive": "lifecycle.opt_in_to_archive",
}
# Facts of a lifecycle subject -> the attribute keys of the rule or copy action that holds it. Days in
# cold storage are decided by DeleteAfterDays (the value to raise).
LIFECYCLE_FACTS = {
    "delete_after_days": "lifecycle.delete_after_days",
    "days_in_cold_storage": "lifecycle.delete_after_days",
    "cold_storage_after_days": "lifecycle.move_to_cold_storage_after_days",
}
# Facts of a copy action (resolve.plans.copy_facts) -> the copy action's attribute keys; its retention
# is its own lifecycle's, else its rule's (COPY_RETENTION_FACTS, read from whichever holds it).
COPY_FACTS = dict.fromkeys(("destination", "destination_region", "destination_account", "cross_account"),
                           "destination_vault_arn")
COPY_RETENTION_FACTS = dict.fromkeys(("retention_days", "retention", "retention_vs_lock"), "lifecycle.delete_after_days")
# Facts of a vault -> its attribute keys.
VAULT_FACTS = {
    **dict.fromkeys(("kms_key", "key_managed_by", "key_description"), "encryption_key_arn"),
    **dict.fromkeys(("locked", "lock_mode", "lock_bounds_problem"), "lock"),
    "lock_min_retention_days": "lock.min_retention_days",
    "lock_max_retention_days": "lock.max_retention_days",
    "lock_changeable_for_days": "lock.changeable_for_days",
    **dict.fromkeys(("has_access_policy", "deletion_protected", "deletion_missing_actions", "deletion_reason",
                     "policy_wildcard_actions"), "access_policy"),
    "notification_events": "notifications",
}
# Facts of a protectable resource named otherwise than the setting they read.
RESOURCE_FACTS = {"retention_source": "backup_retention_days"}


def pick(attributes: Attributes, facts: dict[str, str]) -> Attributes:
    """``{fact: attribute}`` for each fact whose attribute the entity records."""
    return {fact: attributes[key] for fact, key in facts.items() if key in attributes}


def lent(attributes: Attributes, facts: dict[str, str]) -> Attributes:
    """:func:`pick` with names only (the settings of a target or destination vault)."""
    return {fact: Attribute(attributes[key].name) for fact, key in facts.items() if key in attributes}


def name_of(attributes: Attributes, key: str, fallback: str) -> str:
    """How the source names a setting, for a message the resolver writes; ``fallback`` when it does not say."""
    found = attributes.get(key)
    return found.name if found is not None else fallback


def resource_attributes(settings_attributes: Attributes, service: str, fact_names: Any) -> Attributes:
    """A protectable resource's facts -> attributes: a fact named like a setting reads that setting;
    the recovery points' encryption reads the source's (``storage_encrypted`` for a database)."""
    mapping = {fact: fact for fact in fact_names}
    mapping.update(RESOURCE_FACTS)
    if service == "FSx":
        mapping["retention_source"] = "automatic_backup_retention_days"
    if service in ("RDS", "Aurora", "DocumentDB", "Neptune", "EBS"):  # the types whose points inherit it
        mapping["recovery_points_encrypted"] = "encrypted" if service == "EBS" else "storage_encrypted"
    return pick(settings_attributes, mapping)
