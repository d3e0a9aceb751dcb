"""Turn resolved CloudFormation resources into Estate entities.

This is the only place that knows CloudFormation property names. Each builder
takes the resolved ``Properties`` (a :class:`LineDict`, so positions survive)
and returns one entity. Values are coerced the way CloudFormation coerces them
(``"35"`` is the number 35, ``"true"`` is true); a value of the wrong kind
becomes :class:`Unknown` with the reason rather than a silent default.
"""

from __future__ import annotations

from typing import Any, Callable

from backupguard.estate import (
    Attribute,
    BackupFramework,
    BackupPlan,
    BackupRule,
    BackupSelection,
    BackupVault,
    CopyAction,
    Lifecycle,
    Origin,
    OrgBackupPolicy,
    ProtectedResource,
    ReportPlan,
    RestoreTestingPlan,
    RestoreTestingSelection,
    TagCondition,
    Unknown,
    VaultLock,
    air_gapped_lock,
)
from backupguard.scanner.cloudformation.loader import LineDict
from backupguard.scanner.values import (
    as_json,
    as_str,
    at,
    attribute,
    attributes_of,
    block,
    items,
    located,
    object_at,
    objects_at,
    spec_attributes,
    strict_bool,
    strict_int,
    strings_at,
    tags_of,
)


# -- AWS Backup ----------------------------------------------------------------


# Where a rule or copy action writes its settings, relative to that rule or copy action (AWS Backup's
# API names them the same way: the live source reads them under these names too).
_LIFECYCLE_PATHS = {
    "lifecycle.delete_after_days": "Lifecycle.DeleteAfterDays",
    "lifecycle.move_to_cold_storage_after_days": "Lifecycle.MoveToColdStorageAfterDays",
    "lifecycle.opt_in_to_archive": "Lifecycle.OptInToArchiveForSupportedResources",
}
RULE_PATHS = {
    "schedule": "ScheduleExpression",
    "start_window_minutes": "StartWindowMinutes",
    "completion_window_minutes": "CompletionWindowMinutes",
    "continuous_backup": "EnableContinuousBackup",
    **_LIFECYCLE_PATHS,
}
COPY_PATHS = {"destination_vault_arn": "DestinationBackupVaultArn", **_LIFECYCLE_PATHS}


def _lifecycle(container: Any, key: str, origin: Origin) -> Lifecycle | None:
    data = object_at(origin, container, key)
    if data is None:
        return None
    where = at(origin, container, key)
    return Lifecycle(
        delete_after_days=located(where, data, "DeleteAfterDays", strict_int),
        move_to_cold_storage_after_days=located(where, data, "MoveToColdStorageAfterDays", strict_int),
        opt_in_to_archive=located(where, data, "OptInToArchiveForSupportedResources", strict_bool),
        origin=where,
    )


def _rule(data: LineDict, origin: Origin) -> BackupRule:
    copies = [
        CopyAction(
            destination_vault_arn=copy.get("DestinationBackupVaultArn"),
            lifecycle=_lifecycle(copy, "Lifecycle", copy_origin),
            origin=copy_origin,
            attributes=attributes_of(copy_origin, copy, COPY_PATHS),
        )
        for copy, copy_origin in objects_at(origin, data, "CopyActions")
    ]
    return BackupRule(
        name=data.get("RuleName"),
        target_vault=data.get("TargetBackupVault"),
        schedule=data.get("ScheduleExpression"),
        timezone=data.get("ScheduleExpressionTimezone"),
        start_window_minutes=located(origin, data, "StartWindowMinutes", strict_int),
        completion_window_minutes=located(origin, data, "CompletionWindowMinutes", strict_int),
        lifecycle=_lifecycle(data, "Lifecycle", origin),
        copy_actions=copies,
        continuous_backup=located(origin, data, "EnableContinuousBackup", strict_bool) or False,
        target_air_gapped_vault_arn=data.get("TargetLogicallyAirGappedBackupVaultArn"),
        origin=origin,
        attributes=attributes_of(origin, data, RULE_PATHS),
    )


def backup_plan(logical_id: str, props: LineDict, origin: Origin) -> BackupPlan:
    plan = object_at(origin, props, "BackupPlan", LineDict())
    rules = [_rule(rule, rule_origin) for rule, rule_origin in objects_at(origin, plan, "BackupPlanRule")]
    return BackupPlan(
        resource_id=logical_id,
        name=plan.get("BackupPlanName"),
        rules=rules,
        origin=origin,
        tags=tags_of(props.get("BackupPlanTags")),
        advanced_backup_settings=plan.get("AdvancedBackupSettings") or [],
    )


