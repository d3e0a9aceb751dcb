"""AWS Backup in one account and Region: plans, selections, vaults, settings, evidence, frameworks.

Field semantics are those of the CloudFormation source (``scanner.cloudformation.resources``):
a plan rule's ``target_vault`` is the vault *name*, a copy action's destination is the vault ARN,
``Lifecycle`` values are numbers or None (keep forever). Entities are identified by their ARN
(``resource_id``), and a selection's ``plan_ref`` is a :class:`Reference` to its plan's ARN.
Attributes carry the API's field names (``Lifecycle.DeleteAfterDays``, ``EncryptionKeyArn``) and
no positions.
"""

from __future__ import annotations

import json
import math
from typing import Any

from backupguard.estate import (
    BackupEvidence,
    BackupFramework,
    BackupPlan,
    BackupRule,
    BackupSelection,
    BackupVault,
    CopyAction,
    Lifecycle,
    Origin,
    RecoveryPoint,
    Reference,
    ReportPlan,
    RestoreJob,
    RestoreJobWindow,
    RestoreTestingPlan,
    RestoreTestingSelection,
    TagCondition,
    Unknown,
    VaultLock,
    air_gapped_lock,
    region_scope,
)
from backupguard.scanner.aws.scope import FAILED, Scope
from backupguard.scanner.aws.session import pages
from backupguard.scanner.cloudformation.resources import COPY_PATHS, RULE_PATHS
from backupguard.scanner.values import named

AIR_GAPPED = "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"
RESTORE_ACCESS = "RESTORE_ACCESS_BACKUP_VAULT"
_CONDITION_OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def collect(scope: Scope) -> None:
    """Everything AWS Backup holds in the scope's account and Region; each part fails on its own."""
    client = scope.client("backup")
    vaults = scope.call("backup", "ListBackupVaults", lambda: _vaults(scope, client))
    scope.call("backup", "ListBackupPlans", lambda: _plans(scope, client))
    scope.call("backup", "DescribeRegionSettings", lambda: _region_settings(scope, client))
    scope.call("backup", "ListProtectedResources", lambda: _protected_resources(scope, client))
    if vaults is not FAILED:
        for vault in vaults:
            scope.call("backup", "ListRecoveryPointsByBackupVault", lambda: _recovery_points(scope, client, vault),
                       arn=vault.resource_id)
    scope.call("backup", "ListFrameworks", lambda: _frameworks(scope, client))
    scope.call("backup", "ListReportPlans", lambda: _report_plans(scope, client))
    scope.call("backup", "ListRestoreTestingPlans", lambda: _restore_testing(scope, client))
    restore_jobs(scope, client)


def collect_definitions(scope: Scope) -> None:
    """Vaults (key, lock, access policy, notifications, tags) and plans with their selections: what
    ``backupguard drift`` compares with the code, without the evidence and resources a scan reads
    (fewer calls, and a service it does not need cannot make it incomplete)."""
    client = scope.client("backup")
    scope.call("backup", "ListBackupVaults", lambda: _vaults(scope, client))
    scope.call("backup", "ListBackupPlans", lambda: _plans(scope, client))


def collect_region_settings(scope: Scope) -> None:
    """The Region's service opt-in (``DescribeRegionSettings``) into the scope's estate, keyed as the
    resolver looks it up: what ``backupguard drift`` needs to tell which resources tag selections pick."""
    scope.call("backup", "DescribeRegionSettings", lambda: _region_settings(scope, scope.client("backup")))
    if scope.opt_in:
        scope.estate.opt_in[region_scope(scope.origin(None))] = dict(scope.opt_in)


def collect_global_settings(scope: Scope) -> None:
    """Account-wide settings (read once per account); absent when the account is in no Organization."""
    response = scope.call(
        "backup", "DescribeGlobalSettings", lambda: scope.client("backup").describe_global_settings(),
        absent=("InvalidRequestException",),
    )
    if response and response is not FAILED:
        scope.estate.global_settings[f"account {scope.account}"] = dict(response.get("GlobalSettings") or {})


