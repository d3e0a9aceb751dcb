"""End to end: an Organization of three accounts x two Regions, scanned with moto plus canned
answers (validated against the service models) for what moto lacks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

from botocore.stub import Stubber  # noqa: E402
from moto import mock_aws  # noqa: E402

from backupguard.estate import Reference, Unknown  # noqa: E402
from backupguard.scanner.aws import LiveOptions, readonly, scan_live, shard_of  # noqa: E402
from backupguard.scanner.aws.scope import Scope  # noqa: E402
from backupguard.scanner.aws import backup as backup_collector  # noqa: E402
from live_fakes import Canned, CannedConnector, StubAccess, error  # noqa: E402

R1, R2 = "eu-west-1", "eu-south-1"
MGMT = "123456789012"
NOW = datetime.now(timezone.utc)
EMPTY = {
    ("backup", "ListBackupSelections"): {"BackupSelectionsList": []},
    ("backup", "GetBackupVaultAccessPolicy"): error("ResourceNotFoundException", status=404),
    ("backup", "GetBackupVaultNotifications"): error("ResourceNotFoundException", status=404),
    ("backup", "ListRecoveryPointsByBackupVault"): {"RecoveryPoints": []},
    ("backup", "ListProtectedResources"): {"Results": []},
    ("backup", "DescribeRegionSettings"): {"ResourceTypeOptInPreference": {"Aurora": True, "S3": True}},
    ("backup", "DescribeGlobalSettings"): error("InvalidRequestException"),
    ("backup", "ListFrameworks"): {"Frameworks": []},
    ("backup", "ListRestoreTestingPlans"): {"RestoreTestingPlans": []},
    ("backup", "ListRestoreJobs"): {"RestoreJobs": []},
    ("storagegateway", "ListGateways"): {"Gateways": []},
    ("organizations", "ListPolicies"): {"Policies": []},
}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": R1, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _in(account: str):
    """A boto3 session in ``account`` (moto maps assumed-role credentials to the account)."""
    import boto3

    if account == MGMT:
        return boto3.Session(region_name=R1)
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region_name=R1)


def _build_org(canned: Canned) -> dict[str, str]:
    import boto3

    orgs = boto3.client("organizations", "us-east-1")
    orgs.create_organization(FeatureSet="ALL")
    member = orgs.create_account(Email="b@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    locked_out = orgs.create_account(Email="c@example.com", AccountName="locked-out")["CreateAccountStatus"]["AccountId"]
    ids = {"A": MGMT, "B": member, "C": locked_out}

    # -- account A (management), Region 1: a compliant setup ----------------------------------------
    a = _in(MGMT)
    key = a.client("kms", R1).create_key()["KeyMetadata"]["Arn"]
    backup = a.client("backup", R1)
    backup.create_backup_vault(BackupVaultName="main", EncryptionKeyArn=key)
    backup.put_backup_vault_lock_configuration(BackupVaultName="main", MinRetentionDays=7, MaxRetentionDays=365, ChangeableForDays=3)
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "daily", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": "main", "ScheduleExpression": "cron(0 5 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 35},
        "CopyActions": [{"DestinationBackupVaultArn": f"arn:aws:backup:{R2}:{MGMT}:backup-vault:dr", "Lifecycle": {"DeleteAfterDays": 35}}],
    }]}, BackupPlanTags={"team": "platform"})
    backup.create_report_plan(ReportPlanName="daily_report", ReportDeliveryChannel={"S3BucketName": "reports"},
                              ReportSetting={"ReportTemplate": "BACKUP_JOB_REPORT"})
    volume = a.client("ec2", R1).create_volume(Size=8, AvailabilityZone=f"{R1}a", Encrypted=True,
                                               TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "backup", "Value": "daily"}]}])
    volume_arn = f"arn:aws:ec2:{R1}:{MGMT}:volume/{volume['VolumeId']}"
    dynamo = a.client("dynamodb", R1)
    dynamo.create_table(TableName="orders", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                        Tags=[{"Key": "backup", "Value": "daily"}])
    dynamo.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    s3 = a.client("s3", R2)
    s3.create_bucket(Bucket="a-data-bucket", CreateBucketConfiguration={"LocationConstraint": R2}, ObjectLockEnabledForBucket=True)
    s3.put_bucket_tagging(Bucket="a-data-bucket", Tagging={"TagSet": [{"Key": "backup", "Value": "daily"}]})
    a.client("s3", "us-west-2").create_bucket(Bucket="a-elsewhere", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    plan_id, plan_arn = plan["BackupPlanId"], plan["BackupPlanArn"]
    # selections: two pages
    canned.on(MGMT, R1, "backup", "ListBackupSelections", lambda p: {
        "BackupSelectionsList": [{"SelectionId": "sel-1", "SelectionName": "tagged", "BackupPlanId": plan_id}], "NextToken": "page2",
    } if "NextToken" not in p else {"BackupSelectionsList": [{"SelectionId": "sel-2", "SelectionName": "table", "BackupPlanId": plan_id}]})
    canned.on(MGMT, R1, "backup", "GetBackupSelection", lambda p: {"BackupPlanId": plan_id, "SelectionId": p["SelectionId"], "BackupSelection": {
        "SelectionName": "tagged", "IamRoleArn": f"arn:aws:iam::{MGMT}:role/backup",
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}],
        "Conditions": {"StringNotEquals": [{"ConditionKey": "aws:ResourceTag/skip", "ConditionValue": "true"}]},
    } if p["SelectionId"] == "sel-1" else {
        "SelectionName": "table", "IamRoleArn": f"arn:aws:iam::{MGMT}:role/backup",
        "Resources": [f"arn:aws:dynamodb:{R1}:{MGMT}:table/orders"], "NotResources": [],
    }})
    canned.on(MGMT, R1, "backup", "GetBackupVaultAccessPolicy", {"BackupVaultName": "main", "Policy": (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"backup:DeleteRecoveryPoint","Resource":"*"}]}')})
    canned.on(MGMT, R1, "backup", "GetBackupVaultNotifications", {
        "BackupVaultName": "main", "SNSTopicArn": f"arn:aws:sns:{R1}:{MGMT}:backup", "BackupVaultEvents": ["BACKUP_JOB_FAILED"]})
    canned.on(MGMT, R1, "backup", "ListProtectedResources", {"Results": [
        {"ResourceArn": volume_arn, "ResourceType": "EBS", "LastBackupTime": NOW - timedelta(hours=20)},
        {"ResourceArn": f"arn:aws:redshift:{R1}:{MGMT}:cluster:warehouse", "ResourceType": "Redshift", "ResourceName": "warehouse",
         "LastBackupTime": NOW - timedelta(days=9)},
    ]})
    canned.on(MGMT, R1, "backup", "DescribeProtectedResource", lambda p: {
        "ResourceArn": p["ResourceArn"], "LatestRestoreExecutionTimeMinutes": 42, "LatestRestoreJobCreationDate": NOW - timedelta(days=3),
    } if p["ResourceArn"] == volume_arn else {"ResourceArn": p["ResourceArn"]})
    canned.on(MGMT, R1, "backup", "ListRecoveryPointsByBackupVault", lambda p: {"RecoveryPoints": [{
        "RecoveryPointArn": f"arn:aws:ec2:{R1}::snapshot/snap-1", "BackupVaultName": "main",
        "BackupVaultArn": f"arn:aws:backup:{R1}:{MGMT}:backup-vault:main", "ResourceArn": volume_arn, "ResourceType": "EBS",
        "CreationDate": NOW - timedelta(hours=20), "Status": "COMPLETED", "IsEncrypted": True, "EncryptionKeyArn": key,
        "CalculatedLifecycle": {"DeleteAt": NOW + timedelta(days=34)},
    }]} if p.get("BackupVaultName") == "main" else {"RecoveryPoints": []})
    canned.on(MGMT, R1, "backup", "DescribeGlobalSettings", {"GlobalSettings": {"isCrossAccountBackupEnabled": "true"}})
    canned.on(MGMT, R1, "backup", "ListFrameworks", {"Frameworks": [{"FrameworkName": "audit", "FrameworkArn": f"arn:aws:backup:{R1}:{MGMT}:framework:audit-1"}]})
    canned.on(MGMT, R1, "backup", "DescribeFramework", {"FrameworkName": "audit", "FrameworkArn": f"arn:aws:backup:{R1}:{MGMT}:framework:audit-1",
        "FrameworkControls": [{"ControlName": "BACKUP_RECOVERY_POINT_ENCRYPTED", "ControlScope": {"Tags": {"backup": "daily"}}}]})
    canned.on(MGMT, R1, "backup", "ListRestoreTestingPlans", {"RestoreTestingPlans": [{
        "RestoreTestingPlanName": "weekly", "RestoreTestingPlanArn": f"arn:aws:backup:{R1}:{MGMT}:restore-testing-plan:weekly-1",
        "CreationTime": NOW, "ScheduleExpression": "cron(0 1 ? * SUN *)"}]})
    canned.on(MGMT, R1, "backup", "GetRestoreTestingPlan", {"RestoreTestingPlan": {
        "RestoreTestingPlanName": "weekly", "RestoreTestingPlanArn": f"arn:aws:backup:{R1}:{MGMT}:restore-testing-plan:weekly-1",
        "CreationTime": NOW, "ScheduleExpression": "cron(0 1 ? * SUN *)", "StartWindowHours": 8,
        "RecoveryPointSelection": {"Algorithm": "LATEST_WITHIN_WINDOW", "IncludeVaults": ["*"], "RecoveryPointTypes": ["SNAPSHOT"], "SelectionWindowDays": 7}}})
    canned.on(MGMT, R1, "backup", "ListRestoreTestingSelections", {"RestoreTestingSelections": [{
        "RestoreTestingPlanName": "weekly", "RestoreTestingSelectionName": "ebs", "CreationTime": NOW,
        "IamRoleArn": f"arn:aws:iam::{MGMT}:role/restore", "ProtectedResourceType": "EBS"}]})
    canned.on(MGMT, R1, "backup", "GetRestoreTestingSelection", {"RestoreTestingSelection": {
        "RestoreTestingPlanName": "weekly", "RestoreTestingSelectionName": "ebs", "CreationTime": NOW,
        "IamRoleArn": f"arn:aws:iam::{MGMT}:role/restore", "ProtectedResourceType": "EBS", "ProtectedResourceArns": ["*"]}})
    restored = lambda n, kind, days: {"RestoreJobId": f"job-{n}", "ResourceType": kind, "Status": "COMPLETED",  # noqa: E731
                                       "CompletionDate": NOW - timedelta(days=days), "CreationDate": NOW - timedelta(days=days, hours=1)}
    canned.on(MGMT, R1, "backup", "ListRestoreJobs", lambda p: {  # two pages, completed jobs only
        "RestoreJobs": [restored(1, "EBS", 3)], "NextToken": "page2"} if "NextToken" not in p else {
        "RestoreJobs": [restored(2, "DynamoDB", 50)]} if p.get("ByStatus") == "COMPLETED" and "ByCompleteAfter" in p else None)
    canned.on(MGMT, R2, "backup", "ListRestoreJobs", error("AccessDeniedException", "not authorized to list restore jobs"))
    gateway = f"arn:aws:storagegateway:{R1}:{MGMT}:gateway/sgw-12A3456B"
    canned.on(MGMT, R1, "storagegateway", "ListGateways", {"Gateways": [{"GatewayARN": gateway}]})
    canned.on(MGMT, R1, "storagegateway", "ListVolumes", {"VolumeInfos": [{
        "VolumeARN": f"{gateway}/volume/vol-1122AABB", "VolumeId": "vol-1122AABB", "GatewayARN": gateway, "VolumeType": "CACHED"}]})
    canned.on(MGMT, R1, "storagegateway", "ListTagsForResource", {"Tags": [{"Key": "backup", "Value": "daily"}]})
    canned.on(MGMT, "*", "organizations", "ListPolicies", {"Policies": [{
        "Id": "p-12345678", "Arn": f"arn:aws:organizations::{MGMT}:policy/o-abc/backup_policy/p-12345678", "Name": "org-daily",
        "Type": "BACKUP_POLICY", "AwsManaged": False}]})
    canned.on(MGMT, "*", "organizations", "DescribePolicy", {"Policy": {"PolicySummary": {"Id": "p-12345678", "Name": "org-daily"},
        "Content": '{"plans":{"org-daily":{"regions":{"@@assign":["eu-west-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"main"}}}}}}'}})

    # -- account A, Region 2: governance lock, AWS managed key, an air-gapped vault ----------------
    backup2 = a.client("backup", R2)
    aws_key = f"arn:aws:kms:{R2}:{MGMT}:key/11111111-2222-3333-4444-555555555555"
    backup2.create_backup_vault(BackupVaultName="dr", EncryptionKeyArn=aws_key)
    backup2.put_backup_vault_lock_configuration(BackupVaultName="dr", MinRetentionDays=30)
    canned.on(MGMT, R2, "kms", "DescribeKey", {"KeyMetadata": {"KeyId": aws_key.rsplit("/", 1)[1], "Arn": aws_key, "KeyManager": "AWS"}})
    lag = f"arn:aws:backup:{R2}:{MGMT}:backup-vault:airgap"
    canned.on(MGMT, R2, "backup", "ListBackupVaults", lambda p: {"BackupVaultList": [{
        "BackupVaultName": "airgap", "BackupVaultArn": lag, "VaultType": "LOGICALLY_AIR_GAPPED_BACKUP_VAULT",
        "EncryptionKeyType": "AWS_OWNED_KMS_KEY", "Locked": True, "MinRetentionDays": 7, "MaxRetentionDays": 100,
        "LockDate": NOW - timedelta(days=30)}]} if p.get("ByVaultType") else None)
    canned.on(MGMT, R2, "backup", "DescribeRegionSettings", {"ResourceTypeOptInPreference": {"Aurora": True, "S3": False}})
    canned.on(MGMT, R2, "backup", "ListRecoveryPointsByBackupVault", error("AccessDeniedException", "not authorized to list recovery points"))

    # -- account B (member), Region 1: a broken setup; Region 2 is not enabled -----------------------
    b = _in(member)
    b.client("backup", R1).create_backup_vault(BackupVaultName="main")  # same name as A's, no lock, default key
    b.client("backup", R1).create_backup_plan(BackupPlan={"BackupPlanName": "daily", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": "main", "Lifecycle": {"DeleteAfterDays": 3650}}]})
    b.client("dynamodb", R1).create_table(TableName="orders", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    b.client("efs", R1).create_file_system(CreationToken="fs", Backup=False, Tags=[{"Key": "Name", "Value": "shared"}])
    b.client("rds", R1).create_db_instance(DBInstanceIdentifier="legacy", Engine="postgres", DBInstanceClass="db.t3.micro",
                                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password123",
                                           BackupRetentionPeriod=0, StorageEncrypted=False)
    b.client("rds", R1).create_db_cluster(DBClusterIdentifier="graph", Engine="neptune", BackupRetentionPeriod=1,
                                          StorageEncrypted=True, DeletionProtection=True)
    b.client("s3", R1).create_bucket(Bucket="b-logs", CreateBucketConfiguration={"LocationConstraint": R1})
    b.client("s3", R1).put_bucket_versioning(Bucket="b-logs", VersioningConfiguration={"Status": "Suspended"})
    canned.on(member, "*", "ec2", "DescribeRegions", {"Regions": [
        {"RegionName": R1, "Endpoint": f"ec2.{R1}.amazonaws.com", "OptInStatus": "opt-in-not-required"},
        {"RegionName": R2, "Endpoint": f"ec2.{R2}.amazonaws.com", "OptInStatus": "not-opted-in"}]})
    canned.on(MGMT, "*", "ec2", "DescribeRegions", {"Regions": [
        {"RegionName": R1, "Endpoint": f"ec2.{R1}.amazonaws.com", "OptInStatus": "opt-in-not-required"},
        {"RegionName": R2, "Endpoint": f"ec2.{R2}.amazonaws.com", "OptInStatus": "opted-in"}]})

    # -- account C: the scanning role cannot be assumed ---------------------------------------------
    canned.on(MGMT, "*", "sts", "AssumeRole", lambda p: error(
        "AccessDenied", f"not authorized to perform sts:AssumeRole on {p['RoleArn']}", 403) if locked_out in p["RoleArn"] else None)
    for (service, operation), answer in EMPTY.items():
        if canned.find("*", "*", service, operation) is None:
            canned.on("*", "*", service, operation, answer)
    ids["root"] = orgs.list_roots()["Roots"][0]["Id"]
    return ids


def _label(ids: dict[str, str], text: str) -> str:
    for name, account in ids.items():
        if name != "root":
            text = text.replace(account, name)
    return text


def test_organization_scan_end_to_end():
    with mock_aws():
        canned = Canned()
        ids = _build_org(canned)
        calls: set[tuple[str, str]] = set()
        connector = CannedConnector(canned, role_name="BackupguardScan", home_region=R1,
                                    observer=lambda service, op: calls.add((service, op)))
        seen = []
        estate = scan_live(LiveOptions(regions=(R1, R2), org=True, ous=(ids["root"],), max_workers=8, progress=seen.append),
                           connector)
    A, B = ids["A"], ids["B"]
    L = lambda text: _label(ids, text)  # noqa: E731

    # every operation of the allow-list was used (but those only drift calls: test_drift), and nothing else
    used = {(s, o) for s, o in calls}
    allowed = {(s, o) for s, ops in readonly.ALLOWED.items() for o in ops} - readonly.DRIFT_ONLY
    assert used == allowed, (sorted(allowed - used), sorted(used - allowed))

    # faults: the unassumable account, the disabled Region and a denied call: distinct, located errors
    assert sorted((e.code, L(e.message)) for e in estate.errors) == sorted([
        ("aws-access-denied", f"account A, Region {R2}, backup: ListRecoveryPointsByBackupVault failed for "
         f"arn:aws:backup:{R2}:A:backup-vault:airgap: AccessDeniedException: not authorized to list recovery points"),
        ("aws-access-denied", f"account A, Region {R2}, backup: ListRecoveryPointsByBackupVault failed for "
         f"arn:aws:backup:{R2}:A:backup-vault:dr: AccessDeniedException: not authorized to list recovery points"),
        ("aws-access-denied", f"account A, Region {R2}, backup: ListRestoreJobs failed: AccessDeniedException: "
         "not authorized to list restore jobs"),
        ("aws-region-disabled", f"account B, Region {R2}: the Region is not enabled for the account (ec2:DescribeRegions); it was not scanned"),
        ("aws-role-unassumable", f"account C, Region global, sts: AssumeRole failed: AccessDenied: cannot assume "
         f"arn:aws:iam::C:role/BackupguardScan (not authorized to perform sts:AssumeRole on arn:aws:iam::C:role/BackupguardScan)"),
    ])
    assert [e.origin.account for e in estate.errors] == sorted(e.origin.account for e in estate.errors)  # sorted output
    assert {(e.origin.account, e.origin.region) for e in estate.errors} == {(A, R2), (B, R2), (ids["C"], None)}

    # plans and selections, per account and Region, sorted
    assert sorted((L(p.origin.account), p.origin.region, p.name, [(r.target_vault, r.lifecycle.delete_after_days) for r in p.rules])
                  for p in estate.plans) == [("A", R1, "daily", [("main", 35)]), ("B", R1, "daily", [("main", 3650)])]
    a_plan = next(p for p in estate.plans if p.origin.account == A)
    assert a_plan.tags == {"team": "platform"} and a_plan.origin.unit == f"{A}/{R1}" and a_plan.origin.file is None
    assert [c.destination_vault_arn for c in a_plan.rules[0].copy_actions] == [f"arn:aws:backup:{R2}:{A}:backup-vault:dr"]
    assert [(s.name, s.plan_ref) for s in estate.selections] == [
        ("tagged", Reference(a_plan.resource_id, None, "AWS::Backup::BackupPlan")),
        ("table", Reference(a_plan.resource_id, None, "AWS::Backup::BackupPlan")),
    ]
    tagged = estate.selections[0]
    assert [(t.operator, t.key, t.value) for t in tagged.list_of_tags + tagged.conditions] == [
        ("STRINGEQUALS", "backup", "daily"), ("StringNotEquals", "aws:ResourceTag/skip", "true")]

    # vaults: key manager, lock modes, both vault types, policy and notifications
    vaults = {(L(v.origin.account), v.origin.region, v.name): v for v in estate.vaults}
    assert sorted(vaults, key=lambda k: (k[0], k[1])) == [("A", R2, "airgap"), ("A", R2, "dr"), ("A", R1, "main"), ("B", R1, "main")]  # eu-south-1 < eu-west-1
    main = vaults["A", R1, "main"]
    assert main.encryption_key_arn.startswith(f"arn:aws:kms:{R1}:{A}:key/")  # customer managed (moto CMK)
    assert (main.lock.min_retention_days, main.lock.max_retention_days, main.lock.changeable_for_days) == (7, 365, 3)
    assert main.access_policy["Statement"][0]["Effect"] == "Deny"
    assert main.notifications == {"SNSTopicArn": f"arn:aws:sns:{R1}:{A}:backup", "BackupVaultEvents": ["BACKUP_JOB_FAILED"]}
    dr = vaults["A", R2, "dr"]
    assert dr.encryption_key_arn == f"arn:aws:kms:{R2}:{A}:alias/aws/backup"  # KeyManager AWS: BG201 must fail
    assert (dr.lock.min_retention_days, dr.lock.changeable_for_days) == (30, None)  # governance
    airgap = vaults["A", R2, "airgap"]
    assert airgap.air_gapped and airgap.encryption_key_arn is None and airgap.lock.changeable_for_days == 0
    assert airgap.resource_type == "AWS::Backup::LogicallyAirGappedBackupVault"
    broken = vaults["B", R1, "main"]
    assert broken.lock is None and broken.encryption_key_arn is None and broken.access_policy is None

    # resources: settings with the CloudFormation source's keys, tags, ARNs, evidence
    found = {(L(r.origin.account), r.origin.region, r.service, r.name): r for r in estate.resources}
    assert sorted(found) == sorted([
        ("A", R1, "EBS", found_name(found, "EBS")),
        ("A", R1, "DynamoDB", "orders"), ("A", R1, "Storage Gateway", "vol-1122AABB"), ("A", R1, "Redshift", "warehouse"),
        ("A", R2, "S3", "a-data-bucket"),
        ("B", R1, "DynamoDB", "orders"), ("B", R1, "EFS", found_name(found, "EFS")), ("B", R1, "RDS", "legacy"),
        ("B", R1, "Neptune", "graph"), ("B", R1, "S3", "b-logs"),
    ])
    ebs = next(r for r in estate.resources if r.service == "EBS")
    assert ebs.settings["encrypted"] is True and ebs.tags == {"backup": "daily"}
    assert ebs.evidence.latest_restore_minutes == 42 and ebs.evidence.last_backup_time == NOW - timedelta(hours=20)
    assert found["A", R1, "DynamoDB", "orders"].settings == {"deletion_protection": False, "pitr_enabled": True, "pitr_recovery_period_days": 35}
    assert found["B", R1, "DynamoDB", "orders"].settings == {"deletion_protection": False, "pitr_enabled": False}
    assert found["A", R2, "S3", "a-data-bucket"].settings == {"versioning_status": "Enabled", "object_lock_enabled": True}
    assert found["A", R2, "S3", "a-data-bucket"].tags == {"backup": "daily"}
    assert found["B", R1, "S3", "b-logs"].settings == {"versioning_status": "Suspended", "object_lock_enabled": False}
    assert found["B", R1, "EFS", found_name(found, "EFS")].settings == {"encrypted": False, "backup_policy_status": "DISABLED"}
    legacy = found["B", R1, "RDS", "legacy"].settings
    assert (legacy["backup_retention_days"], legacy["storage_encrypted"], legacy["engine"]) == (0, False, "postgres")
    graph = found["B", R1, "Neptune", "graph"]
    assert graph.resource_type == "AWS::Neptune::DBCluster" and graph.settings["deletion_protection"] is True
    redshift = found["A", R1, "Redshift", "warehouse"]
    assert redshift.evidence.last_backup_time == NOW - timedelta(days=9) and redshift.settings == {}

    # evidence, settings, organization
    assert [(rp.status, rp.encrypted, rp.air_gapped_vault) for rp in estate.recovery_points] == [("COMPLETED", True, False)]
    assert estate.global_settings == {f"account {A}": {"isCrossAccountBackupEnabled": "true"}}
    # Region settings per account and Region: S3 is opted in where the first Region says so, not in R2
    assert {scope: prefs["S3"] for scope, prefs in estate.opt_in.items() if scope.startswith(f"account {A} ")} == {
        f"account {A} region {R1}": True, f"account {A} region {R2}": False}
    assert [(p.name, p.content["plans"]["org-daily"]["regions"]) for p in estate.org_policies] == [("org-daily", {"@@assign": ["eu-west-1"]})]
    assert [f.controls[0]["ControlScope"] for f in estate.frameworks] == [{"Tags": [{"Key": "backup", "Value": "daily"}]}]
    assert [rp.name for rp in estate.report_plans] == ["daily_report"]
    assert [(p.name, p.start_window_hours, p.selection_window_days) for p in estate.restore_testing_plans] == [("weekly", 8, 7)]
    assert [(s.name, s.plan_name) for s in estate.restore_testing_selections] == [("ebs", "weekly")]
    assert [(L(j.origin.account), j.origin.region, j.job_id, j.resource_type) for j in estate.restore_jobs] == [
        ("A", R1, "job-1", "EBS"), ("A", R1, "job-2", "DynamoDB")]  # both pages
    assert isinstance(estate.restore_jobs_read[f"account {A} region {R2}"], Unknown)  # denied: not "no restore"
    assert seen and seen[-1].scopes_done == seen[-1].scopes_total and seen[-1].accounts == 3

    # the live source fills the same native-settings contract as the templates' sources
    from backupguard.native_settings import SETTING_NAMES

    assert {key for r in estate.resources for key in r.settings} <= SETTING_NAMES

    # the same rules as for templates, on what was read
    from backupguard import pipeline

    outcome = pipeline.evaluate(estate, pipeline.settings(None, [], []), {"kind": "live"})
    verdicts = {(r.rule_id, L(r.resource_id or f"{r.account_id}/{r.region}"), r.status) for r in outcome.results}
    vault = lambda region, account, name: f"arn:aws:backup:{region}:{account}:backup-vault:{name}"  # noqa: E731
    assert {v for v in verdicts if v[0] in ("BG000", "BG201", "BG202", "BG203")} == {
        ("BG000", f"A/{R2}", "error"), ("BG000", f"B/{R2}", "error"), ("BG000", "C/None", "error"),
        ("BG201", vault(R1, "A", "main"), "pass"), ("BG201", vault(R1, "B", "main"), "fail"),
        ("BG201", vault(R2, "A", "dr"), "fail"), ("BG201", vault(R2, "A", "airgap"), "fail"),
        ("BG202", vault(R1, "A", "main"), "pass"), ("BG202", vault(R1, "B", "main"), "fail"),
        ("BG202", vault(R2, "A", "dr"), "pass"), ("BG202", vault(R2, "A", "airgap"), "pass"),
        ("BG203", vault(R1, "A", "main"), "pass"), ("BG203", vault(R1, "B", "main"), "fail"),
        ("BG203", vault(R2, "A", "dr"), "fail"), ("BG203", vault(R2, "A", "airgap"), "pass"),
    }
    unprotected = sorted(v[1] for v in verdicts if v[0] == "BG401" and v[2] == "fail")
    assert unprotected == [f"arn:aws:dynamodb:{R1}:B:table/orders", next(u for u in unprotected if ":file-system/" in u),
                           f"arn:aws:rds:{R1}:B:cluster:graph", f"arn:aws:rds:{R1}:B:db:legacy",
                           f"arn:aws:redshift:{R1}:A:cluster:warehouse", "arn:aws:s3:::a-data-bucket", "arn:aws:s3:::b-logs"]
    assert ("BG430", f"arn:aws:ec2:{R1}::snapshot/snap-1", "pass") in verdicts
    # restore readiness: EBS restore tested (selection 'ebs' of plan 'weekly') and restored 3 days ago; the
    # DynamoDB table has neither a restore testing selection nor a restore in the last 30 days
    restore = {(r.rule_id, L(r.resource_id), r.status) for r in outcome.results if r.rule_id in ("BG440", "BG443")}
    ebs_arn = next(r.arn for r in estate.resources if r.service == "EBS")
    assert restore == {("BG440", L(ebs_arn), "pass"), ("BG443", L(ebs_arn), "pass"),
                       ("BG440", f"arn:aws:dynamodb:{R1}:A:table/orders", "fail"),
                       ("BG443", f"arn:aws:dynamodb:{R1}:A:table/orders", "fail")}

    # live results keep no file line (a live source records names, never positions), and name settings
    # as the API does
    assert all(r.file is None and (r.line, r.column) == (1, 1) for r in outcome.results)
    legacy_db = next(r for r in outcome.results if r.rule_id == "BG302" and r.resource_id.endswith(":db:legacy"))
    assert legacy_db.status == "fail" and "(BackupRetentionPeriod)" in legacy_db.message
    b_table = next(r for r in outcome.results if r.rule_id == "BG304" and r.resource_id == f"arn:aws:dynamodb:{R1}:{B}:table/orders")
    assert b_table.message == "deletion protection is not enabled (DeletionProtectionEnabled: false)"


def found_name(found: dict, service: str) -> str:
    return next(key[3] for key in found if key[2] == service)


def test_shards_are_a_deterministic_partition():
    accounts = [f"{n:012d}" for n in (5, 3, 9, 1, 7)]
    parts = [shard_of(accounts, (i, 2)) for i in range(2)]
    assert parts == [["000000000001", "000000000005", "000000000009"], ["000000000003", "000000000007"]]
    assert sorted(parts[0] + parts[1]) == sorted(accounts)
    with pytest.raises(ValueError):
        shard_of(accounts, (2, 2))


def test_pagination_and_aws_managed_key_with_stubber():
    import botocore.session

    session = botocore.session.get_session()
    backup = session.create_client("backup", "eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    kms = session.create_client("kms", "eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    key = "arn:aws:kms:eu-west-1:111122223333:key/abcd"
    vault = lambda name: {"BackupVaultName": name, "BackupVaultArn": f"arn:aws:backup:eu-west-1:111122223333:backup-vault:{name}",  # noqa: E731
                          "EncryptionKeyArn": key, "CreationDate": NOW}
    with Stubber(backup) as sb, Stubber(kms) as sk:
        sb.add_response("list_backup_vaults", {"BackupVaultList": [vault("a")], "NextToken": "t"}, {})
        sb.add_response("list_backup_vaults", {"BackupVaultList": [vault("b")]}, {"NextToken": "t"})
        sb.add_response("list_backup_vaults", {"BackupVaultList": []}, {"ByVaultType": "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"})
        for name in ("a", "b"):
            sb.add_client_error("get_backup_vault_access_policy", "ResourceNotFoundException", http_status_code=404)
            if name == "a":
                sk.add_response("describe_key", {"KeyMetadata": {"KeyId": "abcd", "Arn": key, "KeyManager": "AWS"}}, {"KeyId": key})
            sb.add_client_error("get_backup_vault_notifications", "ResourceNotFoundException", http_status_code=404)
            sb.add_response("list_tags", {"Tags": {"n": name}})
        scope = Scope(StubAccess({"backup": backup, "kms": kms}), "111122223333", "eu-west-1", "eu-west-1", NOW, NOW)
        vaults = backup_collector._vaults(scope, backup)
        sb.assert_no_pending_responses()
    assert [(v.name, v.encryption_key_arn, v.tags) for v in vaults] == [
        ("a", "arn:aws:kms:eu-west-1:111122223333:alias/aws/backup", {"n": "a"}),
        ("b", "arn:aws:kms:eu-west-1:111122223333:alias/aws/backup", {"n": "b"}),  # DescribeKey once per key
    ]
    assert scope.estate.errors == []


def test_throttling_and_missing_endpoint_are_scoped_errors():
    import botocore.session
    from botocore.exceptions import EndpointConnectionError

    session = botocore.session.get_session()
    backup = session.create_client("backup", "eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(backup) as sb:
        sb.add_client_error("list_frameworks", "ThrottlingException", "Rate exceeded", http_status_code=400)
        scope = Scope(StubAccess({"backup": backup}), "111122223333", "eu-west-1", "eu-west-1", NOW, NOW)
        scope.call("backup", "ListFrameworks", lambda: backup_collector._frameworks(scope, backup))

    def unreachable(s):
        raise EndpointConnectionError(endpoint_url="https://storagegateway.eu-west-1.amazonaws.com/")

    scope.call("storagegateway", "ListGateways", lambda: unreachable(scope))
    assert [(e.code, e.message.split(": ", 2)[1]) for e in scope.estate.errors] == [
        ("aws-throttled", "ListFrameworks failed"), ("aws-service-unavailable", "ListGateways failed")]
    assert "ThrottlingException" in scope.estate.errors[0].message and "EndpointConnectionError" in scope.estate.errors[1].message