_CONDITION_OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def backup_selection(logical_id: str, props: LineDict, origin: Origin) -> BackupSelection:
    sel = object_at(origin, props, "BackupSelection", LineDict())
    list_of_tags = [
        TagCondition(as_str(t.get("ConditionType")), t.get("ConditionKey"), as_str(t.get("ConditionValue")))
        for t, _ in objects_at(origin, sel, "ListOfTags")
    ]
    conditions_block = object_at(origin, sel, "Conditions", LineDict())
    conditions = [
        TagCondition(operator, c.get("ConditionKey"), as_str(c.get("ConditionValue")))
        for operator in _CONDITION_OPERATORS
        for c, _ in objects_at(at(origin, sel, "Conditions"), conditions_block, operator)
    ]
    return BackupSelection(
        resource_id=logical_id,
        name=sel.get("SelectionName"),
        plan_ref=props.get("BackupPlanId"),
        iam_role_arn=sel.get("IamRoleArn"),
        resources=strings_at(origin, sel, "Resources"),
        not_resources=strings_at(origin, sel, "NotResources"),
        list_of_tags=list_of_tags,
        conditions=conditions,
        origin=origin,
    )


_VAULT_PATHS = {
    "encryption_key_arn": "EncryptionKeyArn",
    "lock": "LockConfiguration",
    "lock.min_retention_days": "LockConfiguration.MinRetentionDays",
    "lock.max_retention_days": "LockConfiguration.MaxRetentionDays",
    "lock.changeable_for_days": "LockConfiguration.ChangeableForDays",
    "access_policy": "AccessPolicy",
    "notifications": "Notifications",
}
# A logically air-gapped vault is always locked: its bounds are top-level properties.
_AIR_GAPPED_PATHS = {
    "encryption_key_arn": "EncryptionKeyArn",
    "lock.min_retention_days": "MinRetentionDays",
    "lock.max_retention_days": "MaxRetentionDays",
    "access_policy": "AccessPolicy",
    "notifications": "Notifications",
}


def backup_vault(logical_id: str, props: LineDict, origin: Origin) -> BackupVault:
    lock = None
    if "LockConfiguration" in props:
        raw = props["LockConfiguration"]
        cfg = object_at(origin, props, "LockConfiguration", LineDict())
        where = at(origin, props, "LockConfiguration")
        lock = VaultLock(
            min_retention_days=located(where, cfg, "MinRetentionDays", strict_int),
            max_retention_days=located(where, cfg, "MaxRetentionDays", strict_int),
            changeable_for_days=located(where, cfg, "ChangeableForDays", strict_int),
            origin=where,
            present=Unknown(raw.reason, raw.refs, (True, False)) if isinstance(raw, Unknown) and raw.may_be_absent else True,
        )
    return BackupVault(
        resource_id=logical_id,
        name=props.get("BackupVaultName"),
        origin=origin,
        encryption_key_arn=props.get("EncryptionKeyArn"),
        lock=lock,
        access_policy=as_json(props.get("AccessPolicy"), "AccessPolicy"),
        notifications=props.get("Notifications"),
        tags=tags_of(props.get("BackupVaultTags")),
        attributes=attributes_of(origin, props, _VAULT_PATHS),
    )


def air_gapped_vault(logical_id: str, props: LineDict, origin: Origin) -> BackupVault:
    """A logically air-gapped vault is always locked in compliance mode (AWS Backup docs)."""
    return BackupVault(
        resource_id=logical_id,
        name=props.get("BackupVaultName"),
        origin=origin,
        encryption_key_arn=props.get("EncryptionKeyArn"),
        lock=air_gapped_lock(
            located(origin, props, "MinRetentionDays", strict_int),
            located(origin, props, "MaxRetentionDays", strict_int),
            origin,
        ),
        access_policy=as_json(props.get("AccessPolicy"), "AccessPolicy"),
        notifications=props.get("Notifications"),
        air_gapped=True,
        resource_type="AWS::Backup::LogicallyAirGappedBackupVault",
        tags=tags_of(props.get("BackupVaultTags")),
        attributes=attributes_of(origin, props, _AIR_GAPPED_PATHS),
    )


def framework(logical_id: str, props: LineDict, origin: Origin) -> BackupFramework:
    return BackupFramework(logical_id, props.get("FrameworkName"), props.get("FrameworkControls"), origin)


