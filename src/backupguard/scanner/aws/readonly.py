"""The live scanner's read-only guarantee, by construction.

``ALLOWED`` is the complete list of AWS operations the scanner may call, keyed by botocore's
service name. :func:`install` registers a ``before-call`` handler on a botocore event system:
every client created from that session afterwards refuses any other operation with
:class:`ReadOnlyViolation` *before* the request is signed or sent. The session factory in
``session.py`` installs it on every session it creates, so no client of the scanner exists
without it. :func:`iam_policy` derives the scanning role's minimal IAM policy from the same
list (shipped as ``iam-policy.json`` beside this module; a test keeps the two equal).

This module imports neither boto3 nor botocore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

# botocore service name -> operation names (as the API spells them). Only List/Get/Describe,
# plus the two STS calls that set up a scan. Keep it to what the collectors really call: a test
# records the operations of the end-to-end scan and compares them with this list.
ALLOWED: dict[str, frozenset[str]] = {
    "backup": frozenset({
        "ListBackupPlans", "GetBackupPlan", "ListBackupSelections", "GetBackupSelection",
        "ListBackupVaults", "GetBackupVaultAccessPolicy", "GetBackupVaultNotifications", "ListTags",
        "DescribeRegionSettings", "DescribeGlobalSettings",
        "ListRecoveryPointsByBackupVault", "ListProtectedResources", "DescribeProtectedResource",
        "ListFrameworks", "DescribeFramework", "ListReportPlans",
        "ListRestoreTestingPlans", "GetRestoreTestingPlan", "ListRestoreTestingSelections", "GetRestoreTestingSelection",
        "ListRestoreJobs",
    }),
    "kms": frozenset({"DescribeKey"}),
    "ec2": frozenset({"DescribeRegions", "DescribeInstances", "DescribeVolumes"}),
    "rds": frozenset({"DescribeDBInstances", "DescribeDBClusters"}),
    "dynamodb": frozenset({"ListTables", "DescribeTable", "DescribeContinuousBackups", "ListTagsOfResource"}),
    "efs": frozenset({"DescribeFileSystems", "DescribeBackupPolicy"}),
    "fsx": frozenset({"DescribeFileSystems"}),
    "s3": frozenset({"ListBuckets", "GetBucketLocation", "GetBucketVersioning", "GetObjectLockConfiguration", "GetBucketTagging"}),
    "storagegateway": frozenset({"ListGateways", "ListVolumes", "ListTagsForResource"}),
    "organizations": frozenset({
        "ListAccounts", "ListOrganizationalUnitsForParent", "ListAccountsForParent",
        "ListPolicies", "DescribePolicy",
        "DescribeEffectivePolicy",  # backupguard drift: the account's effective backup policy
    }),
    "sts": frozenset({"AssumeRole", "GetCallerIdentity"}),
    # backupguard drift: what a template's logical IDs became (scanner.aws.stacks)
    "cloudformation": frozenset({"ListStackResources"}),
    # backupguard drift: the live tags of the resources the code protects (BG706)
    "resourcegroupstaggingapi": frozenset({"GetResources"}),
}
# Operations only ``backupguard drift`` calls (the end-to-end scan test expects every other one).
DRIFT_ONLY: frozenset[tuple[str, str]] = frozenset({
    ("cloudformation", "ListStackResources"), ("organizations", "DescribeEffectivePolicy"),
    ("resourcegroupstaggingapi", "GetResources"),
})

# botocore service name -> IAM action prefix, where they differ (the rest are equal).
IAM_PREFIX = {"efs": "elasticfilesystem", "resourcegroupstaggingapi": "tag"}
# Operations whose IAM action is not named after the operation.
IAM_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
}

POLICY_FILE = Path(__file__).with_name("iam-policy.json")


class ReadOnlyViolation(RuntimeError):
    """An operation outside the allow-list was about to be called; nothing was sent."""


def is_allowed(service: str, operation: str) -> bool:
    return operation in ALLOWED.get(service, ())


def guard(model: Any = None, **_: Any) -> None:
    """``before-call`` handler: refuse the call unless (service, operation) is allowed.

    Registered for every operation of every client; it raises before botocore signs or sends
    anything. Returning None lets the call proceed normally.
    """
    service = model.service_model.service_name if model is not None else "?"
    operation = model.name if model is not None else "?"
    if not is_allowed(service, operation):
        raise ReadOnlyViolation(
            f"backupguard is read-only: {service}:{operation} is not in its allow-list (refused before sending)"
        )


def install(events: Any, observer: Callable[[str, str], None] | None = None) -> None:
    """Register the guard (and an optional call observer, after it) on a botocore event system.

    Register it on a botocore *session* before creating clients: each client copies the
    session's handlers when it is created.
    """
    events.register_first("before-call", guard, unique_id="backupguard-readonly-guard")
    if observer is not None:
        def observe(model: Any = None, **_: Any) -> None:
            observer(model.service_model.service_name, model.name)

        events.register("before-call", observe, unique_id="backupguard-call-observer")


def iam_action(service: str, operation: str) -> str:
    return IAM_ACTION.get((service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}")


def iam_policy() -> dict:
    """The minimal IAM policy of the scanning role: exactly the allow-list, as IAM actions."""
    actions = sorted({iam_action(service, op) for service, ops in ALLOWED.items() for op in ops})
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "BackupguardReadOnlyScan", "Effect": "Allow", "Action": actions, "Resource": "*"}],
    }


def iam_policy_text() -> str:
    return json.dumps(iam_policy(), indent=2) + "\n"
