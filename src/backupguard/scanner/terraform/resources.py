"""Turn evaluated Terraform resource instances into Estate entities.

The only place that knows the AWS provider's argument names. Each builder
takes one :class:`~backupguard.scanner.terraform.module.Instance` (its values
are evaluated, with positions) and returns an entity; :func:`build_estate`
then joins the resources Terraform splits off (vault lock, vault policy and
notifications; S3 versioning and Object Lock; EFS backup policy) onto the
resource they configure, and merges provider ``default_tags`` into tags.

Provider defaults that differ from AWS's own are applied here, once:
``start_window`` 60 and ``completion_window`` 180 minutes on backup plan rules,
``delete_after = 0`` meaning "not set".
"""

from __future__ import annotations

import math
from typing import Any, Callable

from backupguard.estate import (
    GENERATED,
    Attribute,
    Attributes,
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
    Reference,
    Unknown,
    air_gapped_lock,
)
from backupguard.scanner.cloudformation.loader import LineDict
from backupguard.scanner.values import (
    as_bool, as_int, as_json, at, attribute, attributes_of, block, items, named, spec_attributes, tags_of as _tags_of,
)

_INT64 = 2**63

# The AWS provider's defaults for a backup plan rule (they differ from the API's).
TF_START_WINDOW_MINUTES = 60
TF_COMPLETION_WINDOW_MINUTES = 180


def tags_of(value: Any) -> Any:
    """Tags as a dict; a tag map chosen by an unknown condition (``c ? {...} : {...}``, also inside
    merge()) is read key by key: a value the branches agree on is known, another is an Unknown
    with each branch's value as a candidate (possibly absent where a branch lacks the key)."""
    if isinstance(value, Unknown) and value.candidates:
        options = [{} if c is None else c for c in value.candidates] + ([{}] if value.may_be_absent else [])
        if all(isinstance(o, dict) for o in options):
            tags: dict[str, Any] = {}
            for key in dict.fromkeys(k for o in options for k in o):
                found = [_tags_of({key: o[key]})[key] if key in o else None for o in options]
                if all(f is not None and f == found[0] and not isinstance(f, (Unknown, Reference)) for f in found):
                    tags[str(key)] = found[0]
                elif all(isinstance(f, str) or f is None for f in found):
                    present = tuple(dict.fromkeys(f for f in found if f is not None))
                    tags[str(key)] = Unknown(value.reason, value.refs, present, None in found)
                else:
                    tags[str(key)] = Unknown(value.reason, value.refs, (), None in found)
            return tags
    return _tags_of(value)


def provider_int(value: Any, what: str) -> Any:
    """An integer argument as the AWS provider reads it (a Go int64): a number beyond that range
    (``1e999``, a 5,000-digit literal, ``--var days=1e999``) is refused by Terraform, so it is
    unknown here, never "inf days"."""
    number = as_int(value, what)
    if isinstance(number, Unknown):
        return number.map(lambda candidate: provider_int(candidate, what)) if number.candidates else number
    if isinstance(number, (int, float)) and not isinstance(number, bool) and not (
            math.isfinite(number) and -_INT64 <= number < _INT64):
        return Unknown(f"{what} is {_magnitude(number)}: the AWS provider accepts whole numbers up to 2^63 only")
    return number


def _magnitude(number: float) -> str:
    if isinstance(number, float) and not math.isfinite(number):
        return "not a finite number" if math.isnan(number) else "too large to be a number of days"
    return "too large"


class ShapeError(ValueError):
    """A value of another kind than the provider's schema has there (``copy_action = "x"`` where
    the schema has a block): Terraform refuses it, so it is a located error, never a default."""


def _blocks(values: Any, name: str) -> list:
    """The nested blocks of one type (``rule``, ``copy_action``), as :func:`items` reads them."""
    found = values.get(name)
    if found is not None and not isinstance(found, Unknown):
        if not isinstance(found, list):
            raise ShapeError(f"'{name}' must be a list of blocks, not {_kind(found)}")
        wrong = next((item for item in found if not isinstance(item, (dict, Unknown))), found)
        if wrong is not found:
            raise ShapeError(f"'{name}' must be a list of blocks, but holds {_kind(wrong)}")
    return items(found)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__)


def _first(values: LineDict, name: str) -> LineDict:
    """A nested block that appears at most once (``lifecycle { }``): the first, or an empty block."""
    found = values.get(name)
    if isinstance(found, Unknown):
        return block(found)
    entries = _blocks(values, name)
    return block(entries[0]) if entries else LineDict()