def tags(scope: Scope, client: Any, arn: str) -> Any:
    """ListTags of a plan or vault (no paginator): the tags, or Unknown when they cannot be read."""
    def read() -> dict:
        found: dict[str, str] = {}
        for page in pages(client, "list_tags", ResourceArn=arn):
            found.update(page.get("Tags") or {})
        return found

    result = scope.call("backup", "ListTags", read, arn=arn)
    return Unknown(f"backup:ListTags on {arn} failed") if result is FAILED else result


# -- plans and selections ----------------------------------------------------------------


# A plan rule's fields are named as in CloudFormation (cloudformation.resources.RULE_PATHS); a vault's
# lock as DescribeBackupVault reports it.
_VAULT_FIELDS = {
    "encryption_key_arn": "EncryptionKeyArn", "lock": "Locked", "lock.min_retention_days": "MinRetentionDays",
    "lock.max_retention_days": "MaxRetentionDays", "lock.changeable_for_days": "LockDate",
    "access_policy": "AccessPolicy", "notifications": "BackupVaultEvents",
}


def lifecycle(data: Any, origin: Origin) -> Lifecycle | None:
    if data is None:
        return None
    return Lifecycle(
        delete_after_days=data.get("DeleteAfterDays"),
        move_to_cold_storage_after_days=data.get("MoveToColdStorageAfterDays"),
        opt_in_to_archive=data.get("OptInToArchiveForSupportedResources"),
        origin=origin,
    )


def rule(data: dict, origin: Origin) -> BackupRule:
    return BackupRule(
        name=data.get("RuleName"),
        target_vault=data.get("TargetBackupVaultName"),
        schedule=data.get("ScheduleExpression"),
        timezone=data.get("ScheduleExpressionTimezone"),
        start_window_minutes=data.get("StartWindowMinutes"),
        completion_window_minutes=data.get("CompletionWindowMinutes"),
        lifecycle=lifecycle(data.get("Lifecycle"), origin),
        copy_actions=[
            CopyAction(copy.get("DestinationBackupVaultArn"), lifecycle(copy.get("Lifecycle"), origin), origin,
                       named(COPY_PATHS))
            for copy in data.get("CopyActions") or []
        ],
        continuous_backup=bool(data.get("EnableContinuousBackup", False)),
        target_air_gapped_vault_arn=data.get("TargetLogicallyAirGappedBackupVaultArn"),
        origin=origin,
        attributes=named(RULE_PATHS),
    )


def _plans(scope: Scope, client: Any) -> None:
    for page in pages(client, "list_backup_plans"):
        for summary in page.get("BackupPlansList") or []:
            plan_id, arn = summary["BackupPlanId"], summary["BackupPlanArn"]
            detail = scope.call("backup", "GetBackupPlan", lambda: client.get_backup_plan(BackupPlanId=plan_id), arn=arn)
            if detail is FAILED:
                continue
            origin = scope.origin(arn)
            body = detail.get("BackupPlan") or {}
            scope.estate.plans.append(BackupPlan(
                resource_id=arn,
                name=body.get("BackupPlanName", summary.get("BackupPlanName")),
                rules=[rule(r, origin) for r in body.get("Rules") or []],
                origin=origin,
                tags=tags(scope, client, arn),
                advanced_backup_settings=detail.get("AdvancedBackupSettings") or body.get("AdvancedBackupSettings") or [],
            ))
            scope.call("backup", "ListBackupSelections", lambda: _selections(scope, client, plan_id, arn), arn=arn)


def selection(data: dict, resource_id: str, plan_arn: str, origin: Origin) -> BackupSelection:
    conditions = data.get("Conditions") or {}
    return BackupSelection(
        resource_id=resource_id,
        name=data.get("SelectionName"),
        plan_ref=Reference(plan_arn, None, "AWS::Backup::BackupPlan"),
        iam_role_arn=data.get("IamRoleArn"),
        resources=list(data.get("Resources") or []),
        not_resources=list(data.get("NotResources") or []),
        list_of_tags=[
            TagCondition(t.get("ConditionType"), t.get("ConditionKey"), t.get("ConditionValue"))
            for t in data.get("ListOfTags") or []
        ],
        conditions=[
            TagCondition(operator, c.get("ConditionKey"), c.get("ConditionValue"))
            for operator in _CONDITION_OPERATORS
            for c in conditions.get(operator) or []
        ],
        origin=origin,
    )


