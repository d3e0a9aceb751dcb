"""Live scan benchmark: simulated API latency over an Organization, no AWS and no boto3.

A fake connector answers every call after sleeping ``--latency`` seconds (default 100 ms) with a
canned, modest account-Region (2 plans with a selection each, 2 vaults, 4 protected resources,
recovery points, 2 instances, 2 volumes, an RDS instance and cluster, 2 DynamoDB tables, an EFS
file system, 2 S3 buckets per account). It prints the API calls per account-Region, the wall
time, our CPU time (time.process_time) and the CPU/wall ratio at the given concurrency.

    python benchmarks/live_bench.py --accounts 200 --regions 4        # the issue's figure
    python benchmarks/live_bench.py                                     # quick: 20 x 2
Goal (issue 9): under 120 s wall for 200 x 4 at the default concurrency, our CPU under 10% of wall.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from backupguard.scanner.aws import LiveOptions, scan_live  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]


class FakeClient:
    def __init__(self, bench: "Bench", service: str, region: str, account: str):
        self.bench, self.service, self.region, self.account = bench, service, region, account

    def can_paginate(self, method: str) -> bool:
        return False

    def __getattr__(self, method: str):
        def call(**params):
            self.bench.tick()
            time.sleep(self.bench.latency)
            return self.bench.answer(self.service, method, self.region, self.account, params)

        return call


class FakeAccess:
    partition = "aws"

    def __init__(self, bench: "Bench", account: str):
        self.bench, self.account = bench, account

    def client(self, service: str, region: str) -> FakeClient:
        return FakeClient(self.bench, service, region, self.account)


class Bench:
    home_region = "us-east-1"

    def __init__(self, accounts: int, regions: int, latency: float):
        self.ids = [f"{100000000000 + n:012d}" for n in range(accounts)]
        self.regions = REGIONS[:regions]
        self.latency = latency
        self.calls = 0
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.calls += 1

    def caller(self) -> FakeAccess:
        return FakeAccess(self, self.ids[0])

    def access(self, account: str) -> FakeAccess:
        if account != self.ids[0]:
            self.tick()
            time.sleep(self.latency)  # sts:AssumeRole
        return FakeAccess(self, account)

    def answer(self, service: str, method: str, region: str, account: str, params: dict) -> dict:
        arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
        if service == "organizations":
            if method == "list_accounts":
                return {"Accounts": [{"Id": a, "Name": a, "Status": "ACTIVE"} for a in self.ids]}
            return {"Policies": []}
        if service == "ec2":
            if method == "describe_regions":
                return {"Regions": [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in REGIONS]}
            if method == "describe_instances":
                return {"Reservations": [{"OwnerId": account, "Instances": [
                    {"InstanceId": f"i-{n}", "State": {"Name": "running"}, "Tags": [{"Key": "backup", "Value": "daily"}]} for n in range(2)]}]}
            return {"Volumes": [{"VolumeId": f"vol-{n}", "State": "in-use", "Encrypted": True, "Tags": []} for n in range(2)]}
        if service == "rds":
            if method == "describe_db_instances":
                return {"DBInstances": [{"DBInstanceArn": arn.format("rds", "db:app"), "DBInstanceIdentifier": "app", "Engine": "postgres",
                                         "BackupRetentionPeriod": 7, "StorageEncrypted": True, "TagList": []}]}
            return {"DBClusters": [{"DBClusterArn": arn.format("rds", "cluster:core"), "DBClusterIdentifier": "core",
                                    "Engine": "aurora-postgresql", "BackupRetentionPeriod": 7, "TagList": []}]}
        if service == "dynamodb":
            if method == "list_tables":
                return {"TableNames": ["orders", "users"]}
            if method == "describe_table":
                return {"Table": {"TableArn": arn.format("dynamodb", f"table/{params['TableName']}")}}
            if method == "describe_continuous_backups":
                return {"ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}}
            return {"Tags": []}
        if service == "efs":
            if method == "describe_file_systems":
                return {"FileSystems": [{"FileSystemId": "fs-1", "FileSystemArn": arn.format("elasticfilesystem", "file-system/fs-1"), "Tags": []}]}
            return {"BackupPolicy": {"Status": "ENABLED"}}
        if service == "fsx":
            return {"FileSystems": []}
        if service == "storagegateway":
            return {"Gateways": []}
        if service == "s3":
            if method == "list_buckets":
                return {"Buckets": [{"Name": f"{account}-{r}", "BucketRegion": r} for r in self.regions]}
            if method == "get_bucket_versioning":
                return {"Status": "Enabled"}
            if method == "get_object_lock_configuration":
                return {}
            return {"TagSet": []}
        if service == "kms":
            return {"KeyMetadata": {"KeyManager": "CUSTOMER"}}
        return self.backup(method, region, account, params, arn)

    def backup(self, method: str, region: str, account: str, params: dict, arn: str) -> dict:
        if method == "list_backup_vaults":
            if params.get("ByVaultType"):
                return {"BackupVaultList": []}
            return {"BackupVaultList": [{"BackupVaultName": n, "BackupVaultArn": arn.format("backup", f"backup-vault:{n}"),
                                         "EncryptionKeyArn": arn.format("kms", "key/k1"), "Locked": True, "MinRetentionDays": 7,
                                         "LockDate": NOW} for n in ("main", "dr")]}
        if method == "list_backup_plans":
            return {"BackupPlansList": [{"BackupPlanId": f"p{n}", "BackupPlanArn": arn.format("backup", f"backup-plan:p{n}")} for n in range(2)]}
        if method == "get_backup_plan":
            return {"BackupPlan": {"BackupPlanName": params["BackupPlanId"], "Rules": [
                {"RuleName": "daily", "TargetBackupVaultName": "main", "ScheduleExpression": "cron(0 5 * * ? *)", "Lifecycle": {"DeleteAfterDays": 35}}]}}
        if method == "list_backup_selections":
            return {"BackupSelectionsList": [{"SelectionId": "s1"}]}
        if method == "get_backup_selection":
            return {"BackupSelection": {"SelectionName": "tagged", "IamRoleArn": "r",
                                        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}]}}
        if method == "list_protected_resources":
            return {"Results": [{"ResourceArn": arn.format("ec2", f"instance/i-{n}"), "ResourceType": "EC2", "LastBackupTime": NOW} for n in range(2)]
                    + [{"ResourceArn": arn.format("dynamodb", f"table/{t}"), "ResourceType": "DynamoDB", "LastBackupTime": NOW} for t in ("orders", "users")]}
        if method == "describe_protected_resource":
            return {"LatestRestoreExecutionTimeMinutes": 12}
        if method == "list_recovery_points_by_backup_vault":
            return {"RecoveryPoints": [{"RecoveryPointArn": f"rp-{n}", "ResourceArn": "x", "ResourceType": "EC2", "CreationDate": NOW - timedelta(days=n),
                                        "Status": "COMPLETED", "IsEncrypted": True} for n in range(3)]}
        if method == "get_backup_vault_access_policy":
            return {"Policy": '{"Version":"2012-10-17","Statement":[]}'}
        if method == "get_backup_vault_notifications":
            return {"BackupVaultEvents": ["BACKUP_JOB_FAILED"], "SNSTopicArn": "t"}
        if method == "describe_region_settings":
            return {"ResourceTypeOptInPreference": {"S3": True}}
        if method == "describe_global_settings":
            return {"GlobalSettings": {"isCrossAccountBackupEnabled": "true"}}
        if method == "list_tags":
            return {"Tags": {}}
        return {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per API call")
    parser.add_argument("--max-workers", type=int, default=LiveOptions.max_workers)
    args = parser.parse_args()
    bench = Bench(args.accounts, args.regions, args.latency)
    options = LiveOptions(regions=tuple(bench.regions), org=True, role_name="Scan", max_workers=args.max_workers, as_of=NOW)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    estate = scan_live(options, bench)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    scopes = args.accounts * args.regions
    print(f"accounts x Regions: {args.accounts} x {args.regions} = {scopes}; max_workers {args.max_workers}; latency {args.latency * 1000:.0f} ms")
    print(f"API calls: {bench.calls} total, {bench.calls / scopes:.1f} per account-Region")
    print(f"entities: {len(estate.plans)} plans, {len(estate.vaults)} vaults, {len(estate.resources)} resources, "
          f"{len(estate.recovery_points)} recovery points, {len(estate.errors)} errors")
    print(f"wall {wall:.1f} s; our CPU {cpu:.2f} s; CPU/wall {cpu / wall:.1%}")
    return 0 if not estate.errors else 1


if __name__ == "__main__":
    sys.exit(main())