def _item_origin(origin: Origin, container: Any, index: int) -> Origin:
    pos = getattr(container, "pos", None)
    return origin.at(*pos(index)) if pos else origin


def _days(value: Any, what: str) -> Any:
    """A lifecycle day count; the provider sends 0 as "not set"."""
    days = provider_int(value, what)
    return None if days == 0 else days


# Where a rule or copy_action block writes its lifecycle, relative to that block.
_LIFECYCLE_PATHS = {
    "lifecycle.delete_after_days": "lifecycle.delete_after",
    "lifecycle.move_to_cold_storage_after_days": "lifecycle.cold_storage_after",
    "lifecycle.opt_in_to_archive": "lifecycle.opt_in_to_archive_for_supported_resources",
}
_RULE_PATHS = {
    "schedule": "schedule",
    "start_window_minutes": "start_window",
    "completion_window_minutes": "completion_window",
    "continuous_backup": "enable_continuous_backup",
    **_LIFECYCLE_PATHS,
}
_COPY_PATHS = {"destination_vault_arn": "destination_vault_arn", **_LIFECYCLE_PATHS}


def _lifecycle(values: LineDict, origin: Origin) -> Lifecycle | None:
    if "lifecycle" not in values:
        return None
    life = _first(values, "lifecycle")
    return Lifecycle(
        delete_after_days=_days(life.get("delete_after"), "delete_after"),
        move_to_cold_storage_after_days=_days(life.get("cold_storage_after"), "cold_storage_after"),
        opt_in_to_archive=as_bool(
            life.get("opt_in_to_archive_for_supported_resources"), "opt_in_to_archive_for_supported_resources"
        ),
        origin=at(origin, values, "lifecycle"),
    )


def _rule(values: LineDict, origin: Origin) -> BackupRule:
    copies_raw = values.get("copy_action")
    copies = []
    for index, copy in enumerate(_blocks(values, "copy_action")):
        copy = block(copy)
        copy_origin = _item_origin(origin, copies_raw, index)
        copies.append(CopyAction(copy.get("destination_vault_arn"), _lifecycle(copy, copy_origin), copy_origin,
                                 attributes_of(copy_origin, copy, _COPY_PATHS)))
    start = values.get("start_window", TF_START_WINDOW_MINUTES)
    completion = values.get("completion_window", TF_COMPLETION_WINDOW_MINUTES)
    return BackupRule(
        name=values.get("rule_name"),
        target_vault=values.get("target_vault_name"),
        schedule=values.get("schedule"),
        timezone=values.get("schedule_expression_timezone"),
        start_window_minutes=provider_int(start, "start_window"),
        completion_window_minutes=provider_int(completion, "completion_window"),
        lifecycle=_lifecycle(values, origin),
        copy_actions=copies,
        continuous_backup=as_bool(values.get("enable_continuous_backup"), "enable_continuous_backup") or False,
        target_air_gapped_vault_arn=values.get("target_logically_air_gapped_backup_vault_arn"),
        origin=origin,
        attributes=attributes_of(origin, values, _RULE_PATHS),
    )


def backup_plan(address: str, values: LineDict, origin: Origin) -> BackupPlan:
    raw = values.get("rule")
    rules = [_rule(block(rule), _item_origin(origin, raw, index)) for index, rule in enumerate(_blocks(values, "rule"))]
    return BackupPlan(
        resource_id=address,
        name=values.get("name"),
        rules=rules,
        origin=origin,
        resource_type="aws_backup_plan",
        tags=tags_of(values.get("tags")),
        advanced_backup_settings=values.get("advanced_backup_setting") or [],
    )


_CONDITIONS = {
    "string_equals": "StringEquals",
    "string_not_equals": "StringNotEquals",
    "string_like": "StringLike",
    "string_not_like": "StringNotLike",
}


def backup_selection(address: str, values: LineDict, origin: Origin) -> BackupSelection:
    tags = [
        TagCondition(tag.get("type"), tag.get("key"), tag.get("value"))
        for tag in map(block, _blocks(values, "selection_tag"))
    ]
    conditions = []
    for condition in map(block, _blocks(values, "condition")):
        for name, operator in _CONDITIONS.items():
            for entry in map(block, _blocks(condition, name)):
                conditions.append(TagCondition(operator, entry.get("key"), entry.get("value")))
    return BackupSelection(
        resource_id=address,
        name=values.get("name"),
        plan_ref=values.get("plan_id"),
        iam_role_arn=values.get("iam_role_arn"),
        resources=values.get("resources") or [],
        not_resources=values.get("not_resources") or [],
        list_of_tags=tags,
        conditions=conditions,
        origin=origin,
        resource_type="aws_backup_selection",
    )