def _selections(scope: Scope, client: Any, plan_id: str, plan_arn: str) -> None:
    for page in pages(client, "list_backup_selections", BackupPlanId=plan_id):
        for summary in page.get("BackupSelectionsList") or []:
            selection_id = summary["SelectionId"]
            detail = scope.call(
                "backup", "GetBackupSelection",
                lambda: client.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id), arn=plan_arn,
            )
            if detail is FAILED:
                continue
            scope.estate.selections.append(selection(
                detail.get("BackupSelection") or {}, f"{plan_arn}/selection/{selection_id}", plan_arn, scope.origin(plan_arn)
            ))


# -- vaults --------------------------------------------------------------------------------


def vault_lock(data: dict, scope: Scope, origin: Origin) -> VaultLock | None:
    """The lock as the API reports it. A LockDate means compliance mode: ``changeable_for_days`` is
    then the grace time left at the scan (0 once the lock is immutable); no LockDate is governance."""
    if not data.get("Locked") and data.get("MinRetentionDays") is None and data.get("MaxRetentionDays") is None:
        return None
    lock_date = data.get("LockDate")
    changeable = None
    if lock_date is not None:
        changeable = max(0, math.ceil((lock_date - scope.as_of).total_seconds() / 86400))
    return VaultLock(data.get("MinRetentionDays"), data.get("MaxRetentionDays"), changeable, origin)


def key_arn(scope: Scope, data: dict, keys: dict[str, Any]) -> Any:
    """The vault's key as backupguard models it: a customer key's ARN; an AWS managed key as its alias
    ARN (``alias/aws/backup``: the API gives a ``key/...`` ARN for it); None for an AWS owned key."""
    arn = data.get("EncryptionKeyArn")
    if data.get("EncryptionKeyType") == "AWS_OWNED_KMS_KEY" or not arn:
        return None
    if arn not in keys:
        region = arn.split(":")[3] if arn.count(":") >= 5 else None
        described = scope.call("kms", "DescribeKey", lambda: scope.client("kms", region).describe_key(KeyId=arn), arn=arn)
        if described is FAILED:
            keys[arn] = Unknown(f"kms:DescribeKey on {arn} failed: who manages the key is not known")
        elif (described.get("KeyMetadata") or {}).get("KeyManager") == "AWS":
            parts = arn.split(":")
            keys[arn] = ":".join(parts[:5] + ["alias/aws/backup"])
        else:
            keys[arn] = arn
    return keys[arn]


def _vaults(scope: Scope, client: Any) -> list[BackupVault]:
    listed: dict[str, dict] = {}
    for params in ({}, {"ByVaultType": AIR_GAPPED}):
        for page in pages(client, "list_backup_vaults", **params):
            for data in page.get("BackupVaultList") or []:
                listed.setdefault(data["BackupVaultArn"], data)
    keys: dict[str, Any] = {}
    found = []
    for arn, data in sorted(listed.items()):
        kind = data.get("VaultType") or "BACKUP_VAULT"
        if kind == RESTORE_ACCESS:
            continue  # a read-only view of another vault's recovery points, not a backup target
        name = data["BackupVaultName"]
        origin = scope.origin(arn)
        air_gapped = kind == AIR_GAPPED
        policy = scope.call("backup", "GetBackupVaultAccessPolicy",
                            lambda: client.get_backup_vault_access_policy(BackupVaultName=name),
                            arn=arn, absent=("ResourceNotFoundException",))
        notifications = scope.call("backup", "GetBackupVaultNotifications",
                                   lambda: client.get_backup_vault_notifications(BackupVaultName=name),
                                   arn=arn, absent=("ResourceNotFoundException",))
        vault = BackupVault(
            resource_id=arn,
            name=name,
            origin=origin,
            encryption_key_arn=key_arn(scope, data, keys),
            lock=air_gapped_lock(data.get("MinRetentionDays"), data.get("MaxRetentionDays"), origin)
            if air_gapped else vault_lock(data, scope, origin),
            access_policy=_policy(policy, arn),
            notifications=_notifications(notifications),
            air_gapped=air_gapped,
            resource_type="AWS::Backup::LogicallyAirGappedBackupVault" if air_gapped else "AWS::Backup::BackupVault",
            tags=tags(scope, client, arn),
            attributes=named(_VAULT_FIELDS),
        )
        scope.estate.vaults.append(vault)
        found.append(vault)
    return found


