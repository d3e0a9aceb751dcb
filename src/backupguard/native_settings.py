"""The native backup settings of a protectable resource: one contract that every source fills.

CloudFormation, Terraform and the live scanner each read a resource's own backup-related
settings (an RDS instance's retention, a table's point-in-time recovery, a bucket's versioning)
under their own names (``BackupRetentionPeriod``, ``backup_retention_period``,
``DescribeDBInstances.BackupRetentionPeriod``). They all write them into
:attr:`backupguard.estate.ProtectedResource.settings` under the names below, so the resolver and
the rules read one vocabulary whatever the source.

A key that is absent means the source does not set it (the service's default applies); ``None``
never stands for "off". A value the source cannot determine is an
:class:`~backupguard.estate.Unknown`. The test ``tests/test_native_settings.py`` keeps every
source within this contract.

**Attributes.** Beside each value, a source records how *it* names the setting and where it is
written: ``ProtectedResource.attributes[key]`` is an :class:`~backupguard.estate.Attribute` with the
dotted path the user writes (``point_in_time_recovery.enabled``,
``PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled``, the API's ``BackupRetentionPeriod``)
and, for IaC, the position of that key. A source records the name of every setting it reads,
written or not (so a result says "``deletion_protection_enabled`` not set" in the source's own
words); the position only where the key is written. Plan rules, copy actions and vaults record
theirs the same way under :data:`RULE_ATTRIBUTES`, :data:`COPY_ATTRIBUTES` and
:data:`VAULT_ATTRIBUTES`. The resolver passes them to the subjects; the engine points a result
at the attribute that decided it and lets messages name it (``{@input}``).
"""

from __future__ import annotations

from typing import Any, TypedDict, get_type_hints


class NativeSettings(TypedDict, total=False):
    """Keys of ``ProtectedResource.settings``; each value may also be an ``Unknown``."""

    # -- databases: RDS instances and clusters, Aurora, DocumentDB, Neptune
    backup_retention_days: int  # automated backups kept N days; 0 turns them off
    deletion_protection: bool  # also DynamoDB's DeletionProtectionEnabled
    copy_tags_to_snapshot: bool
    storage_encrypted: bool
    kms_key_id: Any  # the key of the resource's own storage (EBS, RDS, S3, EFS...); absent: the service key
    engine: str  # aurora-mysql, postgres, docdb, neptune...: decides the AWS Backup service name
    cluster_member: bool  # an instance whose retention is its cluster's
    read_replica: bool  # a read replica: no automated backups of its own
    encryption_from: Any  # what the storage inherits its encryption from (source instance, snapshot)
    # -- DynamoDB
    pitr_enabled: bool  # point-in-time recovery (continuous backups)
    pitr_recovery_period_days: int  # 1-35; absent: 35
    # -- EFS
    backup_policy_status: str  # ENABLED/ENABLING/DISABLED/DISABLING: EFS automatic backups
    # -- FSx
    file_system_type: str  # WINDOWS, LUSTRE, ONTAP, OPENZFS
    automatic_backup_retention_days: int  # FSx automatic daily backups; 0 turns them off
    retention_is_default: bool  # the source applied the API's default retention (Terraform provider)
    copy_tags_to_backups: bool
    # -- S3
    versioning_status: str  # Enabled/Suspended; AWS Backup needs Enabled
    object_lock_enabled: bool
    # -- Storage Gateway volumes
    volume_type: str  # CACHED or STORED (ListVolumes' VolumeType)
    # -- EBS, EFS, S3...
    encrypted: bool


SETTING_NAMES: frozenset[str] = frozenset(get_type_hints(NativeSettings))

# Attribute keys of a lifecycle, under the rule or copy action that holds it (names relative to that
# rule or copy action: ``Lifecycle.DeleteAfterDays``, ``lifecycle.delete_after``).
LIFECYCLE_ATTRIBUTES = (
    "lifecycle.delete_after_days", "lifecycle.move_to_cold_storage_after_days", "lifecycle.opt_in_to_archive",
)
# ``BackupRule.attributes`` keys (names relative to the rule entry or block).
RULE_ATTRIBUTES = (
    "schedule", "start_window_minutes", "completion_window_minutes", "continuous_backup", *LIFECYCLE_ATTRIBUTES,
)
# ``CopyAction.attributes`` keys (names relative to the copy action).
COPY_ATTRIBUTES = ("destination_vault_arn", *LIFECYCLE_ATTRIBUTES)
# ``BackupVault.attributes`` keys: the key, the lock (as a whole and its bounds), the access policy.
VAULT_ATTRIBUTES = (
    "encryption_key_arn", "lock", "lock.min_retention_days", "lock.max_retention_days", "lock.changeable_for_days",
    "access_policy", "notifications",
)

# What AWS Backup does with a plan rule or vault setting the code leaves out, by the attribute keys
# above: the value the API fills in, or the behaviour an absent value means (no lifecycle: kept
# forever; no key: AWS Backup's AWS managed key). Drift (``resolve.drift``) compares code and
# account after applying these, so a default AWS filled in is never reported as a change.
# Sources: CreateBackupPlan / CreateBackupVault API reference; /work/shared reference notes (the
# console's 8-hour start window; the 7-day completion window, aws-cdk PR #27061).
RULE_DEFAULTS: dict[str, Any] = {
    "schedule": "cron(0 5 ? * * *)",
    "timezone": "Etc/UTC",
    "start_window_minutes": 480,
    "completion_window_minutes": 10080,
    "continuous_backup": False,
    "lifecycle.delete_after_days": None,  # kept forever
    "lifecycle.move_to_cold_storage_after_days": None,  # never moved
    "lifecycle.opt_in_to_archive": False,
}
COPY_DEFAULTS: dict[str, Any] = {key: RULE_DEFAULTS[key] for key in LIFECYCLE_ATTRIBUTES}
# A vault without EncryptionKeyArn is encrypted with AWS Backup's AWS managed key (a logically
# air-gapped vault: an AWS owned key, which the API reports without an ARN).
DEFAULT_VAULT_KEY = "alias/aws/backup"


def with_default(defaults: dict[str, Any], key: str, value: Any) -> Any:
    """``value``, or what AWS uses when it is absent (None, or "" as a template may write it)."""
    return defaults.get(key) if value is None or value == "" else value