# A vault's lock, policy and notifications are resources of their own (joined on in build.py, which
# records where they are written); until then the attributes name those resources.
_VAULT_ATTACHMENT_NAMES = {
    "lock": "aws_backup_vault_lock_configuration",
    "lock.min_retention_days": "min_retention_days",
    "lock.max_retention_days": "max_retention_days",
    "lock.changeable_for_days": "changeable_for_days",
    "access_policy": "aws_backup_vault_policy",
    "notifications": "aws_backup_vault_notifications",
}


def backup_vault(address: str, values: LineDict, origin: Origin) -> BackupVault:
    return BackupVault(
        resource_id=address,
        name=values.get("name"),
        origin=origin,
        encryption_key_arn=values.get("kms_key_arn"),
        resource_type="aws_backup_vault",
        tags=tags_of(values.get("tags")),
        attributes={**named(_VAULT_ATTACHMENT_NAMES), "encryption_key_arn": attribute(origin, values, "kms_key_arn")},
    )


def air_gapped_vault(address: str, values: LineDict, origin: Origin) -> BackupVault:
    return BackupVault(
        resource_id=address,
        name=values.get("name"),
        origin=origin,
        encryption_key_arn=values.get("encryption_key_arn"),
        lock=air_gapped_lock(
            provider_int(values.get("min_retention_days"), "min_retention_days"), provider_int(values.get("max_retention_days"), "max_retention_days"), origin
        ),
        air_gapped=True,
        resource_type="aws_backup_logically_air_gapped_vault",
        tags=tags_of(values.get("tags")),
        attributes={
            **named({key: _VAULT_ATTACHMENT_NAMES[key] for key in ("access_policy", "notifications")}),
            **attributes_of(origin, values, {
                "encryption_key_arn": "encryption_key_arn", "lock.min_retention_days": "min_retention_days",
                "lock.max_retention_days": "max_retention_days",
            }),
        },
    )


def framework(address: str, values: LineDict, origin: Origin) -> BackupFramework:
    return BackupFramework(address, values.get("name"), items(values.get("control")), origin, "aws_backup_framework")


def report_plan(address: str, values: LineDict, origin: Origin) -> ReportPlan:
    setting = _first(values, "report_setting")
    return ReportPlan(
        address, values.get("name"), setting.get("report_template"), setting.get("framework_arns"), origin,
        "aws_backup_report_plan",
    )


def restore_testing_plan(address: str, values: LineDict, origin: Origin) -> RestoreTestingPlan:
    selection = _first(values, "recovery_point_selection")
    return RestoreTestingPlan(
        address, values.get("name"), values.get("schedule_expression"), values, origin,
        "aws_backup_restore_testing_plan",
        start_window_hours=provider_int(values.get("start_window_hours"), "start_window_hours"),
        selection_window_days=provider_int(selection.get("selection_window_days"), "selection_window_days"),
    )


def restore_testing_selection(address: str, values: LineDict, origin: Origin) -> RestoreTestingSelection:
    return RestoreTestingSelection(
        address, values.get("name"), values.get("restore_testing_plan_name"), values, origin,
        "aws_backup_restore_testing_selection",
        protected_resource_type=values.get("protected_resource_type"),
        protected_resource_arns=values.get("protected_resource_arns"),
        protected_resource_conditions=values.get("protected_resource_conditions"),
        validation_window_hours=provider_int(values.get("validation_window_hours"), "validation_window_hours"),
    )


def org_policy(address: str, values: LineDict, origin: Origin) -> OrgBackupPolicy | None:
    if values.get("type") != "BACKUP_POLICY":
        return None
    content = values.get("content")
    size = len(content) if isinstance(content, str) else None
    return OrgBackupPolicy(
        address, values.get("name"), as_json(content, "content"), origin, "aws_organizations_policy", size
    )


# -- protectable resources ---------------------------------------------------------


def _settings(values: LineDict, spec: dict[str, tuple[str, Callable[[Any, str], Any]]]) -> dict[str, Any]:
    return {name: coerce(values[arg], arg) for arg, (name, coerce) in spec.items() if arg in values}