def _policy(response: Any, arn: str) -> Any:
    if response is FAILED:
        return Unknown(f"backup:GetBackupVaultAccessPolicy on {arn} failed")
    if response is None or not response.get("Policy"):
        return None
    try:
        return json.loads(response["Policy"])
    except ValueError as exc:
        return Unknown(f"the access policy of {arn} is not JSON ({exc})")


def _notifications(response: Any) -> Any:
    if response is FAILED:
        return Unknown("backup:GetBackupVaultNotifications failed")
    if response is None:
        return None
    return {"SNSTopicArn": response.get("SNSTopicArn"), "BackupVaultEvents": list(response.get("BackupVaultEvents") or [])}


# -- settings and evidence ------------------------------------------------------------------


def _region_settings(scope: Scope, client: Any) -> None:
    response = client.describe_region_settings()
    scope.opt_in.update({str(k): bool(v) for k, v in (response.get("ResourceTypeOptInPreference") or {}).items()})


def _protected_resources(scope: Scope, client: Any) -> None:
    for page in pages(client, "list_protected_resources"):
        for data in page.get("Results") or []:
            arn = data["ResourceArn"]
            detail = scope.call("backup", "DescribeProtectedResource",
                                lambda: client.describe_protected_resource(ResourceArn=arn), arn=arn)
            detail = {} if detail is FAILED else detail
            scope.evidence[arn] = BackupEvidence(
                as_of=scope.as_of,
                last_backup_time=detail.get("LastBackupTime") or data.get("LastBackupTime"),
                latest_restore_minutes=detail.get("LatestRestoreExecutionTimeMinutes"),
                latest_restore_job_time=detail.get("LatestRestoreJobCreationDate"),
            )
            scope.protected_types[arn] = (data.get("ResourceType") or "", data.get("ResourceName"))


def _recovery_points(scope: Scope, client: Any, vault: BackupVault) -> None:
    for page in pages(client, "list_recovery_points_by_backup_vault", BackupVaultName=vault.name,
                      ByCreatedAfter=scope.since):
        for data in page.get("RecoveryPoints") or []:
            scope.estate.recovery_points.append(RecoveryPoint(
                arn=data["RecoveryPointArn"],
                resource_arn=data.get("ResourceArn", ""),
                resource_type=data.get("ResourceType", ""),
                vault_arn=data.get("BackupVaultArn", vault.resource_id),
                created=data["CreationDate"],
                status=data.get("Status", ""),
                origin=scope.origin(data["RecoveryPointArn"]),
                encrypted=data.get("IsEncrypted"),
                encryption_key_arn=data.get("EncryptionKeyArn"),
                delete_at=(data.get("CalculatedLifecycle") or {}).get("DeleteAt"),
                air_gapped_vault=vault.air_gapped or data.get("VaultType") == AIR_GAPPED,
            ))


# -- Audit Manager and restore testing ---------------------------------------------------------


def _frameworks(scope: Scope, client: Any) -> None:
    for page in pages(client, "list_frameworks"):
        for summary in page.get("Frameworks") or []:
            name, arn = summary["FrameworkName"], summary["FrameworkArn"]
            detail = scope.call("backup", "DescribeFramework", lambda: client.describe_framework(FrameworkName=name), arn=arn)
            if detail is FAILED:
                continue
            scope.estate.frameworks.append(
                BackupFramework(arn, name, [_control(c) for c in detail.get("FrameworkControls") or []], scope.origin(arn))
            )