def report_plan(logical_id: str, props: LineDict, origin: Origin) -> ReportPlan:
    setting = block(props.get("ReportSetting"))
    return ReportPlan(
        logical_id, props.get("ReportPlanName"), setting.get("ReportTemplate"), setting.get("FrameworkArns"), origin
    )


def restore_testing_plan(logical_id: str, props: LineDict, origin: Origin) -> RestoreTestingPlan:
    selection = object_at(origin, props, "RecoveryPointSelection", LineDict())
    return RestoreTestingPlan(
        logical_id, props.get("RestoreTestingPlanName"), props.get("ScheduleExpression"), props, origin,
        start_window_hours=located(origin, props, "StartWindowHours", strict_int),
        selection_window_days=located(at(origin, props, "RecoveryPointSelection"), selection, "SelectionWindowDays",
                                      strict_int),
    )


def restore_testing_selection(logical_id: str, props: LineDict, origin: Origin) -> RestoreTestingSelection:
    return RestoreTestingSelection(
        logical_id, props.get("RestoreTestingSelectionName"), props.get("RestoreTestingPlanName"), props, origin,
        protected_resource_type=props.get("ProtectedResourceType"),
        protected_resource_arns=props.get("ProtectedResourceArns"),
        protected_resource_conditions=props.get("ProtectedResourceConditions"),
        validation_window_hours=located(origin, props, "ValidationWindowHours", strict_int),
    )


def org_policy(logical_id: str, props: LineDict, origin: Origin) -> OrgBackupPolicy | None:
    if props.get("Type") != "BACKUP_POLICY":
        return None
    content = props.get("Content")
    size = len(content) if isinstance(content, str) else None
    return OrgBackupPolicy(logical_id, props.get("Name"), as_json(content, "Content"), origin, text_length=size)


# -- protectable resources ---------------------------------------------------------


def _settings(origin: Origin, props: LineDict, spec: dict[str, tuple[str, Callable[[Any, str], Any]]]) -> dict[str, Any]:
    """Pick the native settings a template sets; absent ones stay absent (service default).

    A value AWS would refuse (``BackupRetentionPeriod: 1e999``) is a located :class:`Rejected`.
    """
    return {name: located(origin, props, prop, coerce) for prop, (name, coerce) in spec.items() if prop in props}


def _keep(value: Any, what: str) -> Any:
    return value


_DB_SPEC = {
    "KmsKeyId": ("kms_key_id", _keep),
    "BackupRetentionPeriod": ("backup_retention_days", strict_int),
    "DeletionProtection": ("deletion_protection", strict_bool),
    "CopyTagsToSnapshot": ("copy_tags_to_snapshot", strict_bool),
    "StorageEncrypted": ("storage_encrypted", strict_bool),
    "Engine": ("engine", _keep),
}


