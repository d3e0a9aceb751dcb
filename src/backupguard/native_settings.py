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