def _control(control: dict) -> dict:
    """A control as CloudFormation spells it (the API gives ControlScope.Tags as a map)."""
    control = dict(control)
    scope = dict(control.get("ControlScope") or {})
    if isinstance(scope.get("Tags"), dict):
        scope["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(scope["Tags"].items())]
    if scope:
        control["ControlScope"] = scope
    return control


def _report_plans(scope: Scope, client: Any) -> None:
    for page in pages(client, "list_report_plans"):
        for data in page.get("ReportPlans") or []:
            setting = data.get("ReportSetting") or {}
            arn = data["ReportPlanArn"]
            scope.estate.report_plans.append(ReportPlan(
                arn, data.get("ReportPlanName"), setting.get("ReportTemplate"), setting.get("FrameworkArns"), scope.origin(arn)
            ))


def _restore_testing(scope: Scope, client: Any) -> None:
    for page in pages(client, "list_restore_testing_plans"):
        for summary in page.get("RestoreTestingPlans") or []:
            name, arn = summary["RestoreTestingPlanName"], summary["RestoreTestingPlanArn"]
            detail = scope.call("backup", "GetRestoreTestingPlan",
                                lambda: client.get_restore_testing_plan(RestoreTestingPlanName=name), arn=arn)
            if detail is FAILED:
                continue
            props = detail.get("RestoreTestingPlan") or {}
            scope.estate.restore_testing_plans.append(RestoreTestingPlan(
                arn, name, props.get("ScheduleExpression"), props, scope.origin(arn),
                start_window_hours=props.get("StartWindowHours"),
                selection_window_days=(props.get("RecoveryPointSelection") or {}).get("SelectionWindowDays"),
            ))
            scope.call("backup", "ListRestoreTestingSelections", lambda: _restore_selections(scope, client, name, arn), arn=arn)


def _restore_selections(scope: Scope, client: Any, plan: str, plan_arn: str) -> None:
    for page in pages(client, "list_restore_testing_selections", RestoreTestingPlanName=plan):
        for summary in page.get("RestoreTestingSelections") or []:
            name = summary["RestoreTestingSelectionName"]
            detail = scope.call(
                "backup", "GetRestoreTestingSelection",
                lambda: client.get_restore_testing_selection(RestoreTestingPlanName=plan, RestoreTestingSelectionName=name),
                arn=plan_arn,
            )
            if detail is FAILED:
                continue
            props = detail.get("RestoreTestingSelection") or {}
            scope.estate.restore_testing_selections.append(RestoreTestingSelection(
                f"{plan_arn}/selection/{name}", name, plan, props, scope.origin(plan_arn),
                protected_resource_type=props.get("ProtectedResourceType"),
                protected_resource_arns=props.get("ProtectedResourceArns"),
                protected_resource_conditions=props.get("ProtectedResourceConditions"),
                validation_window_hours=props.get("ValidationWindowHours"),
            ))


# -- restore jobs --------------------------------------------------------------------------------


def restore_jobs(scope: Scope, client: Any) -> None:
    """Completed restore jobs since the scan's lookback (``scope.since``), with where they were read
    from: a failed read leaves that account and Region's restore evidence unknown, not empty."""
    where = region_scope(scope.origin())
    if scope.call("backup", "ListRestoreJobs", lambda: _restore_jobs(scope, client)) is FAILED:
        scope.estate.restore_jobs = [j for j in scope.estate.restore_jobs if region_scope(j.origin) != where]
        scope.estate.restore_jobs_read[where] = Unknown(
            f"backup:ListRestoreJobs failed in account {scope.account}, Region {scope.region}")
    else:
        scope.estate.restore_jobs_read[where] = RestoreJobWindow(scope.as_of, scope.since)


def _restore_jobs(scope: Scope, client: Any) -> None:
    for page in pages(client, "list_restore_jobs", ByStatus="COMPLETED", ByCompleteAfter=scope.since):
        for data in page.get("RestoreJobs") or []:
            scope.estate.restore_jobs.append(RestoreJob(
                job_id=data["RestoreJobId"],
                resource_type=data.get("ResourceType") or "",
                completed=data.get("CompletionDate"),
                origin=scope.origin(data.get("CreatedResourceArn") or data.get("SourceResourceArn")),
                source_resource_arn=data.get("SourceResourceArn"),
                restore_testing_plan_arn=(data.get("CreatedBy") or {}).get("RestoreTestingPlanArn"),
                validation_status=data.get("ValidationStatus"),
            ))
