"""Protectable resources with their tags and native backup settings, one collector per service.

The ``settings`` keys and meanings are the contract's (``backupguard.native_settings``):
``backup_retention_days``, ``pitr_enabled``, ``versioning_status``, ``object_lock_enabled``,
``storage_encrypted``, ``deletion_protection``, ``backup_policy_status``,
``automatic_backup_retention_days``, ``file_system_type``, ``copy_tags_to_snapshot``... A live
resource knows every value, so keys are filled whenever the API reports them; ``arn`` and ``name``
are the real ones. Each collector names the settings as the API's responses do
(``attributes``: ``BackupRetentionPeriod``, ``PointInTimeRecoveryDescription.PointInTimeRecoveryStatus``),
without positions: a live result has no line.
"""

from __future__ import annotations

from typing import Any, Callable

from backupguard.estate import Attribute, Attributes, ProtectedResource, Unknown
from backupguard.scanner.aws.scope import FAILED, Scope
from backupguard.scanner.aws.session import pages
from backupguard.scanner.values import named


def _tags(items: Any) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or [] if "Key" in t}


# Settings named as the API's responses name them (a live scan has no positions).
_EBS_FIELDS = named({"encrypted": "Encrypted", "kms_key_id": "KmsKeyId"})
_TABLE_FIELDS = named({
    "deletion_protection": "DeletionProtectionEnabled",
    "pitr_enabled": "PointInTimeRecoveryDescription.PointInTimeRecoveryStatus",
    "pitr_recovery_period_days": "PointInTimeRecoveryDescription.RecoveryPeriodInDays",
})
_EFS_FIELDS = named({"encrypted": "Encrypted", "backup_policy_status": "BackupPolicy.Status"})
_S3_FIELDS = named({"versioning_status": "VersioningConfiguration.Status",
                     "object_lock_enabled": "ObjectLockConfiguration.ObjectLockEnabled"})
_VOLUME_FIELDS = named({"volume_type": "VolumeType"})


def _resource(scope: Scope, arn: str, resource_type: str, service: str, tags: Any, settings: dict, name: Any,
              attributes: Attributes, region: str | None = None) -> None:
    scope.estate.resources.append(ProtectedResource(
        resource_id=arn, resource_type=resource_type, service=service, origin=scope.origin(arn, region),
        tags=tags, settings=settings, arn=arn, name=name, attributes=dict(attributes),
    ))