def _keep(value: Any, what: str) -> Any:
    return value


_DB_SPEC = {
    "backup_retention_period": ("backup_retention_days", provider_int),
    "deletion_protection": ("deletion_protection", as_bool),
    "copy_tags_to_snapshot": ("copy_tags_to_snapshot", as_bool),
    "storage_encrypted": ("storage_encrypted", as_bool),
    "kms_key_id": ("kms_key_id", _keep),
    "engine": ("engine", _keep),
}


def _protected(address: str, rtype: str, service: str, values: LineDict, origin: Origin,
               settings: dict[str, Any], name_arg: str | None = None, attributes: Attributes | None = None
               ) -> ProtectedResource:
    name = values.get(name_arg) if name_arg else None
    return ProtectedResource(address, rtype, service, origin, tags_of(values.get("tags")), settings, name=name,
                             attributes=attributes or {})


def db_instance(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
    settings = _settings(values, _DB_SPEC)
    if values.get("replicate_source_db") is not None:
        settings["read_replica"] = True
        settings["encryption_from"] = values.get("replicate_source_db")
    elif values.get("snapshot_identifier") is not None:
        settings["encryption_from"] = values.get("snapshot_identifier")
    return _protected(address, "aws_db_instance", "RDS", values, origin, settings, "identifier",
                      spec_attributes(origin, values, _DB_SPEC))


def db_cluster(rtype: str, service: str) -> Callable[[str, LineDict, Origin], ProtectedResource]:
    def build(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
        settings = _settings(values, _DB_SPEC)
        if values.get("snapshot_identifier") is not None:
            settings["encryption_from"] = values.get("snapshot_identifier")
        kind = service
        if rtype == "aws_rds_cluster":
            engine = settings.get("engine")
            kind = "Aurora" if not isinstance(engine, str) or engine.startswith("aurora") else "RDS"
        return _protected(address, rtype, kind, values, origin, settings, "cluster_identifier",
                          spec_attributes(origin, values, _DB_SPEC))

    return build


def dynamodb_table(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
    pitr = _first(values, "point_in_time_recovery") if "point_in_time_recovery" in values else None
    settings = _settings(values, {"deletion_protection_enabled": ("deletion_protection", as_bool)})
    settings["pitr_enabled"] = as_bool(pitr.get("enabled"), "point_in_time_recovery.enabled") if pitr is not None else None
    if pitr is not None and pitr.get("recovery_period_in_days") is not None:
        settings["pitr_recovery_period_days"] = provider_int(pitr.get("recovery_period_in_days"), "recovery_period_in_days")
    attributes = attributes_of(origin, values, {
        "deletion_protection": "deletion_protection_enabled",
        "pitr_enabled": "point_in_time_recovery.enabled",
        "pitr_recovery_period_days": "point_in_time_recovery.recovery_period_in_days",
    })
    return _protected(address, "aws_dynamodb_table", "DynamoDB", values, origin, settings, "name", attributes)


def efs_file_system(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
    spec = {"encrypted": ("encrypted", as_bool)}
    attributes = {**spec_attributes(origin, values, spec), "backup_policy_status": Attribute("aws_efs_backup_policy")}
    return _protected(address, "aws_efs_file_system", "EFS", values, origin, _settings(values, spec), None, attributes)


# automatic_backup_retention_days when omitted, per the provider's documentation.
_FSX_TYPES = {
    "aws_fsx_windows_file_system": ("WINDOWS", 7),
    "aws_fsx_lustre_file_system": ("LUSTRE", 0),
    "aws_fsx_ontap_file_system": ("ONTAP", 30),
    "aws_fsx_openzfs_file_system": ("OPENZFS", 0),
}


def fsx_file_system(rtype: str) -> Callable[[str, LineDict, Origin], ProtectedResource]:
    fs_type, default_days = _FSX_TYPES[rtype]

    def build(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
        spec = {
            "automatic_backup_retention_days": ("automatic_backup_retention_days", provider_int),
            "copy_tags_to_backups": ("copy_tags_to_backups", as_bool),
        }
        settings = _settings(values, spec)
        if "automatic_backup_retention_days" not in settings:
            settings["automatic_backup_retention_days"] = default_days
            settings["retention_is_default"] = True
        settings["file_system_type"] = fs_type
        return _protected(address, rtype, "FSx", values, origin, settings, None, spec_attributes(origin, values, spec))

    return build


def s3_bucket(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
    spec = {"object_lock_enabled": ("object_lock_enabled", as_bool)}
    settings = _settings(values, spec)
    # Versioning is an aws_s3_bucket_versioning of its own (joined on in build.py), or the v3 inline block.
    attributes = {**spec_attributes(origin, values, spec), "versioning_status": Attribute("aws_s3_bucket_versioning")}
    legacy = _first(values, "versioning") if "versioning" in values else None
    if legacy is not None:  # the AWS provider v3 inline block
        enabled = as_bool(legacy.get("enabled"), "versioning.enabled")
        settings["versioning_status"] = "Enabled" if enabled is True else enabled if isinstance(enabled, Unknown) else "Suspended"
        attributes["versioning_status"] = attribute(origin, values, "versioning.enabled")
    lock = settings.get("object_lock_enabled")
    if lock is True:
        settings.setdefault("versioning_status", "Enabled")  # S3 turns versioning on for Object Lock buckets
    elif isinstance(lock, Unknown) and "versioning_status" not in settings:
        settings["versioning_status"] = Unknown(lock.reason, lock.refs, ("Enabled", None), True)
    bucket = _protected(address, "aws_s3_bucket", "S3", values, origin, settings, "bucket", attributes)
    if bucket.name is None:  # Terraform names it: bucket_prefix (else "terraform-") and a unique suffix
        prefix = values.get("bucket_prefix")
        if prefix is None or isinstance(prefix, str):
            start = "terraform-" if prefix is None else prefix
            bucket.name = Unknown(f"the bucket name is '{start}' and a suffix Terraform generates", text=start + GENERATED)
        else:
            bucket.name = Unknown("the bucket_prefix is known only after apply")
    return bucket


def ebs_volume(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
    spec = {"encrypted": ("encrypted", as_bool), "kms_key_id": ("kms_key_id", _keep)}
    return _protected(address, "aws_ebs_volume", "EBS", values, origin, _settings(values, spec), None,
                      spec_attributes(origin, values, spec))


def ec2_instance(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
    return _protected(address, "aws_instance", "EC2", values, origin, {})


def storage_gateway_volume(rtype: str) -> Callable[[str, LineDict, Origin], ProtectedResource]:
    def build(address: str, values: LineDict, origin: Origin) -> ProtectedResource:
        spec = {"kms_encrypted": ("encrypted", as_bool), "kms_key": ("kms_key_id", _keep)}
        return _protected(address, rtype, "Storage Gateway", values, origin, _settings(values, spec), None,
                          spec_attributes(origin, values, spec))

    return build


Builder = Callable[[str, LineDict, Origin], Any]

BUILDERS: dict[str, Builder] = {
    "aws_backup_plan": backup_plan,
    "aws_backup_selection": backup_selection,
    "aws_backup_vault": backup_vault,
    "aws_backup_logically_air_gapped_vault": air_gapped_vault,
    "aws_backup_framework": framework,
    "aws_backup_report_plan": report_plan,
    "aws_backup_restore_testing_plan": restore_testing_plan,
    "aws_backup_restore_testing_selection": restore_testing_selection,
    "aws_organizations_policy": org_policy,
    "aws_instance": ec2_instance,
    "aws_ebs_volume": ebs_volume,
    "aws_db_instance": db_instance,
    "aws_rds_cluster": db_cluster("aws_rds_cluster", "Aurora"),
    "aws_docdb_cluster": db_cluster("aws_docdb_cluster", "DocumentDB"),
    "aws_neptune_cluster": db_cluster("aws_neptune_cluster", "Neptune"),
    "aws_dynamodb_table": dynamodb_table,
    "aws_efs_file_system": efs_file_system,
    "aws_s3_bucket": s3_bucket,
    "aws_storagegateway_cached_iscsi_volume": storage_gateway_volume("aws_storagegateway_cached_iscsi_volume"),
    "aws_storagegateway_stored_iscsi_volume": storage_gateway_volume("aws_storagegateway_stored_iscsi_volume"),
    **{rtype: fsx_file_system(rtype) for rtype in _FSX_TYPES},
}

# Resources that configure another resource, joined onto it after building.
ATTACHMENTS = (
    "aws_backup_vault_lock_configuration",
    "aws_backup_vault_policy",
    "aws_backup_vault_notifications",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_object_lock_configuration",
    "aws_efs_backup_policy",
    "aws_backup_region_settings",
    "aws_backup_global_settings",
)