def db_instance(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    settings = _settings(origin, props, _DB_SPEC)
    attributes = spec_attributes(origin, props, _DB_SPEC)
    if "DBClusterIdentifier" in props:
        settings["cluster_member"] = True  # retention is the cluster's (cfn-lint E3719)
    if "SourceDBInstanceIdentifier" in props:
        settings["read_replica"] = True
        settings["encryption_from"] = props["SourceDBInstanceIdentifier"]  # a replica inherits its source's
    elif "DBSnapshotIdentifier" in props:
        settings["encryption_from"] = props["DBSnapshotIdentifier"]  # a restore inherits the snapshot's
    return ProtectedResource(logical_id, "AWS::RDS::DBInstance", "RDS", origin, tags_of(props.get("Tags")), settings,
                             attributes=attributes)


def db_cluster(resource_type: str, service: str) -> Callable[[str, LineDict, Origin], ProtectedResource]:
    def build(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
        settings = _settings(origin, props, _DB_SPEC)
        if "SnapshotIdentifier" in props:
            settings["encryption_from"] = props["SnapshotIdentifier"]
        kind = service
        if resource_type == "AWS::RDS::DBCluster":
            engine = settings.get("engine")
            kind = "Aurora" if not isinstance(engine, str) or engine.startswith("aurora") else "RDS"
        return ProtectedResource(logical_id, resource_type, kind, origin, tags_of(props.get("Tags")), settings,
                                 attributes=spec_attributes(origin, props, _DB_SPEC))

    return build


_TABLE_PATHS = {
    "deletion_protection": "DeletionProtectionEnabled",
    "pitr_enabled": "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled",
    "pitr_recovery_period_days": "PointInTimeRecoverySpecification.RecoveryPeriodInDays",
}


def _table_settings(props: LineDict, origin: Origin) -> dict[str, Any]:
    pitr = block(props.get("PointInTimeRecoverySpecification"))
    pitr_origin = at(origin, props, "PointInTimeRecoverySpecification")
    settings = _settings(origin, props, {"DeletionProtectionEnabled": ("deletion_protection", strict_bool)})
    settings["pitr_enabled"] = located(pitr_origin, pitr, "PointInTimeRecoveryEnabled", strict_bool)
    if "RecoveryPeriodInDays" in pitr:
        settings["pitr_recovery_period_days"] = located(pitr_origin, pitr, "RecoveryPeriodInDays", strict_int)
    return settings


def dynamodb_table(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    return ProtectedResource(
        logical_id, "AWS::DynamoDB::Table", "DynamoDB", origin, tags_of(props.get("Tags")), _table_settings(props, origin),
        attributes=attributes_of(origin, props, _TABLE_PATHS),
    )


def dynamodb_global_table(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    """PITR and deletion protection are per replica: the table has them only when every replica does."""
    found = objects_at(origin, props, "Replicas")
    replicas = [replica for replica, _ in found]
    pitr = [
        located(at(where, replica, "PointInTimeRecoverySpecification"),
                block(replica.get("PointInTimeRecoverySpecification")), "PointInTimeRecoveryEnabled", strict_bool)
        for replica, where in found
    ]
    protection = [located(where, replica, "DeletionProtectionEnabled", strict_bool) for replica, where in found]
    settings = {
        "pitr_enabled": _every([value or False for value in pitr]),
        "deletion_protection": _every([value or False for value in protection]),
    }
    attributes = {
        key: _replica_attribute(found, values, path)
        for key, values, path in (("pitr_enabled", pitr, _TABLE_PATHS["pitr_enabled"]),
                                  ("deletion_protection", protection, _TABLE_PATHS["deletion_protection"]))
    }
    return ProtectedResource(
        logical_id, "AWS::DynamoDB::GlobalTable", "DynamoDB", origin, _replica_tags(replicas, origin.region), settings,
        attributes=attributes,
    )


def _replica_attribute(found: list[tuple[LineDict, Origin]], values: list[Any], path: str) -> Attribute:
    """A per-replica setting of a global table: at the first replica that does not turn it on (the one
    that decides), else without a position."""
    deciding = next((index for index, value in enumerate(values) if value is not True), None)
    if deciding is None:
        return Attribute(f"Replicas.{path}")
    replica, where = found[deciding]
    return attribute(where, replica, path, f"Replicas.{path}")


def _every(states: list[Any]) -> Any:
    """True when every replica has the setting; a replica known to lack it decides False."""
    if not states or False in states:
        return False
    return next((s for s in states if isinstance(s, Unknown)), True)


def _replica_tags(replicas: list[LineDict], region: str | None) -> Any:
    """A global table's tags live on each replica: the deployment Region's, or the ones all replicas share."""
    tagged = [(r.get("Region"), tags_of(r.get("Tags"))) for r in replicas]
    for replica_region, tags in tagged:
        if region is not None and replica_region == region:
            return tags
    distinct = [tags for _, tags in tagged if tags != tagged[0][1]]
    if tagged and not distinct:
        return tagged[0][1]
    return Unknown("replica tags differ and the deployment Region is not known (pass --region)") if tagged else {}


def simple_table(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    """SAM's SimpleTable passes PointInTimeRecoverySpecification through to the table it creates."""
    return ProtectedResource(
        logical_id, "AWS::Serverless::SimpleTable", "DynamoDB", origin, tags_of(props.get("Tags")),
        _table_settings(props, origin), attributes=attributes_of(origin, props, _TABLE_PATHS),
    )


def efs_file_system(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    settings = _settings(origin, props, {"Encrypted": ("encrypted", strict_bool)})
    if "BackupPolicy" in props:
        settings["backup_policy_status"] = block(props["BackupPolicy"]).get("Status")
    return ProtectedResource(
        logical_id, "AWS::EFS::FileSystem", "EFS", origin, tags_of(props.get("FileSystemTags")), settings,
        attributes=attributes_of(origin, props, {"encrypted": "Encrypted", "backup_policy_status": "BackupPolicy.Status"}),
    )


# The configuration block of each FSx file system type (where its backup settings are written).
_FSX_CONFIG_OF = {
    "WINDOWS": "WindowsConfiguration", "LUSTRE": "LustreConfiguration", "ONTAP": "OntapConfiguration",
    "OPENZFS": "OpenZFSConfiguration",
}
_FSX_CONFIGS = tuple(_FSX_CONFIG_OF.values())


def fsx_file_system(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    settings: dict[str, Any] = {"file_system_type": props.get("FileSystemType")}
    for name in _FSX_CONFIGS:
        cfg = block(props.get(name))
        settings.update(
            _settings(
                at(origin, props, name),
                cfg,
                {
                    "AutomaticBackupRetentionDays": ("automatic_backup_retention_days", strict_int),
                    "CopyTagsToBackups": ("copy_tags_to_backups", strict_bool),
                },
            )
        )
    fs_type = props.get("FileSystemType")
    config = next((name for name in _FSX_CONFIGS if name in props),
                  _FSX_CONFIG_OF.get(fs_type) if isinstance(fs_type, str) else None)
    prefix = f"{config}." if config else ""
    attributes = attributes_of(origin, props, {
        "file_system_type": "FileSystemType",
        "automatic_backup_retention_days": f"{prefix}AutomaticBackupRetentionDays",
        "copy_tags_to_backups": f"{prefix}CopyTagsToBackups",
    })
    return ProtectedResource(logical_id, "AWS::FSx::FileSystem", "FSx", origin, tags_of(props.get("Tags")), settings,
                             attributes=attributes)


def s3_bucket(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    settings: dict[str, Any] = {}
    if "VersioningConfiguration" in props:
        settings["versioning_status"] = block(props["VersioningConfiguration"]).get("Status")
    if "ObjectLockEnabled" in props:
        settings["object_lock_enabled"] = located(origin, props, "ObjectLockEnabled", strict_bool)
        if settings["object_lock_enabled"] is True and "versioning_status" not in settings:
            settings["versioning_status"] = "Enabled"  # S3 turns versioning on for Object Lock buckets
    attributes = attributes_of(origin, props, {
        "versioning_status": "VersioningConfiguration.Status", "object_lock_enabled": "ObjectLockEnabled",
    })
    return ProtectedResource(logical_id, "AWS::S3::Bucket", "S3", origin, tags_of(props.get("Tags")), settings,
                             attributes=attributes)


def ec2_volume(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    spec = {"Encrypted": ("encrypted", strict_bool), "KmsKeyId": ("kms_key_id", _keep)}
    return ProtectedResource(logical_id, "AWS::EC2::Volume", "EBS", origin, tags_of(props.get("Tags")),
                             _settings(origin, props, spec), attributes=spec_attributes(origin, props, spec))


def ec2_instance(logical_id: str, props: LineDict, origin: Origin) -> ProtectedResource:
    return ProtectedResource(logical_id, "AWS::EC2::Instance", "EC2", origin, tags_of(props.get("Tags")), {})


Builder = Callable[[str, LineDict, Origin], Any]

BUILDERS: dict[str, Builder] = {
    "AWS::Backup::BackupPlan": backup_plan,
    "AWS::Backup::BackupSelection": backup_selection,
    "AWS::Backup::BackupVault": backup_vault,
    "AWS::Backup::LogicallyAirGappedBackupVault": air_gapped_vault,
    "AWS::Backup::Framework": framework,
    "AWS::Backup::ReportPlan": report_plan,
    "AWS::Backup::RestoreTestingPlan": restore_testing_plan,
    "AWS::Backup::RestoreTestingSelection": restore_testing_selection,
    "AWS::Organizations::Policy": org_policy,
    "AWS::EC2::Instance": ec2_instance,
    "AWS::EC2::Volume": ec2_volume,
    "AWS::RDS::DBInstance": db_instance,
    "AWS::RDS::DBCluster": db_cluster("AWS::RDS::DBCluster", "Aurora"),
    "AWS::DocDB::DBCluster": db_cluster("AWS::DocDB::DBCluster", "DocumentDB"),
    "AWS::Neptune::DBCluster": db_cluster("AWS::Neptune::DBCluster", "Neptune"),
    "AWS::DynamoDB::Table": dynamodb_table,
    "AWS::DynamoDB::GlobalTable": dynamodb_global_table,
    "AWS::Serverless::SimpleTable": simple_table,
    "AWS::EFS::FileSystem": efs_file_system,
    "AWS::FSx::FileSystem": fsx_file_system,
    "AWS::S3::Bucket": s3_bucket,
}

# The property that names a resource's ARN, where CloudFormation lets the template choose it.
PHYSICAL_NAMES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::DocDB::DBCluster": "DBClusterIdentifier",
    "AWS::Neptune::DBCluster": "DBClusterIdentifier",
}