def ec2(scope: Scope) -> None:
    client = scope.client("ec2")
    for page in pages(client, "describe_instances"):
        for reservation in page.get("Reservations") or []:
            owner = reservation.get("OwnerId") or scope.account
            for data in reservation.get("Instances") or []:
                if (data.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
                    continue
                arn = f"arn:{scope.partition}:ec2:{scope.region}:{owner}:instance/{data['InstanceId']}"
                _resource(scope, arn, "AWS::EC2::Instance", "EC2", _tags(data.get("Tags")), {}, data["InstanceId"], {})
    for page in pages(client, "describe_volumes"):
        for data in page.get("Volumes") or []:
            if data.get("State") in ("deleting", "deleted"):
                continue
            arn = f"arn:{scope.partition}:ec2:{scope.region}:{scope.account}:volume/{data['VolumeId']}"
            settings = {"encrypted": bool(data.get("Encrypted", False))}
            if data.get("KmsKeyId"):
                settings["kms_key_id"] = data["KmsKeyId"]
            _resource(scope, arn, "AWS::EC2::Volume", "EBS", _tags(data.get("Tags")), settings, data["VolumeId"], _EBS_FIELDS)


_DB_FIELDS = {
    "KmsKeyId": "kms_key_id",
    "BackupRetentionPeriod": "backup_retention_days",
    "DeletionProtection": "deletion_protection",
    "CopyTagsToSnapshot": "copy_tags_to_snapshot",
    "StorageEncrypted": "storage_encrypted",
    "Engine": "engine",
}
_DB_ATTRIBUTES = named({name: field for field, name in _DB_FIELDS.items()})
_CLUSTER_ONLY_ENGINES = ("docdb", "neptune")  # their instances are not protected on their own


def _db_settings(data: dict) -> dict[str, Any]:
    return {name: data[field] for field, name in _DB_FIELDS.items() if data.get(field) is not None}


def cluster_kind(engine: str) -> tuple[str, str]:
    """(resource type, AWS Backup type) of a cluster from the RDS API, by engine."""
    if engine.startswith("aurora"):
        return "AWS::RDS::DBCluster", "Aurora"
    if engine == "docdb":
        return "AWS::DocDB::DBCluster", "DocumentDB"
    if engine == "neptune":
        return "AWS::Neptune::DBCluster", "Neptune"
    return "AWS::RDS::DBCluster", "RDS"  # a Multi-AZ DB cluster


def rds(scope: Scope) -> None:
    client = scope.client("rds")
    for page in pages(client, "describe_db_instances"):
        for data in page.get("DBInstances") or []:
            if str(data.get("Engine", "")).startswith(_CLUSTER_ONLY_ENGINES):
                continue
            settings = _db_settings(data)
            if data.get("DBClusterIdentifier"):
                settings["cluster_member"] = True
            if data.get("ReadReplicaSourceDBInstanceIdentifier") or data.get("ReadReplicaSourceDBClusterIdentifier"):
                settings["read_replica"] = True
            _resource(scope, data["DBInstanceArn"], "AWS::RDS::DBInstance", "RDS", _tags(data.get("TagList")), settings,
                      data.get("DBInstanceIdentifier"), _DB_ATTRIBUTES)
    for page in pages(client, "describe_db_clusters"):
        for data in page.get("DBClusters") or []:
            resource_type, service = cluster_kind(str(data.get("Engine", "")))
            _resource(scope, data["DBClusterArn"], resource_type, service, _tags(data.get("TagList")), _db_settings(data),
                      data.get("DBClusterIdentifier"), _DB_ATTRIBUTES)


def dynamodb(scope: Scope) -> None:
    client = scope.client("dynamodb")
    for page in pages(client, "list_tables"):
        for name in page.get("TableNames") or []:
            table = scope.call("dynamodb", "DescribeTable", lambda: client.describe_table(TableName=name)["Table"])
            if table is FAILED:
                continue
            arn = table["TableArn"]
            settings: dict[str, Any] = {"deletion_protection": bool(table.get("DeletionProtectionEnabled", False))}
            backups = scope.call("dynamodb", "DescribeContinuousBackups",
                                 lambda: client.describe_continuous_backups(TableName=name), arn=arn)
            if backups is FAILED:
                settings["pitr_enabled"] = Unknown("dynamodb:DescribeContinuousBackups failed")
            else:
                pitr = (backups.get("ContinuousBackupsDescription") or {}).get("PointInTimeRecoveryDescription") or {}
                settings["pitr_enabled"] = pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
                if settings["pitr_enabled"] and pitr.get("RecoveryPeriodInDays") is not None:
                    settings["pitr_recovery_period_days"] = pitr["RecoveryPeriodInDays"]
            tags = scope.call("dynamodb", "ListTagsOfResource", lambda: _all(client, "list_tags_of_resource", "Tags", ResourceArn=arn), arn=arn)
            _resource(scope, arn, "AWS::DynamoDB::Table", "DynamoDB",
                      Unknown("dynamodb:ListTagsOfResource failed") if tags is FAILED else _tags(tags), settings, name,
                      _TABLE_FIELDS)


def _all(client: Any, method: str, key: str, **params: Any) -> list:
    return [item for page in pages(client, method, **params) for item in page.get(key) or []]


def efs(scope: Scope) -> None:
    client = scope.client("efs")
    for page in pages(client, "describe_file_systems"):
        for data in page.get("FileSystems") or []:
            fs_id, arn = data["FileSystemId"], data["FileSystemArn"]
            settings: dict[str, Any] = {"encrypted": bool(data.get("Encrypted", False))}
            policy = scope.call("efs", "DescribeBackupPolicy", lambda: client.describe_backup_policy(FileSystemId=fs_id),
                                arn=arn, absent=("PolicyNotFound",))
            if policy is FAILED:
                settings["backup_policy_status"] = Unknown("efs:DescribeBackupPolicy failed")
            else:
                settings["backup_policy_status"] = (policy or {}).get("BackupPolicy", {}).get("Status", "DISABLED")
            _resource(scope, arn, "AWS::EFS::FileSystem", "EFS", _tags(data.get("Tags")), settings, fs_id, _EFS_FIELDS)


_FSX_CONFIGS = ("WindowsConfiguration", "LustreConfiguration", "OntapConfiguration", "OpenZFSConfiguration")


def fsx(scope: Scope) -> None:
    client = scope.client("fsx")
    for page in pages(client, "describe_file_systems"):
        for data in page.get("FileSystems") or []:
            settings: dict[str, Any] = {"file_system_type": data.get("FileSystemType")}
            attributes = named({"file_system_type": "FileSystemType",
                                 "automatic_backup_retention_days": "AutomaticBackupRetentionDays",
                                 "copy_tags_to_backups": "CopyTagsToBackups"})
            for name in _FSX_CONFIGS:
                config = data.get(name) or {}
                if config.get("AutomaticBackupRetentionDays") is not None:
                    settings["automatic_backup_retention_days"] = config["AutomaticBackupRetentionDays"]
                    attributes["automatic_backup_retention_days"] = Attribute(f"{name}.AutomaticBackupRetentionDays")
                if config.get("CopyTagsToBackups") is not None:
                    settings["copy_tags_to_backups"] = config["CopyTagsToBackups"]
                    attributes["copy_tags_to_backups"] = Attribute(f"{name}.CopyTagsToBackups")
            _resource(scope, data["ResourceARN"], "AWS::FSx::FileSystem", "FSx", _tags(data.get("Tags")), settings,
                      data["FileSystemId"], attributes)


def storage_gateway(scope: Scope) -> None:
    client = scope.client("storagegateway")
    for page in pages(client, "list_gateways"):
        for gateway in page.get("Gateways") or []:
            gateway_arn = gateway["GatewayARN"]
            volumes = scope.call("storagegateway", "ListVolumes",
                                 lambda: _all(client, "list_volumes", "VolumeInfos", GatewayARN=gateway_arn), arn=gateway_arn)
            for volume in [] if volumes is FAILED else volumes:
                arn = volume["VolumeARN"]
                tags = scope.call("storagegateway", "ListTagsForResource",
                                  lambda: _all(client, "list_tags_for_resource", "Tags", ResourceARN=arn), arn=arn)
                _resource(scope, arn, "AWS::StorageGateway::Volume", "Storage Gateway",
                          Unknown("storagegateway:ListTagsForResource failed") if tags is FAILED else _tags(tags),
                          {"volume_type": volume.get("VolumeType")}, volume.get("VolumeId"), _VOLUME_FIELDS)


def s3(scope: Scope, regions: set[str]) -> None:
    """Buckets of the account (an account-wide list), kept in the scanned Regions, located in their own."""
    client = scope.client("s3")
    for page in pages(client, "list_buckets"):
        for bucket in page.get("Buckets") or []:
            name = bucket["Name"]
            arn = f"arn:{scope.partition}:s3:::{name}"
            region = bucket.get("BucketRegion")
            if not region:
                where = scope.call("s3", "GetBucketLocation", lambda: client.get_bucket_location(Bucket=name), arn=arn)
                if where is FAILED:
                    continue
                region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(where.get("LocationConstraint"),
                                                                                       where.get("LocationConstraint"))
            if region not in regions:
                continue
            local = scope.client("s3", region)
            settings: dict[str, Any] = {}
            versioning = scope.call("s3", "GetBucketVersioning", lambda: local.get_bucket_versioning(Bucket=name),
                                    arn=arn, region=region)
            if versioning is FAILED:
                settings["versioning_status"] = Unknown("s3:GetBucketVersioning failed")
            elif versioning.get("Status"):
                settings["versioning_status"] = versioning["Status"]
            lock = scope.call("s3", "GetObjectLockConfiguration", lambda: local.get_object_lock_configuration(Bucket=name),
                              arn=arn, absent=("ObjectLockConfigurationNotFoundError",), region=region)
            if lock is FAILED:
                settings["object_lock_enabled"] = Unknown("s3:GetObjectLockConfiguration failed")
            else:
                settings["object_lock_enabled"] = ((lock or {}).get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
            tagging = scope.call("s3", "GetBucketTagging", lambda: local.get_bucket_tagging(Bucket=name),
                                 arn=arn, absent=("NoSuchTagSet",), region=region)
            tags = Unknown("s3:GetBucketTagging failed") if tagging is FAILED else _tags((tagging or {}).get("TagSet"))
            _resource(scope, arn, "AWS::S3::Bucket", "S3", tags, settings, name, _S3_FIELDS, region=region)


# Regional collectors: (service name in errors, collector)
REGIONAL: tuple[tuple[str, Callable[[Scope], None]], ...] = (
    ("ec2", ec2), ("rds", rds), ("dynamodb", dynamodb), ("efs", efs), ("fsx", fsx), ("storagegateway", storage_gateway),
)
# AWS Backup resource types these collectors read (other protected types are known from AWS Backup alone).
COLLECTED_TYPES = frozenset({"EC2", "EBS", "RDS", "Aurora", "DocumentDB", "Neptune", "DynamoDB", "EFS", "FSx", "S3", "Storage Gateway"})
